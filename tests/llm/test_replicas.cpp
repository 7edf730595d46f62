// Several base URLs for one provider (replicas of one served model), against 2-3 fake servers on
// loopback: the spread of requests, a replica that is down, refusing or rate limiting on its own,
// every replica down, the cache and the request body independent of the replica, embeddings and the
// model list. Assertions are on counts and statuses, never on times.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "files.hpp"
#include "llm/cache.hpp"
#include "llm/client.hpp"
#include "llm/embeddings.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/models.hpp"
#include "llm/structured.hpp"

using namespace persona::llm;
using fake::Fault;

namespace {

constexpr const char* kKeyEnv = "PERSONA_TEST_REPLICA_KEY";

Provider replicas_of(const std::vector<std::string>& urls, int concurrency = 6) {
  ::setenv(kKeyEnv, "sk-test-REPLICA-key-0042", 1);
  Provider p;
  p.name = "fake";
  p.base_url = urls.front();
  p.more_base_urls.assign(urls.begin() + 1, urls.end());
  p.model = "fake-model";
  p.api_key_env = kKeyEnv;
  p.max_concurrency = concurrency;
  p.connect_timeout_ms = 5'000;
  p.timeout_ms = 30'000;
  p.max_retries = 0;  // a replica's failure must not cost the call a retry
  return p;
}

Options fast_options() {
  Options o;
  o.backoff_base_ms = 5;
  o.backoff_max_ms = 50;
  return o;
}

Request slots_request(const Provider& p, int i) {
  static const auto schema = slots_schema({"occupation", "hobby"});
  ChatOptions co;
  co.schema = &schema;
  co.seed = i;
  return {chat_body(p, {{"system", "Fill the slots."}, {"user", "persona " + std::to_string(i)}}, co),
          "p" + std::to_string(i)};
}

// The base URL of a loopback port nothing listens on (a server started, then stopped).
std::string closed_url() {
  fake::Server s;
  REQUIRE(s.start());
  std::string url = s.base_url();
  s.stop();
  return url;
}

struct Outcomes {
  std::vector<Response> responses;
  int ok = 0;
};

Outcomes run_all(Client& c, const Provider& p, int n) {
  Outcomes out;
  for (int i = 0; i < n; ++i)
    c.submit(slots_request(p, i), [&](Response r) {
      if (r.ok()) ++out.ok;
      out.responses.push_back(std::move(r));
    });
  c.run();
  return out;
}

}  // namespace

TEST_CASE("replicas: requests spread over every replica, each answering its share", "[llm][replicas]") {
  std::vector<std::unique_ptr<fake::Server>> servers;
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<fake::Server>(fake::Config{.latency_ms = 5}));
    REQUIRE(servers.back()->start());
    urls.push_back(servers.back()->base_url());
  }
  const auto p = replicas_of(urls);
  Client c(p, fast_options());
  const auto got = run_all(c, p, 60);
  CHECK(got.ok == 60);
  const auto st = c.stats();
  REQUIRE(st.replicas.size() == 3);
  long total = 0;
  for (int i = 0; i < 3; ++i) {
    INFO("replica " << i << " answered " << servers[i]->requests());
    // Least in flight, ties in turn: each of three equal replicas gets a real share.
    CHECK(servers[i]->requests() >= 10);
    CHECK(st.replicas[i].succeeded == servers[i]->requests());
    CHECK(st.replicas[i].failed == 0);
    CHECK_FALSE(st.replicas[i].down);
    total += servers[i]->requests();
  }
  CHECK(total == 60);
  CHECK(st.in_flight_peak <= 6);  // max_concurrency is the provider's total, not per replica
  CHECK(st.to_json()["replicas"].size() == 3);
  CHECK(st.to_string().find("replicas=[") != std::string::npos);
}

TEST_CASE("replicas: one replica's port closed, every call completes on the others and its failures are counted",
          "[llm][replicas]") {
  fake::Server a, b;
  REQUIRE(a.start());
  REQUIRE(b.start());
  const std::string dead = closed_url();
  const auto p = replicas_of({a.base_url(), dead, b.base_url()});
  Client c(p, fast_options());
  const auto got = run_all(c, p, 40);
  CHECK(got.ok == 40);
  const auto st = c.stats();
  CHECK(st.failed == 0);
  CHECK_FALSE(st.circuit_open);
  REQUIRE(st.replicas.size() == 3);
  CHECK(st.replicas[1].failed >= 1);
  CHECK(st.replicas[1].succeeded == 0);
  CHECK(st.replicas[1].set_aside >= 1);
  CHECK(st.replicas[1].down);
  CHECK(st.replicas[1].url == dead);
  CHECK(st.replicas[1].last_error.find("transport error") != std::string::npos);
  CHECK(a.requests() + b.requests() == 40);
  CHECK(a.requests() > 0);
  CHECK(b.requests() > 0);
  // The calls that met the dead replica moved on at once: attempts over one, still ok with max_retries = 0.
  int moved = 0;
  for (const auto& r : got.responses)
    if (r.attempts > 1) ++moved;
  CHECK(moved >= 1);
  CHECK(st.concurrency_min == 6);  // the provider's limit was not lowered for one replica's trouble
}

TEST_CASE("replicas: a replica answering 500 is set aside while the others carry on", "[llm][replicas]") {
  fake::Server bad, good;
  REQUIRE(bad.start());
  REQUIRE(good.start());
  bad.push_faults(std::vector<Fault>(200, Fault::server_error));
  const auto p = replicas_of({bad.base_url(), good.base_url()}, 4);
  auto o = fast_options();
  o.breaker_threshold = 3;  // would open at once if one replica's 500s counted for the provider
  Client c(p, o);
  const auto got = run_all(c, p, 30);
  CHECK(got.ok == 30);
  const auto st = c.stats();
  CHECK_FALSE(st.circuit_open);
  CHECK(st.failed == 0);
  CHECK(bad.answered_ok() == 0);
  CHECK(good.answered_ok() == 30);
  CHECK(st.replicas[0].failed == bad.requests());
  CHECK(st.replicas[0].set_aside >= 1);
  CHECK(st.replicas[0].last_error.find("HTTP 500") != std::string::npos);
  // Set aside: far fewer requests than its share of 30.
  CHECK(bad.requests() < 15);
}

TEST_CASE("replicas: a replica that times out is set aside and its calls finish on the other", "[llm][replicas]") {
  fake::Server hung({.hang_ms = 1500});
  fake::Server fine;
  REQUIRE(hung.start());
  REQUIRE(fine.start());
  hung.push_faults(std::vector<Fault>(50, Fault::hang));
  auto p = replicas_of({hung.base_url(), fine.base_url()}, 4);
  p.timeout_ms = 200;
  Client c(p, fast_options());
  const auto got = run_all(c, p, 20);
  CHECK(got.ok == 20);
  const auto st = c.stats();
  CHECK(st.failed == 0);
  CHECK(st.replicas[0].succeeded == 0);
  CHECK(st.replicas[0].failed >= 1);
  CHECK(st.replicas[0].set_aside >= 1);
  INFO(st.replicas[0].last_error);
  CHECK(st.replicas[0].last_error.find("transport error: Timeout was reached") != std::string::npos);
  CHECK(fine.answered_ok() == 20);
}

TEST_CASE("replicas: a 429 Retry-After holds back that replica only", "[llm][replicas]") {
  fake::Server limited({.retry_after_s = 60});
  fake::Server free_one;
  REQUIRE(limited.start());
  REQUIRE(free_one.start());
  limited.push_faults(std::vector<Fault>(10, Fault::rate_limit));
  const auto p = replicas_of({limited.base_url(), free_one.base_url()}, 4);
  Client c(p, fast_options());
  const auto got = run_all(c, p, 30);
  // With the 60 s wait applied to the calls this would not have finished before the test's timeout;
  // the replica got only the first round of requests, sent before its 429 came back.
  CHECK(got.ok == 30);
  const auto st = c.stats();
  CHECK(limited.requests() <= 2);
  CHECK(limited.answered_ok() == 0);
  CHECK(st.replicas[0].rate_limited == limited.requests());
  CHECK(st.replicas[0].down);
  CHECK(st.rate_limited == limited.requests());
  CHECK(st.concurrency_min == 4);  // AIMD is the provider's: not halved by one replica's 429s
  CHECK(free_one.answered_ok() == 30);
}

TEST_CASE("replicas: all down, the call fails naming every replica and why, credentials redacted", "[llm][replicas]") {
  std::string one = closed_url();
  const std::string two = closed_url();
  // user:password@ in the first URL: never shown.
  one.insert(one.find("://") + 3, "alice:pw-SECRET-77@");
  auto p = replicas_of({one, two});
  p.max_retries = 2;
  auto o = fast_options();
  o.breaker_threshold = 0;
  Client c(p, o);
  const auto got = run_all(c, p, 1);
  REQUIRE(got.responses.size() == 1);
  const auto& r = got.responses.front();
  CHECK(r.status == Response::Status::failed);
  // One free move to the other replica, then the call's own 1 + max_retries attempts.
  CHECK(r.attempts == 4);
  INFO(r.error);
  CHECK(r.error.find("gave up after 4 attempts") != std::string::npos);
  CHECK(r.error.find(redact_url(one)) != std::string::npos);
  CHECK(r.error.find(two) != std::string::npos);
  CHECK(r.error.find("transport error") != std::string::npos);
  CHECK(r.error.find("pw-SECRET-77") == std::string::npos);
  CHECK(r.error.find("alice") == std::string::npos);
  const auto st = c.stats();
  CHECK(st.replicas[0].down);
  CHECK(st.replicas[1].down);
  CHECK(st.replicas[0].url.find("pw-SECRET-77") == std::string::npos);
}

TEST_CASE("replicas: all down, the circuit breaker opens and its message names every replica", "[llm][replicas]") {
  const std::string one = closed_url();
  const std::string two = closed_url();
  auto p = replicas_of({one, two}, 2);
  p.max_retries = 50;
  auto o = fast_options();
  o.breaker_threshold = 5;
  Client c(p, o);
  const auto got = run_all(c, p, 10);
  CHECK(got.ok == 0);
  CHECK(c.circuit_open());
  int circuit = 0;
  for (const auto& r : got.responses) {
    if (r.status != Response::Status::circuit_open) continue;
    ++circuit;
    CHECK(r.error.find("every replica failing") != std::string::npos);
    CHECK(r.error.find(one) != std::string::npos);
    CHECK(r.error.find(two) != std::string::npos);
  }
  CHECK(circuit == 10);
}

TEST_CASE("replicas: the request body and the cache key do not depend on the replica", "[llm][replicas][cache]") {
  fake::Server a, b, other;
  REQUIRE(a.start());
  REQUIRE(b.start());
  REQUIRE(other.start());
  const auto dir = persona::test::scratch_dir("llm-replicas-cache");
  auto cache = Cache::open(dir / "cache.db");
  REQUIRE(cache);
  // The same request, uncached, four times: both replicas get it, byte for byte the same body.
  const auto p = replicas_of({a.base_url(), b.base_url()}, 2);
  {
    Client c(p, fast_options());
    for (int i = 0; i < 4; ++i) {
      auto req = slots_request(p, 7);
      req.use_cache = false;
      c.submit(std::move(req), [](Response r) { CHECK(r.ok()); });
    }
    c.run();
  }
  REQUIRE_FALSE(a.bodies().empty());
  REQUIRE_FALSE(b.bodies().empty());
  CHECK(a.bodies().front().dump() == b.bodies().front().dump());
  // Filled through the replicas, the cache serves the single-URL provider of the first one, and a
  // provider whose other replicas differ: the key is the body and the first base URL's endpoint.
  Options o = fast_options();
  o.cache = cache.get();
  {
    Client c(p, o);
    CHECK(run_all(c, p, 6).ok == 6);
  }
  CHECK(cache->size() == 6);
  CHECK(cache_key(slots_request(p, 0).body, p.chat_url()) ==
        cache_key(slots_request(p, 0).body, replicas_of({a.base_url()}).chat_url()));
  for (const auto& q : {replicas_of({a.base_url()}), replicas_of({a.base_url(), other.base_url()})}) {
    Client c(q, o);
    const auto got = run_all(c, q, 6);
    CHECK(got.ok == 6);
    for (const auto& r : got.responses) CHECK(r.from_cache);
  }
  CHECK(other.requests() == 0);
}

TEST_CASE("replicas: embeddings go to every replica and the model list to the first that answers", "[llm][replicas]") {
  fake::Server a, b;
  REQUIRE(a.start());
  REQUIRE(b.start());
  const auto p = replicas_of({a.base_url(), b.base_url()}, 4);
  Client c(p, fast_options());
  const std::vector<std::string> texts = {"one", "two", "three", "four", "five", "six", "seven", "eight"};
  const auto e = embed(c, texts, 1);
  REQUIRE(e.ok());
  REQUIRE(e.vectors.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(e.vectors[i] == fake::fake_embedding(texts[i]));
  CHECK(a.requests() > 0);
  CHECK(b.requests() > 0);
  CHECK(a.requests() + b.requests() == 8);

  const std::string dead = closed_url();
  std::string error;
  const auto models = list_models(replicas_of({dead, b.base_url()}), error);
  REQUIRE(models.has_value());
  CHECK(std::find(models->begin(), models->end(), "fake-model") != models->end());
  const std::string dead2 = closed_url();
  CHECK_FALSE(list_models(replicas_of({dead, dead2}), error).has_value());
  CHECK(error.find(dead) != std::string::npos);
  CHECK(error.find(dead2) != std::string::npos);
}

TEST_CASE("replicas: a 404 from one replica names that replica and its model list", "[llm][replicas]") {
  fake::Server a, b;
  REQUIRE(a.start());
  REQUIRE(b.start());
  b.push_faults(std::vector<Fault>(10, Fault::model_not_found));
  const auto p = replicas_of({a.base_url(), b.base_url()}, 1);
  Client c(p, fast_options());
  Response failed;
  for (int i = 0; i < 4; ++i)
    c.submit(slots_request(p, i), [&](Response r) {
      if (!r.ok()) failed = std::move(r);
    });
  c.run();
  REQUIRE(failed.http_status == 404);
  CHECK(failed.replica == 1);
  CHECK(failed.error.find(b.base_url()) != std::string::npos);
  const std::string said = describe_failure(p, failed.http_status, failed.error, failed.replica);
  INFO(said);
  CHECK(said.find("the server at " + b.base_url()) != std::string::npos);
  CHECK(said.find("fake-model-large") != std::string::npos);
}
