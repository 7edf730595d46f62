// LLM providers: where chat completions are sent and what they cost.
//
// Loaded from the `[providers.NAME]` tables of persona.toml (TOML++). Errors go to a DiagnosticSink
// with file:line:col; nothing is printed. Without a file (or without a [providers] table) a built-in
// `openai` provider is used, reading OPENAI_BASE_URL (default https://api.openai.com/v1) and, at
// request time, OPENAI_API_KEY.
//
//   [providers]
//   default = "local"
//   [providers.local]
//   base_url = "http://127.0.0.1:8080/v1"   # or replicas: ["http://a:8000/v1", "http://b:8000/v1"]
//   model = "qwen2.5-7b-instruct"
//   api_key_env = "LOCAL_LLM_KEY"
//   max_concurrency = 16
//
// The API key itself is NEVER stored in a Provider: only the name of the environment variable that
// holds it. api_key() reads the environment at the moment of the request.
#pragma once

#include <climits>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"

namespace persona::llm {

// Token usage of one response. cached_tokens comes from usage.prompt_tokens_details.cached_tokens
// and is a part of prompt_tokens.
struct Usage {
  long prompt_tokens = 0;
  long completion_tokens = 0;
  long cached_tokens = 0;

  // Saturating: a sum never wraps around to a negative count.
  Usage& operator+=(const Usage& o) {
    auto add = [](long& a, long b) {
      if (__builtin_add_overflow(a, b, &a)) a = b > 0 ? LONG_MAX : LONG_MIN;
    };
    add(prompt_tokens, o.prompt_tokens);
    add(completion_tokens, o.completion_tokens);
    add(cached_tokens, o.cached_tokens);
    return *this;
  }
};

// The most tokens one call may report for each figure; a server's larger figure is taken as this.
inline constexpr long kMaxCallTokens = 10'000'000;
// Brings a server's usage figures into range: negative ones to 0, each above kMaxCallTokens to it,
// cached tokens to at most the prompt tokens. Returns whether anything changed.
bool clamp_usage(Usage& u);

// Wire dialect (llm/dialect.hpp, one file each in llm/dialects/): openai (chat completions),
// ollama (native /api/chat), anthropic (Messages API).
enum class Style { openai, ollama, anthropic };
std::string_view to_string(Style s);

struct Provider {
  std::string name = "openai";
  std::string base_url = "https://api.openai.com/v1";  // the first (or only) replica: it names the provider
  // Further replicas of the same served model (`base_url = [A, B, ...]` gives base_url = A and these
  // = B, ...): the client spreads requests across base_url and these, each replica's failures on
  // their own. The cache key and everything that identifies the provider use base_url only.
  std::vector<std::string> more_base_urls;
  std::string model = "gpt-4o-mini";
  std::string embedding_model = "text-embedding-3-small";
  bool embedding_model_configured = false;     // embedding_model given in persona.toml: tiers rank by embeddings
  std::string api_key_env = "OPENAI_API_KEY";  // name of the variable, never the key
  int max_concurrency = 32;
  long connect_timeout_ms = 10'000;
  long timeout_ms = 120'000;
  int max_retries = 6;
  // The most bytes one response may hold, counted after decompression, headers apart (the same
  // cap): a larger, endless or compressed-bomb answer is cut off and the call fails naming this.
  long max_response_bytes = 8L << 20;
  double price_input_per_mtok = 0.0;         // USD per million uncached prompt tokens
  double price_output_per_mtok = 0.0;        // USD per million completion tokens
  double price_cached_input_per_mtok = 0.0;  // USD per million cached prompt tokens
  bool json_schema = true;                   // supports response_format json_schema (strict)
  long context_window = 0;                   // the model's context in tokens (0: unknown, never cut)
  Style style = Style::openai;
  SourceRange defined_at;  // where [providers.NAME] was declared (line 0 for the built-in)

  // Every replica's API root: base_url, then more_base_urls.
  [[nodiscard]] std::vector<std::string> base_urls() const;
  // The provider with replica i's base_url as its only one (i < base_urls().size()).
  [[nodiscard]] Provider replica(std::size_t i) const;
  // The base URL(s) as shown to people, credentials redacted: "URL", or "URL1, URL2 (2 replicas)".
  [[nodiscard]] std::string shown_base_urls() const;
  // Full URL for chat completions / embeddings according to style (of base_url, the first replica).
  [[nodiscard]] std::string chat_url() const;
  [[nodiscard]] std::string embeddings_url() const;
  // Reads the key from the environment now; empty when the variable is unset or empty.
  [[nodiscard]] std::string api_key() const;
  // Price of a usage in USD.
  [[nodiscard]] double cost(const Usage& u) const;
  // What must never be shown: the key (read now) and the credentials in every replica's base URL
  // (user info, key-like query values); pieces under 4 characters are left out.
  [[nodiscard]] std::vector<std::string> secrets() const;
  // `text` with every secret of this provider redacted (see llm::redact).
  [[nodiscard]] std::string redact(std::string text) const;
};

struct ProviderSet {
  std::vector<Provider> providers;
  std::string default_name;  // always names an element of providers when the set is non-empty

  [[nodiscard]] const Provider* find(std::string_view name) const;
  [[nodiscard]] const Provider* default_provider() const;
};

// The built-in set: one `openai` provider from OPENAI_BASE_URL / OPENAI_API_KEY.
ProviderSet builtin_providers();

// Parses TOML text (file_name is used in diagnostics only). Keys outside [providers] are ignored
// (persona.toml holds other sections). Unknown keys inside a provider are warnings with a "did you
// mean" note; wrong types, bad values and an unknown default are errors. Returns nullopt when
// any error was reported. A text without [providers] gives builtin_providers().
std::optional<ProviderSet> parse_providers(std::string_view toml_text, const std::string& file_name,
                                           DiagnosticSink& sink);

// Reads and parses a file. A missing file gives builtin_providers() (no diagnostic); an unreadable
// one is an error.
std::optional<ProviderSet> load_providers(const std::filesystem::path& file, DiagnosticSink& sink);

// Replaces every occurrence of `secret` in `text` by "***", whatever the key's shape, and every word
// of key characters that holds a 4+ character piece of it (a server's masked echo such as
// "gsk_LEAK****fXYZ") when the word is key-length (8+), masked ("**") or itself a piece of the key;
// anything shaped like an OpenAI key ("sk-...") goes too. Used on every error message and server body
// the client keeps. Secrets under 4 characters are not searched for.
std::string redact(std::string text, std::string_view secret);
std::string redact(std::string text, std::span<const std::string_view> secrets);
// The credentials in a URL: the user info before '@' and the values of key-like query parameters.
std::vector<std::string> url_secrets(const std::string& url);
// Whether a query parameter's name says its value is a credential (key, token, secret, auth, ...).
bool secret_query_name(std::string name);
// A URL without credentials: "user:pass@" and key-like query parameters (key, api_key, token, ...)
// replaced by "***".
std::string redact_url(const std::string& url);

}  // namespace persona::llm
