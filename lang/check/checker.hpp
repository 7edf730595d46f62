// Checking: ast::Recipe -> lang::Recipe. Resolves `import`/`extends` (relative paths, cycles
// reported with the chain, a depth limit, each file read and parsed once), names (undefined,
// duplicate, "did you mean"), dependency cycles among anchors and story steps, types,
// probabilities and ranges, and what a recipe means against its tables and taxonomy: labels and
// `by` keys against the tables' keys, filter globs against the taxonomy, conditions on facts that
// may be absent. Collects every error in one run; warnings have names (check/warnings.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check/recipe.hpp"
#include "diag/diagnostic.hpp"
#include "diag/source.hpp"
#include "syntax/ast.hpp"

namespace persona::lang {

// The keys written at one `by` level of a table.
struct TableLevel {
  std::vector<std::string> keys;                  // distinct keys, "*" excluded, in first-seen order
  bool fallback = false;                          // a "*" key (used when no other key matches) exists at this level
  bool numeric = false;                           // range keys ("18-24", "65+"): a number selects the range holding it
  std::vector<std::pair<double, double>> ranges;  // numeric: inclusive [lo, hi]; "65+" has hi = +infinity
};

// What the checker needs to know about a table. Only `type` and `by` are required; the checks
// that need the rest are skipped when it is empty.
struct TableInfo {
  ValueType type = ValueType::text;
  std::vector<std::string> by;             // conditioning facts, in order
  std::vector<std::string> derived_facts;  // e.g. {"employment"}
  std::vector<TableLevel> levels;          // parallel to `by`
  std::vector<std::string> labels;         // category tables: every value it can draw
  // Derived fact -> the values it can take (for conditions: `employment = studnet` is a typo).
  std::map<std::string, std::vector<std::string>> derived_values;
  // Derived facts that some labels do not derive: absent for the personas who draw those labels.
  std::vector<std::string> partial_facts;
  // The anchor this table is usually drawn into ("occupation" for stdlib.occupations): a recipe
  // whose anchor of that name does not come from a table deriving the same facts has lost them.
  std::string anchor_name;
};

// What the checker needs to know about a taxonomy.
struct TaxonomyInfo {
  std::vector<std::string> paths;  // every node's path, in preorder (for "did you mean")
  // A fact that the taxonomy's applicability conditions (`?` lines) read.
  struct FactUse {
    std::string fact;
    std::size_t attributes = 0;  // leaves under a condition that reads it
    std::string example;         // one such condition, as written
    SourceRange where;           // where that condition is written
  };
  std::vector<FactUse> facts;
};

// The world outside the recipe: tables and taxonomies. The interpreter implements it over the
// stdlib (frontend::StdEnvironment); tests implement it with fixed answers. lang/ itself knows no
// table or taxonomy format.
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
  // The taxonomy a recipe names (a stdlib name, or a resolved file path when `is_file`): its paths
  // and the facts its conditions read. nullptr when unknown or unreadable (its own problems go to
  // the sink); the checks against the taxonomy are then skipped.
  [[nodiscard]] virtual std::shared_ptr<const TaxonomyInfo> taxonomy(const std::string& /*taxonomy*/, bool /*is_file*/,
                                                                     DiagnosticSink& /*sink*/) const {
    return nullptr;
  }
  // The leaves a filter glob selects in that taxonomy, as sorted leaf indices: the glob selects
  // nodes (`*` one path segment, `**` any depth, `?` one character) and a node selects the leaves of
  // its subtree. nullopt when the taxonomy is unknown (no check).
  [[nodiscard]] virtual std::optional<std::vector<std::uint32_t>> glob_matches(const std::string& /*taxonomy*/,
                                                                               bool /*is_file*/,
                                                                               std::string_view /*glob*/) const {
    return std::nullopt;
  }
};

// How warnings are treated (`persona check --no-warn NAME --Werror`). A recipe silences warnings
// in its own file with a comment `# persona: allow NAME, NAME`.
struct CheckOptions {
  std::vector<std::string> no_warn;  // warning names (check/warnings.hpp) that are not reported
  bool warnings_as_errors = false;   // every reported warning becomes an error
};

// Checks a parsed recipe. `file` is its path (imports resolve relative to it); imported files are
// read through `sources` so their diagnostics render with their lines.
std::optional<Recipe> check(const ast::Recipe& recipe, const std::string& file, SourceFiles& sources,
                            const Environment& env, DiagnosticSink& sink, const CheckOptions& options = {});

// Reads, parses and checks a file.
std::optional<Recipe> check_file(const std::string& path, SourceFiles& sources, const Environment& env,
                                 DiagnosticSink& sink, const CheckOptions& options = {});

// Parses and checks a text registered in `sources` under `name` (the REPL uses "<repl>").
std::optional<Recipe> check_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                 const Environment& env, DiagnosticSink& sink, const CheckOptions& options = {});

}  // namespace persona::lang
