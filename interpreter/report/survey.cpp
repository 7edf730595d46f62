// The survey section of `persona report`: the metrics.json of `persona survey` results folders,
// one series per folder (its mode), drawn side by side (docs/survey.md, "The report section").
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "report/report.hpp"
#include "report/svg.hpp"

namespace persona::report {

using svg::escape;
using json = nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The metrics drawn and tabled: the four of the table `persona survey` prints.
struct Shown {
  const char* key;
  const char* title;
};
constexpr Shown kShown[] = {
    {"ks", "KS"}, {"w1_norm", "W1/range"}, {"js_distance", "JS distance"}, {"mean_diff", "|mean diff|"}};

double number_or_nan(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return kNaN;
  const auto& v = j[key];
  return v.is_number() ? v.get<double>() : kNaN;
}

long long_or(const json& j, const char* key, long fallback) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return fallback;
  return static_cast<long>(j[key].get<double>());
}

std::string string_or(const json& j, const char* key, const std::string& fallback) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return fallback;
  return j[key].get<std::string>();
}

bool read_metrics(const json& j, std::map<std::string, SurveyFigure>& out, std::string& error) {
  if (!j.is_object()) {
    error = "`metrics` is not an object";
    return false;
  }
  for (const auto& [name, m] : j.items()) {
    if (!m.is_object()) {
      error = "`metrics." + name + "` is not an object";
      return false;
    }
    out[name] = {number_or_nan(m, "value"), number_or_nan(m, "lo"), number_or_nan(m, "hi"), number_or_nan(m, "floor"),
                 number_or_nan(m, "uniform")};
  }
  return true;
}

bool read_shares(const json& j, std::vector<double>& out) {
  if (!j.is_array()) return false;
  for (const auto& v : j) out.push_back(v.is_number() ? v.get<double>() : kNaN);
  return true;
}

bool read_strings(const json& j, std::vector<std::string>& out) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_string()) return false;
    out.push_back(v.get<std::string>());
  }
  return true;
}

std::string f3(double v) { return std::isfinite(v) ? fmt::format("{:.3f}", v) : std::string("-"); }

std::string with_interval(const SurveyFigure& f) {
  if (!std::isfinite(f.value)) return "-";
  std::string s = f3(f.value);
  if (std::isfinite(f.lo) && std::isfinite(f.hi)) s += " [" + f3(f.lo) + ", " + f3(f.hi) + "]";
  return s;
}

const SurveyFigure* figure(const std::map<std::string, SurveyFigure>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Names on the page: the mode, else the folder; a name taken twice gets the folder after it.
void name_runs(std::vector<SurveyRun>& runs) {
  std::map<std::string, int> uses;
  for (auto& r : runs) {
    r.name = r.mode.empty() ? base_name(r.dir) : r.mode;
    ++uses[r.name];
  }
  std::set<std::string> taken;
  for (auto& r : runs) {
    if (uses[r.name] > 1) r.name += " (" + r.dir + ")";
    std::string n = r.name;
    for (int k = 2; taken.count(n) != 0; ++k) n = r.name + " #" + std::to_string(k);
    r.name = n;
    taken.insert(n);
  }
}

std::string td(const std::string& s, bool left = false) {
  return std::string(left ? "<td class=\"l\">" : "<td>") + escape(s) + "</td>";
}

std::string runs_table(const std::vector<SurveyRun>& runs) {
  std::string out =
      "<table><tr><th class=\"l\">run</th><th class=\"l\">folder</th><th class=\"l\">conventions</th><th>cells</th>"
      "<th>bootstrap</th><th>noise floor draws</th><th>seed</th><th>prompt tokens per answered item</th></tr>\n";
  for (const auto& r : runs) {
    out += "<tr>" + td(r.name, true) + td(r.dir, true) + td(r.conventions, true) + td(std::to_string(r.cells.size())) +
           td(r.bootstrap > 0 ? fmt::format("{} replicates, {:g}%", r.bootstrap, r.confidence * 100) : "none") +
           td(r.floor_draws > 0 ? std::to_string(r.floor_draws) : "none") + td(r.seed.empty() ? "-" : r.seed) +
           td(r.prompt_tokens_per_answer ? fmt::format("{:.1f}", *r.prompt_tokens_per_answer)
                                         : std::string("- (no LLM calls)")) +
           "</tr>\n";
  }
  return out + "</table>\n";
}

std::string averages(const std::vector<SurveyRun>& runs) {
  std::vector<std::string> groups;
  for (const auto& r : runs)
    for (const auto& a : r.averages)
      if (std::find(groups.begin(), groups.end(), a.group) == groups.end()) groups.push_back(a.group);
  auto find_avg = [](const SurveyRun& r, const std::string& g) -> const SurveyAverage* {
    for (const auto& a : r.averages)
      if (a.group == g) return &a;
    return nullptr;
  };
  std::string out = "<div class=\"grid2\">";
  for (const auto& m : kShown) {
    svg::Chart c;
    c.title = std::string(m.title) + ", mean over items";
    c.value_format = "number";
    c.width = 600;
    c.mark_name = "noise floor";
    c.labels = groups;
    for (const auto& r : runs) {
      svg::Series s{r.name, {}};
      svg::Chart::Extras x;
      for (const auto& g : groups) {
        const SurveyAverage* a = find_avg(r, g);
        const SurveyFigure* f = a == nullptr ? nullptr : figure(a->metrics, m.key);
        s.values.push_back(f ? f->value : kNaN);
        x.lo.push_back(f ? f->lo : kNaN);
        x.hi.push_back(f ? f->hi : kNaN);
        x.marks.push_back(f ? f->floor : kNaN);
      }
      c.series.push_back(std::move(s));
      c.extras.push_back(std::move(x));
    }
    out += "<div><h3>" + escape(m.title) + "</h3>" + svg::horizontal_bars(c) + "</div>";
  }
  out += "</div>\n";
  // The same figures as numbers.
  out += "<table class=\"survey-averages\"><tr><th class=\"l\">metric</th><th class=\"l\">group</th>";
  for (const auto& r : runs) out += "<th>" + escape(r.name) + "</th>";
  out += std::string("<th>noise floor") + (runs.size() > 1 ? " (per run, if they differ)" : "") +
         "</th><th>uniform answers</th></tr>\n";
  for (const auto& m : kShown)
    for (const auto& g : groups) {
      out += "<tr>" + td(m.title, true) + td(g, true);
      std::string uniform = "-";
      std::vector<std::string> floors;  // in run order
      for (const auto& r : runs) {
        const SurveyAverage* a = find_avg(r, g);
        const SurveyFigure* f = a == nullptr ? nullptr : figure(a->metrics, m.key);
        out += td(f ? with_interval(*f) : "-");
        floors.push_back(f ? f3(f->floor) : "-");
        if (f && std::isfinite(f->uniform) && uniform == "-") uniform = f3(f->uniform);
      }
      // One floor when the runs agree (same personas and seed), else each run's, in run order.
      std::string floor;
      const bool same = std::all_of(floors.begin(), floors.end(), [&](const auto& x) { return x == floors[0]; });
      for (const auto& x : floors) {
        floor += (floor.empty() ? "" : " / ") + x;
        if (same) break;
      }
      out += td(floor) + td(uniform) + "</tr>\n";
    }
  return out + "</table>\n";
}

std::string item_text(const std::vector<SurveyRun>& runs, const std::string& id) {
  for (const auto& r : runs)
    for (const auto& [i, text] : r.items)
      if (i == id && !text.empty()) return text;
  return {};
}

// One (item, group): the distributions side by side, then each run's figures.
std::string item_card(const std::vector<SurveyRun>& runs, const std::string& item, const std::string& group) {
  std::string out = "<div class=\"survey-item\"><h3>" + escape(item) + " (" + escape(group) + ")</h3>";
  if (const std::string text = item_text(runs, item); !text.empty())
    out += "<p class=\"note\">" + escape(text) + "</p>";
  std::vector<std::pair<const SurveyRun*, const SurveyCell*>> here;
  for (const auto& r : runs)
    for (const auto& c : r.cells)
      if (c.item == item && c.group == group) here.emplace_back(&r, &c);
  // The points: the union, in the order the runs give them.
  std::vector<std::string> points;
  std::map<std::string, std::string> labels;
  for (const auto& [r, c] : here)
    for (std::size_t k = 0; k < c->points.size(); ++k) {
      if (std::find(points.begin(), points.end(), c->points[k]) == points.end()) points.push_back(c->points[k]);
      if (k < c->labels.size() && !c->labels[k].empty() && labels.count(c->points[k]) == 0)
        labels[c->points[k]] = c->labels[k];
    }
  auto on_points = [&](const SurveyCell& c, const std::vector<double>& shares) {
    std::vector<double> v;
    for (const auto& p : points) {
      double x = 0;
      for (std::size_t k = 0; k < c.points.size() && k < shares.size(); ++k)
        if (c.points[k] == p) x = shares[k];
      v.push_back(x);
    }
    return v;
  };
  svg::Chart chart;
  chart.title = item + " (" + group + "): share of answers per code";
  chart.value_format = "share";
  chart.width = 620;
  chart.labels = points;
  std::vector<std::pair<std::string, std::vector<double>>> targets;  // distinct targets, with their run
  std::string missing;
  for (const auto& [r, c] : here) {
    if (!c->has_distribution) {
      missing += (missing.empty() ? "" : ", ") + r->name;
      continue;
    }
    chart.series.push_back({r->name, on_points(*c, c->sim)});
    auto t = on_points(*c, c->target);
    const bool seen = std::any_of(targets.begin(), targets.end(), [&](const auto& x) {
      for (std::size_t k = 0; k < t.size(); ++k)
        if (std::abs(x.second[k] - t[k]) > 1e-9) return false;
      return true;
    });
    if (!seen) targets.emplace_back(r->name, std::move(t));
  }
  for (auto& [run, t] : targets)
    chart.series.push_back({targets.size() > 1 ? "target (" + run + ")" : std::string("target"), t});
  if (!chart.series.empty()) {
    out += svg::vertical_bars(chart);
    if (!labels.empty()) {
      std::string legend;
      for (const auto& p : points)
        if (labels.count(p) != 0) legend += (legend.empty() ? "" : "; ") + p + " = " + labels[p];
      out += "<p class=\"note\">" + escape(legend) + "</p>";
    }
  }
  if (!missing.empty())
    out += "<p class=\"note\">No distributions in the metrics.json of " + escape(missing) +
           " (written before persona survey recorded them): run the survey again to draw them.</p>";
  out += "<table class=\"survey-cell\"><tr><th class=\"l\">run</th><th>personas</th><th>invalid</th>";
  for (const auto& m : kShown) out += "<th>" + escape(m.title) + "</th>";
  out += "</tr>\n";
  for (const auto& [r, c] : here) {
    out += "<tr>" + td(r->name, true) + td(std::to_string(c->personas)) + td(std::to_string(c->invalid));
    for (const auto& m : kShown) {
      const SurveyFigure* f = figure(c->metrics, m.key);
      out += td(f ? with_interval(*f) : "-");
    }
    out += "</tr>\n";
  }
  // The noise floor of each run (it depends on the number of personas and the seed): one row when
  // the runs agree.
  std::vector<std::pair<std::string, std::string>> floor_rows;  // run name, the row's cells
  for (const auto& [r, c] : here) {
    std::string cells = td(std::to_string(c->personas)) + td("");
    bool any = false;
    for (const auto& m : kShown) {
      const SurveyFigure* f = figure(c->metrics, m.key);
      any = any || (f && std::isfinite(f->floor));
      cells += td(f ? f3(f->floor) : "-");
    }
    if (any) floor_rows.emplace_back(r->name, cells);
  }
  const bool one_floor = std::all_of(floor_rows.begin(), floor_rows.end(),
                                     [&](const auto& x) { return x.second == floor_rows[0].second; });
  for (const auto& [name, cells] : floor_rows) {
    out += "<tr>" + td(one_floor ? std::string("noise floor") : "noise floor (" + name + ")", true) + cells + "</tr>\n";
    if (one_floor) break;
  }
  return out + "</table></div>\n";
}

}  // namespace

std::optional<SurveyRun> parse_survey(const std::string& dir, const std::string& metrics_json, std::string& error) {
  const json j = json::parse(metrics_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  if (!j.contains("cells") || !j["cells"].is_array() || !j.contains("averages") || !j["averages"].is_array()) {
    error = "no `cells` and `averages` arrays: not the metrics.json of persona survey";
    return std::nullopt;
  }
  SurveyRun r;
  r.dir = dir;
  r.mode = string_or(j, "mode", "");
  if (j.contains("conventions")) r.conventions = string_or(j["conventions"], "name", "default");
  if (j.contains("options") && j["options"].is_object()) {
    const auto& o = j["options"];
    r.confidence = std::isfinite(number_or_nan(o, "confidence")) ? number_or_nan(o, "confidence") : 0.95;
    r.bootstrap = long_or(o, "bootstrap", 0);
    r.floor_draws = long_or(o, "floor_draws", 0);
    if (o.contains("seed") && o["seed"].is_number_unsigned()) r.seed = std::to_string(o["seed"].get<std::uint64_t>());
  }
  if (j.contains("items") && j["items"].is_array())
    for (const auto& it : j["items"])
      if (it.is_object()) r.items.emplace_back(string_or(it, "id", ""), string_or(it, "text", ""));
  std::size_t k = 0;
  for (const auto& c : j["cells"]) {
    const std::string where = "cells[" + std::to_string(k++) + "]";
    if (!c.is_object() || !c.contains("item") || !c["item"].is_string() || !c.contains("metrics")) {
      error = where + " has no `item` or `metrics`";
      return std::nullopt;
    }
    SurveyCell cell;
    cell.item = c["item"].get<std::string>();
    cell.group = string_or(c, "group", "all");
    cell.personas = long_or(c, "personas", 0);
    cell.invalid = long_or(c, "invalid", 0);
    if (!read_metrics(c["metrics"], cell.metrics, error)) {
      error = where + ": " + error;
      return std::nullopt;
    }
    if (c.contains("distribution")) {
      const auto& d = c["distribution"];
      if (!d.is_object() || !read_strings(d.value("points", json()), cell.points) ||
          !read_strings(d.value("labels", json::array()), cell.labels) ||
          !read_shares(d.value("sim", json()), cell.sim) || !read_shares(d.value("target", json()), cell.target) ||
          cell.sim.size() != cell.points.size() || cell.target.size() != cell.points.size()) {
        error = where + ": `distribution` needs `points`, `sim` and `target` arrays of one length";
        return std::nullopt;
      }
      cell.has_distribution = true;
    }
    r.cells.push_back(std::move(cell));
  }
  k = 0;
  for (const auto& a : j["averages"]) {
    const std::string where = "averages[" + std::to_string(k++) + "]";
    if (!a.is_object() || !a.contains("metrics")) {
      error = where + " has no `metrics`";
      return std::nullopt;
    }
    SurveyAverage avg;
    avg.group = string_or(a, "group", "all");
    avg.cells = long_or(a, "cells", 0);
    if (!read_metrics(a["metrics"], avg.metrics, error)) {
      error = where + ": " + error;
      return std::nullopt;
    }
    r.averages.push_back(std::move(avg));
  }
  if (j.contains("skipped") && j["skipped"].is_array())
    for (const auto& s : j["skipped"])
      if (s.is_string()) r.skipped.push_back(s.get<std::string>());
  if (j.contains("llm") && j["llm"].is_object()) {
    const double t = number_or_nan(j["llm"], "prompt_tokens_per_answer");
    if (std::isfinite(t)) r.prompt_tokens_per_answer = t;
  }
  return r;
}

std::string survey_section(std::vector<SurveyRun> runs) {
  name_runs(runs);
  std::string out =
      "<p class=\"note\">Simulated answers (one series per results folder of <code>persona survey</code>) against "
      "the target distributions. Lower is closer to the target; the noise floor is what a perfect simulator would "
      "still score with this many personas, and uniform answers are the random baseline. Definitions: "
      "docs/survey.md.</p>\n";
  out += runs_table(runs);
  std::set<std::string> conventions;
  for (const auto& r : runs) conventions.insert(r.conventions);
  if (conventions.size() > 1)
    out +=
        "<p class=\"bad\">These runs use different metric conventions (--reference in some): their figures do "
        "not compare.</p>\n";
  out += "<h3>Metrics per mode</h3>";
  double confidence = runs.empty() ? 0.95 : runs.front().confidence;
  out += fmt::format(
      "<p class=\"note\">Bars: the mean over items (and groups) of each metric; whiskers: the {:g}% bootstrap interval "
      "over personas; red tick: the noise floor.</p>\n",
      confidence * 100);
  out += averages(runs);
  out += "<h3>Answer distributions per item</h3>";
  out +=
      "<p class=\"note\">Shares of the substantive answers per code (numeric items: per bin), each persona weighing "
      "1 spread over its repeats, next to the target's shares; missing codes are left out of both.</p>\n";
  std::vector<std::pair<std::string, std::string>> cells;
  for (const auto& r : runs)
    for (const auto& c : r.cells)
      if (std::find(cells.begin(), cells.end(), std::make_pair(c.item, c.group)) == cells.end())
        cells.emplace_back(c.item, c.group);
  out += "<div class=\"grid2\">";
  for (const auto& [item, group] : cells) out += item_card(runs, item, group);
  out += "</div>\n";
  std::vector<std::string> skipped;
  for (const auto& r : runs)
    for (const auto& s : r.skipped) skipped.push_back(r.name + ": " + s);
  if (!skipped.empty()) {
    out += "<p class=\"note\">Left out of the averages:</p><ul>";
    for (const auto& s : skipped) out += "<li>" + escape(s) + "</li>";
    out += "</ul>\n";
  }
  return out;
}

}  // namespace persona::report
