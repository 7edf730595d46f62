// metrics.csv, metrics.json and the printed table.
#include <cmath>
#include <cstdio>

#include "base/text.hpp"
#include "survey/csv.hpp"
#include "survey/survey.hpp"

namespace persona::survey {

namespace {

struct Metric {
  const char* name;
  double Scores::*field;
};
constexpr Metric kMetrics[] = {
    {"ks", &Scores::ks},
    {"w1", &Scores::w1},
    {"w1_norm", &Scores::w1_norm},
    {"js_divergence", &Scores::js_divergence},
    {"js_distance", &Scores::js_distance},
    {"mean_sim", &Scores::mean_sim},
    {"mean_target", &Scores::mean_target},
    {"mean_diff", &Scores::mean_diff},
    {"mean_diff_norm", &Scores::mean_diff_norm},
};

void num(std::string& out, double v) {
  if (std::isfinite(v)) text::append_number(out, std::round(v * 1e6) / 1e6);
}

nlohmann::json jnum(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1e6) / 1e6;
}

std::string f3(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

nlohmann::json metrics_object(const Scores& s, const Scores& lo, const Scores& hi, const Scores& fl, const Scores& un) {
  nlohmann::json m = nlohmann::json::object();
  for (const auto& k : kMetrics) {
    m[k.name] = {{"value", jnum(s.*k.field)},
                 {"lo", jnum(lo.*k.field)},
                 {"hi", jnum(hi.*k.field)},
                 {"floor", jnum(fl.*k.field)},
                 {"uniform", jnum(un.*k.field)}};
  }
  return m;
}

}  // namespace

std::string metrics_csv(const Report& r) {
  std::string out = "row,item,group,personas,answers,invalid,missing_sim,missing_target,target_n";
  for (const auto& k : kMetrics)
    for (const char* suffix : {"", "_lo", "_hi", "_floor", "_uniform"}) out += std::string(",") + k.name + suffix;
  out += '\n';
  auto metrics = [&](const Scores& s, const Scores& lo, const Scores& hi, const Scores& fl, const Scores& un) {
    for (const auto& k : kMetrics)
      for (const Scores* x : {&s, &lo, &hi, &fl, &un}) {
        out += ',';
        num(out, x->*k.field);
      }
    out += '\n';
  };
  for (const auto& c : r.cells) {
    out += "cell," + csv::quote(c.item) + "," + csv::quote(c.group) + "," + std::to_string(c.personas) + "," +
           std::to_string(c.answers) + "," + std::to_string(c.invalid) + ",";
    num(out, c.missing_sim);
    out += ',';
    num(out, c.missing_target);
    out += ',';
    num(out, c.target_n);
    metrics(c.score, c.lo, c.hi, c.floor, c.uniform);
  }
  for (const auto& a : r.averages) {
    out += "average,," + csv::quote(a.group) + ",,,,,,";
    metrics(a.score, a.lo, a.hi, a.floor, a.uniform);
  }
  return out;
}

nlohmann::json metrics_json(const Report& r) {
  nlohmann::json j;
  j["conventions"] = r.conventions.reference
                         ? nlohmann::json{{"name", "reference"},
                                          {"answers", "per-persona mean over repeats"},
                                          {"js",
                                           "numpy.histogram over linspace(min, max, 20) (19 bins), density, "
                                           "clipped at 1e-10, natural log; js_distance = sqrt(divergence)"},
                                          {"w1", "raw scale"}}
                         : nlohmann::json{{"name", "default"},
                                          {"answers", "each persona weighs 1, spread over its valid repeats"},
                                          {"js", "answer-code shares (numeric: equal bins), log base 2"},
                                          {"w1_norm", "w1 / (max code - min code)"}};
  j["mode"] = r.mode;
  j["items"] = nlohmann::json::array();
  for (const auto& [id, text] : r.items) j["items"].push_back({{"id", id}, {"text", text}});
  j["options"] = {{"seed", r.options.seed},
                  {"bootstrap", r.options.bootstrap},
                  {"floor_draws", r.options.floor_draws},
                  {"confidence", r.options.confidence}};
  j["cells"] = nlohmann::json::array();
  for (const auto& c : r.cells) {
    j["cells"].push_back({{"item", c.item},
                          {"group", c.group},
                          {"personas", c.personas},
                          {"answers", c.answers},
                          {"invalid", c.invalid},
                          {"missing_sim", jnum(c.missing_sim)},
                          {"missing_target", jnum(c.missing_target)},
                          {"target_n", jnum(c.target_n)},
                          {"metrics", metrics_object(c.score, c.lo, c.hi, c.floor, c.uniform)}});
    nlohmann::json sim = nlohmann::json::array(), target = nlohmann::json::array();
    for (double v : c.sim_shares) sim.push_back(jnum(v));
    for (double v : c.target_shares) target.push_back(jnum(v));
    j["cells"].back()["distribution"] = {
        {"points", c.points}, {"labels", c.labels}, {"sim", std::move(sim)}, {"target", std::move(target)}};
  }
  j["averages"] = nlohmann::json::array();
  for (const auto& a : r.averages)
    j["averages"].push_back(
        {{"group", a.group}, {"cells", a.cells}, {"metrics", metrics_object(a.score, a.lo, a.hi, a.floor, a.uniform)}});
  j["skipped"] = r.skipped;
  return j;
}

std::string metrics_table(const Report& r) {
  const bool ref = r.conventions.reference;
  const bool ci = r.options.bootstrap > 0;
  std::size_t wi = 4, wg = 5;
  for (const auto& c : r.cells) {
    wi = std::max(wi, c.item.size());
    wg = std::max(wg, c.group.size());
  }
  for (const auto& a : r.averages) wg = std::max(wg, a.group.size());
  const std::size_t wm = ci ? 21 : 8;
  auto cellv = [&](double v, double lo, double hi) {
    std::string s = f3(v);
    if (ci && std::isfinite(v)) s += " [" + f3(lo) + "," + f3(hi) + "]";
    return pad(s, wm);
  };
  struct Col {
    const char* head;
    double Scores::*f;
  };
  const Col cols[] = {{"KS", &Scores::ks},
                      {ref ? "W1 (raw)" : "W1/range", ref ? &Scores::w1 : &Scores::w1_norm},
                      {ref ? "JS dist (ln, 19 bins)" : "JS dist (base 2)", &Scores::js_distance},
                      {"|mean diff|", &Scores::mean_diff}};
  std::string out;
  {
    std::string head = pad("item", wi) + "  " + pad("group", wg) + "  " + pad("n", 5);
    for (const auto& c : cols) head += "  " + pad(c.head, wm);
    while (!head.empty() && head.back() == ' ') head.pop_back();
    out += head + '\n';
  }
  auto row = [&](const std::string& a, const std::string& b, const std::string& n, const Scores& s, const Scores& lo,
                 const Scores& hi, bool with_ci) {
    std::string line = pad(a, wi) + "  " + pad(b, wg) + "  " + pad(n, 5);
    for (const auto& c : cols) line += "  " + (with_ci ? cellv(s.*c.f, lo.*c.f, hi.*c.f) : pad(f3(s.*c.f), wm));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  };
  for (const auto& c : r.cells) row(c.item, c.group, std::to_string(c.personas), c.score, c.lo, c.hi, true);
  for (const auto& a : r.averages) {
    row("average", a.group, std::to_string(a.cells), a.score, a.lo, a.hi, true);
    if (r.options.floor_draws > 0) row("  noise floor", a.group, "", a.floor, a.floor, a.floor, false);
    row("  uniform", a.group, "", a.uniform, a.uniform, a.uniform, false);
  }
  if (ci) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "[lo,hi]: %.0f%% bootstrap interval over personas (%d replicates, seed %llu)\n",
                  r.options.confidence * 100, r.options.bootstrap, static_cast<unsigned long long>(r.options.seed));
    out += buf;
  }
  out +=
      "n: personas answering (average: cells averaged); noise floor: the metrics of same-size samples drawn "
      "from the target; uniform: answers uniform over the codes\n";
  if (ref) out += "conventions: the reference implementation's (per-persona mean of repeats, raw W1, 19-bin JS)\n";
  return out;
}

}  // namespace persona::survey
