// The front end as the interpreter uses it: a recipe file -> a checked recipe plus the tables it
// draws from (the stdlib tables and the recipe's own), with the stdlib as the checker's Environment.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "check/checker.hpp"
#include "diag/source.hpp"
#include "tables/tables.hpp"

namespace persona::frontend {

// lang::Environment over a tables::Library and the taxonomies (interpreter/taxonomy): table keys,
// labels and derivations; taxonomy paths, glob matches and the facts its conditions read.
// Taxonomies are loaded without similarity vectors; stdlib ones once per process.
class StdEnvironment final : public lang::Environment {
 public:
  explicit StdEnvironment(const tables::Library& lib);
  ~StdEnvironment() override;
  [[nodiscard]] std::optional<lang::TableInfo> table(std::string_view name) const override;
  [[nodiscard]] std::vector<std::string> table_names() const override;
  [[nodiscard]] std::optional<lang::TableInfo> user_table(const std::string& path, const SourceRange& where,
                                                          DiagnosticSink& sink) const override;
  [[nodiscard]] std::vector<std::string> taxonomy_names() const override;
  [[nodiscard]] std::vector<std::string> builtin_facts() const override;
  [[nodiscard]] std::shared_ptr<const lang::TaxonomyInfo> taxonomy(const std::string& taxonomy, bool is_file,
                                                                   DiagnosticSink& sink) const override;
  [[nodiscard]] std::optional<std::vector<std::uint32_t>> glob_matches(const std::string& taxonomy, bool is_file,
                                                                       std::string_view glob) const override;

  // A table's shape as the checker sees it (keys per level, labels, derivations).
  static lang::TableInfo info_of(const tables::Table& t);

 private:
  struct Loaded;
  std::shared_ptr<const Loaded> load_taxonomy(const std::string& taxonomy, bool is_file, DiagnosticSink& sink) const;

  const tables::Library& lib_;
  mutable std::mutex mu_;
  mutable std::map<std::string, lang::TableInfo, std::less<>> table_cache_;
  mutable std::map<std::string, std::shared_ptr<const Loaded>> taxonomies_;  // file taxonomies, by path
};

struct LoadedRecipe {
  lang::Recipe recipe;
  // The stdlib tables (shared, loaded once per process) or, when the recipe declares its own tables,
  // a library holding both.
  std::shared_ptr<const tables::Library> tables;
};

// The stdlib tables, loaded once per process (thread-safe); errors go to the sink.
std::shared_ptr<const tables::Library> stdlib_tables(DiagnosticSink& sink);

// Reads, parses and checks a recipe file, and loads the tables it declares. `options`: which
// warnings are reported, and whether they are errors (persona check --no-warn, --Werror).
std::optional<LoadedRecipe> load_recipe(const std::string& path, SourceFiles& sources, DiagnosticSink& sink,
                                        const lang::CheckOptions& options = {});
// Same from text (REPL): `name` is how diagnostics name it.
std::optional<LoadedRecipe> load_recipe_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                             DiagnosticSink& sink, const lang::CheckOptions& options = {});

}  // namespace persona::frontend
