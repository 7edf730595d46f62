// `persona report`: the figures of `persona eval` as one self-contained HTML page (inline CSS and
// SVG, no script, no external resource), one column per file so runs compare side by side; and,
// for the folders `persona survey` wrote, a survey section (docs/survey.md).
//
//   std::vector<report::Input> in = {{rep, manifest_text}};
//   std::string error;
//   auto run = report::parse_survey("results/deep", metrics_json_text, error);
//   std::string html = report::render_html(in, "Persona report", "persona 0.1.0", {*run});
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "eval/eval.hpp"

namespace persona::report {

struct Input {
  eval::FileReport report;
  std::optional<std::string> manifest;  // the text of FILE.manifest.json, when there is one
  std::string manifest_path;
};

// ---------------------------------------------------------------------------------------------
// The survey section: what a `persona survey` results folder's metrics.json holds.

struct SurveyFigure {  // one metric: value, bootstrap interval, noise floor, uniform baseline
  double value = std::numeric_limits<double>::quiet_NaN();
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
  double floor = std::numeric_limits<double>::quiet_NaN();
  double uniform = std::numeric_limits<double>::quiet_NaN();
};

struct SurveyCell {
  std::string item, group;
  long personas = 0, invalid = 0;
  std::map<std::string, SurveyFigure> metrics;  // ks, w1_norm, js_distance, mean_diff, ...
  bool has_distribution = false;                // false: metrics.json from before distributions
  std::vector<std::string> points, labels;      // codes (or numeric bins) and their labels
  std::vector<double> sim, target;              // shares per point
};

struct SurveyAverage {
  std::string group;
  long cells = 0;
  std::map<std::string, SurveyFigure> metrics;
};

struct SurveyRun {
  std::string dir;   // the folder (or metrics.json path) as given
  std::string mode;  // metrics.json `mode`; "" when absent
  std::string name;  // the run's name on the page: its mode, made unique (render_html sets it)
  std::string conventions = "default";
  double confidence = 0.95;
  long bootstrap = 0, floor_draws = 0;
  std::string seed;
  std::vector<std::pair<std::string, std::string>> items;  // id, question text
  std::vector<SurveyCell> cells;
  std::vector<SurveyAverage> averages;
  std::vector<std::string> skipped;
  std::optional<double> prompt_tokens_per_answer;  // LLM modes (metrics.json `llm`)
};

// Reads the text of a metrics.json written by `persona survey`. nullopt with `error` saying what is
// wrong (not JSON, no `cells`/`averages`, a field of the wrong type) when it is not one.
std::optional<SurveyRun> parse_survey(const std::string& dir, const std::string& metrics_json, std::string& error);

// The survey section's body (render_html puts it under the heading "Survey"): the runs, metric
// bars per mode with their intervals and noise floors, and every item's distributions side by side.
std::string survey_section(std::vector<SurveyRun> runs);

// The mining section: a report.json written by `persona taxonomy mine` (docs/mining.md).
struct MiningRun {
  std::string file;
  std::string json;  // the whole report, checked by parse_mining
};
// nullopt with `error` when the text is not a mining report (not JSON, a section missing).
std::optional<MiningRun> parse_mining(const std::string& file, const std::string& text, std::string& error);
// Its body (render_html puts it under "Taxonomy mining"): calls per step, personalizable shares,
// categories by support, the top-level mapping and the merge decisions.
std::string mining_section(const std::vector<MiningRun>& runs);

// The page. `generator` names the tool in the footer ("persona 0.1.0"). With `surveys` the page has
// a survey section, with `mining` a mining section; without persona files (`inputs` empty) it has
// only those.
std::string render_html(const std::vector<Input>& inputs, const std::string& title, const std::string& generator,
                        std::vector<SurveyRun> surveys = {}, const std::vector<MiningRun>& mining = {});

// The manifest facts the page shows (recipe, version, hashes, seed, backend, model, cost, ...), as
// label/value rows; a manifest that is not JSON gives one row saying so.
std::vector<std::pair<std::string, std::string>> manifest_rows(const std::string& manifest_text);

}  // namespace persona::report
