#include "frontend/frontend.hpp"

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "util/stdlib_path.hpp"

namespace persona::frontend {

namespace fs = std::filesystem;

namespace {

lang::TableInfo info_of(const tables::Table& t) {
  lang::TableInfo info;
  info.type = t.kind == tables::ValueKind::category ? lang::ValueType::text : lang::ValueType::number;
  info.by = t.by;
  info.derived_facts = t.derived_facts();
  return info;
}

}  // namespace

std::optional<lang::TableInfo> StdEnvironment::table(std::string_view name) const {
  const tables::Table* t = lib_.find(name);
  if (t == nullptr) return std::nullopt;
  return info_of(*t);
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
  for (const auto& a : recipe->anchors)
    if (a.source.kind == lang::AnchorSource::Kind::table && !a.source.table_path.empty()) user_tables = true;
  if (!user_tables) {
    out.recipe = std::move(*recipe);
    out.tables = std::move(stdlib);
    return out;
  }
  auto lib = std::make_shared<tables::Library>();
  DiagnosticList quiet;  // the stdlib's own problems were reported by stdlib_tables()
  lib->load_stdlib(quiet);
  bool ok = true;
  for (const auto& a : recipe->anchors) {
    if (a.source.kind != lang::AnchorSource::Kind::table || a.source.table_path.empty()) continue;
    if (lib->find(a.source.table) != nullptr) continue;
    if (lib->load_file(a.source.table_path, a.source.table, sink) == nullptr) ok = false;
  }
  if (!ok) return std::nullopt;
  out.recipe = std::move(*recipe);
  out.tables = std::move(lib);
  return out;
}

}  // namespace

std::optional<LoadedRecipe> load_recipe(const std::string& path, SourceFiles& sources, DiagnosticSink& sink) {
  auto lib = stdlib_tables(sink);
  StdEnvironment env(*lib);
  return finish(lang::check_file(path, sources, env, sink), lib, sink);
}

std::optional<LoadedRecipe> load_recipe_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                             DiagnosticSink& sink) {
  auto lib = stdlib_tables(sink);
  StdEnvironment env(*lib);
  return finish(lang::check_text(text, name, sources, env, sink), lib, sink);
}

}  // namespace persona::frontend
