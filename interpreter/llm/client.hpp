// Asynchronous chat-completions client on the libcurl multi interface.
//
//   Client client(provider, {.cache = cache.get()});
//   client.submit({chat_body(provider, msgs, {.schema = &schema}), "persona:17"},
//                 [&](Response r) { if (r.ok()) use(r.content); });
//   client.run();   // drives transfers until nothing is pending; callbacks run here, may submit
//
// Single-threaded: submit/run/poll and callbacks all happen on the caller's thread. Bounded number
// of requests in flight (adaptive, AIMD, never above max_concurrency), connection reuse, connect
// and total timeouts, retries with exponential backoff and full jitter honouring Retry-After /
// retry-after-ms, and a circuit breaker: after a run of consecutive failed attempts every pending
// and new request completes with Status::circuit_open until reset_circuit(), so the caller can stop
// cleanly and resume later. No exception escapes; the API key never appears in any error string.
//
// Replicas (a provider with several base URLs, Provider::base_urls()): each attempt goes to the
// available replica with the fewest requests in flight (ties in turn). A replica whose attempt fails
// on the wire (refused, reset, timed out) or with 408, 429 or 5xx is set aside on its own — for the
// Retry-After it sent, else for a backoff doubling per consecutive failure — then tried again with a
// single probe request; the failed call moves at once to another replica, the first failure on each
// replica costing it no retry. The provider's breaker and AIMD limit count such failures only when no
// other replica is up; with every replica down, the single-URL behaviour applies. The request body
// and the cache key do not depend on the replica (the key uses the first base URL).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "llm/providers.hpp"

namespace persona::llm {

class Cache;

enum class Endpoint { chat, embeddings };

struct Request {
  nlohmann::json body;  // from chat_body() / embeddings_body()
  std::string tag;      // caller's label, echoed in the Response
  Endpoint endpoint = Endpoint::chat;
  bool use_cache = true;     // consult/fill Options::cache
  bool expect_json = false;  // retry when content holds no JSON object (extract_json fails)
};

struct Response {
  enum class Status { ok, failed, circuit_open, cancelled };
  Status status = Status::failed;
  long http_status = 0;  // of the last attempt (0: no HTTP response)
  std::string content;   // choices[0].message.content (ollama: message.content)
  std::string finish_reason;
  std::vector<std::vector<float>> embeddings;  // Endpoint::embeddings only
  Usage usage;                                 // clamped to [0, kMaxCallTokens] per figure
  bool usage_clamped = false;                  // the server's figures were out of range
  int attempts = 0;                            // HTTP attempts made (0 when served from cache or failed fast)
  bool from_cache = false;
  std::string error;  // empty when ok; never contains the API key
  std::string tag;
  int replica = -1;  // index in Provider::base_urls() of the replica that gave the last answer (-1: none)

  [[nodiscard]] bool ok() const { return status == Status::ok; }
};

const char* to_string(Response::Status s);

struct Options {
  int max_concurrency = 0;            // 0: provider.max_concurrency
  int initial_concurrency = 0;        // 0: start at the maximum
  int max_retries = -1;               // -1: provider.max_retries (retries after the first attempt)
  long connect_timeout_ms = -1;       // -1: provider's
  long timeout_ms = -1;               // -1: provider's (total per attempt)
  long backoff_base_ms = 500;         // delay cap doubles per retry from here ...
  long backoff_max_ms = 30'000;       // ... up to this; the delay is uniform in [0, cap] (full jitter)
  long retry_after_max_ms = 120'000;  // server-requested waits are clamped to this
  int aimd_burst = 3;                 // this many 429s without a success in between halve the limit
  int aimd_increase_after = 10;       // +1 to the limit after this many successes
  int breaker_threshold = 12;         // consecutive failed attempts that open the circuit (0: never)
  std::uint64_t seed = 0x5eed;        // jitter randomness (deterministic)
  Cache* cache = nullptr;             // not owned; optional
};

// One replica's share of the work (Stats::replicas, in Provider::base_urls() order).
struct ReplicaStats {
  std::string url;         // the base URL, redacted (redact_url)
  long attempts = 0;       // HTTP attempts sent to it
  long succeeded = 0;      // attempts it answered usably
  long failed = 0;         // attempts that failed on it (any reason)
  long rate_limited = 0;   // its 429 answers
  long set_aside = 0;      // times it was marked down (refused, timed out, 408, 429, 5xx)
  bool down = false;       // marked down now
  std::string last_error;  // its last failure, redacted ("" when none)

  [[nodiscard]] nlohmann::json to_json() const;
};

struct Stats {
  long requests = 0;  // submitted
  long succeeded = 0;
  long failed = 0;       // Status::failed
  long failed_fast = 0;  // Status::circuit_open
  long cancelled = 0;
  long attempts = 0;      // HTTP attempts
  long retries = 0;       // attempts after the first
  long rate_limited = 0;  // 429 answers
  long cache_hits = 0;
  long connections = 0;  // new connections opened (the rest of the attempts reused one)
  int in_flight = 0;     // transfers on the wire now (never above the concurrency limit)
  int in_flight_peak = 0;
  int concurrency_limit = 0;  // current AIMD limit
  int concurrency_min = 0;    // lowest limit reached
  bool circuit_open = false;
  long usage_clamped = 0;  // answers whose usage figures were out of range (negative, > kMaxCallTokens): clamped
  Usage usage;             // network responses only (cache hits excluded)
  double cost = 0.0;       // USD, from provider prices
  std::vector<ReplicaStats> replicas;  // one per base URL (also for a single one)

  // to_json() has a "replicas" array only when the provider has several base URLs.

  [[nodiscard]] std::string to_string() const;  // one line, for logs
  [[nodiscard]] nlohmann::json to_json() const;
};

class Client {
 public:
  explicit Client(Provider provider, Options options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Queues a request; `done` is called exactly once, from run()/poll(), on the caller's thread.
  void submit(Request request, std::function<void(Response)> done);
  // Drives transfers until nothing is pending. Called from inside a callback it returns at once.
  void run();
  // One step: waits at most max_wait_ms for progress, dispatches completions. Returns whether
  // anything is still pending.
  bool poll(int max_wait_ms = 100);
  // Completes every pending request with Status::cancelled (callbacks run during this call).
  void cancel_all();
  [[nodiscard]] std::size_t pending() const;
  [[nodiscard]] bool circuit_open() const;
  void reset_circuit();
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] const Provider& provider() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct ChatOptions {
  double temperature = 0.7;
  int max_tokens = 0;                      // 0: not sent
  std::optional<std::int64_t> seed;        // sent when set
  const nlohmann::json* schema = nullptr;  // e.g. slots_schema(keys); not owned
  std::string schema_name = "slots";
};

// The request body. openai style: {model, messages, temperature, max_tokens?, seed?,
// response_format: {"type":"json_schema","json_schema":{"name", "strict":true, "schema"}}} (or
// {"type":"json_object"} when the provider has json_schema = false). ollama style: {model,
// messages, stream:false, format: <schema>, options: {temperature, seed?, num_predict?}}.
nlohmann::json chat_body(const Provider& provider, const std::vector<Message>& messages,
                         const ChatOptions& options = {});

// {model: provider.embedding_model, input: [...]}
nlohmann::json embeddings_body(const Provider& provider, const std::vector<std::string>& inputs);

}  // namespace persona::llm
