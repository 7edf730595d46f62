// persona: generate deep synthetic personas from .persona recipes.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"

namespace persona::cli {
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }
}  // namespace persona::cli

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  using namespace persona::cli;
  CLI::App app{
      "persona: deep synthetic personas from declarative recipes.\n"
      "Write a .persona recipe, check it, look at its plan, and run it offline or against an LLM.",
      "persona"};
  app.set_version_flag("--version", std::string("persona ") + PERSONA_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  int code = Exit::ok;

  // ---- command registration (one line per command file) ----
  add_lang_commands(app, code);
  add_taxonomy_command(app, code);
  add_run_command(app, code);
  add_repl_command(app, code);
  add_eval_command(app, code);
  add_report_command(app, code);
  // ---- end of command registration ----

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? Exit::ok : Exit::usage_error;
  }
  std::cout.flush();
  return code;
}
