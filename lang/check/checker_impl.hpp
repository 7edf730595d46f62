// The checker's private parts, shared by its files (one per phase or concern):
//   checker.cpp     the driver, reporting, header/taxonomy/seed/tables, the public functions
//   merge.cpp       phase 1: `import`/`extends` merged into one Scope (each file parsed once)
//   anchors.cpp     anchors: distributions, weights, table draws, `by` names, keys and labels
//   facts.cpp       facts (anchors and derived facts): absence, coverage, conditions, the taxonomy's facts
//   attributes.cpp  the story and the attributes block (filters against the taxonomy)
//   population.cpp  the population block: calibration targets and oversampling
//   settings.cpp    narrative, model and output settings
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "check/checker.hpp"

namespace persona::lang::checking {

// Everything visible to a recipe after merging its `extends` and `import` files.
struct Scope {
  std::optional<ast::StringLit> name, version;
  std::map<std::string, ast::TableDecl> tables;
  std::map<std::string, ast::DistributionDecl> distributions;
  std::vector<ast::Anchor> anchors;
  std::vector<ast::StoryStep> steps;
  // attributes, merged setting by setting
  std::optional<ast::Range> count;
  std::optional<ast::Tiers> tiers;
  std::optional<ast::Ident> walk, prefer;
  std::vector<ast::Filter> filters;
  std::vector<ast::Panel> panels;  // `always`, from every file (a panel only grows)
  std::optional<ast::Number> batch, context;
  std::optional<ast::Population> population;
  std::optional<ast::Narrative> narrative;
  std::optional<ast::Model> model;
  std::optional<ast::Output> output;
  std::optional<ast::Ident> taxonomy_name;
  std::optional<ast::StringLit> taxonomy_file;
  std::optional<ast::Number> seed;
  std::vector<std::string> files;
};

// A fact that `by`, `from` and `when` may read: an anchor, or a fact derived by an anchor's table.
struct Fact {
  bool derived = false;
  std::string anchor;  // the anchor itself, or the anchor whose table derives it
  ValueType type = ValueType::text;
  std::optional<std::vector<std::string>> values;  // the text values it can take, when known
  bool maybe_absent = false;
  std::string absent_why;  // why some personas may lack it
  SourceRange where;       // the anchor's definition
};

// A table draw of an anchor whose `by` matches the table's keys, kept for the checks that read
// several anchors (keys, coverage, absence).
struct Draw {
  std::string anchor;
  ast::TableDraw draw;
  TableInfo info;
};

constexpr std::size_t kMaxImportDepth = 32;

class Checker {
 public:
  Checker(SourceFiles& sources, const Environment& env, DiagnosticSink& sink)
      : sources_(sources), env_(env), sink_(sink) {}

  std::optional<Recipe> run(const ast::Recipe& root, const std::string& file);
  // Warning names allowed per file by `# persona: allow` comments (known after run()).
  [[nodiscard]] const std::map<std::string, std::set<std::string>>& allowed() const { return allowed_; }

 private:
  SourceFiles& sources_;
  const Environment& env_;
  DiagnosticSink& sink_;
  std::size_t errors_ = 0;
  std::map<std::string, std::set<std::string>> allowed_;

  // merge.cpp
  std::vector<std::string> stack_;                                    // canonical paths being merged
  std::map<std::string, std::shared_ptr<const ast::Recipe>> parsed_;  // canonical path -> AST (null: failed)
  std::map<std::string, bool> merged_;                                // canonical path -> merged with everything
  // anchors.cpp / facts.cpp
  std::map<std::string, std::string> derived_by_;  // fact -> anchor whose table derives it
  std::map<std::string, ValueType> value_types_;   // anchors and derived facts
  std::map<std::string, Fact> facts_;
  std::vector<Draw> draws_;
  std::map<std::string, ast::Distribution> resolved_;  // anchor -> its distribution, references inlined
  std::map<std::string, Anchor> built_;                // anchor -> its checked form
  std::set<std::string> reported_tables_;
  std::shared_ptr<const TaxonomyInfo> taxonomy_;
  std::string taxonomy_ref_;  // the recipe's taxonomy (name or resolved path)
  bool taxonomy_is_file_ = false;

  // ---- reporting (checker.cpp) ----
  void error(const SourceRange& where, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {});
  void warning(const SourceRange& where, const std::string& code, const std::string& msg,
               std::vector<std::string> notes = {});
  // A diagnostic that also points at a second place (the first definition, the shadowing filter).
  void report_related(Severity severity, const SourceRange& where, const std::string& code, const std::string& msg,
                      Related related, std::vector<std::string> notes = {});
  void error_related(const SourceRange& where, const std::string& code, const std::string& msg, Related related,
                     std::vector<std::string> notes = {}) {
    report_related(Severity::error, where, code, msg, std::move(related), std::move(notes));
  }
  void unknown_name(const ast::Ident& id, const std::string& what, const std::vector<std::string>& candidates);
  void unknown_keyword(const ast::Ident& id, const std::string& what, const std::vector<std::string>& options);
  bool check_range(const ast::Range& r, const std::string& what, bool need_both);

  // ---- phase 1 (merge.cpp) ----
  void merge_file(const ast::Recipe& r, const std::string& file, Scope& scope, bool everything);
  void merge_include(const ast::Include& inc, const std::string& file, Scope& scope, bool everything);
  std::shared_ptr<const ast::Recipe> parse_import(const ast::Include& inc, const std::string& path,
                                                  const std::string& canon);
  void merge_own(const ast::Recipe& r, Scope& scope, bool everything);

  // ---- phase 2 (checker.cpp) ----
  void check_header(const std::string& file, Scope& scope, Recipe& out);
  void check_taxonomy(const Scope& scope, const std::string& file, Recipe& out);
  void check_seed(const Scope& scope, Recipe& out);
  void check_tables(const Scope& scope);

  // ---- anchors (anchors.cpp) ----
  void check_anchors(const Scope& scope, Recipe& out);
  const ast::Distribution* resolve_dist(const ast::Distribution& d, const Scope& scope, ast::Distribution& storage);
  void check_weights(const ast::Categorical& c);
  bool check_numeric(const ast::Numeric& n, Anchor& r);
  std::optional<TableInfo> table_info(const ast::TableDraw& t, const Scope& scope);
  bool check_table_draw(const ast::TableDraw& t, const Scope& scope, const std::optional<TableInfo>& info,
                        const std::vector<std::string>& facts, Anchor& r);
  void check_keys(const Scope& scope);
  bool topo_order(std::size_t n, const std::function<std::vector<std::size_t>(std::size_t)>& deps,
                  const std::function<std::string(std::size_t)>& name,
                  const std::function<SourceRange(std::size_t)>& where, const char* what,
                  std::vector<std::size_t>& order);

  // ---- facts (facts.cpp) ----
  std::vector<std::string> known_facts(const Scope& scope) const;
  void build_facts(const Scope& scope);
  void check_coverage();
  // Conditions: `present` holds the facts a surrounding `has` test guarantees.
  void check_condition(const cond::Condition& c, const std::vector<std::string>& facts,
                       std::set<std::string> present = {});
  void check_values(const cond::Condition& c);
  bool explain_missing_fact(const std::string& fact, const SourceRange& where);
  void check_taxonomy_facts(const Scope& scope);
  // The anchor that conventionally carries `fact` (e.g. occupation -> employment) when the recipe has
  // it but it does not derive the fact; empty otherwise. `table` is set to the table that derives it.
  std::string lost_source(const std::string& fact, std::string& table, std::string& how) const;

  // ---- story and attributes (attributes.cpp) ----
  void check_story(const Scope& scope, Recipe& out);
  void check_attributes(const Scope& scope, Recipe& out);
  void check_filters(const Scope& scope, Recipe& out);
  void check_globs(const Scope& scope);
  void check_panels(const Scope& scope, Recipe& out);

  // ---- population (population.cpp) ----
  void check_population(const Scope& scope, Recipe& out);

  // ---- settings (settings.cpp) ----
  void check_narrative(const Scope& scope, Recipe& out);
  void check_model(const Scope& scope, Recipe& out);
  void check_output(const Scope& scope, Recipe& out);
};

// Helpers shared by the checker's files.
std::string canonical(const std::string& path);
std::string resolve(const std::string& from_file, const std::string& rel);
// A "did you mean" for a label or key: case and spacing differences, initials ("USA" -> "United
// States"), a word of a longer name ("Korea" -> "Republic of Korea"), then the edit distance.
std::string suggest_label(const std::string& word, const std::vector<std::string>& candidates);
// "a, b and c" (at most `max` items, then "and N more").
std::string list_text(const std::vector<std::string>& items, std::size_t max = 6);
std::string number_text(double v);

}  // namespace persona::lang::checking
