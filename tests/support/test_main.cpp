// One Catch2 main for every test program. A run in which no test case matched the filter fails
// (exit 2) rather than passing: CTest runs each test case by name, and a name CTest cannot pass
// through intact must never turn into a silent pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  auto& config = session.configData();
  config.warnings = static_cast<Catch::WarnAbout::What>(config.warnings | Catch::WarnAbout::NoTests);
  return session.run();
}
