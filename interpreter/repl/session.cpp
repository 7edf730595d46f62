// The REPL session: input lines -> statements of the current recipe, or commands.
//
// The session's input is one source text, "<repl>", that grows by a line at a time, so every
// diagnostic about a typed line points at that line. The current recipe is a list of statement
// texts, each remembering where it was written (a line of "<repl>" or of a loaded file). To check
// it, the texts are joined into one text and the diagnostics are mapped back to where each
// statement was written.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "format/formatter.hpp"
#include "frontend/frontend.hpp"
#include "exec/exec.hpp"
#include "llm/cache.hpp"
#include "repl/explore.hpp"
#include "repl/repl.hpp"
#include "syntax/parser.hpp"

namespace persona::repl {

namespace fs = std::filesystem;

namespace {

constexpr const char* kInput = "<repl>";
constexpr const char* kPrompt = "persona> ";
constexpr const char* kContinue = "     ...> ";

struct CommandInfo {
  const char* name;
  const char* args;
  const char* help;
};
const std::vector<CommandInfo>& commands() {
  static const std::vector<CommandInfo> c = {
      {":help", "", "this list"},
      {":load", "FILE", "make the recipe in FILE the current recipe"},
      {":show", "", "print the current recipe, formatted"},
      {":check", "", "check the current recipe and list every problem"},
      {":plan", "", "the plan: steps, dependencies, model calls and tokens per persona"},
      {":sample", "[N]", "N personas offline (seed from :set seed, indices 0..N-1), one JSON line each"},
      {":run", "[N]", "N personas with the configured LLM backend, one JSON line each"},
      {":tax", "ls|show|find PATH", "explore the recipe's taxonomy"},
      {":why", "PATH", "why the attribute PATH was or would be chosen for the first sample persona"},
      {":set", "seed|count|llm VALUE", "change a session setting (:set alone lists them)"},
      {":save", "FILE", "write the current recipe, formatted, to FILE"},
      {":doc", "NAME", "documentation of a keyword, stdlib table, story element or command"},
      {":quit", "", "end the session"},
  };
  return c;
}

std::vector<std::string> command_names() {
  std::vector<std::string> v;
  for (const auto& c : commands()) v.emplace_back(c.name);
  return v;
}

const std::vector<std::string>& statement_keywords() {
  static const std::vector<std::string> k = {"recipe", "import",  "extends",    "taxonomy",  "seed",  "table", "distribution",
                                             "anchor", "story",   "attributes", "narrative", "model", "output"};
  return k;
}

const std::vector<std::string>& other_words() {
  static const std::vector<std::string> k = {
      "version", "llm",     "from",       "by",        "clamp",        "truncate",     "round",        "and",
      "or",      "not",     "in",         "when",      "prompt",       "as",           "count",        "tiers",
      "near",    "mid",     "far",        "walk",      "prefer",       "include",      "exclude",      "batch",
      "context", "tokens",  "words",      "uniform",   "normal",       "lognormal",    "random-bfs",   "bfs",
      "dfs",     "long-tail", "none",     "first-person", "third-person", "temperature", "top_p",      "max_tokens",
      "text",    "list",    "number",     "path",      "on",           "off",          "stdlib.core"};
  return k;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

// Byte offset of (line, column) in text (both 1-based).
std::size_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column) {
  std::size_t off = 0;
  for (std::uint32_t l = 1; l < line && off < text.size(); ++l) {
    const auto nl = text.find('\n', off);
    if (nl == std::string_view::npos) return text.size();
    off = nl + 1;
  }
  return std::min(text.size(), off + (column > 0 ? column - 1 : 0));
}

// (line, column) of a byte offset, 1-based.
std::pair<std::uint32_t, std::uint32_t> position_of(std::string_view text, std::size_t off) {
  std::uint32_t line = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < off && i < text.size(); ++i)
    if (text[i] == '\n') {
      ++line;
      start = i + 1;
    }
  return {line, static_cast<std::uint32_t>(off - start + 1)};
}

bool word_at(std::string_view text, std::size_t off, std::string_view word) {
  if (text.substr(off, word.size()) != word) return false;
  if (off > 0 && is_word_char(text[off - 1])) return false;
  const std::size_t end = off + word.size();
  return end >= text.size() || !is_word_char(text[end]);
}

struct Statement {
  std::string kind;  // "anchor", "story", "include", ...
  std::string key;   // identity: "anchor age", "story", "import lib.persona"
  std::string text;  // as written, indented to its column; ends with '\n'
  std::string file;  // where it was written: "<repl>" or a recipe file
  std::uint32_t line = 1;
  std::uint32_t lines = 1;  // lines of text
};

std::uint32_t count_lines(std::string_view s) {
  return static_cast<std::uint32_t>(std::count(s.begin(), s.end(), '\n'));
}

// Splits a parsed text into its top-level statements. Own-line comments before a statement go
// with it; comments after the last statement stay with the last one.
std::vector<Statement> split_statements(std::string_view text, const ast::Recipe& r, const std::string& file) {
  struct Start {
    std::string kind, key;
    std::size_t off;
  };
  std::vector<Start> starts;
  std::size_t floor = 0;
  for (const auto& [kind, idx] : r.order) {
    SourceRange where;
    std::string key = kind, keyword = kind;
    if (kind == "recipe" && r.header) {
      where = r.header->where;
    } else if (kind == "include" && idx < r.includes.size()) {
      where = r.includes[idx].where;
      keyword = r.includes[idx].extends ? "extends" : "import";
      key = keyword + " " + r.includes[idx].path.value;
    } else if (kind == "taxonomy" && r.taxonomy_where) {
      where = r.taxonomy_where->where;
    } else if (kind == "seed" && r.seed) {
      where = r.seed->where;
    } else if (kind == "table" && idx < r.tables.size()) {
      where = r.tables[idx].where;
      key += " " + r.tables[idx].name.text;
    } else if (kind == "distribution" && idx < r.distributions.size()) {
      where = r.distributions[idx].where;
      key += " " + r.distributions[idx].name.text;
    } else if (kind == "anchor" && idx < r.anchors.size()) {
      where = r.anchors[idx].where;
      key += " " + r.anchors[idx].name.text;
    } else if (kind == "story" && r.story) {
      where = r.story->where;
    } else if (kind == "attributes" && r.attributes) {
      where = r.attributes->where;
    } else if (kind == "narrative" && r.narrative) {
      where = r.narrative->where;
    } else if (kind == "model" && r.model) {
      where = r.model->where;
    } else if (kind == "output" && r.output) {
      where = r.output->where;
    } else {
      continue;
    }
    std::size_t off = offset_of(text, where.line, where.column);
    // The node may point inside its statement (seed points at its number): back up to the keyword.
    if (!word_at(text, off, keyword)) {
      std::size_t k = std::min(off, text.size());
      while (k > floor && !word_at(text, k, keyword)) --k;
      if (word_at(text, k, keyword)) off = k;
    }
    starts.push_back({kind, key, off});
    floor = off + 1;
  }
  std::vector<Statement> out;
  if (starts.empty()) return out;
  std::sort(starts.begin(), starts.end(), [](const Start& a, const Start& b) { return a.off < b.off; });
  // Each statement's text begins at the first own-line comment before its keyword.
  std::vector<std::size_t> begin(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    std::size_t b = starts[i].off;
    const std::size_t limit = i == 0 ? 0 : starts[i - 1].off;
    // Only when the keyword starts its line.
    std::size_t ls = text.rfind('\n', b == 0 ? 0 : b - 1);
    ls = (ls == std::string_view::npos || b == 0) ? 0 : ls + 1;
    if (i == 0) {
      b = 0;
      while (b < text.size() && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
      b = std::min(b, starts[0].off);
      // Back to the start of its line, so the column is kept.
      std::size_t l0 = text.rfind('\n', b == 0 ? 0 : b - 1);
      b = (l0 == std::string_view::npos || b == 0) ? 0 : l0 + 1;
    } else if (trim(text.substr(ls, b - ls)).empty()) {
      b = ls;
      while (b > limit) {
        std::size_t prev_end = b - 1;  // the '\n' ending the previous line
        std::size_t prev_start = text.rfind('\n', prev_end == 0 ? 0 : prev_end - 1);
        prev_start = (prev_start == std::string_view::npos || prev_end == 0) ? 0 : prev_start + 1;
        if (prev_start <= limit) break;
        const std::string l = trim(text.substr(prev_start, prev_end - prev_start));
        if (l.empty() || l[0] != '#') break;
        b = prev_start;
      }
    }
    begin[i] = b;
  }
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t b = begin[i];
    const std::size_t e = i + 1 < starts.size() ? begin[i + 1] : text.size();
    std::string slice(text.substr(b, e - b));
    while (!slice.empty() && std::isspace(static_cast<unsigned char>(slice.back()))) slice.pop_back();
    slice += '\n';
    // A statement that starts in the middle of a line keeps its column.
    const auto [line, col] = position_of(text, b);
    Statement s;
    s.kind = starts[i].kind;
    s.key = starts[i].key;
    s.text = std::string(col - 1, ' ') + slice;
    s.file = file;
    s.line = line;
    s.lines = count_lines(s.text);
    out.push_back(std::move(s));
  }
  return out;
}

// Word-wraps a paragraph, each line indented.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line(indent, ' ');
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t e = text.find(' ', i);
    if (e == std::string_view::npos) e = text.size();
    if (e == i) break;
    const std::string_view word = text.substr(i, e - i);
    if (line.size() > indent && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.assign(indent, ' ');
    }
    if (line.size() > indent) line += ' ';
    line += word;
    i = e;
  }
  if (line.size() > indent) out += line + "\n";
  return out;
}

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

std::string noun(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool parse_u64(std::string_view s, std::uint64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Session::Impl {
  Options o;
  std::ostream& out;
  std::ostream& err;
  SourceFiles sources;
  std::string input;        // every line read so far: the text of "<repl>"
  std::uint32_t lines = 0;  // lines read so far
  bool input_dirty = false;  // `input` changed since it was registered in `sources`
  std::string pending;      // an incomplete statement
  std::uint32_t pending_line = 0;
  DiagnosticList pending_diags;
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
  std::uint64_t model_version = ~std::uint64_t{0};

  explicit Impl(Options opts) : o(std::move(opts)), out(*o.out), err(o.err != nullptr ? *o.err : *o.out) {}

  // ---- output ----
  void print(const Diagnostic& d) {
    if (input_dirty) {  // registered lazily: a long script would copy its input at every line
      sources.add(kInput, input);
      input_dirty = false;
    }
    err << render(d, &sources, o.color);
  }
  void print_all(DiagnosticList diags) {
    diags.sort_by_location();
    for (const auto& d : diags.all()) print(d);
  }
  void error_at(std::uint32_t line, std::uint32_t col, std::uint32_t len, std::string msg,
                std::vector<std::string> notes = {}) {
    Diagnostic d;
    d.where = SourceRange{kInput, line, col, len};
    d.message = std::move(msg);
    d.code = "repl";
    d.notes = std::move(notes);
    print(d);
  }

  // ---- the recipe as one text ----
  struct Composed {
    std::string name, text;
    std::vector<std::uint32_t> first_line;  // per statement, in the composed text
  };
  Composed compose(const std::vector<Statement>& list) const {
    Composed c;
    // Named "repl" so that a recipe without a header gets ids "repl-000000"; relative paths
    // resolve against base_dir.
    c.name = base_dir.empty() ? std::string("repl") : (fs::path(base_dir) / "repl").string();
    std::uint32_t line = 1;
    for (const auto& s : list) {
      c.first_line.push_back(line);
      c.text += s.text;
      line += s.lines;
    }
    return c;
  }
  // Maps a position in the composed text back to where its statement was written.
  void remap(Diagnostic& d, const Composed& c, const std::vector<Statement>& list) const {
    auto map_pos = [&](std::uint32_t line, std::string& file, std::uint32_t& out_line) {
      for (std::size_t i = 0; i < list.size(); ++i)
        if (line >= c.first_line[i] && line < c.first_line[i] + list[i].lines) {
          file = list[i].file;
          out_line = list[i].line + (line - c.first_line[i]);
          return true;
        }
      return false;
    };
    if (d.where.file == c.name && d.where.line > 0) map_pos(d.where.line, d.where.file, d.where.line);
    for (auto& r : d.related)
      if (r.where.file == c.name && r.where.line > 0) map_pos(r.where.line, r.where.file, r.where.line);
  }
  struct CheckResult {
    std::optional<frontend::LoadedRecipe> loaded;
    DiagnosticList diags;
  };
  CheckResult check(const std::vector<Statement>& list) {
    CheckResult r;
    const Composed c = compose(list);
    DiagnosticList raw;
    // The checker alone (the stdlib tables are loaded once per process); the user tables are
    // loaded only for the engine (engine_model), so checking a statement stays cheap.
    auto lib = frontend::stdlib_tables(raw);
    frontend::StdEnvironment env(*lib);
    if (auto recipe = lang::check_text(c.text, c.name, sources, env, raw)) {
      r.loaded.emplace();
      r.loaded->recipe = std::move(*recipe);
    }
    for (Diagnostic d : raw.all()) {
      remap(d, c, list);
      r.diags.report(std::move(d));
    }
    return r;
  }
  Checked& current() {
    if (checked.version != version) {
      CheckResult r = check(stmts);
      checked.version = version;
      checked.loaded = std::move(r.loaded);
      checked.diags = std::move(r.diags);
    }
    return checked;
  }

  std::shared_ptr<const tax::Taxonomy> taxonomy_for(const lang::Recipe& r, DiagnosticSink& sink) {
    const std::string key = (r.taxonomy_is_file ? "file:" : "name:") + r.taxonomy;
    if (auto it = taxonomies.find(key); it != taxonomies.end()) return it->second;
    DiagnosticList diags;
    auto t = engine::load_taxonomy(r, diags);
    for (const auto& d : diags.all())  // warnings (descriptions, depth) are for `persona taxonomy check`
      if (d.severity == Severity::error) sink.report(d);
    if (t) taxonomies.emplace(key, t);
    return t;
  }
  // The taxonomy :tax and completion use: the recipe's when it checks, else stdlib.core.
  std::shared_ptr<const tax::Taxonomy> taxonomy() {
    DiagnosticList diags;
    auto& c = current();
    if (c.loaded) {
      auto t = taxonomy_for(c.loaded->recipe, diags);
      if (t) return t;
    }
    lang::Recipe fallback;
    auto t = taxonomy_for(fallback, diags);
    print_all(diags);
    return t;
  }
  // The program of the current recipe; nullptr (diagnostics printed) when it has errors.
  const engine::Program* engine_model() {
    if (model && model_version == version) return model.get();
    model.reset();
    auto& c = current();
    if (!c.loaded) {
      print_all(c.diags);
      err << "the recipe has errors; fix them first (:check lists them)\n";
      return nullptr;
    }
    DiagnosticList diags;
    const Composed text = compose(stmts);
    DiagnosticList raw;
    auto full = frontend::load_recipe_text(text.text, text.name, sources, raw);  // with the user tables
    for (Diagnostic d : raw.all())
      if (d.severity == Severity::error) {
        remap(d, text, stmts);
        diags.report(std::move(d));
      }
    auto t = full ? taxonomy_for(full->recipe, diags) : nullptr;
    if (t) model = engine::Program::compile(std::move(full->recipe), full->tables, t, diags);
    print_all(diags);
    model_version = version;
    return model.get();
  }
  std::uint64_t seed() {
    if (o.seed) return *o.seed;
    auto& c = current();
    return c.loaded && c.loaded->recipe.seed ? *c.loaded->recipe.seed : 0;
  }
  std::string llm() {
    if (!o.llm.empty()) return o.llm;
    auto& c = current();
    return c.loaded ? c.loaded->recipe.model.provider : std::string("default");
  }

  // ---- input ----
  void record(const std::string& line) {
    input += line;
    input += '\n';
    ++lines;
    input_dirty = true;
  }

  bool feed(const std::string& raw) {
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    record(line);
    const std::uint32_t lineno = lines;
    const std::string t = trim(line);
    if (!t.empty() && t[0] == ':') {
      if (!pending.empty()) {
        err << "note: the unfinished statement from line " << pending_line << " was discarded\n";
        pending.clear();
      }
      const std::size_t col = line.find(':');
      return command(line.substr(col), lineno, static_cast<std::uint32_t>(col + 1));
    }
    if (pending.empty()) {
      if (t.empty() || t[0] == '#') return true;  // blank lines and lone comments
      pending_line = lineno;
    }
    const bool continuing = !pending.empty();
    pending += line;
    pending += '\n';
    statement(continuing ? lineno : 0, line);
    return true;
  }

  // Parses the pending text; `added_line` is the line just added to an unfinished statement (0
  // when the statement starts on it).
  void statement(std::uint32_t added_line = 0, const std::string& added = {}) {
    const std::string padded = std::string(pending_line - 1, '\n') + pending;
    DiagnosticList diags;
    lang::ParseResult pr = lang::parse_recipe(padded, kInput, diags);
    if (pr.incomplete) {
      pending_diags = diags;
      return;
    }
    pending.clear();
    if (!pr.recipe) {
      print_all(diags);
      // The unfinished statement was wrong before this line, which starts a new statement: keep the
      // line (`anchor y ~ uniform(1, 2` then `anchor z = 3`).
      if (added_line > 0 && starts_statement(trim(added)) && first_error_line(diags) < added_line) {
        pending_line = added_line;
        pending = added;
        pending += '\n';
        statement();
      }
      return;
    }
    std::vector<Statement> entered = split_statements(padded, *pr.recipe, kInput);
    if (entered.empty()) return;
    const std::uint32_t first = entered.front().line;
    const std::uint32_t last = lines;
    std::vector<Statement> candidate = stmts;
    std::vector<std::string> done;
    for (auto& s : entered) {
      auto it = std::find_if(candidate.begin(), candidate.end(), [&](const Statement& x) { return x.key == s.key; });
      if (it != candidate.end()) {
        done.push_back("replaced " + s.key);
        *it = std::move(s);
      } else {
        done.push_back("added " + s.key);
        // After the last statement of its kind (anchors stay together), else at the end.
        auto same = std::find_if(candidate.rbegin(), candidate.rend(), [&](const Statement& x) { return x.kind == s.kind; });
        candidate.insert(same == candidate.rend() ? candidate.end() : same.base(), std::move(s));
      }
    }
    const std::size_t errors_before = current().diags.error_count();
    CheckResult r = check(candidate);
    auto in_entry = [&](const Diagnostic& d) {
      return d.where.file == kInput && d.where.line >= first && d.where.line <= last;
    };
    DiagnosticList mine;
    for (const auto& d : r.diags.all())
      if (in_entry(d) && d.code != "missing-header") mine.report(d);
    if (r.diags.error_count() > 0 && (mine.has_errors() || r.diags.error_count() > errors_before)) {
      if (mine.has_errors()) {
        print_all(mine);
      } else {  // the new statement broke others (e.g. a table now used whose file is missing)
        DiagnosticList errors;
        for (const auto& d : r.diags.all())
          if (d.severity == Severity::error) errors.report(d);
        print_all(errors);
      }
      err << "statement not added; the recipe is unchanged\n";
      return;
    }
    print_all(mine);  // warnings
    stmts = std::move(candidate);
    ++version;
    checked.version = version;
    checked.loaded = std::move(r.loaded);
    checked.diags = std::move(r.diags);
    for (const auto& d : done) err << d << "\n";
    if (checked.diags.has_errors())
      err << "the recipe still has " << noun(checked.diags.error_count(), "error", "errors") << " (:check)\n";
  }

  void finish() {
    if (pending.empty()) return;
    DiagnosticList d = pending_diags;
    if (d.all().empty()) {
      error_at(pending_line, 1, 0, "unfinished statement at the end of the input");
    } else {
      DiagnosticList noted;
      bool first = true;
      for (Diagnostic x : d.all()) {
        if (first) x.notes.push_back("the input ended inside the statement that starts at line " +
                                     std::to_string(pending_line) + "; it was discarded");
        first = false;
        noted.report(std::move(x));
      }
      print_all(noted);
    }
    pending.clear();
  }

  bool load(const std::string& path) {
    DiagnosticList diags;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      err << path << ": error: is a directory, not a recipe file\n";
      return false;
    }
    auto text = sources.load(path);
    if (!text) {
      err << path << ": error: cannot read the file\n";
      return false;
    }
    lang::ParseResult pr = lang::parse_recipe(*text, path, diags);
    if (!pr.recipe) {
      print_all(diags);
      err << "not loaded; the recipe is unchanged\n";
      return false;
    }
    const std::string saved_dir = base_dir;
    base_dir = fs::path(path).parent_path().string();
    stmts = split_statements(*text, *pr.recipe, path);
    ++version;
    model.reset();
    auto& c = current();
    print_all(c.diags);
    err << "loaded " << path << ": " << noun(stmts.size(), "statement", "statements");
    if (c.diags.has_errors()) err << ", " << noun(c.diags.error_count(), "error", "errors") << " (:check)";
    err << "\n";
    return true;
  }

  // ---- commands ----
  bool command(const std::string& text, std::uint32_t line, std::uint32_t col) {
    std::size_t e = 1;
    while (e < text.size() && !std::isspace(static_cast<unsigned char>(text[e]))) ++e;
    const std::string name = text.substr(0, e);
    std::size_t a = e;
    while (a < text.size() && std::isspace(static_cast<unsigned char>(text[a]))) ++a;
    const std::string arg = trim(text.substr(a));
    const auto arg_col = static_cast<std::uint32_t>(col + a);
    Arg where{line, arg_col, static_cast<std::uint32_t>(arg.size())};
    const auto names = command_names();
    // Unique prefixes work too (:sa -> :sample).
    std::string cmd = name;
    std::vector<std::string> hits;
    if (std::find(names.begin(), names.end(), cmd) == names.end()) {
      for (const auto& n : names)
        if (n.starts_with(name) && name.size() > 1) hits.push_back(n);
      if (hits.size() == 1) cmd = hits.front();
    }
    if (cmd == ":quit" || cmd == ":q" || cmd == ":exit") return false;
    if (cmd == ":help") help();
    else if (cmd == ":load") cmd_load(arg, where);
    else if (cmd == ":show") show();
    else if (cmd == ":check") check_cmd();
    else if (cmd == ":plan") plan();
    else if (cmd == ":sample") sample(arg, where, false);
    else if (cmd == ":run") sample(arg, where, true);
    else if (cmd == ":tax") tax(arg, where);
    else if (cmd == ":why") why_cmd(arg, where);
    else if (cmd == ":set") set(arg, where);
    else if (cmd == ":save") save(arg, where);
    else if (cmd == ":doc") doc(arg, where);
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
    out.flush();
    return true;
  }

  struct Arg {
    std::uint32_t line, col, len;
  };
  void arg_error(const Arg& a, std::string msg, std::vector<std::string> notes = {}) {
    error_at(a.line, a.col, a.len, std::move(msg), std::move(notes));
  }

  void help() {
    out << "Type recipe statements to build the current recipe (a statement naming an anchor, table or\n"
           "distribution that exists replaces it; a story, attributes, narrative, model, output, taxonomy,\n"
           "seed or recipe statement replaces the previous one), or a command:\n";
    for (const auto& c : commands()) {
      std::string head = std::string(c.name) + (c.args[0] != '\0' ? std::string(" ") + c.args : std::string());
      head.resize(std::max<std::size_t>(head.size() + 2, 30), ' ');
      out << "  " << head << c.help << "\n";
    }
    out << "Tab completes commands, keywords, names and taxonomy paths. ':doc NAME' documents a keyword.\n";
  }

  void cmd_load(const std::string& arg, const Arg& a) {
    if (arg.empty()) return arg_error(a, "':load' needs a file: :load FILE");
    load(arg);
  }

  std::string recipe_text() const {
    if (stmts.empty()) return "";
    std::string joined;
    for (const auto& s : stmts) joined += s.text;
    DiagnosticList diags;
    lang::ParseResult pr = lang::parse_recipe(joined, "<recipe>", diags);
    if (!pr.recipe) return joined;  // cannot happen: every statement parsed on its own
    return lang::format_recipe(*pr.recipe);
  }

  void show() {
    if (stmts.empty()) {
      out << "# (the recipe is empty: type statements, or :load FILE)\n";
      return;
    }
    out << recipe_text();
  }

  void check_cmd() {
    if (stmts.empty()) {
      out << "the recipe is empty: type statements, or :load FILE\n";
      return;
    }
    auto& c = current();
    print_all(c.diags);
    if (!c.loaded) {
      err << "the recipe has " << noun(c.diags.error_count(), "error", "errors") << "\n";
      return;
    }
    const auto& r = c.loaded->recipe;
    out << "ok (" << noun(r.anchors.size(), "anchor", "anchors") << ", " << noun(r.story.size(), "story step", "story steps")
        << ", " << r.attributes.min_count << ".." << r.attributes.max_count << " attributes";
    if (c.diags.warning_count() > 0) out << ", " << noun(c.diags.warning_count(), "warning", "warnings");
    out << ")\n";
  }

  void plan() {
    auto& c = current();
    if (!c.loaded) {
      print_all(c.diags);
      err << "the recipe has errors; fix them first (:check lists them)\n";
      return;
    }
    const engine::Program* m = engine_model();
    if (m == nullptr) return;
    out << m->to_text(llm());
  }

  // :sample and :run: the run executor on the current program, lines to the session's output.
  // :run with an LLM is the event-loop scheduler with one request at a time.
  void sample(const std::string& arg, const Arg& a, bool with_llm) {
    std::uint64_t n = o.count;
    if (!arg.empty() && (!parse_u64(arg, n) || n > 100000))
      return arg_error(a, "expected a number of personas (0..100000), got '" + arg + "'");
    const engine::Program* m = engine_model();
    if (m == nullptr) return;
    std::optional<backend::Llm> llm_backend;
    if (with_llm) {
      // The provider: `:set llm NAME`, else the recipe's model provider when persona.toml
      // configures one; otherwise the offline backend.
      const std::string backend = llm();
      if (backend != "offline") {
        DiagnosticList pd;
        bool is_offline = false;
        const auto& r = current().loaded->recipe;
        backend::ResolveOptions ro;
        ro.llm = o.llm.empty() ? std::string() : backend;
        ro.recipe_dir = base_dir;
        auto setup = backend::resolve(r, ro, pd, is_offline);
        if (setup) {
          llm_backend.emplace(*setup);
        } else if (is_offline) {
          err << "note: no LLM provider is configured (persona.toml); running offline instead of '" << backend << "'\n";
        } else {
          for (const auto& d : pd.all()) err << "error: " << d.message << "\n";
          return;
        }
      }
    }
    if (n == 0) return;
    exec::RunOptions ro;
    ro.count = n;
    ro.seed = seed();
    ro.out = "-";
    ro.manifest = false;
    ro.stream = [this](std::string_view text) { out << text; };
    if (llm_backend) {
      ro.llm = &*llm_backend;
      ro.concurrency = 1;
    }
    const auto res = exec::run(*m, ro);
    if (!res.ok) err << "error: " << (res.interrupted ? res.reason : res.error) << "\n";
  }

  void tax(const std::string& arg, const Arg& a) {
    std::size_t sp = arg.find_first_of(" \t");
    const std::string sub = arg.substr(0, sp);
    const std::string rest = sp == std::string::npos ? std::string() : trim(arg.substr(sp));
    if (sub != "ls" && sub != "show" && sub != "find") {
      std::vector<std::string> notes;
      if (auto best = closest_match(sub, {"ls", "show", "find"}); !best.empty() && !sub.empty())
        notes.push_back("did you mean '" + best + "'?");
      return arg_error(a, sub.empty() ? "':tax' needs ls, show or find" : "unknown ':tax' command '" + sub + "'",
                       notes.empty() ? std::vector<std::string>{"usage: :tax ls [PATH] | :tax show PATH | :tax find TEXT"}
                                     : notes);
    }
    if (sub != "ls" && rest.empty()) return arg_error(a, "':tax " + sub + "' needs a path or text");
    auto t = taxonomy();
    if (!t) return;
    const Answer ans = sub == "ls" ? tax_ls(*t, rest) : sub == "show" ? tax_show(*t, rest) : tax_find(*t, rest);
    answer(ans, Arg{a.line, a.col + static_cast<std::uint32_t>(arg.size() - rest.size()),
                    static_cast<std::uint32_t>(rest.size())});
  }

  void answer(const Answer& ans, const Arg& a) {
    if (!ans.ok()) return arg_error(a, ans.error, ans.notes);
    out << ans.text;
  }

  void why_cmd(const std::string& arg, const Arg& a) {
    if (arg.empty()) return arg_error(a, "':why' needs a taxonomy path: :why PATH");
    const engine::Program* m = engine_model();
    if (m == nullptr) return;
    answer(why(*m, seed(), arg), a);
  }

  void set(const std::string& arg, const Arg& a) {
    std::size_t sp = arg.find_first_of(" \t");
    const std::string key = arg.substr(0, sp);
    const std::string value = sp == std::string::npos ? std::string() : trim(arg.substr(sp));
    if (key.empty()) {
      auto& c = current();
      out << "seed  " << seed()
          << (o.seed ? "" : (c.loaded && c.loaded->recipe.seed ? "  (the recipe's)" : "  (default)")) << "\n";
      out << "count " << o.count << "\n";
      out << "llm   " << llm() << (o.llm.empty() ? "  (the recipe's model provider)" : "") << "\n";
      return;
    }
    if (key != "seed" && key != "count" && key != "llm") {
      std::vector<std::string> notes;
      if (auto best = closest_match(key, {"seed", "count", "llm"}); !best.empty())
        notes.push_back("did you mean '" + best + "'?");
      notes.emplace_back("settings: seed, count, llm");
      return arg_error(a, "unknown setting '" + key + "'", notes);
    }
    if (value.empty()) return arg_error(a, "':set " + key + "' needs a value");
    if (key == "llm") {
      o.llm = value;
    } else {
      std::uint64_t v = 0;
      if (!parse_u64(value, v) || (key == "count" && v > 100000))
        return arg_error(a, "':set " + key + "' needs a non-negative integer, got '" + value + "'");
      if (key == "seed") o.seed = v;
      else o.count = v;
    }
    err << key << " = " << value << "\n";
  }

  void save(const std::string& arg, const Arg& a) {
    if (arg.empty()) return arg_error(a, "':save' needs a file: :save FILE");
    const std::string text = recipe_text();
    {
      std::ofstream f(arg, std::ios::binary);
      f << text;
      if (!f) return arg_error(a, "cannot write '" + arg + "'");
    }
    err << "saved " << noun(stmts.size(), "statement", "statements") << " to " << arg << "\n";
  }

  void doc(const std::string& arg, const Arg& a) {
    if (arg.empty()) {
      std::map<std::string, std::vector<std::string>> by_kind;
      for (const auto& d : docs()) by_kind[std::string(d.kind)].emplace_back(d.name);
      out << "':doc NAME' documents:\n";
      for (const auto& [kind, names] : by_kind) {
        std::string line = "  " + kind + ":";
        for (const auto& n : names) {
          if (line.size() + n.size() + 1 > 98) {
            out << line << "\n";
            line = "     ";
          }
          line += " " + n;
        }
        out << line << "\n";
      }
      return;
    }
    if (const DocEntry* d = find_doc(arg)) {
      out << d->name << " (" << d->kind << ")\n" << wrap(d->text, 2, 98);
      return;
    }
    // A name of the current recipe: its statement.
    for (const auto& s : stmts) {
      const auto sp = s.key.find(' ');
      if (sp != std::string::npos && s.key.substr(sp + 1) == arg) {
        out << s.key << " (" << (s.file == kInput ? std::string("typed at line ") : s.file + ":") << s.line << ")\n"
            << trim(s.text) << "\n";
        return;
      }
    }
    auto& c = current();
    if (c.loaded)
      for (const auto& st : c.loaded->recipe.story)
        if (st.output == arg) {
          out << "story step " << st.output << ": llm \"" << st.instruction << "\"";
          if (!st.inputs.empty()) {
            out << " from ";
            for (std::size_t i = 0; i < st.inputs.size(); ++i) out << (i ? ", " : "") << st.inputs[i];
          }
          out << "\n";
          return;
        }
    std::vector<std::string> names;
    for (const auto& d : docs()) names.emplace_back(d.name);
    std::vector<std::string> notes;
    if (auto best = closest_match(arg, names); !best.empty()) notes.push_back("did you mean '" + best + "'?");
    notes.emplace_back("':doc' lists the topics");
    arg_error(a, "no documentation for '" + arg + "'", notes);
  }

  // ---- completion ----
  std::vector<std::string> recipe_names() {
    std::vector<std::string> v;
    for (const auto& s : stmts)
      if (auto sp = s.key.find(' '); sp != std::string::npos && s.kind != "include") v.push_back(s.key.substr(sp + 1));
    auto& c = current();
    DiagnosticList ignored;
    const auto stdlib = frontend::stdlib_tables(ignored);
    if (c.loaded && stdlib) {
      for (const auto& st : c.loaded->recipe.story) v.push_back(st.output);
      for (const auto& an : c.loaded->recipe.anchors) v.push_back(an.name);
      for (const auto& an : c.loaded->recipe.anchors)
        if (const tables::Table* t = stdlib->find(an.source.table))
          for (auto& f : t->derived_facts()) v.push_back(std::move(f));
    }
    return v;
  }

  Completion complete(std::string_view line, std::size_t cursor) {
    Completion c;
    cursor = std::min(cursor, line.size());
    const std::string_view head = line.substr(0, cursor);
    auto finish_with = [&](std::size_t start, std::vector<std::string> pool) {
      const std::string_view word = head.substr(start);
      c.start = start;
      for (auto& p : pool)
        if (std::string_view(p).starts_with(word)) c.candidates.push_back(std::move(p));
      std::sort(c.candidates.begin(), c.candidates.end());
      c.candidates.erase(std::unique(c.candidates.begin(), c.candidates.end()), c.candidates.end());
      return c;
    };
    auto tax_paths = [&](std::size_t start) {
      c.start = start;
      if (auto t = taxonomy()) c.candidates = complete_path(*t, head.substr(start));
      return c;
    };
    auto files = [&](std::size_t start) {
      const std::string word(head.substr(start));
      const auto slash = word.rfind('/');
      const std::string dir = slash == std::string::npos ? std::string() : word.substr(0, slash + 1);
      std::vector<std::string> pool;
      std::error_code ec;
      for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string n = dir + it->path().filename().string();
        if (it->is_directory(ec)) n += '/';
        pool.push_back(std::move(n));
      }
      return finish_with(start, std::move(pool));
    };
    std::size_t lead = 0;
    while (lead < head.size() && std::isspace(static_cast<unsigned char>(head[lead]))) ++lead;
    if (pending.empty() && lead < head.size() && head[lead] == ':') {
      std::size_t e = lead;
      while (e < head.size() && !std::isspace(static_cast<unsigned char>(head[e]))) ++e;
      if (e == head.size()) return finish_with(lead, command_names());
      const std::string cmd(head.substr(lead, e - lead));
      std::size_t a = e;
      while (a < head.size() && std::isspace(static_cast<unsigned char>(head[a]))) ++a;
      if (cmd == ":load" || cmd == ":save") return files(a);
      if (cmd == ":why") return tax_paths(a);
      if (cmd == ":set") {
        if (head.find_first_of(" \t", a) == std::string_view::npos) return finish_with(a, {"seed", "count", "llm"});
        return c;
      }
      if (cmd == ":doc") {
        std::vector<std::string> pool;
        for (const auto& d : docs()) pool.emplace_back(d.name);
        for (auto& n : recipe_names()) pool.push_back(std::move(n));
        return finish_with(a, std::move(pool));
      }
      if (cmd == ":tax") {
        const std::size_t sp = head.find_first_of(" \t", a);
        if (sp == std::string_view::npos) return finish_with(a, {"ls", "show", "find"});
        std::size_t b = sp;
        while (b < head.size() && std::isspace(static_cast<unsigned char>(head[b]))) ++b;
        return tax_paths(b);
      }
      return c;
    }
    // Inside a string: taxonomy paths in include/exclude, else files.
    bool in_string = false;
    std::size_t quote = 0;
    for (std::size_t i = 0; i < head.size(); ++i) {
      if (head[i] == '\\' && in_string) {
        ++i;
      } else if (head[i] == '"') {
        in_string = !in_string;
        quote = i;
      } else if (head[i] == '#' && !in_string) {
        return c;  // a comment
      }
    }
    if (in_string) {
      const std::string_view before = head.substr(0, quote);
      if (before.find("include") != std::string_view::npos || before.find("exclude") != std::string_view::npos)
        return tax_paths(quote + 1);
      if (before.find("llm") != std::string_view::npos || before.find("prompt") != std::string_view::npos) return c;
      return files(quote + 1);
    }
    std::size_t s = head.size();
    while (s > 0 && is_word_char(head[s - 1])) --s;
    std::vector<std::string> pool = statement_keywords();
    for (const auto& w : other_words()) pool.push_back(w);
    for (auto& n : recipe_names()) pool.push_back(std::move(n));
    for (const auto& d : docs())
      if (d.kind == "table") pool.emplace_back(d.name);
    return finish_with(s, std::move(pool));
  }
};

// ---------------------------------------------------------------------------------------------

Session::Session(Options opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
Session::~Session() = default;

int Session::run(LineReader& reader) {
  while (true) {
    auto line = reader.read_line(prompt());
    if (!line) {
      finish();
      break;
    }
    if (!trim(*line).empty()) reader.remember(*line);
    if (!feed(*line)) break;
  }
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
