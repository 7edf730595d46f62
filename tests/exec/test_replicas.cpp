// `persona run` against a provider with several base URLs (replicas of one served model), on
// loopback fake servers: the run spreads over the replicas, goes on when one is down and says so
// in its summary and manifest, writes what a single server would have made it write, shows every
// URL redacted in --dry-run, and names every replica when all are down.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using persona::llm::fake::Server;

namespace {

const std::string kRecipe = R"(recipe "replicas" version "1.0"
taxonomy stdlib.core
seed 5
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 12..16
  batch 6
}
narrative first-person 40..60 words
)";

constexpr const char* kKeyEnv = "PERSONA_TEST_REPLICAS_KEY";

fs::path setup(const std::string& name, const std::vector<std::string>& urls) {
  ::setenv(kKeyEnv, "k-test-0042zz", 1);
  const auto dir = persona::test::scratch_dir(name);
  persona::test::write_file(dir / "r.persona", kRecipe);
  persona::test::write_file(dir / "persona.toml", persona::test::fake_provider_toml(urls, kKeyEnv,
                                                                                    "max_concurrency = 6\n"
                                                                                    "max_retries = 2\n"));
  return dir;
}

persona::test::Outcome run_in(const fs::path& dir, const std::string& args) {
  return persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run r.persona " + args + " --llm fake --no-cache", "", dir.string());
}

std::string closed_url() {
  Server s;
  REQUIRE(s.start());
  std::string url = s.base_url();
  s.stop();
  return url;
}

}  // namespace

TEST_CASE("a run spreads over the replicas, goes on with one down, and reports it in its summary and manifest") {
  Server a, b;
  REQUIRE(a.start());
  REQUIRE(b.start());
  const std::string dead = closed_url();
  const auto dir = setup("replicas-run", {a.base_url(), dead, b.base_url()});
  const auto r = run_in(dir, "-n 8 -o out.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(a.requests() > 0);
  CHECK(b.requests() > 0);
  // The summary's replicas line names the dead one and its failures.
  const auto line = r.err.find("replicas: ");
  REQUIRE(line != std::string::npos);
  const std::string replicas = r.err.substr(line, r.err.find('\n', line) - line);
  CHECK(replicas.find(dead + " 0 answers, ") != std::string::npos);
  CHECK(replicas.find("transport error") != std::string::npos);
  const auto m = nlohmann::json::parse(persona::test::read_file((dir / "out.jsonl.manifest.json").string()));
  const auto& list = m.at("llm").at("replicas");
  REQUIRE(list.size() == 3);
  CHECK(list[0].at("url") == a.base_url());
  CHECK(list[1].at("url") == dead);
  CHECK(list[1].at("succeeded") == 0);
  CHECK(list[1].at("failed").get<long>() >= 1);
  CHECK(list[0].at("succeeded").get<long>() + list[2].at("succeeded").get<long>() == a.requests() + b.requests());
  CHECK(m.at("llm").at("failed") == 0);
}

TEST_CASE("the output of a run over replicas equals the output of a run against one of them") {
  Server a, b, alone;
  REQUIRE(a.start());
  REQUIRE(b.start());
  REQUIRE(alone.start());
  const auto spread = setup("replicas-same-a", {a.base_url(), b.base_url()});
  const auto single = setup("replicas-same-b", {alone.base_url()});
  const auto r1 = run_in(spread, "-n 6 -o out.jsonl -q");
  const auto r2 = run_in(single, "-n 6 -o out.jsonl -q");
  INFO(r1.err << r2.err);
  REQUIRE(r1.code == 0);
  REQUIRE(r2.code == 0);
  CHECK(a.requests() > 0);
  CHECK(b.requests() > 0);
  CHECK(persona::test::read_file((spread / "out.jsonl").string()) ==
        persona::test::read_file((single / "out.jsonl").string()));
  // No URL in the fingerprint: adding or removing a replica does not stop a --resume.
  auto fingerprint = [](const fs::path& dir) {
    return nlohmann::json::parse(persona::test::read_file((dir / "out.jsonl.manifest.json").string()))
        .at("fingerprint");
  };
  CHECK(fingerprint(spread) == fingerprint(single));
}

TEST_CASE("a dry run shows every replica, credentials redacted") {
  const auto dir = setup("replicas-dry", {"http://gpu-1:8000/v1", "http://bob:dryPASSWORD9@gpu-2:8000/v1"});
  const auto r = run_in(dir, "-n 10 --dry-run");
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("provider fake (http://gpu-1:8000/v1, http://***@gpu-2:8000/v1 (2 replicas)), model fake-model") !=
        std::string::npos);
  CHECK(r.out.find("dryPASSWORD9") == std::string::npos);
}

TEST_CASE("with every replica down the run stops as with one server, naming each replica and why") {
  const std::string one = closed_url();
  const std::string two = closed_url();
  const auto dir = setup("replicas-all-down", {one, two});
  const auto r = run_in(dir, "-n 3 -o out.jsonl -q");
  INFO(r.err);
  // The single-URL behaviour: the breaker opens, the run stops resumable (exit 4).
  CHECK(r.code == 4);
  CHECK(r.err.find("circuit breaker open") != std::string::npos);
  CHECK(r.err.find("every replica failing") != std::string::npos);
  CHECK(r.err.find("last error: ;") == std::string::npos);
  CHECK(r.err.find(one + ": transport error") != std::string::npos);
  CHECK(r.err.find(two + ": transport error") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out.jsonl"));
}

TEST_CASE("persona merge sums each replica's figures by URL over the shards") {
  Server a, b;
  REQUIRE(a.start());
  REQUIRE(b.start());
  const std::string dead = closed_url();
  const auto dir = setup("replicas-merge", {a.base_url(), b.base_url(), dead});
  for (const char* k : {"1", "2"}) {
    const auto r = run_in(dir, std::string("-n 6 --shard ") + k + "/2 -o people." + k + ".jsonl -q");
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  const auto r = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' merge people.jsonl people.1.jsonl people.2.jsonl", "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto manifest = [&](const std::string& name) {
    return nlohmann::json::parse(persona::test::read_file((dir / (name + ".manifest.json")).string()));
  };
  const auto s1 = manifest("people.1.jsonl");
  const auto s2 = manifest("people.2.jsonl");
  const auto merged = manifest("people.jsonl");
  const auto& list = merged.at("llm").at("replicas");
  REQUIRE(list.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& one = s1.at("llm").at("replicas")[i];
    const auto& two = s2.at("llm").at("replicas")[i];
    CHECK(list[i].at("url") == one.at("url"));
    for (const char* key : {"attempts", "succeeded", "failed", "set_aside"})
      CHECK(list[i].at(key).get<long>() == one.at(key).get<long>() + two.at(key).get<long>());
  }
  CHECK(list[2].at("url") == dead);
  CHECK(list[2].at("succeeded") == 0);
  CHECK(list[2].at("failed").get<long>() >= 2);  // each shard met it at least once
  CHECK(list[2].at("down") == true);
}
