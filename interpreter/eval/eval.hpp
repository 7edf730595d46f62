// Quality figures of a persona file: what `persona eval` prints and `persona report` draws.
//
//   eval::Options o;                                   // definitions from stdlib/eval/eval.toml
//   o.defs = *eval::load_definitions(eval::default_definitions_path(), sink);
//   eval::Evaluator ev(o, targets);                   // targets: from a recipe, or nullptr
//   while (reader.next(rec) == record::ReadStatus::ok) ev.add(rec);
//   eval::FileReport rep = ev.finish("out.jsonl");    // rep.metrics["filler"], histograms, ...
//
// Everything streams: an Evaluator holds counters, histograms, one small signature per persona (for
// near-duplicates) and a bounded, deterministic sample (for pairwise similarity), so memory stays flat
// whatever the number of personas. The figures and their exact definitions are in docs/eval.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/recipe.hpp"
#include "diag/diagnostic.hpp"
#include "record/record.hpp"
#include "tables/tables.hpp"

namespace persona::eval {

// ---- hooks for the consistency rules and the meaning of paths (filled in by other stages) ----

// One broken consistency rule in one persona.
struct Violation {
  std::string rule;     // stable rule name, e.g. "children-before-birth"
  std::string message;  // what is wrong in this persona
};
// persona record -> the rules it breaks. Empty function: contradictions are not counted.
using ContradictionFn = std::function<std::vector<Violation>(const record::PersonaRecord&)>;
// attribute path -> an id of its meaning; two paths with one id are semantic twins. Empty function:
// the folded leaf name ("Sleep/Chronotype" -> "chronotype").
using MeaningFn = std::function<std::string(std::string_view path)>;

// ---- definitions (data: stdlib/eval/eval.toml) ----

struct Definitions {
  // Negative filler: a filled value that, lower-cased and trimmed, equals one of `filler_exact` or
  // starts with one of `filler_prefix`.
  std::vector<std::string> filler_exact;
  std::vector<std::string> filler_prefix;
  // Anchors used as quasi-identifiers when a record has them (numbers are put into bands of
  // `age_band` years; text is folded).
  std::vector<std::string> quasi_identifiers;
  int age_band = 5;
  // Two personas whose (path, value) sets have a Jaccard similarity of at least this are near-duplicates.
  double near_duplicate = 0.8;
  std::string file;  // where they were read from
};
std::filesystem::path default_definitions_path();  // stdlib/eval/eval.toml
std::optional<Definitions> load_definitions(const std::filesystem::path& path, DiagnosticSink& sink);
bool is_filler(const Definitions& d, std::string_view value);

// ---- targets (from a recipe) ----

struct AnchorTarget {
  std::string name;
  const tables::Table* table = nullptr;  // owned by Targets::tables
  std::vector<std::string> by;
  lang::Bound bound;
};

struct Targets {
  std::string recipe;       // name and version
  std::string recipe_hash;  // lang::Recipe::text_hash (a manifest's recipe.text_hash)
  int min_count = 0, max_count = 0;
  double near = 0, mid = 0, far = 0;  // as declared (normalised when compared)
  int min_words = 0, max_words = 0;   // narrative word range (0, 0: `narrative none`)
  std::vector<AnchorTarget> anchors;  // table-drawn anchors
  std::shared_ptr<const tables::Library> tables;
  // Share of the taxonomy's leaves under each top-level category (what a draw blind to categories gives).
  std::vector<std::pair<std::string, double>> categories;
};
// The targets a recipe sets. `taxonomy_leaves` (category -> leaves) may be empty.
Targets targets_from_recipe(const lang::Recipe& r, std::shared_ptr<const tables::Library> tables,
                            const std::vector<std::pair<std::string, std::size_t>>& taxonomy_leaves);

// The probabilities of the labels of `d`, restricted to a truncation window for integer-range tables
// (a "15-19" bin under `truncate 18..90` keeps 2/5 of its weight), renormalised.
std::map<std::string, double, std::less<>> restricted(const tables::Table& t, const tables::Dist& d,
                                                      const lang::Bound& b);

// ---- options ----

struct Options {
  Definitions defs;
  std::size_t sample = 1000;       // personas in the pairwise-similarity sample
  std::uint64_t sample_seed = 0;   // which personas: the `sample` smallest hashes of (seed, id)
  ContradictionFn contradictions;  // empty: not counted
  MeaningFn meaning;               // empty: folded leaf name
  std::size_t max_labels = 2000;   // distinct labels kept per anchor; the rest count as "(other)"
};

// ---- results ----

// Counts of integer values (attributes per persona, words per narrative, ...).
using Histogram = std::map<std::int64_t, std::uint64_t>;

struct AnchorResult {
  std::string name;
  std::string table;                                     // "" without a recipe
  std::vector<std::pair<std::string, double>> realised;  // label -> personas, table order then first-seen
  std::vector<std::pair<std::string, double>> expected;  // label -> probability (with a table)
  std::optional<double> js;                              // Jensen-Shannon (base 2) against `expected`
  // What a perfect sampler's JS would be from sampling noise alone, about (K-1) / (8 N ln 2) for K
  // labels and N personas (meaningful when N is well above K).
  std::optional<double> noise_floor;
  std::uint64_t unmatched = 0;  // personas without a value or a table row
};

struct PrivacyResult {
  std::vector<std::string> quasi_identifiers;  // the ones present in the file
  std::uint64_t classes = 0;                   // distinct combinations
  // Personas by the size of their class: 1, 2, 3-4, 5-9, 10+.
  std::vector<std::pair<std::string, std::uint64_t>> by_class_size;
  std::uint64_t exact_duplicates = 0;  // personas whose (path, value) set and anchors equal an earlier one's
  std::uint64_t near_duplicate_pairs = 0;
  std::vector<std::tuple<std::string, std::string, double>> examples;  // up to 10 pairs: id, id, Jaccard
  bool pairs_capped = false;  // candidate pairs exceeded the verification budget
};

struct Damage {
  std::uint64_t bad_lines = 0;        // lines that are not persona records
  bool torn = false;                  // a last line without '\n'
  std::vector<std::string> messages;  // "line N: why" (the first 20)
  bool unreadable = false;            // the file could not be opened or read
};

struct FileReport {
  std::string file;
  std::uint64_t personas = 0;
  Damage damage;
  // Every scalar figure by its metric name (the names `--fail-on` takes; see metric_names()).
  std::map<std::string, double> metrics;
  Histogram attributes_per_persona, narrative_words, path_depth, categories_per_persona;
  // Pairwise similarity in the sample, in 20 bins of 0.05 (bin i: [i/20, (i+1)/20)).
  std::vector<std::uint64_t> path_similarity, value_similarity, narrative_similarity;
  std::uint64_t sample = 0;                                       // personas in the similarity sample
  std::vector<std::pair<std::string, std::uint64_t>> categories;  // attributes per top-level category
  std::vector<std::pair<std::string, double>> category_targets;   // share of taxonomy leaves (recipe)
  std::map<std::string, std::uint64_t> tiers;                     // attributes per tier
  std::map<std::string, double> tier_targets;                     // near/mid/far shares (recipe)
  std::vector<AnchorResult> anchors;
  std::map<std::string, std::uint64_t> contradictions_by_rule;
  bool contradictions_counted = false;
  PrivacyResult privacy;
  std::optional<Targets> targets_used;  // set when a recipe gave targets
  std::string recipe;                   // its name, when given
};

// Streams records in; finish() computes the figures.
class Evaluator {
 public:
  Evaluator(Options o, const Targets* targets);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  void add(const record::PersonaRecord& r);
  // A line the reader could not use (counted and kept for the report).
  void damaged(const std::string& message, bool torn);
  FileReport finish(const std::string& file);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads a persona file (JSONL or a long CSV pair) through record::Reader and evaluates it. Damaged
// lines are reported to the sink as errors naming the file and line (the first 20) and counted in
// the report; an unreadable file is an error (report.damage.unreadable).
FileReport evaluate_file(const std::string& path, const Options& o, const Targets* targets, DiagnosticSink& sink);

// ---- output ----

// The scalar figures, in display order: name, kind and a one-line meaning. Per-anchor figures
// "anchor_js.NAME" come on top of these.
struct MetricInfo {
  std::string name;
  enum class Kind { count, share, number } kind = Kind::number;
  std::string meaning;
};
const std::vector<MetricInfo>& metric_names();
const MetricInfo* find_metric(std::string_view name);  // "anchor_js.X" finds the anchor_js entry
// JSON for scripts: {"version":1,"files":[...]}.
std::string to_json(const std::vector<FileReport>& reports);
// A readable table: one row per metric, one column per file.
std::string to_table(const std::vector<FileReport>& reports);

// ---- gates (`--fail-on EXPR`) ----

struct Gate {
  std::string metric;
  std::string op;  // > >= < <= == !=
  double value = 0;
  std::string text;  // as written
};
// "contradictions>0.01", "filler >= 0.05", "anchor_js.age>0.02". Unknown metric names are errors
// (with a "did you mean").
std::optional<Gate> parse_gate(std::string_view expr, std::string& error);
struct GateResult {
  Gate gate;
  std::string file;
  std::optional<double> value;  // nullopt: the metric was not computed for this file
  bool crossed = false;
};
std::vector<GateResult> check_gates(const std::vector<Gate>& gates, const std::vector<FileReport>& reports);

}  // namespace persona::eval
