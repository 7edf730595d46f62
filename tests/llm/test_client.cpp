// Client tests against the fake server on loopback only. Assertions are on counts and statuses;
// the only timing checks are lower bounds (a loaded machine only makes things slower).
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "files.hpp"
#include "llm/cache.hpp"
#include "llm/client.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/structured.hpp"

using namespace persona::llm;
using fake::Fault;

namespace {

constexpr const char* kKeyEnv = "PERSONA_TEST_LLM_KEY";
constexpr const char* kKey = "sk-test-SECRET-123";

Provider provider_for(const fake::Server& s, int concurrency = 4) {
  ::setenv(kKeyEnv, kKey, 1);
  Provider p;
  p.name = "fake";
  p.base_url = s.base_url();
  p.model = "fake-model";
  p.api_key_env = kKeyEnv;
  p.max_concurrency = concurrency;
  p.connect_timeout_ms = 10'000;
  p.timeout_ms = 30'000;
  p.max_retries = 6;
  p.price_input_per_mtok = 1.0;
  p.price_output_per_mtok = 2.0;
  return p;
}

Options fast_options() {
  Options o;
  o.backoff_base_ms = 5;
  o.backoff_max_ms = 50;
  return o;
}

const std::vector<std::string> kKeys = {"occupation", "hobby", "home_city"};

Request slots_request(const Provider& p, int i, bool expect_json = false) {
  static const auto schema = slots_schema(kKeys);
  ChatOptions co;
  co.schema = &schema;
  co.seed = i;
  Request r{chat_body(p, {{"system", "Fill the slots."}, {"user", "persona " + std::to_string(i)}}, co),
            "p" + std::to_string(i)};
  r.expect_json = expect_json;
  return r;
}

// Runs one request to completion.
Response call(Client& c, Request r) {
  Response out;
  bool called = false;
  c.submit(std::move(r), [&](Response x) {
    out = std::move(x);
    called = true;
  });
  c.run();
  REQUIRE(called);
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

using persona::test::read_file;

}  // namespace

TEST_CASE("client: a simple call", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  auto r = call(c, slots_request(p, 1));
  REQUIRE(r.ok());
  CHECK(r.http_status == 200);
  CHECK(r.attempts == 1);
  CHECK_FALSE(r.from_cache);
  CHECK(r.tag == "p1");
  CHECK(r.finish_reason == "stop");
  CHECK(r.usage.prompt_tokens > 0);
  CHECK(r.usage.completion_tokens > 0);
  auto got = extract_json(r.content);
  REQUIRE(got.value);
  CHECK(validate(*got.value, kKeys).present.size() == kKeys.size());
  CHECK(server.requests() == 1);
  CHECK(server.last_authorization() == std::string("Bearer ") + kKey);
  const auto st = c.stats();
  CHECK(st.requests == 1);
  CHECK(st.succeeded == 1);
  CHECK(st.retries == 0);
  CHECK(st.usage.prompt_tokens == r.usage.prompt_tokens);
  CHECK(st.cost > 0.0);
  // The request body the server saw carries the schema.
  const auto bodies = server.bodies();
  REQUIRE(bodies.size() == 1);
  CHECK(bodies[0]["response_format"]["json_schema"]["schema"]["required"].size() == kKeys.size());
}

TEST_CASE("client: no Authorization header without a key", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  auto p = provider_for(server);
  p.api_key_env = "PERSONA_TEST_UNSET_VARIABLE";
  ::unsetenv("PERSONA_TEST_UNSET_VARIABLE");
  Client c(p, fast_options());
  REQUIRE(call(c, slots_request(p, 1)).ok());
  CHECK(server.last_authorization().empty());
}

TEST_CASE("client: 429 honours Retry-After and retry-after-ms", "[llm][client]") {
  fake::Config cfg;
  cfg.retry_after_s = 1;
  cfg.retry_after_ms = 300;
  fake::Server server(cfg);
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());

  server.push_faults({Fault::rate_limit});
  auto t0 = std::chrono::steady_clock::now();
  auto r = call(c, slots_request(p, 1));
  REQUIRE(r.ok());
  CHECK(r.attempts == 2);
  CHECK(seconds_since(t0) >= 0.95);  // backoff alone would have waited at most 5 ms

  server.push_faults({Fault::rate_limit_ms});
  t0 = std::chrono::steady_clock::now();
  r = call(c, slots_request(p, 2));
  REQUIRE(r.ok());
  CHECK(r.attempts == 2);
  CHECK(seconds_since(t0) >= 0.29);
  CHECK(c.stats().rate_limited == 2);
  CHECK(c.stats().retries == 2);
}

TEST_CASE("client: 500 and 503 then success", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  server.push_faults({Fault::server_error, Fault::unavailable});
  auto r = call(c, slots_request(p, 1));
  REQUIRE(r.ok());
  CHECK(r.attempts == 3);
  CHECK(server.requests() == 3);
}

TEST_CASE("client: a hung request times out and is retried", "[llm][client]") {
  fake::Config cfg;
  cfg.hang_ms = 8000;
  fake::Server server(cfg);
  REQUIRE(server.start());
  auto p = provider_for(server);
  p.timeout_ms = 1500;
  Client c(p, fast_options());
  server.push_faults({Fault::hang});
  auto r = call(c, slots_request(p, 1));
  REQUIRE(r.ok());
  CHECK(r.attempts == 2);
  CHECK(server.requests() == 2);
}

TEST_CASE("client: truncated, malformed and closed bodies are retried", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  server.push_faults({Fault::truncated, Fault::malformed, Fault::close_connection, Fault::not_json_content});
  auto r = call(c, slots_request(p, 1, /*expect_json=*/true));
  REQUIRE(r.ok());
  CHECK(r.attempts == 5);
  CHECK(extract_json(r.content).value);
}

TEST_CASE("client: content missing keys comes back for the caller to re-ask", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  server.push_faults({Fault::missing_keys});
  auto r = call(c, slots_request(p, 1, true));
  REQUIRE(r.ok());
  auto got = extract_json(r.content);
  REQUIRE(got.value);
  auto v = validate(*got.value, kKeys);
  CHECK_FALSE(v.complete());
  CHECK_FALSE(v.present.empty());
  // Ask again only for the missing ones.
  const auto schema = slots_schema(v.missing);
  ChatOptions co;
  co.schema = &schema;
  auto r2 = call(c, {chat_body(p, {{"user", "again"}}, co), "again"});
  REQUIRE(r2.ok());
  auto v2 = validate(*extract_json(r2.content).value, v.missing);
  CHECK(v2.complete());
}

TEST_CASE("client: retries are bounded", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  auto p = provider_for(server);
  p.max_retries = 2;
  auto o = fast_options();
  o.breaker_threshold = 0;
  Client c(p, o);
  server.push_faults({Fault::server_error, Fault::server_error, Fault::server_error, Fault::none});
  auto r = call(c, slots_request(p, 1));
  CHECK(r.status == Response::Status::failed);
  CHECK(r.attempts == 3);
  CHECK(r.http_status == 500);
  CHECK(r.error.find("gave up after 3 attempts") != std::string::npos);
}

TEST_CASE("client: the circuit breaker trips and fails fast", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  auto p = provider_for(server, 1);
  p.max_retries = 100;
  auto o = fast_options();
  o.breaker_threshold = 5;
  Client c(p, o);
  server.push_faults(std::vector<Fault>(5, Fault::server_error));
  int circuit = 0;
  int other = 0;
  for (int i = 0; i < 20; ++i) {
    c.submit(slots_request(p, i), [&](Response r) {
      if (r.status == Response::Status::circuit_open) {
        ++circuit;
        CHECK_FALSE(r.error.empty());
      } else {
        ++other;
      }
    });
  }
  c.run();
  CHECK(circuit == 20);
  CHECK(other == 0);
  CHECK(c.circuit_open());
  CHECK(c.stats().circuit_open);
  CHECK(server.requests() == 5);

  // New requests fail fast, without touching the network.
  auto r = call(c, slots_request(p, 99));
  CHECK(r.status == Response::Status::circuit_open);
  CHECK(r.attempts == 0);
  CHECK(server.requests() == 5);

  // Resume later.
  c.reset_circuit();
  CHECK_FALSE(c.circuit_open());
  CHECK(call(c, slots_request(p, 100)).ok());
  CHECK(c.stats().failed_fast == 21);
}

TEST_CASE("client: non-retryable 4xx fails at once", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  server.push_faults({Fault::unauthorized});
  auto r = call(c, slots_request(p, 1));
  CHECK(r.status == Response::Status::failed);
  CHECK(r.http_status == 401);
  CHECK(r.attempts == 1);
  CHECK(r.error.find("Incorrect API key") != std::string::npos);
}

TEST_CASE("client: concurrency bound is respected", "[llm][client]") {
  fake::Config cfg;
  cfg.latency_ms = 50;
  fake::Server server(cfg);
  REQUIRE(server.start());
  const auto p = provider_for(server, 4);
  Client c(p, fast_options());
  int ok = 0;
  for (int i = 0; i < 40; ++i) {
    c.submit(slots_request(p, i), [&](Response r) { ok += r.ok() ? 1 : 0; });
  }
  c.run();
  CHECK(ok == 40);
  CHECK(server.peak_concurrency() <= 4);
  CHECK(c.stats().in_flight_peak <= 4);
  CHECK(c.stats().in_flight_peak >= 2);
  CHECK(server.requests() == 40);
  // Connections are kept and reused: far fewer than one per request.
  CHECK(c.stats().connections >= 1);
  CHECK(c.stats().connections <= 12);
}

TEST_CASE("client: AIMD lowers concurrency after 429 bursts and recovers", "[llm][client]") {
  fake::Config cfg;
  cfg.latency_ms = 20;
  cfg.retry_after_ms = 20;
  fake::Server server(cfg);
  REQUIRE(server.start());
  const auto p = provider_for(server, 8);
  auto o = fast_options();
  o.aimd_burst = 3;
  o.aimd_increase_after = 2;
  o.max_retries = 30;
  Client c(p, o);
  server.push_faults(std::vector<Fault>(24, Fault::rate_limit_ms));
  int ok = 0;
  for (int i = 0; i < 60; ++i) {
    c.submit(slots_request(p, i), [&](Response r) { ok += r.ok() ? 1 : 0; });
  }
  c.run();
  CHECK(ok == 60);
  const auto st = c.stats();
  CHECK(st.rate_limited == 24);
  CHECK(st.concurrency_min < 8);
  CHECK(st.concurrency_limit <= 8);
  CHECK(server.peak_concurrency() <= 8);
  CHECK_FALSE(st.circuit_open);
}

TEST_CASE("client: callbacks may submit more work", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  Client c(p, fast_options());
  int done = 0;
  std::function<void(Response)> again = [&](Response r) {
    REQUIRE(r.ok());
    if (++done < 5) c.submit(slots_request(p, done), again);
  };
  c.submit(slots_request(p, 0), again);
  c.submit(slots_request(p, 100), [&](Response) {
    c.run();    // nested: returns at once instead of looping
    c.poll(0);  // likewise: no dispatch from inside a callback
  });
  c.run();
  CHECK(done == 5);
  CHECK(c.pending() == 0);
}

TEST_CASE("client: cancel_all completes everything as cancelled", "[llm][client]") {
  fake::Config cfg;
  cfg.latency_ms = 2000;
  fake::Server server(cfg);
  REQUIRE(server.start());
  const auto p = provider_for(server, 2);
  Client c(p, fast_options());
  int cancelled = 0;
  for (int i = 0; i < 6; ++i) {
    c.submit(slots_request(p, i), [&](Response r) { cancelled += r.status == Response::Status::cancelled ? 1 : 0; });
  }
  c.poll(50);
  c.cancel_all();
  CHECK(cancelled == 6);
  CHECK(c.pending() == 0);
}

TEST_CASE("client: ollama style and embeddings", "[llm][client]") {
  fake::Server server;
  REQUIRE(server.start());
  auto p = provider_for(server);
  p.style = Style::ollama;
  p.base_url = server.root_url();
  Client c(p, fast_options());
  auto r = call(c, slots_request(p, 1));
  REQUIRE(r.ok());
  CHECK(r.usage.prompt_tokens > 0);
  CHECK(validate(*extract_json(r.content).value, kKeys).complete());
  CHECK(server.bodies().back().contains("format"));

  auto po = provider_for(server);
  Client ce(po, fast_options());
  Request er{embeddings_body(po, {"alpha", "beta"}), "emb"};
  er.endpoint = Endpoint::embeddings;
  auto e = call(ce, er);
  REQUIRE(e.ok());
  REQUIRE(e.embeddings.size() == 2);
  CHECK(e.embeddings[0] == fake::fake_embedding("alpha"));
  CHECK(e.embeddings[0] != e.embeddings[1]);
}

TEST_CASE("client: a rerun is served from the cache", "[llm][client][cache]") {
  const auto dir = std::filesystem::temp_directory_path() / ("persona-llm-client-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  fake::Server server;
  REQUIRE(server.start());
  const auto p = provider_for(server);
  auto cache = Cache::open(dir / "cache.db");
  REQUIRE(cache);
  auto o = fast_options();
  o.cache = cache.get();
  std::string first;
  {
    Client c(p, o);
    auto r = call(c, slots_request(p, 1));
    REQUIRE(r.ok());
    CHECK_FALSE(r.from_cache);
    first = r.content;
  }
  CHECK(server.requests() == 1);
  {
    Client c(p, o);
    auto r = call(c, slots_request(p, 1));
    REQUIRE(r.ok());
    CHECK(r.from_cache);
    CHECK(r.attempts == 0);
    CHECK(r.content == first);
    CHECK(r.usage.prompt_tokens > 0);
    CHECK(c.stats().cache_hits == 1);
    CHECK(c.stats().usage.prompt_tokens == 0);
    // A different request still goes to the network; use_cache=false bypasses the cache.
    CHECK_FALSE(call(c, slots_request(p, 2)).from_cache);
    auto bypass = slots_request(p, 1);
    bypass.use_cache = false;
    CHECK_FALSE(call(c, bypass).from_cache);
  }
  CHECK(server.requests() == 3);
  CHECK(cache->size() == 2);
  cache.reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("client: the API key never leaks", "[llm][client][secret]") {
  const auto dir = std::filesystem::temp_directory_path() / ("persona-llm-secret-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  fake::Config cfg;
  cfg.hang_ms = 8000;
  fake::Server server(cfg);
  REQUIRE(server.start());
  auto p = provider_for(server);
  p.max_retries = 1;
  p.timeout_ms = 1500;
  auto cache = Cache::open(dir / "cache.db");
  REQUIRE(cache);
  auto o = fast_options();
  o.cache = cache.get();
  o.breaker_threshold = 0;
  Client c(p, o);
  std::vector<std::string> errors;
  auto collect = [&](Response r) {
    errors.push_back(r.error);
    errors.push_back(r.content);
  };
  // The server echoes the key in a 401; a 500 and a hang exhaust retries.
  server.push_faults({Fault::unauthorized, Fault::server_error, Fault::server_error, Fault::hang, Fault::malformed});
  for (int i = 0; i < 3; ++i) c.submit(slots_request(p, i), collect);
  c.run();
  for (int i = 10; i < 15; ++i) c.submit(slots_request(p, i), collect);
  c.run();
  REQUIRE(server.last_authorization() == std::string("Bearer ") + kKey);  // it was sent...
  bool saw_401 = false;
  for (const auto& e : errors) {
    CHECK(e.find("SECRET") == std::string::npos);
    saw_401 = saw_401 || e.find("HTTP 401") != std::string::npos;
  }
  CHECK(saw_401);
  const auto st = c.stats();
  CHECK(st.to_string().find("SECRET") == std::string::npos);
  CHECK(st.to_json().dump().find("SECRET") == std::string::npos);
  CHECK(cache->size() > 0);
  cache.reset();
  // ... but never stored.
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = read_file(f.path());
    CHECK(bytes.find("SECRET") == std::string::npos);
    CHECK(bytes.find(kKey) == std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("fake server: default answers follow the schema", "[llm][fake]") {
  nlohmann::json req = {
      {"messages", {{{"role", "user"}, {"content", "x"}}}},
      {"response_format",
       {{"type", "json_schema"},
        {"json_schema",
         {{"name", "s"}, {"schema", slot_specs_schema({{"name", "", {}}, {"diet", "", {"vegan", "omnivore"}}})}}}}}};
  auto content = fake::Server::default_content(req);
  auto j = nlohmann::json::parse(content);
  CHECK(j["name"].is_string());
  CHECK((j["diet"] == "vegan" || j["diet"] == "omnivore"));
  CHECK(fake::Server::default_content(req) == content);  // deterministic
  CHECK(fake::fake_embedding("x", 8).size() == 8);
}
