// A resume continues only the run it was started as: change any input between the stopped run and
// `--resume` and the resume is refused with a message naming that input. `persona diff` lists the
// same differences between two finished runs' manifests.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using persona::llm::fake::Server;
namespace test = persona::test;

namespace {

const std::string kRecipe = R"(recipe "inputs" version "1.0"
taxonomy stdlib.core
import "lib.persona"
seed 5
table regions = "regions.csv"
anchor country ~ { Kenya: 0.5, Canada: 0.5 }
anchor region  ~ table regions by country
anchor age     ~ adult_age round
anchor gender  ~ { female: 0.5, male: 0.5 }
anchor employment = "employed"
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 12..16
  batch 8
}
narrative first-person 40..60 words
)";

const std::string kLib = "distribution adult_age = uniform(20, 60)\n";
const std::string kRegions =
    "country,value,weight\nKenya,Coast,4\nKenya,Nairobi,9\nCanada,Ontario,15\nCanada,Quebec,8\n";

std::string persona_cmd(const std::string& args) { return "'" + std::string(PERSONA_BIN) + "' " + args; }

// A run of 40 personas stopped by its budget after a few: `out.jsonl.part` and its run record.
fs::path stopped_run(const std::string& name, const Server& server) {
  const auto dir = test::scratch_dir(name);
  test::write_file(dir / "r.persona", kRecipe);
  test::write_file(dir / "lib.persona", kLib);
  test::write_file(dir / "regions.csv", kRegions);
  fs::create_directories(dir / "prompts");
  for (const auto& e : fs::directory_iterator(fs::path(PERSONA_SOURCE_DIR) / "stdlib" / "prompts"))
    if (e.path().extension() == ".txt") fs::copy_file(e.path(), dir / "prompts" / e.path().filename());
  ::setenv("PERSONA_RESUME_KEY", "k", 1);
  test::write_file(dir / "persona.toml",
                   test::fake_provider_toml(server.base_url(), "PERSONA_RESUME_KEY",
                                            "max_concurrency = 1\nprice_input_per_mtok = 1000\n"));
  const auto r = test::run_command(
      persona_cmd("run r.persona -n 40 -o out.jsonl --llm fake --no-cache -q --prompts prompts --budget 0.1"), "",
      dir.string());
  INFO(r.err);
  REQUIRE(r.code == 4);
  REQUIRE(fs::exists(dir / "out.jsonl.part"));
  return dir;
}

test::Outcome resume(const fs::path& dir, const std::string& extra = "") {
  return test::run_command(persona_cmd("run r.persona -n 40 -o out.jsonl --llm fake --no-cache -q --prompts prompts "
                                       "--budget 1000 --resume" +
                                       extra),
                           "", dir.string());
}

}  // namespace

TEST_CASE("a resume after any input changed is refused, naming the input, and finishes when nothing changed") {
  Server server;
  REQUIRE(server.start());
  struct Change {
    const char* what;
    std::function<void(const fs::path&)> apply;
    std::string extra;     // command-line change
    const char* expected;  // in the refusal
  };
  const std::vector<Change> changes = {
      {"a recipe statement",
       [](const fs::path& d) {
         std::string t = test::read_file(d / "r.persona");
         t.replace(t.find("count 12..16"), 12, "count 12..18");
         test::write_file(d / "r.persona", t);
       },
       "", "select attributes was"},
      {"a user table's rows",
       [](const fs::path& d) { test::write_file(d / "regions.csv", kRegions + "Canada,Yukon,1\n"); }, "",
       "table regions changed"},
      {"an imported file",
       [](const fs::path& d) { test::write_file(d / "lib.persona", "distribution adult_age = uniform(21, 60)\n"); }, "",
       "anchor age was `uniform(20, 60), round`, now `uniform(21, 60), round`"},
      {"a prompt template",
       [](const fs::path& d) {
         test::write_file(d / "prompts" / "batch.txt", test::read_file(d / "prompts" / "batch.txt") + "\nBe brief.\n");
       },
       "", "prompts"},
      {"the model", [](const fs::path&) {}, " --model fake-model-large", "fake-model-large"},
      {"the seed", [](const fs::path&) {}, " --seed 6", "seed changed (was 5, now 6)"},
  };
  for (const auto& c : changes) {
    SECTION(c.what) {
      const auto dir = stopped_run(std::string("resume-inputs-") + std::to_string(&c - changes.data()), server);
      c.apply(dir);
      const auto r = resume(dir, c.extra);
      INFO(c.what << ": " << r.err);
      CHECK(r.code != 0);
      CHECK(r.err.find(c.expected) != std::string::npos);
      CHECK(fs::exists(dir / "out.jsonl.part"));  // nothing lost by the refusal
      CHECK_FALSE(fs::exists(dir / "out.jsonl"));
    }
  }
  SECTION("nothing changed") {
    const auto dir = stopped_run("resume-inputs-same", server);
    const auto r = resume(dir);
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(test::read_lines(dir / "out.jsonl").size() == 40);
  }
}

TEST_CASE("persona diff names what differs between two runs and exits 1, 0 for the same run, 2 for a non-manifest") {
  const auto dir = test::scratch_dir("diff-runs");
  test::write_file(dir / "r.persona", kRecipe);
  test::write_file(dir / "lib.persona", kLib);
  test::write_file(dir / "regions.csv", kRegions);
  REQUIRE(test::run_command(persona_cmd("run r.persona -n 3 -o a.jsonl -q"), "", dir.string()).code == 0);
  test::write_file(dir / "regions.csv", kRegions + "Canada,Yukon,1\n");
  REQUIRE(test::run_command(persona_cmd("run r.persona -n 4 -o b.jsonl -q --seed 9"), "", dir.string()).code == 0);
  const auto d = test::run_command(persona_cmd("diff a.jsonl.manifest.json b.jsonl.manifest.json"), "", dir.string());
  INFO(d.out << d.err);
  CHECK(d.code == 1);
  CHECK(d.out.find("table regions changed") != std::string::npos);
  CHECK(d.out.find("seed changed (was 5, now 9)") != std::string::npos);
  CHECK(d.out.find("count changed (was 3, now 4)") != std::string::npos);
  CHECK(d.out.find("personas") != std::string::npos);
  const auto same =
      test::run_command(persona_cmd("diff a.jsonl.manifest.json a.jsonl.manifest.json"), "", dir.string());
  CHECK(same.code == 0);
  CHECK(same.out.find("inputs: the same") != std::string::npos);
  const auto bad = test::run_command(persona_cmd("diff a.jsonl b.jsonl.manifest.json"), "", dir.string());
  CHECK(bad.code == 2);
  CHECK(bad.err.find("a.jsonl: not a JSON object") != std::string::npos);
}
