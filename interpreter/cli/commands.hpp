// The `persona` command line: each command lives in its own cmd_*.cpp and adds itself to the root
// CLI11 app. A command's callback stores its exit code in `code`.
#pragma once

#include <CLI/CLI.hpp>

namespace persona::cli {

// Exit codes of every command.
enum Exit : int {
  ok = 0,
  user_error = 1,
  usage_error = 2,
  runtime_error = 3,
  interrupted = 4,
  threshold_crossed = 5,  // persona eval --fail-on
  damaged_input = 6       // persona eval / report: lines that are not personas were skipped
};

void add_lang_commands(CLI::App& root, int& code);     // check, fmt
void add_run_command(CLI::App& root, int& code);       // run, plan, bench
void add_taxonomy_command(CLI::App& root, int& code);  // taxonomy ...
void add_repl_command(CLI::App& root, int& code);      // repl
void add_survey_command(CLI::App& root, int& code);    // survey
void add_eval_command(CLI::App& root, int& code);      // eval
void add_report_command(CLI::App& root, int& code);    // report
void add_lsp_command(CLI::App& root, int& code);       // lsp
void add_diff_command(CLI::App& root, int& code);      // diff
void add_merge_command(CLI::App& root, int& code);     // merge
void add_generate_command(CLI::App& root, int& code);  // _generate (hidden): man page, completions
// check-personas: the coherence rules applied to a persona file (cmd_check_personas.cpp)
void add_check_personas_command(CLI::App& root, int& code);

// True when stderr is a terminal (colour diagnostics, progress bars).
bool stderr_is_tty();
// The whole command line as typed (shell-quoted where needed), for manifests.
const std::string& invocation();

}  // namespace persona::cli
