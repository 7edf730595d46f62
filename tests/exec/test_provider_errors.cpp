// A provider that cannot serve the run is said in the user's terms, at once: a missing key before
// anything is sent, a rejected key with its variable, an unknown model with the server's list, a
// context overflow with the call that overflowed. Nothing written before the failure is lost.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using persona::llm::fake::Fault;
using persona::llm::fake::Server;

namespace {

const std::string kRecipe = R"(recipe "errors" version "1.0"
taxonomy stdlib.core
seed 3
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 20..30
  batch 12
}
narrative first-person 60..90 words
)";

fs::path setup(const std::string& name, const Server& server, const std::string& key_env) {
  const auto dir = persona::test::scratch_dir(name);
  persona::test::write_file(dir / "r.persona", kRecipe);
  persona::test::write_file(dir / "persona.toml",
                            persona::test::fake_provider_toml(server.base_url(), key_env, "max_concurrency = 4\n"));
  return dir;
}

persona::test::Outcome run_in(const fs::path& dir, const std::string& args) {
  return persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run r.persona " + args + " --llm fake --no-cache -q", "", dir.string());
}

}  // namespace

TEST_CASE("a key variable that is not set is reported before the first request, and nothing is written") {
  Server server;
  REQUIRE(server.start());
  ::unsetenv("PERSONA_TEST_KEY_NOT_SET");
  const auto dir = setup("errors-no-key", server, "PERSONA_TEST_KEY_NOT_SET");
  const auto r = run_in(dir, "-n 3 -o out.jsonl");
  INFO(r.err);
  CHECK(r.code == 3);
  CHECK(r.err.find("environment variable PERSONA_TEST_KEY_NOT_SET, which is not set") != std::string::npos);
  CHECK(server.requests() == 0);
  CHECK_FALSE(fs::exists(dir / "out.jsonl"));
  CHECK_FALSE(fs::exists(dir / "out.jsonl.part"));
}

TEST_CASE("a rejected key (HTTP 401) stops the run at once, names the variable, never prints the key") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_REJECTED", "sk-test-secret-123456", 1);
  const auto dir = setup("errors-401", server, "PERSONA_TEST_KEY_REJECTED");
  server.push_faults(std::vector<Fault>(64, Fault::unauthorized));
  const auto r = run_in(dir, "-n 20 -o out.jsonl");
  INFO(r.err);
  CHECK(r.code == 3);
  CHECK(r.err.find("the server rejected the key (HTTP 401) from variable PERSONA_TEST_KEY_REJECTED") !=
        std::string::npos);
  CHECK(r.err.find("sk-test-secret-123456") == std::string::npos);
  CHECK(r.err.find("circuit") == std::string::npos);   // no breaker wait
  CHECK(r.err.find("--resume") == std::string::npos);  // a resume would fail the same way
  CHECK(server.requests() <= 4);                       // the first wave only: no retries, no new personas
}

TEST_CASE("an unknown model (HTTP 404) names the model and the models the server offers") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_404", "k", 1);
  const auto dir = setup("errors-404", server, "PERSONA_TEST_KEY_404");
  server.push_faults(std::vector<Fault>(64, Fault::model_not_found));
  const auto r = run_in(dir, "-n 5 -o out.jsonl");
  INFO(r.err);
  CHECK(r.code == 3);
  CHECK(r.err.find("does not know the model 'fake-model'") != std::string::npos);
  CHECK(r.err.find("it offers: fake-model, fake-model-large") != std::string::npos);
  CHECK(server.requests() <= 4);
}

TEST_CASE("a prompt over the model's context is a status on the call that overflowed, said as such") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_CTX", "k", 1);
  const auto dir = setup("errors-context", server, "PERSONA_TEST_KEY_CTX");
  server.push_faults({Fault::context_length});  // the first call: persona 0's story
  const auto r = run_in(dir, "-n 1 -o out.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = persona::test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 1);
  const auto j = nlohmann::json::parse(lines[0]);
  REQUIRE(j.contains("problems"));
  const std::string problems = j["problems"].dump();
  CHECK(problems.find("story") != std::string::npos);
  CHECK(problems.find("longer than the model's context") != std::string::npos);
  CHECK(problems.find("maximum context length is 4096 tokens") != std::string::npos);
}
