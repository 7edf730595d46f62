#include "frontend/frontend.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>

#include "taxonomy/rules.hpp"
#include "taxonomy/taxonomy.hpp"
#include "util/stdlib_path.hpp"

namespace persona::frontend {

namespace fs = std::filesystem;

namespace {

// The anchor a stdlib table is usually drawn into: its name in the singular ("stdlib.occupations" ->
// "occupation", "stdlib.cities" -> "city").
std::string anchor_name_of(std::string_view table) {
  if (table.rfind("stdlib.", 0) != 0) return {};
  std::string n(table.substr(7));
  if (n.size() > 3 && n.ends_with("ies")) return n.substr(0, n.size() - 3) + "y";
  if (n.size() > 1 && n.ends_with("s")) n.pop_back();
  return n;
}

}  // namespace

// The loaded taxonomy with what the checker asks of it.
struct StdEnvironment::Loaded {
  std::shared_ptr<const tax::Taxonomy> tax;
  std::shared_ptr<lang::TaxonomyInfo> info;
  std::vector<std::uint32_t> leaf_of;  // vertex -> leaf index (UINT32_MAX for inner nodes)
};

StdEnvironment::StdEnvironment(const tables::Library& lib) : lib_(lib) {}
StdEnvironment::~StdEnvironment() = default;

lang::TableInfo StdEnvironment::info_of(const tables::Table& t) {
  lang::TableInfo info;
  info.type = t.kind == tables::ValueKind::category ? lang::ValueType::text : lang::ValueType::number;
  info.by = t.by;
  info.derived_facts = t.derived_facts();
  for (std::size_t lvl = 0; lvl < t.by.size(); ++lvl) {
    lang::TableLevel level;
    level.keys = t.keys_at(lvl);
    level.fallback = t.has_fallback_at(lvl);
    level.numeric = !level.keys.empty();
    for (const auto& k : level.keys) {
      const auto r = tables::parse_range_key(k);
      if (!r) {
        level.numeric = false;
        level.ranges.clear();
        break;
      }
      level.ranges.emplace_back(static_cast<double>(r->lo),
                                r->open ? std::numeric_limits<double>::infinity() : static_cast<double>(r->hi));
    }
    info.levels.push_back(std::move(level));
  }
  const std::vector<std::string> labels = t.all_labels();
  if (t.kind == tables::ValueKind::category) info.labels = labels;
  for (const auto& fact : info.derived_facts) {
    std::vector<std::string> values;
    bool partial = false;
    for (const auto& label : labels) {
      const auto v = t.derive(fact, label);
      if (!v) {
        partial = true;
        continue;
      }
      if (std::find(values.begin(), values.end(), *v) == values.end()) values.push_back(*v);
    }
    info.derived_values[fact] = values;
    if (partial) info.partial_facts.push_back(fact);
  }
  info.anchor_name = anchor_name_of(t.name);
  return info;
}

std::optional<lang::TableInfo> StdEnvironment::table(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = table_cache_.find(name); it != table_cache_.end()) return it->second;
  const tables::Table* t = lib_.find(name);
  if (t == nullptr) return std::nullopt;
  return table_cache_.emplace(std::string(name), info_of(*t)).first->second;
}

std::vector<std::string> StdEnvironment::table_names() const {
  std::vector<std::string> out;
  for (auto& n : lib_.names())
    if (n.rfind("stdlib.", 0) == 0) out.push_back(n);
  return out;
}

std::optional<lang::TableInfo> StdEnvironment::user_table(const std::string& path, const SourceRange& where,
                                                          DiagnosticSink& sink) const {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    sink.error(where, "table-not-found", "table file '" + path + "' not found");
    return std::nullopt;
  }
  tables::Library scratch;
  const tables::Table* t = scratch.load_file(path, path, sink);
  if (t == nullptr) {
    sink.error(where, "table-invalid", "table file '" + path + "' has errors");
    return std::nullopt;
  }
  return info_of(*t);
}

std::vector<std::string> StdEnvironment::taxonomy_names() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(stdlib_dir() / "taxonomy", ec)) {
    if (e.is_directory(ec)) out.push_back("stdlib." + e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> StdEnvironment::builtin_facts() const { return {}; }

namespace {

// Paths, leaf indices and the facts the conditions read (leaves under a condition that reads each).
std::shared_ptr<lang::TaxonomyInfo> describe(const tax::Taxonomy& t, std::vector<std::uint32_t>& leaf_of) {
  auto info = std::make_shared<lang::TaxonomyInfo>();
  for (tax::Vertex v : t.preorder()) info->paths.push_back(t[v].path);
  leaf_of.assign(t.size(), UINT32_MAX);
  const auto leaves = t.leaves();
  for (std::size_t i = 0; i < leaves.size(); ++i) leaf_of[leaves[i]] = static_cast<std::uint32_t>(i);
  std::map<std::string, std::size_t> index;  // fact -> position in info->facts
  // Latent facts the taxonomy's rules draw per persona when no anchor gives them (`absent draw`,
  // interpreter/coherence): every persona has them, so they are not facts the recipe must supply.
  auto drawn = [&](const std::string& var) {
    const tax::FactDecl* f = t.rules().fact(var);
    return f != nullptr && f->drawable();
  };
  for (tax::Vertex v : t.preorder()) {
    for (const auto& nc : t[v].conditions) {
      std::vector<std::string> vars;
      cond::collect_vars(nc.condition, vars);
      for (const auto& var : vars) {
        if (index.count(var) || drawn(var)) continue;
        index[var] = info->facts.size();
        info->facts.push_back(lang::TaxonomyInfo::FactUse{var, 0, nc.text, nc.condition.where});
      }
    }
  }
  for (tax::Vertex leaf : leaves) {
    std::set<std::string> read;
    for (const cond::Condition* c : t.inherited_conditions(leaf)) {
      std::vector<std::string> vars;
      cond::collect_vars(*c, vars);
      read.insert(vars.begin(), vars.end());
    }
    for (const auto& var : read)
      if (auto it = index.find(var); it != index.end()) ++info->facts[it->second].attributes;
  }
  return info;
}

}  // namespace

std::shared_ptr<const StdEnvironment::Loaded> StdEnvironment::load_taxonomy(const std::string& taxonomy, bool is_file,
                                                                            DiagnosticSink& sink) const {
  // stdlib taxonomies: once per process (the REPL checks again and again); their diagnostics kept.
  static std::mutex stdlib_mu;
  static std::map<std::string, std::pair<std::shared_ptr<const Loaded>, DiagnosticList>> stdlib_cache;
  auto build = [](std::optional<tax::Taxonomy> t) -> std::shared_ptr<const Loaded> {
    if (!t) return nullptr;
    auto loaded = std::make_shared<Loaded>();
    loaded->tax = std::make_shared<const tax::Taxonomy>(std::move(*t));
    loaded->info = describe(*loaded->tax, loaded->leaf_of);
    return loaded;
  };
  tax::LoadOptions opts;
  opts.vectors = false;
  if (!is_file) {
    std::lock_guard<std::mutex> lock(stdlib_mu);
    auto it = stdlib_cache.find(taxonomy);
    if (it == stdlib_cache.end()) {
      std::string_view name = taxonomy;
      if (name.starts_with("stdlib.")) name.remove_prefix(7);
      DiagnosticList diags;
      auto loaded = build(tax::load_stdlib(name, diags, opts));
      // Name the stdlib's files "stdlib/taxonomy/...", not by where this checkout or install is.
      if (loaded) {
        const fs::path base = stdlib_dir().parent_path();
        for (auto& use : loaded->info->facts) {
          std::error_code ec;
          const fs::path rel = fs::relative(use.where.file, base, ec);
          if (!ec && !rel.empty() && rel.string().rfind("..", 0) != 0) use.where.file = rel.string();
        }
      }
      it = stdlib_cache.emplace(taxonomy, std::make_pair(loaded, std::move(diags))).first;
    }
    for (const auto& d : it->second.second.all()) sink.report(d);
    return it->second.first;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = taxonomies_.find(taxonomy); it != taxonomies_.end()) return it->second;
  auto loaded = build(tax::load(taxonomy, sink, opts));
  taxonomies_[taxonomy] = loaded;
  return loaded;
}

std::shared_ptr<const lang::TaxonomyInfo> StdEnvironment::taxonomy(const std::string& taxonomy, bool is_file,
                                                                   DiagnosticSink& sink) const {
  auto loaded = load_taxonomy(taxonomy, is_file, sink);
  return loaded ? loaded->info : nullptr;
}

std::optional<std::vector<std::uint32_t>> StdEnvironment::glob_matches(const std::string& taxonomy, bool is_file,
                                                                       std::string_view glob) const {
  DiagnosticList quiet;  // reported by taxonomy()
  auto loaded = load_taxonomy(taxonomy, is_file, quiet);
  if (!loaded) return std::nullopt;
  std::vector<std::uint32_t> out;
  for (tax::Vertex v : loaded->tax->glob(glob))
    for (tax::Vertex w : loaded->tax->subtree(v))
      if (loaded->leaf_of[w] != UINT32_MAX) out.push_back(loaded->leaf_of[w]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::shared_ptr<const tables::Library> stdlib_tables(DiagnosticSink& sink) {
  static std::mutex mu;
  static std::shared_ptr<const tables::Library> cached;
  static DiagnosticList cached_diags;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) {
    auto lib = std::make_shared<tables::Library>();
    lib->load_stdlib(cached_diags);
    cached = lib;
  }
  for (const auto& d : cached_diags.all()) sink.report(d);
  return cached;
}

namespace {

std::optional<LoadedRecipe> finish(std::optional<lang::Recipe> recipe, std::shared_ptr<const tables::Library> stdlib,
                                   DiagnosticSink& sink) {
  if (!recipe) return std::nullopt;
  LoadedRecipe out;
  bool user_tables = false;
  // User tables: those anchors draw from and those the population block calibrates to.
  std::vector<std::pair<std::string, std::string>> wanted;  // name, path
  for (const auto& a : recipe->anchors)
    if (a.source.kind == lang::AnchorSource::Kind::table && !a.source.table_path.empty())
      wanted.emplace_back(a.source.table, a.source.table_path);
  for (const auto& t : recipe->population.targets)
    if (!t.table_path.empty()) wanted.emplace_back(t.table, t.table_path);
  user_tables = !wanted.empty();
  if (!user_tables) {
    out.recipe = std::move(*recipe);
    out.tables = std::move(stdlib);
    return out;
  }
  auto lib = std::make_shared<tables::Library>();
  DiagnosticList quiet;  // the stdlib's own problems were reported by stdlib_tables()
  lib->load_stdlib(quiet);
  bool ok = true;
  for (const auto& [name, path] : wanted) {
    if (lib->find(name) != nullptr) continue;
    if (lib->load_file(path, name, sink) == nullptr) ok = false;
  }
  if (!ok) return std::nullopt;
  out.recipe = std::move(*recipe);
  out.tables = std::move(lib);
  return out;
}

}  // namespace

std::optional<LoadedRecipe> load_recipe(const std::string& path, SourceFiles& sources, DiagnosticSink& sink,
                                        const lang::CheckOptions& options) {
  auto lib = stdlib_tables(sink);
  StdEnvironment env(*lib);
  return finish(lang::check_file(path, sources, env, sink, options), lib, sink);
}

std::optional<LoadedRecipe> load_recipe_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                             DiagnosticSink& sink, const lang::CheckOptions& options) {
  auto lib = stdlib_tables(sink);
  StdEnvironment env(*lib);
  return finish(lang::check_text(text, name, sources, env, sink, options), lib, sink);
}

}  // namespace persona::frontend
