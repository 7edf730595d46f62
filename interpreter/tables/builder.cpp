#include "builder.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace persona::tables {

SourceRange at(const std::string& file, std::uint32_t line, std::uint32_t column, std::uint32_t length) {
  SourceRange r;
  r.file = file;
  r.line = line;
  r.column = column;
  r.length = length;
  return r;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::size_t Builder::root() {
  if (t.nodes_.empty()) t.nodes_.emplace_back();
  return 0;
}

std::size_t Builder::new_dist(const SourceRange& where) {
  t.dists_.emplace_back();
  dist_where_.push_back(where);
  label_where_.emplace_back();
  label_index_.emplace_back();
  return t.dists_.size() - 1;
}

std::size_t Builder::single_dist(const SourceRange& where) {
  if (t.dists_.empty()) return new_dist(where);
  return 0;
}

std::optional<std::size_t> Builder::child(std::size_t node, std::size_t level, const std::string& key,
                                          const SourceRange& where) {
  {
    auto& n = t.nodes_[node];
    if (auto it = n.exact.find(key); it != n.exact.end()) return n.children[it->second].index;
  }
  Table::Child c;
  c.key = key;
  if (key != "*" && !key.empty() && (std::isdigit(static_cast<unsigned char>(key.front())) != 0)) {
    const auto r = parse_range_key(key);
    if (!r) {
      diags.error(where, "table-bad-range", "bad range key \"" + key + "\" for `" + t.by[level] + "`",
                  {"range keys are \"A-B\" with A <= B (inclusive), \"A+\" or a single integer"});
      failed = true;
      return std::nullopt;
    }
    c.range = *r;
    c.is_range = true;
  }
  const bool last = level + 1 == t.by.size();
  if (last) {
    c.index = new_dist(where);
  } else {
    t.nodes_.emplace_back();
    c.index = t.nodes_.size() - 1;
  }
  auto& n = t.nodes_[node];  // re-fetch: emplace_back may have moved nodes
  const std::size_t pos = n.children.size();
  n.children.push_back(c);
  n.exact.emplace(key, pos);
  if (key == "*") n.fallback = pos;
  if (c.is_range) n.ranges.push_back(pos);
  return c.index;
}

bool Builder::add_weight(std::size_t dist, const std::string& label, double weight, const SourceRange& where,
                         const SourceRange& label_where) {
  if (!std::isfinite(weight)) {
    diags.error(where, "table-bad-weight", "weight of \"" + label + "\" is not a finite number");
    failed = true;
    return false;
  }
  if (weight < 0.0) {
    diags.error(where, "table-negative-weight", "negative weight for \"" + label + "\"",
                {"weights must be non-negative"});
    failed = true;
    return false;
  }
  auto& d = t.dists_[dist];
  auto [it, fresh] = label_index_[dist].emplace(label, d.labels_.size());
  if (!fresh) {
    d.weights_[it->second] += weight;
    return true;
  }
  d.labels_.push_back(label);
  d.weights_.push_back(weight);
  label_where_[dist].push_back(label_where);
  return true;
}

bool Builder::finish() {
  for (std::size_t di = 0; di < t.dists_.size(); ++di) {
    auto& d = t.dists_[di];
    if (d.labels_.empty()) {
      diags.error(dist_where_[di], "table-empty", "no weights here");
      failed = true;
      continue;
    }
    double total = 0.0;
    for (double w : d.weights_) total += w;
    if (!std::isfinite(total)) {
      // Finite weights whose sum overflows would give every label probability 0 and always draw
      // the last one.
      diags.error(dist_where_[di], "table-bad-weight", "the weights here sum to more than a number can hold",
                  {"scale the weights down (shares, percents or counts well under 1e300)"});
      failed = true;
      continue;
    }
    if (!(total > 0.0)) {
      diags.error(dist_where_[di], "table-zero-weights", "all weights are zero",
                  {"at least one weight must be positive"});
      failed = true;
      continue;
    }
    d.total_ = total;
    d.probs_.clear();
    d.cumulative_.clear();
    double run = 0.0;
    for (double w : d.weights_) {
      run += w;
      d.cumulative_.push_back(run);
      d.probs_.push_back(w / total);
    }
    d.cumulative_.back() = total;
    if (t.unit != WeightUnit::count) check_sum(di, total);
    if (t.kind == ValueKind::integer_range) {
      d.ranges_.clear();
      for (std::size_t i = 0; i < d.labels_.size(); ++i) {
        const auto r = parse_range_key(d.labels_[i]);
        if (!r) {
          diags.error(label_where_[di][i], "table-bad-range", "bad range key \"" + d.labels_[i] + "\"",
                      {"integer-range keys are \"A-B\" with A <= B (inclusive) or \"A+\" (A..A+4)"});
          failed = true;
          d.ranges_.push_back(RangeKey{});
          continue;
        }
        d.ranges_.push_back(*r);
      }
    } else if (t.kind == ValueKind::number) {
      d.numbers_.clear();
      for (std::size_t i = 0; i < d.labels_.size(); ++i) {
        const auto v = parse_number(d.labels_[i]);
        if (!v) {
          diags.error(label_where_[di][i], "table-bad-number", "\"" + d.labels_[i] + "\" is not a number",
                      {"the keys of a `value = \"number\"` table are numbers"});
          failed = true;
          d.numbers_.push_back(0.0);
          continue;
        }
        d.numbers_.push_back(*v);
      }
    }
  }
  for (auto& n : t.nodes_) {
    std::stable_sort(n.ranges.begin(), n.ranges.end(),
                     [&n](std::size_t a, std::size_t b) { return n.children[a].range.lo < n.children[b].range.lo; });
  }
  if (t.dists_.empty() && !failed) {
    diags.error(t.where, "table-empty", "the table has no weights");
    failed = true;
  }
  return !failed;
}

void Builder::check_sum(std::size_t di, double total) {
  const double expected = t.unit == WeightUnit::percent ? 100.0 : 1.0;
  if (std::fabs(total - expected) <= t.tolerance * expected) return;
  // The keys leading to this distribution, for the message ("weights.Japan.female.\"25-34\"").
  std::string path = "weights";
  for (const auto& e : t.entries()) {
    if (e.dist != &t.dists_[di]) continue;
    for (const auto& k : e.keys) path += "." + (k.find_first_of(" .\"'*+") == std::string::npos ? k : "\"" + k + "\"");
    break;
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6g", total);
  char tol[64];
  std::snprintf(tol, sizeof tol, "%g", t.tolerance * expected);
  diags.error(dist_where_[di], "table-share-sum",
              "the weights of `" + path + "` sum to " + sum + ", but `unit = \"" + std::string(to_string(t.unit)) +
                  "\"` requires " + (t.unit == WeightUnit::percent ? "100" : "1") + " (tolerance " + tol + ")",
              {"fix the figures, or declare `unit = \"count\"` if the weights are counts or relative weights"});
  failed = true;
}

}  // namespace persona::tables
