#include "llm/providers.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include "llm/dialect.hpp"

namespace persona::llm {
namespace {

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

// Why `url` cannot be an API root (empty when it can): the scheme, a host, no blanks.
std::string url_problem(const std::string& url) {
  const bool http = url.starts_with("http://");
  if (!http && !url.starts_with("https://")) return "must start with http:// or https://";
  const std::size_t host = http ? 7 : 8;
  if (host >= url.size() || url[host] == '/' || url[host] == '?' || url[host] == '#')
    return "has no host after the scheme";
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return "holds a blank or control character";
  return {};
}

SourceRange where_of(const toml::node& node, const std::string& file, std::uint32_t length = 0) {
  const auto& src = node.source();
  return SourceRange{file, static_cast<std::uint32_t>(src.begin.line), static_cast<std::uint32_t>(src.begin.column),
                     length};
}

const std::vector<std::string>& provider_keys() {
  static const std::vector<std::string> keys = {"base_url",
                                                "model",
                                                "embedding_model",
                                                "api_key_env",
                                                "max_concurrency",
                                                "connect_timeout_ms",
                                                "timeout_ms",
                                                "max_retries",
                                                "max_response_bytes",
                                                "price_input_per_mtok",
                                                "price_output_per_mtok",
                                                "price_cached_input_per_mtok",
                                                "json_schema",
                                                "context_window",
                                                "style"};
  return keys;
}

class ProviderReader {
 public:
  ProviderReader(const std::string& file, DiagnosticSink& sink) : file_(file), sink_(sink) {}
  bool ok() const { return errors_ == 0; }

  std::optional<Provider> read(const std::string& name, const toml::table& t) {
    Provider p;
    p.name = name;
    p.defined_at = where_of(t, file_);
    // Defaults that differ from the OpenAI ones.
    p.api_key_env = "";
    bool url_given = false;
    for (const auto& [k, node] : t) {
      const std::string key(k.str());
      if (key == "base_url") {
        url_given = true;  // a bad value is its own error, not also a missing base_url
        read_base_urls(name, node, p);
      } else if (key == "model") {
        get_string(key, node, p.model);
      } else if (key == "embedding_model") {
        get_string(key, node, p.embedding_model);
        p.embedding_model_configured = true;
      } else if (key == "api_key_env") {
        if (get_string(key, node, p.api_key_env) && looks_like_key(p.api_key_env)) {
          // Do not echo the value: it may be a key pasted in the wrong place.
          err(node, "secret-in-config",
              "api_key_env must name an environment variable, and this looks like an API key itself",
              {"put the key in an environment variable and write its name here, e.g. api_key_env = "
               "\"OPENAI_API_KEY\""});
          p.api_key_env.clear();
        }
      } else if (key == "max_concurrency") {
        get_int(key, node, p.max_concurrency, 1, 4096);
      } else if (key == "connect_timeout_ms") {
        get_long(key, node, p.connect_timeout_ms, 1, 3'600'000);
      } else if (key == "timeout_ms") {
        get_long(key, node, p.timeout_ms, 1, 24L * 3'600'000);
      } else if (key == "max_retries") {
        get_int(key, node, p.max_retries, 0, 1000);
      } else if (key == "max_response_bytes") {
        get_long(key, node, p.max_response_bytes, 4096, 1L << 40);
      } else if (key == "context_window") {
        get_long(key, node, p.context_window, 512, 100'000'000);
      } else if (key == "price_input_per_mtok") {
        get_price(key, node, p.price_input_per_mtok);
      } else if (key == "price_output_per_mtok") {
        get_price(key, node, p.price_output_per_mtok);
      } else if (key == "price_cached_input_per_mtok") {
        get_price(key, node, p.price_cached_input_per_mtok);
      } else if (key == "json_schema") {
        if (auto b = node.value<bool>(); b && node.is_boolean()) {
          p.json_schema = *b;
        } else {
          type_error(key, node, "a boolean");
        }
      } else if (key == "style") {
        std::string s;
        if (get_string(key, node, s)) {
          if (s == "openai") {
            p.style = Style::openai;
          } else if (s == "ollama") {
            p.style = Style::ollama;
          } else if (s == "anthropic") {
            p.style = Style::anthropic;
          } else {
            err(node, "bad-value", "style must be \"openai\", \"ollama\" or \"anthropic\", not \"" + s + "\"");
          }
        }
      } else if (key == "api_key" || key == "key" || key == "token" || key == "api_token") {
        // A key written in the file would be committed, shared and logged: refused, never read.
        err(node, "secret-in-config",
            "'" + key + "' would put the API key itself in persona.toml; keys live in an environment variable",
            {"write its name instead, e.g. api_key_env = \"OPENAI_API_KEY\", and export the key there"});
      } else {
        std::vector<std::string> notes;
        if (auto m = closest_match(key, provider_keys()); !m.empty()) notes.push_back("did you mean '" + m + "'?");
        sink_.warning(where_of(node, file_, static_cast<std::uint32_t>(key.size())), "unknown-key",
                      "unknown key '" + key + "' in [providers." + name + "]", std::move(notes));
      }
    }
    if (!url_given) {
      if (p.style == Style::ollama) {
        p.base_url = "http://localhost:11434";
      } else if (name == "openai") {
        p.base_url = env_or("OPENAI_BASE_URL", p.base_url);
      } else {
        err(t, "missing-key", "[providers." + name + "] needs base_url");
      }
    }
    if (!url_given) {
      // From the default or OPENAI_BASE_URL: said at the table, naming where the URL came from.
      p.base_url = trim_slash(p.base_url);
      if (const std::string why = url_problem(p.base_url); !why.empty())
        err(t, "bad-value",
            "[providers." + name + "] base_url (from OPENAI_BASE_URL: \"" + redact_url(p.base_url) + "\") " + why);
    }
    if (p.api_key_env.empty() && name == "openai") p.api_key_env = "OPENAI_API_KEY";
    return p;
  }

  void err(const toml::node& node, std::string code, std::string message, std::vector<std::string> notes = {}) {
    ++errors_;
    sink_.error(where_of(node, file_), std::move(code), std::move(message), std::move(notes));
  }

 private:
  // `base_url = "URL"` or `base_url = ["URL", ...]` (replicas of one served model): the first is
  // Provider::base_url, the others more_base_urls. Every element is checked where it stands.
  void read_base_urls(const std::string& name, const toml::node& node, Provider& p) {
    const std::string setting = "[providers." + name + "] base_url";
    if (const auto* s = node.as_string()) {
      const std::string url = trim_slash(s->get());
      if (const std::string why = url_problem(url); !why.empty()) {
        err(node, "bad-value", setting + " = \"" + redact_url(url) + "\" " + why);
        return;
      }
      p.base_url = url;
      return;
    }
    const auto* arr = node.as_array();
    if (arr == nullptr) {
      err(node, "type-mismatch",
          "'base_url' must be a string (one URL) or an array of strings (replicas of one served model, e.g. "
          "base_url = [\"http://gpu-1:8000/v1\", \"http://gpu-2:8000/v1\"])");
      return;
    }
    if (arr->empty()) {
      err(node, "bad-value", setting + " is an empty array: list at least one URL",
          {"one URL may be written as a string: base_url = \"http://127.0.0.1:8000/v1\""});
      return;
    }
    std::vector<std::string> urls;
    std::vector<std::size_t> lines;
    bool bad = false;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& el = *arr->get(i);
      const std::string at = setting + "[" + std::to_string(i + 1) + "]";
      const auto* s = el.as_string();
      if (s == nullptr) {
        err(el, "type-mismatch", at + " must be a string (a URL such as \"http://gpu-1:8000/v1\")");
        bad = true;
        continue;
      }
      const std::string url = trim_slash(s->get());
      if (const std::string why = url_problem(url); !why.empty()) {
        err(el, "bad-value", at + " = \"" + redact_url(url) + "\" " + why);
        bad = true;
        continue;
      }
      const auto same = std::find(urls.begin(), urls.end(), url);
      if (same != urls.end()) {
        const auto j = static_cast<std::size_t>(same - urls.begin());
        err(el, "duplicate-url",
            at + " repeats \"" + redact_url(url) + "\" (already element " + std::to_string(j + 1) + ", line " +
                std::to_string(lines[j]) + ")",
            {"list each replica once: a replica listed twice would get twice its share of the requests"});
        bad = true;
        continue;
      }
      urls.push_back(url);
      lines.push_back(static_cast<std::size_t>(el.source().begin.line));
    }
    if (bad) return;
    p.base_url = urls.front();
    p.more_base_urls.assign(urls.begin() + 1, urls.end());
  }

  static bool looks_like_key(const std::string& s) {
    if (s.starts_with("sk-") || s.starts_with("Bearer ")) return true;
    for (char c : s) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return true;
    }
    return false;
  }
  void type_error(const std::string& key, const toml::node& node, const char* expected) {
    err(node, "type-mismatch", "'" + key + "' must be " + expected);
  }
  bool get_string(const std::string& key, const toml::node& node, std::string& out) {
    if (const auto* s = node.as_string()) {
      out = s->get();
      return true;
    }
    type_error(key, node, "a string");
    return false;
  }
  bool get_long(const std::string& key, const toml::node& node, long& out, long lo, long hi) {
    const auto* i = node.as_integer();
    if (i == nullptr) {
      type_error(key, node, "an integer");
      return false;
    }
    const std::int64_t v = i->get();
    if (v < lo || v > hi) {
      err(node, "out-of-range",
          "'" + key + "' = " + std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "]");
      return false;
    }
    out = static_cast<long>(v);
    return true;
  }
  bool get_int(const std::string& key, const toml::node& node, int& out, int lo, int hi) {
    long v = 0;
    if (!get_long(key, node, v, lo, hi)) return false;
    out = static_cast<int>(v);
    return true;
  }
  void get_price(const std::string& key, const toml::node& node, double& out) {
    double v = 0;
    if (const auto* f = node.as_floating_point()) {
      v = f->get();
    } else if (const auto* i = node.as_integer()) {
      v = static_cast<double>(i->get());
    } else {
      type_error(key, node, "a number");
      return;
    }
    if (!(v >= 0.0)) {
      err(node, "out-of-range", "'" + key + "' must not be negative");
      return;
    }
    out = v;
  }

  const std::string& file_;
  DiagnosticSink& sink_;
  int errors_ = 0;
};

}  // namespace

bool secret_query_name(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.find("key") != std::string::npos || name.find("token") != std::string::npos ||
         name.find("secret") != std::string::npos || name.find("password") != std::string::npos ||
         name.find("auth") != std::string::npos || name.find("credential") != std::string::npos || name == "sig" ||
         name == "signature" || name == "pass" || name == "pwd";
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  // user:password@host
  const auto scheme = out.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = out.find('@', start);
  const auto slash = out.find('/', start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) out.replace(start, at - start, "***");
  // ?key=...&token=...
  const auto q = out.find('?');
  if (q != std::string::npos) {
    std::size_t i = q + 1;
    while (i < out.size()) {
      const auto amp = out.find('&', i);
      const auto end = amp == std::string::npos ? out.size() : amp;
      const auto eq = out.find('=', i);
      if (eq != std::string::npos && eq < end && secret_query_name(out.substr(i, eq - i))) {
        out.replace(eq + 1, end - eq - 1, "***");
      }
      const auto next = out.find('&', i);
      if (next == std::string::npos) break;
      i = next + 1;
    }
  }
  return out;
}

bool clamp_usage(Usage& u) {
  const Usage was = u;
  u.prompt_tokens = std::clamp(u.prompt_tokens, 0L, kMaxCallTokens);
  u.completion_tokens = std::clamp(u.completion_tokens, 0L, kMaxCallTokens);
  u.cached_tokens = std::clamp(u.cached_tokens, 0L, u.prompt_tokens);
  return u.prompt_tokens != was.prompt_tokens || u.completion_tokens != was.completion_tokens ||
         u.cached_tokens != was.cached_tokens;
}

std::string_view to_string(Style s) {
  switch (s) {
    case Style::openai:
      return "openai";
    case Style::ollama:
      return "ollama";
    case Style::anthropic:
      return "anthropic";
  }
  return "openai";
}

std::vector<std::string> Provider::base_urls() const {
  std::vector<std::string> out;
  out.reserve(1 + more_base_urls.size());
  out.push_back(base_url);
  out.insert(out.end(), more_base_urls.begin(), more_base_urls.end());
  return out;
}

Provider Provider::replica(std::size_t i) const {
  Provider p = *this;
  if (i > 0 && i <= more_base_urls.size()) p.base_url = more_base_urls[i - 1];
  p.more_base_urls.clear();
  return p;
}

std::string Provider::shown_base_urls() const {
  std::string out = redact_url(base_url);
  for (const auto& u : more_base_urls) out += ", " + redact_url(u);
  if (!more_base_urls.empty()) out += " (" + std::to_string(1 + more_base_urls.size()) + " replicas)";
  return out;
}

std::string Provider::chat_url() const { return dialect_for(style).url(*this, Endpoint::chat); }

std::string Provider::embeddings_url() const { return dialect_for(style).url(*this, Endpoint::embeddings); }

std::string Provider::api_key() const {
  if (api_key_env.empty()) return {};
  const char* v = std::getenv(api_key_env.c_str());
  return v != nullptr ? std::string(v) : std::string();
}

double Provider::cost(const Usage& u) const {
  // Never negative, whatever the figures (in doubles: no integer overflow).
  const double prompt = std::max(0.0, static_cast<double>(u.prompt_tokens));
  const double cached = std::clamp(static_cast<double>(u.cached_tokens), 0.0, prompt);
  const double completion = std::max(0.0, static_cast<double>(u.completion_tokens));
  return ((prompt - cached) * price_input_per_mtok + cached * price_cached_input_per_mtok +
          completion * price_output_per_mtok) /
         1e6;
}

const Provider* ProviderSet::find(std::string_view name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const Provider* ProviderSet::default_provider() const {
  if (const auto* p = find(default_name)) return p;
  return providers.empty() ? nullptr : &providers.front();
}

ProviderSet builtin_providers() {
  Provider p;
  p.name = "openai";
  p.base_url = trim_slash(env_or("OPENAI_BASE_URL", "https://api.openai.com/v1"));
  p.api_key_env = "OPENAI_API_KEY";
  ProviderSet set;
  set.providers.push_back(std::move(p));
  set.default_name = "openai";
  return set;
}

std::optional<ProviderSet> parse_providers(std::string_view toml_text, const std::string& file_name,
                                           DiagnosticSink& sink) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(file_name));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    sink.error(SourceRange{file_name, static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column), 0},
               "toml-syntax", std::string(e.description()));
    return std::nullopt;
  } catch (const std::exception& e) {
    sink.error(SourceRange{file_name, 0, 0, 0}, "toml-syntax", e.what());
    return std::nullopt;
  }
  const toml::node* pnode = root.get("providers");
  if (pnode == nullptr) return builtin_providers();
  const toml::table* ptab = pnode->as_table();
  if (ptab == nullptr) {
    sink.error(where_of(*pnode, file_name), "type-mismatch", "'providers' must be a table ([providers.NAME])");
    return std::nullopt;
  }
  ProviderReader reader(file_name, sink);
  ProviderSet set;
  const toml::node* default_node = nullptr;
  for (const auto& [k, node] : *ptab) {
    const std::string name(k.str());
    if (name == "default") {
      default_node = &node;
      if (const auto* s = node.as_string()) {
        set.default_name = s->get();
      } else {
        reader.err(node, "type-mismatch", "providers.default must be a string naming a provider");
      }
      continue;
    }
    const toml::table* t = node.as_table();
    if (t == nullptr) {
      reader.err(node, "type-mismatch", "providers." + name + " must be a table ([providers." + name + "])");
      continue;
    }
    if (auto p = reader.read(name, *t)) set.providers.push_back(std::move(*p));
  }
  if (set.providers.empty() && reader.ok()) {
    // Only `default` (or nothing): keep the built-in provider.
    auto builtin = builtin_providers();
    if (!set.default_name.empty() && set.default_name != "openai" && default_node != nullptr) {
      reader.err(*default_node, "unknown-provider", "default provider '" + set.default_name + "' is not defined");
      return std::nullopt;
    }
    return builtin;
  }
  if (set.default_name.empty()) {
    set.default_name = set.providers.empty() ? std::string() : set.providers.front().name;
  } else if (set.find(set.default_name) == nullptr && default_node != nullptr) {
    std::vector<std::string> names;
    for (const auto& p : set.providers) names.push_back(p.name);
    std::vector<std::string> notes;
    if (auto m = closest_match(set.default_name, names); !m.empty()) notes.push_back("did you mean '" + m + "'?");
    reader.err(*default_node, "unknown-provider", "default provider '" + set.default_name + "' is not defined",
               std::move(notes));
  }
  if (!reader.ok()) return std::nullopt;
  return set;
}

std::optional<ProviderSet> load_providers(const std::filesystem::path& file, DiagnosticSink& sink) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return builtin_providers();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    sink.error(SourceRange{file.string(), 0, 0, 0}, "io-error", "cannot read " + file.string());
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_providers(ss.str(), file.string(), sink);
}

namespace {

bool key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '*' || c == '.' || c == '+' || c == '/' || c == '=' || c == '~';
}

// Whether `token` holds a piece of `secret` of 4+ characters (a masked echo such as
// "gsk_LEAK****fXYZ" keeps the ends of the key).
bool shares_piece(std::string_view token, std::string_view secret) {
  if (secret.size() < 4 || token.size() < 4) return false;
  for (std::size_t i = 0; i + 4 <= token.size(); ++i) {
    const std::string_view piece = token.substr(i, 4);
    if (piece.find('*') != std::string_view::npos) continue;
    if (secret.find(piece) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::string redact(std::string text, std::string_view secret) {
  const std::string_view one[] = {secret};
  return redact(std::move(text), std::span<const std::string_view>(one));
}

std::string redact(std::string text, std::span<const std::string_view> secrets) {
  for (const std::string_view secret : secrets) {
    if (secret.size() < 4) continue;
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  // Whatever a server made of a key (masked, cut, quoted in pieces): a word of key characters that
  // holds a 4+ character piece of a secret goes, when it is a key-length word or itself a piece.
  for (const std::string_view secret : secrets) {
    if (secret.size() < 4) continue;
    std::size_t i = 0;
    while (i < text.size()) {
      if (!key_char(text[i])) {
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < text.size() && key_char(text[end])) ++end;
      // A sentence's full stop is not part of the word.
      std::size_t word_end = end;
      while (word_end > i && text[word_end - 1] == '.') --word_end;
      const std::string_view word(text.data() + i, word_end - i);
      const bool masked = word.find("**") != std::string_view::npos;
      if ((word.size() >= 8 || masked || secret.find(word) != std::string_view::npos) && word != "***" &&
          shares_piece(word, secret)) {
        text.replace(i, word_end - i, "***");
        i += 3;
      } else {
        i = end;
      }
    }
  }
  // Anything shaped like an OpenAI key ("sk-" followed by 8+ key characters, possibly masked).
  std::size_t pos = 0;
  while ((pos = text.find("sk-", pos)) != std::string::npos) {
    std::size_t end = pos + 3;
    while (end < text.size()) {
      const char c = text[end];
      const bool kc = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '*' || c == '.';
      if (!kc) break;
      ++end;
    }
    if (end - pos >= 11) {
      text.replace(pos, end - pos, "sk-***");
      pos += 6;
    } else {
      pos = end;
    }
  }
  return text;
}

std::vector<std::string> url_secrets(const std::string& url) {
  std::vector<std::string> out;
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto slash = url.find_first_of("/?#", start);
  const auto at = url.rfind('@', slash == std::string::npos ? url.size() : slash);
  if (at != std::string::npos && at >= start) {
    const std::string user_info = url.substr(start, at - start);
    const auto colon = user_info.find(':');
    if (colon != std::string::npos) {
      out.push_back(user_info.substr(colon + 1));
      out.push_back(user_info.substr(0, colon));
    } else {
      out.push_back(user_info);
    }
  }
  const auto q = url.find('?');
  if (q != std::string::npos) {
    std::size_t i = q + 1;
    while (i < url.size()) {
      const auto amp = url.find('&', i);
      const auto end = amp == std::string::npos ? url.size() : amp;
      const auto eq = url.find('=', i);
      if (eq != std::string::npos && eq < end) {
        std::string value = url.substr(eq + 1, end - eq - 1);
        if (const auto cut = value.find_first_of("/#"); cut != std::string::npos) value.resize(cut);
        if (secret_query_name(url.substr(i, eq - i))) out.push_back(value);
      }
      if (amp == std::string::npos) break;
      i = amp + 1;
    }
  }
  std::erase_if(out, [](const std::string& s) { return s.size() < 4; });
  return out;
}

std::vector<std::string> Provider::secrets() const {
  std::vector<std::string> out = url_secrets(base_url);
  for (const auto& u : more_base_urls)
    for (auto& s : url_secrets(u)) out.push_back(std::move(s));
  if (std::string k = api_key(); !k.empty()) out.push_back(std::move(k));
  return out;
}

std::string Provider::redact(std::string text) const {
  const auto owned = secrets();
  std::vector<std::string_view> views(owned.begin(), owned.end());
  return llm::redact(std::move(text), std::span<const std::string_view>(views));
}

}  // namespace persona::llm
