// The current recipe as a list of statement texts: splitting a text into statements, composing them
// into one text to check, mapping diagnostics back to where each line was written, applying typed
// statements, and the undo history of every change.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>

#include "base/text.hpp"
#include "check/checker.hpp"
#include "format/formatter.hpp"
#include "repl/session_impl.hpp"
#include "syntax/parser.hpp"

namespace persona::repl {

namespace fs = std::filesystem;

namespace detail {

std::string trim(std::string_view s) { return std::string(text::trim(s)); }

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; }

std::size_t offset_of(std::string_view text, std::uint32_t line, std::uint32_t column) {
  std::size_t off = 0;
  for (std::uint32_t l = 1; l < line && off < text.size(); ++l) {
    const auto nl = text.find('\n', off);
    if (nl == std::string_view::npos) return text.size();
    off = nl + 1;
  }
  return std::min(text.size(), off + (column > 0 ? column - 1 : 0));
}

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

std::string noun(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool parse_u64(std::string_view s, std::uint64_t& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::size_t columns_of(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string fit(std::string_view s, std::size_t width) {
  if (columns_of(s) <= width) return std::string(s);
  if (width <= 3) return std::string(width, '.');
  std::string out;
  std::size_t cols = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool starts = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (starts && cols == width - 3) break;
    if (starts) ++cols;
    out += s[i];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "...";
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> v;
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find('\n', b);
    if (e == std::string_view::npos) e = text.size();
    v.emplace_back(text.substr(b, e - b));
    b = e + 1;
  }
  return v;
}

std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  const std::size_t room = width > indent + 1 ? width - indent : 1;
  std::string out, line(indent, ' ');
  std::size_t cols = indent;
  auto flush = [&] {
    out += line + "\n";
    line.assign(indent, ' ');
    cols = indent;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    std::size_t e = text.find_first_of(" \n", i);
    if (e == std::string_view::npos) e = text.size();
    if (e == i) break;
    std::string_view word = text.substr(i, e - i);
    i = e;
    // A word longer than a line is cut into pieces that fit.
    while (!word.empty()) {
      std::string_view piece = word;
      if (columns_of(word) > room) {
        std::size_t b = 0, n = 0;
        while (b < word.size() && n < room) {
          ++b;
          while (b < word.size() && (static_cast<unsigned char>(word[b]) & 0xC0) == 0x80) ++b;
          ++n;
        }
        piece = word.substr(0, b);
      }
      word.remove_prefix(piece.size());
      const std::size_t w = columns_of(piece);
      if (cols > indent && cols + 1 + w > width) flush();
      if (cols > indent) {
        line += ' ';
        ++cols;
      }
      line += piece;
      cols += w;
    }
  }
  if (cols > indent) out += line + "\n";
  return out;
}

std::string Statement::name() const {
  const auto sp = key.find(' ');
  return sp == std::string::npos || kind == "include" ? std::string() : key.substr(sp + 1);
}

Statement make_statement(std::string kind, std::string key, std::string text, const std::string& file,
                         std::uint32_t line) {
  Statement s;
  s.kind = std::move(kind);
  s.key = std::move(key);
  s.text = std::move(text);
  const auto n = std::max<std::size_t>(1, static_cast<std::size_t>(std::count(s.text.begin(), s.text.end(), '\n')));
  for (std::size_t i = 0; i < n; ++i) s.origin.push_back(Origin{file, line + static_cast<std::uint32_t>(i)});
  return s;
}

namespace {

bool word_at(std::string_view text, std::size_t off, std::string_view word) {
  if (text.substr(off, word.size()) != word) return false;
  if (off > 0 && is_word_char(text[off - 1])) return false;
  const std::size_t end = off + word.size();
  return end >= text.size() || !is_word_char(text[end]);
}

}  // namespace

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
    out.push_back(make_statement(starts[i].kind, starts[i].key, std::string(col - 1, ' ') + slice, file, line));
  }
  return out;
}

std::string format_statements(const std::vector<Statement>& list) {
  if (list.empty()) return "";
  std::string joined;
  for (const auto& s : list) joined += s.text;
  DiagnosticList diags;
  lang::ParseResult pr = lang::parse_recipe(joined, "<recipe>", diags);
  if (!pr.recipe) return joined;  // cannot happen: every statement parsed on its own
  return lang::format_recipe(*pr.recipe);
}

}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------------------------------------

Session::Impl::Composed Session::Impl::compose(const std::vector<Statement>& list) const {
  Composed c;
  // Named "repl" so that a recipe without a header gets ids "repl-000000"; relative paths
  // resolve against base_dir.
  c.name = base_dir.empty() ? std::string("repl") : (fs::path(base_dir) / "repl").string();
  std::uint32_t line = 1;
  for (const auto& s : list) {
    c.first_line.push_back(line);
    c.text += s.text;
    line += s.lines();
  }
  return c;
}

void Session::Impl::remap(Diagnostic& d, const Composed& c, const std::vector<Statement>& list) const {
  auto map_pos = [&](std::uint32_t line, std::string& file, std::uint32_t& out_line) {
    for (std::size_t i = 0; i < list.size(); ++i)
      if (line >= c.first_line[i] && line < c.first_line[i] + list[i].lines()) {
        const Origin& at = list[i].origin[line - c.first_line[i]];
        file = at.file;
        out_line = at.line;
        return true;
      }
    return false;
  };
  if (d.where.file == c.name && d.where.line > 0) map_pos(d.where.line, d.where.file, d.where.line);
  for (auto& r : d.related)
    if (r.where.file == c.name && r.where.line > 0) map_pos(r.where.line, r.where.file, r.where.line);
}

Session::Impl::CheckResult Session::Impl::check(const std::vector<Statement>& list) {
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

Session::Impl::Checked& Session::Impl::current() {
  if (checked.version != version) {
    CheckResult r = check(stmts);
    checked.version = version;
    checked.loaded = std::move(r.loaded);
    checked.diags = std::move(r.diags);
  }
  return checked;
}

std::shared_ptr<const tax::Taxonomy> Session::Impl::taxonomy_for(const lang::Recipe& r, DiagnosticSink& sink) {
  const std::string key = (r.taxonomy_is_file ? "file:" : "name:") + r.taxonomy;
  if (auto it = taxonomies.find(key); it != taxonomies.end()) return it->second;
  DiagnosticList diags;
  auto t = engine::load_taxonomy(r, diags);
  for (const auto& d : diags.all())  // warnings (descriptions, depth) are for `persona taxonomy check`
    if (d.severity == Severity::error) sink.report(d);
  if (t) taxonomies.emplace(key, t);
  return t;
}

std::shared_ptr<const tax::Taxonomy> Session::Impl::taxonomy() {
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

const engine::Program* Session::Impl::engine_model() {
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

std::uint64_t Session::Impl::seed() {
  if (o.seed) return *o.seed;
  auto& c = current();
  return c.loaded && c.loaded->recipe.seed ? *c.loaded->recipe.seed : 0;
}

std::string Session::Impl::llm() {
  if (!o.llm.empty()) return o.llm;
  auto& c = current();
  return c.loaded ? c.loaded->recipe.model.provider : std::string("default");
}

std::string Session::Impl::recipe_text() const { return format_statements(stmts); }

bool Session::Impl::apply(const std::vector<Statement>& entered, const std::function<bool(const Diagnostic&)>& mine_of,
                          const std::string& replace_key, std::string what) {
  std::vector<Statement> candidate = stmts;
  std::vector<std::string> done;
  std::size_t first = 0;
  if (!replace_key.empty()) {
    auto at = [&] {
      return std::find_if(candidate.begin(), candidate.end(), [&](const Statement& x) { return x.key == replace_key; });
    };
    if (auto it = at(); it != candidate.end()) {
      if (entered.empty()) {
        candidate.erase(it);
        done.push_back("removed " + replace_key);
      } else {
        // The first entered statement takes the place of the one edited (another of its key goes).
        const Statement& s = entered.front();
        if (s.key != replace_key) {
          std::erase_if(candidate, [&](const Statement& x) { return x.key == s.key; });
          done.push_back("replaced " + replace_key + " with " + s.key);
        } else {
          done.push_back("replaced " + s.key);
        }
        *at() = s;
        first = 1;
      }
    }
  }
  for (std::size_t i = first; i < entered.size(); ++i) {
    const Statement& s = entered[i];
    auto it = std::find_if(candidate.begin(), candidate.end(), [&](const Statement& x) { return x.key == s.key; });
    if (it != candidate.end()) {
      done.push_back("replaced " + s.key);
      *it = s;
    } else {
      done.push_back("added " + s.key);
      // After the last statement of its kind (anchors stay together), else at the end.
      auto same =
          std::find_if(candidate.rbegin(), candidate.rend(), [&](const Statement& x) { return x.kind == s.kind; });
      candidate.insert(same == candidate.rend() ? candidate.end() : same.base(), s);
    }
  }
  const std::size_t errors_before = current().diags.error_count();
  CheckResult r = check(candidate);
  DiagnosticList mine;
  for (const auto& d : r.diags.all())
    if (mine_of(d) && d.code != "missing-header") mine.report(d);
  if (r.diags.error_count() > 0 && (mine.has_errors() || r.diags.error_count() > errors_before)) {
    if (mine.has_errors()) {
      print_all(mine);
    } else {  // the change broke other statements (e.g. a table now used whose file is missing)
      DiagnosticList errors;
      for (const auto& d : r.diags.all())
        if (d.severity == Severity::error) errors.report(d);
      print_all(errors);
    }
    err << (what.empty() && replace_key.empty() ? "statement not added" : "not applied")
        << "; the recipe is unchanged\n";
    return false;
  }
  print_all(mine);  // warnings
  if (what.empty()) {
    for (const auto& d : done) what += (what.empty() ? "" : ", ") + d;
    for (const auto& d : done) err << d << "\n";
  } else {
    err << what << "\n";
  }
  commit(std::move(candidate), std::move(r), what);
  if (checked.diags.has_errors())
    err << "the recipe still has " << noun(checked.diags.error_count(), "error", "errors") << " (:check)\n";
  return true;
}

void Session::Impl::snapshot(std::string what) {
  undo_stack.push_back(Snapshot{stmts, base_dir, loaded_file, changed_since_load, std::move(what)});
  if (undo_stack.size() > 200) undo_stack.erase(undo_stack.begin());
  redo_stack.clear();
}

void Session::Impl::commit(std::vector<Statement> next, CheckResult r, std::string what) {
  snapshot(std::move(what));
  stmts = std::move(next);
  ++version;
  checked.version = version;
  checked.loaded = std::move(r.loaded);
  checked.diags = std::move(r.diags);
  changed_since_load = true;
}

void Session::Impl::forget_files() {
  sources = SourceFiles{};
  input_dirty = true;
  for (const auto& [name, text] : edit_texts) sources.add(name, text);
  taxonomies.clear();
  model.reset();
  checked.version = ~std::uint64_t{0};
}

bool Session::Impl::load(const std::string& path, bool reload) {
  DiagnosticList diags;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    err << path << ": error: is a directory, not a recipe file\n";
    return false;
  }
  if (reload) forget_files();
  auto text = sources.load(path);
  if (!text) {
    err << path << ": error: cannot read the file\n";
    return false;
  }
  lang::ParseResult pr = lang::parse_recipe(*text, path, diags);
  if (!pr.recipe) {
    print_all(diags);
    err << "not " << (reload ? "reloaded" : "loaded") << "; the recipe is unchanged\n";
    return false;
  }
  const bool had_changes = reload && changed_since_load;
  snapshot((reload ? "reloaded " : "loaded ") + path);
  base_dir = fs::path(path).parent_path().string();
  stmts = split_statements(*text, *pr.recipe, path);
  loaded_file = path;
  changed_since_load = false;
  ++version;
  model.reset();
  auto& c = current();
  print_all(c.diags);
  err << (reload ? "reloaded " : "loaded ") << path << ": " << noun(stmts.size(), "statement", "statements");
  if (c.diags.has_errors()) err << ", " << noun(c.diags.error_count(), "error", "errors") << " (:check)";
  err << "\n";
  if (had_changes) err << "note: the changes made since it was loaded are gone (:undo brings them back)\n";
  return true;
}

}  // namespace persona::repl
