// Drawing: latent facts from their conditional weights, option weights conditioned on the facts,
// links that forbid options, tables keyed by anchors, determinism.
#include <map>

#include "coherence_support.hpp"

using namespace coherence_test;
using namespace persona;

namespace {

const char* kTax =
    "Life | Life\n"
    "  Family | Family\n"
    "    Number of Children | How many children the person has\n"
    "      = none @30 | one @20 | two or more @50\n"
    "    Time With Children | Daily time spent with own children\n"
    "      = a lot @1 | some @1 | no children @1\n"
    "    Age at Leaving Home | How old the person was on leaving the parental home\n"
    "      = still at home @1 | before 18 @1 | 18 to 25 @1 | after 30 @1\n"
    "    Pension Type | The person's pension\n"
    "      = state pension @1 | private pension @1\n"
    "  Faith | Faith\n"
    "    Religion Identified With | The religion\n"
    "      = christian | muslim | none\n"
    "      ~ table religion by country\n"
    "    Drink of Choice | Hot drink\n"
    "      = tea @50 | coffee @40 | mate @10\n"
    "      ~ when country = Argentina: mate @70 | coffee @20 | tea @10\n";

const char* kRules =
    "fact age | Age\n"
    "  type number\n"
    "  absent skip\n"
    "fact country | Country\n"
    "  absent skip\n"
    "fact employment | Status\n"
    "  = employed | student | retired\n"
    "  absent skip\n"
    "fact children | Own children\n"
    "  = 0 @40 | 1 @30 | 2 @30\n"
    "  ~ when age < 18: 0 @1\n"
    "  absent draw\n"
    "leaf **/Number of Children\n"
    "  none: children = 0\n"
    "  one: children = 1\n"
    "  two or more: children >= 2\n"
    "leaf **/Time With Children\n"
    "  a lot | some: children >= 1\n"
    "  no children: children = 0\n"
    "leaf **/Age at Leaving Home\n"
    "  after 30: age > 30\n"
    "  18 to 25: age >= 18\n"
    "leaf **/Pension Type\n"
    "  state pension | private pension: employment = retired\n";

std::shared_ptr<tables::Library> religion_table() {
  auto lib = std::make_shared<tables::Library>();
  DiagnosticList d;
  auto t = tables::parse_toml(
      "value = \"category\"\nby = [\"country\"]\n[weights.Pakistan]\nmuslim = 96\nchristian = 2\nnone = 2\n"
      "[weights.Brazil]\nchristian = 89\nnone = 8\nmuslim = 3\n",
      "religion.toml", "", "religion", false, d);
  INFO(dump(d));
  REQUIRE(t);
  lib->add(std::move(*t));
  return lib;
}

struct Fixture {
  std::shared_ptr<const tax::Taxonomy> t = make(kTax, kRules);
  std::shared_ptr<tables::Library> lib = religion_table();
  std::shared_ptr<const coherence::Rules> r;
  Fixture() {
    DiagnosticList d;
    r = coherence::Rules::compile(*t, *lib, d);
    INFO(dump(d));
    REQUIRE(r != nullptr);
  }
  tax::Vertex leaf(const char* name) const { return t->glob(std::string("**/") + name).front(); }
  std::string draw(coherence::State& st, const char* name, std::uint64_t i) const {
    Rng rng = Rng::derive(7, i, name);
    const int k = r->draw(st, leaf(name), rng);
    return k < 0 ? std::string("(none)") : (*t)[leaf(name)].values[static_cast<std::size_t>(k)].label;
  }
};

}  // namespace

TEST_CASE("every attribute about children agrees with the latent number of children", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  const auto children = *f.r->fact_index("children");
  std::map<std::string, int> seen;
  for (std::uint64_t i = 0; i < 500; ++i) {
    f.r->begin(st, facts({{"age", 40.0}, {"country", std::string("Brazil")}}), 7, i);
    const std::string n = f.draw(st, "Number of Children", i);
    const std::string time = f.draw(st, "Time With Children", i);
    const std::string c(st.label(children));
    ++seen[c];
    if (c == "0") {
      CHECK(n == "none");
      CHECK(time == "no children");
    } else {
      CHECK(n != "none");
      CHECK(time != "no children");
    }
    if (c == "1") CHECK(n == "one");
  }
  // The fact follows its weights (0 @40 | 1 @30 | 2 @30).
  CHECK(seen["0"] > 150);
  CHECK(seen["0"] < 250);
  CHECK(seen["2"] > 100);
}

TEST_CASE("a latent fact follows its conditional weights: no children under 18", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  for (std::uint64_t i = 0; i < 200; ++i) {
    f.r->begin(st, facts({{"age", 15.0}}), 3, i);
    CHECK(st.label(*f.r->fact_index("children")) == "0");
    CHECK(f.draw(st, "Number of Children", i) == "none");
  }
}

TEST_CASE("a milestone age is never above the current age", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  for (std::uint64_t i = 0; i < 300; ++i) {
    f.r->begin(st, facts({{"age", 17.0}}), 7, i);
    const std::string v = f.draw(st, "Age at Leaving Home", i);
    CHECK(v != "after 30");
    CHECK(v != "18 to 25");
  }
}

TEST_CASE("a leaf whose every option is forbidden is not possible - an unknown fact forbids nothing",
          "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  f.r->begin(st, facts({{"age", 20.0}, {"employment", std::string("student")}}), 1, 1);
  CHECK_FALSE(f.r->possible(st, f.leaf("Pension Type")));
  CHECK(f.draw(st, "Pension Type", 1) == "(none)");
  f.r->begin(st, facts({{"age", 70.0}, {"employment", std::string("retired")}}), 1, 1);
  CHECK(f.r->possible(st, f.leaf("Pension Type")));
  f.r->begin(st, facts({{"age", 70.0}}), 1, 1);
  CHECK(f.r->possible(st, f.leaf("Pension Type")));  // employment unknown: cannot rule it out
}

TEST_CASE("a value from elsewhere is matched to its option and refused when a link forbids it", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  const auto leaf = f.leaf("Pension Type");
  CHECK(f.r->option_of(leaf, "private pension") == std::optional<std::size_t>(1));
  CHECK(f.r->option_of(leaf, "Private Pension.") == std::optional<std::size_t>(1));
  CHECK_FALSE(f.r->option_of(leaf, "a pension from abroad").has_value());
  CHECK(f.r->allowed(st, leaf, 0));  // unbound state: nothing known, nothing refused
  f.r->begin(st, facts({{"age", 20.0}, {"employment", std::string("student")}}), 1, 1);
  CHECK_FALSE(f.r->allowed(st, leaf, 0));
  CHECK_FALSE(f.r->allowed(st, leaf, 1));
  CHECK(f.r->allowed(st, leaf, 9));  // no such option: nothing to refuse
  f.r->begin(st, facts({{"age", 70.0}, {"employment", std::string("retired")}}), 1, 1);
  CHECK(f.r->allowed(st, leaf, 1));
}

TEST_CASE("option weights come from a table keyed by an anchor", "[coherence][draw][tables]") {
  Fixture f;
  coherence::State st;
  std::map<std::string, std::map<std::string, int>> seen;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const char* country = i % 2 ? "Pakistan" : "Brazil";
    f.r->begin(st, facts({{"age", 40.0}, {"country", std::string(country)}}), 7, i);
    ++seen[country][f.draw(st, "Religion Identified With", i)];
  }
  CHECK(seen["Pakistan"]["muslim"] > 900);
  CHECK(seen["Brazil"]["christian"] > 820);
  CHECK(seen["Brazil"]["muslim"] < 60);
}

TEST_CASE("a `~ when` line replaces the weights for the personas it describes", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  std::map<std::string, std::map<std::string, int>> seen;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    const char* country = i % 2 ? "Argentina" : "Germany";
    f.r->begin(st, facts({{"age", 40.0}, {"country", std::string(country)}}), 7, i);
    ++seen[country][f.draw(st, "Drink of Choice", i)];
  }
  CHECK(seen["Argentina"]["mate"] > 600);
  CHECK(seen["Germany"]["mate"] < 150);
  std::vector<double> w(3);
  f.r->begin(st, facts({{"country", std::string("Argentina")}}), 7, 0);
  CHECK(f.r->weights(st, f.leaf("Drink of Choice"), w) == Approx(100));
  CHECK(w[2] == Approx(70));
}

TEST_CASE("latent facts are exported for the taxonomy's conditions without overwriting anchors", "[coherence][draw]") {
  Fixture f;
  coherence::State st;
  auto fa = facts({{"age", 40.0}, {"children", std::string("2")}});
  f.r->begin(st, fa, 7, 3);
  f.r->export_facts(st, fa);
  CHECK(std::get<std::string>(fa.at("children")) == "2");  // the anchor wins
  auto fb = facts({{"age", 40.0}});
  f.r->begin(st, fb, 7, 3);
  f.r->export_facts(st, fb);
  REQUIRE(fb.count("children") == 1);
  CHECK(std::string(st.label(*f.r->fact_index("children"))) == std::get<std::string>(fb.at("children")));
}

TEST_CASE("the same (seed, index) draws the same facts and values", "[coherence][draw]") {
  Fixture f;
  coherence::State a, b;
  for (std::uint64_t i = 0; i < 50; ++i) {
    f.r->begin(a, facts({{"age", 44.0}}), 9, i);
    f.r->begin(b, facts({{"age", 44.0}}), 9, i);
    CHECK(a.label(*f.r->fact_index("children")) == b.label(*f.r->fact_index("children")));
    CHECK(f.draw(a, "Time With Children", i) == f.draw(b, "Time With Children", i));
  }
}

TEST_CASE("a taxonomy without rules draws from its `=` weights and conditions on implicit facts", "[coherence][draw]") {
  auto t = make("A | A\n  B | B\n    = x @1 | y @3\n    ~ when age < 10: x @1\n", "");
  DiagnosticList d;
  tables::Library lib;
  auto r = coherence::Rules::compile(*t, lib, d);
  REQUIRE(r != nullptr);
  coherence::State st;
  const auto leaf = t->leaves().front();
  std::map<int, int> young, old;
  for (std::uint64_t i = 0; i < 400; ++i) {
    r->begin(st, facts({{"age", 5.0}}), 1, i);
    Rng rng = Rng::derive(1, i, "x");
    ++young[r->draw(st, leaf, rng)];
    r->begin(st, facts({{"age", 50.0}}), 1, i);
    Rng rng2 = Rng::derive(1, i, "x");
    ++old[r->draw(st, leaf, rng2)];
  }
  CHECK(young[0] == 400);
  CHECK(old[1] > 250);
}
