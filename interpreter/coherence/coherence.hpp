// Coherent personas: the rule engine behind "no persona contradicts itself".
//
// The taxonomy's rules files declare facts (anchors such as age, gender, country, settlement, and
// latent facts such as marital status, children, religion, smoking) and link value options to
// conditions on them; `.tax` leaves weigh their options by condition (`~ when`) or from a table
// (`~ table stdlib.religion by country`). This module compiles all of it once per (taxonomy,
// tables) into flat arrays and serves three uses:
//
//   (a) drawing: the latent facts of a persona, then each leaf's option weights conditioned on
//       them, so the offline backend never emits a combination a rule forbids;
//   (b) checking: the violations of a finished persona (rule, attributes involved, values), with
//       checks whose facts are unknown counted as skipped, never as passed;
//   (c) re-asking: the readable statement of a rule, to quote to an LLM.
//
//   auto rules = coherence::Rules::compile(taxonomy, tables, sink);     // once; nullptr on error
//   coherence::State st;                                                // one per persona in flight
//   rules->begin(st, p.facts, seed, index);        // binds anchors, draws the latent facts
//   rules->export_facts(st, p.facts);              // latent facts visible to `?` and `when`
//   if (rules->possible(st, leaf)) { int k = rules->draw(st, leaf, rng); ... }
//   auto report = rules->check(record_facts, attributes);
//
// The per-persona path (begin, possible, weights, draw) does not allocate once a State has been
// used for a few personas; everything that depends only on the taxonomy is precomputed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/rng.hpp"
#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"
#include "tables/tables.hpp"
#include "taxonomy/rules.hpp"

namespace persona::coherence {
// A set of a fact's labels: bit i = label i (at most 127 labels), bit 127 = a value outside them.
__extension__ typedef unsigned __int128 LabelMask;  // NOLINT(modernize-use-using): __extension__ needs typedef
inline constexpr LabelMask label_bit(std::size_t i) { return LabelMask{1} << i; }
inline constexpr LabelMask kOtherLabel = LabelMask{1} << 127;
inline constexpr std::size_t kMaxLabels = 127;
}  // namespace persona::coherence
#include "taxonomy/taxonomy.hpp"

namespace persona::coherence {

class Rules;
struct Checker;

// Three-valued truth of a rule's condition for one persona.
enum class Truth : std::uint8_t { unknown = 0, no = 1, yes = 2 };

// How a fact got its value.
enum class Origin : std::uint8_t { unknown = 0, anchor, drawn, derived, inferred };

// One persona's facts and condition outcomes. Reusable (buffers keep their capacity).
class State {
 public:
  [[nodiscard]] bool bound() const { return rules_ != nullptr; }
  // Forgets the persona (keeps the buffers): unbound until the next Rules::begin.
  void unbind() { rules_ = nullptr; }
  // The fact's label ("married", "2"), its number (number facts), or empty when unknown.
  [[nodiscard]] std::string_view label(std::size_t fact) const;
  [[nodiscard]] Origin origin(std::size_t fact) const { return origin_[fact]; }

 private:
  friend class Rules;
  friend struct Checker;
  const Rules* rules_ = nullptr;
  std::vector<LabelMask> mask_;  // per fact: possible labels (bit 127: a value outside the labels)
  std::vector<double> number_;   // per fact (number facts)
  std::vector<Origin> origin_;   // per fact
  // Per compiled condition: (epoch << 2) | Truth, valid when the epoch is the current one (evaluated
  // on first use after begin(), so a persona pays only for the leaves it touches).
  mutable std::vector<std::uint32_t> memo_;
  std::uint32_t epoch_ = 0;
  std::vector<cond::Value> keys_;             // per fact: its value as text or number (table lookups)
  mutable std::vector<cond::Value> scratch_;  // table lookup keys
  std::string fold_;                          // folding buffer
  std::vector<cond::Value>& keys_scratch() const { return scratch_; }
};

// A finished persona's attribute, for check().
struct Attribute {
  std::string_view path;
  std::string_view value;
};

struct Violation {
  std::string family;     // rule family: "family", "milestones", "substances", ..., "twins", "applicability"
  std::string rule;       // stable id: "<family>:<leaf path>", "fact:<name>", "twins:<leaf path>"
  std::string statement;  // the rule in words, ready to quote in a re-ask
  std::vector<std::pair<std::string, std::string>> involved;  // (attribute path, "anchor NAME" or "fact NAME"; value)
  SourceRange where;                                          // the rule's line in its rules file (empty for twins)
};

struct CheckReport {
  std::vector<Violation> violations;
  std::size_t checked = 0;   // rule checks whose facts were known and that held
  std::size_t skipped = 0;   // rule checks that read a fact the persona does not have (unknown: not a pass)
  std::size_t unmapped = 0;  // attributes whose value is not one of the leaf's options, or whose path is unknown
  [[nodiscard]] bool ok() const { return violations.empty(); }
};

// Figures about the compiled rule set (for docs and the measurement test).
struct RuleStats {
  std::size_t facts = 0, latent_facts = 0, linked_leaves = 0, links = 0, conditional_leaves = 0, table_leaves = 0;
  std::vector<std::pair<std::string, std::size_t>> families;  // family -> linked leaves
};

class Rules {
 public:
  // Compiles the taxonomy's rule book (taxonomy.rules()) and its `~` lines against the tables.
  // Errors (a table that is not loaded, a table label that is not an option of the leaf or a value of
  // the fact, a table keyed on something else than its `by` list) go to the sink; nullptr on error.
  // A taxonomy without rules gives an empty rule set (weights from `=` and `~` lines only).
  static std::shared_ptr<const Rules> compile(const tax::Taxonomy& t, const tables::Library& tables,
                                              DiagnosticSink& sink);

  // ---- (a) drawing ----
  // Binds the facts the persona has (anchors and derived facts, by fact name or binding) and draws
  // every latent fact (`absent draw`) in dependency order, each from Rng::derive(seed, index,
  // "fact:" + name). Conditions are evaluated later, on first use, once per persona.
  void begin(State& st, const cond::Facts& facts, std::uint64_t seed, std::uint64_t index) const;
  // Adds the facts begin() drew or derived (never overwriting a fact already there), so the
  // taxonomy's `?` conditions and a recipe's `when` filters can read them.
  void export_facts(const State& st, cond::Facts& facts) const;
  // True when the leaf has at least one option its links allow (always true for a leaf without
  // options or links). A leaf that is not possible must not be selected.
  [[nodiscard]] bool possible(const State& st, tax::Vertex leaf) const;
  // The leaf's option weights for this persona: the first applicable `~` weighting (else the `=`
  // weights), zero for options a link forbids; when that leaves nothing, the `=` weights of the
  // allowed options, then equal weights among them. out.size() must be the number of options.
  // Returns the total (0: no option possible).
  double weights(const State& st, tax::Vertex leaf, std::span<double> out) const;
  // One weighted draw; the option index, or -1 when no option is possible (or the leaf has none).
  [[nodiscard]] int draw(const State& st, tax::Vertex leaf, Rng& rng) const;
  // False when a link forbids the option for this persona (true for an unbound state, an unknown
  // leaf or option, or an option without links). For values that come from elsewhere (an LLM).
  [[nodiscard]] bool allowed(const State& st, tax::Vertex leaf, std::size_t option) const;
  // The option whose label is `value` (exactly, else after text::fold), if any.
  [[nodiscard]] std::optional<std::size_t> option_of(tax::Vertex leaf, std::string_view value) const;

  // ---- (b) checking ----
  // The violations of a finished persona given its facts (anchors, derived facts, and latent facts
  // when the record carries them) and attributes (taxonomy path and value). Unknown latent facts
  // are inferred from the attributes: two attributes that need different values of one fact are a
  // violation naming both.
  [[nodiscard]] CheckReport check(const cond::Facts& facts, std::span<const Attribute> attributes) const;

  // ---- (c) re-asking ----
  // "Age at Leaving Parental Home = 'after 30' requires age > 30" or the rule's `say` text plus the
  // condition: what to quote when asking an LLM to correct a value.
  [[nodiscard]] std::string statement(tax::Vertex leaf, std::size_t option) const;

  // ---- introspection ----
  [[nodiscard]] const tax::Taxonomy& taxonomy() const { return *tax_; }
  [[nodiscard]] std::size_t fact_count() const { return facts_.size(); }
  [[nodiscard]] const std::string& fact_name(std::size_t f) const { return facts_[f].name; }
  [[nodiscard]] std::optional<std::size_t> fact_index(std::string_view name) const;
  [[nodiscard]] const std::vector<std::string>& fact_labels(std::size_t f) const { return facts_[f].labels; }
  [[nodiscard]] bool fact_is_number(std::size_t f) const { return facts_[f].number; }
  [[nodiscard]] RuleStats stats() const;
  // Leaves drawn with equal weights without a documented reason: no `@` weights (or all equal), no
  // `~ when`/`~ table` line, no link that decides them and no `~ uniform: REASON`.
  [[nodiscard]] std::vector<tax::Vertex> undocumented_uniform() const;
  // The family of a leaf's links ("" when it has none).
  [[nodiscard]] std::string_view family(tax::Vertex leaf) const;

  // Internal (public for the implementation files): compiled conditions and weightings.
  struct Node {
    enum class Kind : std::uint8_t { category, number, all, any, negate };
    Kind kind = Kind::category;
    cond::Op op = cond::Op::eq;
    std::uint16_t fact = 0;
    std::uint32_t first = 0, count = 0;                // all/any/negate: kids in kids_
    LabelMask mask = 0;                                // category: the labels for which the compare holds
    std::uint32_t values_first = 0, values_count = 0;  // number: values in numbers_
  };
  struct TableWeights {
    const tables::Table* table = nullptr;
    std::vector<std::uint16_t> by;                                    // fact indices
    std::vector<std::pair<const tables::Dist*, std::uint32_t>> rows;  // sorted by Dist*: -> weights row
    std::vector<std::vector<double>> weights;                         // per row, parallel to the options or labels
  };
  struct Weighing {               // one `~` line
    std::int32_t when = -1;       // condition index (when)
    std::vector<double> weights;  // when
    std::int32_t table = -1;      // index into tables_ (table)
  };
  struct FactInfo {
    std::string name;
    std::string description;
    bool number = false;
    bool closed = false;  // labels declared in the rules file
    bool drawable = false;
    std::vector<std::string> labels;                             // declared, or (open facts) the values rules mention
    LabelMask domain = 0;                                        // every label bit + the 'other' bit
    std::unordered_map<std::string, std::uint8_t> lookup;        // folded label or alias -> label
    std::vector<std::pair<std::string, std::int32_t>> bindings;  // anchor name -> label (-1: its value)
    std::vector<double> base;
    std::vector<Weighing> weighings;
    std::int32_t derive_from = -1;
    double derive_minuend = 0;
    std::uint64_t step_hash = 0;
  };
  struct LeafInfo {
    tax::Vertex vertex = 0;
    std::vector<double> base;
    std::vector<Weighing> weighings;
    std::vector<std::int32_t> option_cond;    // per option: condition index or -1
    std::vector<std::int32_t> applicability;  // check(): the leaf's and its ancestors' `?` conditions
    const tax::LeafRules* rules = nullptr;
    bool linked = false;
    bool always_possible = true;  // some option has no link
  };

 private:
  Rules() = default;
  friend struct Compiler;
  friend struct Checker;
  [[nodiscard]] Truth eval(const State& st, std::uint32_t node) const;
  // The memoised outcome of compiled condition c for the persona (see State::memo_).
  [[nodiscard]] Truth truth(const State& st, std::size_t c) const {
    std::uint32_t& m = st.memo_[c];
    if ((m >> 2) != st.epoch_) m = (st.epoch_ << 2) | static_cast<std::uint32_t>(eval(st, roots_[c]));
    return static_cast<Truth>(m & 3u);
  }
  // The draw path's data, packed: per leaf one Hot, its options' weights and links side by side, its
  // `~ when` lines with their weights in one array (fewer cache lines per attribute than LeafInfo).
  struct HotOption {
    double weight = 0;       // the `=` weight
    std::int32_t cond = -1;  // link condition or -1
  };
  struct HotWeighing {
    std::int32_t when = -1;     // condition index
    std::uint32_t weights = 0;  // first weight in hot_weights_
  };
  struct Hot {
    std::uint32_t options = 0;    // first option in hot_options_
    std::uint32_t weighings = 0;  // first weighing in hot_weighings_
    std::uint16_t option_count = 0;
    std::uint16_t weighing_count = 0;
    bool always_possible = true;
    bool tables = false;  // a `~ table` line: weights chosen by pick_weights on LeafInfo::weighings
  };
  [[nodiscard]] const double* pick_hot(const State& st, const Hot& h, std::size_t leaf) const;
  [[nodiscard]] const std::vector<double>* pick_weights(const State& st, const std::vector<Weighing>& ws,
                                                        bool facts_phase) const;
  void bind(State& st, const cond::Facts& facts) const;
  [[nodiscard]] std::int32_t label_of(const FactInfo& f, std::string_view text, std::string& buf) const;

  const tax::Taxonomy* tax_ = nullptr;
  std::shared_ptr<const tax::Taxonomy> keep_;  // unused when the caller keeps the taxonomy alive
  std::vector<FactInfo> facts_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> kids_;
  std::vector<double> numbers_;
  std::vector<std::uint32_t> roots_;                    // condition index -> root node
  std::vector<std::vector<std::uint16_t>> cond_facts_;  // condition index -> facts it reads
  std::vector<std::string> cond_text_;                  // condition index -> canonical text
  std::vector<TableWeights> tables_;
  std::vector<LeafInfo> leaves_;
  std::vector<Hot> hot_;  // parallel to leaves_
  std::vector<HotOption> hot_options_;
  std::vector<HotWeighing> hot_weighings_;
  std::vector<double> hot_weights_;
  std::vector<std::int32_t> leaf_of_;  // vertex -> index into leaves_ (-1: none)
};

}  // namespace persona::coherence
