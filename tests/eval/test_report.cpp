// The SVG chart module and the HTML page of `persona report`.
#include <cmath>
#include <regex>

#include "eval_support.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"

using namespace eval_test;
using namespace persona;
namespace svg = persona::report::svg;

namespace {

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Heights of the bars (rect elements with a class s0..s5) in document order.
std::vector<double> bar_sizes(const std::string& markup, const char* attr) {
  std::vector<double> out;
  const std::regex re(std::string(R"re(<rect class="s\d" [^>]*)re") + attr + R"re(="([0-9.]+)")re");
  for (auto it = std::sregex_iterator(markup.begin(), markup.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod((*it)[1].str()));
  return out;
}

}  // namespace

TEST_CASE("svg escape makes any text safe inside elements and attributes", "[report][svg]") {
  CHECK(svg::escape(R"(<a href="x">Tom & 'Jerry'</a>)") ==
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  CHECK(svg::escape(std::string("bell\x07") + "end") == "bell end");
}

TEST_CASE("vertical bars are as tall as their values relative to the axis end", "[report][svg]") {
  svg::Chart c;
  c.title = "Attributes <per> persona";
  c.labels = {"a", "b", "c"};
  c.series = {{"x", {10, 5, 0}}};
  c.height = 220;
  const std::string m = svg::vertical_bars(c);
  CHECK(m.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(m.ends_with("</svg>"));
  CHECK(m.find("<title>Attributes &lt;per&gt; persona</title>") != std::string::npos);
  const auto h = bar_sizes(m, "height");
  REQUIRE(h.size() == 3);
  CHECK(h[0] == Approx(2 * h[1]));
  CHECK(h[2] == 0);
  CHECK(m.find("<title>x, a: 10</title>") != std::string::npos);  // exact value on hover
  CHECK(count(m, "<rect") == 3);                                  // one series: no legend swatch
}

TEST_CASE("horizontal bars show shares as percentages, one row per label, a legend for several series",
          "[report][svg]") {
  svg::Chart c;
  c.title = "categories";
  c.value_format = "share";
  c.labels = {"Demographic Information", "Hobbies"};
  c.series = {{"run A", {0.25, 0.5}}, {"run B", {0.5, -1}}};
  const std::string m = svg::horizontal_bars(c);
  const auto w = bar_sizes(m, "width");
  REQUIRE(w.size() == 2 + 4);       // two legend swatches, then the bars
  CHECK(w[2] == Approx(w[3] / 2));  // A's 25% is half of B's 50% ...
  CHECK(w[4] == Approx(w[3]));      // ... which equals A's 50%
  CHECK(w[5] == 0);                 // a negative value is drawn as 0
  CHECK(m.find("50.0%") != std::string::npos);
  CHECK(m.find(">run A</text>") != std::string::npos);
}

TEST_CASE("a chart without data says so instead of drawing nothing", "[report][svg]") {
  svg::Chart c;
  c.title = "empty";
  CHECK(svg::vertical_bars(c).find("no data") != std::string::npos);
  CHECK(svg::horizontal_bars(c).find("no data") != std::string::npos);
}

TEST_CASE("histograms are binned on one common range so files compare bin by bin", "[report][svg]") {
  const eval::Histogram a{{200, 3}, {201, 1}, {249, 2}}, b{{230, 5}};
  const auto binned = svg::bin({&a, &b}, 10);
  REQUIRE(binned.labels.size() == 10);
  CHECK(binned.labels.front() == "200-204");
  CHECK(binned.labels.back() == "245-249");
  CHECK(binned.counts[0][0] == 4);
  CHECK(binned.counts[0][9] == 2);
  CHECK(binned.counts[1][6] == 5);
  const eval::Histogram small{{3, 1}, {4, 2}};
  CHECK(svg::bin({&small}, 30).labels == std::vector<std::string>{"3", "4"});
  CHECK(svg::bin({}, 30).labels.empty());
}

TEST_CASE("the report page is self-contained, has every section, and compares files side by side", "[report][html]") {
  eval::Evaluator ev(options(), nullptr);
  ev.add(make_persona("a", {{"Lifestyle/Sleep/Chronotype", "None"}, {"Hobbies/Music", "<b>jazz</b>"}}));
  ev.add(make_persona("b", {{"Lifestyle/Sleep/Chronotype", "owl"}}));
  report::Input one{ev.finish("runs/one.jsonl"), std::string(R"({"recipe":{"name":"kenya","version":"2"},
      "seed":7,"model":{"backend":"llm","name":"gpt-x"},"totals":{"cost_usd":1.25}})"),
                    "runs/one.jsonl.manifest.json"};
  eval::Evaluator ev2(options(), nullptr);
  ev2.add(make_persona("c", {{"Work/Job", "teacher"}}));
  report::Input two{ev2.finish("runs/two.jsonl"), std::nullopt, "runs/two.jsonl.manifest.json"};
  const std::string html = report::render_html({one, two}, "Kenya <v2>", "persona test");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<title>Kenya &lt;v2&gt;</title>") != std::string::npos);
  for (const char* s : {"Summary", "Attributes per persona", "Narrative length", "Category coverage", "Tier mix",
                        "Anchors against their tables", "Contradictions, filler and repeats",
                        "Similarity between personas", "Privacy", "Manifest"})
    CHECK(html.find(std::string(">") + s + "</h2>") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(count(html, "http://") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(html.find("<b>jazz</b>") == std::string::npos);  // persona text is escaped
  CHECK(html.find("<th>one.jsonl</th><th>two.jsonl</th>") != std::string::npos);
  CHECK(html.find("gpt-x") != std::string::npos);
  CHECK(html.find("1.25") != std::string::npos);
  CHECK(html.find("No manifest beside the file (runs/two.jsonl.manifest.json)") != std::string::npos);
  CHECK(html.find("contradictions not counted") != std::string::npos);
  CHECK(html.find(">contradictions</text>") == std::string::npos);  // no bar of 0 claiming there are none
  CHECK(count(html, "<svg") == count(html, "</svg>"));
  // Two files of different sizes: histograms in shares of each file's personas.
  CHECK(html.find("Attributes per persona (share of each file&#39;s personas)") != std::string::npos);
}

TEST_CASE("manifest rows name the recipe, hashes, seed, backend, model and cost, a broken manifest says so",
          "[report][html]") {
  const auto rows = report::manifest_rows(
      R"({"recipe":{"name":"q","version":"1.0","text_hash":"abc"},"taxonomy":{"content_hash":"def"},"seed":7,
          "model":{"backend":"offline"},"totals":{"cost_usd":0}})");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"recipe", "q"}, {"recipe version", "1.0"}, {"recipe hash", "abc"}, {"taxonomy hash", "def"},
      {"seed", "7"},   {"backend", "offline"},    {"cost (USD)", "0"}};
  CHECK(rows == want);
  CHECK(report::manifest_rows("{not json")[0].second.find("not a JSON object") != std::string::npos);
}

TEST_CASE("counted contradictions are drawn with a table of the broken rules", "[report][html]") {
  auto o = options();
  o.contradictions = [](const record::PersonaRecord& r) {
    return r.id == "a" ? std::vector<eval::Violation>{{"married-too-young", "married at 12"}}
                       : std::vector<eval::Violation>{};
  };
  eval::Evaluator ev(o, nullptr);
  ev.add(make_persona("a", {{"Family/Marital Status", "married"}}));
  ev.add(make_persona("b", {{"Family/Marital Status", "single"}}));
  const std::string html = report::render_html({{ev.finish("c.jsonl"), std::nullopt, ""}}, "t", "persona test");
  CHECK(html.find(">contradictions</text>") != std::string::npos);
  CHECK(html.find("Broken rules in c.jsonl") != std::string::npos);
  CHECK(html.find("<td class=\"l\">married-too-young</td><td>1</td>") != std::string::npos);
  CHECK(html.find("contradictions not counted") == std::string::npos);
}

TEST_CASE("horizontal bars draw an interval as a whisker and a reference value as a tick at their values",
          "[report][svg]") {
  svg::Chart c;
  c.title = "KS";
  c.value_format = "number";
  c.width = 600;
  c.mark_name = "noise floor";
  c.labels = {"all"};
  c.series = {{"deep", {0.2}}, {"random", {0.3}}};
  c.extras.push_back({{0.1}, {0.4}, {0.05}});  // deep only
  const std::string m = svg::horizontal_bars(c);
  // The axis reaches the interval's end (0.4 -> 0.5), so a bar of 0.2 is 2/5 of the plot (600-230-64).
  const auto w = bar_sizes(m, "width");
  REQUIRE(w.size() == 4);  // two legend swatches, then the bars
  CHECK(w[2] == Approx(306 * 0.2 / 0.5).margin(0.05));
  CHECK(w[3] == Approx(306 * 0.3 / 0.5).margin(0.05));
  const std::regex whisker(R"re(<path class="ci" d="M([0-9.]+) \d+V\d+M[0-9.]+ \d+H([0-9.]+))re");
  std::smatch ci;
  REQUIRE(std::regex_search(m, ci, whisker));
  CHECK(std::stod(ci[1].str()) == Approx(230 + 306 * 0.1 / 0.5).margin(0.05));
  CHECK(std::stod(ci[2].str()) == Approx(230 + 306 * 0.4 / 0.5).margin(0.05));
  const std::regex tick(R"re(<line class="mark" x1="([0-9.]+)")re");
  std::smatch mk;
  REQUIRE(std::regex_search(m, mk, tick));
  CHECK(std::stod(mk[1].str()) == Approx(230 + 306 * 0.05 / 0.5).margin(0.05));
  CHECK(m.find("<title>deep, all: 0.2 [0.1, 0.4]</title>") != std::string::npos);
  CHECK(m.find("<title>noise floor: 0.05</title>") != std::string::npos);
  CHECK(count(m, "class=\"ci\"") == 1);  // the series without an interval has no whisker
  CHECK(count(m, "class=\"mark\"") == 1);
}

TEST_CASE("the survey section shows each run's figures and escapes every text of metrics.json", "[report][html]") {
  const std::string metrics = R"({
    "mode": "deep", "conventions": {"name": "default"},
    "options": {"seed": 4, "bootstrap": 100, "floor_draws": 10, "confidence": 0.9},
    "items": [{"id": "q<1>", "text": "Do you like <script>alert('x')</script> & co?"}],
    "cells": [{"item": "q<1>", "group": "A&B", "personas": 12, "invalid": 1,
               "metrics": {"ks": {"value": 0.25, "lo": 0.125, "hi": 0.5, "floor": 0.0626, "uniform": 0.375},
                           "w1_norm": {"value": null, "lo": null, "hi": null, "floor": null, "uniform": null}},
               "distribution": {"points": ["1", "2"], "labels": ["<yes>", ""], "sim": [0.75, 0.25],
                                "target": [0.5, 0.5]}}],
    "averages": [{"group": "all", "cells": 1,
                  "metrics": {"ks": {"value": 0.25, "lo": 0.125, "hi": 0.5, "floor": 0.0626, "uniform": 0.375}}}],
    "skipped": ["q2 (A&B): no targets"],
    "llm": {"prompt_tokens_per_answer": 123.45}})";
  std::string error;
  auto run = report::parse_survey("out/<deep>", metrics, error);
  INFO(error);
  REQUIRE(run);
  CHECK(run->mode == "deep");
  REQUIRE(run->cells.size() == 1);
  CHECK(run->cells[0].metrics.at("ks").floor == 0.0626);
  CHECK(std::isnan(run->cells[0].metrics.at("w1_norm").value));
  const std::string html = report::render_html({}, "Survey", "persona test", {*run});
  CHECK(html.find("<h2 id=\"survey\">Survey</h2>") != std::string::npos);
  CHECK(html.find("id=\"summary\"") == std::string::npos);  // no persona files: no persona sections
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co?") != std::string::npos);
  CHECK(html.find("<h3>q&lt;1&gt; (A&amp;B)</h3>") != std::string::npos);
  CHECK(html.find("out/&lt;deep&gt;") != std::string::npos);
  CHECK(html.find("1 = &lt;yes&gt;") != std::string::npos);
  CHECK(html.find("<td>0.250 [0.125, 0.500]</td>") != std::string::npos);
  CHECK(html.find("<td>0.063</td>") != std::string::npos);  // the floor (0.0626 to 3 decimals)
  CHECK(html.find("<title>noise floor: 0.0626</title>") != std::string::npos);
  CHECK(html.find("<td>0.375</td>") != std::string::npos);  // uniform answers
  CHECK(html.find("<td>123.5</td>") != std::string::npos);  // prompt tokens per answered item
  CHECK(html.find("90% bootstrap interval") != std::string::npos);
  CHECK(html.find("<title>deep, 1: 75.0%</title>") != std::string::npos);
  CHECK(html.find("<title>target, 2: 50.0%</title>") != std::string::npos);
  CHECK(html.find("deep: q2 (A&amp;B): no targets") != std::string::npos);
  CHECK(count(html, "<svg") == count(html, "</svg>"));
  // Two runs of one mode are told apart by their folders.
  auto other = *run;
  other.dir = "out/again";
  const std::string two = report::render_html({}, "Survey", "persona test", {*run, other});
  CHECK(two.find("<td class=\"l\">deep (out/again)</td>") != std::string::npos);
  // What is not a survey's metrics.json is refused, saying why.
  CHECK_FALSE(report::parse_survey("x", "[1, 2]", error));
  CHECK(error == "not a JSON object");
  CHECK_FALSE(report::parse_survey("x", R"({"cells": [{"item": "a"}], "averages": []})", error));
  CHECK(error == "cells[0] has no `item` or `metrics`");
  CHECK_FALSE(report::parse_survey(
      "x", R"({"cells": [{"item": "a", "metrics": {}, "distribution": {"points": ["1"], "sim": [], "target": [1]}}],
              "averages": []})",
      error));
  CHECK(error.find("`distribution` needs") != std::string::npos);
}
