// persona: generate deep synthetic personas from .persona recipes.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>

#include "cli/commands.hpp"
#include "diag/diagnostic.hpp"
#include "util/stdlib_path.hpp"

namespace persona::cli {
namespace {
std::string g_invocation;
}  // namespace
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }
const std::string& invocation() { return g_invocation; }

namespace {

// `persona --version`: the engine, and the standard library in use with its version.
std::string version_text() {
  const auto dir = stdlib_dir();
  const std::string v = stdlib_version(dir);
  std::string s = std::string("persona ") + PERSONA_VERSION + "\n";
  if (v.empty())
    s += "stdlib: not found at " + dir.string() + " (set PERSONA_STDLIB to its folder)";
  else
    s += "stdlib " + v + " (" + dir.string() + ")";
  return s;
}

// A mistyped command word (`persona chek`, `persona taxonomy stat`) gets a "did you mean" and exit
// code 2, instead of CLI11's "A subcommand is required". Returns -1 when the words are commands.
int unknown_command(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  std::string path = "persona";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word.front() == '-') return -1;  // options are CLI11's to judge
    const auto all = level->get_subcommands([](const CLI::App*) { return true; });
    if (all.empty()) return -1;
    const CLI::App* next = nullptr;
    std::vector<std::string> names;
    for (const CLI::App* s : all) {
      if (s->check_name(word)) next = s;
      if (!s->get_group().empty()) names.push_back(s->get_name());
    }
    if (next != nullptr) {
      level = next;
      path += " " + next->get_name();
      continue;
    }
    if (level->get_require_subcommand_min() == 0) return -1;  // a positional argument
    std::cerr << path << ": unknown command '" << word << "'\n";
    if (const std::string best = closest_match(word, names); !best.empty())
      std::cerr << "  note: did you mean '" << best << "'?\n";
    std::cerr << "Run '" << path << " --help' to list the commands.\n";
    return Exit::usage_error;
  }
  return -1;
}

}  // namespace
}  // namespace persona::cli

namespace {

// Shell quoting: plain words as they are, anything else in single quotes.
std::string quote(const std::string& a) {
  const bool plain = !a.empty() && a.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                       "-_./=:,+@%") == std::string::npos;
  if (plain) return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  using namespace persona::cli;
  g_invocation = "persona";
  for (int i = 1; i < argc; ++i) g_invocation += " " + quote(argv[i]);
  CLI::App app{
      "persona: deep synthetic personas from declarative recipes.\n"
      "Write a .persona recipe, check it, look at its plan, and run it offline or against an LLM.",
      "persona"};
  app.set_version_flag("--version", version_text, "Print the engine and stdlib versions and exit");
  app.require_subcommand(1);
  app.fallthrough(false);
  int code = Exit::ok;

  // ---- command registration (one line per command file) ----
  add_lang_commands(app, code);
  add_taxonomy_command(app, code);
  add_run_command(app, code);
  add_repl_command(app, code);
  add_survey_command(app, code);
  add_eval_command(app, code);
  add_report_command(app, code);
  add_diff_command(app, code);
  add_merge_command(app, code);
  add_check_personas_command(app, code);
  add_lsp_command(app, code);
  add_generate_command(app, code);
  // ---- end of command registration ----

  if (const int rc = unknown_command(app, argc, argv); rc >= 0) return rc;

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? Exit::ok : Exit::usage_error;
  }
  std::cout.flush();
  return code;
}
