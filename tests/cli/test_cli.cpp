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

TEST_CASE("negative or out-of-range numbers are usage errors that name the option and the range") {
  struct Case {
    std::string args, option, says;
  };
  const std::string q = "run examples/quickstart.persona --out /dev/null ";
  const std::vector<Case> cases = {
      {q + "--count -5", "--count", "from 0 to 18446744073709551615"},
      {q + "--count 18446744073709551616", "--count", "out of range"},
      {q + "--count 1e3", "--count", "decimal digits only"},
      {q + "--count 10 --seed -1", "--seed", "from 0 to 18446744073709551615"},
      {q + "--count 10 --seed 18446744073709551616", "--seed", "out of range"},
      {q + "--count 10 --threads 0", "--threads", "from 1 to 1024"},
      {q + "--count 10 --threads -2", "--threads", "from 1 to 1024"},
      {q + "--count 10 --shard auto --shards -1", "--shards", "from 1 to 1000000"},
      {q + "--count 10 --concurrency 99999999999", "--concurrency", "out of range"},
      {q + "--count 10 --budget nan", "--budget", "finite number"},
      {q + "--count 10 --budget -1", "--budget", "out of range"},
      {"survey x.jsonl -Q q.toml --repeats -1", "--repeats", "from 1 to 100"},
      {"survey x.jsonl -Q q.toml --repeats 101", "--repeats", "out of range"},
      {"survey x.jsonl -Q q.toml --concurrency -4", "--concurrency", "from 0 to 1024"},
      {"survey x.jsonl -Q q.toml --seed -1", "--seed", "from 0 to 18446744073709551615"},
      {"survey x.jsonl -Q q.toml --bootstrap -1", "--bootstrap", "from 0 to 100000"},
      {"survey x.jsonl -Q q.toml --confidence inf", "--confidence", "finite number"},
      {"survey x.jsonl -Q q.toml --temperature -0.5", "--temperature", "out of range"},
      {"eval x.jsonl --sample -1", "--sample", "whole number"},
      {"eval x.jsonl --seed 18446744073709551616", "--seed", "out of range"},
      {"repl --seed -1", "--seed", "whole number"},
      {"taxonomy find sleep --limit -3", "--limit", "whole number"},
      {"check-personas x.jsonl --top -1", "--top", "whole number"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto o = run_persona(c.args);
    CHECK(o.code == 2);
    CHECK(o.err.find(c.option) != std::string::npos);
    CHECK(o.err.find(c.says) != std::string::npos);
  }
  // A bad shard is a usage error as well; nothing was written for any of the above.
  for (const char* shard : {"-1/2", "1/-2", "0/2", "3/2", "1/99999999999"}) {
    INFO(shard);
    const auto o = run_persona(q + "--count 10 --shard " + shard);
    CHECK(o.code == 2);
    CHECK(o.err.find("--shard expects K/N") != std::string::npos);
  }
  // The largest seed is accepted.
  CHECK(run_persona(q + "--count 1 --seed 18446744073709551615 --quiet").code == 0);
}
