// Distribution tables: the stdlib tables load cleanly and agree with each other, sampling is faithful
// and deterministic, lookups follow range keys and "*" fallbacks, malformed files are reported with
// file and line.
#include "tables/tables.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace persona;
using namespace persona::tables;

namespace {

const std::filesystem::path stdlib_tables = std::filesystem::path(PERSONA_SOURCE_DIR) / "stdlib" / "tables";
const std::filesystem::path fixtures = std::filesystem::path(PERSONA_TESTS_DIR) / "tables" / "data";

std::string dump(const DiagnosticList& d) {
  std::ostringstream os;
  for (const auto& x : d.all())
    os << x.where.file << ":" << x.where.line << ":" << x.where.column << ": [" << x.code << "] " << x.message << "\n";
  return os.str();
}

const Library& std_lib() {
  static Library lib;
  static bool loaded = false;
  if (!loaded) {
    DiagnosticList d;
    lib.load_dir(stdlib_tables, d);
    loaded = true;
  }
  return lib;
}

std::vector<cond::Value> keys(std::initializer_list<cond::Value> k) { return std::vector<cond::Value>(k); }

// Loads a fixture expected to fail; returns the diagnostics.
DiagnosticList load_bad(const std::string& file) {
  Library lib;
  DiagnosticList d;
  const Table* t = lib.load_file(fixtures / file, "user.bad", d);
  CHECK(t == nullptr);
  return d;
}

// The fixture produced at least one error naming its file and a line (> 0).
void require_error_at_line(const std::string& file, const std::string& code = {}) {
  INFO("fixture " << file);
  const DiagnosticList d = load_bad(file);
  INFO(dump(d));
  REQUIRE(d.has_errors());
  bool found = false;
  for (const auto& x : d.all()) {
    if (x.severity != Severity::error) continue;
    if (x.where.file != (fixtures / file).string()) continue;
    if (x.where.line == 0) continue;
    if (!code.empty() && x.code != code) continue;
    found = true;
  }
  CHECK(found);
}

}  // namespace

TEST_CASE("every stdlib table loads without diagnostics", "[tables]") {
  Library lib;
  DiagnosticList d;
  const std::size_t n = lib.load_dir(stdlib_tables, d);
  INFO(dump(d));
  CHECK(d.all().empty());
  CHECK(n >= 8);
  for (const char* name : {"stdlib.countries", "stdlib.age_structure", "stdlib.age_by_sex", "stdlib.sex_ratio",
                           "stdlib.occupations", "stdlib.settlement", "stdlib.cities", "stdlib.given_names"}) {
    INFO(name);
    const Table* t = lib.find(name);
    REQUIRE(t != nullptr);
    CHECK_FALSE(t->description.empty());
    CHECK_FALSE(t->source.empty());
    CHECK_FALSE(t->edition.empty());
    CHECK(t->url.rfind("https://", 0) == 0);
    CHECK_FALSE(t->licence.empty());
    CHECK(t->year >= 2018);
  }
}

TEST_CASE("stdlib tables have the documented shape", "[tables]") {
  const Library& lib = std_lib();
  const Table* countries = lib.find("stdlib.countries");
  REQUIRE(countries);
  CHECK(countries->kind == ValueKind::category);
  CHECK(countries->by.empty());
  CHECK(countries->unit == WeightUnit::share);
  const auto names = countries->all_labels();
  CHECK(names.size() == 45);
  // the 24 most populous countries of WPP 2024 (2025), including those the old list missed
  for (const char* c : {"India",          "China",       "United States",
                        "Indonesia",      "Pakistan",    "Nigeria",
                        "Brazil",         "Bangladesh",  "Russian Federation",
                        "Ethiopia",       "Mexico",      "Japan",
                        "Egypt",          "Philippines", "Democratic Republic of the Congo",
                        "Viet Nam",       "Iran",        "Türkiye",
                        "Germany",        "Thailand",    "Tanzania",
                        "United Kingdom", "France",      "South Africa",
                        "Kenya",          "Canada"}) {
    INFO(c);
    CHECK(std::find(names.begin(), names.end(), c) != names.end());
  }

  const Table* ages = lib.find("stdlib.age_structure");
  REQUIRE(ages);
  CHECK(ages->kind == ValueKind::integer_range);
  CHECK(ages->by == std::vector<std::string>{"country"});
  const Table* by_sex = lib.find("stdlib.age_by_sex");
  REQUIRE(by_sex);
  CHECK(by_sex->by == std::vector<std::string>{"country", "gender"});
  for (const auto& e : by_sex->entries()) CHECK(e.dist->size() == 21);

  const Table* sex = lib.find("stdlib.sex_ratio");
  REQUIRE(sex);
  for (const auto& e : sex->entries()) {
    auto labels = e.dist->labels();
    std::sort(labels.begin(), labels.end());
    CHECK(labels == std::vector<std::string>{"female", "male"});
  }

  const Table* occ = lib.find("stdlib.occupations");
  REQUIRE(occ);
  CHECK(occ->by == std::vector<std::string>{"country", "gender", "age"});
  const auto occ_labels = occ->all_labels();
  for (const char* s : {"Student", "Retired", "Homemaker", "Managers", "Professionals",
                        "Agricultural, forestry and fishery workers", "Elementary occupations"}) {
    INFO(s);
    CHECK(std::find(occ_labels.begin(), occ_labels.end(), s) != occ_labels.end());
  }

  const Table* settlement = lib.find("stdlib.settlement");
  REQUIRE(settlement);
  CHECK(settlement->by == std::vector<std::string>{"country", "occupation_class"});
  CHECK(settlement->keys_at(1) == std::vector<std::string>{"agricultural", "other"});

  const Table* cities = lib.find("stdlib.cities");
  REQUIRE(cities);
  CHECK(cities->by == std::vector<std::string>{"country", "settlement"});

  const Table* given = lib.find("stdlib.given_names");
  REQUIRE(given);
  CHECK(given->by == std::vector<std::string>{"country", "gender", "age"});
  for (const auto& e : given->entries()) {
    INFO(e.keys[0] << " / " << e.keys[1] << " / " << e.keys[2]);
    CHECK((e.keys[1] == "female" || e.keys[1] == "male" || e.keys[1] == "*"));
  }
}

TEST_CASE("tables keyed by country use exactly the names of countries.toml", "[tables]") {
  const Library& lib = std_lib();
  const Table* countries = lib.find("stdlib.countries");
  REQUIRE(countries);
  const auto list = countries->all_labels();
  const std::set<std::string> expected(list.begin(), list.end());
  for (const char* name : {"stdlib.age_structure", "stdlib.age_by_sex", "stdlib.sex_ratio", "stdlib.occupations",
                           "stdlib.settlement", "stdlib.cities"}) {
    INFO(name);
    const Table* t = lib.find(name);
    REQUIRE(t);
    const auto k = t->keys_at(0);
    CHECK(std::set<std::string>(k.begin(), k.end()) == expected);
  }
  // given names: a subset (with a "*" fallback for the rest); every country draws a name
  const Table* given = lib.find("stdlib.given_names");
  REQUIRE(given);
  for (const auto& k : given->keys_at(0)) CHECK(expected.count(k) == 1);
  CHECK(given->has_fallback_at(0));
  for (const auto& c : list)
    for (const char* s : {"female", "male"})
      for (double age : {5.0, 35.0, 95.0}) {
        INFO(c << " / " << s << " / " << age);
        CHECK(given->lookup(keys({c, std::string(s), age})) != nullptr);
      }
  // every settlement class of a country has a place in cities
  const Table* settlement = lib.find("stdlib.settlement");
  const Table* cities = lib.find("stdlib.cities");
  REQUIRE(settlement);
  REQUIRE(cities);
  for (const auto& e : settlement->entries())
    for (const auto& label : e.dist->labels()) {
      INFO(e.keys[0] << " / " << label);
      CHECK(cities->lookup(keys({e.keys[0], label})) != nullptr);
    }
}

TEST_CASE("age sampling for Kenya matches the table (Jensen-Shannon < 0.01)", "[tables][sampling]") {
  const Table* ages = std_lib().find("stdlib.age_structure");
  REQUIRE(ages);
  const auto key = keys({std::string("Kenya")});
  const Dist* d = ages->lookup(key);
  REQUIRE(d);
  std::map<std::string, double, std::less<>> counts;
  for (std::uint64_t i = 0; i < 20000; ++i) {
    Rng rng = Rng::derive(7, i, "anchor:age");
    const cond::Value v = ages->sample(*d, rng);
    REQUIRE(std::holds_alternative<double>(v));
    const auto label = ages->label_of(*d, v);
    REQUIRE(label);
    counts[*label] += 1.0;
  }
  const double js = jensen_shannon(normalise(counts), d->as_map());
  INFO("JS = " << js);
  CHECK(js < 0.01);
  // Kenya is young: most draws are below 30.
  double under30 = 0.0;
  for (const auto& l : {"0-4", "5-9", "10-14", "15-19", "20-24", "25-29"}) under30 += counts[l];
  CHECK(under30 / 20000.0 > 0.55);
}

TEST_CASE("category sampling matches the table", "[tables][sampling]") {
  const Table* countries = std_lib().find("stdlib.countries");
  REQUIRE(countries);
  const Dist* d = countries->lookup(std::span<const cond::Value>{});
  REQUIRE(d);
  std::map<std::string, double, std::less<>> counts;
  Rng rng(123);
  for (int i = 0; i < 50000; ++i) counts[std::get<std::string>(countries->sample(*d, rng))] += 1;
  CHECK(jensen_shannon(counts, d->as_map()) < 0.005);
  CHECK(counts["India"] > counts["Kenya"]);
}

TEST_CASE("same seed, same draws", "[tables][sampling]") {
  const Library& lib = std_lib();
  const Table* names = lib.find("stdlib.given_names");
  const Table* ages = lib.find("stdlib.age_structure");
  REQUIRE(names);
  REQUIRE(ages);
  auto run = [&](std::uint64_t seed) {
    std::vector<std::string> out;
    for (std::uint64_t i = 0; i < 200; ++i) {
      Rng r2 = Rng::derive(seed, i, "anchor:age");
      const auto a = ages->draw(keys({std::string("United States")}), r2);
      REQUIRE(a);
      Rng r1 = Rng::derive(seed, i, "anchor:name");
      const auto n = names->draw(keys({std::string("United States"), std::string("female"), *a}), r1);
      REQUIRE(n);
      out.push_back(std::get<std::string>(*n) + "/" + std::to_string(std::get<double>(*a)));
    }
    return out;
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}

TEST_CASE("integer ranges stay inside their bounds", "[tables][sampling]") {
  const Table* ages = std_lib().find("stdlib.age_structure");
  REQUIRE(ages);
  for (const auto& e : ages->entries()) {
    const Dist& d = *e.dist;
    Rng rng(stable_hash(e.keys[0]));
    for (int i = 0; i < 2000; ++i) {
      const std::size_t idx = ages->sample_index(d, rng);
      REQUIRE(idx < d.size());
      const auto r = parse_range_key(d.labels()[idx]);
      REQUIRE(r);
      Rng inner(static_cast<std::uint64_t>(i));
      const double v = std::get<double>(ages->sample(d, inner));
      CHECK(v >= 0.0);
      CHECK(v <= 104.0);
      CHECK(v == std::floor(v));
      const auto lbl = ages->label_of(d, v);
      REQUIRE(lbl);
      const auto rr = parse_range_key(*lbl);
      REQUIRE(rr);
      CHECK(v >= static_cast<double>(rr->lo));
      CHECK(v <= static_cast<double>(rr->hi));
    }
  }
  // "100+" draws 100..104
  DiagnosticList diags;
  const auto t = parse_toml("name = \"old\"\nvalue = \"integer-range\"\n[weights]\n\"100+\" = 1\n", "old.toml", "old",
                            "old", false, diags);
  INFO(dump(diags));
  REQUIRE(t);
  const Dist* d = t->lookup(std::span<const cond::Value>{});
  REQUIRE(d);
  std::set<double> seen;
  Rng rng(5);
  for (int i = 0; i < 500; ++i) seen.insert(std::get<double>(t->sample(*d, rng)));
  CHECK(seen == std::set<double>{100, 101, 102, 103, 104});
}

TEST_CASE("range keys select by age under country and sex", "[tables][lookup]") {
  const Table* occ = std_lib().find("stdlib.occupations");
  REQUIRE(occ);
  auto at_age = [&](const char* country, const char* sex, double age) {
    return occ->lookup(keys({std::string(country), std::string(sex), age}));
  };
  const Dist* child = at_age("Japan", "female", 7);
  REQUIRE(child);
  CHECK(child->size() == 1);
  CHECK(child->labels()[0] == "Student");
  CHECK(at_age("Japan", "female", 0) == child);
  CHECK(at_age("Japan", "female", 14) == child);
  CHECK(at_age("Japan", "female", 15) != child);
  CHECK(at_age("Japan", "female", 15) == at_age("Japan", "female", 19));
  CHECK(at_age("Japan", "female", 25) != at_age("Japan", "female", 24));
  CHECK(at_age("Japan", "female", 70) == at_age("Japan", "female", 103));  // "65+" is open-ended as a key
  CHECK(at_age("Japan", "female", -3) == nullptr);
  CHECK(at_age("Atlantis", "female", 30) == nullptr);  // no country fallback
  CHECK(occ->lookup(keys({std::string("Japan"), std::string("male"), std::string("40")})) ==
        at_age("Japan", "male", 40));
  // the old age-only table made men homemakers as often as women; participation now differs by sex
  CHECK(at_age("India", "female", 40)->probability("Homemaker") >
        3 * at_age("India", "male", 40)->probability("Homemaker"));
  CHECK(at_age("Germany", "male", 70)->probability("Retired") > 0.8);
  CHECK(at_age("Germany", "female", 17)->probability("Student") > 0.5);
  // high-income countries farm little, India a lot
  CHECK(at_age("Germany", "male", 40)->probability("Agricultural, forestry and fishery workers") < 0.05);
  CHECK(at_age("India", "male", 40)->probability("Agricultural, forestry and fishery workers") > 0.3);
  // named facts
  cond::Facts facts{{"country", std::string("Japan")}, {"gender", std::string("male")}, {"age", 30.0}};
  CHECK(occ->lookup(facts) == at_age("Japan", "male", 30));
}

TEST_CASE("the star row is the fallback", "[tables][lookup]") {
  const Library& lib = std_lib();
  const Table* sex = lib.find("stdlib.sex_ratio");
  REQUIRE(sex);
  const Dist* world = sex->lookup(keys({std::string("Atlantis")}));
  REQUIRE(world);
  CHECK(world != sex->lookup(keys({std::string("Kenya")})));
  CHECK(sex->lookup(std::span<const cond::Value>{}) == world);  // missing key: only "*" matches
  // no fallback: nothing
  const Table* cities = lib.find("stdlib.cities");
  REQUIRE(cities);
  CHECK(cities->lookup(keys({std::string("Atlantis"), std::string("rural area")})) == nullptr);
  const Dist* kenya = cities->lookup(keys({std::string("Kenya"), std::string("city of 1 to 5 million")}));
  REQUIRE(kenya);
  CHECK(kenya->probability("Nairobi") > 0.7);  // with Mombasa

  // nested fallbacks, with backtracking from a key whose subtree does not match
  DiagnosticList diags;
  const auto t = parse_toml(R"(
name = "nested"
value = "category"
by = ["country", "gender"]
[weights.Kenya.female]
Wanjiru = 1
[weights."*"."*"]
Alex = 1
[weights."*".male]
John = 1
)",
                            "nested.toml", "nested", "nested", false, diags);
  INFO(dump(diags));
  REQUIRE(t);
  auto first = [&](std::initializer_list<cond::Value> k) -> std::string {
    const auto v = keys(k);
    const Dist* d = t->lookup(v);
    return d ? d->labels()[0] : "<none>";
  };
  CHECK(first({std::string("Kenya"), std::string("female")}) == "Wanjiru");
  CHECK(first({std::string("Kenya"), std::string("male")}) == "John");
  CHECK(first({std::string("Peru"), std::string("male")}) == "John");
  CHECK(first({std::string("Peru"), std::string("other")}) == "Alex");
}

TEST_CASE("derive maps labels to facts", "[tables]") {
  const Table* occ = std_lib().find("stdlib.occupations");
  REQUIRE(occ);
  CHECK(occ->derive("employment", "Student") == "student");
  CHECK(occ->derive("employment", "Retired") == "retired");
  CHECK(occ->derive("employment", "Homemaker") == "homemaker");
  CHECK(occ->derive("employment", "Professionals") == "employed");
  CHECK(occ->derive("occupation_class", "Agricultural, forestry and fishery workers") == "agricultural");
  CHECK(occ->derive("occupation_class", "Student") == "other");
  CHECK_FALSE(occ->derive("income", "Student").has_value());
  CHECK(occ->derived_facts() == std::vector<std::string>{"employment", "occupation_class"});
  // every label of the table derives something
  for (const auto& l : occ->all_labels()) CHECK(occ->derive("employment", l).has_value());
}

TEST_CASE("user tables: CSV and TOML", "[tables][user]") {
  Library lib;
  DiagnosticList d;
  const Table* cities = lib.load_file(fixtures / "cities.csv", "my_cities", d);
  INFO(dump(d));
  REQUIRE(cities);
  CHECK(lib.find("my_cities") == cities);
  CHECK(cities->kind == ValueKind::category);
  CHECK(cities->by == std::vector<std::string>{"country"});
  const Dist* kenya = cities->lookup(keys({std::string("Kenya")}));
  REQUIRE(kenya);
  CHECK(kenya->labels() == std::vector<std::string>{"Nairobi", "Mombasa", "Kisumu"});
  CHECK(kenya->probability("Nairobi") == Approx(4397073.0 / (4397073.0 + 1208333.0 + 397957.0)));
  const Dist* other = cities->lookup(keys({std::string("Peru")}));
  REQUIRE(other);
  CHECK(other->labels() == std::vector<std::string>{"Elsewhere"});

  const Table* ages = lib.load_file(fixtures / "ages.csv", "my_ages", d);
  REQUIRE(ages);
  CHECK(ages->kind == ValueKind::integer_range);
  Rng rng(1);
  for (int i = 0; i < 200; ++i) {
    const double v = std::get<double>(*ages->draw({}, rng));
    CHECK(((v >= 18 && v <= 34) || (v >= 65 && v <= 69)));
  }

  const Table* shoes = lib.load_file(fixtures / "shoes.toml", "shoes", d);
  REQUIRE(shoes);
  CHECK(shoes->kind == ValueKind::number);
  std::set<double> seen;
  for (int i = 0; i < 100; ++i) seen.insert(std::get<double>(*shoes->draw({}, rng)));
  CHECK(seen == std::set<double>{38.0, 42.5});
  CHECK_FALSE(d.has_errors());
}

TEST_CASE("malformed tables are reported with file and line", "[tables][errors]") {
  require_error_at_line("negative_weight.toml", "table-negative-weight");
  require_error_at_line("all_zero.toml", "table-zero-weights");
  require_error_at_line("bad_range.toml", "table-bad-range");
  require_error_at_line("bad_range_word.toml", "table-bad-range");
  require_error_at_line("bad_by_range.toml", "table-bad-range");
  require_error_at_line("truncated.toml", "table-syntax");
  require_error_at_line("missing_value.toml", "table-missing-field");
  require_error_at_line("depth_mismatch.toml", "table-depth");
  require_error_at_line("name_mismatch.toml", "table-name-mismatch");
  require_error_at_line("short_row.csv", "table-csv-row");
  require_error_at_line("bad_weight.csv", "table-negative-weight");
  require_error_at_line("empty.toml");
  require_error_at_line("empty.csv");
  require_error_at_line("garbage.toml");
  require_error_at_line("garbage.csv");
  require_error_at_line("garbage_no_nul.toml");
}

TEST_CASE("error positions point at the offending line", "[tables][errors]") {
  auto line_of = [](const std::string& file, const std::string& code) -> std::uint32_t {
    const DiagnosticList d = load_bad(file);
    for (const auto& x : d.all())
      if (x.code == code) return x.where.line;
    return 0;
  };
  CHECK(line_of("negative_weight.toml", "table-negative-weight") == 7);
  CHECK(line_of("bad_range.toml", "table-bad-range") == 6);
  CHECK(line_of("bad_range_word.toml", "table-bad-range") == 6);
  CHECK(line_of("bad_by_range.toml", "table-bad-range") == 8);
  CHECK(line_of("short_row.csv", "table-csv-row") == 3);
  CHECK(line_of("all_zero.toml", "table-zero-weights") == 4);
  CHECK(line_of("truncated.toml", "table-syntax") == 7);
  CHECK(line_of("depth_mismatch.toml", "table-depth") == 6);
  CHECK(line_of("name_mismatch.toml", "table-name-mismatch") == 1);
  // the bad range points at the key, the negative weight at the value
  const DiagnosticList range = load_bad("bad_range.toml");
  REQUIRE(range.has_errors());
  CHECK(range.all()[0].where.column == 1);
  const DiagnosticList neg = load_bad("negative_weight.toml");
  REQUIRE(neg.has_errors());
  CHECK(neg.all()[0].where.column == 11);
  // one problem, one error (no follow-up "no weights")
  CHECK(load_bad("depth_mismatch.toml").error_count() == 1);
}

TEST_CASE("unreadable and unknown files", "[tables][errors]") {
  Library lib;
  DiagnosticList d;
  CHECK(lib.load_file(fixtures / "does_not_exist.toml", "x", d) == nullptr);
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].where.file.find("does_not_exist.toml") != std::string::npos);
  d.clear();
  CHECK(lib.load_file(fixtures, "x", d) == nullptr);
  CHECK(d.has_errors());
  d.clear();
  CHECK(lib.load_file(fixtures / "ages.txt", "x", d) == nullptr);
  CHECK(d.has_errors());
  d.clear();
  CHECK(lib.load_dir(fixtures / "nope", d) == 0);
  CHECK(d.has_errors());
  // the fixtures directory itself: every bad file reported, nothing thrown
  d.clear();
  Library lib2;
  CHECK_NOTHROW(lib2.load_dir(fixtures, d));
  CHECK(d.has_errors());
  CHECK(lib2.find("stdlib.negative_weight") == nullptr);
}

TEST_CASE("strict metadata for stdlib tables", "[tables][errors]") {
  DiagnosticList d;
  const auto t =
      parse_toml("name = \"x\"\nvalue = \"category\"\n[weights]\na = 1\n", "x.toml", "x", "stdlib.x", true, d);
  CHECK_FALSE(t);
  std::set<std::string> missing;
  for (const auto& x : d.all()) missing.insert(x.message);
  CHECK(missing.count("missing field `description`") == 1);
  CHECK(missing.count("missing field `source`") == 1);
  CHECK(missing.count("missing field `year`") == 1);
  d.clear();
  CHECK_FALSE(parse_toml("name = \"x\"\nvalue = \"categry\"\n[weights]\na = 1\n", "x.toml", "x", "x", false, d));
  CHECK(d.has_errors());
  d.clear();
  CHECK_FALSE(
      parse_toml("name = \"x\"\nvalue = \"category\"\n[weights]\na = \"many\"\n", "x.toml", "x", "x", false, d));
  CHECK(d.has_errors());
  CHECK(d.all()[0].where.line == 4);
}

TEST_CASE("range keys and divergence helpers", "[tables]") {
  CHECK(parse_range_key("18-24")->lo == 18);
  CHECK(parse_range_key("18-24")->hi == 24);
  CHECK(parse_range_key("65+")->open);
  CHECK(parse_range_key("65+")->hi == 69);
  CHECK(parse_range_key("7")->hi == 7);
  CHECK_FALSE(parse_range_key("30-20"));
  CHECK_FALSE(parse_range_key("abc"));
  CHECK_FALSE(parse_range_key("1-"));
  CHECK_FALSE(parse_range_key("-5"));
  CHECK_FALSE(parse_range_key(""));

  using M = std::map<std::string, double, std::less<>>;
  CHECK(jensen_shannon(M{{"a", 1}}, M{{"a", 2}}) == Approx(0.0));
  CHECK(jensen_shannon(M{{"a", 1}}, M{{"b", 1}}) == Approx(1.0));
  CHECK(jensen_shannon(M{{"a", 1}, {"b", 1}}, M{{"a", 1}}) == Approx(0.311278).epsilon(1e-4));
  CHECK(jensen_shannon(M{}, M{{"a", 1}}) == Approx(1.0));
}
