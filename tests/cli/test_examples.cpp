// Every example checks, is formatted, and fmt is a fixed point; the main job runs and is
// reproducible.
#include <catch2/catch.hpp>
#include <filesystem>

#include "process.hpp"

using namespace persona::test;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> examples() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(fs::path(PERSONA_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".persona") out.push_back("examples/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("examples: at least four, each passes persona check") {
  const auto files = examples();
  REQUIRE(files.size() >= 4);
  for (const auto& f : files) {
    auto o = run_persona("check " + f);
    INFO(f << "\n" << o.err);
    CHECK(o.code == 0);
    CHECK(o.err.find("error") == std::string::npos);
  }
}

TEST_CASE("examples: formatted, and fmt output checks and is a fixed point") {
  const auto dir = scratch_dir("cli");
  for (const auto& f : examples()) {
    INFO(f);
    CHECK(run_persona("fmt --check " + f).code == 0);
    auto once = run_persona("fmt " + f);
    REQUIRE(once.code == 0);
    // Formatted text in the example's folder, so relative imports still resolve.
    const auto copy = fs::path(PERSONA_SOURCE_DIR) / "examples" / ("fmt-copy-" + fs::path(f).filename().string());
    std::ofstream(copy) << once.out;
    auto checked = run_persona("check '" + copy.string() + "'");
    auto twice = run_persona("fmt '" + copy.string() + "'");
    fs::remove(copy);
    CHECK(checked.code == 0);
    CHECK(twice.out == once.out);
  }
}

TEST_CASE("main job: the quickstart runs to valid JSONL, identically twice") {
  const auto dir = scratch_dir("cli");
  const auto a = dir / "a.jsonl", b = dir / "b.jsonl";
  auto r1 = run_persona("run examples/quickstart.persona --count 1000 --seed 7 --out '" + a.string() + "'");
  INFO(r1.err);
  REQUIRE(r1.code == 0);
  auto r2 = run_persona("run examples/quickstart.persona --count 1000 --seed 7 --out '" + b.string() + "'");
  REQUIRE(r2.code == 0);
  const std::string ta = read_file(a);
  CHECK(std::count(ta.begin(), ta.end(), '\n') == 1000);
  CHECK(ta == read_file(b));
  CHECK(ta.rfind("{\"id\":", 0) == 0);
}
