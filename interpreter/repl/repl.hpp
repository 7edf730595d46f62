// The interactive REPL of `persona`: lines in -> recipe edits, command output, diagnostics out.
//
//   std::istringstream in(":load examples/quickstart.persona\n:sample 2\n");
//   persona::repl::StreamReader reader(in);
//   persona::repl::Options opts;
//   opts.out = &std::cout;                 // command output and personas
//   opts.err = &std::cerr;                 // diagnostics and notes
//   persona::repl::Session session(opts);
//   int rc = session.run(reader);   // 0 at :quit or end of input
//
// Line editing is behind LineReader: StreamReader reads any std::istream (scripts, tests);
// make_terminal_reader() gives GNU readline with a persistent history and tab completion from
// Session::complete(). The session never prints except to the two streams it was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace persona::repl {

// ---------------------------------------------------------------------------------------------
// Line input

class LineReader {
 public:
  virtual ~LineReader() = default;
  // One line without its newline; nullopt at end of input. `prompt` is "persona> " or the
  // continuation prompt "     ...> ".
  virtual std::optional<std::string> read_line(const std::string& prompt) = 0;
  // A complete entry (one statement, possibly several lines, or a command) for the history.
  virtual void remember(const std::string& entry) { (void)entry; }
};

// Reads lines from a stream. With `echo`, writes each prompt followed by the line read (so a
// transcript shows what was typed); without it, prints nothing.
class StreamReader final : public LineReader {
 public:
  explicit StreamReader(std::istream& in, std::ostream* echo = nullptr) : in_(in), echo_(echo) {}
  std::optional<std::string> read_line(const std::string& prompt) override;

 private:
  std::istream& in_;
  std::ostream* echo_;
};

// Completion: the candidates replace line[start, cursor).
struct Completion {
  std::size_t start = 0;
  std::vector<std::string> candidates;
};
using Completer = std::function<Completion(std::string_view line, std::size_t cursor)>;

// GNU readline on the terminal: line editing, tab completion through `complete`, history loaded
// from and appended to `history_file` (none when empty).
std::unique_ptr<LineReader> make_terminal_reader(Completer complete, std::string history_file);
// $PERSONA_HISTORY, else ~/.persona_history; empty when neither can be determined.
std::string default_history_file();

// ---------------------------------------------------------------------------------------------
// The session

struct Options {
  std::ostream* out = nullptr;  // command output and personas (required)
  std::ostream* err = nullptr;  // diagnostics and notes (default: out)
  bool color = false;           // ANSI colours in diagnostics
  std::optional<std::uint64_t> seed;  // overrides the recipe's `seed`
  std::uint64_t count = 1;            // personas per :sample / :run without N
  std::string llm;                    // backend for :run and :plan ("" = the recipe's model provider)
};

class Session {
 public:
  explicit Session(Options opts);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Reads and handles lines until :quit or end of input. Returns the exit code (0; a statement
  // left incomplete at end of input is reported and still gives 0).
  int run(LineReader& reader);

  // Loads a recipe file as the current recipe (what `persona repl FILE` and :load do). False when
  // it cannot be read or does not parse (diagnostics printed; the current recipe is kept).
  bool load(const std::string& path);

  // Handles one input line. Returns false after :quit.
  bool feed(const std::string& line);
  // True while a statement is incomplete (the continuation prompt is due).
  [[nodiscard]] bool pending() const;
  // Reports the incomplete statement at end of input, if any.
  void finish();

  [[nodiscard]] std::string prompt() const;
  // Tab completion of commands, keywords, names, stdlib tables, taxonomy paths and files.
  [[nodiscard]] Completion complete(std::string_view line, std::size_t cursor) const;

  // The current recipe, formatted (what :show prints).
  [[nodiscard]] std::string recipe_text() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Built-in documentation (:doc): keywords, stdlib tables, story steps and REPL commands.

struct DocEntry {
  std::string_view name;   // "anchor", "stdlib.countries", ":sample", ...
  std::string_view kind;   // "keyword", "table", "story", "command", "setting", ...
  std::string_view text;   // one paragraph
};
const std::vector<DocEntry>& docs();
const DocEntry* find_doc(std::string_view name);

}  // namespace persona::repl
