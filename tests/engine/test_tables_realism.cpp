// Realism of the table-drawn anchors of examples/quickstart.persona over 10,000 personas, against
// the published figures the stdlib tables come from (docs/tables.md). Prints the figures it checks:
//   build/tests/engine/persona-tests-engine "[realism]" -s
// - agriculture share of employed personas per country vs the ILOSTAT 2024 figure (the 10 largest
//   countries; those without an ILOSTAT extract are printed against their income-group profile);
// - agricultural workers living in a city of 1 million or more (target: none);
// - given names of under-30s in the two countries with cohort statistics (US SSA, ONS);
// - mean age per country vs UN WPP 2024 (both restricted to the recipe's 18..90 window).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "engine_support.hpp"
#include "frontend/frontend.hpp"

using namespace engine_test;
using namespace persona;

namespace {

const engine::Program* quickstart_model() {
  static std::unique_ptr<engine::Program> model = [] {
    SourceFiles sources;
    DiagnosticList d;
    auto loaded = frontend::load_recipe(std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona", sources, d);
    if (!loaded) return std::unique_ptr<engine::Program>();
    auto t = engine::load_taxonomy(loaded->recipe, d);
    if (!t) return std::unique_ptr<engine::Program>();
    return engine::Program::compile(std::move(loaded->recipe), loaded->tables, std::move(t), d);
  }();
  return model.get();
}

const char* kAgri = "Agricultural, forestry and fishery workers";

// ILOSTAT agriculture share of employment (2024) from the extract the table was built from.
std::map<std::string, double> ilostat_agriculture() {
  const std::map<std::string, std::string> names = {{"ind", "India"},     {"chn", "China"},    {"usa", "United States"},
                                                    {"idn", "Indonesia"}, {"pak", "Pakistan"}, {"nga", "Nigeria"},
                                                    {"bra", "Brazil"}};
  std::ifstream in(std::string(PERSONA_SOURCE_DIR) + "/stdlib/tables/sources/occupations/ilostat_2024_extract.csv");
  std::map<std::string, std::pair<double, double>> v;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    if (f.size() != 6 || f[5] != "emp_2emp_sex_eco_nb") continue;
    if (f[2] == "eco_aggregate_agr") v[f[0]].first = std::stod(f[4]);
    if (f[2] == "eco_aggregate_total") v[f[0]].second = std::stod(f[4]);
  }
  std::map<std::string, double> out;
  for (const auto& [code, p] : v) out[names.at(code)] = p.first / p.second;
  return out;
}

}  // namespace

TEST_CASE("quickstart anchors over 10,000 personas match the published figures", "[engine][realism]") {
  const engine::Program* m = quickstart_model();
  if (m == nullptr) {
    FAIL("the quickstart recipe or the stdlib does not load");
  }
  const auto anchors = m->model().anchors();
  std::map<std::string, std::size_t> at;
  for (std::size_t a = 0; a < anchors.size(); ++a) at[anchors[a].anchor->name] = a;
  for (const char* n : {"country", "gender", "age", "occupation", "settlement", "city", "name"})
    REQUIRE(at.count(n) == 1);
  auto str = [](const engine::Persona& p, std::size_t i) { return std::get<std::string>(*p.anchors[i]); };

  const std::uint64_t N = 10000;
  std::map<std::string, double> employed, agri, age_sum, count;
  std::size_t agri_total = 0, agri_in_big_city = 0;
  std::map<std::string, std::map<std::string, double>> young_names;  // country -> name -> count
  engine::Persona p;
  for (std::uint64_t i = 0; i < N; ++i) {
    begin(*m, 7, i, p);
    REQUIRE(draw_anchors(*m, p));
    const std::string country = str(p, at["country"]);
    const std::string occ = str(p, at["occupation"]);
    const double age = std::get<double>(*p.anchors[at["age"]]);
    count[country] += 1;
    age_sum[country] += age;
    if (occ != "Student" && occ != "Homemaker" && occ != "Retired") {
      employed[country] += 1;
      if (occ == kAgri) agri[country] += 1;
    }
    if (occ == kAgri) {
      ++agri_total;
      const std::string s = str(p, at["settlement"]);
      if (s == "city of 1 to 5 million" || s == "city of 5 to 10 million" || s == "city of 10 million or more")
        ++agri_in_big_city;
    }
    if (age < 30 && (country == "United States" || country == "United Kingdom"))
      young_names[country][str(p, at["name"])] += 1;
  }

  // 1. Agriculture share of the employed, the 10 largest countries.
  const auto ilo = ilostat_agriculture();
  const tables::Table* occ = m->model().tables().find("stdlib.occupations");
  REQUIRE(occ);
  std::printf("\nagriculture share of employed personas (N=%llu), 10 largest countries:\n",
              static_cast<unsigned long long>(N));
  std::printf("  %-20s %8s %10s %10s %s\n", "country", "employed", "personas", "ILOSTAT", "table profile");
  for (const char* c : {"India", "China", "United States", "Indonesia", "Pakistan", "Nigeria", "Brazil", "Bangladesh",
                        "Russian Federation", "Ethiopia"}) {
    const double share = employed[c] > 0 ? agri[c] / employed[c] : 0.0;
    // the table's own share for this country (the same for every sex and age)
    const std::vector<cond::Value> k = {std::string(c), std::string("male"), 40.0};
    const tables::Dist* d = occ->lookup(k);
    REQUIRE(d);
    const double emp = 1 - d->probability("Student") - d->probability("Homemaker") - d->probability("Retired");
    const double table_share = d->probability(kAgri) / emp;
    const auto it = ilo.find(c);
    char ilo_text[16] = "n/a";
    if (it != ilo.end()) std::snprintf(ilo_text, sizeof ilo_text, "%.1f%%", 100 * it->second);
    std::printf("  %-20s %8.0f %9.1f%% %10s %.1f%%%s\n", c, employed[c], 100 * share, ilo_text, 100 * table_share,
                it == ilo.end() ? " (income-group profile, no ILOSTAT extract)" : "");
    // target: within 5 points; the sample's own noise (2.58 standard errors, 99%) is added
    const double target = it == ilo.end() ? table_share : it->second;
    const double se = std::sqrt(target * (1 - target) / std::max(1.0, employed[c]));
    INFO(c << ": " << share << " vs " << target << " (standard error " << se << ")");
    CHECK(std::fabs(share - target) < 0.05 + 2.58 * se);
  }

  // 2. No agricultural worker in a city of a million or more.
  std::printf("agricultural workers: %zu, of whom in cities of 1 million or more: %zu\n", agri_total, agri_in_big_city);
  CHECK(agri_total > 300);
  CHECK(agri_in_big_city == 0);

  // 3. Given names of under-30s: the share that belong to the 1955-1964 list (ages 61-70) but not
  //    to the list of the persona's own cohorts.
  const tables::Table* names = m->model().tables().find("stdlib.given_names");
  REQUIRE(names);
  for (const char* c : {"United States", "United Kingdom"}) {
    std::set<std::string> own, old;
    for (const char* s : {"female", "male"}) {
      for (double a : {18.0, 25.0}) {
        const std::vector<cond::Value> k = {std::string(c), std::string(s), a};
        for (const auto& l : names->lookup(k)->labels()) own.insert(l);
      }
      const std::vector<cond::Value> k = {std::string(c), std::string(s), 65.0};
      const auto& labels = names->lookup(k)->labels();
      for (std::size_t i = 0; i < 50 && i < labels.size(); ++i) old.insert(labels[i]);
    }
    double total = 0, dated = 0;
    for (const auto& [n, k] : young_names[c]) {
      total += k;
      if (old.count(n) && !own.count(n)) dated += k;
    }
    std::printf(
        "%s: %.0f personas under 30, %.1f%% with a name of the 1955-64 top 50 absent from their own "
        "cohort lists\n",
        c, total, total > 0 ? 100 * dated / total : 0.0);
    CHECK(total > 10);
    CHECK(dated == 0);
  }

  // 4. Mean age per country vs WPP 2024 in the same 18..90 window (uniform inside 5-year groups).
  const tables::Table* ages = m->model().tables().find("stdlib.age_by_sex");
  const tables::Table* sex = m->model().tables().find("stdlib.sex_ratio");
  REQUIRE((ages && sex));
  std::printf("mean age, personas vs UN WPP 2024 (ages 18-90):\n");
  for (const char* c : {"India", "China", "United States", "Nigeria", "Japan", "Germany"}) {
    double w = 0, mean = 0;
    for (const char* s : {"female", "male"}) {
      const std::vector<cond::Value> ks = {std::string(c)};
      const double ps = sex->lookup(ks)->probability(s);
      const std::vector<cond::Value> k = {std::string(c), std::string(s)};
      const tables::Dist* d = ages->lookup(k);
      for (std::size_t i = 0; i < d->size(); ++i) {
        const auto r = tables::parse_range_key(d->labels()[i]);
        const std::int64_t hi = r->open ? r->lo + 4 : r->hi;
        for (std::int64_t a = r->lo; a <= hi; ++a) {
          if (a < 18 || a > 90) continue;
          const double pa = ps * d->probabilities()[i] / static_cast<double>(hi - r->lo + 1);
          w += pa;
          mean += pa * static_cast<double>(a);
        }
      }
    }
    const double expected = mean / w, got = age_sum[c] / count[c];
    std::printf("  %-15s %5.0f personas  mean %.2f  WPP %.2f\n", c, count[c], got, expected);
    // 2.58 standard errors of a mean of ages with a standard deviation under 20 years
    CHECK(std::fabs(got - expected) < 2.58 * 20.0 / std::sqrt(count[c]));
  }
}
