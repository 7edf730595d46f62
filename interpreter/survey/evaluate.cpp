// Comparing the personas' answers with the targets: metrics per (item, group), bootstrap
// intervals, noise floors, the uniform baseline and the averages (docs/survey.md).
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "survey/survey.hpp"

namespace persona::survey {

namespace {

constexpr std::array<double Scores::*, 9> kFields = {
    &Scores::ks,       &Scores::w1,          &Scores::w1_norm,   &Scores::js_divergence, &Scores::js_distance,
    &Scores::mean_sim, &Scores::mean_target, &Scores::mean_diff, &Scores::mean_diff_norm};

// Mean of each field over the finite values.
Scores average(const std::vector<const Scores*>& xs) {
  Scores out;
  for (auto f : kFields) {
    double sum = 0;
    std::size_t n = 0;
    for (const Scores* s : xs)
      if (std::isfinite(s->*f)) {
        sum += s->*f;
        ++n;
      }
    out.*f = n > 0 ? sum / static_cast<double>(n) : kNaN;
  }
  return out;
}

// numpy.percentile's default (linear interpolation) over the finite values.
double quantile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

void interval(const std::vector<Scores>& reps, double confidence, Scores& lo, Scores& hi) {
  if (reps.empty()) return;
  const double a = (1 - confidence) / 2;
  for (auto f : kFields) {
    std::vector<double> v;
    v.reserve(reps.size());
    for (const auto& s : reps) v.push_back(s.*f);
    lo.*f = quantile(v, a);
    hi.*f = quantile(v, 1 - a);
  }
}

ScaleInfo scale_of(const Item& it) {
  ScaleInfo s;
  s.kind = it.form == Form::numeric ? Scale::numeric : it.form == Form::options ? Scale::nominal : Scale::ordinal;
  s.codes = it.code_values();
  s.min = it.min;
  s.max = it.max;
  s.bins = it.bins;
  return s;
}

Dist uniform_dist(const Item& it) {
  if (it.form != Form::numeric) return make_dist(it.code_values());
  std::vector<double> centres;
  const double width = (it.max - it.min) / it.bins;
  for (int b = 0; b < it.bins; ++b) centres.push_back(it.min + (b + 0.5) * width);
  return make_dist(centres);
}

// One persona's substantive answers to one item.
struct Contribution {
  std::vector<double> values;
};

// The simulated distribution of a set of personas (indices into `contrib`, repeats allowed).
Dist sim_dist(const std::vector<const Contribution*>& chosen, bool reference) {
  std::vector<double> v, w;
  for (const Contribution* c : chosen) {
    if (c->values.empty()) continue;
    if (reference) {
      double s = 0;
      for (double x : c->values) s += x;
      v.push_back(s / static_cast<double>(c->values.size()));
      w.push_back(1.0);
    } else {
      for (double x : c->values) {
        v.push_back(x);
        w.push_back(1.0 / static_cast<double>(c->values.size()));
      }
    }
  }
  return make_dist(std::move(v), std::move(w));
}

std::string point_text(double v) {
  std::string out;
  text::append_number(out, std::round(v * 1e6) / 1e6);
  return out;
}

// Cell::points, labels, sim_shares and target_shares: per code, or per bin of a numeric item.
void shares_side_by_side(const Item& it, const Dist& sim, const Dist& target, Cell& cell) {
  if (it.form == Form::numeric) {
    const int n = std::max(1, it.bins);
    const double width = (it.max - it.min) / n;
    for (int b = 0; b < n; ++b) {
      cell.points.push_back(point_text(it.min + b * width) + "-" + point_text(it.min + (b + 1) * width));
      cell.labels.emplace_back();
    }
    cell.sim_shares = binned_shares(sim, it.min, it.max, n);
    cell.target_shares = binned_shares(target, it.min, it.max, n);
    return;
  }
  for (const auto& c : it.codes) {
    cell.points.push_back(point_text(c.value));
    cell.labels.push_back(c.label);
  }
  cell.sim_shares = code_shares(sim, it.code_values());
  cell.target_shares = code_shares(target, it.code_values());
}

struct Work {
  std::size_t item = 0;
  std::string group;
  std::vector<std::size_t> personas;  // personas of the group with a substantive answer
  Dist target;
  std::size_t cell = 0;  // index into Report::cells
};

}  // namespace

Report evaluate(const Questionnaire& q, const std::vector<PersonaRecord>& people, const std::vector<Answer>& answers,
                const Targets& targets, const EvalOptions& o, DiagnosticSink& sink) {
  Report rep;
  rep.options = o;
  rep.conventions.reference = o.reference;
  for (const auto& a : answers) {
    const std::string m = to_string(a.mode);
    if (rep.mode.empty())
      rep.mode = m;
    else if (rep.mode != m)
      rep.mode = "mixed";
  }
  for (const auto& it : q.items) rep.items.emplace_back(it.id, it.text);
  const SourceRange tfile{targets.file, 0, 0, 0};

  // Groups.
  std::vector<std::optional<std::string>> group(people.size());
  std::size_t ungrouped = 0;
  for (const auto& p : people) {
    group[p.index] = group_of(q, p);
    if (!group[p.index]) ++ungrouped;
  }
  if (ungrouped > 0) {
    std::string by;
    for (const auto& g : q.group_by) by += (by.empty() ? "" : ", ") + g;
    sink.warning(SourceRange{q.file, 0, 0, 0}, "survey-ungrouped",
                 std::to_string(ungrouped) + " persona(s) lack a usable value of " + by + ": left out");
  }

  // Contributions per (item, persona), plus counts per (item, group).
  const std::size_t P = people.size();
  std::vector<std::vector<Contribution>> contrib(q.items.size(), std::vector<Contribution>(P));
  struct Counts {
    std::size_t valid = 0, missing = 0, invalid = 0;
  };
  std::map<std::pair<std::size_t, std::string>, Counts> counts;
  for (const auto& a : answers) {
    if (a.persona >= P || a.item >= q.items.size() || !group[a.persona]) continue;
    Counts& c = counts[{a.item, *group[a.persona]}];
    if (a.status == AnswerStatus::invalid) {
      ++c.invalid;
    } else {
      ++c.valid;
      if (a.status == AnswerStatus::missing) {
        ++c.missing;
      } else {
        contrib[a.item][a.persona].values.push_back(a.code);
      }
    }
  }

  // The cells to compare.
  std::set<std::string> groups;
  for (const auto& g : group)
    if (g) groups.insert(*g);
  std::vector<Work> work;
  for (std::size_t i = 0; i < q.items.size(); ++i) {
    const Item& it = q.items[i];
    bool any_target = false;
    for (const auto& c : targets.cells)
      if (c.item == it.id) any_target = true;
    if (!any_target) {
      sink.warning(it.where, "survey-no-target",
                   "no targets for item `" + it.id + "` in " + targets.file + ": skipped in the averages");
      rep.skipped.push_back(it.id + " (all groups): no targets");
      continue;
    }
    for (const auto& g : groups) {
      const TargetCell* tc = targets.find(it.id, g);
      Work w;
      w.item = i;
      w.group = g;
      for (std::size_t p = 0; p < P; ++p)
        if (group[p] == g && !contrib[i][p].values.empty()) w.personas.push_back(p);
      if (tc == nullptr || tc->dist.empty()) {
        const std::string why = tc == nullptr ? "no targets for this group" : "the target has no substantive answers";
        sink.warning(tfile, "survey-no-target", "`" + it.id + "` (" + g + "): " + why + ": skipped");
        rep.skipped.push_back(it.id + " (" + g + "): " + why);
        continue;
      }
      if (w.personas.empty()) {
        sink.warning(SourceRange{q.file, 0, 0, 0}, "survey-no-answers",
                     "`" + it.id + "` (" + g + "): no persona gave a substantive answer: skipped");
        rep.skipped.push_back(it.id + " (" + g + "): no substantive answers");
        continue;
      }
      // The reference compared the personas with the first respondents of the microdata only.
      if (o.reference && targets.microdata && !tc->first_values.empty()) {
        const std::size_t m = std::min(w.personas.size(), tc->first_values.size());
        w.target = make_dist(
            std::vector<double>(tc->first_values.begin(), tc->first_values.begin() + static_cast<std::ptrdiff_t>(m)));
      } else {
        w.target = tc->dist;
      }
      Cell cell;
      cell.item = it.id;
      cell.group = g;
      cell.personas = w.personas.size();
      const Counts c = counts[{i, g}];
      cell.answers = c.valid;
      cell.invalid = c.invalid;
      cell.missing_sim = c.valid > 0 ? static_cast<double>(c.missing) / static_cast<double>(c.valid) : 0.0;
      const double tmass = tc->dist.total() + tc->missing_mass;
      cell.missing_target = tmass > 0 ? tc->missing_mass / tmass : 0.0;
      cell.target_n = tc->respondents;
      const ScaleInfo s = scale_of(it);
      std::vector<const Contribution*> chosen;
      for (std::size_t p : w.personas) chosen.push_back(&contrib[i][p]);
      cell.score = compare(s, sim_dist(chosen, o.reference), w.target, rep.conventions);
      shares_side_by_side(it, sim_dist(chosen, false), w.target, cell);
      cell.uniform = compare(s, uniform_dist(it), w.target, rep.conventions);
      // Noise floor: same-size samples from the target itself.
      if (o.floor_draws > 0) {
        std::vector<Scores> draws;
        for (int d = 0; d < o.floor_draws; ++d) {
          Rng rng = Rng::derive(o.seed, static_cast<std::uint64_t>(d), "survey:floor:" + it.id + ":" + g);
          const auto sample = draw(w.target, w.personas.size(), [&] { return rng.uniform(); });
          draws.push_back(compare(s, make_dist(sample), w.target, rep.conventions));
        }
        std::vector<const Scores*> ptrs;
        for (const auto& d : draws) ptrs.push_back(&d);
        cell.floor = average(ptrs);
      }
      w.cell = rep.cells.size();
      rep.cells.push_back(std::move(cell));
      work.push_back(std::move(w));
    }
  }

  // Averages: overall, then per group when there are several.
  std::vector<std::string> avg_groups = {"all"};
  std::set<std::string> cell_groups;
  for (const auto& c : rep.cells) cell_groups.insert(c.group);
  if (cell_groups.size() > 1) avg_groups.insert(avg_groups.end(), cell_groups.begin(), cell_groups.end());
  auto in_avg = [](const std::string& ag, const std::string& g) { return ag == "all" || ag == g; };
  for (const auto& ag : avg_groups) {
    Average a;
    a.group = ag;
    std::vector<const Scores*> sc, fl, un;
    for (const auto& c : rep.cells)
      if (in_avg(ag, c.group)) {
        sc.push_back(&c.score);
        fl.push_back(&c.floor);
        un.push_back(&c.uniform);
        ++a.cells;
      }
    a.score = average(sc);
    a.floor = average(fl);
    a.uniform = average(un);
    rep.averages.push_back(std::move(a));
  }

  // Bootstrap: resample the personas of each group with replacement, recompute every cell.
  if (o.bootstrap > 0 && !work.empty()) {
    std::map<std::string, std::vector<std::size_t>> members;  // personas of a group with any answer
    for (std::size_t p = 0; p < P; ++p) {
      if (!group[p]) continue;
      bool any = false;
      for (std::size_t i = 0; i < q.items.size() && !any; ++i) any = !contrib[i][p].values.empty();
      if (any) members[*group[p]].push_back(p);
    }
    std::vector<std::vector<Scores>> cell_reps(rep.cells.size());
    std::vector<std::vector<Scores>> avg_reps(rep.averages.size());
    for (int b = 0; b < o.bootstrap; ++b) {
      if (o.stop != nullptr && o.stop->load()) {
        rep.interrupted = true;
        return rep;
      }
      std::map<std::string, std::vector<std::size_t>> drawn;
      for (const auto& [g, list] : members) {
        Rng rng = Rng::derive(o.seed, static_cast<std::uint64_t>(b), "survey:bootstrap:" + g);
        auto& d = drawn[g];
        d.reserve(list.size());
        for (std::size_t k = 0; k < list.size(); ++k) d.push_back(list[rng.below(list.size())]);
      }
      std::vector<Scores> now(rep.cells.size());
      for (const auto& w : work) {
        std::vector<const Contribution*> chosen;
        for (std::size_t p : drawn[w.group]) chosen.push_back(&contrib[w.item][p]);
        now[w.cell] = compare(scale_of(q.items[w.item]), sim_dist(chosen, o.reference), w.target, rep.conventions);
        cell_reps[w.cell].push_back(now[w.cell]);
      }
      for (std::size_t k = 0; k < rep.averages.size(); ++k) {
        std::vector<const Scores*> sc;
        for (std::size_t c = 0; c < rep.cells.size(); ++c)
          if (in_avg(rep.averages[k].group, rep.cells[c].group)) sc.push_back(&now[c]);
        avg_reps[k].push_back(average(sc));
      }
    }
    for (std::size_t c = 0; c < rep.cells.size(); ++c)
      interval(cell_reps[c], o.confidence, rep.cells[c].lo, rep.cells[c].hi);
    for (std::size_t k = 0; k < rep.averages.size(); ++k)
      interval(avg_reps[k], o.confidence, rep.averages[k].lo, rep.averages[k].hi);
  }
  return rep;
}

}  // namespace persona::survey
