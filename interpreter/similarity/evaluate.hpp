// Measuring a scorer against a labelled set of (persona core, attribute) pairs: ROC AUC over all
// pairs and the mean of the per-core AUCs (what the selection cares about: ranking one persona's
// candidates). The labelled set is two tab-separated files in one folder:
//
//   cores.tsv   id  country  age  gender  occupation  values  hobbies  story   (values and hobbies
//               comma-separated; a core's texts are the fields one by one, each value and hobby apart)
//   pairs.tsv   core  label  path  reason        (label: related | unrelated; path: a taxonomy leaf)
//
// Lines starting with '#' and the header line (first field "id" / "core") are skipped. Every problem
// is reported with file and line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "diag/diagnostic.hpp"
#include "similarity/scorer.hpp"

namespace persona::sim {

struct LabelledCore {
  std::string id;
  std::vector<std::string> texts;  // what score_all gets
};

struct LabelledPair {
  std::size_t core = 0;  // index into LabelledSet::cores
  tax::Vertex attribute = 0;
  bool related = false;
  std::string reason;
};

struct LabelledSet {
  std::vector<LabelledCore> cores;
  std::vector<LabelledPair> pairs;
};

// nullopt when a file is missing or any line is wrong (all wrong lines are reported).
std::optional<LabelledSet> load_labelled(const std::filesystem::path& dir, const tax::Taxonomy& t,
                                         DiagnosticSink& sink);

// Probability that a random related item (related[i] != 0) scores above a random unrelated one (ties
// count one half). NaN when either class is empty.
double roc_auc(std::span<const float> scores, std::span<const std::uint8_t> related);

struct Evaluation {
  double auc = 0;            // all selected pairs pooled
  double mean_core_auc = 0;  // mean over selected cores having both labels
  std::size_t pairs = 0;
  std::size_t cores = 0;
};

// Scores each selected core once (`use_core(index)`; all when empty) and evaluates its pairs.
Evaluation evaluate(const Scorer& scorer, const LabelledSet& set,
                    const std::function<bool(std::size_t core)>& use_core = {});

}  // namespace persona::sim
