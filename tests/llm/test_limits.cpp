// What a hostile or broken server sends cannot take the client's memory: bodies are capped at the
// provider's max_response_bytes, counted after decompression, for chat, embeddings and the model
// list alike; the call fails naming the setting.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "llm/client.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/models.hpp"

using namespace persona::llm;
using fake::Fault;

namespace {

Provider capped_provider(const fake::Server& s, long max_bytes) {
  ::setenv("PERSONA_TEST_LIMITS_KEY", "k", 1);
  Provider p;
  p.name = "fake";
  p.base_url = s.base_url();
  p.model = "fake-model";
  p.api_key_env = "PERSONA_TEST_LIMITS_KEY";
  p.timeout_ms = 60'000;
  p.max_response_bytes = max_bytes;
  return p;
}

Response one_call(const Provider& p, Endpoint endpoint = Endpoint::chat) {
  Client client(p, {.max_retries = 2, .backoff_base_ms = 5, .backoff_max_ms = 20});
  Response out;
  Request req{endpoint == Endpoint::chat ? chat_body(p, {{"user", "hello"}}) : embeddings_body(p, {"a", "b"}), "t"};
  req.endpoint = endpoint;
  client.submit(std::move(req), [&](Response r) { out = std::move(r); });
  client.run();
  return out;
}

}  // namespace

TEST_CASE("a body past max_response_bytes fails the call naming the limit, without a retry", "[llm][limits]") {
  const Fault fault = GENERATE(Fault::huge_body, Fault::gzip_bomb, Fault::endless_stream);
  INFO(fake::to_string(fault));
  fake::Server server;
  REQUIRE(server.start());
  server.push_faults({fault, fault, fault});
  const Response r = one_call(capped_provider(server, 1L << 20));
  CHECK(r.status == Response::Status::failed);
  CHECK(r.error.find("max_response_bytes (1048576 bytes") != std::string::npos);
  CHECK(r.error.find("[providers.fake]") != std::string::npos);
  CHECK(r.attempts == 1);
  CHECK(server.requests() == 1);
}

TEST_CASE("headers past max_response_bytes fail the call naming the limit", "[llm][limits]") {
  fake::Server server;
  REQUIRE(server.start());
  server.push_faults({Fault::huge_headers, Fault::huge_headers});
  const Response r = one_call(capped_provider(server, 64 * 1024));  // 256 KB of headers
  CHECK(r.status == Response::Status::failed);
  CHECK(r.error.find("max_response_bytes (65536 bytes") != std::string::npos);
  CHECK(r.attempts == 1);
  server.push_faults({Fault::huge_headers});
  CHECK(one_call(capped_provider(server, 1L << 20)).ok());  // under a larger cap: read as before
}

TEST_CASE("an answer below max_response_bytes is read as before", "[llm][limits]") {
  fake::Server server;
  REQUIRE(server.start());
  const Response r = one_call(capped_provider(server, 4096));
  CHECK(r.ok());
  CHECK_FALSE(r.content.empty());
}

TEST_CASE("an embeddings answer past max_response_bytes fails naming the limit", "[llm][limits]") {
  fake::Server server;
  REQUIRE(server.start());
  auto p = capped_provider(server, 4096);
  const Response small = one_call(p, Endpoint::embeddings);  // 2 x 64 floats: under 4 KiB
  CHECK(small.ok());
  p.max_response_bytes = 1024;
  const Response big = one_call(p, Endpoint::embeddings);
  CHECK(big.status == Response::Status::failed);
  CHECK(big.error.find("max_response_bytes") != std::string::npos);
}

TEST_CASE("a model list past max_response_bytes is refused naming the limit", "[llm][limits]") {
  fake::Server server;
  REQUIRE(server.start());
  std::string error;
  CHECK(list_models(capped_provider(server, 4096), error).has_value());
  CHECK(!list_models(capped_provider(server, 16), error).has_value());
  CHECK(error.find("max_response_bytes (16 bytes)") != std::string::npos);
}

TEST_CASE("max_response_bytes is read from persona.toml and checked", "[llm][limits]") {
  persona::DiagnosticList sink;
  auto set = parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\nmax_response_bytes = 65536\n", "p.toml", sink);
  REQUIRE(set);
  CHECK(set->find("x")->max_response_bytes == 65536);
  persona::DiagnosticList bad;
  CHECK_FALSE(parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\nmax_response_bytes = 10\n", "p.toml", bad));
  CHECK(Provider{}.max_response_bytes == 8L << 20);
}
