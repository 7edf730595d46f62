// Reading conversation corpora: JSONL (plain or gzip) in the OpenAI, ShareGPT and QA formats,
// split into exchanges, truncated to a budget and scrubbed of identifiers.
#include <zlib.h>

#include <algorithm>
#include <regex>

#include "base/files.hpp"
#include "base/text.hpp"
#include "mine.hpp"

namespace persona::mine {

using text::trim;
using text::utf8_error;
using text::utf8_prefix;

namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxLine = 64u << 20;  // a longer line is malformed (and skipped, not held)
constexpr std::size_t kReportedMalformed = 20;

std::string role_of(const json& m, const char* key) {
  const auto it = m.find(key);
  if (it == m.end() || !it->is_string()) return {};
  std::string r = it->get<std::string>();
  std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return r;
}

bool is_user(const std::string& r) { return r == "user" || r == "human"; }
bool is_assistant(const std::string& r) { return r == "assistant" || r == "gpt" || r == "bot" || r == "model"; }

// Pairs user turns with the assistant reply that follows; an error names the first bad message.
std::string pair_turns(const json& msgs, const char* role_key, const char* text_key, ParsedLine& out) {
  if (!msgs.is_array())
    return std::string("\"") + (std::string(role_key) == "role" ? "messages" : "conversations") + "\" is not an array";
  std::string user;
  bool have_user = false;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    if (!m.is_object()) return "message " + std::to_string(i + 1) + " is not an object";
    const std::string role = role_of(m, role_key);
    if (role.empty()) return "message " + std::to_string(i + 1) + " has no \"" + role_key + "\" string";
    const auto t = m.find(text_key);
    std::string text;
    if (t != m.end() && t->is_string()) {
      text = t->get<std::string>();
    } else if (t != m.end() && t->is_array()) {  // OpenAI content parts: [{"type":"text","text":...}]
      for (const auto& part : *t) {
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          return "message " + std::to_string(i + 1) + ": \"" + text_key +
                 "\" is an array but not of content parts ({\"type\", \"text\"})";
        if (part.contains("text") && part["text"].is_string()) text += part["text"].get<std::string>();
      }
    } else if (t != m.end() && !t->is_null()) {
      return "message " + std::to_string(i + 1) + ": \"" + text_key + "\" is not a string";
    }
    if (is_user(role)) {
      if (have_user) {  // two user turns in a row: the first had no reply
        if (trim(user).empty())
          ++out.empty;
        else
          out.exchanges.emplace_back(user, "");
      }
      user = std::move(text);
      have_user = true;
    } else if (is_assistant(role) && have_user) {
      if (trim(user).empty())
        ++out.empty;
      else
        out.exchanges.emplace_back(std::move(user), std::move(text));
      user.clear();
      have_user = false;
    }
  }
  if (have_user) {
    if (trim(user).empty())
      ++out.empty;
    else
      out.exchanges.emplace_back(std::move(user), "");
  }
  return {};
}

std::string cut(std::string s, std::size_t max, std::size_t& cut_chars) {
  cut_chars = 0;
  if (max == 0 || s.size() <= max) return s;
  const std::string_view keep = utf8_prefix(s, max);
  cut_chars = s.size() - keep.size();
  return std::string(keep);
}

}  // namespace

ParsedLine parse_line(std::string_view line) {
  ParsedLine out;
  if (auto bad = utf8_error(line)) {
    out.error = "invalid UTF-8 at byte " + std::to_string(*bad + 1);
    return out;
  }
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) {
    out.error = "not valid JSON";
    return out;
  }
  if (!j.is_object()) {
    out.error = std::string("a JSON ") + j.type_name() + ", not an object";
    return out;
  }
  if (j.contains("messages")) {
    out.format = "openai";
    out.error = pair_turns(j["messages"], "role", "content", out);
  } else if (j.contains("conversations")) {
    out.format = "sharegpt";
    out.error = pair_turns(j["conversations"], "from", "value", out);
  } else if (j.contains("question")) {
    out.format = "qa";
    const json& q = j["question"];
    const json a = j.contains("answer") ? j["answer"] : json();
    if (!q.is_string()) {
      out.error = "\"question\" is not a string";
    } else if (!a.is_string()) {
      out.error = a.is_null() ? "a \"question\" without an \"answer\"" : "\"answer\" is not a string";
    } else if (trim(q.get<std::string>()).empty()) {
      ++out.empty;
    } else {
      out.exchanges.emplace_back(q.get<std::string>(), a.get<std::string>());
    }
  } else {
    out.error = "none of the formats: no \"messages\" (OpenAI), \"conversations\" (ShareGPT) or \"question\" (QA)";
  }
  if (!out.error.empty()) {
    out.exchanges.clear();
    out.empty = 0;
  }
  return out;
}

std::string scrub(std::string_view text, std::map<std::string, std::size_t>& counts) {
  // Order matters: e-mail before phone (digits in addresses), IBAN and card before phone.
  static const std::vector<std::pair<std::string, std::regex>> patterns = {
      {"email", std::regex(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")},
      {"iban", std::regex(R"(\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,4})?\b)")},
      {"card", std::regex(R"(\b(?:[0-9]{4}[ -]?){3}[0-9]{4}\b)")},
      {"ip", std::regex(R"(\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b)")},
      {"address",
       std::regex(
           R"(\b[0-9]{1,5}[A-Z]? (?:[A-Z][a-z]+ ){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|Square|Terrace|Strasse|Straße|Calle|Rue)\b)")},
      {"postcode", std::regex(R"(\b[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}\b)")},
      {"phone", std::regex(R"((?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{2,4}\)[ .-]?)?[0-9]{2,4}(?:[ .-][0-9]{2,4}){1,4}\b)")},
  };
  std::string s(text);
  for (const auto& [kind, re] : patterns) {
    std::string out;
    std::size_t n = 0;
    auto begin = std::sregex_iterator(s.begin(), s.end(), re);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      if (kind == "phone") {  // at least 7 digits, so years and prices stay
        const std::string found = m.str();
        const auto digits = std::count_if(found.begin(), found.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits < 7) continue;
      }
      out.append(s, last, static_cast<std::size_t>(m.position()) - last);
      out += "[" + kind + "]";
      last = static_cast<std::size_t>(m.position() + m.length());
      ++n;
    }
    if (n == 0) continue;
    out.append(s, last, std::string::npos);
    s = std::move(out);
    counts[kind] += n;
  }
  return s;
}

nlohmann::ordered_json CorpusStats::to_json() const {
  return {
      {"files", files},     {"lines", lines},         {"records", records},     {"exchanges", exchanges},
      {"empty", empty},     {"malformed", malformed}, {"truncated", truncated}, {"truncated_chars", truncated_chars},
      {"formats", formats}, {"scrubbed", scrubbed}};
}

std::optional<Corpus> read_corpus(const std::vector<std::filesystem::path>& files, const CorpusOptions& o,
                                  DiagnosticSink& sink) {
  Corpus c;
  std::string all;  // what the hash covers
  for (const auto& path : files) {
    const std::string name = path.string();
    std::string err;
    if (std::FILE* probe = files::open_stream(path, err, name)) {
      std::fclose(probe);
    } else {
      sink.error(SourceRange{name, 0, 0, 0}, "corpus-unreadable", err);
      return std::nullopt;
    }
    gzFile gz = gzopen(name.c_str(), "rb");  // plain files are read as they are
    if (gz == nullptr) {
      sink.error(SourceRange{name, 0, 0, 0}, "corpus-unreadable", "cannot open " + name);
      return std::nullopt;
    }
    ++c.stats.files;
    std::string line;
    bool too_long = false;
    std::uint32_t lineno = 0;
    std::vector<char> buf(1 << 16);
    auto handle = [&](bool complete) {
      ++lineno;
      ++c.stats.lines;
      std::string_view l = line;
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      std::string why;
      ParsedLine p;
      if (too_long) {
        why = "line longer than " + std::to_string(kMaxLine >> 20) + " MiB";
      } else if (trim(l).empty()) {
        return;  // blank lines are not records
      } else {
        p = parse_line(l);
        why = p.error;
        if (!why.empty() && !complete) why = "torn last line (no newline at the end): " + why;
      }
      if (!why.empty()) {
        if (c.stats.malformed++ < kReportedMalformed)
          sink.warning(SourceRange{name, lineno, 1, 0}, "malformed-line", "skipped: " + why);
        return;
      }
      ++c.stats.records;
      ++c.stats.formats[p.format];
      c.stats.empty += p.empty;
      std::uint32_t turn = 0;
      for (auto& [u, a] : p.exchanges) {
        Exchange e;
        e.id = static_cast<std::uint32_t>(c.exchanges.size());
        e.file = name;
        e.line = lineno;
        e.turn = turn++;
        std::size_t cu = 0, ca = 0;
        e.user = cut(std::move(u), o.max_message_chars, cu);
        e.assistant = cut(std::move(a), o.max_message_chars, ca);
        if (cu > 0) ++c.stats.truncated;
        if (ca > 0) ++c.stats.truncated;
        c.stats.truncated_chars += cu + ca;
        if (o.scrub) {
          e.user = scrub(e.user, c.stats.scrubbed);
          e.assistant = scrub(e.assistant, c.stats.scrubbed);
        }
        all += e.user;
        all += '\x1f';
        all += e.assistant;
        all += '\x1e';
        c.exchanges.push_back(std::move(e));
      }
    };
    while (true) {
      const int n = gzread(gz, buf.data(), static_cast<unsigned>(buf.size()));
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(gz, &code);
        sink.error(SourceRange{name, lineno + 1, 0, 0}, "corpus-unreadable",
                   "cannot read " + name + " after line " + std::to_string(lineno) + ": " + (msg ? msg : "gzip error") +
                       " (a truncated or corrupt gzip file?)");
        gzclose(gz);
        return std::nullopt;
      }
      if (n == 0) break;
      std::size_t start = 0;
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        if (buf[i] != '\n') continue;
        if (!too_long) line.append(buf.data() + start, i - start);
        handle(true);
        line.clear();
        too_long = false;
        start = i + 1;
      }
      if (!too_long) line.append(buf.data() + start, static_cast<std::size_t>(n) - start);
      if (line.size() > kMaxLine) {
        too_long = true;
        line.clear();
        line.shrink_to_fit();
      }
    }
    if (!line.empty() || too_long) handle(false);
    gzclose(gz);
  }
  c.stats.exchanges = c.exchanges.size();
  if (c.exchanges.empty()) {
    sink.error(SourceRange{files.empty() ? std::string("(no input)") : files.front().string(), 0, 0, 0}, "empty-corpus",
               "no exchange to mine: " + std::to_string(c.stats.lines) + " lines, " +
                   std::to_string(c.stats.malformed) + " malformed, " + std::to_string(c.stats.empty) +
                   " empty; expected JSONL lines with \"messages\", \"conversations\" or \"question\"");
    return std::nullopt;
  }
  c.hash = files::sha256_hex(all);
  return c;
}

}  // namespace persona::mine
