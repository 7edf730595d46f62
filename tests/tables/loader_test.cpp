// The table loader beyond one conditioning level: lookups, fallbacks and errors through three `by`
// levels, weight units (share / percent / count) with their sum check, and the source metadata that
// stdlib tables must carry.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tables/tables.hpp"

using namespace persona;
using namespace persona::tables;

namespace {

const std::filesystem::path fixtures = std::filesystem::path(PERSONA_TESTS_DIR) / "tables" / "data";

std::string dump(const DiagnosticList& d) {
  std::ostringstream os;
  for (const auto& x : d.all())
    os << x.where.file << ":" << x.where.line << ":" << x.where.column << ": [" << x.code << "] " << x.message << "\n";
  return os.str();
}

std::string only_label(const Table& t, std::vector<cond::Value> keys) {
  const Dist* d = t.lookup(keys);
  if (d == nullptr) return "<none>";
  return d->labels().size() == 1 ? d->labels()[0] : d->labels()[0] + "...";
}

const char* kStrictHeader =
    "name = \"x\"\ndescription = \"d\"\nsource = \"s\"\nedition = \"e\"\nurl = \"https://example.org\"\n"
    "licence = \"CC BY 4.0\"\nyear = 2024\n";

}  // namespace

TEST_CASE("a table conditioned on three facts looks up, falls back and lists its keys", "[tables][lookup]") {
  Library lib;
  DiagnosticList d;
  const Table* t = lib.load_file(fixtures / "three_levels.toml", "three", d);
  INFO(dump(d));
  REQUIRE(t != nullptr);
  CHECK(t->by == std::vector<std::string>{"country", "gender", "age"});
  CHECK(t->unit == WeightUnit::share);
  using V = cond::Value;
  const std::string jp = "Japan", f = "female", m = "male";
  CHECK(only_label(*t, {V(jp), V(f), V(70.0)}) == "retired");                  // open range at the last level
  CHECK(only_label(*t, {V(jp), V(f), V(30.0)}) == "clerk...");                 // range key
  CHECK(only_label(*t, {V(jp), V(f), V(std::string("20"))}) == "student...");  // numeric string
  CHECK(only_label(*t, {V(jp), V(m), V(40.0)}) == "engineer");
  CHECK(only_label(*t, {V(jp), V(m), V(80.0)}) == "retired");  // "*" at the third level
  CHECK(only_label(*t, {V(jp), V(f), V(10.0)}) == "other");    // no age match under female: Japan."*"."*"
  CHECK(only_label(*t, {V(jp), V(std::string("other")), V(30.0)}) == "other");   // "*" at the second level
  CHECK(only_label(*t, {V(std::string("Peru")), V(f), V(30.0)}) == "anything");  // "*" at the first level
  CHECK(only_label(*t, {V(jp), V(f)}) == "other");  // a missing trailing key matches only "*"
  CHECK(t->keys_at(0) == std::vector<std::string>{"Japan"});
  CHECK(t->keys_at(1) == std::vector<std::string>{"female", "male"});
  CHECK(t->keys_at(2) == std::vector<std::string>{"15-24", "25-64", "65+", "15-64"});
  const std::vector<std::string> japan = {"Japan"}, japan_male = {"Japan", "male"}, nowhere = {"Peru"};
  CHECK(t->keys_under(japan) == std::vector<std::string>{"female", "male"});
  CHECK(t->keys_under(japan_male) == std::vector<std::string>{"15-64"});
  CHECK(t->keys_under(nowhere).empty());
  CHECK(t->has_fallback_at(0));
  CHECK(t->has_fallback_at(2));
  CHECK(t->entries().size() == 7);
}

TEST_CASE("a three-level table with a missing level is a depth error with file and line", "[tables][errors]") {
  Library lib;
  DiagnosticList d;
  CHECK(lib.load_file(fixtures / "three_levels_depth.toml", "x", d) == nullptr);
  INFO(dump(d));
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].code == "table-depth");
  CHECK(d.all()[0].where.file == (fixtures / "three_levels_depth.toml").string());
  CHECK(d.all()[0].where.line == 6);
}

TEST_CASE("shares that do not sum to 1 are a load error naming file, line and keys", "[tables][errors][unit]") {
  Library lib;
  DiagnosticList d;
  CHECK(lib.load_file(fixtures / "share_sum.toml", "x", d) == nullptr);
  INFO(dump(d));
  REQUIRE(d.error_count() == 1);  // Kenya.female sums to 1, Kenya.male to 0.8
  const auto& e = d.all()[0];
  CHECK(e.code == "table-share-sum");
  CHECK(e.where.file == (fixtures / "share_sum.toml").string());
  CHECK(e.where.line == 10);
  CHECK(e.message.find("weights.Kenya.male") != std::string::npos);
  CHECK(e.message.find("sum to 0.8") != std::string::npos);
}

TEST_CASE("percentages within the tolerance load - counts are never summed", "[tables][unit]") {
  Library lib;
  DiagnosticList d;
  const Table* p = lib.load_file(fixtures / "percent_sum.toml", "p", d);
  INFO(dump(d));
  REQUIRE(p != nullptr);
  CHECK(p->unit == WeightUnit::percent);
  CHECK(p->lookup(std::vector<cond::Value>{})->probability("a") == Approx(50.0 / 99.99));
  // the same weights as shares are 100 times too large
  d.clear();
  CHECK_FALSE(parse_toml("name = \"x\"\nvalue = \"category\"\nunit = \"share\"\n[weights]\na = 50\nb = 49.99\n",
                         "x.toml", "x", "x", false, d));
  CHECK(d.has_errors());
  // counts: any positive weights
  d.clear();
  const auto c = parse_toml("name = \"x\"\nvalue = \"category\"\nunit = \"count\"\n[weights]\na = 50\nb = 7\n",
                            "x.toml", "x", "x", false, d);
  REQUIRE(c);
  CHECK(c->unit == WeightUnit::count);
  // a user table without `unit` is a count table
  d.clear();
  const auto u = parse_toml("name = \"x\"\nvalue = \"category\"\n[weights]\na = 3\n", "x.toml", "x", "x", false, d);
  REQUIRE(u);
  CHECK(u->unit == WeightUnit::count);
  // a stated tolerance widens the check
  d.clear();
  CHECK(parse_toml(
      "name = \"x\"\nvalue = \"category\"\nunit = \"share\"\ntolerance = 0.05\n[weights]\na = 0.5\nb = 0.47\n",
      "x.toml", "x", "x", false, d));
  CHECK_FALSE(d.has_errors());
  d.clear();
  CHECK_FALSE(parse_toml("name = \"x\"\nvalue = \"category\"\ntolerance = 2\n[weights]\na = 1\n", "x.toml", "x", "x",
                         false, d));
  CHECK(d.has_errors());
}

TEST_CASE("an unknown weight unit is an error at its line", "[tables][errors][unit]") {
  Library lib;
  DiagnosticList d;
  CHECK(lib.load_file(fixtures / "bad_unit.toml", "x", d) == nullptr);
  INFO(dump(d));
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].code == "table-bad-unit");
  CHECK(d.all()[0].where.line == 3);
}

TEST_CASE("stdlib tables must name their source, edition, url, licence and unit", "[tables][errors]") {
  DiagnosticList d;
  CHECK_FALSE(
      parse_toml("name = \"x\"\ndescription = \"d\"\nsource = \"s\"\nyear = 2024\nvalue = \"category\"\n"
                 "[weights]\na = 1\n",
                 "x.toml", "x", "stdlib.x", true, d));
  std::set<std::string> missing;
  for (const auto& x : d.all()) missing.insert(x.message);
  for (const char* f : {"edition", "url", "licence", "unit"}) {
    INFO(f);
    CHECK(missing.count("missing field `" + std::string(f) + "`") == 1);
  }
  d.clear();
  const auto t = parse_toml(std::string(kStrictHeader) + "unit = \"share\"\nvalue = \"category\"\n[weights]\na = 1\n",
                            "x.toml", "x", "stdlib.x", true, d);
  INFO(dump(d));
  REQUIRE(t);
  CHECK(d.all().empty());
  CHECK(t->edition == "e");
  CHECK(t->url == "https://example.org");
  CHECK(t->licence == "CC BY 4.0");
  CHECK(to_string(t->unit) == "share");
}

TEST_CASE("finite weights whose sum overflows are an error, not a table that always draws the last label",
          "[tables][errors]") {
  DiagnosticList d;
  CHECK_FALSE(parse_csv("value,weight\na,1e308\nb,1e308\n", "big.csv", "big", d));
  INFO(dump(d));
  bool found = false;
  for (const auto& x : d.all())
    if (x.code == "table-bad-weight" && x.message.find("sum to more than") != std::string::npos) found = true;
  CHECK(found);
  // A repeated label accumulating past the largest double is caught the same way.
  DiagnosticList d2;
  CHECK_FALSE(parse_csv("value,weight\na,1e308\na,1e308\nb,1\n", "big.csv", "big", d2));
  CHECK(d2.has_errors());
  // Large but summable weights are fine.
  DiagnosticList d3;
  auto t = parse_csv("value,weight\na,1e300\nb,3e300\n", "big.csv", "big", d3);
  INFO(dump(d3));
  REQUIRE(t);
  CHECK(t->entries().front().dist->probabilities()[1] == Approx(0.75));
}
