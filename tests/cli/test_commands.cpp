// The command line itself: versions, mistyped commands.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "process.hpp"

using persona::test::run_persona;

TEST_CASE("persona --version prints the engine version and the stdlib's version and folder") {
  const auto o = run_persona("--version");
  CHECK(o.code == 0);
  std::ifstream in(std::string(PERSONA_SOURCE_DIR) + "/stdlib/VERSION");
  std::string v;
  std::getline(in, v);
  REQUIRE_FALSE(v.empty());
  CHECK(o.out.starts_with("persona "));
  CHECK(o.out.find("\nstdlib " + v + " (") != std::string::npos);
  CHECK(o.out.find("stdlib)") != std::string::npos);
}

TEST_CASE("persona --version says when PERSONA_STDLIB names a folder that is not a stdlib") {
  ::setenv("PERSONA_STDLIB", "/nonexistent-persona-stdlib", 1);
  const auto o = run_persona("--version");
  ::unsetenv("PERSONA_STDLIB");
  CHECK(o.code == 0);
  CHECK(o.out.find("stdlib: not found at /nonexistent-persona-stdlib") != std::string::npos);
}

TEST_CASE("a mistyped command gets a did-you-mean and the usage exit code") {
  auto o = run_persona("chek examples/quickstart.persona");
  CHECK(o.code == 2);
  CHECK(o.err.find("persona: unknown command 'chek'") != std::string::npos);
  CHECK(o.err.find("did you mean 'check'?") != std::string::npos);
  o = run_persona("taxonomy stat");
  CHECK(o.code == 2);
  CHECK(o.err.find("persona taxonomy: unknown command 'stat'") != std::string::npos);
  CHECK(o.err.find("did you mean 'stats'?") != std::string::npos);
  o = run_persona("xyzzy");
  CHECK(o.code == 2);
  CHECK(o.err.find("did you mean") == std::string::npos);
  CHECK(o.err.find("Run 'persona --help' to list the commands.") != std::string::npos);
}

TEST_CASE("correct commands and their arguments are not mistaken for mistyped commands") {
  auto o = run_persona("check examples/quickstart.persona");
  CHECK(o.code == 0);
  o = run_persona("taxonomy stats");
  CHECK(o.code == 0);
  o = run_persona("_generate bash");
  CHECK(o.code == 0);
  CHECK(o.out.find("complete -o bashdefault -o default -F _persona persona") != std::string::npos);
}
