// The `persona` command line: each command lives in its own cmd_*.cpp and adds itself to the root
// CLI11 app. A command's callback stores its exit code in `code`.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

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

// SIGINT / SIGTERM for the long commands (persona run, persona survey; defined in cmd_run.cpp):
// catch_stop_signals() installs handlers (and unblocks the signals) so that the first signal sets
// g_stop (stop cleanly: whole results kept, exit 4, resumable) and a second exits at once with 4.
extern std::atomic<bool> g_stop;
void catch_stop_signals();

void add_lang_commands(CLI::App& root, int& code);     // check, fmt
void add_run_command(CLI::App& root, int& code);       // run, plan, bench
void add_taxonomy_command(CLI::App& root, int& code);  // taxonomy ...
void add_taxonomy_mining(CLI::App* tax, int& code);    // taxonomy mine, taxonomy merge (cmd_mine.cpp)
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

// Numeric options: CLI11 alone reads "-5" into an unsigned option as 2^64-5 and saturates
// "18446744073709551616" to 2^64-1. These validators see the text first: a whole number is decimal
// digits only, from lo to hi; a number is finite and from lo to hi. Anything else is a usage error
// (exit 2) naming the option, the range and what was given.
inline CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
  return {[lo, hi, range](std::string& s) -> std::string {
            std::uint64_t v = 0;
            const char* b = s.data();
            const char* e = b + s.size();
            const auto r = std::from_chars(b, e, v);
            if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && r.ptr == e && (v < lo || v > hi)))
              return "expects a whole number from " + range + ", got '" + s + "' (out of range)";
            if (s.empty() || r.ec != std::errc() || r.ptr != e)
              return "expects a whole number from " + range + " (decimal digits only), got '" + s + "'";
            return {};
          },
          "INT in [" + range + "]"};
}
inline CLI::Validator finite_number(double lo, double hi) {
  auto show = [](double d) {
    std::string t = std::to_string(d);
    while (t.find('.') != std::string::npos && (t.back() == '0' || t.back() == '.')) t.pop_back();
    return t;
  };
  const std::string range = show(lo) + " to " + show(hi);
  return {[lo, hi, range](std::string& s) -> std::string {
            double v = 0;
            std::size_t used = 0;
            try {
              v = std::stod(s, &used);
            } catch (...) {
              used = 0;
            }
            if (s.empty() || used != s.size() || !std::isfinite(v))
              return "expects a finite number from " + range + ", got '" + s + "'";
            if (v < lo || v > hi) return "expects a number from " + range + ", got '" + s + "' (out of range)";
            return {};
          },
          "NUMBER in [" + range + "]"};
}

// True when stderr is a terminal (colour diagnostics, progress bars).
bool stderr_is_tty();
// The whole command line as typed (shell-quoted where needed), for manifests.
const std::string& invocation();

}  // namespace persona::cli
