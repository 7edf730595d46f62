// persona run against crafted inputs (the LLM side: test_hardening.cpp): one output owned by one run (a lock naming the
// holder), an output that would overwrite one of the run's inputs, text that is not UTF-8, draws that overflow, and an
// output never put in place without its manifest.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "files.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kExamples = std::string(PERSONA_SOURCE_DIR) + "/examples";

test::Outcome persona_in(const fs::path& dir, const std::string& args) {
  return test::run_command(std::string("'") + PERSONA_BIN + "' " + args, "", dir.string());
}

fs::path fresh(const std::string& name) {
  const auto d = test::scratch_dir("hardening") / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("a second run on the same --out is refused naming the first run's pid - the first run's file stays whole",
          "[hardening]") {
  const auto dir = fresh("lock");
  const std::string out = (dir / "out.jsonl").string();
  const std::vector<std::string> args = {"run",    kExamples + "/quickstart.persona", "--out", out, "--llm", "offline",
                                         "--quiet"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const pid_t first =
      test::spawn_process(PERSONA_BIN, with({"--count", "200000"}), (dir / "a.out").string(), (dir / "a.err").string());
  // The lock is taken when the output is opened; wait for it (the first run needs 200000 personas).
  for (int i = 0; i < 3000 && !fs::exists(out + ".part"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(fs::exists(out + ".part"));
  const auto second = persona_in(
      dir, "run '" + kExamples + "/quickstart.persona' --count 10 --out '" + out + "' --llm offline --quiet");
  ::kill(first, SIGINT);
  const int first_code = test::wait_exit_code(first);
  CHECK(second.code == 3);
  CHECK(second.err.find("is being written by another persona run (pid " + std::to_string(first) + ",") !=
        std::string::npos);
  CHECK(first_code == 4);
  // The refused run touched nothing: the first run's `.part` holds its first personas, in order.
  const auto lines = test::read_lines(out + ".part");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(i);
    const auto j = nlohmann::json::parse(lines[i], nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["id"] == "quickstart-" + std::string(6 - std::to_string(i).size(), '0') + std::to_string(i));
  }
  // Once the first run ended, the output is free again.
  CHECK(
      persona_in(dir, "run '" + kExamples + "/quickstart.persona' --count 3 --out '" + out + "' --llm offline --quiet")
          .code == 0);
  CHECK(test::read_lines(out).size() == 3);
  CHECK(!fs::exists(out + ".lock"));  // removed by the run that held it
}

TEST_CASE("an output that is one of the run's inputs is refused before anything is written", "[hardening]") {
  const auto dir = fresh("inputs");
  fs::copy(kExamples + "/custom-tables.persona", dir / "recipe.persona");
  fs::create_directories(dir / "data");
  fs::copy(kExamples + "/data/regions.csv", dir / "data/regions.csv");
  fs::create_directories(dir / "sub");
  fs::create_symlink(dir / "recipe.persona", dir / "link.jsonl");
  const std::string recipe = test::read_file(dir / "recipe.persona"), table = test::read_file(dir / "data/regions.csv");
  struct Case {
    std::string out, format, names;
  };
  const std::vector<Case> cases = {
      {"recipe.persona", "jsonl", "recipe"},           // -o recipe.persona
      {"sub/../recipe.persona", "jsonl", "recipe"},    // another spelling of it
      {"link.jsonl", "jsonl", "recipe"},               // a symbolic link to it
      {"data/regions.csv", "jsonl", "table regions"},  // a table file
  };
  for (const auto& c : cases) {
    INFO(c.out);
    const auto o = persona_in(dir, "run recipe.persona --count 2 --llm offline --format " + c.format + " -o " + c.out);
    CHECK(o.code == 3);
    CHECK(o.err.find("is the run's " + c.names) != std::string::npos);
    CHECK(o.err.find("choose another --out") != std::string::npos);
  }
  // The output's manifest would be the recipe.
  fs::copy(dir / "recipe.persona", dir / "r.manifest.json");
  const auto m = persona_in(dir, "run r.manifest.json --count 2 --llm offline -o r");
  CHECK(m.code == 3);
  CHECK(m.err.find("the output r.manifest.json is the run's recipe") != std::string::npos);
  CHECK(test::read_file(dir / "recipe.persona") == recipe);
  CHECK(test::read_file(dir / "data/regions.csv") == table);
  CHECK(!fs::exists(dir / "recipe.persona.part"));
  CHECK(!fs::exists(dir / "r.part"));
}

TEST_CASE("a surrogate escape such as uD800 in a recipe string is a positioned error and nothing is written",
          "[hardening]") {
  const auto dir = fresh("utf8");
  test::write_file(dir / "bad.persona", "recipe \"caf\\uD800\" version \"1\"\nanchor age ~ uniform(18, 65) round\n");
  const auto o = persona_in(dir, "run bad.persona --count 3 --llm offline -o out.jsonl");
  CHECK(o.code == 1);
  CHECK(o.err.find("bad.persona:1:") != std::string::npos);
  CHECK(o.err.find("surrogates") != std::string::npos);
  CHECK(!fs::exists(dir / "out.jsonl"));
  CHECK(!fs::exists(dir / "out.jsonl.part"));
  // Raw bytes that are not UTF-8: the recipe file itself is refused, with its line.
  test::write_file(dir / "raw.persona", "recipe \"t\" version \"1\"\nanchor motto = \"caf\xff\"\n");
  const auto r = persona_in(dir, "run raw.persona --count 3 --llm offline -o raw.jsonl");
  CHECK(r.code == 1);
  CHECK(r.err.find("raw.persona:2") != std::string::npos);
  CHECK(!fs::exists(dir / "raw.jsonl"));
}

TEST_CASE("a table file that is not UTF-8 is a positioned error and nothing is written", "[hardening]") {
  const auto dir = fresh("table-utf8");
  test::write_file(dir / "t.csv", "value,weight\nCaf\xe9,1\nNairobi,1\n");
  test::write_file(dir / "r.persona",
                   "recipe \"t\" version \"1\"\ntable places = \"t.csv\"\nanchor place ~ table places\n");
  const auto o = persona_in(dir, "run r.persona --count 20 --llm offline -o out.jsonl --quiet");
  CHECK(o.code == 1);
  CHECK(o.err.find("t.csv:2:4: error: not valid UTF-8") != std::string::npos);
  CHECK(!fs::exists(dir / "out.jsonl"));
  CHECK(!fs::exists(dir / "out.jsonl.part"));
}

TEST_CASE("a draw that overflows is a recorded persona problem, never a silent null anchor", "[hardening]") {
  const auto dir = fresh("overflow");
  test::write_file(dir / "r.persona",
                   "recipe \"o\" version \"1\"\nanchor big ~ normal(1e308, 1e308)\nattributes {\n  count 3..3\n}\n"
                   "narrative none\n");
  const auto o = persona_in(dir, "run r.persona --count 60 --llm offline -o out.jsonl --quiet");
  REQUIRE(o.code == 0);
  int unset = 0;
  for (const auto& line : test::read_lines(dir / "out.jsonl")) {
    const auto j = nlohmann::json::parse(line);
    INFO(line.substr(0, 200));
    if (!j["anchors"]["big"].is_null()) {
      CHECK(std::isfinite(j["anchors"]["big"].get<double>()));
      continue;
    }
    ++unset;
    REQUIRE(j.contains("problems"));
    CHECK(j["problems"].dump().find("anchor big: the draw overflowed to ") != std::string::npos);
  }
  CHECK(unset > 0);  // about one in five draws of normal(1e308, 1e308) overflows
  // Parameters that overflow for most draws are a checker error instead.
  test::write_file(dir / "huge.persona", "recipe \"h\" version \"1\"\nanchor income ~ lognormal(800, 1)\n");
  const auto h = persona_in(dir, "run huge.persona --count 3 --llm offline -o huge.jsonl");
  CHECK(h.code == 1);
  CHECK(h.err.find("huge.persona:2:") != std::string::npos);
  CHECK(h.err.find("overflows") != std::string::npos);
}

TEST_CASE("an output is never put in place without its manifest", "[hardening]") {
  const auto dir = fresh("manifest-first");
  // The manifest cannot be written (a folder stands at its path): the run fails and the personas
  // stay in `.part`, not at PATH.
  fs::create_directories(dir / "out.jsonl.manifest.json");
  const auto o = persona_in(dir, "run '" + kExamples + "/quickstart.persona' --count 5 --llm offline -o out.jsonl");
  CHECK(o.code == 3);
  CHECK(!fs::exists(dir / "out.jsonl"));
  CHECK(fs::exists(dir / "out.jsonl.part"));
  fs::remove_all(dir / "out.jsonl.manifest.json");
  const auto ok = persona_in(dir, "run '" + kExamples + "/quickstart.persona' --count 5 --llm offline -o out.jsonl");
  CHECK(ok.code == 0);
  CHECK(fs::exists(dir / "out.jsonl"));
  CHECK(fs::exists(dir / "out.jsonl.manifest.json"));
  CHECK(!fs::exists(dir / "out.jsonl.part"));
}
