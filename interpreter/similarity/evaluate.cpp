// The labelled set loader and ROC AUC.
#include "similarity/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "base/files.hpp"
#include "base/text.hpp"

namespace persona::sim {

namespace {

// Calls fn(line_number, fields) for every data line of a TSV file; false when it cannot be read.
template <typename Fn>
bool for_each_row(const std::filesystem::path& file, std::string_view header, DiagnosticSink& sink, Fn&& fn) {
  auto r = files::read(file);
  if (!r.ok()) {
    SourceRange where;
    where.file = file.string();
    sink.error(where, "labelled-set", r.error);
    return false;
  }
  const auto lines = text::split(*r.text, '\n');
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (text::trim(line).empty() || line.front() == '#') continue;
    auto fields = text::split(line, '\t');
    if (fields.front() == header) continue;
    fn(static_cast<std::uint32_t>(i + 1), fields);
  }
  return true;
}

}  // namespace

std::optional<LabelledSet> load_labelled(const std::filesystem::path& dir, const tax::Taxonomy& t,
                                         DiagnosticSink& sink) {
  LabelledSet set;
  bool ok = true;
  std::unordered_map<std::string, std::size_t> core_index;
  const std::string cores_file = (dir / "cores.tsv").string(), pairs_file = (dir / "pairs.tsv").string();
  auto error = [&](const std::string& file, std::uint32_t line, std::string message) {
    SourceRange where;
    where.file = file;
    where.line = line;
    sink.error(where, "labelled-set", std::move(message));
    ok = false;
  };
  ok = for_each_row(cores_file, "id", sink,
                    [&](std::uint32_t line, const std::vector<std::string>& f) {
                      if (f.size() != 8) {
                        error(cores_file, line, "expected 8 tab-separated fields, found " + std::to_string(f.size()));
                        return;
                      }
                      LabelledCore c;
                      c.id = f[0];
                      for (std::size_t k = 1; k < 8; ++k) {
                        if (k == 5 || k == 6) {
                          for (const auto& item : text::split(f[k], ','))
                            if (!text::trim(item).empty()) c.texts.emplace_back(text::trim(item));
                        } else if (!text::trim(f[k]).empty()) {
                          c.texts.emplace_back(text::trim(f[k]));
                        }
                      }
                      if (!core_index.emplace(c.id, set.cores.size()).second) {
                        error(cores_file, line, "core '" + c.id + "' is defined twice");
                        return;
                      }
                      set.cores.push_back(std::move(c));
                    }) &&
       ok;
  if (!ok) return std::nullopt;
  ok = for_each_row(pairs_file, "core", sink,
                    [&](std::uint32_t line, const std::vector<std::string>& f) {
                      if (f.size() != 4) {
                        error(pairs_file, line, "expected 4 tab-separated fields, found " + std::to_string(f.size()));
                        return;
                      }
                      LabelledPair p;
                      auto ci = core_index.find(f[0]);
                      if (ci == core_index.end()) {
                        error(pairs_file, line, "unknown core '" + f[0] + "'");
                        return;
                      }
                      p.core = ci->second;
                      if (f[1] != "related" && f[1] != "unrelated") {
                        error(pairs_file, line, "label '" + f[1] + "' is neither 'related' nor 'unrelated'");
                        return;
                      }
                      p.related = f[1] == "related";
                      auto v = t.find(f[2]);
                      if (!v || !t.is_leaf(*v)) {
                        error(pairs_file, line, (v ? "not a leaf attribute: '" : "no such attribute: '") + f[2] + "'");
                        return;
                      }
                      p.attribute = *v;
                      p.reason = f[3];
                      set.pairs.push_back(std::move(p));
                    }) &&
       ok;
  if (!ok) return std::nullopt;
  return set;
}

double roc_auc(std::span<const float> scores, std::span<const std::uint8_t> related) {
  // Rank-sum (Mann-Whitney U) with average ranks for ties.
  const std::size_t n = std::min(scores.size(), related.size());
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (std::size_t k = i; k < j; ++k)
      if (related[order[k]] != 0) {
        rank_sum += avg;
        ++pos;
      }
    i = j;
  }
  const std::size_t neg = n - pos;
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  const double p = static_cast<double>(pos);
  return (rank_sum - p * (p + 1) / 2.0) / (p * static_cast<double>(neg));
}

Evaluation evaluate(const Scorer& scorer, const LabelledSet& set, const std::function<bool(std::size_t)>& use_core) {
  Evaluation ev;
  auto cache = scorer.cache();
  std::vector<float> scores, all_scores, core_scores;
  std::vector<std::uint8_t> all_labels, core_labels;
  double sum = 0;
  for (std::size_t c = 0; c < set.cores.size(); ++c) {
    if (use_core && !use_core(c)) continue;
    scorer.score_all(set.cores[c].texts, *cache, scores);
    core_scores.clear();
    core_labels.clear();
    for (const auto& p : set.pairs) {
      if (p.core != c) continue;
      const float s = p.attribute < scores.size() ? scores[p.attribute] : 0.0f;
      core_scores.push_back(s);
      core_labels.push_back(p.related ? 1 : 0);
    }
    all_scores.insert(all_scores.end(), core_scores.begin(), core_scores.end());
    all_labels.insert(all_labels.end(), core_labels.begin(), core_labels.end());
    if (const double a = roc_auc(core_scores, core_labels); !std::isnan(a)) {
      sum += a;
      ++ev.cores;
    }
  }
  ev.pairs = all_scores.size();
  ev.auc = roc_auc(all_scores, all_labels);
  ev.mean_core_auc = ev.cores > 0 ? sum / static_cast<double>(ev.cores) : std::numeric_limits<double>::quiet_NaN();
  return ev;
}

}  // namespace persona::sim
