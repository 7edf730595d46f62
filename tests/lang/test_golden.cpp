// Golden tests, named by expected outcome:
//   parse-fail-*.persona   the rendered syntax diagnostics (.expected)
//   check-fail-*.persona   the rendered checker diagnostics (.expected)
//   check-okay-*.persona   no error; warnings, if any, in .expected
//   fmt-*.persona          the formatted text (.expected), which must be a fixed point
// Run with PERSONA_ACCEPT=1 to rewrite the .expected files after an intended change.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "check/checker.hpp"
#include "diag/source.hpp"
#include "fake_environment.hpp"
#include "format/formatter.hpp"
#include "golden.hpp"
#include "syntax/parser.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

using persona::test::compare_golden;

std::string strip_dir(std::string text, const std::string& dir) {
  const std::string prefix = dir + "/";
  for (std::size_t p = text.find(prefix); p != std::string::npos; p = text.find(prefix, p))
    text.erase(p, prefix.size());
  return text;
}

std::string render_all(const DiagnosticList& diags, const SourceFiles& sources, const std::string& dir) {
  DiagnosticList sorted = diags;
  sorted.sort_by_location();
  std::string out;
  for (const auto& d : sorted.all()) out += render(d, &sources, false);
  return strip_dir(out, dir);
}

std::vector<fs::path> cases(const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(PERSONA_GOLDEN_DIR)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".persona") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("golden: parse-fail") {
  const auto files = cases("parse-fail-");
  REQUIRE(files.size() >= 8);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) {
      SourceFiles sources;
      DiagnosticList diags;
      const std::string& text = sources.add(f.string(), persona::test::read_file(f));
      auto r = lang::parse_recipe(text, f.string(), diags);
      CHECK_FALSE(r.recipe);
      const std::string out = render_all(diags, sources, PERSONA_GOLDEN_DIR);
      CHECK(out.find(f.filename().string() + ":") == 0);
      CHECK(out.find(": error: ") != std::string::npos);
      compare_golden(fs::path(f).replace_extension(".expected"), out);
    }
  }
}

TEST_CASE("golden: check-fail and check-okay") {
  test::FakeEnvironment env;
  for (const char* prefix : {"check-fail-", "check-okay-"}) {
    const bool fail = std::string(prefix) == "check-fail-";
    const auto files = cases(prefix);
    REQUIRE(files.size() >= (fail ? 10u : 2u));
    for (const auto& f : files) {
      DYNAMIC_SECTION(f.filename().string()) {
        SourceFiles sources;
        DiagnosticList diags;
        auto r = lang::check_text(persona::test::read_file(f), f.string(), sources, env, diags);
        CHECK(r.has_value() == !fail);
        const std::string out = render_all(diags, sources, PERSONA_GOLDEN_DIR);
        if (fail) CHECK(out.find(": error: ") != std::string::npos);
        compare_golden(fs::path(f).replace_extension(".expected"), out);
      }
    }
  }
}

TEST_CASE("golden: fmt") {
  const auto files = cases("fmt-");
  REQUIRE(files.size() >= 3);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) {
      DiagnosticList diags;
      auto r = lang::parse_recipe(persona::test::read_file(f), f.string(), diags);
      REQUIRE(r.recipe);
      const std::string once = lang::format_recipe(*r.recipe);
      compare_golden(fs::path(f).replace_extension(".expected"), once);
      DiagnosticList d2;
      auto again = lang::parse_recipe(once, "formatted", d2);
      REQUIRE(again.recipe);
      CHECK(lang::format_recipe(*again.recipe) == once);
      CHECK(again.recipe->comments.size() == r.recipe->comments.size());
    }
  }
}
