// What the standard library knows about how attributes hang together, as data read next to the
// taxonomy (docs/taxonomy-format.md, "Rules files" and "Twins"):
//
//   - facts: named properties of a persona that several attributes depend on. A fact takes the
//     value of a recipe anchor (or derived fact) of its name or of a bound anchor; a *latent* fact
//     is drawn per persona from its own (conditional) weights when no anchor gives it, so that
//     every attribute about children, partner, religion or smoking agrees with one hidden truth;
//   - option links: "this option of this leaf requires CONDITION" (a condition over facts);
//   - twins: classes of leaves that carry one meaning, and the record of merged twins.
//
// The taxonomy loader parses and checks these books (every reference resolved, every problem a
// diagnostic with file and line); interpreter/coherence compiles them for drawing and checking.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taxonomy.hpp"

namespace persona::tax {

// One fact of a rules file (`fact NAME | DESCRIPTION`).
struct FactDecl {
  enum class Type : std::uint8_t { category, number };
  enum class Absent : std::uint8_t { draw, skip };
  struct Binding {
    std::string anchor;                // recipe anchor or derived fact read when present
    std::optional<std::size_t> value;  // `anchor city => big_city`: any value of the anchor means this label
    SourceRange where;
  };
  struct Derive {  // `derive 2025 - age` (number facts)
    double minuend = 0;
    std::string fact;
    SourceRange where;
  };

  std::string name;
  std::string description;
  Type type = Type::category;
  std::vector<ValueOption> values;                // category: labels and base weights
  std::vector<std::vector<std::string>> aliases;  // parallel to values: other spellings
  std::vector<Weighting> weightings;              // `~ when` / `~ table` lines
  std::vector<Binding> bindings;                  // always includes the fact's own name first
  std::optional<Derive> derive;
  Absent absent = Absent::skip;
  SourceRange where;

  // The label index for a text (exact, then case- and punctuation-insensitive, then aliases).
  [[nodiscard]] std::optional<std::size_t> label_index(std::string_view text) const;
  [[nodiscard]] bool drawable() const { return absent == Absent::draw; }
};

// `OPTION | OPTION: CONDITION` inside a `leaf` block.
struct OptionLink {
  std::vector<std::size_t> options;  // indices into the leaf's values
  cond::Condition condition;
  std::string text;  // the condition as written
  SourceRange where;
};

// A `leaf PATH` block.
struct LeafRules {
  Vertex leaf = 0;
  std::string family;     // `family NAME` above the block, else the file's stem
  std::string statement;  // `say TEXT`: the rule in words, quoted to an LLM; may be empty
  std::vector<OptionLink> links;
  SourceRange where;
};

struct RuleBook {
  std::vector<FactDecl> facts;     // in dependency order (a fact's conditions read earlier facts)
  std::vector<LeafRules> leaves;   // in file order
  std::vector<std::string> files;  // the rules files read
  [[nodiscard]] const FactDecl* fact(std::string_view name) const;
  [[nodiscard]] std::optional<std::size_t> fact_index(std::string_view name) const;
  // The block for a leaf, or nullptr.
  [[nodiscard]] const LeafRules* leaf(Vertex v) const;
  [[nodiscard]] bool empty() const { return facts.empty() && leaves.empty(); }
};

// `twins.toml`: classes of leaves with one meaning (each gets one meaning id) and the merges done
// in the `.tax` files (the merged-away path must not come back).
struct TwinBook {
  struct Class {
    std::vector<Vertex> leaves;
    std::vector<std::string> paths;
    std::string reason;
    SourceRange where;
  };
  struct Merge {
    std::string from;  // the path removed
    std::string into;  // the path kept
    std::string reason;
    SourceRange where;
  };
  std::vector<Class> classes;
  std::vector<Merge> merges;
  std::string file;
};

// Parses rules files (name, text) against a loaded taxonomy and attaches the book. Checks: syntax;
// unknown, duplicate or cyclic facts; a leaf path or glob that matches no leaf or several; an option
// that the leaf does not have; a condition on an undeclared fact or a value a fact does not have;
// weights that do not form a distribution; bindings and `absent` of every fact; `?` and `~ when`
// conditions of the taxonomy on undeclared facts. False (and nothing attached) on any error.
bool load_rules(Taxonomy& t, const std::vector<std::pair<std::string, std::string>>& files, DiagnosticSink& sink);
// Parses a `twins.toml` text against a loaded taxonomy and attaches it (recomputing meaning ids).
// Checks: every path is a leaf, no leaf in two classes, a class has at least two leaves, a merged
// path is gone and its target exists. False (and nothing attached) on any error.
bool load_twins(Taxonomy& t, std::string_view text, const std::string& file, DiagnosticSink& sink);

// Parses the part of a `~` line after "~ " for a node or fact whose options are `options`
// (`when COND: label @w | ...`, `table NAME by f1, f2`, `uniform: REASON`). `line` is the whole
// line (for columns). Errors go to the sink; nullopt on error. Shared by `.tax` and rules files.
std::optional<Weighting> parse_weighting(std::string_view line, std::string_view rest, std::uint32_t lineno,
                                         const std::string& file, const std::vector<ValueOption>& options,
                                         DiagnosticSink& sink);

}  // namespace persona::tax
