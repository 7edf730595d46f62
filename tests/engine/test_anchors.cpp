// Anchor drawing: fixed, categorical, numeric distributions with clamp / truncate / round, table
// draws with `by` values and derived facts.
#include <cmath>
#include <map>

#include "base/rng.hpp"
#include "engine_support.hpp"

using namespace engine_test;
using namespace persona;

namespace {

const char* kTinyTax = "Things | Things\n  Stuff | Stuff\n    Colour | A colour\n      = red | blue\n";

const char* kAges = R"(name = "ages"
value = "integer-range"
by = ["country"]
[weights.Kenya]
"0-9" = 50
"10-19" = 30
"20-29" = 20
[weights."*"]
"0-9" = 10
"10-19" = 10
"20-29" = 80
)";

const char* kJobs = R"(name = "jobs"
value = "category"
by = ["age"]
[weights."0-14"]
Student = 1
[weights."15+"]
Student = 1
Farmer = 2
Retired = 1
[derive.employment]
Student = "student"
Retired = "retired"
"*" = "employed"
)";

const char* kCountries = R"(name = "countries"
value = "category"
[weights]
Kenya = 3
Peru = 1
)";

double num(const engine::Persona& p, std::size_t i) { return std::get<double>(*p.anchors[i]); }
std::string str(const engine::Persona& p, std::size_t i) { return std::get<std::string>(*p.anchors[i]); }

}  // namespace

TEST_CASE("fixed and categorical anchors", "[engine][anchors]") {
  auto r = base_recipe();
  r.anchors.push_back(fixed_anchor("country", std::string("Kenya")));
  lang::Anchor g;
  g.name = "gender";
  g.source.kind = lang::AnchorSource::Kind::categorical;
  g.source.choices = {{"female", 3, {}}, {"male", 1, {}}, {"other", 0, {}}};
  r.anchors.push_back(g);
  auto m = make_model(r, nullptr, make_taxonomy(kTinyTax));
  std::map<std::string, int> counts;
  engine::Persona p;
  for (std::uint64_t i = 0; i < 4000; ++i) {
    begin(*m, 1, i, p);
    REQUIRE(draw_anchors(*m, p));
    CHECK(str(p, 0) == "Kenya");
    ++counts[str(p, 1)];
  }
  CHECK(counts["other"] == 0);  // zero weight never drawn
  CHECK(std::abs(counts["female"] / 4000.0 - 0.75) < 0.03);
  CHECK(p.facts.at("country") == cond::Value(std::string("Kenya")));
}

TEST_CASE("numeric anchors: clamp clips, truncate redraws, round rounds", "[engine][anchors]") {
  auto r = base_recipe();
  lang::Anchor a;
  a.name = "clamped";
  a.type = lang::ValueType::number;
  a.source.kind = lang::AnchorSource::Kind::normal;
  a.source.args = {0, 10};
  a.source.bound = {lang::Bound::Kind::clamp, -1.0, 1.0};
  r.anchors.push_back(a);
  a.name = "truncated";
  a.source.bound = {lang::Bound::Kind::truncate, -1.0, 1.0};
  r.anchors.push_back(a);
  a.name = "rounded";
  a.source.kind = lang::AnchorSource::Kind::uniform;
  a.source.args = {0, 5};
  a.source.bound = {};
  a.source.round = true;
  r.anchors.push_back(a);
  a.name = "lognormal";
  a.source.kind = lang::AnchorSource::Kind::lognormal;
  a.source.args = {0, 0.5};
  a.source.round = false;
  r.anchors.push_back(a);
  auto m = make_model(r, nullptr, make_taxonomy(kTinyTax));
  int clamped_at_edge = 0, truncated_at_edge = 0;
  engine::Persona p;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    begin(*m, 3, i, p);
    draw_anchors(*m, p);
    const double c = num(p, 0), t = num(p, 1), rd = num(p, 2), ln = num(p, 3);
    CHECK(c >= -1.0);
    CHECK(c <= 1.0);
    CHECK(t >= -1.0);
    CHECK(t <= 1.0);
    if (std::abs(c) == 1.0) ++clamped_at_edge;
    if (std::abs(t) == 1.0) ++truncated_at_edge;
    CHECK(rd == std::round(rd));
    CHECK(rd >= 0);
    CHECK(rd <= 5);
    CHECK(ln > 0);
  }
  // N(0, 10) clipped to [-1, 1] piles up on the edges (~92%); truncation redraws instead.
  CHECK(clamped_at_edge > 1600);
  CHECK(truncated_at_edge < 5);
}

TEST_CASE("table anchors: by values in the table's order, derived facts, truncate", "[engine][anchors]") {
  auto lib = make_tables({{"ages", kAges}, {"jobs", kJobs}, {"countries", kCountries}});
  auto r = base_recipe();
  r.anchors.push_back(table_anchor("country", "countries"));
  auto age = table_anchor("age", "ages", {"country"}, lang::ValueType::number);
  age.source.bound = {lang::Bound::Kind::truncate, 15.0, std::nullopt};
  r.anchors.push_back(age);
  r.anchors.push_back(table_anchor("occupation", "jobs", {"age"}));
  auto m = make_model(r, lib, make_taxonomy(kTinyTax));
  std::map<std::string, int> jobs, countries;
  engine::Persona p;
  for (std::uint64_t i = 0; i < 3000; ++i) {
    begin(*m, 11, i, p);
    REQUIRE(draw_anchors(*m, p));
    ++countries[str(p, 0)];
    const double a = num(p, 1);
    CHECK(a >= 15);  // truncated: never below 15, and ages stay numbers
    CHECK(a <= 29);
    CHECK(std::holds_alternative<double>(p.facts.at("age")));
    const std::string job = str(p, 2);
    ++jobs[job];
    const std::string emp = std::get<std::string>(p.facts.at("employment"));
    if (job == "Student")
      CHECK(emp == "student");
    else if (job == "Retired")
      CHECK(emp == "retired");
    else
      CHECK(emp == "employed");
    REQUIRE(p.derived.size() == 1);
    CHECK(p.derived[0].first == "employment");
  }
  CHECK(std::abs(countries["Kenya"] / 3000.0 - 0.75) < 0.03);
  CHECK(std::abs(jobs["Farmer"] / 3000.0 - 0.5) < 0.04);  // everybody is >= 15 -> the "15+" row
  // The derived fact appears in the output's anchors object.
  const std::string line = line_of(*m, p);
  CHECK(line.find("\"employment\":") != std::string::npos);
}

TEST_CASE("a table with no row for the by values reports a problem and a null anchor", "[engine][anchors]") {
  const char* strict = R"(name = "strict"
value = "category"
by = ["country"]
[weights.Kenya]
a = 1
)";
  auto lib = make_tables({{"strict", strict}});
  auto r = base_recipe();
  r.anchors.push_back(fixed_anchor("country", std::string("Peru")));
  r.anchors.push_back(table_anchor("thing", "strict", {"country"}));
  auto m = make_model(r, lib, make_taxonomy(kTinyTax));
  engine::Persona p;
  begin(*m, 1, 0, p);
  CHECK_FALSE(draw_anchors(*m, p));
  CHECK_FALSE(p.anchors[1].has_value());
  CHECK(p.problems.size() == 1);
  CHECK(line_of(*m, p).find("\"thing\":null") != std::string::npos);
}

TEST_CASE("an unknown table is an error when the model is built", "[engine][anchors]") {
  auto r = base_recipe();
  r.anchors.push_back(table_anchor("thing", "nope"));
  DiagnosticList d;
  auto m = engine::Program::compile(r, nullptr, make_taxonomy(kTinyTax), d);
  CHECK(m == nullptr);
  CHECK(d.has_errors());
}

TEST_CASE("the fill stream equals Rng::derive(seed, index, \"fill:\" + path)", "[engine][anchors][determinism]") {
  // The hot path derives streams from precomputed step hashes; this pins the equivalence.
  const std::uint64_t seed = 42, index = 9;
  const std::string path = "A/B/C";
  Rng a = Rng::derive(seed, index, "fill:" + path);
  Rng b(splitmix64(splitmix64(seed) ^ splitmix64(index + 0x632be59bd9b4e019ULL) ^ stable_hash("fill:" + path)));
  for (int i = 0; i < 10; ++i) CHECK(a() == b());
}
