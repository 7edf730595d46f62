// Distances between answer distributions (metrics.hpp).
#include "survey/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace persona::survey {

double Dist::total() const { return std::accumulate(w.begin(), w.end(), 0.0); }

Dist make_dist(std::vector<double> values, std::vector<double> weights) {
  std::vector<std::pair<double, double>> vw;
  vw.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double wt = weights.empty() ? 1.0 : (i < weights.size() ? weights[i] : 0.0);
    if (!std::isfinite(values[i]) || !std::isfinite(wt) || wt <= 0) continue;
    vw.emplace_back(values[i], wt);
  }
  std::sort(vw.begin(), vw.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Dist d;
  for (const auto& [v, wt] : vw) {
    if (!d.x.empty() && d.x.back() == v) {
      d.w.back() += wt;
    } else {
      d.x.push_back(v);
      d.w.push_back(wt);
    }
  }
  return d;
}

namespace {

// Walks the union of both supports in ascending order, calling fn(x, next_x, Fa(x), Fb(x)) where
// F are the normalised CDFs just after x (next_x is NaN at the last point).
template <typename Fn>
void walk_cdfs(const Dist& a, const Dist& b, Fn&& fn) {
  const double ta = a.total(), tb = b.total();
  std::size_t i = 0, j = 0;
  double ca = 0, cb = 0;
  while (i < a.x.size() || j < b.x.size()) {
    double x;
    if (j >= b.x.size() || (i < a.x.size() && a.x[i] <= b.x[j])) {
      x = a.x[i];
    } else {
      x = b.x[j];
    }
    while (i < a.x.size() && a.x[i] == x) ca += a.w[i++];
    while (j < b.x.size() && b.x[j] == x) cb += b.w[j++];
    double next = kNaN;
    if (i < a.x.size()) next = a.x[i];
    if (j < b.x.size() && (std::isnan(next) || b.x[j] < next)) next = b.x[j];
    fn(x, next, ca / ta, cb / tb);
  }
}

double xlogy_ratio(double p, double m) { return p > 0 ? p * std::log(p / m) : 0.0; }

}  // namespace

double ks_statistic(const Dist& a, const Dist& b) {
  if (a.empty() || b.empty()) return kNaN;
  double best = 0;
  walk_cdfs(a, b, [&](double, double, double fa, double fb) { best = std::max(best, std::fabs(fa - fb)); });
  return best;
}

double wasserstein1(const Dist& a, const Dist& b) {
  if (a.empty() || b.empty()) return kNaN;
  double sum = 0;
  walk_cdfs(a, b, [&](double x, double next, double fa, double fb) {
    if (!std::isnan(next)) sum += std::fabs(fa - fb) * (next - x);
  });
  return sum;
}

double mean(const Dist& d) {
  const double t = d.total();
  if (t <= 0) return kNaN;
  double s = 0;
  for (std::size_t i = 0; i < d.x.size(); ++i) s += d.x[i] * d.w[i];
  return s / t;
}

double js_divergence(std::span<const double> p, std::span<const double> q, double base) {
  if (p.size() != q.size() || p.empty()) return kNaN;
  const double sp = std::accumulate(p.begin(), p.end(), 0.0);
  const double sq = std::accumulate(q.begin(), q.end(), 0.0);
  if (sp <= 0 || sq <= 0) return kNaN;
  double d = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq, m = (pi + qi) / 2;
    d += xlogy_ratio(pi, m) + xlogy_ratio(qi, m);
  }
  d = d / 2 / std::log(base);
  return std::max(0.0, d);
}

std::vector<double> code_shares(const Dist& d, const std::vector<double>& codes) {
  std::vector<double> out(codes.size(), 0.0);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    const auto it = std::find(codes.begin(), codes.end(), d.x[i]);
    if (it != codes.end()) out[static_cast<std::size_t>(it - codes.begin())] += d.w[i];
  }
  const double s = std::accumulate(out.begin(), out.end(), 0.0);
  if (s > 0)
    for (auto& v : out) v /= s;
  return out;
}

std::vector<double> binned_shares(const Dist& d, double lo, double hi, int bins) {
  const auto n = static_cast<std::size_t>(std::max(1, bins));
  std::vector<double> out(n, 0.0);
  const double width = hi - lo;
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    double k = width > 0 ? std::floor((d.x[i] - lo) / width * static_cast<double>(n)) : 0.0;
    k = std::clamp(k, 0.0, static_cast<double>(n - 1));
    out[static_cast<std::size_t>(k)] += d.w[i];
  }
  const double s = std::accumulate(out.begin(), out.end(), 0.0);
  if (s > 0)
    for (auto& v : out) v /= s;
  return out;
}

std::vector<double> reference_histogram(const Dist& d, double lo, double hi) {
  constexpr int kEdges = 20;  // numpy.linspace(lo, hi, 20): 19 bins
  std::vector<double> edges(kEdges);
  const double step = (hi - lo) / (kEdges - 1);
  for (int i = 0; i < kEdges; ++i) edges[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + lo;
  edges.back() = hi;
  const std::size_t bins = kEdges - 1;
  std::vector<double> count(bins, 0.0);
  double inside = 0;
  // numpy with explicit edges: bin i holds edges[i] <= x < edges[i+1]; the last bin also holds hi.
  for (std::size_t k = 0; k < d.x.size(); ++k) {
    const double x = d.x[k];
    if (x < edges.front() || x > edges.back()) continue;
    std::size_t b = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin());
    b = b == 0 ? 0 : b - 1;
    if (b >= bins) b = bins - 1;
    count[b] += d.w[k];
    inside += d.w[k];
  }
  std::vector<double> hist(bins, 0.0);
  for (std::size_t b = 0; b < bins; ++b) {
    const double width = edges[b + 1] - edges[b];
    hist[b] = inside > 0 && width > 0 ? count[b] / width / inside : 0.0;
    hist[b] = std::max(hist[b], 1e-10);
  }
  const double s = std::accumulate(hist.begin(), hist.end(), 0.0);
  for (auto& v : hist) v /= s;
  return hist;
}

double reference_js_distance(const Dist& a, const Dist& b) {
  if (a.empty() || b.empty()) return kNaN;
  const double lo = std::min(a.x.front(), b.x.front());
  const double hi = std::max(a.x.back(), b.x.back());
  // Both samples on one point: numpy divides by zero-width bins and the reference gets NaN, which
  // its nanmean then leaves out of the averages; so does this.
  if (!(hi > lo)) return kNaN;
  const auto ha = reference_histogram(a, lo, hi), hb = reference_histogram(b, lo, hi);
  return std::sqrt(js_divergence(ha, hb, std::exp(1.0)));
}

Scores compare(const ScaleInfo& s, const Dist& sim, const Dist& target, const Conventions& c) {
  Scores r;
  if (sim.empty() || target.empty()) return r;
  const double range = s.max - s.min;
  if (s.kind != Scale::nominal) {
    r.ks = ks_statistic(sim, target);
    r.w1 = wasserstein1(sim, target);
    r.mean_sim = mean(sim);
    r.mean_target = mean(target);
    r.mean_diff = std::fabs(r.mean_sim - r.mean_target);
    if (range > 0) {
      r.w1_norm = r.w1 / range;
      r.mean_diff_norm = r.mean_diff / range;
    }
  }
  if (c.reference) {
    r.js_distance = reference_js_distance(sim, target);
    r.js_divergence = r.js_distance * r.js_distance;
  } else {
    const auto p = s.kind == Scale::numeric ? binned_shares(sim, s.min, s.max, s.bins) : code_shares(sim, s.codes);
    const auto q =
        s.kind == Scale::numeric ? binned_shares(target, s.min, s.max, s.bins) : code_shares(target, s.codes);
    r.js_divergence = js_divergence(p, q, 2.0);
    r.js_distance = std::sqrt(r.js_divergence);
  }
  return r;
}

}  // namespace persona::survey
