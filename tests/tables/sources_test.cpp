// Each stdlib table checked against its source: small extracts of the source files are committed in
// tests/tables/data/sources/ (and beside their scripts: stdlib/tables/sources/occupations/ilostat_2024_extract.csv,
// religion/pew_grl_2010_extract.csv, languages/*.csv), and every test recomputes the table's weights from
// them the way the regeneration script does.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tables/tables.hpp"

using namespace persona;
using namespace persona::tables;

namespace {

const std::filesystem::path root = std::filesystem::path(PERSONA_SOURCE_DIR);
const std::filesystem::path extracts = std::filesystem::path(PERSONA_TESTS_DIR) / "tables" / "data" / "sources";

const Library& lib() {
  static Library l;
  static bool loaded = false;
  if (!loaded) {
    DiagnosticList d;
    l.load_dir(root / "stdlib" / "tables", d);
    loaded = true;
  }
  return l;
}

using Row = std::map<std::string, std::string>;

// A small CSV reader for the extracts: header line, quoted fields, '#' comment lines.
std::vector<Row> read_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<Row> rows;
  std::vector<std::string> header;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::string f;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.push_back(f);
        f.clear();
      } else {
        f += c;
      }
    }
    fields.push_back(f);
    if (header.empty()) {
      header = fields;
      continue;
    }
    Row r;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) r[header[i]] = fields[i];
    rows.push_back(r);
  }
  return rows;
}

std::vector<cond::Value> keys(std::initializer_list<cond::Value> k) { return std::vector<cond::Value>(k); }

const Dist& dist(const Table& t, std::vector<cond::Value> k) {
  const Dist* d = t.lookup(k);
  REQUIRE(d != nullptr);
  return *d;
}

}  // namespace

TEST_CASE("countries and sex_ratio recompute from the WPP 2024 population extract", "[tables][sources]") {
  const auto rows = read_csv(extracts / "wpp2024_population_2025.csv");
  REQUIRE(rows.size() == 45);
  double total = 0;
  for (const auto& r : rows) total += std::stod(r.at("popF")) + std::stod(r.at("popM"));
  const Table* countries = lib().find("stdlib.countries");
  const Table* sex = lib().find("stdlib.sex_ratio");
  REQUIRE(countries);
  REQUIRE(sex);
  const Dist& all = dist(*countries, {});
  for (const auto& r : rows) {
    const std::string& c = r.at("country");
    INFO(c);
    const double f = std::stod(r.at("popF")), m = std::stod(r.at("popM"));
    CHECK(all.probability(c) == Approx((f + m) / total).margin(2e-6));
    CHECK(dist(*sex, keys({c})).probability("female") == Approx(f / (f + m)).margin(2e-6));
  }
}

TEST_CASE("age_structure and age_by_sex recompute from the WPP 2024 age extract", "[tables][sources]") {
  const auto rows = read_csv(extracts / "wpp2024_age5_2025.csv");
  REQUIRE(rows.size() == 3 * 21);
  std::map<std::string, double> tot_f, tot_m;
  for (const auto& r : rows) {
    tot_f[r.at("country")] += std::stod(r.at("popF"));
    tot_m[r.at("country")] += std::stod(r.at("popM"));
  }
  const Table* both = lib().find("stdlib.age_structure");
  const Table* by_sex = lib().find("stdlib.age_by_sex");
  REQUIRE(both);
  REQUIRE(by_sex);
  for (const auto& r : rows) {
    const std::string& c = r.at("country");
    const std::string& age = r.at("age");
    INFO(c << " " << age);
    const double f = std::stod(r.at("popF")), m = std::stod(r.at("popM"));
    CHECK(dist(*both, keys({c})).probability(age) == Approx((f + m) / (tot_f[c] + tot_m[c])).margin(2e-6));
    CHECK(dist(*by_sex, keys({c, std::string("female")})).probability(age) == Approx(f / tot_f[c]).margin(2e-6));
    CHECK(dist(*by_sex, keys({c, std::string("male")})).probability(age) == Approx(m / tot_m[c]).margin(2e-6));
  }
  // the mean age the table implies for Japan (drawn uniformly inside each group) is the source's
  double mean = 0, src = 0;
  for (const auto& r : rows) {
    if (r.at("country") != "Japan") continue;
    const auto rk = parse_range_key(r.at("age"));
    REQUIRE(rk);
    const double mid = (static_cast<double>(rk->lo) + static_cast<double>(rk->hi)) / 2.0;
    src += mid * (std::stod(r.at("popF")) + std::stod(r.at("popM"))) / (tot_f["Japan"] + tot_m["Japan"]);
  }
  const Dist& jp = dist(*both, keys({std::string("Japan")}));
  for (std::size_t i = 0; i < jp.size(); ++i) {
    const auto rk = parse_range_key(jp.labels()[i]);
    mean += (static_cast<double>(rk->lo) + static_cast<double>(rk->hi)) / 2.0 * jp.probabilities()[i];
  }
  CHECK(mean == Approx(src).margin(0.01));
  CHECK(mean > 45);  // Japan is old
}

TEST_CASE("occupations: participation from EAPEP and agriculture from ILOSTAT", "[tables][sources]") {
  const Table* occ = lib().find("stdlib.occupations");
  REQUIRE(occ);
  const std::map<std::string, std::string> iso = {
      {"deu", "Germany"}, {"ind", "India"}, {"jpn", "Japan"}, {"nga", "Nigeria"}};
  for (const auto& r : read_csv(extracts / "eapep_lfpr_2020.csv")) {
    const std::string country = iso.at(r.at("country"));
    const std::string sex = r.at("sex") == "f" ? "female" : "male";
    std::string band = r.at("age_group");
    band = band == "65" ? "70" : band.substr(0, 2);  // an age inside the band
    const Dist& d = dist(*occ, keys({country, sex, std::stod(band)}));
    INFO(country << " " << sex << " " << r.at("age_group"));
    const double inactive = d.probability("Student") + d.probability("Homemaker") + d.probability("Retired");
    CHECK(1.0 - inactive == Approx(std::stod(r.at("rate")) / 100.0).margin(2e-6));
  }
  // agricultural share of the employed = ILOSTAT agriculture / total employment (2024)
  std::map<std::string, std::map<std::string, double>> eco;
  for (const auto& r : read_csv(root / "stdlib/tables/sources/occupations/ilostat_2024_extract.csv"))
    if (r.at("indicator") == "emp_2emp_sex_eco_nb") eco[r.at("ref_area")][r.at("classif1")] = std::stod(r.at("value"));
  const std::map<std::string, std::string> names = {{"ind", "India"},     {"chn", "China"},    {"usa", "United States"},
                                                    {"idn", "Indonesia"}, {"pak", "Pakistan"}, {"nga", "Nigeria"},
                                                    {"bra", "Brazil"}};
  REQUIRE(eco.size() == names.size());
  for (const auto& [code, figures] : eco) {
    const std::string& country = names.at(code);
    const double expected = figures.at("eco_aggregate_agr") / figures.at("eco_aggregate_total");
    for (const char* sex : {"female", "male"})
      for (double age : {22.0, 40.0, 70.0}) {
        INFO(country << " " << sex << " " << age);
        const Dist& d = dist(*occ, keys({country, std::string(sex), age}));
        const double employed = 1.0 - d.probability("Student") - d.probability("Homemaker") - d.probability("Retired");
        CHECK(d.probability("Agricultural, forestry and fishery workers") / employed == Approx(expected).margin(2e-5));
      }
  }
}

TEST_CASE("settlement keeps the WUP urban share and cities carry the F22 populations", "[tables][sources]") {
  const Table* settlement = lib().find("stdlib.settlement");
  const Table* cities = lib().find("stdlib.cities");
  const Table* occ = lib().find("stdlib.occupations");
  const Table* ages = lib().find("stdlib.age_by_sex");
  const Table* sex = lib().find("stdlib.sex_ratio");
  REQUIRE((settlement && cities && occ && ages && sex));
  const auto rows = read_csv(extracts / "wup2018_extract.csv");
  for (const auto& r : rows) {
    if (r.at("kind") == "urban") {
      const std::string& c = r.at("country");
      INFO(c);
      // a = share of persons drawn as agricultural workers (occupations x age_by_sex x sex_ratio)
      double a = 0;
      for (const char* s : {"female", "male"}) {
        const Dist& age = dist(*ages, keys({c, std::string(s)}));
        for (std::size_t i = 0; i < age.size(); ++i) {
          const auto rk = parse_range_key(age.labels()[i]);
          const Dist& o = dist(*occ, keys({c, std::string(s), static_cast<double>(rk->lo)}));
          a += dist(*sex, keys({c})).probability(s) * age.probabilities()[i] *
               o.probability("Agricultural, forestry and fishery workers");
        }
      }
      const Dist& agri = dist(*settlement, keys({c, std::string("agricultural")}));
      const Dist& other = dist(*settlement, keys({c, std::string("other")}));
      const double rural = a * agri.probability("rural area") + (1 - a) * other.probability("rural area");
      CHECK(1.0 - rural == Approx(std::stod(r.at("value")) / 100.0).margin(1e-4));
    } else {
      const Dist* d = nullptr;
      for (const char* cls : {"city of 300,000 to 1 million", "city of 1 to 5 million", "city of 5 to 10 million",
                              "city of 10 million or more"}) {
        const Dist* x = cities->lookup(keys({r.at("country"), std::string(cls)}));
        if (x && x->probability(r.at("place")) > 0) d = x;
      }
      INFO(r.at("place"));
      REQUIRE(d != nullptr);
      const double w = d->weights()[static_cast<std::size_t>(
          std::find(d->labels().begin(), d->labels().end(), r.at("place")) - d->labels().begin())];
      CHECK(w == Approx(std::stod(r.at("value"))));
    }
  }
  // no agricultural worker in a city of 300,000 or more, in any country
  for (const auto& e : settlement->entries()) {
    if (e.keys[1] != "agricultural") continue;
    INFO(e.keys[0]);
    CHECK(e.dist->probability("rural area") + e.dist->probability("town under 300,000") == Approx(1.0));
  }
}

TEST_CASE("given names are the SSA and ONS counts summed over the birth cohort", "[tables][sources]") {
  const Table* names = lib().find("stdlib.given_names");
  REQUIRE(names);
  std::map<std::tuple<std::string, std::string, std::string, std::string>, double> sums;
  for (const auto& r : read_csv(extracts / "given_names_extract.csv"))
    sums[{r.at("country"), r.at("sex"), r.at("band"), r.at("name")}] += std::stod(r.at("count"));
  REQUIRE(sums.size() == 6);
  for (const auto& [k, total] : sums) {
    const auto& [country, sex, band, name] = k;
    INFO(country << " " << sex << " " << band << " " << name);
    const Dist& d = dist(*names, keys({country, sex, static_cast<double>(parse_range_key(band)->lo)}));
    const auto it = std::find(d.labels().begin(), d.labels().end(), name);
    REQUIRE(it != d.labels().end());
    CHECK(d.weights()[static_cast<std::size_t>(it - d.labels().begin())] == Approx(total));
  }
}

namespace {

const std::filesystem::path religion_dir = root / "stdlib" / "tables" / "sources" / "religion";
const std::filesystem::path languages_dir = root / "stdlib" / "tables" / "sources" / "languages";

// The raw weight of `label` in `d` (0 when absent).
double weight(const Dist& d, const std::string& label) {
  const auto it = std::find(d.labels().begin(), d.labels().end(), label);
  return it == d.labels().end() ? 0.0 : d.weights()[static_cast<std::size_t>(it - d.labels().begin())];
}

// Splits "a|b" or "a+b" at `sep`.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

TEST_CASE("religion recomputes from the Pew 2010 counts extract", "[tables][sources]") {
  const Table* religion = lib().find("stdlib.religion");
  REQUIRE(religion);
  const auto rows = read_csv(religion_dir / "pew_grl_2010_extract.csv");
  REQUIRE(rows.size() == 46);  // the 45 countries and "*"
  const std::vector<std::pair<std::string, std::string>> groups = {{"christians", "christianity"},
                                                                   {"muslims", "islam"},
                                                                   {"unaffiliated", "unaffiliated"},
                                                                   {"hindus", "hinduism"},
                                                                   {"buddhists", "buddhism"},
                                                                   {"folk_religions", "folk_religion"},
                                                                   {"other_religions", "other_religion"},
                                                                   {"jews", "judaism"}};
  for (const auto& r : rows) {
    const std::string& c = r.at("country");
    INFO(c);
    std::vector<double> counts;
    double total = 0;
    for (const auto& [col, label] : groups) {
      const std::string& cell = r.at(col);
      counts.push_back(cell.starts_with("<") ? 0.0 : std::stod(cell));  // "<10000" counts as 0
      total += counts.back();
    }
    const Dist& d = dist(*religion, keys({c}));
    REQUIRE(d.size() == groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
      INFO(groups[i].second);
      const double q = 100.0 * counts[i] / total;
      const double expected = q < 0.1 ? 0.05 : std::floor(q * 10.0 + 0.5) / 10.0;
      CHECK(weight(d, groups[i].second) == Approx(expected).margin(1e-9));
    }
  }
  // Pew's published world shares (2012 report) come out of the sum of its table
  const Dist& world = dist(*religion, keys({std::string("*")}));
  CHECK(weight(world, "christianity") == Approx(31.5));
  CHECK(weight(world, "islam") == Approx(23.2));
  CHECK(weight(world, "unaffiliated") == Approx(16.3));
  CHECK(weight(world, "hinduism") == Approx(15.0));
}

TEST_CASE("languages recompute from the census list and the CLDR 37 extract", "[tables][sources]") {
  const Table* languages = lib().find("stdlib.languages");
  REQUIRE(languages);
  std::map<std::string, std::map<std::string, double>> cldr;
  for (const auto& r : read_csv(languages_dir / "cldr37_territory_languages.csv"))
    cldr[r.at("country")][r.at("language")] = std::stod(r.at("populationPercent"));
  REQUIRE(cldr.size() == 45);
  // census (and "*") rows: as written in census_overrides.csv
  std::set<std::string> census;
  for (const auto& r : read_csv(languages_dir / "census_overrides.csv")) {
    INFO(r.at("country") << " " << r.at("label"));
    census.insert(r.at("country"));
    CHECK(weight(dist(*languages, keys({r.at("country")})), r.at("label")) == Approx(std::stod(r.at("percent"))));
  }
  // CLDR rows: each listed language its populationPercent ("|": largest, "+": sum), at most what the
  // earlier ones leave of 100, the rest "other language"
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> selection;
  for (const auto& r : read_csv(languages_dir / "cldr_first_languages.csv")) {
    auto& sel = selection[r.at("country")];
    if (!r.at("cldr").empty()) sel.emplace_back(r.at("cldr"), r.at("label"));
  }
  for (const auto& [c, sel] : selection) {
    INFO(c);
    CHECK(census.count(c) == 0);
    std::map<std::string, double> expected;
    double left = 100.0;
    for (const auto& [code, label] : sel) {
      double p = 0;
      if (code.find('|') != std::string::npos) {
        for (const auto& k : split(code, '|')) p = std::max(p, cldr.at(c).at(k));
      } else {
        for (const auto& k : split(code, '+')) p += cldr.at(c).at(k);
      }
      p = std::min(p, left);
      expected[label] += p;
      left -= p;
    }
    if (left > 1e-9) expected["other language"] += left;
    const Dist& d = dist(*languages, keys({c}));
    std::size_t nonzero = 0;
    for (const auto& [label, p] : expected) {
      INFO(label);
      CHECK(weight(d, label) == Approx(p).margin(1e-6));
      nonzero += p > 1e-9 ? 1 : 0;
    }
    CHECK(d.size() == nonzero);
  }
  CHECK(census.size() + selection.size() == 46);  // the 45 countries and "*"
}

TEST_CASE("every country of stdlib.countries has its own row in religion and languages", "[tables][sources]") {
  const Table* countries = lib().find("stdlib.countries");
  REQUIRE(countries);
  const auto& names = dist(*countries, {}).labels();
  REQUIRE(names.size() == 45);
  for (const char* table : {"stdlib.religion", "stdlib.languages"}) {
    const Table* t = lib().find(table);
    REQUIRE(t);
    std::set<std::string> rows;
    for (const auto& e : t->entries()) rows.insert(e.keys[0]);
    for (const auto& c : names) {
      INFO(table << ": " << c);
      CHECK(rows.count(c) == 1);
    }
  }
}
