// The population block (docs/language.md "population"): a run of N has exactly the target counts
// of its calibrated anchors' combinations, in every shard split and thread count; inconsistent
// targets are reported with their residual; oversampling carries weights that undo it; a target
// the tables cannot meet is a positioned error. The expected counts are computed here, from the
// census file, by the test's own largest-remainder rounding.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kRegions = {"North East", "North West", "Midlands", "London", "South West", "Wales"};
const std::vector<std::string> kBands = {"18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"};
using Cell = std::tuple<std::string, std::string, std::string>;  // region, gender, age band

// A census of people by region, sex and age band (counts; made up for the test, deterministic).
std::map<Cell, double> census() {
  std::map<Cell, double> c;
  unsigned x = 12345;
  for (const auto& r : kRegions)
    for (const char* g : {"female", "male"})
      for (const auto& b : kBands) {
        x = x * 1103515245U + 12345U;
        c[{r, g, b}] = 20000 + static_cast<double>((x >> 8) % 70000);
      }
  return c;
}

std::string band_of(double age) {
  for (const auto& b : kBands) {
    if (b == "75+") return b;
    const int lo = std::stoi(b.substr(0, 2)), hi = std::stoi(b.substr(3, 2));
    if (age >= lo && age <= hi) return b;
  }
  return "?";
}

// Largest remainders: the counts every run must have.
std::map<Cell, std::int64_t> rounded(const std::map<Cell, double>& w, std::int64_t n) {
  double total = 0;
  for (const auto& [k, v] : w) total += v;
  std::map<Cell, std::int64_t> out;
  std::vector<std::pair<double, Cell>> rest;
  std::int64_t given = 0;
  for (const auto& [k, v] : w) {
    const double q = static_cast<double>(n) * v / total;
    out[k] = static_cast<std::int64_t>(std::floor(q));
    given += out[k];
    rest.emplace_back(q - std::floor(q), k);
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < n; ++i, ++given) ++out[rest[i].second];
  return out;
}

const char* kRecipe = R"(recipe "calibrated" version "1"
taxonomy stdlib.core
seed 5
table census = "census.csv"
anchor country = "United Kingdom"
anchor region  ~ { "North East": 1, "North West": 2, Midlands: 3, London: 3, "South West": 2, Wales: 1 }
anchor gender  ~ { female: 0.5, male: 0.5 }
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
population {
  calibrate region, gender, age to table census
EXTRA}
attributes {
  count 5
}
narrative none
)";

fs::path setup(const std::string& name, const std::string& extra = "") {
  const auto dir = test::scratch_dir("population-" + name);
  std::ostringstream csv;
  csv << "region,gender,value,weight\n";
  for (const auto& [k, v] : census())
    csv << std::get<0>(k) << "," << std::get<1>(k) << "," << std::get<2>(k) << "," << v << "\n";
  test::write_file((dir / "census.csv").string(), csv.str());
  std::string recipe = kRecipe;
  recipe.replace(recipe.find("EXTRA"), 5, extra);
  test::write_file((dir / "calibrated.persona").string(), recipe);
  return dir;
}

test::Outcome persona_in(const fs::path& dir, const std::string& args) {
  return test::run_command(std::string("'") + PERSONA_BIN + "' " + args, "", dir);
}

std::vector<nlohmann::json> records(const fs::path& file) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::read_file(file.string()));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::map<Cell, std::int64_t> counts(const std::vector<nlohmann::json>& rs) {
  std::map<Cell, std::int64_t> c;
  for (const auto& r : rs)
    ++c[{r["anchors"]["region"].get<std::string>(), r["anchors"]["gender"].get<std::string>(),
         band_of(r["anchors"]["age"].get<double>())}];
  return c;
}

}  // namespace

TEST_CASE("population: 1000 personas calibrated to age band x sex x region have every cell at its rounded target") {
  const auto dir = setup("exact");
  const auto want = rounded(census(), 1000);
  REQUIRE(want.size() == 84);
  auto r = persona_in(dir, "run calibrated.persona -n 1000 -q -o all.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto all = records(dir / "all.jsonl");
  REQUIRE(all.size() == 1000);
  auto got = counts(all);
  for (const auto& [cell, n] : want) {
    INFO(std::get<0>(cell) << " / " << std::get<1>(cell) << " / " << std::get<2>(cell));
    CHECK(got[cell] == n);
  }
  CHECK(got.size() == want.size());  // nobody outside the census's cells
  const auto m = nlohmann::json::parse(test::read_file((dir / "all.jsonl.manifest.json").string()));
  CHECK(m["population"]["residual"] == 0);
  CHECK(m["population"]["targets"][0]["groups"] == 84);

  SECTION("the same personas in 4 shards and with 3 threads") {
    std::map<std::string, std::string> whole;
    for (const auto& rec : all) whole[rec["id"].get<std::string>()] = rec.dump();
    std::vector<nlohmann::json> joined;
    for (int k = 1; k <= 4; ++k) {
      auto s = persona_in(dir, "run calibrated.persona -n 1000 -q --shard " + std::to_string(k) + "/4 -o s" +
                                   std::to_string(k) + ".jsonl");
      REQUIRE(s.code == 0);
      for (auto& rec : records(dir / ("s" + std::to_string(k) + ".jsonl"))) joined.push_back(std::move(rec));
    }
    REQUIRE(joined.size() == 1000);
    for (const auto& rec : joined) CHECK(whole[rec["id"].get<std::string>()] == rec.dump());
    auto t = persona_in(dir, "run calibrated.persona -n 1000 -q --threads 3 -o threads.jsonl");
    REQUIRE(t.code == 0);
    CHECK(test::read_file((dir / "threads.jsonl").string()) == test::read_file((dir / "all.jsonl").string()));
  }
  SECTION("another seed: other personas, the same counts") {
    auto s = persona_in(dir, "run calibrated.persona -n 1000 -s 99 -q -o seed99.jsonl");
    REQUIRE(s.code == 0);
    const auto other = records(dir / "seed99.jsonl");
    CHECK(counts(other) == got);
    CHECK(other[0]["anchors"] != all[0]["anchors"]);
  }
}

TEST_CASE("population: inconsistent calibration targets are reported with how many personas are off") {
  const auto dir = setup("inconsistent", "  calibrate region to table regions\n");
  test::write_file((dir / "regions.csv").string(),
                   "value,weight\nNorth East,1\nNorth West,1\nMidlands,1\nLondon,1\nSouth West,1\nWales,5\n");
  auto text = test::read_file((dir / "calibrated.persona").string());
  text.replace(text.find("population {"), 0, "table regions = \"regions.csv\"\n");
  test::write_file((dir / "calibrated.persona").string(), text);
  auto r = persona_in(dir, "run calibrated.persona -n 1000 -o all.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("warning: calibration targets are inconsistent") != std::string::npos);
  CHECK(r.err.find("calibrated.persona:11:3") != std::string::npos);  // the statement's place
  const auto m = nlohmann::json::parse(test::read_file((dir / "all.jsonl.manifest.json").string()));
  CHECK(m["population"]["residual"].get<int>() > 0);
  CHECK(m["population"]["targets"].size() == 2);
}

TEST_CASE("population: oversampling Wales x 4 carries weights whose sums give back the census shares") {
  const auto dir = setup("oversample", "  oversample region = Wales x 4\n");
  auto r = persona_in(dir, "run calibrated.persona -n 1000 -q -o all.jsonl");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto all = records(dir / "all.jsonl");
  double wales_true = 0, total_true = 0;
  for (const auto& [k, v] : census()) {
    total_true += v;
    if (std::get<0>(k) == "Wales") wales_true += v;
  }
  double weights = 0, wales_weight = 0;
  int wales = 0;
  for (const auto& rec : all) {
    REQUIRE(rec.contains("weight"));
    weights += rec["weight"].get<double>();
    if (rec["anchors"]["region"] == "Wales") {
      ++wales;
      wales_weight += rec["weight"].get<double>();
    }
  }
  CHECK(weights == Approx(1000).epsilon(1e-9));
  CHECK(wales_weight / weights == Approx(wales_true / total_true).margin(1e-9));
  // Wales holds about 4x its share of the sample: share s -> 4s / (1 + 3s).
  const double s = wales_true / total_true;
  CHECK(wales == Approx(1000 * 4 * s / (1 + 3 * s)).margin(2));
}

TEST_CASE("population: a target no persona can have is an error at its statement, nothing written") {
  const auto dir = setup("impossible");
  // Ages 0-17 are outside the recipe's truncate 18..90.
  auto csv = test::read_file((dir / "census.csv").string());
  csv += "Wales,female,0-17,5000\n";
  test::write_file((dir / "census.csv").string(), csv);
  auto r = persona_in(dir, "run calibrated.persona -n 100 -o all.jsonl");
  CHECK(r.code == 1);
  CHECK(r.err.find("calibrated.persona:10:3: error: table 'census' has a target for (region = Wales, gender = "
                   "female, age = 0-17), which no persona can have") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "all.jsonl"));
  // A region the recipe never draws: the checker says it before anything runs.
  csv += "Atlantis,female,18-24,5000\n";
  test::write_file((dir / "census.csv").string(), csv);
  auto c = persona_in(dir, "check calibrated.persona");
  CHECK(c.code == 1);
  CHECK(c.err.find("has a target for region = 'Atlantis', a value the recipe's tables cannot produce") !=
        std::string::npos);
}

TEST_CASE(
    "population: calibrate gender, age and calibrate gender from the recipe's tables are both exact for any seed") {
  const auto dir = test::scratch_dir("population-own");
  test::write_file((dir / "japan.persona").string(), R"(recipe "japan" version "1"
anchor country = "Japan"
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
population {
  calibrate gender, age
  calibrate gender
}
attributes {
  count 3
}
narrative none
)");
  std::map<std::pair<std::string, double>, int> first;
  for (const char* seed : {"1", "2"}) {
    auto r = persona_in(dir, std::string("run japan.persona -n 500 -q -s ") + seed + " -o p" + seed + ".jsonl");
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::map<std::pair<std::string, double>, int> c;
    for (const auto& rec : records(dir / (std::string("p") + seed + ".jsonl")))
      ++c[{rec["anchors"]["gender"].get<std::string>(), rec["anchors"]["age"].get<double>()}];
    if (first.empty())
      first = c;
    else
      CHECK(c == first);
  }
  // The age x sex cells are rounded within the rounded sex counts: no residual.
  const auto m = nlohmann::json::parse(test::read_file((dir / "p1.jsonl.manifest.json").string()));
  CHECK(m["population"]["residual"] == 0);
  int women = 0;
  for (const auto& [k, n] : first) women += k.first == "female" ? n : 0;
  CHECK(women > 250);  // Japan's adults are mostly women (WPP 2024: about 52%)
  CHECK(women < 270);
}
