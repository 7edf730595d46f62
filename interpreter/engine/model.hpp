// The engine's precomputed view of one (recipe, tables, taxonomy): everything the hot path needs
// that does not depend on the persona, computed once and shared read-only by all threads.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "check/recipe.hpp"
#include "coherence/coherence.hpp"
#include "diag/diagnostic.hpp"
#include "similarity/scorer.hpp"
#include "tables/tables.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::engine {

// Lexicon classes for leaves without value options (offline backend).
enum class Lexicon : std::uint8_t { frequency, level, yes_no, amount, duration, descriptor };

struct OptionInfo {
  std::string label;
  double weight = 1;
};

struct LeafInfo {
  tax::Vertex vertex = 0;
  std::uint32_t fold_id = 0;      // same id = same meaning (Taxonomy::meaning_id: folded name or twins class)
  std::uint32_t cond_set = 0;     // index into Model's condition sets
  std::uint64_t fill_hash = 0;    // stable_hash("fill:" + path): the leaf's fill stream
  std::uint64_t filter_bits = 0;  // bit f set when recipe filter f's glob matches the leaf
  float walk_weight = 1;          // 0.25 + long_tail: random-BFS key weight
  bool restates_anchor = false;   // excluded: restates an anchor (e.g. "Age Bracket" with an age anchor)
  bool panel = false;             // an `always` glob matches it: every persona receives it
  Lexicon lexicon = Lexicon::descriptor;
  std::string name;  // leaf name
  std::vector<OptionInfo> options;
  std::vector<std::uint32_t> near_dups;  // other leaves with TF-IDF cosine >= 0.9
};

struct AnchorInfo {
  const lang::Anchor* anchor = nullptr;
  const tables::Table* table = nullptr;  // table anchors
  std::vector<std::string> derived;      // facts the table derives
  std::vector<double> cumulative;        // categorical: normalised cumulative weights
  std::uint64_t step_hash = 0;           // stable_hash("anchor:" + name)
};

class Model {
 public:
  // Precomputes the leaf data (folded names, near-duplicate lists, condition sets, filter masks,
  // option rules, escaped strings). Errors (unknown table, too many filters) go to the sink.
  static std::unique_ptr<Model> create(lang::Recipe recipe, std::shared_ptr<const tables::Library> tables,
                                       std::shared_ptr<const tax::Taxonomy> taxonomy, DiagnosticSink& sink);

  [[nodiscard]] const lang::Recipe& recipe() const { return recipe_; }
  [[nodiscard]] const tax::Taxonomy& taxonomy() const { return *tax_; }
  [[nodiscard]] const tables::Library& tables() const { return *tables_; }
  // The shared tables and taxonomy (to compile another program over them).
  [[nodiscard]] const std::shared_ptr<const tables::Library>& tables_ptr() const { return tables_; }
  [[nodiscard]] const std::shared_ptr<const tax::Taxonomy>& taxonomy_ptr() const { return tax_; }
  // Facts, conditional option weights and consistency rules of the taxonomy (interpreter/coherence).
  [[nodiscard]] const coherence::Rules& rules() const { return *rules_; }
  [[nodiscard]] std::span<const LeafInfo> leaves() const { return leaves_; }
  [[nodiscard]] const LeafInfo& leaf(std::uint32_t i) const { return leaves_[i]; }
  [[nodiscard]] std::span<const AnchorInfo> anchors() const { return anchors_; }
  // The panel (`always` globs): leaf indices in taxonomy order, given to every persona.
  [[nodiscard]] std::span<const std::uint32_t> panel() const { return panel_; }
  [[nodiscard]] std::size_t fold_count() const { return fold_count_; }
  [[nodiscard]] std::span<const cond::Condition* const> conditions() const { return conditions_; }
  [[nodiscard]] const std::vector<std::uint32_t>& condition_set(std::uint32_t i) const { return cond_sets_[i]; }
  [[nodiscard]] std::size_t condition_set_count() const { return cond_sets_.size(); }
  // Conditions that read a latent fact (drawn by the coherence rules, not an anchor or a derived
  // fact): candidate lists treat them as holding and selection checks them per persona, so that the
  // candidate cache stays keyed by the anchors.
  [[nodiscard]] bool condition_latent(std::size_t c) const { return cond_latent_[c] != 0; }
  [[nodiscard]] const std::vector<std::uint32_t>& latent_conditions(std::uint32_t set) const {
    return set_latent_[set];
  }
  // Leaves that restate anchors (excluded from selection), for diagnostics.
  [[nodiscard]] std::size_t restating_leaves() const { return restating_; }
  // The taxonomy's display name ("stdlib.core" or the file).
  [[nodiscard]] const std::string& taxonomy_name() const { return recipe_.taxonomy; }

  // What ranks the candidates into near / mid / far tiers (interpreter/similarity): the scorer
  // Program::use_scorer gave, else the offline default, `semantic` (WordNet), built at the first
  // selection and shared by every program over the same taxonomy; `tfidf` when WordNet is missing
  // (Model::create warns). Thread-safe.
  [[nodiscard]] const sim::Scorer& scorer() const;
  // The offline scorer (semantic, or tfidf without WordNet) whatever use_scorer gave: what a persona
  // whose core embedding failed is ranked by. Thread-safe.
  [[nodiscard]] const sim::Scorer& offline_scorer() const;
  // "semantic", "tfidf" or "embeddings MODEL": what the plan and the run fingerprint show.
  [[nodiscard]] const std::string& similarity() const { return similarity_; }
  // The selection asks a backend for the core's embedding (the scorer is an EmbeddingScorer).
  [[nodiscard]] bool embeds_core() const { return embeds_core_; }
  void use_scorer(std::shared_ptr<const sim::Scorer> scorer, std::string description);
  // The embeddings a provider was to rank by are unusable: rank offline and say so in the plan and
  // the run fingerprint ("semantic (embeddings MODEL unavailable)").
  void fall_back_similarity(const std::string& embeddings) {
    similarity_ += " (embeddings " + embeddings + " unavailable)";
  }

 private:
  Model() = default;
  lang::Recipe recipe_;
  std::shared_ptr<const tables::Library> tables_;
  std::shared_ptr<const tax::Taxonomy> tax_;
  std::shared_ptr<const coherence::Rules> rules_;
  std::vector<LeafInfo> leaves_;
  std::vector<AnchorInfo> anchors_;
  std::vector<std::uint32_t> panel_;
  std::vector<const cond::Condition*> conditions_;  // distinct taxonomy conditions (by canonical text)
  std::vector<std::vector<std::uint32_t>> cond_sets_;
  std::vector<std::uint8_t> cond_latent_;               // per condition
  std::vector<std::vector<std::uint32_t>> set_latent_;  // per condition set: its latent conditions
  std::size_t fold_count_ = 0;
  std::size_t restating_ = 0;
  std::string similarity_ = "semantic";
  bool embeds_core_ = false;
  mutable std::once_flag scorer_once_;
  mutable std::shared_ptr<const sim::Scorer> scorer_;
  mutable std::once_flag offline_once_;
  mutable std::shared_ptr<const sim::Scorer> offline_;
};

}  // namespace persona::engine
