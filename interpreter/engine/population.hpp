// The population of one run (the recipe's `population` block): which calibrated anchor values each
// persona index gets, decided for the whole run of N at once so that the counts hit the targets.
//
//   auto pop = engine::Population::build(prog->model(), seed, n, sink);   // nullptr on error
//   prog->begin(seed, i, p, pop.get());   // the anchor steps take persona i's cell values
//
// How (docs/language.md "population"):
//   1. the joint of the calibrated anchors from the recipe's own tables (every value each anchor can
//      draw given the calibrated anchors it is drawn by; integer ranges split into single integers;
//      bounds applied as the draw applies them);
//   2. raking (iterative proportional fitting) of that joint to every target's shares;
//   3. oversampling: a group's cells scaled by its factor;
//   4. integerisation: each target's group counts are N x share rounded by largest remainders (they
//      sum to N), and the cell counts are made to add up to every target's counts (a move of one
//      person at a time between cells; what cannot be reached is the residual, reported);
//   5. the N cell slots shuffled by Rng::derive(seed, N, "population"): persona i takes slot i.
// Everything depends only on the recipe, its tables, the seed and N, so shards and resumes agree.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"

namespace persona::engine {

class Model;

struct CalibrationReport {
  std::string target;      // "region, gender, age to table census" / "country, gender (the recipe's tables)"
  std::size_t groups = 0;  // the target's cells
  std::int64_t off = 0;    // persons away from the integer targets: sum |count - target| / 2
  double raking_gap = 0;   // largest |share - target share| after raking (0 when consistent)
};

class Population {
 public:
  // Errors (a target naming values the tables cannot produce, too many cells, an empty joint) go to
  // the sink at the population block's statements; warnings for a residual. nullptr on error.
  static std::shared_ptr<const Population> build(const Model& m, std::uint64_t seed, std::uint64_t n,
                                                 DiagnosticSink& sink);

  [[nodiscard]] std::uint64_t size() const { return n_; }
  // Persona `index`'s value of recipe anchor `anchor` (index into recipe().anchors); nullptr when that
  // anchor is not calibrated or index >= N.
  [[nodiscard]] const cond::Value* value(std::uint64_t index, std::size_t anchor) const;
  // Persona `index`'s design weight (oversampling only); nullopt without oversampling.
  [[nodiscard]] std::optional<double> weight(std::uint64_t index) const;
  [[nodiscard]] std::size_t cell_count() const { return counts_.size(); }
  [[nodiscard]] const std::vector<CalibrationReport>& reports() const { return reports_; }
  [[nodiscard]] std::int64_t residual() const;  // the reports' `off`, summed
  // One line for the plan and the manifest: "calibrated region, gender, age: 1,000 personas in 140 cells".
  [[nodiscard]] std::string summary() const;

 private:
  std::uint64_t n_ = 0;
  std::vector<int> dim_of_anchor_;  // recipe anchor -> dim, -1 when not calibrated
  std::size_t dims_ = 0;
  std::vector<cond::Value> values_;   // cell c, dim d at c * dims_ + d
  std::vector<std::int64_t> counts_;  // per cell
  std::vector<double> cell_weight_;   // per cell (oversampling), empty without
  std::vector<std::uint32_t> slots_;  // persona index -> cell
  std::vector<CalibrationReport> reports_;
  std::vector<std::string> anchor_names_;
};

}  // namespace persona::engine
