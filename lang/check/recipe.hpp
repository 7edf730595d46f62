// The checked recipe: what the checker produces from an AST (imports and `extends` merged, names
// resolved, distribution references inlined, defaults applied, anchors and story steps in
// dependency order) and what the plan compiler and the engine consume. Every part keeps the
// SourceRange of its definition.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"

namespace persona::lang {

enum class ValueType { text, number };

struct Choice {
  std::string label;
  double weight = 0;             // as written; the engine normalises
  std::optional<double> number;  // set when every label of the categorical is a number: the drawn value
};

struct Bound {
  enum class Kind { none, clamp, truncate };
  Kind kind = Kind::none;
  std::optional<double> lo, hi;
};

// How an anchor gets its value.
struct AnchorSource {
  enum class Kind { fixed, categorical, uniform, normal, lognormal, table };
  Kind kind = Kind::fixed;
  cond::Value fixed;            // fixed
  std::vector<Choice> choices;  // categorical
  std::vector<double> args;     // uniform(lo, hi) | normal(mean, sd) | lognormal(mu, sigma)
  std::string table;            // table: "stdlib.age_structure" or a user table name
  std::string table_path;       // user table: resolved file path ("" for stdlib tables)
  std::vector<std::string> by;  // table: conditioning anchors / facts, in the table's order
  Bound bound;
  bool round = false;
};

struct Anchor {
  std::string name;
  ValueType type = ValueType::text;
  AnchorSource source;
  std::vector<std::string> depends_on;  // anchors/facts read by `by`
  SourceRange where;
};

struct StoryShape {
  enum class Kind { text, list, object };
  Kind kind = Kind::text;
  int min_items = 1, max_items = 1;                         // list
  std::vector<std::pair<std::string, std::string>> fields;  // object: name, type (text|list|number)
};

struct StoryStep {
  std::string output;
  std::string instruction;
  StoryShape shape;
  std::vector<std::string> inputs;    // anchors or earlier steps
  std::optional<std::string> prompt;  // template override
  // `tone`: the register of the answer; one entry is fixed, several are drawn from per persona
  // (equally likely, from Rng::derive(seed, index, "tone:" + output)). Empty: no tone asked.
  std::vector<std::string> tones;
  SourceRange where;
};

struct Filter {
  bool include = true;
  std::string glob;
  std::optional<cond::Condition> when;
  SourceRange where;
};

struct AttributeSettings {
  int min_count = 200, max_count = 250;
  double near = 5, mid = 3, far = 2;
  std::string walk = "random-bfs";   // random-bfs | bfs | dfs
  std::string prefer = "long-tail";  // long-tail | none
  std::vector<Filter> filters;       // in order; none means include *
  // `always` globs: the panel, leaves every persona receives whatever the filters say (taxonomy
  // order; a leaf that does not apply to a persona keeps its slot, status not_applicable).
  std::vector<std::string> panels;
  int batch = 40;          // slots per LLM call
  int context_tokens = 0;  // profile budget per call in tokens (0: the whole profile)
};

// `population { calibrate ... }`: one calibration target, the joint of `anchors` (in the order
// written). With a table, the table's `by` names the first anchors and its labels are the last one's
// values (weights are counts unless the table has no `by`); without, the target is the joint the
// recipe's own tables give those anchors.
struct CalibrationTarget {
  std::vector<std::string> anchors;
  std::string table;       // "" = the recipe's own tables
  std::string table_path;  // a user table: its resolved file ("" for stdlib tables)
  SourceRange where;
};

struct OversampleRule {
  cond::Condition when;
  double factor = 1;
  SourceRange where;
};

struct PopulationSettings {
  std::vector<CalibrationTarget> targets;  // none: no population block (anchors drawn freely)
  std::vector<OversampleRule> oversample;
  SourceRange where;
  [[nodiscard]] bool present() const { return !targets.empty(); }
  // The calibrated anchors: the union of the targets' anchors, in the recipe's anchor order.
  std::vector<std::string> anchors;
};

struct NarrativeSettings {
  std::string voice = "first-person";  // first-person | third-person | none
  int min_words = 150, max_words = 400;
  std::optional<std::string> prompt;
};

using ParamValue = std::variant<double, std::string>;

struct ModelSettings {
  std::string provider = "default";
  std::map<std::string, ParamValue> params;  // temperature, max_tokens, top_p, model, ...
  SourceRange where;
};

struct Recipe {
  std::string name;
  std::string version;
  std::string file;                      // the recipe's own file
  std::vector<std::string> files;        // every file read (the recipe, then imports), for hashing
  std::string text_hash;                 // hex hash over the texts of `files`
  std::optional<std::uint64_t> seed;     // `seed N`; the CLI's --seed wins
  std::string taxonomy = "stdlib.core";  // a stdlib name ("stdlib.core") or a resolved file path
  bool taxonomy_is_file = false;
  std::vector<Anchor> anchors;   // dependency order
  std::vector<StoryStep> story;  // dependency order (declaration order where free)
  AttributeSettings attributes;
  PopulationSettings population;
  NarrativeSettings narrative;
  ModelSettings model;
  std::map<std::string, ParamValue> output;  // path, narrative, ...

  [[nodiscard]] const Anchor* anchor(std::string_view n) const {
    for (const auto& a : anchors)
      if (a.name == n) return &a;
    return nullptr;
  }
};

}  // namespace persona::lang
