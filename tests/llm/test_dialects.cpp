// Provider dialects on loopback: the Anthropic Messages API (key header, version header, structured
// output through a forced tool call, usage, 429 with retry-after, 529 overloaded, a tool answer that
// lacks keys) and embeddings through the one client.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "llm/client.hpp"
#include "llm/dialect.hpp"
#include "llm/embeddings.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/structured.hpp"

using namespace persona::llm;
using fake::Fault;

namespace {

constexpr const char* kKeyEnv = "PERSONA_TEST_DIALECT_KEY";
constexpr const char* kKey = "sk-ant-dialect-SECRET";

Provider anthropic(const fake::Server& s) {
  ::setenv(kKeyEnv, kKey, 1);
  Provider p;
  p.name = "claude";
  p.style = Style::anthropic;
  p.base_url = s.base_url();
  p.model = "claude-fake";
  p.api_key_env = kKeyEnv;
  p.max_concurrency = 2;
  p.max_retries = 4;
  return p;
}

Options fast() {
  Options o;
  o.backoff_base_ms = 5;
  o.backoff_max_ms = 40;
  o.retry_after_max_ms = 50;
  return o;
}

Response call(Client& c, Request r) {
  Response out;
  c.submit(std::move(r), [&](Response x) { out = std::move(x); });
  c.run();
  return out;
}

const std::vector<std::string> kKeys = {"occupation", "hobby", "home_city"};

Request slots(const Provider& p) {
  static const auto schema = slots_schema(kKeys);
  ChatOptions co;
  co.schema = &schema;
  co.max_tokens = 300;
  return {chat_body(p, {{"system", "Fill the slots."}, {"user", "persona 1"}}, co), "t"};
}

}  // namespace

TEST_CASE("anthropic: the request carries the key in x-api-key, the version header and a forced tool") {
  fake::Server server;
  REQUIRE(server.start());
  const Provider p = anthropic(server);
  CHECK(p.chat_url() == server.base_url() + "/messages");
  Client c(p, fast());
  const auto r = call(c, slots(p));
  REQUIRE(r.ok());
  CHECK(server.last_authorization() == kKey);  // sent in x-api-key (the fake records that header)
  const auto body = server.bodies().back();
  CHECK(body["system"] == "Fill the slots.");
  CHECK(body["messages"].size() == 1);
  CHECK(body["max_tokens"] == 300);
  CHECK(body["tool_choice"]["type"] == "tool");
  CHECK(body["tools"][0]["input_schema"]["required"].size() == 3);
  // The tool's input is the answer; usage counts cache reads as cached prompt tokens.
  const auto got = extract_json(r.content);
  REQUIRE(got.value);
  CHECK(validate(*got.value, kKeys).complete());
  CHECK(r.usage.prompt_tokens > 0);
  CHECK(r.usage.completion_tokens > 0);
  CHECK(r.finish_reason == "stop");
}

TEST_CASE("anthropic: 429 with retry-after and 529 overloaded are retried, then the answer arrives") {
  fake::Server server;
  REQUIRE(server.start());
  server.push_faults({Fault::rate_limit, Fault::overloaded, Fault::none});
  const Provider p = anthropic(server);
  Client c(p, fast());
  const auto r = call(c, slots(p));
  REQUIRE(r.ok());
  CHECK(r.attempts == 3);
  const auto st = c.stats();
  CHECK(st.rate_limited == 1);
  CHECK(st.retries == 2);
}

TEST_CASE("anthropic: a tool answer with missing keys is reported as missing, not filled") {
  fake::Server server;
  REQUIRE(server.start());
  server.push_faults({Fault::missing_keys});
  const Provider p = anthropic(server);
  Client c(p, fast());
  const auto r = call(c, slots(p));
  REQUIRE(r.ok());
  const auto got = extract_json(r.content);
  REQUIRE(got.value);
  const auto v = validate(*got.value, kKeys);
  CHECK_FALSE(v.complete());
  CHECK(v.missing.size() >= 1);
}

TEST_CASE("anthropic: a bad key is an authentication error, not retried, and the key is not in the message") {
  fake::Server server;
  REQUIRE(server.start());
  server.push_faults({Fault::unauthorized});
  const Provider p = anthropic(server);
  Client c(p, fast());
  const auto r = call(c, slots(p));
  CHECK_FALSE(r.ok());
  CHECK(r.http_status == 401);
  CHECK(r.attempts == 1);
  CHECK(r.error.find(kKey) == std::string::npos);
  CHECK(r.error.find("invalid x-api-key") != std::string::npos);
}

TEST_CASE("anthropic has no embeddings endpoint: a clear error, not a request") {
  fake::Server server;
  REQUIRE(server.start());
  const Provider p = anthropic(server);
  Client c(p, fast());
  const auto e = embed(c, {"alpha"});
  CHECK_FALSE(e.ok());
  CHECK(e.error.find("no embeddings endpoint") != std::string::npos);
  CHECK(server.requests() == 0);
}

TEST_CASE("embeddings go through the client: batched, cached, every vector of one dimension") {
  fake::Server server;
  REQUIRE(server.start());
  Provider p;
  p.base_url = server.base_url();
  p.api_key_env = "PERSONA_TEST_NO_KEY";
  Client c(p, fast());
  const auto e = embed(c, {"alpha", "beta", "gamma", "delta", "epsilon"}, 2);
  REQUIRE(e.ok());
  REQUIRE(e.vectors.size() == 5);
  CHECK(e.vectors[0] == fake::fake_embedding("alpha"));
  CHECK(e.vectors[4] == fake::fake_embedding("epsilon"));
  CHECK(server.requests() == 3);  // batches of 2
}

TEST_CASE("every style has its own dialect, named by persona.toml's style") {
  CHECK(dialect_for(Style::openai).name() == "openai");
  CHECK(dialect_for(Style::ollama).name() == "ollama");
  CHECK(dialect_for(Style::anthropic).name() == "anthropic");
  CHECK(to_string(Style::anthropic) == "anthropic");
}
