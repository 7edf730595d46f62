// One pipeline: the REPL's :run and `persona run --llm` write the same personas for the same recipe,
// seed and answers; the plan's estimate is the dry run's; `output { prompts on }` keeps every call's text.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exec/exec.hpp"
#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"
#include "repl/repl.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kSmall = R"(recipe "parity" version "1.0"
taxonomy stdlib.core
seed 11
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values   <- llm "core values" x 2..3 from age, gender, country
  attitude <- llm "life attitude" from values
}
attributes {
  count 20..30
  batch 12
}
narrative first-person 60..90 words
)";

// A recipe and a persona.toml for the fake server in one folder.
fs::path setup(const std::string& name, const llm::fake::Server& server, const std::string& extra = "") {
  const auto dir = test::scratch_dir(name);
  ::setenv("PERSONA_PARITY_KEY", "test-key", 1);
  test::write_file(dir / "parity.persona", kSmall + extra);
  test::write_file(
      dir / "persona.toml",
      test::fake_provider_toml(server.base_url(), "PERSONA_PARITY_KEY",
                               "max_concurrency = 4\nprice_input_per_mtok = 0.5\nprice_output_per_mtok = 1.5\n"));
  return dir;
}

}  // namespace

TEST_CASE("the REPL's :run and persona run --llm write byte-identical personas for the same answers") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = setup("exec-parity", server);
  const auto cli = test::run_command("'" + std::string(PERSONA_BIN) +
                                         "' run parity.persona -n 3 -o out.jsonl "
                                         "--llm fake --no-cache -q",
                                     "", dir.string());
  INFO(cli.err);
  REQUIRE(cli.code == 0);
  const long cli_requests = server.requests();
  CHECK(cli_requests >= 3 * 4);  // story, fill batches, narrative per persona

  std::ostringstream out, err;
  repl::Options o;
  o.out = &out;
  o.err = &err;
  o.count = 3;
  repl::Session session(o);
  REQUIRE(session.load((dir / "parity.persona").string()));
  session.feed(":set llm fake");
  session.feed(":run 3 --json");
  INFO(err.str());
  CHECK(server.requests() == 2 * cli_requests);  // the same calls again, one at a time
  CHECK(server.peak_concurrency() >= 1);
  const std::string repl_lines = out.str().substr(out.str().find("{\"id\""));
  CHECK(repl_lines == test::read_file(dir / "out.jsonl"));
}

TEST_CASE("the plan's estimate, the dry run and the budget use the same numbers") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = setup("exec-estimate", server);
  SourceFiles sources;
  DiagnosticList diags;
  auto prog = engine::load_program((dir / "parity.persona").string(), sources, diags);
  REQUIRE(prog != nullptr);
  const auto e = prog->estimate();
  const auto plan =
      test::run_command("'" + std::string(PERSONA_BIN) + "' plan parity.persona --llm fake", "", dir.string());
  REQUIRE(plan.code == 0);
  CHECK(plan.out.find(std::to_string(e.calls) + " LLM calls") != std::string::npos);
  CHECK(plan.out.find("~" + std::to_string(e.prompt_tokens) + " prompt tokens") != std::string::npos);
  const auto dry = test::run_command("'" + std::string(PERSONA_BIN) + "' run parity.persona -n 10 --llm fake --dry-run",
                                     "", dir.string());
  REQUIRE(dry.code == 0);
  CHECK(dry.out.find("per persona: " + std::to_string(e.calls) + " calls, " + std::to_string(e.prompt_tokens) +
                     " prompt + " + std::to_string(e.completion_tokens) + " completion tokens") != std::string::npos);
  CHECK(dry.out.find("10 personas: " + std::to_string(10 * e.calls) + " calls") != std::string::npos);
  CHECK(server.requests() == 0);  // nothing sent
}

TEST_CASE("output { prompts on } keeps the system and user text of every call of a persona") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = setup("exec-prompts", server, "output {\n  prompts on\n}\n");
  const auto r = test::run_command("'" + std::string(PERSONA_BIN) +
                                       "' run parity.persona -n 2 -o out.jsonl "
                                       "--llm fake --no-cache -q",
                                   "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (const auto& line : test::read_lines(dir / "out.jsonl")) {
    const auto j = nlohmann::json::parse(line);
    REQUIRE(j.contains("prompts"));
    CHECK(j["prompts"].size() == j["usage"]["calls"].get<std::size_t>());
    CHECK(j["prompts"][0]["step"] == "story");
    CHECK(j["prompts"][0]["user"].get<std::string>().find("country:") != std::string::npos);
    CHECK(j["prompts"].back()["step"] == "narrative");
  }
}
