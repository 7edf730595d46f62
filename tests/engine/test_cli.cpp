// `persona run` and `persona plan` as a user calls them: exit codes, files, stdout.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "engine_support.hpp"
#include "process.hpp"

using namespace engine_test;

namespace {

int sh(const std::string& args) { return persona::test::run_persona(args).code; }

std::string capture(const std::string& args) {
  const auto o = persona::test::run_persona(args);
  return o.out + o.err;
}

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

}  // namespace

TEST_CASE("cli: run writes the output and the manifest - exit codes", "[engine][cli]") {
  const std::string out = temp_path("cli.jsonl");
  REQUIRE(sh("run " + kQuickstart + " --count 20 --seed 7 --out " + out + " --threads 2") == 0);
  CHECK(read_lines(out).size() == 20);
  CHECK(std::filesystem::exists(out + ".manifest.json"));
  // --out - writes to stdout; the same personas as the file.
  const std::string piped = capture("run " + kQuickstart + " --count 20 --seed 7 --out - -q");
  std::ifstream f(out);
  std::stringstream ss;
  ss << f.rdbuf();
  CHECK(piped == ss.str());
  std::filesystem::remove(out);
  std::filesystem::remove(out + ".manifest.json");

  const std::string bad = temp_path("bad.persona");
  std::ofstream(bad) << "recipe \"x\" version \"1\"\nanchor age ~ table stdlib.nope\n";
  CHECK(sh("run " + bad + " --count 2 --out " + out) == 1);
  const std::string diag = capture("run " + bad + " --count 2 --out " + out);
  CHECK(diag.find(bad + ":2:") != std::string::npos);
  CHECK(diag.find("error:") != std::string::npos);
  std::filesystem::remove(bad);
  CHECK(sh("run " + kQuickstart + " --count 2 --out /nonexistent-dir/x.jsonl") == 3);
  CHECK(sh("run " + kQuickstart + " --count 2 --out " + out + " --shard 3/2") == 2);
  CHECK(sh("run " + kQuickstart + " --count 2") == 2);
  CHECK(sh("run --help") == 0);
  CHECK(sh("plan --help") == 0);
}

TEST_CASE("cli: plan as text and as Graphviz", "[engine][cli]") {
  const std::string text = capture("plan " + kQuickstart);
  CHECK(text.find("anchor country") != std::string::npos);
  CHECK(text.find("fill batch 3") != std::string::npos);  // ceil(250 / batch 84)
  CHECK(text.find("fill batch 4") == std::string::npos);
  CHECK(text.find("backend offline: 0 calls") != std::string::npos);
  const std::string dot = capture("plan " + kQuickstart + " --format dot");
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(sh("plan " + kQuickstart + " --format svg") == 2);
}
