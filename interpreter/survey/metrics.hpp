// Distances between two answer distributions (docs/survey.md). Pure functions, no I/O.
//
//   Dist a = make_dist({1, 2, 2, 4});                 // unweighted sample
//   Dist b = make_dist({1, 2, 3}, {0.5, 0.3, 0.2});   // a weighted distribution
//   ks_statistic(a, b);  wasserstein1(a, b);
//   js_divergence(code_shares(a, codes), code_shares(b, codes));   // base 2: in [0, 1]
//
// Checked against scipy in tests/survey (ks_2samp, wasserstein_distance, jensenshannon).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace persona::survey {

// A discrete distribution: distinct support points in ascending order, each with a mass >= 0.
struct Dist {
  std::vector<double> x;
  std::vector<double> w;
  [[nodiscard]] double total() const;
  [[nodiscard]] bool empty() const { return total() <= 0; }
};

// Sorts the values and merges ties; `weights` empty means 1 each. Non-finite values and
// non-positive weights are dropped.
Dist make_dist(std::vector<double> values, std::vector<double> weights = {});

// sup_x |F_a(x) - F_b(x)| over the (weighted) empirical CDFs; for unweighted samples this is
// scipy.stats.ks_2samp's statistic. 0 when either is empty.
double ks_statistic(const Dist& a, const Dist& b);
// The integral of |F_a - F_b| (scipy.stats.wasserstein_distance with u_weights/v_weights).
double wasserstein1(const Dist& a, const Dist& b);
double mean(const Dist& d);

// Jensen-Shannon divergence of p and q (each normalised to sum 1) with logarithms in `base`:
// base 2 gives [0, 1]; the distance is its square root (scipy.spatial.distance.jensenshannon).
double js_divergence(std::span<const double> p, std::span<const double> q, double base = 2.0);

// Shares of `d` on each of `codes` (mass elsewhere is ignored), normalised to sum 1.
std::vector<double> code_shares(const Dist& d, const std::vector<double>& codes);
// Shares of `d` in `bins` equal-width bins over [lo, hi] (values outside go to the end bins).
std::vector<double> binned_shares(const Dist& d, double lo, double hi, int bins);

// The reference implementation's JS: numpy.histogram(v, bins=numpy.linspace(lo, hi, 20),
// density=True) for both samples (19 bins over the pooled min..max), each clipped below at 1e-10
// and normalised, then scipy's jensenshannon with the natural logarithm (a distance, not squared).
// NaN when both samples sit on one single value (numpy's zero-width bins), as in the reference.
std::vector<double> reference_histogram(const Dist& d, double lo, double hi);
double reference_js_distance(const Dist& a, const Dist& b);

// Draws n values from d (inverse CDF); u in [0, 1) supplies the randomness.
template <typename Uniform>
std::vector<double> draw(const Dist& d, std::size_t n, Uniform&& u) {
  std::vector<double> cum(d.w.size());
  double acc = 0;
  for (std::size_t i = 0; i < d.w.size(); ++i) cum[i] = acc += d.w[i];
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t k = 0; k < n && acc > 0; ++k) {
    const double t = u() * acc;
    std::size_t i = 0;
    while (i + 1 < cum.size() && cum[i] <= t) ++i;
    out.push_back(d.x[i]);
  }
  return out;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Every figure reported for one comparison. NaN where a metric does not apply (the ordinal ones
// for unordered options).
struct Scores {
  double ks = kNaN;
  double w1 = kNaN;             // on the raw answer scale
  double w1_norm = kNaN;        // divided by the scale's range (max - min)
  double js_divergence = kNaN;  // base 2 (reference conventions: natural log)
  double js_distance = kNaN;    // sqrt of the divergence
  double mean_sim = kNaN;
  double mean_target = kNaN;
  double mean_diff = kNaN;       // |mean_sim - mean_target|
  double mean_diff_norm = kNaN;  // divided by the range
};

// How answers become distributions and how JS is computed.
struct Conventions {
  bool reference = false;  // reference: per-persona mean over repeats, 19-bin natural-log JS distance
};

enum class Scale { ordinal, nominal, numeric };

struct ScaleInfo {
  Scale kind = Scale::ordinal;
  std::vector<double> codes;  // ordinal/nominal: the substantive codes
  double min = 0, max = 0;    // the declared range
  int bins = 10;              // numeric
};

Scores compare(const ScaleInfo& s, const Dist& sim, const Dist& target, const Conventions& c);

}  // namespace persona::survey
