// The survey section of `persona report`: the results folders of `persona survey` (a random run
// offline and a deep run against the loopback server) drawn side by side, with the very figures of
// their metrics.json; and the errors of a --survey folder that holds no metrics.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string thirty_personas() {
  static const std::string path = [] {
    const auto file = scratch_dir("survey-report") / "uk-adults-30.jsonl";
    const auto o = run_persona("run examples/survey/uk-adults.persona --count 30 --out '" + file.string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
    return file.string();
  }();
  return path;
}

const std::string kExample = " --questions examples/survey/questionnaire.toml --targets examples/survey/targets.csv";

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

std::string f3(const json& v) { return fmt::format("{:.3f}", v.get<double>()); }

// "0.318 [0.257, 0.388]" as the page writes a figure with its interval.
std::string with_interval(const json& m) { return f3(m["value"]) + " [" + f3(m["lo"]) + ", " + f3(m["hi"]) + "]"; }

}  // namespace

TEST_CASE(
    "persona report --survey draws every item's distributions and the metric bars of each mode with the "
    "figures of metrics.json") {
  const auto root = scratch_dir("survey-report");
  const auto random_dir = root / "random", deep_dir = root / "deep";
  fs::remove_all(random_dir);
  fs::remove_all(deep_dir);
  {
    const auto o = run_persona("survey '" + thirty_personas() + "'" + kExample +
                               " --mode random --seed 3 --bootstrap 40 -o '" + random_dir.string() + "' --quiet");
    INFO(o.err);
    REQUIRE(o.code == 0);
  }
  llm::fake::Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_SURVEY_REPORT_KEY", "sk-report", 1);
  write_file(root / "persona.toml",
             fake_provider_toml(server.base_url(), "PERSONA_SURVEY_REPORT_KEY", "max_concurrency = 8\n"));
  {
    const auto o = run_persona("survey '" + thirty_personas() + "'" + kExample +
                               " --mode deep --repeats 2 --bootstrap 40 --config '" + (root / "persona.toml").string() +
                               "' -o '" + deep_dir.string() + "' --quiet");
    INFO(o.err);
    REQUIRE(o.code == 0);
  }
  const auto html_file = root / "survey.html";
  const auto o = run_persona("report --survey '" + random_dir.string() + "' --survey '" + deep_dir.string() + "' -o '" +
                             html_file.string() + "'");
  INFO(o.err);
  REQUIRE(o.code == 0);
  const std::string html = read_file(html_file);

  // Only the survey section (no persona files were given), self-contained.
  CHECK(html.find("<h2 id=\"survey\">Survey</h2>") != std::string::npos);
  CHECK(html.find("id=\"summary\"") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find(" href=") == std::string::npos);
  CHECK(count(html, "http") == count(html, "http://www.w3.org/2000/svg"));
  // Both runs, named by their mode, with the deep run's prompt tokens per answered item.
  const auto rj = json::parse(read_file(random_dir / "metrics.json"));
  const auto dj = json::parse(read_file(deep_dir / "metrics.json"));
  CHECK(rj["mode"] == "random");
  CHECK(dj["mode"] == "deep");
  CHECK(html.find("<td class=\"l\">random</td>") != std::string::npos);
  CHECK(html.find("<td class=\"l\">deep</td>") != std::string::npos);
  CHECK(html.find(fmt::format("<td>{:.1f}</td>", dj["llm"]["prompt_tokens_per_answer"].get<double>())) !=
        std::string::npos);

  // Metric bars per mode: a whisker for each mode and metric, the noise floor as a tick; the
  // averages table has each value with its interval, and the floor.
  CHECK(count(html, "<path class=\"ci\"") >= 2 * 4);
  CHECK(count(html, "<line class=\"mark\"") >= 2 * 4);
  for (const auto* j : {&rj, &dj}) {
    const auto& avg = (*j)["averages"][0];
    REQUIRE(avg["group"] == "all");
    for (const char* m : {"ks", "w1_norm", "js_distance", "mean_diff"}) {
      INFO((*j)["mode"] << " " << m);
      CHECK(html.find("<td>" + with_interval(avg["metrics"][m]) + "</td>") != std::string::npos);
      CHECK(html.find("noise floor: " + fmt::format("{:.3g}", avg["metrics"][m]["floor"].get<double>())) !=
            std::string::npos);
    }
  }

  // Per item: the heading, the question text, and each run's shares next to the target's.
  for (const auto& cell : dj["cells"]) {
    const std::string item = cell["item"], group = cell["group"];
    INFO(item);
    CHECK(html.find("<h3>" + item + " (" + group + ")</h3>") != std::string::npos);
    const auto& d = cell["distribution"];
    REQUIRE(d["points"].size() == 4);
    for (std::size_t k = 0; k < d["points"].size(); ++k) {
      const std::string point = d["points"][k];
      CHECK(html.find("<title>deep, " + point + ": " + fmt::format("{:.1f}%", 100 * d["sim"][k].get<double>()) +
                      "</title>") != std::string::npos);
      CHECK(html.find("<title>target, " + point + ": " + fmt::format("{:.1f}%", 100 * d["target"][k].get<double>()) +
                      "</title>") != std::string::npos);
    }
    // The cell's figures of both runs.
    CHECK(html.find("<td>" + with_interval(cell["metrics"]["ks"]) + "</td>") != std::string::npos);
  }
  for (const auto& cell : rj["cells"]) {
    const auto& d = cell["distribution"];
    CHECK(html.find("<title>random, " + std::string(d["points"][0]) + ": " +
                    fmt::format("{:.1f}%", 100 * d["sim"][0].get<double>()) + "</title>") != std::string::npos);
    CHECK(html.find("<td>" + with_interval(cell["metrics"]["js_distance"]) + "</td>") != std::string::npos);
  }
  // Shares sum to 1 in metrics.json.
  for (const auto& cell : dj["cells"]) {
    double s = 0, t = 0;
    for (const auto& v : cell["distribution"]["sim"]) s += v.get<double>();
    for (const auto& v : cell["distribution"]["target"]) t += v.get<double>();
    CHECK(s == Approx(1).margin(1e-5));
    CHECK(t == Approx(1).margin(1e-5));
  }
  // The question text of the questionnaire and the codes' labels are on the page.
  CHECK(html.find(dj["items"][0]["text"].get<std::string>().substr(0, 20)) != std::string::npos);
  CHECK(html.find(std::string(dj["cells"][0]["distribution"]["points"][0]) + " = " +
                  std::string(dj["cells"][0]["distribution"]["labels"][0])) != std::string::npos);
}

TEST_CASE("persona report --survey on a folder without metrics.json or with a broken one exits 1 saying why") {
  const auto root = scratch_dir("survey-report-errors");
  fs::remove_all(root / "empty");
  fs::create_directories(root / "empty");
  const auto html = root / "x.html";
  const auto none = run_persona("report --survey '" + (root / "empty").string() + "' -o '" + html.string() + "'");
  CHECK(none.code == 1);
  CHECK(none.err.find("metrics.json does not exist") != std::string::npos);
  CHECK(none.err.find("--targets") != std::string::npos);
  fs::create_directories(root / "broken");
  write_file(root / "broken" / "metrics.json", "{\"cells\": 3}");
  const auto broken = run_persona("report --survey '" + (root / "broken").string() + "' -o '" + html.string() + "'");
  CHECK(broken.code == 1);
  CHECK(broken.err.find("broken/metrics.json: error: no `cells` and `averages` arrays") != std::string::npos);
  CHECK_FALSE(fs::exists(html));
  const auto neither = run_persona("report -o '" + html.string() + "'");
  CHECK(neither.code == 2);
  CHECK(neither.err.find("give persona files, --survey DIR, --mining FILE, or several") != std::string::npos);
}
