// Distribution tables: the statistical sources that demographic anchors (age, gender, country,
// occupation, city, given name) are drawn from. Never invented by a model.
//
//   persona::DiagnosticList diags;
//   persona::tables::Library lib;
//   lib.load_dir(persona::stdlib_dir() / "tables", diags);      // stdlib.countries, stdlib.age_structure, ...
//   const Table* ages = lib.find("stdlib.age_structure");
//   const cond::Value key[] = {std::string("Kenya")};
//   if (const Dist* d = ages->lookup(key)) {
//     Rng rng = Rng::derive(seed, index, "anchor:age");
//     cond::Value age = ages->sample(*d, rng);                    // double, e.g. 23.0
//   }
//
// The file format is described in docs/tables.md. Loading never throws: every problem is reported
// to the DiagnosticSink with its file and line, and the table is rejected (nullptr / nullopt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/rng.hpp"
#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"

namespace persona::tables {

enum class ValueKind { category, integer_range, number };

// What the weights of a table mean. `share`: each distribution's weights are fractions that sum to 1;
// `percent`: percentages that sum to 100; `count`: counts or other relative weights, normalised as
// they are. Shares and percents that do not sum to their total (within Table::tolerance) are a load
// error naming the file and line of the distribution.
enum class WeightUnit { count, share, percent };

struct Builder;  // internal: fills tables while parsing

// "category" | "integer-range" | "number"
std::string_view to_string(ValueKind k);
std::optional<ValueKind> parse_value_kind(std::string_view s);
// "count" | "share" | "percent"
std::string_view to_string(WeightUnit u);
std::optional<WeightUnit> parse_weight_unit(std::string_view s);

// An inclusive integer range parsed from a key: "18-24" -> [18, 24]; "65+" -> [65, open].
// `open` ranges have hi == lo + 4 when used as drawn values (integer-range tables) and extend to
// +infinity when used as `by` keys (a persona of age 103 matches "75+").
struct RangeKey {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  bool open = false;
};
// Parses "A-B" (A <= B), "A+" or a bare integer "A" (= "A-A"); nullopt otherwise.
std::optional<RangeKey> parse_range_key(std::string_view key);

// One discrete distribution: the weights at one combination of conditioning keys.
class Dist {
 public:
  [[nodiscard]] std::size_t size() const { return labels_.size(); }
  // Keys as written in the file ("Nairobi", "0-4", "100+", "2.5"), in file order.
  [[nodiscard]] const std::vector<std::string>& labels() const { return labels_; }
  // Normalised probabilities (sum to 1), parallel to labels().
  [[nodiscard]] const std::vector<double>& probabilities() const { return probs_; }
  // Raw weights as written, parallel to labels().
  [[nodiscard]] const std::vector<double>& weights() const { return weights_; }
  [[nodiscard]] double total_weight() const { return total_; }
  // Probability of one label (0 when absent).
  [[nodiscard]] double probability(std::string_view label) const;
  // label -> probability, for jensen_shannon().
  [[nodiscard]] std::map<std::string, double, std::less<>> as_map() const;

 private:
  friend class Table;
  friend struct Builder;
  std::vector<std::string> labels_;
  std::vector<double> weights_;
  std::vector<double> probs_;
  std::vector<double> cumulative_;  // cumulative_[i] = sum of weights_[0..i]
  std::vector<RangeKey> ranges_;    // integer_range tables: parsed labels
  std::vector<double> numbers_;     // number tables: parsed labels
  double total_ = 0.0;
};

class Table {
 public:
  // Metadata.
  std::string name;  // as found by Library::find(): "stdlib.age_structure" or the user's name
  std::string description;
  std::string source;   // publisher and dataset, e.g. "UN DESA Population Division, World Population Prospects"
  std::string edition;  // edition or release of the dataset, e.g. "2024 revision, medium variant"
  std::string url;      // where the source file is published
  std::string licence;  // licence of the source data, e.g. "CC BY 3.0 IGO"
  int year = 0;         // reference year of the figures (0 when unknown, e.g. CSV tables)
  ValueKind kind = ValueKind::category;
  WeightUnit unit = WeightUnit::count;  // user tables default to counts (no sum check)
  double tolerance = 1e-3;              // allowed |sum - 1| for shares (|sum - 100| / 100 for percents)
  std::vector<std::string> by;          // conditioning facts, in order
  SourceRange where;                    // the file (line 1) where the table was defined

  // The distribution at the given conditioning values, in `by` order. A numeric value (or a string
  // that parses as a number) selects the range key that contains it ("18-24", "65+"); a string
  // selects the key of that name; "*" is the fallback at any level. Missing trailing keys match
  // only "*". nullptr when nothing matches.
  [[nodiscard]] const Dist* lookup(std::span<const cond::Value> keys) const;
  // Same, from named facts (each `by` entry looked up in `facts`).
  [[nodiscard]] const Dist* lookup(const cond::Facts& facts) const;

  // One draw, O(log n) by cumulative weights. category: the label (std::string); integer_range: an
  // integer drawn uniformly inside the chosen range (as double); number: the key's number (double).
  [[nodiscard]] cond::Value sample(const Dist& d, Rng& rng) const;
  // The index of the chosen entry only (no draw inside ranges).
  [[nodiscard]] std::size_t sample_index(const Dist& d, Rng& rng) const;
  // Convenience: lookup + sample; nullopt when lookup() finds nothing.
  [[nodiscard]] std::optional<cond::Value> draw(std::span<const cond::Value> keys, Rng& rng) const;

  // The label of `d` that a drawn value belongs to (the range containing an integer, the key equal
  // to a number or a category label); nullopt when none. Used to bin samples for divergence checks.
  [[nodiscard]] std::optional<std::string> label_of(const Dist& d, const cond::Value& drawn) const;

  // `[derive.FACT]`: the derived fact for a drawn label ("*" is the fallback); nullopt when the
  // table has no such fact or no entry matches.
  [[nodiscard]] std::optional<std::string> derive(std::string_view fact, std::string_view label) const;
  // The facts this table derives (e.g. {"employment"}).
  [[nodiscard]] std::vector<std::string> derived_facts() const;

  // Every distinct label across all distributions, in first-seen order.
  [[nodiscard]] std::vector<std::string> all_labels() const;
  // Every distribution (in file order) with the conditioning keys that lead to it.
  struct Entry {
    std::vector<std::string> keys;  // one per `by` level, as written ("Kenya", "25-34", "*")
    const Dist* dist = nullptr;
  };
  [[nodiscard]] std::vector<Entry> entries() const;
  // The distinct keys written at one `by` level (excluding "*"), in first-seen order.
  [[nodiscard]] std::vector<std::string> keys_at(std::size_t level) const;
  // The keys written directly under a path of keys (one per level, as written, "*" included), e.g.
  // keys_under({"Japan"}) on a table by country, gender, age gives {"female", "male"}; "*" excluded.
  // Empty when the path does not exist or reaches the last level.
  [[nodiscard]] std::vector<std::string> keys_under(std::span<const std::string> path) const;
  // Whether level `level` of `by` has a "*" fallback anywhere.
  [[nodiscard]] bool has_fallback_at(std::size_t level) const;

 private:
  friend struct Builder;
  struct Child {
    std::string key;
    RangeKey range;  // valid when is_range
    bool is_range = false;
    std::size_t index = 0;  // node index (inner levels) or dist index (last level)
  };
  struct Node {
    std::vector<Child> children;                            // file order
    std::map<std::string, std::size_t, std::less<>> exact;  // key -> position in children
    std::vector<std::size_t> ranges;                        // positions of range keys, sorted by lo
    std::optional<std::size_t> fallback;                    // position of "*"
  };
  const Dist* descend(std::size_t node, std::size_t level, std::span<const cond::Value> keys) const;
  void collect(std::size_t node, std::size_t level, std::vector<std::string>& path, std::vector<Entry>& out) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root when by is non-empty
  std::vector<Dist> dists_;
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> derive_;
};

// Parsing from text (used by Library; exposed for tests and fuzzing). `file` names the source in
// diagnostics. For TOML, `strict` requires description, source, edition, url, licence, year and unit
// (stdlib tables) and the `name` field must equal `expected_stem` when given. `table_name` becomes
// Table::name.
std::optional<Table> parse_toml(std::string_view text, const std::string& file, std::string_view expected_stem,
                                std::string table_name, bool strict, DiagnosticSink& sink);
std::optional<Table> parse_csv(std::string_view text, const std::string& file, std::string table_name,
                               DiagnosticSink& sink);

class Library {
 public:
  Library();
  ~Library();
  Library(Library&&) noexcept;
  Library& operator=(Library&&) noexcept;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // Loads every `*.toml` in `dir` as `stdlib.<stem>` (strict metadata, name must equal the stem).
  // Returns the number of tables loaded; problems go to the sink.
  std::size_t load_dir(const std::filesystem::path& dir, DiagnosticSink& sink);
  // load_dir(stdlib_dir() / "tables").
  std::size_t load_stdlib(DiagnosticSink& sink);
  // Loads one user table (`.toml` or `.csv`, by extension) under `name`; replaces an earlier table
  // of that name. nullptr on error (reported to the sink).
  const Table* load_file(const std::filesystem::path& path, std::string name, DiagnosticSink& sink);
  // Adds an already-parsed table under its name (replacing an earlier one).
  const Table* add(Table t);

  [[nodiscard]] const Table* find(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] std::size_t size() const { return tables_.size(); }

 private:
  std::map<std::string, std::unique_ptr<Table>, std::less<>> tables_;
};

// Jensen-Shannon divergence between two discrete distributions given as label -> probability (or
// weight: each is normalised first). Base-2 logarithm, so the result is in [0, 1]; a label absent
// from one side has probability 0 there. Returns 1 when either side is empty or all zero.
double jensen_shannon(const std::map<std::string, double, std::less<>>& p,
                      const std::map<std::string, double, std::less<>>& q);

// Counts of samples (label -> count) turned into probabilities, e.g. for jensen_shannon().
std::map<std::string, double, std::less<>> normalise(const std::map<std::string, double, std::less<>>& counts);

}  // namespace persona::tables
