#include "llm/fake/fake_server.hpp"

#include <httplib.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <mutex>
#include <thread>

#include "base/rng.hpp"

namespace persona::llm::fake {
namespace {

using nlohmann::json;

const char* const kNames[] = {"Maria Lopez", "Jonas Weber",  "Aiko Tanaka",   "Samuel Okafor",
                              "Priya Raman", "Lucas Moreau", "Elena Petrova", "Daniel Kim"};
const char* const kCities[] = {"Lyon", "Porto", "Osaka", "Nairobi", "Denver", "Krakow", "Valparaiso", "Leeds"};
const char* const kJobs[] = {"nurse",      "software developer", "electrician", "primary school teacher",
                             "accountant", "bus driver",         "pharmacist",  "graphic designer"};
const char* const kHobbies[] = {"hiking",       "baking bread",        "chess",
                                "birdwatching", "amateur photography", "cycling",
                                "gardening",    "playing the guitar"};

template <std::size_t N>
const char* pick(const char* const (&list)[N], std::uint64_t h) {
  return list[h % N];
}

bool has(const std::string& key, const char* word) { return key.find(word) != std::string::npos; }

std::string plausible(const std::string& key, std::uint64_t h) {
  std::string k;
  for (char c : key) k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (has(k, "name")) return pick(kNames, h);
  if (k == "age" || has(k, "_age") || has(k, "age_")) return std::to_string(18 + h % 63);
  if (has(k, "city") || has(k, "town") || has(k, "place") || has(k, "location")) return pick(kCities, h);
  if (has(k, "job") || has(k, "occupation") || has(k, "profession")) return pick(kJobs, h);
  if (has(k, "hobb") || has(k, "interest")) return pick(kHobbies, h);
  std::string words = key;
  for (char& c : words) {
    if (c == '_' || c == '.' || c == '-') c = ' ';
  }
  return "a typical " + words + " (" + std::to_string(h % 1000) + ")";
}

const json* schema_of(const json& req) {
  if (!req.is_object()) return nullptr;
  if (req.contains("response_format")) {
    const auto& rf = req["response_format"];
    if (rf.is_object() && rf.contains("json_schema") && rf["json_schema"].is_object() &&
        rf["json_schema"].contains("schema") && rf["json_schema"]["schema"].is_object()) {
      return &rf["json_schema"]["schema"];
    }
  }
  if (req.contains("format") && req["format"].is_object()) return &req["format"];
  if (req.contains("tools") && req["tools"].is_array() && !req["tools"].empty() && req["tools"][0].is_object() &&
      req["tools"][0].contains("input_schema") && req["tools"][0]["input_schema"].is_object())
    return &req["tools"][0]["input_schema"];
  return nullptr;
}

std::vector<std::string> required_keys(const json& schema) {
  std::vector<std::string> keys;
  if (schema.contains("required") && schema["required"].is_array()) {
    for (const auto& k : schema["required"]) {
      if (k.is_string()) keys.push_back(k.get<std::string>());
    }
  } else if (schema.contains("properties") && schema["properties"].is_object()) {
    for (const auto& [k, _] : schema["properties"].items()) keys.push_back(k);
  }
  return keys;
}

// A value shaped like a schema property: arrays of minItems..maxItems strings, objects field by
// field, numbers, strings; a careless model gives one-item lists and filler.
json value_for(const std::string& key, const json* prop, std::uint64_t h, bool careless) {
  if (prop != nullptr && prop->contains("enum") && (*prop)["enum"].is_array()) {
    std::vector<std::string> choices;
    for (const auto& e : (*prop)["enum"])
      if (e.is_string()) choices.push_back(e.get<std::string>());
    if (!choices.empty()) return choices[h % choices.size()];
    // An enum of numbers (e.g. a questionnaire item's codes): one of them.
    const json& all = (*prop)["enum"];
    if (!all.empty()) return all[h % all.size()];
  }
  const json type = prop != nullptr && prop->contains("type") ? (*prop)["type"] : json();
  auto is = [&](const char* t) {
    if (type.is_string()) return type.get<std::string>() == t;
    if (type.is_array())
      for (const auto& x : type)
        if (x.is_string() && x.get<std::string>() == t) return true;
    return false;
  };
  if (is("array")) {
    std::size_t lo = 3, hi = 3;
    if (prop->contains("minItems") && (*prop)["minItems"].is_number_unsigned())
      lo = (*prop)["minItems"].get<std::size_t>();
    if (prop->contains("maxItems") && (*prop)["maxItems"].is_number_unsigned())
      hi = (*prop)["maxItems"].get<std::size_t>();
    hi = std::max(lo, hi);
    const std::size_t n = careless ? 1 : lo + h % (hi - lo + 1);
    json arr = json::array();
    const json* items = prop->contains("items") && (*prop)["items"].is_object() ? &(*prop)["items"] : nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      if (items != nullptr && items->value("type", json()) == "object") {
        // Objects in a list: their integer fields number the entries (1, 2, ...).
        json obj = value_for(key, items, splitmix64(h + i), careless);
        if (items->contains("properties"))
          for (const auto& [k, sub] : (*items)["properties"].items())
            if (sub.value("type", json()) == "integer") obj[k] = i + 1;
        arr.push_back(std::move(obj));
      } else {
        arr.push_back(plausible(key, splitmix64(h + i)));
      }
    }
    return arr;
  }
  if (is("object") && prop->contains("properties") && (*prop)["properties"].is_object()) {
    json obj = json::object();
    for (const auto& [k, sub] : (*prop)["properties"].items())
      obj[k] = value_for(k, &sub, splitmix64(h ^ stable_hash(k)), careless);
    return obj;
  }
  if (is("number") || is("integer")) return static_cast<double>(1 + h % 40);
  if (careless && h % 3 == 0) return "No involvement in " + key;
  return plausible(key, h);
}

json default_object(const json& req, bool careless) {
  json out = json::object();
  const json* schema = schema_of(req);
  if (schema == nullptr) return out;
  const std::string ctx = req.contains("messages") ? req["messages"].dump() : std::string();
  for (const auto& k : required_keys(*schema)) {
    const std::uint64_t h = splitmix64(stable_hash(k, stable_hash(ctx)));
    const json* prop = nullptr;
    if (schema->contains("properties") && (*schema)["properties"].is_object() && (*schema)["properties"].contains(k)) {
      prop = &(*schema)["properties"][k];
    }
    out[k] = value_for(k, prop, h, careless);
  }
  return out;
}

// The length a prompt asks for: "150-400 words" / "150 to 400 words" in the last message.
std::optional<std::pair<int, int>> asked_words(const json& req) {
  if (!req.contains("messages") || !req["messages"].is_array() || req["messages"].empty()) return std::nullopt;
  const json& last = req["messages"].back();
  if (!last.contains("content") || !last["content"].is_string()) return std::nullopt;
  const std::string t = last["content"].get<std::string>();
  for (std::size_t pos = t.find("words"); pos != std::string::npos; pos = t.find("words", pos + 1)) {
    std::size_t e = pos;
    while (e > 0 && t[e - 1] == ' ') --e;
    std::size_t b = e;
    while (b > 0 && (std::isdigit(static_cast<unsigned char>(t[b - 1])) != 0)) --b;
    if (b == e) continue;
    const int hi = std::atoi(t.substr(b, e - b).c_str());
    std::size_t m = b;
    while (m > 0 && (t[m - 1] == ' ' || t[m - 1] == '-' || t[m - 1] == 'o' || t[m - 1] == 't')) --m;
    std::size_t c = m;
    while (c > 0 && (std::isdigit(static_cast<unsigned char>(t[c - 1])) != 0)) --c;
    const int lo = c < m ? std::atoi(t.substr(c, m - c).c_str()) : hi;
    if (hi > 0) return std::make_pair(std::min(lo, hi), hi);
  }
  return std::nullopt;
}

std::string text_of_words(std::size_t n, std::uint64_t h) {
  static const char* const kWords[] = {"I",     "grew", "up",     "near", "the",  "river", "and",   "still", "walk",
                                       "there", "most", "days",   "with", "my",   "dog",   "after", "work,", "which",
                                       "keeps", "me",   "steady", "when", "life", "gets",  "busy."};
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += kWords[(h + i) % (sizeof kWords / sizeof kWords[0])];
  }
  return out;
}

// Not exactly "application/json": cpp-httplib then does not compress (brotli/gzip) the answers,
// which would cost the fake server more CPU than the client it is measuring.
constexpr const char* kJsonType = "application/json; charset=utf-8";

long rough_tokens(std::size_t chars) { return std::max(1L, static_cast<long>(chars / 4)); }

}  // namespace

const char* to_string(Fault f) {
  switch (f) {
    case Fault::none:
      return "none";
    case Fault::rate_limit:
      return "rate_limit";
    case Fault::rate_limit_ms:
      return "rate_limit_ms";
    case Fault::server_error:
      return "server_error";
    case Fault::unavailable:
      return "unavailable";
    case Fault::hang:
      return "hang";
    case Fault::truncated:
      return "truncated";
    case Fault::malformed:
      return "malformed";
    case Fault::not_json_content:
      return "not_json_content";
    case Fault::missing_keys:
      return "missing_keys";
    case Fault::close_connection:
      return "close_connection";
    case Fault::unauthorized:
      return "unauthorized";
    case Fault::overloaded:
      return "overloaded";
    case Fault::model_not_found:
      return "model_not_found";
    case Fault::context_length:
      return "context_length";
    case Fault::huge_body:
      return "huge_body";
    case Fault::gzip_bomb:
      return "gzip_bomb";
    case Fault::endless_stream:
      return "endless_stream";
    case Fault::huge_headers:
      return "huge_headers";
    case Fault::length_truncated:
      return "length_truncated";
    case Fault::hostile_usage:
      return "hostile_usage";
    case Fault::bad_request_echo:
      return "bad_request_echo";
    case Fault::unicode_error:
      return "unicode_error";
  }
  return "?";
}

std::vector<float> fake_embedding(const std::string& text, int dimensions) {
  Rng rng(stable_hash(text));
  std::vector<float> v(static_cast<std::size_t>(std::max(1, dimensions)));
  double norm = 0;
  for (auto& x : v) {
    x = static_cast<float>(rng.normal());
    norm += static_cast<double>(x) * static_cast<double>(x);
  }
  norm = std::sqrt(norm);
  if (norm > 0) {
    for (auto& x : v) x = static_cast<float>(static_cast<double>(x) / norm);
  }
  return v;
}

std::string Server::default_content(const nlohmann::json& request, bool careless) {
  if (schema_of(request) == nullptr) {
    const std::string ctx = request.is_object() && request.contains("messages") ? request["messages"].dump() : "";
    const std::uint64_t h = stable_hash(ctx);
    if (auto w = asked_words(request)) {
      const auto n = careless ? std::size_t{12} : static_cast<std::size_t>(w->first + (w->second - w->first) / 3);
      return text_of_words(n, h);
    }
    return std::string("This is a fake answer (") + std::to_string(h % 10000) + ").";
  }
  return default_object(request, careless).dump();
}

struct Server::Impl {
  Config cfg;
  httplib::Server svr;
  std::thread thread;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> latency_ms{0};

  mutable std::mutex mu;
  std::deque<Fault> faults;
  std::deque<std::string> contents;
  Script script;
  Rng rng{1};
  std::string last_auth;
  std::vector<json> bodies;

  std::atomic<long> requests{0};
  std::atomic<long> answered_ok{0};
  std::atomic<int> current{0};
  std::atomic<int> peak{0};
  std::atomic<long> ids{0};

  explicit Impl(Config c) : cfg(c), latency_ms(c.latency_ms), rng(c.seed) {}

  struct Busy {
    Impl& s;
    explicit Busy(Impl& impl) : s(impl) {
      const int now = ++s.current;
      int p = s.peak.load();
      while (now > p && !s.peak.compare_exchange_weak(p, now)) {
      }
    }
    ~Busy() { --s.current; }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;
  };

  void sleep_ms(int ms) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!stopping && std::chrono::steady_clock::now() < until) {
      const auto left = until - std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
    }
  }

  Fault next_fault() {
    std::lock_guard lock(mu);
    if (!faults.empty()) {
      const Fault f = faults.front();
      faults.pop_front();
      return f;
    }
    const std::pair<double, Fault> table[] = {
        {cfg.p_rate_limit, Fault::rate_limit},     {cfg.p_server_error, Fault::server_error},
        {cfg.p_unavailable, Fault::unavailable},   {cfg.p_hang, Fault::hang},
        {cfg.p_truncated, Fault::truncated},       {cfg.p_malformed, Fault::malformed},
        {cfg.p_not_json, Fault::not_json_content}, {cfg.p_missing_keys, Fault::missing_keys},
        {cfg.p_close, Fault::close_connection}};
    double u = rng.uniform();
    for (const auto& [p, f] : table) {
      if (u < p) return f;
      u -= p;
    }
    return Fault::none;
  }

  std::string content_for(const json& req, Fault f, bool* scripted = nullptr) {
    if (f == Fault::not_json_content) return "I'm sorry, but I can't help with describing this person.";
    if (f == Fault::missing_keys) {
      json obj = default_object(req, cfg.careless);
      std::vector<std::string> keys;
      for (const auto& [k, _] : obj.items()) keys.push_back(k);
      const std::size_t drop = std::max<std::size_t>(1, (keys.size() + 1) / 2);
      for (std::size_t i = 0; i < drop && i < keys.size(); ++i) obj.erase(keys[keys.size() - 1 - i]);
      return obj.dump();
    }
    {
      std::lock_guard lock(mu);
      if (!contents.empty()) {
        std::string c = std::move(contents.front());
        contents.pop_front();
        if (scripted != nullptr) *scripted = true;
        return c;
      }
    }
    Script s;
    {
      std::lock_guard lock(mu);
      s = script;
    }
    if (s) {
      if (auto c = s(req)) {
        if (scripted != nullptr) *scripted = true;
        return *c;
      }
    }
    return Server::default_content(req, cfg.careless);
  }

  static void anthropic_error(httplib::Response& res, int status, const char* type, const std::string& message) {
    res.status = status;
    res.set_content(json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump(), kJsonType);
  }

  static void error_body(httplib::Response& res, int status, const std::string& message, const char* type) {
    res.status = status;
    res.set_content(json{{"error", {{"message", message}, {"type", type}, {"code", nullptr}}}}.dump(), kJsonType);
  }

  enum class Wire { openai, ollama, anthropic };

  void chat(const httplib::Request& req, httplib::Response& res, Wire wire) {
    Busy busy(*this);
    ++requests;
    const bool ollama = wire == Wire::ollama, anthropic = wire == Wire::anthropic;
    json body = json::parse(req.body, nullptr, false);
    {
      std::lock_guard lock(mu);
      last_auth = anthropic ? req.get_header_value("x-api-key") : req.get_header_value("Authorization");
      bodies.push_back(body);
    }
    if (anthropic && req.get_header_value("anthropic-version").empty()) {
      anthropic_error(res, 400, "invalid_request_error", "anthropic-version header is required");
      return;
    }
    const Fault f = next_fault();
    sleep_ms(latency_ms.load());
    if (body.is_discarded() || !body.is_object()) {
      error_body(res, 400, "request body is not a JSON object", "invalid_request_error");
      return;
    }
    if (anthropic) {
      switch (f) {
        case Fault::rate_limit:
          res.set_header("retry-after", std::to_string(cfg.retry_after_s));
          anthropic_error(res, 429, "rate_limit_error", "Number of request tokens has exceeded your rate limit");
          return;
        case Fault::overloaded:
        case Fault::unavailable:
          anthropic_error(res, 529, "overloaded_error", "Overloaded");
          return;
        case Fault::server_error:
          anthropic_error(res, 500, "api_error", "Internal server error");
          return;
        case Fault::unauthorized:
          anthropic_error(res, 401, "authentication_error", "invalid x-api-key");
          return;
        default:
          break;
      }
    }
    switch (f) {
      case Fault::rate_limit:
        res.set_header("Retry-After", std::to_string(cfg.retry_after_s));
        error_body(res, 429, "Rate limit reached for requests", "requests");
        return;
      case Fault::rate_limit_ms:
        res.set_header("retry-after-ms", std::to_string(cfg.retry_after_ms));
        error_body(res, 429, "Rate limit reached for tokens", "tokens");
        return;
      case Fault::server_error:
        error_body(res, 500, "The server had an error while processing your request.", "server_error");
        return;
      case Fault::unavailable:
        error_body(res, 503, "The engine is currently overloaded, please try again later.", "server_error");
        return;
      case Fault::unauthorized: {
        std::string key = last_authorization_value(req);
        error_body(
            res, 401,
            "Incorrect API key provided: " + masked(key) + ". You can find your API key elsewhere. (" + key + ")",
            "invalid_request_error");
        return;
      }
      case Fault::bad_request_echo: {
        std::string key = last_authorization_value(req);
        error_body(res, 400,
                   "Invalid 'temperature' for the request made with key " + masked(key) + " (key '" + key + "').",
                   "invalid_request_error");
        return;
      }
      case Fault::unicode_error: {
        std::string msg = "x";  // one byte first, so the 300th byte is the first half of a character
        for (int i = 0; i < 300; ++i) msg += "\xD1\x8F";  // U+044F
        error_body(res, 400, msg, "invalid_request_error");
        return;
      }
      case Fault::overloaded:
        error_body(res, 529, "Overloaded", "overloaded_error");
        return;
      case Fault::model_not_found: {
        const auto j = nlohmann::json::parse(req.body, nullptr, false);
        const std::string model = j.is_object() ? j.value("model", std::string("?")) : std::string("?");
        error_body(res, 404, "The model `" + model + "` does not exist or you do not have access to it.",
                   "invalid_request_error");
        return;
      }
      case Fault::context_length:
        error_body(res, 400,
                   "This model's maximum context length is 4096 tokens. However, your messages resulted in " +
                       std::to_string(rough_tokens(req.body.size()) + 4096) + " tokens.",
                   "invalid_request_error");
        return;
      case Fault::hang:
        sleep_ms(cfg.hang_ms);
        break;
      case Fault::huge_body:
      case Fault::gzip_bomb:
      case Fault::endless_stream:
        stream_fault(res, f);
        return;
      default:
        break;
    }
    bool scripted = false;
    std::string content = content_for(body, f, &scripted);
    if (f == Fault::length_truncated && !scripted) content.resize(content.size() * 2 / 3);
    long prompt = rough_tokens(req.body.size());
    long completion = rough_tokens(content.size());
    if (f == Fault::hostile_usage) {
      prompt = -1'000'000'000'000'000L;  // a negative spend that would cancel any other
      completion = 1'000'000'000'000'000L;
    }
    const long cached = static_cast<long>(static_cast<double>(prompt) * cfg.cached_fraction);
    const std::string model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>()
                                                                                  : std::string("fake-model");
    json out;
    if (anthropic) {
      json block;
      const json parsed = schema_of(body) != nullptr ? json::parse(content, nullptr, false) : json();
      if (parsed.is_object()) {
        block = {{"type", "tool_use"},
                 {"id", "toolu_fake_" + std::to_string(++ids)},
                 {"name", body["tools"][0].value("name", std::string("answer"))},
                 {"input", parsed}};
      } else {
        block = {{"type", "text"}, {"text", content}};
      }
      out = {{"id", "msg_fake_" + std::to_string(++ids)},
             {"type", "message"},
             {"role", "assistant"},
             {"model", model},
             {"content", json::array({block})},
             {"stop_reason", parsed.is_object() ? "tool_use" : "end_turn"},
             {"usage",
              {{"input_tokens", prompt - cached},
               {"output_tokens", completion},
               {"cache_read_input_tokens", cached},
               {"cache_creation_input_tokens", 0}}}};
    } else if (ollama) {
      out = {{"model", model},
             {"created_at", "2024-01-01T00:00:00Z"},
             {"message", {{"role", "assistant"}, {"content", content}}},
             {"done", true},
             {"done_reason", "stop"},
             {"prompt_eval_count", prompt},
             {"eval_count", completion}};
    } else {
      out = {{"id", "chatcmpl-fake-" + std::to_string(++ids)},
             {"object", "chat.completion"},
             {"created", 1700000000},
             {"model", model},
             {"choices",
              {{{"index", 0},
                {"message", {{"role", "assistant"}, {"content", content}}},
                {"finish_reason", f == Fault::length_truncated ? "length" : "stop"}}}},
             {"usage",
              {{"prompt_tokens", prompt},
               {"completion_tokens", completion},
               {"total_tokens", prompt + completion},
               {"prompt_tokens_details", {{"cached_tokens", cached}}}}}};
    }
    std::string text = out.dump();
    switch (f) {
      case Fault::truncated: {
        auto shared = std::make_shared<std::string>(std::move(text));
        res.set_content_provider(shared->size(), kJsonType,
                                 [shared](std::size_t, std::size_t, httplib::DataSink& sink) {
                                   sink.write(shared->data(), shared->size() / 2);
                                   return false;  // abort: the client sees a short body
                                 });
        return;
      }
      case Fault::close_connection:
        res.set_content_provider(text.size(), kJsonType,
                                 [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
        return;
      case Fault::malformed:
        res.set_content(text.substr(0, text.size() * 2 / 3) + ",,}", kJsonType);
        return;
      default:
        break;
    }
    if (f == Fault::huge_headers)
      for (int i = 0; i < 256; ++i) res.set_header("X-Fake-Padding-" + std::to_string(i), std::string(1024, 'p'));
    ++answered_ok;
    res.set_content(text, kJsonType);
  }

  // The bodies no client should hold: produced piece by piece as the client reads, so the server
  // itself stays small whatever the client does. A client that stops reading ends the stream.
  void stream_fault(httplib::Response& res, Fault f) {
    ++answered_ok;
    static const std::string kHead = R"({"id":"chatcmpl-fake-big","object":"chat.completion","choices":[)"
                                     R"({"index":0,"message":{"role":"assistant","content":")";
    auto blanks = std::make_shared<std::string>(64 * 1024, 'a');
    if (f == Fault::huge_body) {
      const std::size_t total = std::size_t{4} << 30U;
      res.set_content_provider(total, kJsonType,
                               [this, blanks](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 if (stopping) return false;
                                 std::size_t n = std::min(length, blanks->size());
                                 if (offset < kHead.size()) {
                                   n = std::min(n, kHead.size() - offset);
                                   return sink.write(kHead.data() + offset, n);
                                 }
                                 return sink.write(blanks->data(), n);
                               });
      return;
    }
    if (f == Fault::endless_stream) {
      res.set_chunked_content_provider(kJsonType, [this, blanks](std::size_t offset, httplib::DataSink& sink) {
        if (stopping) return false;
        if (offset == 0) return sink.write(kHead.data(), kHead.size());
        return sink.write(blanks->data(), blanks->size());
      });
      return;
    }
    // gzip_bomb: 1 GiB of JSON blanks, deflated as it is sent (about 1 MB on the wire in all).
    auto z = std::shared_ptr<z_stream>(new z_stream{}, [](z_stream* s) {
      deflateEnd(s);
      delete s;
    });
    deflateInit2(z.get(), Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    auto fed = std::make_shared<std::size_t>(0);
    auto spaces = std::make_shared<std::string>(1 << 20, ' ');
    res.set_header("Content-Encoding", "gzip");
    res.set_chunked_content_provider(kJsonType, [this, z, fed, spaces](std::size_t, httplib::DataSink& sink) {
      if (stopping) return false;
      constexpr std::size_t kTotal = std::size_t{1} << 30U;
      const bool last = *fed + spaces->size() >= kTotal;
      std::string in = last ? std::string(" {}") : *spaces;
      *fed += spaces->size();
      z->next_in = reinterpret_cast<Bytef*>(in.data());
      z->avail_in = static_cast<uInt>(in.size());
      std::string out;
      char buf[16384];
      do {
        z->next_out = reinterpret_cast<Bytef*>(buf);
        z->avail_out = sizeof buf;
        deflate(z.get(), last ? Z_FINISH : Z_NO_FLUSH);
        out.append(buf, sizeof buf - z->avail_out);
      } while (z->avail_out == 0);
      if (!out.empty() && !sink.write(out.data(), out.size())) return false;
      if (last) sink.done();
      return true;
    });
  }

  // The way OpenAI shows a key back: its first 8 and last 4 characters.
  static std::string masked(const std::string& key) {
    if (key.size() <= 12) return key;
    return key.substr(0, 8) + "****" + key.substr(key.size() - 4);
  }

  static std::string last_authorization_value(const httplib::Request& req) {
    std::string v = req.get_header_value("Authorization");
    if (v.starts_with("Bearer ")) v.erase(0, 7);
    return v;
  }

  void embeddings(const httplib::Request& req, httplib::Response& res) {
    Busy busy(*this);
    ++requests;
    sleep_ms(latency_ms.load());
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("input")) {
      error_body(res, 400, "embeddings need an input", "invalid_request_error");
      return;
    }
    if (cfg.embeddings_unavailable) {
      error_body(res, 503, "the embeddings model is not loaded", "server_error");
      return;
    }
    int dims = 64;
    if (body.contains("dimensions") && body["dimensions"].is_number_integer()) dims = body["dimensions"].get<int>();
    std::vector<std::string> inputs;
    if (body["input"].is_string()) {
      inputs.push_back(body["input"].get<std::string>());
    } else if (body["input"].is_array()) {
      for (const auto& x : body["input"]) inputs.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    }
    if (inputs.size() == 1 && cfg.single_embedding_dims > 0) dims = cfg.single_embedding_dims;
    json data = json::array();
    std::size_t chars = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      chars += inputs[i].size();
      data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", fake_embedding(inputs[i], dims)}});
    }
    const long tokens = rough_tokens(chars);
    json out = {{"object", "list"},
                {"data", std::move(data)},
                {"model", body.value("model", std::string("fake-embedding"))},
                {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
    ++answered_ok;
    res.set_content(out.dump(), kJsonType);
  }
};

Server::Server(Config config) : impl_(std::make_unique<Impl>(config)) {}

Server::~Server() { stop(); }

bool Server::start() {
  auto& s = *impl_;
  if (s.thread.joinable()) return true;
  const int threads = s.cfg.threads > 0 ? s.cfg.threads : 128;
  s.svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  s.svr.set_tcp_nodelay(true);
  s.svr.set_keep_alive_max_count(100000);
  s.svr.set_keep_alive_timeout(2);
  s.svr.set_read_timeout(30, 0);
  s.svr.set_write_timeout(30, 0);
  s.svr.Post("/v1/chat/completions",
             [this](const httplib::Request& rq, httplib::Response& rs) { impl_->chat(rq, rs, Impl::Wire::openai); });
  s.svr.Post("/chat/completions",
             [this](const httplib::Request& rq, httplib::Response& rs) { impl_->chat(rq, rs, Impl::Wire::openai); });
  s.svr.Post("/api/chat",
             [this](const httplib::Request& rq, httplib::Response& rs) { impl_->chat(rq, rs, Impl::Wire::ollama); });
  s.svr.Post("/v1/messages",
             [this](const httplib::Request& rq, httplib::Response& rs) { impl_->chat(rq, rs, Impl::Wire::anthropic); });
  s.svr.Get("/v1/models", [](const httplib::Request&, httplib::Response& rs) {
    rs.set_content(R"({"object":"list","data":[{"id":"fake-model","object":"model"},)"
                   R"({"id":"fake-model-large","object":"model"}]})",
                   "application/json");
  });
  s.svr.Post("/v1/embeddings",
             [this](const httplib::Request& rq, httplib::Response& rs) { impl_->embeddings(rq, rs); });
  // cpp-httplib listens with a backlog of 5 (compiled into the library): a burst of connections
  // from a concurrent client then loses SYNs and waits seconds for retransmits. Capture the
  // listening socket and raise its backlog (listen() again on a listening socket updates it).
  std::atomic<int> listen_fd{-1};
  s.svr.set_socket_options([&listen_fd](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int expected = -1;
    listen_fd.compare_exchange_strong(expected, static_cast<int>(sock));
  });
  s.port = s.svr.bind_to_any_port("127.0.0.1");
  if (s.port <= 0) return false;
  if (listen_fd >= 0) ::listen(listen_fd, 4096);
  s.thread = std::thread([&s] { s.svr.listen_after_bind(); });
  for (int i = 0; i < 500 && !s.svr.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return s.svr.is_running();
}

void Server::stop() {
  auto& s = *impl_;
  if (!s.thread.joinable()) return;
  s.stopping = true;
  s.svr.stop();
  s.thread.join();
}

int Server::port() const { return impl_->port; }
std::string Server::base_url() const { return root_url() + "/v1"; }
std::string Server::root_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

void Server::push_faults(const std::vector<Fault>& faults) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.insert(impl_->faults.end(), faults.begin(), faults.end());
}

void Server::push_contents(const std::vector<std::string>& contents) {
  std::lock_guard lock(impl_->mu);
  impl_->contents.insert(impl_->contents.end(), contents.begin(), contents.end());
}

void Server::set_script(Script script) {
  std::lock_guard lock(impl_->mu);
  impl_->script = std::move(script);
}

void Server::set_latency_ms(int ms) { impl_->latency_ms = ms; }

long Server::requests() const { return impl_->requests.load(); }
long Server::answered_ok() const { return impl_->answered_ok.load(); }
int Server::peak_concurrency() const { return impl_->peak.load(); }

std::string Server::last_authorization() const {
  std::lock_guard lock(impl_->mu);
  return impl_->last_auth;
}

std::vector<nlohmann::json> Server::bodies() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bodies;
}

void Server::reset_counters() {
  impl_->requests = 0;
  impl_->answered_ok = 0;
  impl_->peak = 0;
  std::lock_guard lock(impl_->mu);
  impl_->bodies.clear();
}

}  // namespace persona::llm::fake
