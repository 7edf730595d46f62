// Internal to the REPL: the session's state (Session::Impl) and the helpers its files share.
//
//   session.cpp     input lines -> statements or commands; the run loop; the command table
//   statements.cpp  the recipe as a list of statement texts: splitting, composing, checking, committing
//   commands.cpp    :help :show :check :plan :set :save :doc :tax :why :load
//   sample.cpp      :sample / :run with the records kept, :show persona, :values
//   edit.cpp        :edit :undo :redo :reload :diff
//   clauses.cpp     +CLAUSE / -CLAUSE on a block, and the hint for a clause typed alone
//   complete.cpp    tab completion
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "diag/diagnostic.hpp"
#include "diag/source.hpp"
#include "engine/program.hpp"
#include "frontend/frontend.hpp"
#include "record/record.hpp"
#include "repl/explore.hpp"
#include "repl/repl.hpp"
#include "syntax/ast.hpp"

namespace persona::repl {

namespace detail {

inline constexpr const char* kInput = "<repl>";
inline constexpr const char* kPrompt = "persona> ";
inline constexpr const char* kContinue = "     ...> ";

std::string trim(std::string_view s);
bool is_word_char(char c);
// Byte offset of (line, column) in text (both 1-based), and back.
std::size_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column);
std::pair<std::uint32_t, std::uint32_t> position_of(std::string_view text, std::size_t off);
std::string noun(std::size_t n, const char* one, const char* many);
bool parse_u64(std::string_view s, std::uint64_t& v);
// Word-wraps a paragraph to `width` columns, each line indented by `indent` spaces.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width);
// Columns a UTF-8 text takes on a terminal (one per code point).
std::size_t columns_of(std::string_view s);
// `s` cut to at most `width` columns, ending in "..." when cut.
std::string fit(std::string_view s, std::size_t width);
std::vector<std::string> split_lines(std::string_view text);

// Where a line of a statement was written: a line of "<repl>", of a loaded file or of an edit file.
struct Origin {
  std::string file;
  std::uint32_t line = 0;
};

struct Statement {
  std::string kind;            // "anchor", "story", "include", ...
  std::string key;             // identity: "anchor age", "story", "import lib.persona"
  std::string text;            // as written, indented to its column; ends with '\n'
  std::vector<Origin> origin;  // one per line of text
  [[nodiscard]] const std::string& file() const { return origin.front().file; }
  [[nodiscard]] std::uint32_t line() const { return origin.front().line; }
  [[nodiscard]] std::uint32_t lines() const { return static_cast<std::uint32_t>(origin.size()); }
  // The name a key gives ("age" of "anchor age"), or "" for unnamed statements.
  [[nodiscard]] std::string name() const;
};

// A statement whose lines were written one after another from `line` of `file`.
Statement make_statement(std::string kind, std::string key, std::string text, const std::string& file,
                         std::uint32_t line);
// Splits a parsed text into its top-level statements. Own-line comments before a statement go with
// it; comments after the last statement stay with the last one.
std::vector<Statement> split_statements(std::string_view text, const ast::Recipe& r, const std::string& file);
// The statements' texts joined and formatted (what :show prints); "" when there are none.
std::string format_statements(const std::vector<Statement>& list);

struct CommandInfo {
  const char* name;
  const char* args;
  const char* help;
};
const std::vector<CommandInfo>& commands();
std::vector<std::string> command_names();
const std::vector<std::string>& statement_keywords();
const std::vector<std::string>& other_words();
// Block clauses: the first words that start a clause of the attributes block.
const std::vector<std::string>& attribute_clause_words();

// A line diff of two texts in the unified format, with `context` lines around each change; "" when equal.
std::string unified_diff(std::string_view a, std::string_view b, const std::string& a_name, const std::string& b_name,
                         std::size_t context = 2);

}  // namespace detail

// ---------------------------------------------------------------------------------------------

struct Session::Impl {
  using Statement = detail::Statement;

  Options o;
  std::ostream& out;
  std::ostream& err;
  SourceFiles sources;
  std::string input;         // every line read so far: the text of "<repl>"
  std::uint32_t lines = 0;   // lines read so far
  bool input_dirty = false;  // `input` changed since it was registered in `sources`
  std::string pending;       // an incomplete statement
  std::uint32_t pending_line = 0;
  DiagnosticList pending_diags;
  bool pending_in_triple = false;    // the incomplete statement ends inside an open """ string
  std::string entry;                 // the lines of the entry being typed, for the history
  std::vector<std::string> entries;  // complete entries for the history (Session::run drains them)
  std::vector<Statement> stmts;
  std::string base_dir;  // the folder relative paths in the recipe resolve against
  std::uint64_t version = 0;

  struct Checked {
    std::uint64_t version = ~std::uint64_t{0};
    std::optional<frontend::LoadedRecipe> loaded;
    DiagnosticList diags;
  } checked;
  std::map<std::string, std::shared_ptr<const tax::Taxonomy>> taxonomies;
  std::unique_ptr<engine::Program> model;
  // The program ranked by a provider's embeddings (:run with a provider whose persona.toml names an
  // embedding_model), for the recipe version and provider/model it was built for.
  std::unique_ptr<engine::Program> embedded;
  std::uint64_t embedded_version = ~std::uint64_t{0};
  std::string embedded_for;
  std::uint64_t model_version = ~std::uint64_t{0};

  // The file loaded last (:reload, :diff, :save without a file) and whether the recipe changed since.
  std::string loaded_file;
  bool changed_since_load = false;
  // :undo / :redo: the recipe before each change, and what the change was.
  struct Snapshot {
    std::vector<Statement> stmts;
    std::string base_dir, loaded_file;
    bool changed_since_load = false;
    std::string what;
  };
  std::vector<Snapshot> undo_stack, redo_stack;
  // :edit: files written so far, a rejected edit per target (reopened by the next :edit of it), and the
  // texts of accepted edit files (registered again when :reload starts a fresh source cache).
  std::uint32_t edit_count = 0;
  std::string own_edit_dir;  // the temporary folder the session made (removed at the end)
  std::map<std::string, std::string> drafts;
  std::map<std::string, std::string> edit_texts;

  // The personas of the last :sample or :run, read back from the lines the run wrote.
  struct Sample {
    std::vector<record::PersonaRecord> records;
    std::uint64_t requested = 0, built = 0, seed = 0;
    std::uint64_t version = ~std::uint64_t{0};
    bool llm = false;
    bool capped = false;  // more were built than kept
    std::size_t bytes = 0;
  } sample;
  bool sample_hint_shown = false;

  explicit Impl(Options opts);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // ---- output (session.cpp) ----
  struct Arg {
    std::uint32_t line, col, len;
  };
  void print(const Diagnostic& d);
  void print_all(DiagnosticList diags);
  void error_at(std::uint32_t line, std::uint32_t col, std::uint32_t len, std::string msg,
                std::vector<std::string> notes = {});
  void arg_error(const Arg& a, std::string msg, std::vector<std::string> notes = {});
  // Long output: through the terminal's pager when there is one.
  void page(const std::string& text);
  [[nodiscard]] std::size_t width() const;
  void reset_interrupt();
  [[nodiscard]] bool interrupted() const;

  // ---- input (session.cpp) ----
  void record(const std::string& line);
  bool feed(const std::string& raw);
  void statement(std::uint32_t added_line = 0, const std::string& added = {});
  void finish();
  void cancel();
  void end_entry();
  bool command(const std::string& text, std::uint32_t line, std::uint32_t col);

  // ---- the recipe (statements.cpp) ----
  struct Composed {
    std::string name, text;
    std::vector<std::uint32_t> first_line;  // per statement, in the composed text
  };
  [[nodiscard]] Composed compose(const std::vector<Statement>& list) const;
  void remap(Diagnostic& d, const Composed& c, const std::vector<Statement>& list) const;
  struct CheckResult {
    std::optional<frontend::LoadedRecipe> loaded;
    DiagnosticList diags;
  };
  CheckResult check(const std::vector<Statement>& list);
  Checked& current();
  std::shared_ptr<const tax::Taxonomy> taxonomy_for(const lang::Recipe& r, DiagnosticSink& sink);
  std::shared_ptr<const tax::Taxonomy> taxonomy();
  const engine::Program* engine_model();
  std::uint64_t seed();
  std::string llm();
  [[nodiscard]] std::string recipe_text() const;
  // Applies entered statements (replacing those with the same key, else inserting after the last of
  // their kind) if the recipe stays as good as it was; `mine` selects the diagnostics that belong to
  // the entry. With `replace_key`, the first entered statement takes that statement's place (none
  // entered: it is removed). Prints what happened (`what`, or one line per statement); true when
  // applied.
  bool apply(const std::vector<Statement>& entered, const std::function<bool(const Diagnostic&)>& mine,
             const std::string& replace_key = {}, std::string what = {});
  // Makes `next` the recipe (undoable as `what`).
  void commit(std::vector<Statement> next, CheckResult r, std::string what);
  void snapshot(std::string what);
  bool load(const std::string& path, bool reload = false);
  // Forgets cached file contents, taxonomies and programs (files changed on disk).
  void forget_files();

  // ---- commands (commands.cpp) ----
  void help();
  void cmd_load(const std::string& arg, const Arg& a);
  void show(const std::string& arg, const Arg& a);
  void check_cmd();
  void plan();
  void tax(const std::string& arg, const Arg& a);
  void answer(const Answer& ans, const Arg& a, bool paged = false);
  void why_cmd(const std::string& arg, const Arg& a);
  void set(const std::string& arg, const Arg& a);
  void save(const std::string& arg, const Arg& a);
  void doc(const std::string& arg, const Arg& a);
  const Statement* find_statement(std::string_view name) const;

  // ---- personas (sample.cpp) ----
  void sample_cmd(const std::string& arg, const Arg& a, bool with_llm);
  void show_persona(const std::string& arg, const Arg& a);
  void values(const std::string& arg, const Arg& a);
  bool have_sample(const Arg& a);

  // ---- edits (edit.cpp) ----
  std::string editor() const;
  void edit(const std::string& arg, const Arg& a);
  void undo_cmd(bool redo);
  void reload(const Arg& a);
  void diff(const std::string& arg, const Arg& a);

  // ---- block clauses (clauses.cpp) ----
  void clause(const std::string& line, std::uint32_t lineno);
  void clause_hint(Diagnostic& d, std::string_view typed) const;

  // ---- completion (complete.cpp) ----
  std::vector<std::string> recipe_names();
  Completion complete(std::string_view line, std::size_t cursor);
};

}  // namespace persona::repl
