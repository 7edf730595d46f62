#include <catch2/catch.hpp>
#include <regex>

#include "process.hpp"

using persona::test::run_persona;

TEST_CASE("version and help flags exit 0") {
  auto v = run_persona("--version");
  CHECK(v.code == 0);
  CHECK(v.out.find("persona ") == 0);
  for (const char* cmd : {"", "check ", "fmt ", "run ", "plan ", "taxonomy "}) {
    auto h = run_persona(std::string(cmd) + "--help");
    INFO(cmd);
    CHECK(h.code == 0);
    CHECK(h.out.find("Usage:") != std::string::npos);
  }
}

TEST_CASE("usage errors exit 2") {
  CHECK(run_persona("frobnicate").code == 2);
  CHECK(run_persona("check").code == 2);
  CHECK(run_persona("run examples/quickstart.persona --count notanumber").code == 2);
}

TEST_CASE("check: a broken recipe exits 1 with FILE:LINE:COL diagnostics and a caret") {
  auto o = run_persona("check tests/lang/golden/check-fail-undefined-table.persona");
  CHECK(o.code == 1);
  CHECK(o.err.find("tests/lang/golden/check-fail-undefined-table.persona:2:24: error: undefined table "
                   "'stdlib.countrys'") != std::string::npos);
  CHECK(o.err.find("^~~~") != std::string::npos);
  CHECK(o.err.find("did you mean 'stdlib.countries'?") != std::string::npos);
}

TEST_CASE("check: a missing file is a user error naming the file") {
  auto o = run_persona("check no/such/file.persona");
  CHECK(o.code == 1);
  CHECK(o.err.find("no/such/file.persona") != std::string::npos);
}

TEST_CASE("check: several files, one bad, exits 1 and still checks the others") {
  auto o = run_persona("check examples/quickstart.persona tests/lang/golden/parse-fail-tiers.persona");
  CHECK(o.code == 1);
  CHECK(o.out.find("examples/quickstart.persona: ok") != std::string::npos);
  CHECK(o.err.find("parse-fail-tiers.persona:2:17: error:") != std::string::npos);
}

TEST_CASE("fmt --check fails on an unformatted file and fmt fixes it") {
  const auto dir = persona::test::scratch_dir("cli");
  const auto file = dir / "messy.persona";
  std::ofstream(file) << "recipe   \"m\"\nanchor a=1\n";
  CHECK(run_persona("fmt --check '" + file.string() + "'").code == 1);
  CHECK(run_persona("fmt --write '" + file.string() + "'").code == 0);
  CHECK(persona::test::read_file(file) == "recipe \"m\"\n\nanchor a = 1\n");
  CHECK(run_persona("fmt --check '" + file.string() + "'").code == 0);
}
