// The front end as the interpreter uses it: a recipe file -> a checked recipe plus the tables it
// draws from (the stdlib tables and the recipe's own), with the stdlib as the checker's Environment.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "check/checker.hpp"
#include "diag/source.hpp"
#include "tables/tables.hpp"

namespace persona::frontend {

// lang::Environment over a tables::Library and the stdlib taxonomy folder.
class StdEnvironment final : public lang::Environment {
 public:
  explicit StdEnvironment(const tables::Library& lib) : lib_(lib) {}
  [[nodiscard]] std::optional<lang::TableInfo> table(std::string_view name) const override;
  [[nodiscard]] std::vector<std::string> table_names() const override;
  [[nodiscard]] std::optional<lang::TableInfo> user_table(const std::string& path, const SourceRange& where,
                                                          DiagnosticSink& sink) const override;
  [[nodiscard]] std::vector<std::string> taxonomy_names() const override;
  [[nodiscard]] std::vector<std::string> builtin_facts() const override;

 private:
  const tables::Library& lib_;
};

struct LoadedRecipe {
  lang::Recipe recipe;
  // The stdlib tables (shared, loaded once per process) or, when the recipe declares its own tables,
  // a library holding both.
  std::shared_ptr<const tables::Library> tables;
};

// The stdlib tables, loaded once per process (thread-safe); errors go to the sink.
std::shared_ptr<const tables::Library> stdlib_tables(DiagnosticSink& sink);

// Reads, parses and checks a recipe file, and loads the tables it declares.
std::optional<LoadedRecipe> load_recipe(const std::string& path, SourceFiles& sources, DiagnosticSink& sink);
// Same from text (REPL): `name` is how diagnostics name it.
std::optional<LoadedRecipe> load_recipe_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                             DiagnosticSink& sink);

}  // namespace persona::frontend
