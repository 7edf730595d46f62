// Phase 1: `import` and `extends` merged into one Scope. Each file is read (through
// SourceFiles::load: regular files, a size limit, UTF-8) and parsed once, and merged once: a
// diamond (two files importing a third) costs one parse of the third, not one per path. The chain
// of imports is limited to kMaxImportDepth files; a cycle is reported with its chain. An import
// names a `.persona` file, so a mistaken path never has its contents shown as recipe errors.
#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "check/checker_impl.hpp"
#include "check/warnings.hpp"
#include "syntax/parser.hpp"

namespace persona::lang::checking {

namespace fs = std::filesystem;

namespace {

// Adds each item of `more` to `items`, replacing an item of the same key in place (a later file
// overrides an earlier one but keeps its position). Linear: one hash lookup per item.
template <typename T, typename Key>
void upsert_all(std::vector<T>& items, const std::vector<T>& more, Key key) {
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(items.size() + more.size());
  for (std::size_t i = 0; i < items.size(); ++i) index.emplace(key(items[i]), i);
  for (const auto& item : more) {
    auto [it, fresh] = index.emplace(key(item), items.size());
    if (fresh)
      items.push_back(item);
    else
      items[it->second] = item;
  }
}

// Reports the second and later definitions of a name within one file.
template <typename T, typename KeyFn, typename WhereFn, typename Report>
void duplicates_in_file(const std::vector<T>& items, KeyFn key, WhereFn where, const char* what, Report report) {
  std::map<std::string, SourceRange> seen;
  for (const auto& i : items) {
    auto [it, fresh] = seen.emplace(key(i), where(i));
    if (!fresh) report(where(i), std::string("duplicate ") + what + " '" + key(i) + "'", it->second);
  }
}

}  // namespace

void Checker::merge_file(const ast::Recipe& r, const std::string& file, Scope& scope, bool everything) {
  if (std::find(scope.files.begin(), scope.files.end(), file) == scope.files.end()) scope.files.push_back(file);
  allowed_[file] = allowed_in(r, file, sink_);
  for (const auto& inc : r.includes) merge_include(inc, file, scope, everything);
  merge_own(r, scope, everything);
}

void Checker::merge_include(const ast::Include& inc, const std::string& file, Scope& scope, bool everything) {
  const std::string path = resolve(file, inc.path.value);
  const std::string canon = canonical(path);
  auto cycle = std::find(stack_.begin(), stack_.end(), canon);
  if (cycle != stack_.end()) {
    std::string chain;
    for (auto it = cycle; it != stack_.end(); ++it) chain += fs::path(*it).filename().string() + " -> ";
    chain += fs::path(canon).filename().string();
    error(inc.path.where, "import-cycle", "import cycle: " + chain);
    return;
  }
  if (stack_.size() >= kMaxImportDepth) {
    error(inc.path.where, "import-depth",
          "imports nested too deeply: more than " + std::to_string(kMaxImportDepth) + " files in a chain");
    return;
  }
  const bool with_everything = everything && inc.extends;
  // Merged already (a diamond): once is enough, unless it now brings more than its definitions.
  if (auto m = merged_.find(canon); m != merged_.end() && (m->second || !with_everything)) return;
  auto parsed = parse_import(inc, path, canon);
  if (!parsed) return;
  merged_[canon] = with_everything;
  stack_.push_back(canon);
  merge_file(*parsed, path, scope, with_everything);
  stack_.pop_back();
}

std::shared_ptr<const ast::Recipe> Checker::parse_import(const ast::Include& inc, const std::string& path,
                                                         const std::string& canon) {
  if (auto it = parsed_.find(canon); it != parsed_.end()) return it->second;
  parsed_[canon] = nullptr;
  const std::string kind = inc.extends ? "extends" : "import";
  if (fs::path(path).extension() != ".persona") {
    error(inc.path.where, "import-not-recipe",
          "'" + inc.path.value + "' is not a recipe file: " + kind + " names a .persona file");
    return nullptr;
  }
  if (sources_.text(path) == nullptr) {
    SourceFiles::LoadError why;
    if (!sources_.load(path, &why)) {
      // files::read says "cannot read PATH: why"; the path is shown once, resolved.
      std::string reason = why.message;
      const std::string prefix = "cannot read " + path + ": ";
      if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
      if (why.line > 0)
        reason = "line " + std::to_string(why.line) + ", byte " + std::to_string(why.column) + ": " + reason;
      error(inc.path.where, "import-not-found",
            "cannot read '" + inc.path.value + "' (resolved to " + path + "): " + reason);
      return nullptr;
    }
  }
  const std::string* text = sources_.text(path);
  DiagnosticList local;
  ParseResult result = parse_recipe(*text, path, local);
  for (const auto& d : local.all()) {
    if (d.severity == Severity::error) ++errors_;
    sink_.report(d);
  }
  if (!result.recipe) {
    error(inc.path.where, "import-failed", "'" + inc.path.value + "' has errors");
    return nullptr;
  }
  auto out = std::make_shared<const ast::Recipe>(std::move(*result.recipe));
  parsed_[canon] = out;
  return out;
}

void Checker::merge_own(const ast::Recipe& r, Scope& scope, bool everything) {
  auto duplicate = [this](const SourceRange& where, const std::string& msg, const SourceRange& first) {
    error_related(where, "duplicate-name", msg, {first, "first defined here"});
  };
  duplicates_in_file(
      r.tables, [](const auto& t) { return t.name.text; }, [](const auto& t) { return t.name.where; }, "table",
      duplicate);
  duplicates_in_file(
      r.distributions, [](const auto& d) { return d.name.text; }, [](const auto& d) { return d.name.where; },
      "distribution", duplicate);
  for (const auto& t : r.tables) scope.tables[t.name.text] = t;
  for (const auto& d : r.distributions) scope.distributions[d.name.text] = d;
  if (!everything) return;  // `import` brings tables and distributions only

  duplicates_in_file(
      r.anchors, [](const auto& a) { return a.name.text; }, [](const auto& a) { return a.name.where; }, "anchor",
      duplicate);
  if (r.story) {
    duplicates_in_file(
        r.story->steps, [](const auto& s) { return s.output.text; }, [](const auto& s) { return s.output.where; },
        "story step", duplicate);
  }
  if (r.name) scope.name = r.name;
  if (r.version) scope.version = r.version;
  upsert_all(scope.anchors, r.anchors, [](const ast::Anchor& x) -> const std::string& { return x.name.text; });
  if (r.story) {
    upsert_all(scope.steps, r.story->steps,
               [](const ast::StoryStep& x) -> const std::string& { return x.output.text; });
  }
  if (r.attributes) {
    const auto& a = *r.attributes;
    if (a.count) scope.count = a.count;
    if (a.tiers) scope.tiers = a.tiers;
    if (a.walk) scope.walk = a.walk;
    if (a.prefer) scope.prefer = a.prefer;
    if (a.batch) scope.batch = a.batch;
    if (a.context) scope.context = a.context;
    for (const auto& f : a.filters) scope.filters.push_back(f);
    for (const auto& panel : a.panels) scope.panels.push_back(panel);
  }
  if (r.population) scope.population = r.population;  // a whole block: the last one wins
  if (r.narrative) scope.narrative = r.narrative;
  if (r.model) scope.model = r.model;
  if (r.output) scope.output = r.output;
  if (r.taxonomy_name) {
    scope.taxonomy_name = r.taxonomy_name;
    scope.taxonomy_file.reset();
  }
  if (r.taxonomy_file) {
    scope.taxonomy_file = r.taxonomy_file;
    scope.taxonomy_name.reset();
  }
  if (r.seed) scope.seed = r.seed;
}

}  // namespace persona::lang::checking
