// Calibration of a run's population: the joint of the calibrated anchors, raked to the targets,
// oversampled, integerised and shuffled into persona slots (population.hpp has the steps).
#include "engine/population.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/model.hpp"

namespace persona::engine {

namespace {

constexpr std::size_t kMaxCells = 500'000;
constexpr int kRakingRounds = 1000;

// One value an anchor can take given the calibrated anchors before it, with its probability and the
// facts its table derives from it.
struct Option {
  cond::Value value;
  double p = 0;
  std::vector<std::pair<std::string, std::string>> derived;
};

bool in_bound(const lang::Bound& b, double x) {
  if (b.lo && x < *b.lo) return false;
  if (b.hi && x > *b.hi) return false;
  return true;
}

// Numeric options after the anchor's bound and rounding, as its draw applies them: `truncate` keeps
// what lies inside (renormalised, as redrawing does), `clamp` moves the rest onto the bound.
void apply_bound(const lang::AnchorSource& src, std::vector<Option>& opts) {
  using BK = lang::Bound::Kind;
  std::vector<Option> out;
  for (auto& o : opts) {
    const double* x = std::get_if<double>(&o.value);
    if (x == nullptr) {
      out.push_back(std::move(o));
      continue;
    }
    double v = *x;
    if (src.bound.kind == BK::truncate && !in_bound(src.bound, v)) continue;
    if (src.bound.kind == BK::clamp) {
      if (src.bound.lo) v = std::max(v, *src.bound.lo);
      if (src.bound.hi) v = std::min(v, *src.bound.hi);
    }
    if (src.round) v = std::round(v);
    o.value = v;
    out.push_back(std::move(o));
  }
  // Merge equal values (clamping and rounding fold several onto one).
  std::vector<Option> merged;
  for (auto& o : out) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const Option& m) { return m.value == o.value; });
    if (it == merged.end())
      merged.push_back(std::move(o));
    else
      it->p += o.p;
  }
  double total = 0;
  for (const auto& o : merged) total += o.p;
  if (total > 0)
    for (auto& o : merged) o.p /= total;
  opts = std::move(merged);
}

// Every value anchor `ai` can draw given `facts`; empty when its table has no distribution there.
std::vector<Option> options_of(const AnchorInfo& ai, const cond::Facts& facts) {
  const lang::AnchorSource& src = ai.anchor->source;
  std::vector<Option> opts;
  using K = lang::AnchorSource::Kind;
  if (src.kind == K::categorical) {
    double total = 0;
    for (const auto& c : src.choices) total += std::max(0.0, c.weight);
    for (const auto& c : src.choices) {
      if (c.weight <= 0 || total <= 0) continue;
      opts.push_back({c.number ? cond::Value(*c.number) : cond::Value(c.label), c.weight / total, {}});
    }
  } else if (src.kind == K::table && ai.table != nullptr) {
    const tables::Table& t = *ai.table;
    std::vector<cond::Value> keys;
    for (const auto& b : src.by) {
      auto it = facts.find(b);
      if (it == facts.end()) return opts;
      keys.push_back(it->second);
    }
    const tables::Dist* d = t.lookup(keys);
    if (d == nullptr) return opts;
    const auto& labels = d->labels();
    const auto& probs = d->probabilities();
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (probs[i] <= 0) continue;
      std::vector<std::pair<std::string, std::string>> derived;
      for (const auto& f : ai.derived)
        if (auto v = t.derive(f, labels[i])) derived.emplace_back(f, *v);
      if (t.kind == tables::ValueKind::category) {
        opts.push_back({cond::Value(labels[i]), probs[i], std::move(derived)});
      } else if (t.kind == tables::ValueKind::integer_range) {
        auto r = tables::parse_range_key(labels[i]);
        if (!r) continue;
        const std::int64_t hi = r->hi;
        const double each = probs[i] / static_cast<double>(hi - r->lo + 1);
        for (std::int64_t v = r->lo; v <= hi; ++v) opts.push_back({cond::Value(static_cast<double>(v)), each, derived});
      } else {
        opts.push_back({cond::Value(std::strtod(labels[i].c_str(), nullptr)), probs[i], std::move(derived)});
      }
    }
  }
  apply_bound(src, opts);
  return opts;
}

std::string value_text(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return text::format_number(std::get<double>(v));
}

// Does a cell's value fall under a target key ("Wales", "18-24", "65+", "3")?
bool key_matches(const std::string& key, const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s == key;
  const double x = std::get<double>(v);
  if (auto r = tables::parse_range_key(key)) {
    if (x < static_cast<double>(r->lo)) return false;
    if (r->open) return true;
    return x <= static_cast<double>(r->hi);
  }
  char* end = nullptr;
  const double k = std::strtod(key.c_str(), &end);
  return end != key.c_str() && *end == '\0' && k == x;
}

// Largest-remainder rounding of `shares` (summing to 1) to integers summing to n.
std::vector<std::int64_t> hamilton(const std::vector<double>& shares, std::uint64_t n) {
  std::vector<std::int64_t> out(shares.size(), 0);
  std::vector<std::pair<double, std::size_t>> rest;
  std::int64_t given = 0;
  double total = 0;
  for (double s : shares) total += s;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const double q = total > 0 ? static_cast<double>(n) * shares[i] / total : 0;
    out[i] = static_cast<std::int64_t>(std::floor(q));
    given += out[i];
    if (shares[i] > 0) rest.emplace_back(q - std::floor(q), i);
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < static_cast<std::int64_t>(n) && k < rest.size(); ++k, ++given) ++out[rest[k].second];
  return out;
}

struct Target {
  std::string name;
  SourceRange where;
  std::vector<std::uint32_t> group_of;  // per cell; kNone: in no group
  std::vector<double> share;            // per group
  std::vector<std::string> label;       // per group, for messages
  std::vector<std::int64_t> goal;       // per group, integer
};
constexpr std::uint32_t kNone = 0xffffffffU;

}  // namespace

std::shared_ptr<const Population> Population::build(const Model& m, std::uint64_t seed, std::uint64_t n,
                                                    DiagnosticSink& sink) {
  const lang::Recipe& r = m.recipe();
  const lang::PopulationSettings& ps = r.population;
  if (!ps.present()) return nullptr;
  auto pop = std::make_shared<Population>();
  Population& P = *pop;
  P.n_ = n;
  P.dim_of_anchor_.assign(r.anchors.size(), -1);
  std::vector<std::size_t> dim_anchor;  // dim -> recipe anchor
  for (std::size_t i = 0; i < r.anchors.size(); ++i)
    if (std::find(ps.anchors.begin(), ps.anchors.end(), r.anchors[i].name) != ps.anchors.end()) {
      P.dim_of_anchor_[i] = static_cast<int>(dim_anchor.size());
      dim_anchor.push_back(i);
      P.anchor_names_.push_back(r.anchors[i].name);
    }
  P.dims_ = dim_anchor.size();
  const std::size_t D = P.dims_;

  // 1. The joint from the recipe's tables: depth-first over the dims in dependency order.
  cond::Facts facts;
  for (std::size_t i = 0; i < r.anchors.size(); ++i)
    if (r.anchors[i].source.kind == lang::AnchorSource::Kind::fixed)
      facts[r.anchors[i].name] = r.anchors[i].source.fixed;
  std::vector<double> prob;
  std::vector<std::uint32_t> mask;  // per cell: the oversampling rules that hold
  std::vector<cond::Value> current(D);
  bool too_many = false;
  auto walk = [&](auto&& self, std::size_t d, double p) -> void {
    if (too_many) return;
    if (d == D) {
      if (prob.size() >= kMaxCells) {
        too_many = true;
        return;
      }
      P.values_.insert(P.values_.end(), current.begin(), current.end());
      prob.push_back(p);
      std::uint32_t mk = 0;
      for (std::size_t k = 0; k < ps.oversample.size() && k < 32; ++k)
        if (cond::evaluate(ps.oversample[k].when, facts)) mk |= 1U << k;
      mask.push_back(mk);
      return;
    }
    const AnchorInfo& ai = m.anchors()[dim_anchor[d]];
    for (const Option& o : options_of(ai, facts)) {
      current[d] = o.value;
      facts[ai.anchor->name] = o.value;
      for (const auto& [f, v] : o.derived) facts[f] = cond::Value(v);
      self(self, d + 1, p * o.p);
      for (const auto& [f, v] : o.derived) facts.erase(f);
      facts.erase(ai.anchor->name);
    }
  };
  walk(walk, 0, 1.0);
  if (too_many) {
    sink.error(ps.where, "population-too-large",
               fmt::format("the calibrated anchors ({}) have more than {} combinations of values; calibrate fewer "
                           "anchors together, or band a numeric one",
                           text::join(P.anchor_names_, ", "), kMaxCells));
    return nullptr;
  }
  const std::size_t C = prob.size();
  if (C == 0) {
    sink.error(ps.where, "population-empty",
               "the recipe's tables give the calibrated anchors (" + text::join(P.anchor_names_, ", ") +
                   ") no value: check their tables and bounds");
    return nullptr;
  }

  // 2. Targets: groups of cells with their shares.
  std::vector<Target> targets;
  bool ok = true;
  for (const auto& tg : ps.targets) {
    Target t;
    t.where = tg.where;
    t.name = text::join(tg.anchors, ", ") + (tg.table.empty() ? " (the recipe's tables)" : " to table " + tg.table);
    std::vector<std::size_t> pos;
    for (const auto& a : tg.anchors) {
      const lang::Anchor* an = r.anchor(a);
      pos.push_back(static_cast<std::size_t>(P.dim_of_anchor_[static_cast<std::size_t>(an - r.anchors.data())]));
    }
    t.group_of.assign(C, kNone);
    if (tg.table.empty()) {
      std::map<std::string, std::uint32_t> index;
      for (std::size_t c = 0; c < C; ++c) {
        std::string key, label;
        for (std::size_t j = 0; j < pos.size(); ++j) {
          const std::string v = value_text(P.values_[c * D + pos[j]]);
          key += v + '\x1f';
          label += (j ? ", " : "") + tg.anchors[j] + " = " + v;
        }
        auto [it, fresh] = index.emplace(key, static_cast<std::uint32_t>(t.share.size()));
        if (fresh) {
          t.share.push_back(0);
          t.label.push_back(label);
        }
        t.group_of[c] = it->second;
        t.share[it->second] += prob[c];
      }
    } else {
      const tables::Table* tab = m.tables().find(tg.table);
      if (tab == nullptr) {
        sink.error(tg.where, "unknown-table", "calibration table '" + tg.table + "' is not loaded");
        ok = false;
        continue;
      }
      if (!tab->by.empty() && tab->unit != tables::WeightUnit::count) {
        sink.error(tg.where, "calibrate-shares",
                   "table '" + tg.table + "' gives " + std::string(tables::to_string(tab->unit)) + " per (" +
                       text::join(tab->by, ", ") +
                       "): those are conditional, and a joint target needs counts of people in each combination",
                   {"declare the table's weights as counts (unit = \"count\" in a TOML table; a CSV table's weights "
                    "are counts already)"});
        ok = false;
        continue;
      }
      // Groups: one per (keys, label) with a positive weight.
      std::vector<std::vector<std::string>> group_keys;
      double total = 0;
      for (const auto& e : tab->entries()) {
        const auto& labels = e.dist->labels();
        const auto& w = e.dist->weights();
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (w[i] <= 0) continue;
          std::vector<std::string> keys = e.keys;
          keys.push_back(labels[i]);
          std::string label;
          for (std::size_t j = 0; j < keys.size() && j < tg.anchors.size(); ++j)
            label += (j ? ", " : "") + tg.anchors[j] + " = " + keys[j];
          group_keys.push_back(std::move(keys));
          t.share.push_back(w[i]);
          t.label.push_back(label);
          total += w[i];
        }
      }
      for (double& s : t.share) s = total > 0 ? s / total : 0;
      // Cells to groups, one dim at a time over its distinct values (a value under two keys is an
      // overlap in the table).
      std::vector<double> seen(t.share.size(), 0);
      for (std::size_t c = 0; c < C && ok; ++c) {
        std::uint32_t found = kNone;
        for (std::size_t g = 0; g < group_keys.size(); ++g) {
          bool all = true;
          for (std::size_t j = 0; j < pos.size() && all; ++j)
            all = key_matches(group_keys[g][j], P.values_[c * D + pos[j]]);
          if (!all) continue;
          if (found != kNone) {
            sink.error(tg.where, "calibrate-overlap",
                       "table '" + tg.table + "' counts the same people twice: (" + t.label[found] + ") and (" +
                           t.label[g] + ") overlap");
            ok = false;
            break;
          }
          found = static_cast<std::uint32_t>(g);
        }
        t.group_of[c] = found;
        if (found != kNone) seen[found] += prob[c];
      }
      for (std::size_t g = 0; g < seen.size() && ok; ++g)
        if (seen[g] <= 0 && t.share[g] > 0) {
          sink.error(tg.where, "calibrate-unknown-value",
                     "table '" + tg.table + "' has a target for (" + t.label[g] +
                         "), which no persona can have: the recipe's tables and bounds never produce it");
          ok = false;
        }
    }
    targets.push_back(std::move(t));
  }
  if (!ok) return nullptr;

  // 3. Raking: the tables' joint, scaled to every target's shares in turn.
  std::vector<double> q = prob;
  for (const auto& t : targets)
    for (std::size_t c = 0; c < C; ++c)
      if (t.group_of[c] == kNone) q[c] = 0;  // outside a target: nobody
  std::vector<double> margin;
  for (int round = 0; round < kRakingRounds; ++round) {
    double gap = 0;
    for (const auto& t : targets) {
      margin.assign(t.share.size(), 0);
      for (std::size_t c = 0; c < C; ++c)
        if (t.group_of[c] != kNone) margin[t.group_of[c]] += q[c];
      for (std::size_t g = 0; g < margin.size(); ++g) gap = std::max(gap, std::abs(margin[g] - t.share[g]));
      for (std::size_t c = 0; c < C; ++c) {
        const auto g = t.group_of[c];
        if (g != kNone && margin[g] > 0) q[c] *= t.share[g] / margin[g];
      }
    }
    if (gap < 1e-12) break;
  }
  double qsum = std::accumulate(q.begin(), q.end(), 0.0);
  if (qsum <= 0) {
    sink.error(ps.where, "population-empty", "the calibration targets leave no combination of values with people");
    return nullptr;
  }
  for (double& x : q) x /= qsum;

  // 4. Oversampling.
  std::vector<double> s = q;
  if (!ps.oversample.empty()) {
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t k = 0; k < ps.oversample.size() && k < 32; ++k)
        if (mask[c] & (1U << k)) s[c] *= ps.oversample[k].factor;
    const double ssum = std::accumulate(s.begin(), s.end(), 0.0);
    for (double& x : s) x /= ssum;
  }

  // 5. Integer targets per group, then cell counts that add up to them.
  // A group's goal is the target's own share (not the raked joint's, which differs when targets
  // disagree), scaled by what oversampling did to the group. Coarse targets are rounded first; a
  // target whose groups each lie inside one group of a coarser one (country x sex x age inside
  // country) is rounded within those groups, so that its counts add up to the coarser counts.
  std::vector<std::size_t> order(targets.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return targets[a].share.size() < targets[b].share.size(); });
  std::vector<bool> done(targets.size(), false);
  // Nesting only when the targets agree (raking met every one); disagreeing targets are rounded on
  // their own and the moves below find a compromise, reported as each one's residual.
  bool agree = true;
  for (const auto& t : targets) {
    margin.assign(t.share.size(), 0);
    for (std::size_t c = 0; c < C; ++c)
      if (t.group_of[c] != kNone) margin[t.group_of[c]] += q[c];
    for (std::size_t g = 0; g < margin.size(); ++g) agree = agree && std::abs(margin[g] - t.share[g]) <= 1e-6;
  }
  for (std::size_t k : order) {
    Target& t = targets[k];
    std::vector<double> sampled(t.share.size(), 0), fitted(t.share.size(), 0);
    for (std::size_t c = 0; c < C; ++c)
      if (t.group_of[c] != kNone) {
        sampled[t.group_of[c]] += s[c];
        fitted[t.group_of[c]] += q[c];
      }
    std::vector<double> sh(t.share.size(), 0);
    for (std::size_t g = 0; g < sh.size(); ++g)
      sh[g] = fitted[g] > 0 ? t.share[g] * sampled[g] / fitted[g] : t.share[g];
    // The finest coarser target this one nests in: each of its groups inside one of that one's.
    std::optional<std::size_t> parent;
    std::vector<std::uint32_t> up;
    for (std::size_t j = 0; j < targets.size(); ++j) {
      if (!agree || !done[j] || (parent && targets[j].share.size() <= targets[*parent].share.size())) continue;
      std::vector<std::uint32_t> map(t.share.size(), kNone);
      bool nested = true;
      for (std::size_t c = 0; c < C && nested; ++c) {
        const auto g = t.group_of[c], h = targets[j].group_of[c];
        if (g == kNone || s[c] <= 0) continue;
        if (h == kNone || (map[g] != kNone && map[g] != h)) nested = false;
        map[g] = h;
      }
      if (nested) {
        parent = j;
        up = std::move(map);
      }
    }
    if (!parent) {
      t.goal = hamilton(sh, n);
    } else {
      t.goal.assign(sh.size(), 0);
      const Target& pt = targets[*parent];
      for (std::size_t h = 0; h < pt.share.size(); ++h) {
        std::vector<std::size_t> inside;
        std::vector<double> part;
        for (std::size_t g = 0; g < sh.size(); ++g)
          if (up[g] == h) {
            inside.push_back(g);
            part.push_back(sh[g]);
          }
        if (inside.empty() || pt.goal[h] <= 0) continue;
        const auto counts = hamilton(part, static_cast<std::uint64_t>(pt.goal[h]));
        for (std::size_t i = 0; i < inside.size(); ++i) t.goal[inside[i]] = counts[i];
      }
    }
    done[k] = true;
  }
  P.counts_ = hamilton(s, n);
  std::vector<std::vector<std::int64_t>> have(targets.size());
  std::vector<std::vector<std::vector<std::uint32_t>>> members(targets.size());
  for (std::size_t k = 0; k < targets.size(); ++k) {
    have[k].assign(targets[k].share.size(), 0);
    members[k].resize(targets[k].share.size());
    for (std::size_t c = 0; c < C; ++c) {
      const auto g = targets[k].group_of[c];
      if (g == kNone) continue;
      have[k][g] += P.counts_[c];
      if (s[c] > 0) members[k][g].push_back(static_cast<std::uint32_t>(c));
    }
  }
  // The change in total deviation when one person moves from cell a to cell b.
  auto delta = [&](std::size_t a, std::size_t b) {
    std::int64_t d = 0;
    for (std::size_t k = 0; k < targets.size(); ++k) {
      const auto ga = targets[k].group_of[a], gb = targets[k].group_of[b];
      if (ga == gb) continue;
      const std::int64_t ea = have[k][ga] - targets[k].goal[ga], eb = have[k][gb] - targets[k].goal[gb];
      d += (std::abs(ea - 1) - std::abs(ea)) + (std::abs(eb + 1) - std::abs(eb));
    }
    return d;
  };
  constexpr std::size_t kScan = 400;  // cells looked at per side of a move
  for (std::int64_t moves = 0; moves < static_cast<std::int64_t>(4 * n + 64); ++moves) {
    bool moved = false;
    for (std::size_t k = 0; k < targets.size() && !moved; ++k) {
      for (std::size_t gs = 0; gs < have[k].size() && !moved; ++gs) {
        if (have[k][gs] <= targets[k].goal[gs]) continue;
        for (std::size_t gd = 0; gd < have[k].size() && !moved; ++gd) {
          if (have[k][gd] >= targets[k].goal[gd]) continue;
          std::int64_t best = 0;
          std::size_t ba = 0, bb = 0;
          std::size_t na = 0;
          for (std::uint32_t a : members[k][gs]) {
            if (P.counts_[a] <= 0) continue;
            if (++na > kScan) break;
            std::size_t nb = 0;
            for (std::uint32_t b : members[k][gd]) {
              if (++nb > kScan) break;
              const std::int64_t d = delta(a, b);
              if (d < best) {
                best = d;
                ba = a;
                bb = b;
              }
            }
          }
          if (best < 0) {
            for (std::size_t j = 0; j < targets.size(); ++j) {
              --have[j][targets[j].group_of[ba]];
              ++have[j][targets[j].group_of[bb]];
            }
            --P.counts_[ba];
            ++P.counts_[bb];
            moved = true;
          }
        }
      }
    }
    if (!moved) break;
  }
  for (std::size_t k = 0; k < targets.size(); ++k) {
    CalibrationReport rep;
    rep.target = targets[k].name;
    rep.groups = targets[k].share.size();
    std::int64_t off = 0;
    for (std::size_t g = 0; g < have[k].size(); ++g) off += std::abs(have[k][g] - targets[k].goal[g]);
    rep.off = off / 2;
    margin.assign(targets[k].share.size(), 0);
    for (std::size_t c = 0; c < C; ++c)
      if (targets[k].group_of[c] != kNone) margin[targets[k].group_of[c]] += q[c];
    for (std::size_t g = 0; g < margin.size(); ++g)
      rep.raking_gap = std::max(rep.raking_gap, std::abs(margin[g] - targets[k].share[g]));
    if (rep.raking_gap > 1e-6)
      sink.warning(targets[k].where, "calibration-residual",
                   fmt::format("calibration targets are inconsistent: {} of {} personas differ from this target's "
                               "counts (largest share gap after raking {:.4f})",
                               rep.off, n, rep.raking_gap),
                   {"the targets disagree on the anchors they share (their totals per value differ); the counts "
                    "follow a compromise between them"});
    else if (rep.off > 0)
      sink.warning(targets[k].where, "calibration-residual",
                   fmt::format("{} of {} personas differ from this target's rounded counts: the targets agree, but "
                               "their counts rounded to whole persons cannot all be met at once",
                               rep.off, n),
                   {"targets whose groups cross (region x sex and age x sex) round independently; a larger --count "
                    "makes the difference smaller"});
    P.reports_.push_back(std::move(rep));
  }

  // 6. Design weights: each oversampling group's true share over its share of the sample.
  if (!ps.oversample.empty()) {
    std::map<std::uint32_t, std::pair<double, std::int64_t>> groups;  // mask -> (true share, count)
    for (std::size_t c = 0; c < C; ++c) {
      auto& g = groups[mask[c]];
      g.first += q[c];
      g.second += P.counts_[c];
    }
    P.cell_weight_.assign(C, 1.0);
    for (std::size_t c = 0; c < C; ++c) {
      const auto& g = groups[mask[c]];
      P.cell_weight_[c] = g.second > 0 ? g.first * static_cast<double>(n) / static_cast<double>(g.second) : 0;
    }
  }

  // 7. Slots, shuffled.
  P.slots_.reserve(n);
  for (std::size_t c = 0; c < C; ++c)
    for (std::int64_t k = 0; k < P.counts_[c]; ++k) P.slots_.push_back(static_cast<std::uint32_t>(c));
  Rng rng = Rng::derive(seed, n, "population");
  for (std::size_t i = P.slots_.size(); i > 1; --i) std::swap(P.slots_[i - 1], P.slots_[rng.below(i)]);
  return pop;
}

const cond::Value* Population::value(std::uint64_t index, std::size_t anchor) const {
  if (index >= slots_.size() || anchor >= dim_of_anchor_.size() || dim_of_anchor_[anchor] < 0) return nullptr;
  return &values_[slots_[index] * dims_ + static_cast<std::size_t>(dim_of_anchor_[anchor])];
}

std::optional<double> Population::weight(std::uint64_t index) const {
  if (cell_weight_.empty() || index >= slots_.size()) return std::nullopt;
  return cell_weight_[slots_[index]];
}

std::int64_t Population::residual() const {
  std::int64_t r = 0;
  for (const auto& rep : reports_) r += rep.off;
  return r;
}

std::string Population::summary() const {
  std::size_t used = 0;
  for (auto c : counts_) used += c > 0 ? 1 : 0;
  std::string s = fmt::format("calibrated {}: {} personas in {} of {} cells", text::join(anchor_names_, ", "), n_, used,
                              counts_.size());
  if (!cell_weight_.empty()) s += ", oversampled (weights)";
  if (residual() > 0) s += fmt::format(", residual {}", residual());
  return s;
}

}  // namespace persona::engine
