// A fake OpenAI-compatible server for tests and benchmarks (library persona_llm_fake; never linked
// into the product). Listens on 127.0.0.1 with an ephemeral port.
//
//   fake::Server server({.latency_ms = 20});
//   server.start();
//   Provider p; p.base_url = server.base_url();   // http://127.0.0.1:PORT/v1
//   server.push_faults({fake::Fault::rate_limit, fake::Fault::none});
//
// POST /v1/chat/completions (openai), /api/chat (ollama) and /v1/messages (anthropic, with the
// schema in a forced tool's input_schema): by default reads the JSON schema and answers a plausible
// value for every required key, lists of minItems..maxItems items, and plain texts of the length the
// prompt asks for ("150-400 words"); usage.prompt_tokens = request characters / 4. Scripted contents
// and faults (by sequence or by probability) override that. POST /v1/embeddings returns
// deterministic hash-based vectors. Each endpoint answers in its own dialect; nothing is guessed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace persona::llm::fake {

enum class Fault {
  none,
  rate_limit,        // 429 with Retry-After: <seconds> (Config::retry_after_s)
  rate_limit_ms,     // 429 with retry-after-ms: <ms> (Config::retry_after_ms)
  server_error,      // 500
  unavailable,       // 503
  hang,              // sleeps Config::hang_ms (past the client timeout), then answers normally
  truncated,         // declares the full Content-Length, sends half the body, closes
  malformed,         // 200 with a body that is not valid JSON
  not_json_content,  // 200, valid envelope, content is prose without any JSON object
  missing_keys,      // 200, content JSON lacks about half the required keys
  close_connection,  // sends headers then closes without a body
  unauthorized,      // 401 echoing the Authorization header back in the error message, whole and masked
  bad_request_echo,  // 400 (not retried, not fatal) echoing the key masked ("gsk_LEAK****fXYZ") and whole
  unicode_error,     // 400 whose message is 600 bytes of two-byte characters (a cut at 300 bytes splits one)
  overloaded,        // 529 "overloaded" (Anthropic's answer when it is busy)
  model_not_found,   // 404 "The model `...` does not exist" (GET /v1/models lists fake-model, fake-model-large)
  context_length,    // 400 "This model's maximum context length is 4096 tokens ..." (context_length_exceeded)
  huge_body,         // 200 declaring a 4 GiB body and streaming it (generated, never held by the server)
  gzip_bomb,         // 200, Content-Encoding: gzip, ~1 MB on the wire inflating to 1 GiB of blanks
  endless_stream,    // 200, chunked, a body that never ends
  huge_headers,      // 200, a normal answer after 256 headers of 1 KB each
  length_truncated,  // 200, finish_reason "length", the content cut two thirds in (`{"a2":"val`); pushed or
                     // scripted content is sent as given (already cut)
  hostile_usage,     // 200, a normal answer whose usage says -10^15 prompt and 10^15 completion tokens
};

const char* to_string(Fault f);

struct Config {
  int latency_ms = 0;  // added to every chat/embeddings answer
  int hang_ms = 3000;
  long retry_after_ms = 50;  // for Fault::rate_limit_ms
  int retry_after_s = 1;     // for Fault::rate_limit
  // Probability of each fault for requests not covered by the fault sequence.
  double p_rate_limit = 0, p_server_error = 0, p_unavailable = 0, p_hang = 0, p_truncated = 0, p_malformed = 0,
         p_not_json = 0, p_missing_keys = 0, p_close = 0;
  double cached_fraction = 0.0;  // usage.prompt_tokens_details.cached_tokens = prompt_tokens * this
  // A careless model: lists of one item whatever the schema asks, 12-word texts whatever the prompt
  // asks, and every third value a negative filler ("No involvement in ...").
  bool careless = false;
  // Embeddings faults: every embeddings request answers 503; a request with one input (a persona's
  // core) answers vectors of this many dimensions (0: as the others) - a model changed mid-run.
  bool embeddings_unavailable = false;
  int single_embedding_dims = 0;
  std::uint64_t seed = 1;
  int threads = 0;  // worker threads; 0: 128 (keep-alive connections each hold one)
};

// Given the request body, returns the message content to answer (nullopt: default behaviour).
using Script = std::function<std::optional<std::string>(const nlohmann::json& request)>;

class Server {
 public:
  explicit Server(Config config = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  bool start();  // binds 127.0.0.1:0 and serves on a background thread
  void stop();
  [[nodiscard]] int port() const;
  [[nodiscard]] std::string base_url() const;  // "http://127.0.0.1:PORT/v1"
  [[nodiscard]] std::string root_url() const;  // "http://127.0.0.1:PORT" (ollama style)

  // Faults for the next requests, in order (Fault::none = answer normally).
  void push_faults(const std::vector<Fault>& faults);
  // Contents for the next successful answers, in order (before the script and the default).
  void push_contents(const std::vector<std::string>& contents);
  void set_script(Script script);
  void set_latency_ms(int ms);

  [[nodiscard]] long requests() const;  // chat + embeddings requests received
  [[nodiscard]] long answered_ok() const;
  [[nodiscard]] int peak_concurrency() const;
  [[nodiscard]] std::string last_authorization() const;      // for tests of header handling
  [[nodiscard]] std::vector<nlohmann::json> bodies() const;  // chat request bodies received
  void reset_counters();

  // Default answer for a request body (exposed for tests): a JSON object text with a plausible
  // value per required key of the schema, or a short sentence without a schema.
  static std::string default_content(const nlohmann::json& request, bool careless = false);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The deterministic embedding of a text (unit length).
std::vector<float> fake_embedding(const std::string& text, int dimensions = 64);

}  // namespace persona::llm::fake
