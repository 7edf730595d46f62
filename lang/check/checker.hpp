// Checking: ast::Recipe -> lang::Recipe. Resolves `import`/`extends` (relative paths, cycles
// reported with the chain), names (undefined, duplicate, "did you mean"), dependency cycles among
// anchors and story steps, types, probabilities and ranges. Collects every error in one run.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/recipe.hpp"
#include "diag/diagnostic.hpp"
#include "diag/source.hpp"
#include "syntax/ast.hpp"

namespace persona::lang {

// What the checker needs to know about a table.
struct TableInfo {
  ValueType type = ValueType::text;
  std::vector<std::string> by;             // conditioning facts, in order
  std::vector<std::string> derived_facts;  // e.g. {"employment"}
};

// The world outside the recipe: tables and taxonomies. The interpreter implements it over the
// stdlib; tests implement it with fixed answers.
class Environment {
 public:
  virtual ~Environment() = default;
  // A stdlib table by full name ("stdlib.age_structure").
  [[nodiscard]] virtual std::optional<TableInfo> table(std::string_view name) const = 0;
  [[nodiscard]] virtual std::vector<std::string> table_names() const = 0;
  // A user table file (CSV or TOML); problems are reported to the sink at `where`.
  [[nodiscard]] virtual std::optional<TableInfo> user_table(const std::string& path, const SourceRange& where,
                                                            DiagnosticSink& sink) const = 0;
  // stdlib taxonomies by full name ("stdlib.core").
  [[nodiscard]] virtual std::vector<std::string> taxonomy_names() const = 0;
  // Facts that taxonomy conditions and `when` clauses may use without an anchor declaring them.
  [[nodiscard]] virtual std::vector<std::string> builtin_facts() const { return {}; }
};

// Checks a parsed recipe. `file` is its path (imports resolve relative to it); imported files are
// read through `sources` so their diagnostics render with their lines.
std::optional<Recipe> check(const ast::Recipe& recipe, const std::string& file, SourceFiles& sources,
                            const Environment& env, DiagnosticSink& sink);

// Reads, parses and checks a file.
std::optional<Recipe> check_file(const std::string& path, SourceFiles& sources, const Environment& env,
                                 DiagnosticSink& sink);

// Parses and checks a text registered in `sources` under `name` (the REPL uses "<repl>").
std::optional<Recipe> check_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                 const Environment& env, DiagnosticSink& sink);

}  // namespace persona::lang
