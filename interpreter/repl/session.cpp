// The REPL session: input lines -> statements of the current recipe, block clauses, or commands.
//
// The session's input is one source text, "<repl>", that grows by a line at a time, so every
// diagnostic about a typed line points at that line. The current recipe is a list of statement
// texts, each line remembering where it was written (a line of "<repl>", of a loaded file or of an
// :edit file). To check it, the texts are joined into one text and the diagnostics are mapped back
// (statements.cpp).
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "repl/session_impl.hpp"
#include "syntax/parser.hpp"

namespace persona::repl {

using namespace detail;

namespace detail {

const std::vector<CommandInfo>& commands() {
  static const std::vector<CommandInfo> c = {
      {":help", "", "this list"},
      {":load", "FILE", "make the recipe in FILE the current recipe"},
      {":reload", "", "read the file loaded last, and its imports, again"},
      {":show", "[NAME]", "the recipe, or one statement (:show attributes), formatted"},
      {":show persona", "[N] [TEXT]", "persona N of the sample, by category, a page at a time"},
      {":check", "", "check the current recipe and list every problem"},
      {":plan", "", "the plan: steps, dependencies, model calls and tokens per persona"},
      {":sample", "[N] [--json]", "N personas offline, a line each (--json: the JSON lines)"},
      {":run", "[N] [--json]", "the same with the configured LLM backend"},
      {":values", "PATH|NAME", "an attribute's or anchor's values across the sample"},
      {":why", "PATH [persona N]", "why attribute PATH was chosen or not for persona N"},
      {":tax", "ls|show|find PATH", "explore the recipe's taxonomy"},
      {":edit", "[NAME]", "the recipe or one statement in $EDITOR, checked on save"},
      {":undo", "", "take back the last change to the recipe"},
      {":redo", "", "make the change :undo took back again"},
      {":diff", "[FILE]", "the recipe against the file loaded last (or FILE)"},
      {":set", "seed|count|llm|editor VALUE", "change a session setting (:set alone lists them)"},
      {":save", "[FILE]", "write the recipe, formatted, to FILE (default: the file loaded last)"},
      {":doc", "NAME", "documentation of a keyword, stdlib table, story element or command"},
      {":quit", "", "end the session"},
  };
  return c;
}

std::vector<std::string> command_names() {
  std::vector<std::string> v;
  for (const auto& c : commands())
    if (std::string_view(c.name).find(' ') == std::string_view::npos) v.emplace_back(c.name);
  return v;
}

const std::vector<std::string>& statement_keywords() {
  static const std::vector<std::string> k = {"recipe",     "import",       "extends", "taxonomy", "seed",
                                             "table",      "distribution", "anchor",  "story",    "attributes",
                                             "population", "narrative",    "model",   "output"};
  return k;
}

const std::vector<std::string>& other_words() {
  static const std::vector<std::string> k = {
      "version",    "llm",        "from",      "by",     "clamp",        "truncate",     "round",       "and",
      "or",         "not",        "in",        "when",   "prompt",       "as",           "count",       "tiers",
      "near",       "mid",        "far",       "walk",   "prefer",       "include",      "exclude",     "always",
      "batch",      "context",    "tokens",    "words",  "uniform",      "normal",       "lognormal",   "random-bfs",
      "bfs",        "dfs",        "long-tail", "none",   "first-person", "third-person", "temperature", "top_p",
      "max_tokens", "text",       "list",      "number", "path",         "on",           "off",         "stdlib.core",
      "calibrate",  "oversample", "to"};
  return k;
}

const std::vector<std::string>& attribute_clause_words() {
  static const std::vector<std::string> k = {"count",   "tiers",  "walk",  "include",
                                             "exclude", "always", "batch", "context"};
  return k;
}

}  // namespace detail

namespace {

bool starts_statement(std::string_view trimmed_line) {
  std::size_t e = 0;
  while (e < trimmed_line.size() && is_word_char(trimmed_line[e])) ++e;
  const auto& k = statement_keywords();
  return std::find(k.begin(), k.end(), trimmed_line.substr(0, e)) != k.end();
}

std::uint32_t first_error_line(const DiagnosticList& diags) {
  std::uint32_t line = ~std::uint32_t{0};
  for (const auto& d : diags.all())
    if (d.severity == Severity::error && d.where.line > 0) line = std::min(line, d.where.line);
  return line;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Session::Impl::Impl(Options opts) : o(std::move(opts)), out(*o.out), err(o.err != nullptr ? *o.err : *o.out) {}

Session::Impl::~Impl() {
  // The session's own edit folder goes, unless it holds an edit that was not applied.
  std::error_code ec;
  if (!own_edit_dir.empty() && drafts.empty()) std::filesystem::remove_all(own_edit_dir, ec);
}

void Session::Impl::print(const Diagnostic& d) {
  if (input_dirty) {  // registered lazily: a long script would copy its input at every line
    sources.add(kInput, input);
    input_dirty = false;
  }
  err << render(d, &sources, o.color);
}

void Session::Impl::print_all(DiagnosticList diags) {
  diags.sort_by_location();
  for (const auto& d : diags.all()) print(d);
}

void Session::Impl::error_at(std::uint32_t line, std::uint32_t col, std::uint32_t len, std::string msg,
                             std::vector<std::string> notes) {
  Diagnostic d;
  d.where = SourceRange{kInput, line, col, len};
  d.message = std::move(msg);
  d.code = "repl";
  d.notes = std::move(notes);
  print(d);
}

void Session::Impl::arg_error(const Arg& a, std::string msg, std::vector<std::string> notes) {
  error_at(a.line, a.col, a.len, std::move(msg), std::move(notes));
}

void Session::Impl::page(const std::string& text) {
  if (o.pager) {
    out.flush();
    err.flush();
    o.pager(text);
  } else {
    out << text;
  }
}

std::size_t Session::Impl::width() const { return std::max<std::size_t>(40, o.columns ? o.columns() : 80); }

void Session::Impl::reset_interrupt() {
  if (o.interrupt != nullptr) o.interrupt->store(false);
}

bool Session::Impl::interrupted() const { return o.interrupt != nullptr && o.interrupt->load(); }

// ---- input ----

void Session::Impl::record(const std::string& line) {
  input += line;
  input += '\n';
  ++lines;
  input_dirty = true;
}

void Session::Impl::end_entry() {
  while (!entry.empty() && entry.back() == '\n') entry.pop_back();
  if (!entry.empty()) entries.push_back(std::move(entry));
  entry.clear();
}

bool Session::Impl::feed(const std::string& raw) {
  std::string line = raw;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  record(line);
  const std::uint32_t lineno = lines;
  const std::string t = trim(line);
  if (!t.empty() && t[0] == ':') {
    if (!pending.empty()) {
      err << "note: the unfinished statement from line " << pending_line << " was discarded\n";
      pending.clear();
      end_entry();
    }
    entries.push_back(t);
    const std::size_t col = line.find(':');
    return command(line.substr(col), lineno, static_cast<std::uint32_t>(col + 1));
  }
  if (pending.empty()) {
    if (t.empty()) return true;  // blank lines
    if (t[0] == '#') {           // lone comments
      entries.push_back(t);
      return true;
    }
    if (t[0] == '+' || t[0] == '-') {  // a clause added to or removed from a block
      entries.push_back(t);
      clause(line, lineno);
      return true;
    }
    pending_line = lineno;
  }
  const bool continuing = !pending.empty();
  pending += line;
  pending += '\n';
  entry += line;
  entry += '\n';
  statement(continuing ? lineno : 0, line);
  if (pending.empty()) end_entry();
  return true;
}

void Session::Impl::statement(std::uint32_t added_line, const std::string& added) {
  // Inside an open """ string a line without """ cannot finish the statement: no need to parse
  // it all again (a pasted 40,000-line text would cost a parse of the whole text per line).
  if (added_line > 0 && pending_in_triple && added.find("\"\"\"") == std::string::npos) return;
  const std::string padded = std::string(pending_line - 1, '\n') + pending;
  DiagnosticList diags;
  lang::ParseResult pr = lang::parse_recipe(padded, kInput, diags);
  pending_in_triple = false;
  if (pr.incomplete) {
    for (const auto& d : diags.all())
      if (d.message.starts_with("unterminated triple-quoted string")) pending_in_triple = true;
    pending_diags = diags;
    return;
  }
  const std::string typed = trim(pending);
  pending.clear();
  if (!pr.recipe) {
    DiagnosticList hinted;
    for (Diagnostic d : diags.all()) {
      clause_hint(d, typed);
      hinted.report(std::move(d));
    }
    print_all(hinted);
    // The unfinished statement was wrong before this line, which starts a new statement: keep the
    // line (`anchor y ~ uniform(1, 2` then `anchor z = 3`).
    if (added_line > 0 && starts_statement(trim(added)) && first_error_line(diags) < added_line) {
      entry.resize(entry.size() - added.size() - 1);  // the entry so far ends before this line
      end_entry();
      entry = added + '\n';
      pending_line = added_line;
      pending = added;
      pending += '\n';
      statement();
    }
    return;
  }
  std::vector<Statement> entered = split_statements(padded, *pr.recipe, kInput);
  if (entered.empty()) return;
  const std::uint32_t first = entered.front().line();
  const std::uint32_t last = lines;
  apply(entered,
        [&](const Diagnostic& d) { return d.where.file == kInput && d.where.line >= first && d.where.line <= last; });
}

void Session::Impl::finish() {
  if (pending.empty()) return;
  DiagnosticList d = pending_diags;
  if (d.all().empty()) {
    error_at(pending_line, 1, 0, "unfinished statement at the end of the input");
  } else {
    DiagnosticList noted;
    bool first = true;
    for (Diagnostic x : d.all()) {
      if (first)
        x.notes.push_back("the input ended inside the statement that starts at line " + std::to_string(pending_line) +
                          "; it was discarded");
      first = false;
      noted.report(std::move(x));
    }
    print_all(noted);
  }
  pending.clear();
  entry.clear();
}

void Session::Impl::cancel() {
  if (!pending.empty()) err << "note: the unfinished statement from line " << pending_line << " was discarded\n";
  pending.clear();
  entry.clear();
  reset_interrupt();
}

// ---- commands ----

bool Session::Impl::command(const std::string& text, std::uint32_t line, std::uint32_t col) {
  std::size_t e = 1;
  while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e]))) ++e;
  const std::string name = text.substr(0, e);
  std::size_t a = e;
  while (a < text.size() && std::isspace(static_cast<unsigned char>(text[a]))) ++a;
  const std::string arg = trim(text.substr(a));
  const auto arg_col = static_cast<std::uint32_t>(col + a);
  Arg where{line, arg_col, static_cast<std::uint32_t>(arg.size())};
  const auto names = command_names();
  // Unique prefixes work too (:sam -> :sample).
  std::string cmd = name;
  std::vector<std::string> hits;
  if (std::find(names.begin(), names.end(), cmd) == names.end()) {
    for (const auto& n : names)
      if (n.starts_with(name) && name.size() > 1) hits.push_back(n);
    if (hits.size() == 1) cmd = hits.front();
  }
  reset_interrupt();
  if (cmd == ":quit" || cmd == ":q" || cmd == ":exit") return false;
  if (cmd == ":help")
    help();
  else if (cmd == ":load")
    cmd_load(arg, where);
  else if (cmd == ":reload")
    reload(where);
  else if (cmd == ":show")
    show(arg, where);
  else if (cmd == ":check")
    check_cmd();
  else if (cmd == ":plan")
    plan();
  else if (cmd == ":sample")
    sample_cmd(arg, where, false);
  else if (cmd == ":run")
    sample_cmd(arg, where, true);
  else if (cmd == ":values")
    values(arg, where);
  else if (cmd == ":tax")
    tax(arg, where);
  else if (cmd == ":why")
    why_cmd(arg, where);
  else if (cmd == ":edit")
    edit(arg, where);
  else if (cmd == ":undo")
    undo_cmd(false);
  else if (cmd == ":redo")
    undo_cmd(true);
  else if (cmd == ":diff")
    diff(arg, where);
  else if (cmd == ":set")
    set(arg, where);
  else if (cmd == ":save")
    save(arg, where);
  else if (cmd == ":doc")
    doc(arg, where);
  else {
    std::vector<std::string> notes;
    if (hits.size() > 1) {
      std::string list;
      for (const auto& h : hits) list += (list.empty() ? "'" : ", '") + h + "'";
      notes.push_back("did you mean one of " + list + "?");
    } else if (auto best = closest_match(name, names); !best.empty()) {
      notes.push_back("did you mean '" + best + "'?");
    }
    notes.emplace_back("':help' lists the commands");
    error_at(line, col, static_cast<std::uint32_t>(name.size()), "unknown command '" + name + "'", notes);
  }
  reset_interrupt();
  out.flush();
  return true;
}

// ---------------------------------------------------------------------------------------------

Session::Session(Options opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
Session::~Session() = default;

int Session::run(LineReader& reader) {
  while (true) {
    auto line = reader.read_line(prompt());
    if (!line) {
      if (reader.cancelled()) {
        impl_->cancel();
        impl_->err.flush();
        continue;
      }
      finish();
      break;
    }
    // An entry recalled from the history may hold several lines.
    bool go = true;
    std::size_t b = 0;
    while (go) {
      const std::size_t nl = line->find('\n', b);
      go = feed(line->substr(b, nl == std::string::npos ? std::string::npos : nl - b));
      if (nl == std::string::npos) break;
      b = nl + 1;
    }
    for (const auto& e : impl_->entries) reader.remember(e);
    impl_->entries.clear();
    if (!go) break;
  }
  for (const auto& [key, path] : impl_->drafts)
    impl_->err << "note: the edit of " << (key.empty() ? "the recipe" : key) << " that was not applied is kept in "
               << path << "\n";
  impl_->out.flush();
  impl_->err.flush();
  return 0;
}

bool Session::load(const std::string& path) { return impl_->load(path); }
bool Session::feed(const std::string& line) { return impl_->feed(line); }
bool Session::pending() const { return !impl_->pending.empty(); }
void Session::finish() { impl_->finish(); }
std::string Session::prompt() const { return pending() ? kContinue : kPrompt; }
Completion Session::complete(std::string_view line, std::size_t cursor) const { return impl_->complete(line, cursor); }
std::string Session::recipe_text() const { return impl_->recipe_text(); }

// ---------------------------------------------------------------------------------------------

std::optional<std::string> StreamReader::read_line(const std::string& prompt) {
  std::string line;
  if (!std::getline(in_, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (echo_ != nullptr) *echo_ << prompt << line << '\n';
  return line;
}

}  // namespace persona::repl
