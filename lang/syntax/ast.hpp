// The recipe AST. Every node carries the SourceRange it came from, so any later phase (checker,
// compiler, engine) can blame a value at its definition.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"

namespace persona::ast {

struct Node {
  SourceRange where;
};

struct Ident : Node {
  std::string text;  // may be dotted: stdlib.age_structure
};

struct StringLit : Node {
  std::string value;  // unescaped
};

struct Number : Node {
  double value = 0;
  std::string text;  // as written, for the formatter
};

// a..b, a.., ..b; bounds as written.
struct Range : Node {
  std::optional<Number> lo;
  std::optional<Number> hi;
  bool single = false;  // written as one number: n means n..n
};

// ---- distributions (the right-hand side of `anchor x ~ ...` and `distribution d = ...`) ----

struct Choice : Node {
  std::string label;    // a bare word, a quoted string or a number as written
  bool quoted = false;  // written as a string
  bool number = false;  // written as a number: { 1: 0.3, 2: 0.7 }
  Number weight;
};

struct Categorical : Node {
  std::vector<Choice> choices;
};

// uniform(a, b), normal(mean, sd), lognormal(mu, sigma)
struct Numeric : Node {
  Ident family;
  std::vector<Number> args;
};

// table stdlib.age_structure by country, gender
struct TableDraw : Node {
  Ident table;
  std::vector<Ident> by;
};

// a reference to a user `distribution`
struct DistRef : Node {
  Ident name;
};

struct Distribution : Node {
  std::variant<Categorical, Numeric, TableDraw, DistRef> form;
  enum class Bound { none, clamp, truncate };
  Bound bound = Bound::none;
  Range bound_range;  // valid when bound != none
  bool round = false;
};

// ---- declarations ----

struct Anchor : Node {
  Ident name;
  // exactly one of:
  std::optional<StringLit> fixed_text;  // anchor country = "Kenya"
  std::optional<Number> fixed_number;   // anchor age = 34
  std::optional<Distribution> draw;     // anchor age ~ ...
};

struct DistributionDecl : Node {
  Ident name;
  Distribution dist;
};

// table my_cities = "data/cities.csv"
struct TableDecl : Node {
  Ident name;
  StringLit path;
};

struct Field : Node {
  Ident name;
  Ident type;  // text | list | number
};

// Output shape of a story step: text (default), a list of n or a..b items, or an object.
struct Shape : Node {
  enum class Kind { text, list, object };
  Kind kind = Kind::text;
  Range count;                // for list: lo (and hi when a range)
  std::vector<Field> fields;  // for object
};

// `tone negative` or `tone random(positive, negative, neutral)`: the register the step's answer is
// written in, fixed or drawn per persona.
struct Tone : Node {
  bool random = false;
  std::vector<Ident> choices;
};

struct StoryStep : Node {
  Ident output;
  StringLit instruction;  // llm "core values"
  Shape shape;
  std::vector<Ident> inputs;        // from a, b
  std::optional<StringLit> prompt;  // prompt "..." template override
  std::optional<Tone> tone;         // tone ...
};

struct Story : Node {
  std::vector<StoryStep> steps;
  std::uint32_t close_line = 0;  // line of the closing '}'
};

struct Filter : Node {
  bool include = true;
  StringLit glob;  // or "*" written bare
  bool bare_star = false;
  std::optional<cond::Condition> when;
  std::string when_text;  // as written, for the formatter
};

struct Panel : Node {  // always "GLOB"
  StringLit glob;
};

struct Tiers : Node {
  Number near, mid, far;
};

struct Attributes : Node {
  std::optional<Range> count;
  std::optional<Tiers> tiers;
  std::optional<Ident> walk;    // random-bfs | bfs | dfs
  std::optional<Ident> prefer;  // long-tail | none
  std::vector<Filter> filters;  // in order
  std::vector<Panel> panels;    // `always` lines, in order
  std::optional<Number> batch;
  std::optional<Number> context;  // context budget in tokens per batch
  std::uint32_t close_line = 0;
};

// population { calibrate region, gender, age to table census }: exact integer counts on the joint of
// the listed anchors, from a target table or (without `to`) from the recipe's own tables.
struct Calibrate : Node {
  std::vector<Ident> anchors;
  std::optional<Ident> table;  // `to table NAME`
};

// oversample region = Wales x 3: the group's share of the sample is multiplied by 3 (weights undo it).
struct Oversample : Node {
  cond::Condition when;
  std::string when_text;  // as written, for the formatter
  Number factor;
};

struct Population : Node {
  std::vector<Calibrate> calibrate;
  std::vector<Oversample> oversample;
  std::uint32_t close_line = 0;
};

struct Narrative : Node {
  Ident voice;  // first-person | third-person | none
  std::optional<Range> words;
  std::optional<StringLit> prompt;
};

struct Param : Node {
  Ident key;
  std::variant<Number, StringLit, Ident> value;
};

struct Model : Node {
  StringLit provider;
  std::vector<Param> params;  // temperature 0.8, max_tokens 800, model "gpt-4o-mini"
};

struct Output : Node {
  std::vector<Param> params;  // path "out.jsonl", narrative on, ...
  std::uint32_t close_line = 0;
};

struct Include : Node {  // import "x.persona" | extends "x.persona"
  bool extends = false;
  StringLit path;
};

struct Comment {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string text;          // including the leading '#'
  bool own_line = true;      // false: trails code on its line
  bool blank_after = false;  // a blank line follows it (kept by the formatter)
};

struct Recipe : Node {
  std::optional<StringLit> name;
  std::optional<StringLit> version;
  std::optional<Node> header;  // where `recipe` was written
  std::vector<Include> includes;
  std::optional<Ident> taxonomy_name;      // taxonomy stdlib.core
  std::optional<StringLit> taxonomy_file;  // taxonomy "file.tax"
  std::optional<Node> taxonomy_where;
  std::optional<Number> seed;
  std::vector<TableDecl> tables;
  std::vector<DistributionDecl> distributions;
  std::vector<Anchor> anchors;
  std::optional<Story> story;
  std::optional<Attributes> attributes;
  std::optional<Population> population;
  std::optional<Narrative> narrative;
  std::optional<Model> model;
  std::optional<Output> output;
  std::vector<Comment> comments;
  // Order of top-level statements as written (kind, index into its vector) for the formatter.
  std::vector<std::pair<std::string, std::size_t>> order;
};

}  // namespace persona::ast
