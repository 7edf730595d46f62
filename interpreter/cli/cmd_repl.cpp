// persona repl [FILE] [--seed S] [--count N] [--llm NAME] [--echo] [--no-history]
#include <unistd.h>

#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "repl/repl.hpp"

namespace persona::cli {

namespace {

struct ReplArgs {
  std::string file;
  std::optional<std::uint64_t> seed;
  std::uint64_t count = 1;
  std::string llm;
  bool echo = false;
  bool no_history = false;
};

int do_repl(const ReplArgs& a) {
  const bool interactive = ::isatty(STDIN_FILENO) == 1;
  repl::Options o;
  o.out = &std::cout;
  o.err = &std::cerr;
  o.color = stderr_is_tty();
  o.seed = a.seed;
  o.count = a.count;
  o.llm = a.llm;
  if (interactive) {
    // Ctrl-C cancels the line being typed or the running command, not the session.
    o.interrupt = repl::catch_interrupts();
    if (::isatty(STDOUT_FILENO) == 1) {
      o.columns = [] { return repl::terminal_columns(); };
      o.pager = [](const std::string& text) { repl::page_on_terminal(text); };
    }
  }
  repl::Session session(o);
  bool loaded = true;
  if (!a.file.empty()) loaded = session.load(a.file);
  int rc = 0;
  if (interactive) {
    std::cerr << "persona " << PERSONA_VERSION << " repl: type a statement, or :help\n";
    auto reader = repl::make_terminal_reader(
        [&session](std::string_view line, std::size_t cursor) { return session.complete(line, cursor); },
        a.no_history ? std::string() : repl::default_history_file());
    rc = session.run(*reader);
  } else {
    // Scripted: no readline, no history; prompts only with --echo (then with the lines read).
    repl::StreamReader reader(std::cin, a.echo ? &std::cout : nullptr);
    rc = session.run(reader);
  }
  std::cout.flush();
  return rc == 0 && !loaded ? Exit::user_error : rc;
}

}  // namespace

void add_repl_command(CLI::App& root, int& code) {
  auto a = std::make_shared<ReplArgs>();
  CLI::App* repl = root.add_subcommand(
      "repl", "Interactive session: type recipe statements, then :sample, :plan, :why ... (:help lists the commands)");
  repl->add_option("file", a->file, "A recipe to start from");
  repl->add_option("--seed,-s", a->seed, "Session seed (default: the recipe's `seed`, else 0)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  repl->add_option("--count,-n", a->count, "Personas per :sample / :run without N (default 1)")
      ->check(whole_number(0, 100000));
  repl->add_option("--llm", a->llm, "Backend for :run and :plan (default: the recipe's model provider)");
  repl->add_flag("--echo", a->echo, "When input is not a terminal, print each prompt and the line read");
  repl->add_flag("--no-history", a->no_history, "Do not read or write the history file");
  repl->callback([a, &code] { code = do_repl(*a); });
}

}  // namespace persona::cli
