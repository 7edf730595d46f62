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
// make_terminal_reader() gives GNU readline with a persistent history (a statement typed over several
// lines is one entry) and tab completion from Session::complete(). On a terminal, catch_interrupts()
// makes Ctrl-C cancel the line or the running command instead of the process, and
// page_on_terminal() shows long views a screen at a time. The session never prints except to the
// two streams it was given (and the pager).
#pragma once

#include <atomic>
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
  // A complete entry (one statement, possibly several lines joined by '\n', or a command) for the
  // history. A line read back from the history may hold several lines: the session feeds each.
  virtual void remember(const std::string& entry) { (void)entry; }
  // After read_line returned nullopt: true when the user pressed Ctrl-C (the line typed so far is
  // dropped and the session prompts again), false at the end of input.
  [[nodiscard]] virtual bool cancelled() const { return false; }
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
// from and appended to `history_file` (none when empty; entries are stored with timestamps so that a
// multi-line entry reads back as one). With catch_interrupts() active, Ctrl-C cancels the line.
std::unique_ptr<LineReader> make_terminal_reader(Completer complete, std::string history_file);
// $PERSONA_HISTORY, else ~/.persona_history; empty when neither can be determined.
std::string default_history_file();

// From now on SIGINT (Ctrl-C) no longer ends the process: it sets the returned flag (for
// Options::interrupt: a running :sample stops after the persona in progress) and cancels the line
// being read by the terminal reader. For interactive sessions only.
std::atomic<bool>* catch_interrupts();
// Writes text to standard output a screen at a time when it is longer than the terminal: Space or f
// the next page, Enter, j or Down one more line, G the rest, q, Esc or Ctrl-C stops.
void page_on_terminal(const std::string& text);
// The terminal's size (standard output); 80 x 24 when unknown.
std::size_t terminal_columns();
std::size_t terminal_rows();

// ---------------------------------------------------------------------------------------------
// The session

struct Options {
  std::ostream* out = nullptr;        // command output and personas (required)
  std::ostream* err = nullptr;        // diagnostics and notes (default: out)
  bool color = false;                 // ANSI colours in diagnostics
  std::optional<std::uint64_t> seed;  // overrides the recipe's `seed`
  std::uint64_t count = 1;            // personas per :sample / :run without N
  std::string llm;                    // backend for :run and :plan ("" = the recipe's model provider)
  // Columns of the output for views (:show persona, :sample summaries); unset: 80.
  std::function<std::size_t()> columns;
  // Long views go through this (the terminal's pager) when set; else straight to `out`.
  std::function<void(const std::string&)> pager;
  // Set from outside (SIGINT) to stop a running :sample or :run; the session clears it before each
  // command.
  std::atomic<bool>* interrupt = nullptr;
  // The command :edit runs with the file's path ("" = $VISUAL, else $EDITOR, else vi); :set editor.
  std::string editor;
  // Where :edit writes its files ("" = a folder of its own under the system's temporary folder,
  // removed when the session ends).
  std::string edit_dir;
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
  std::string_view name;  // "anchor", "stdlib.countries", ":sample", ...
  std::string_view kind;  // "keyword", "table", "story", "command", "setting", ...
  std::string_view text;  // one paragraph
};
const std::vector<DocEntry>& docs();
const DocEntry* find_doc(std::string_view name);

}  // namespace persona::repl
