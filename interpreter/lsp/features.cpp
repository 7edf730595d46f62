// Completion, hover, go to definition, document symbols and formatting over the tolerant scan
// (scan.hpp) of the document, the recipe it last checked to, the stdlib and the taxonomy.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <span>

#include "base/text.hpp"
#include "format/formatter.hpp"
#include "frontend/frontend.hpp"
#include "lsp/workspace.hpp"
#include "repl/repl.hpp"
#include "syntax/parser.hpp"
#include "util/stdlib_path.hpp"

namespace persona::lsp {

namespace fs = std::filesystem;

namespace {

// LSP CompletionItemKind and SymbolKind values used here.
enum CompletionKind : int {
  ck_function = 3,
  ck_field = 5,
  ck_variable = 6,
  ck_module = 9,
  ck_property = 10,
  ck_value = 12,
  ck_keyword = 14,
  ck_file = 17,
  ck_folder = 19,
  ck_enum_member = 20,
  ck_struct = 22,
};

// ---- tokens around a position ----

// The token the cursor is in or just after (a word being typed, a string being written); -1 if none.
int token_at(const std::vector<Token>& toks, std::size_t off) {
  auto it = std::upper_bound(toks.begin(), toks.end(), off, [](std::size_t o, const Token& t) { return o < t.begin; });
  if (it == toks.begin()) return -1;
  --it;
  const Token& t = *it;
  const bool inside =
      off < t.end || (off == t.end && (t.kind == Token::Kind::word || t.kind == Token::Kind::number ||
                                       t.kind == Token::Kind::comment || (t.kind == Token::Kind::string && !t.closed)));
  return inside ? static_cast<int>(it - toks.begin()) : -1;
}

// The last non-comment token that ends at or before `off`; -1 if none.
int previous(const std::vector<Token>& toks, std::size_t off) {
  for (int i = static_cast<int>(toks.size()) - 1; i >= 0; --i) {
    const Token& t = toks[static_cast<std::size_t>(i)];
    if (t.begin >= off) continue;
    if (t.end > off) continue;
    if (t.kind == Token::Kind::comment) continue;
    return i;
  }
  return -1;
}

int previous_before(const std::vector<Token>& toks, int i) {
  for (int j = i - 1; j >= 0; --j)
    if (toks[static_cast<std::size_t>(j)].kind != Token::Kind::comment) return j;
  return -1;
}

// What encloses `off`: "" (top level), "story", "attributes", "output" or "{" (a categorical, an
// object shape).
std::string block_at(const std::vector<Token>& toks, std::size_t off) {
  std::vector<std::string> stack;
  const Token* prev = nullptr;
  for (const auto& t : toks) {
    if (t.begin >= off) break;
    if (t.kind == Token::Kind::comment) continue;
    if (t.is_punct("{")) {
      std::string owner = "{";
      if (prev != nullptr && prev->depth == 0 &&
          (prev->is_word("story") || prev->is_word("attributes") || prev->is_word("population") ||
           prev->is_word("output")))
        owner = std::string(prev->text);
      stack.push_back(owner);
    } else if (t.is_punct("}") && !stack.empty()) {
      stack.pop_back();
    }
    prev = &t;
  }
  return stack.empty() ? std::string() : stack.back();
}

// The word that starts the list a `,` continues (`by a, b,` -> by; `from x,` -> from).
std::string list_keyword(const std::vector<Token>& toks, int i) {
  for (int j = i; j >= 0; --j) {
    const Token& t = toks[static_cast<std::size_t>(j)];
    if (t.kind == Token::Kind::comment || t.is_punct(",")) continue;
    if (t.is_word("by") || t.is_word("from")) return std::string(t.text);
    if (t.kind != Token::Kind::word) return "";
  }
  return "";
}

// The top-level statement that contains `off` (the last one starting before it).
const Symbol* statement_at(const Outline& o, std::size_t off) {
  const Symbol* found = nullptr;
  for (const auto& s : o.statements)
    if (s.begin < off) found = &s;
  return found;
}

bool first_on_its_line(const Text& text, std::size_t off) {
  const Position p = text.position(off, Encoding::utf8);
  const std::string_view before = text.line_text(p.line).substr(0, p.character);
  return text::trim(before).empty();
}

// ---- what the recipe can see ----

// The files a document includes (import, extends), transitively, with their outlines.
std::vector<const FileView*> included(Workspace& ws, const Outline& o, const std::string& dir) {
  std::vector<const FileView*> out;
  std::set<std::string> seen;
  std::vector<std::pair<const Outline*, std::string>> todo{{&o, dir}};
  while (!todo.empty() && out.size() < 32) {
    auto [outline, base] = todo.back();
    todo.pop_back();
    for (const char* kind : {"extends", "import"})
      for (const Symbol* s : outline->all(kind)) {
        if (s->value_end == s->value_begin) continue;
        const std::string path = (fs::path(base) / s->name).lexically_normal().string();
        if (!seen.insert(path).second) continue;
        if (const FileView* f = ws.file(path)) {
          out.push_back(f);
          todo.emplace_back(&f->outline, fs::path(path).parent_path().string());
        }
      }
  }
  return out;
}

struct Names {
  std::vector<std::string> anchors, steps, tables, distributions, facts;
};

Names visible_names(Workspace& ws, Document& doc) {
  Names n;
  auto add_from = [&](const Outline& o) {
    for (const Symbol* s : o.all("anchor"))
      if (s->name != "anchor") n.anchors.push_back(s->name);
    for (const Symbol* s : o.all("step")) n.steps.push_back(s->name);
    for (const Symbol* s : o.all("table"))
      if (s->name != "table") n.tables.push_back(s->name);
    for (const Symbol* s : o.all("distribution"))
      if (s->name != "distribution") n.distributions.push_back(s->name);
  };
  add_from(doc.outline);
  for (const FileView* f : included(ws, doc.outline, doc.dir)) add_from(f->outline);
  auto lib = ws.stdlib_tables();
  std::set<std::string> drawn;
  if (doc.checked) {
    for (const auto& a : doc.checked->anchors) {
      n.anchors.push_back(a.name);
      drawn.insert(a.source.table);
    }
    for (const auto& s : doc.checked->story) n.steps.push_back(s.output);
  }
  for (const Symbol* s : doc.outline.all("anchor")) {
    const auto pos = s->detail.find("table ");
    if (pos == std::string::npos) continue;
    std::string rest = s->detail.substr(pos + 6);
    drawn.insert(rest.substr(0, rest.find(' ')));
  }
  if (lib)
    for (const auto& t : drawn)
      if (const tables::Table* table = lib->find(t))
        for (auto& f : table->derived_facts()) n.facts.push_back(std::move(f));
  for (auto* v : {&n.anchors, &n.steps, &n.tables, &n.distributions, &n.facts}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return n;
}

// ---- completion ----

struct Completer {
  Completer(Workspace& w, Document& d) : ws(w), doc(d) {}
  Workspace& ws;
  Document& doc;
  std::size_t begin = 0, end = 0;  // the text the items replace
  json items = json::array();
  std::set<std::string> labels;

  void add(const std::string& label, int kind, std::string detail = {}, std::string insert = {},
           bool retrigger = false) {
    if (label.empty() || !labels.insert(label).second) return;
    json item{{"label", label}, {"kind", kind}};
    if (!detail.empty()) item["detail"] = std::move(detail);
    if (kind == ck_keyword || kind == ck_enum_member || label.starts_with("stdlib.")) {
      if (const repl::DocEntry* d = repl::find_doc(label); d != nullptr && !d->name.starts_with(":")) {
        item["documentation"] = {{"kind", "markdown"}, {"value", std::string(d->text)}};
        if (!item.contains("detail")) item["detail"] = std::string(d->kind);
      }
    }
    const std::string text = insert.empty() ? label : insert;
    item["textEdit"] = {{"range", ws.range(doc.text, begin, end)}, {"newText", text}};
    if (text != label) item["filterText"] = text;
    if (retrigger) item["command"] = {{"title", "complete the path"}, {"command", "editor.action.triggerSuggest"}};
    items.push_back(std::move(item));
  }
  void words(std::initializer_list<const char*> list, int kind) {
    for (const char* w : list) add(w, kind);
  }
  void names(const std::vector<std::string>& list, int kind, const std::string& detail) {
    for (const auto& n : list) add(n, kind, detail);
  }

  void statement_keywords() {
    words({"recipe", "import", "extends", "taxonomy", "seed", "table", "distribution", "anchor", "story", "attributes",
           "population", "narrative", "model", "output"},
          ck_keyword);
  }

  void tables(const Names& n) {
    if (auto lib = ws.stdlib_tables())
      for (const auto& t : lib->names())
        if (t.starts_with("stdlib.")) {
          const tables::Table* table = lib->find(t);
          std::string detail = "stdlib table";
          if (table != nullptr && !table->by.empty()) detail += " by " + text::join(table->by, ", ");
          add(t, ck_struct, detail);
        }
    names(n.tables, ck_struct, "table declared in the recipe");
  }

  void facts(const Names& n, bool steps) {
    names(n.anchors, ck_variable, "anchor");
    names(n.facts, ck_variable, "derived fact");
    if (steps) names(n.steps, ck_function, "story step");
  }

  void taxonomy_paths(std::string_view prefix) {
    auto t = ws.taxonomy_for(doc);
    if (!t) return;
    std::span<const tax::Vertex> pool = t->roots();
    if (const auto slash = prefix.rfind('/'); slash != std::string_view::npos) {
      const auto parent = t->find(prefix.substr(0, slash));
      if (!parent) return;
      pool = t->children(*parent);
    }
    for (tax::Vertex v : pool) {
      const tax::Node& node = (*t)[v];
      const bool leaf = t->is_leaf(v);
      std::string detail = node.description;
      if (!leaf) detail = std::to_string(t->leaf_count(v)) + " attributes" + (detail.empty() ? "" : ": " + detail);
      add(node.name + (leaf ? "" : "/"), leaf ? ck_field : ck_folder, detail, node.path + (leaf ? "" : "/"), !leaf);
    }
  }

  void files(std::string_view prefix, std::initializer_list<const char*> exts) {
    const auto slash = prefix.rfind('/');
    const std::string sub = slash == std::string_view::npos ? std::string() : std::string(prefix.substr(0, slash + 1));
    const fs::path dir = sub.starts_with("/") ? fs::path(sub) : fs::path(doc.dir.empty() ? "." : doc.dir) / sub;
    std::error_code ec;
    std::vector<std::pair<std::string, bool>> found;
    for (fs::directory_iterator it(dir, ec), stop; !ec && it != stop && found.size() < 500; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.starts_with(".")) continue;
      const bool is_dir = it->is_directory(ec);
      bool wanted = is_dir;
      for (const char* e : exts)
        if (it->path().extension() == e) wanted = true;
      if (wanted) found.emplace_back(name, is_dir);
    }
    std::sort(found.begin(), found.end());
    for (const auto& [name, is_dir] : found)
      add(name + (is_dir ? "/" : ""), is_dir ? ck_folder : ck_file, {}, sub + name + (is_dir ? "/" : ""), is_dir);
  }

  void run(std::size_t off) {
    const auto& toks = doc.tokens;
    const int cur = token_at(toks, off);
    begin = end = off;
    if (cur >= 0) {
      const Token& t = toks[static_cast<std::size_t>(cur)];
      if (t.kind == Token::Kind::comment) return;
      if (t.kind == Token::Kind::string) {
        if (off < t.content_begin()) return;
        in_string(cur, off);
        return;
      }
      if (t.kind == Token::Kind::number) return;
      if (t.kind == Token::Kind::word) begin = t.begin;
    }
    const int prev = previous(toks, begin);
    const Token* p = prev >= 0 ? &toks[static_cast<std::size_t>(prev)] : nullptr;
    const std::string block = block_at(toks, begin);
    const bool line_start = first_on_its_line(doc.text, begin);
    const Names n = visible_names(ws, doc);

    if (block == "{") return;
    if (block == "population") {
      if (line_start) return words({"calibrate", "oversample"}, ck_keyword);
      if (p == nullptr) return;
      const std::string setting = line_setting(prev);
      if (setting == "calibrate") {
        if (p->is_word("to")) return words({"table"}, ck_keyword);
        if (p->is_word("table")) return tables(n);
        if (p->is_word("calibrate") || p->is_punct(",")) return facts(n, false);
        return words({"to"}, ck_keyword);
      }
      if (setting == "oversample") {
        if (p->is_word("oversample") || p->is_word("and") || p->is_word("or") || p->is_word("not") ||
            p->is_punct("(")) {
          facts(n, false);
          return words({"not"}, ck_keyword);
        }
        if (p->kind == Token::Kind::word || p->is_punct(")") || p->kind == Token::Kind::number)
          return words({"and", "or", "in", "not", "x"}, ck_keyword);
      }
      return;
    }
    if (block == "attributes") {
      if (line_start)
        return words({"count", "tiers", "walk", "include", "exclude", "always", "batch", "context"}, ck_keyword);
      if (p == nullptr) return;
      const std::string setting = line_setting(prev);
      if (setting == "walk") {
        if (p->is_word("walk")) return words({"random-bfs", "bfs", "dfs"}, ck_enum_member);
        if (p->is_word("prefer")) return words({"long-tail", "none"}, ck_enum_member);
        return words({"prefer"}, ck_keyword);
      }
      if (setting == "tiers") {
        if (p->is_word("tiers")) return words({"near"}, ck_keyword);
        if (p->kind == Token::Kind::number || p->is_punct(",")) return words({"mid", "far"}, ck_keyword);
        return;
      }
      if (setting == "context") {
        if (p->kind == Token::Kind::number) words({"tokens"}, ck_keyword);
        return;
      }
      if (setting == "include" || setting == "exclude") {
        if (p->kind == Token::Kind::string || p->is_punct("*")) return words({"when"}, ck_keyword);
        if (p->is_word("when") || p->is_word("and") || p->is_word("or") || p->is_word("not") || p->is_punct("(")) {
          facts(n, false);
          return words({"not"}, ck_keyword);
        }
        if (p->kind == Token::Kind::word || p->is_punct(")") || p->kind == Token::Kind::number)
          return words({"and", "or", "in", "not"}, ck_keyword);
      }
      return;
    }
    if (block == "output") {
      if (line_start) return words({"path", "narrative", "core", "usage", "prompts"}, ck_property);
      return words({"on", "off"}, ck_enum_member);
    }
    if (block == "story") {
      if (line_start || p == nullptr) return;
      if (p->is_punct("<-")) return words({"llm"}, ck_keyword);
      if (p->is_word("from") || (p->is_punct(",") && list_keyword(toks, prev) == "from")) return facts(n, true);
      if (p->is_word("tone")) return words({"random", "positive", "negative", "neutral"}, ck_enum_member);
      if (p->is_word("as") || p->is_word("x") || p->is_word("prompt") || p->is_word("llm")) return;
      return words({"x", "as", "from", "tone", "prompt"}, ck_keyword);
    }
    // Top level.
    if (line_start || p == nullptr) return statement_keywords();
    if (p->is_punct("~")) {
      words({"uniform", "normal", "lognormal"}, ck_function);
      words({"table"}, ck_keyword);
      return names(n.distributions, ck_function, "distribution");
    }
    if (p->is_word("table")) {
      const int before = previous_before(toks, prev);
      if (before >= 0 && (toks[static_cast<std::size_t>(before)].is_punct("~") ||
                          toks[static_cast<std::size_t>(before)].is_punct("=")))
        return tables(n);
      return;  // `table NAME = ...`: a new name
    }
    if (p->is_word("taxonomy")) {
      if (auto lib = ws.stdlib_tables()) {
        frontend::StdEnvironment env(*lib);
        for (const auto& t : env.taxonomy_names()) add(t, ck_module, "stdlib taxonomy");
      }
      return;
    }
    if (p->is_word("by") || (p->is_punct(",") && list_keyword(toks, prev) == "by")) return facts(n, false);
    if (p->is_word("narrative")) return words({"first-person", "third-person", "none"}, ck_enum_member);
    if (p->is_word("anchor") || p->is_word("distribution") || p->is_word("recipe") || p->is_word("import") ||
        p->is_word("extends") || p->is_word("seed") || p->is_word("clamp") || p->is_word("truncate"))
      return;
    const Symbol* st = statement_at(doc.outline, begin);
    if (st != nullptr && (st->kind == "anchor" || st->kind == "distribution")) {
      if (p->is_punct("=") || p->is_punct("(") || p->is_punct(",")) return;
      return words({"clamp", "truncate", "round", "by"}, ck_keyword);
    }
    if (st != nullptr && st->kind == "model")
      return words({"temperature", "top_p", "max_tokens", "model", "presence_penalty", "frequency_penalty"},
                   ck_property);
    if (st != nullptr && st->kind == "narrative") return words({"words", "prompt"}, ck_keyword);
    if (st != nullptr && st->kind == "recipe") return words({"version"}, ck_keyword);
    statement_keywords();
  }

  // The setting keyword that starts the line of token `i` inside the attributes block.
  [[nodiscard]] std::string line_setting(int i) const {
    for (int j = i; j >= 0; --j) {
      const Token& t = doc.tokens[static_cast<std::size_t>(j)];
      if (t.first_on_line && t.kind != Token::Kind::comment)
        return t.kind == Token::Kind::word ? std::string(t.text) : "";
    }
    return "";
  }

  void in_string(int cur, std::size_t off) {
    const Token& t = doc.tokens[static_cast<std::size_t>(cur)];
    if (t.text.starts_with("\"\"\"")) return;
    begin = t.content_begin();
    end = off;
    const std::string prefix = doc.text.str().substr(begin, off - begin);
    const int prev = previous_before(doc.tokens, cur);
    if (prev < 0) return;
    const Token& p = doc.tokens[static_cast<std::size_t>(prev)];
    if (p.is_word("include") || p.is_word("exclude") || p.is_word("always")) return taxonomy_paths(prefix);
    if (p.is_word("import") || p.is_word("extends")) return files(prefix, {".persona"});
    if (p.is_word("taxonomy")) return files(prefix, {".tax", ".json"});
    if (p.is_punct("=")) {
      const int name = previous_before(doc.tokens, prev);
      const int kw = name >= 0 ? previous_before(doc.tokens, name) : -1;
      if (kw >= 0 && doc.tokens[static_cast<std::size_t>(kw)].is_word("table")) files(prefix, {".csv", ".toml"});
    }
  }
};

// ---- taxonomy paths inside a glob ----

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

// The node path up to the end of the segment under the cursor ("A/B|c/D" -> "A/Bc").
std::string segment_prefix(const Token& t, const std::string& content, std::size_t off) {
  std::size_t k = off > t.content_begin() ? off - t.content_begin() : 0;
  k = std::min(k, content.size());
  std::size_t stop = content.find('/', k);
  if (stop == std::string::npos) stop = content.size();
  return content.substr(0, stop);
}

bool is_glob_string(const std::vector<Token>& toks, int i) {
  const int p = previous_before(toks, i);
  return p >= 0 &&
         (toks[static_cast<std::size_t>(p)].is_word("include") ||
          toks[static_cast<std::size_t>(p)].is_word("exclude") || toks[static_cast<std::size_t>(p)].is_word("always"));
}

std::string node_markdown(const tax::Taxonomy& t, tax::Vertex v) {
  const tax::Node& n = t[v];
  std::string md = "**" + n.path + "**";
  md += t.is_leaf(v) ? " (attribute)" : " (" + std::to_string(t.leaf_count(v)) + " attributes below)";
  md += "\n\n";
  if (!n.description.empty()) md += n.description + "\n\n";
  if (!n.values.empty()) {
    double total = 0;
    for (const auto& o : n.values) total += o.weight;
    md += "Values: ";
    for (std::size_t i = 0; i < n.values.size() && i < 16; ++i) {
      if (i > 0) md += ", ";
      md += n.values[i].label;
      if (total > 0) md += " (" + text::format_number(std::round(1000 * n.values[i].weight / total) / 10) + "%)";
    }
    if (n.values.size() > 16) md += ", ... (" + std::to_string(n.values.size()) + " in all)";
    md += "\n\n";
  }
  std::vector<std::string> conds;
  for (std::optional<tax::Vertex> a = v; a; a = t.parent(*a))
    for (const auto& c : t[*a].conditions) conds.push_back(c.text);
  if (!conds.empty()) md += "Applies when: " + text::join(conds, " and ") + "\n\n";
  if (!t.is_leaf(v)) {
    std::vector<std::string> kids;
    for (tax::Vertex c : t.children(v)) kids.push_back(t[c].name);
    if (kids.size() > 12) {
      kids.resize(12);
      kids.emplace_back("...");
    }
    md += "Children: " + text::join(kids, ", ") + "\n\n";
  }
  if (!n.where.file.empty())
    md += "Defined in `" + fs::path(n.where.file).filename().string() + "` line " + std::to_string(n.where.line) + "\n";
  return md;
}

// ---- declarations ----

struct Found {
  std::string path;  // empty: the document itself
  const Text* text = nullptr;
  const Symbol* symbol = nullptr;
};

Found find_declaration(Workspace& ws, Document& doc, std::string_view name) {
  if (const Symbol* s = doc.outline.declaration(name)) return {"", &doc.text, s};
  for (const FileView* f : included(ws, doc.outline, doc.dir))
    if (const Symbol* s = f->outline.declaration(name)) return {f->path, &f->text, s};
  return {};
}

// The anchor that derives a fact (employment <- an anchor drawn from stdlib.occupations).
const Symbol* fact_source(Workspace& ws, Document& doc, std::string_view fact) {
  auto lib = ws.stdlib_tables();
  if (!lib) return nullptr;
  for (const Symbol* s : doc.outline.all("anchor")) {
    const auto pos = s->detail.find("table ");
    if (pos == std::string::npos) continue;
    std::string rest = s->detail.substr(pos + 6);
    rest = rest.substr(0, rest.find(' '));
    if (const tables::Table* t = lib->find(rest)) {
      const auto f = t->derived_facts();
      if (std::find(f.begin(), f.end(), fact) != f.end()) return s;
    }
  }
  return nullptr;
}

std::string resolve(const Document& doc, const std::string& rel) {
  if (rel.starts_with("/")) return fs::path(rel).lexically_normal().string();
  return (fs::path(doc.dir.empty() ? "." : doc.dir) / rel).lexically_normal().string();
}

// A stdlib name's file: stdlib.countries -> tables/countries.toml, stdlib.core -> the first .tax.
std::optional<std::string> stdlib_file(std::string_view name) {
  if (!name.starts_with("stdlib.")) return std::nullopt;
  const std::string rest(name.substr(7));
  std::error_code ec;
  const fs::path table = stdlib_dir() / "tables" / (rest + ".toml");
  if (fs::is_regular_file(table, ec)) return table.string();
  const fs::path tax = stdlib_dir() / "taxonomy" / rest;
  if (fs::is_directory(tax, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(tax, ec))
      if (e.path().extension() == ".tax") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (!files.empty()) return files.front();
  }
  return std::nullopt;
}

std::string first_tax_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.path().extension() == ".tax") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files.empty() ? path : files.front();
}

json file_start(Workspace& ws, const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return nullptr;
  const Text empty;
  return ws.location(path, empty, 0, 0);
}

json location_of(Workspace& ws, Document& doc, const Found& f) {
  if (f.path.empty())
    return json{{"uri", doc.uri}, {"range", ws.range(doc.text, f.symbol->name_begin, f.symbol->name_end)}};
  return ws.location(f.path, *f.text, f.symbol->name_begin, f.symbol->name_end);
}

std::string code_block(std::string_view s) {
  std::string body(s.substr(0, 2000));
  return "```persona\n" + body + "\n```\n";
}

// LSP SymbolKind of an outline entry.
int symbol_kind(const std::string& k) {
  if (k == "recipe") return 4;                                             // Package
  if (k == "import" || k == "extends") return 1;                           // File
  if (k == "taxonomy" || k == "story") return 3;                           // Namespace
  if (k == "seed") return 14;                                              // Constant
  if (k == "table") return 23;                                             // Struct
  if (k == "distribution") return 12;                                      // Function
  if (k == "anchor") return 13;                                            // Variable
  if (k == "step") return 6;                                               // Method
  if (k == "attributes" || k == "population" || k == "output") return 19;  // Object
  if (k == "setting") return 7;                                            // Property
  if (k == "narrative") return 15;                                         // String
  if (k == "model") return 11;                                             // Interface
  return 20;                                                               // Key
}

json symbol_json(Workspace& ws, const Document& doc, const Symbol& s) {
  std::string name = s.name.empty() ? s.kind : s.name;
  for (char& c : name)
    if (c == '\n' || c == '\r') c = ' ';
  json j{{"name", name},
         {"kind", symbol_kind(s.kind)},
         {"range", ws.range(doc.text, s.begin, s.end)},
         {"selectionRange", ws.range(doc.text, s.name_begin, s.name_end)}};
  std::string detail = s.kind == s.name ? s.detail : s.kind + (s.detail.empty() ? "" : " " + s.detail);
  if (s.kind == "step" || s.kind == "setting" || s.kind == "key") detail = s.detail;
  if (!detail.empty()) j["detail"] = detail;
  if (!s.children.empty()) {
    json kids = json::array();
    for (const auto& c : s.children) kids.push_back(symbol_json(ws, doc, c));
    j["children"] = std::move(kids);
  }
  return j;
}

}  // namespace

json complete(Workspace& ws, Document& doc, Position pos) {
  if (doc.too_large) return json::array();
  doc.rescan();
  Completer c(ws, doc);
  c.run(doc.text.offset(pos, ws.enc));
  return json{{"isIncomplete", false}, {"items", std::move(c.items)}};
}

json hover(Workspace& ws, Document& doc, Position pos) {
  if (doc.too_large) return nullptr;
  doc.rescan();
  const std::size_t off = doc.text.offset(pos, ws.enc);
  const int i = token_at(doc.tokens, off);
  if (i < 0) return nullptr;
  const Token& t = doc.tokens[static_cast<std::size_t>(i)];
  std::string md;
  if (t.kind == Token::Kind::word) {
    const std::string word(t.text);
    const Found f = find_declaration(ws, doc, word);
    const repl::DocEntry* d = repl::find_doc(word);
    if (f.symbol != nullptr && f.symbol->name_begin != t.begin) {
      md = code_block(f.text->str().substr(f.symbol->begin, f.symbol->end - f.symbol->begin));
      if (!f.path.empty()) {
        const Position p = f.text->position(f.symbol->begin, Encoding::utf8);
        md += "\nDeclared in `" + f.path + "` line " + std::to_string(p.line + 1) + "\n";
      }
    } else if (d != nullptr && !d->name.starts_with(":")) {
      md = "**" + std::string(d->name) + "** (" + std::string(d->kind) + ")\n\n" + std::string(d->text);
    } else if (f.symbol != nullptr) {
      md = "**" + word + "** (" + f.symbol->kind + ")";
    } else if (const Symbol* a = fact_source(ws, doc, word)) {
      md = "**" + word + "** (derived fact): set with the anchor `" + a->name + "` (" + a->detail + ")";
    }
  } else if (t.kind == Token::Kind::string && is_glob_string(doc.tokens, i)) {
    auto tx = ws.taxonomy_for(doc);
    if (!tx) return nullptr;
    const std::string content = string_value(t);
    const std::string prefix = segment_prefix(t, content, off);
    if (!has_glob_chars(prefix))
      if (auto v = tx->find(prefix)) md = node_markdown(*tx, *v);
    if (has_glob_chars(content) || md.empty()) {
      const auto matches = tx->glob(content);
      std::size_t leaves = 0;
      for (tax::Vertex v : matches) leaves += tx->is_leaf(v) ? 1 : 0;
      if (!md.empty()) md += "\n";
      md += "`" + content + "` matches " + std::to_string(matches.size()) + " taxonomy nodes (" +
            std::to_string(leaves) + " attributes)";
    }
  } else if (t.kind == Token::Kind::string) {
    const int p = previous_before(doc.tokens, i);
    if (p >= 0 && (doc.tokens[static_cast<std::size_t>(p)].is_word("import") ||
                   doc.tokens[static_cast<std::size_t>(p)].is_word("extends"))) {
      const std::string path = resolve(doc, string_value(t));
      std::error_code ec;
      md = "`" + path + "`" + (fs::exists(path, ec) ? "" : " (not found)");
    }
  }
  if (md.empty()) return nullptr;
  return json{{"contents", {{"kind", "markdown"}, {"value", md}}}, {"range", ws.range(doc.text, t.begin, t.end)}};
}

json definition(Workspace& ws, Document& doc, Position pos) {
  if (doc.too_large) return nullptr;
  doc.rescan();
  const std::size_t off = doc.text.offset(pos, ws.enc);
  const int i = token_at(doc.tokens, off);
  if (i < 0) return nullptr;
  const Token& t = doc.tokens[static_cast<std::size_t>(i)];
  if (t.kind == Token::Kind::word) {
    const std::string word(t.text);
    const Found f = find_declaration(ws, doc, word);
    if (f.symbol != nullptr) return location_of(ws, doc, f);
    if (auto file = stdlib_file(word)) return file_start(ws, *file);
    if (const Symbol* a = fact_source(ws, doc, word))
      return json{{"uri", doc.uri}, {"range", ws.range(doc.text, a->name_begin, a->name_end)}};
    return nullptr;
  }
  if (t.kind != Token::Kind::string) return nullptr;
  const int p = previous_before(doc.tokens, i);
  if (p < 0) return nullptr;
  const Token& before = doc.tokens[static_cast<std::size_t>(p)];
  const std::string value = string_value(t);
  if (before.is_word("import") || before.is_word("extends")) return file_start(ws, resolve(doc, value));
  if (before.is_word("taxonomy")) return file_start(ws, first_tax_file(resolve(doc, value)));
  if (before.is_punct("=")) {
    const Symbol* st = statement_at(doc.outline, t.begin);
    if (st != nullptr && st->kind == "table") return file_start(ws, resolve(doc, value));
    return nullptr;
  }
  if (before.is_word("include") || before.is_word("exclude") || before.is_word("always")) {
    auto tx = ws.taxonomy_for(doc);
    if (!tx) return nullptr;
    std::optional<tax::Vertex> v;
    const std::string prefix = segment_prefix(t, value, off);
    if (!has_glob_chars(prefix)) v = tx->find(prefix);
    if (!v) {
      const auto matches = tx->glob(value);
      if (!matches.empty()) v = matches.front();
    }
    if (!v) return nullptr;
    const SourceRange& w = (*tx)[*v].where;
    if (w.file.empty() || w.line == 0) return nullptr;
    const FileView* f = ws.file(w.file);
    if (f == nullptr) return nullptr;
    const std::size_t b = f->text.offset_of_column(w.line, w.column);
    return ws.location(w.file, f->text, b,
                       b + f->text.line_text(w.line - 1).size() - (w.column > 0 ? w.column - 1 : 0));
  }
  return nullptr;
}

json symbols(Workspace& ws, Document& doc) {
  if (doc.too_large) return json::array();
  doc.rescan();
  json out = json::array();
  for (const auto& s : doc.outline.statements) out.push_back(symbol_json(ws, doc, s));
  return out;
}

json format(Workspace& ws, Document& doc, std::string& why) {
  if (doc.too_large || !text::utf8_valid(doc.text.str())) {
    why = "persona lsp: " + doc.name + " was not formatted: it is too large or not UTF-8";
    return nullptr;
  }
  DiagnosticList diags;
  const lang::ParseResult parsed = lang::parse_recipe(doc.text.str(), doc.name, diags);
  if (!parsed.recipe) {
    why = "persona lsp: " + doc.name + " was not formatted: it has " + std::to_string(diags.error_count()) +
          " syntax error(s); fix them first";
    return nullptr;
  }
  const std::string formatted = lang::format_recipe(*parsed.recipe);
  if (formatted == doc.text.str()) return json::array();
  return json::array({{{"range", ws.range(doc.text, 0, doc.text.size())}, {"newText", formatted}}});
}

}  // namespace persona::lsp
