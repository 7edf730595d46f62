// Checking finished personas: violations name the rule, the attributes and their values; checks
// on facts the persona does not have are counted as skipped, never as passed.
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
    "      = still at home @1 | before 18 @1 | after 30 @1\n"
    "  Place | Place\n"
    "    Settlement Size | The kind of place\n"
    "      = large city @1 | village @1\n"
    "    Teen Club | A club for teenagers\n"
    "      = member @1 | not a member @1\n"
    "      ? age < 20\n"
    "  Habits | Habits\n"
    "    Punctuality Habit | How punctual\n"
    "      = early @1 | late @1\n"
    "    Everyday Punctuality | How punctual in daily life\n"
    "      = early @1 | late @1\n";

const char* kRules =
    "fact age | Age\n"
    "  type number\n"
    "  absent skip\n"
    "fact settlement | Where the person lives\n"
    "  = big_city @1 | rural @1\n"
    "  anchor city => big_city\n"
    "  absent skip\n"
    "fact children | Own children\n"
    "  = 0 @40 | 1 @30 | 2 @30\n"
    "  ~ when age < 18: 0 @1\n"
    "  absent draw\n"
    "family family\n"
    "leaf **/Number of Children\n"
    "  none: children = 0\n"
    "  one: children = 1\n"
    "  two or more: children >= 2\n"
    "leaf **/Time With Children\n"
    "  say Time with one's children needs children.\n"
    "  a lot | some: children >= 1\n"
    "  no children: children = 0\n"
    "family milestones\n"
    "leaf **/Age at Leaving Home\n"
    "  after 30: age > 30\n"
    "family settlement\n"
    "leaf **/Settlement Size\n"
    "  large city: settlement = big_city\n"
    "  village: settlement = rural\n";

struct Fixture {
  std::shared_ptr<const tax::Taxonomy> t;
  std::shared_ptr<const coherence::Rules> r;
  Fixture() {
    DiagnosticList d;
    auto tx = load(kTax, kRules, d);
    INFO(dump(d));
    REQUIRE(tx);
    REQUIRE(tax::load_twins(*tx,
                            "classes = [ { reason = \"punctuality\", leaves = [\"Life/Habits/Punctuality Habit\", "
                            "\"Life/Habits/Everyday Punctuality\"] } ]\n",
                            "twins.toml", d));
    t = std::make_shared<const tax::Taxonomy>(std::move(*tx));
    tables::Library lib;
    r = coherence::Rules::compile(*t, lib, d);
    INFO(dump(d));
    REQUIRE(r != nullptr);
  }
  coherence::CheckReport check(const cond::Facts& f, std::vector<coherence::Attribute> a) const {
    return r->check(f, a);
  }
};

bool involves(const coherence::Violation& v, const std::string& path_part) {
  for (const auto& [a, val] : v.involved)
    if (a.find(path_part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("two attributes that need different values of a latent fact are one violation naming both",
          "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 40.0}}),
                           {{"Life/Family/Number of Children", "none"}, {"Life/Family/Time With Children", "a lot"}});
  REQUIRE(rep.violations.size() == 1);
  const auto& v = rep.violations.front();
  CHECK(v.family == "family");
  CHECK(v.rule == "family:Life/Family/Time With Children");
  CHECK(involves(v, "Number of Children"));
  CHECK(involves(v, "Time With Children"));
  CHECK(v.statement.find("Time with one's children needs children.") != std::string::npos);
  CHECK(v.where.file == "test.rules");
  CHECK(v.where.line == 19);
}

TEST_CASE("attributes that agree with each other and the anchors pass", "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 40.0}, {"city", std::string("Nairobi")}}),
                           {{"Life/Family/Number of Children", "one"},
                            {"Life/Family/Time With Children", "some"},
                            {"Life/Family/Age at Leaving Home", "after 30"},
                            {"Life/Place/Settlement Size", "large city"}});
  CHECK(rep.ok());
  CHECK(rep.checked == 3);  // "one" is only partly known from the others (children >= 1): skipped
  CHECK(rep.skipped == 1);
}

TEST_CASE("a milestone age above the current age is a violation naming the anchor", "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 29.0}}), {{"Life/Family/Age at Leaving Home", "after 30"}});
  REQUIRE(rep.violations.size() == 1);
  CHECK(rep.violations[0].family == "milestones");
  CHECK(rep.violations[0].statement.find("age > 30") != std::string::npos);
  bool anchor = false;
  for (const auto& [a, v] : rep.violations[0].involved) anchor = anchor || (a == "anchor age" && v == "29");
  CHECK(anchor);
}

TEST_CASE("a big-city anchor rules out rural settlement values - without it the check is skipped, not passed",
          "[coherence][check][settlement]") {
  Fixture f;
  auto rep = f.check(facts({{"city", std::string("Wuhan")}}), {{"Life/Place/Settlement Size", "village"}});
  REQUIRE(rep.violations.size() == 1);
  CHECK(rep.violations[0].family == "settlement");
  rep = f.check(facts({{"age", 50.0}}), {{"Life/Place/Settlement Size", "village"}});
  CHECK(rep.ok());
  CHECK(rep.skipped == 1);
  CHECK(rep.checked == 0);
}

TEST_CASE("a latent fact inferred outside its own weights is a violation (children at 15)", "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 15.0}}), {{"Life/Family/Number of Children", "two or more"}});
  REQUIRE_FALSE(rep.ok());
  bool fact = false;
  for (const auto& v : rep.violations) fact = fact || v.rule == "fact:children";
  CHECK(fact);
}

TEST_CASE("an attribute outside its applicability conditions is a violation", "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 45.0}}), {{"Life/Place/Teen Club", "member"}});
  REQUIRE(rep.violations.size() == 1);
  CHECK(rep.violations[0].rule == "applicability:Life/Place/Teen Club");
  CHECK(rep.violations[0].where.line == 14);
}

TEST_CASE("two attributes of one meaning class are a twins violation", "[coherence][check][twins]") {
  Fixture f;
  const auto rep =
      f.check(facts({}), {{"Life/Habits/Punctuality Habit", "early"}, {"Life/Habits/Everyday Punctuality", "late"}});
  REQUIRE(rep.violations.size() == 1);
  CHECK(rep.violations[0].family == "twins");
}

TEST_CASE("values that are not options and unknown paths are counted as unmapped", "[coherence][check]") {
  Fixture f;
  const auto rep = f.check(facts({{"age", 40.0}}), {{"Life/Family/Number of Children", "a dozen"},
                                                    {"Nowhere/At All", "x"},
                                                    {"Life/Family/Time With Children", "SOME"}});
  CHECK(rep.unmapped == 2);  // "SOME" matches "some" ignoring case
  CHECK(rep.ok());
}

TEST_CASE("statements are readable enough to quote in a re-ask", "[coherence][check]") {
  Fixture f;
  const auto leaf = f.t->glob("**/Age at Leaving Home").front();
  CHECK(f.r->statement(leaf, 2) == "\"Age at Leaving Home\" = \"after 30\" requires age > 30");
  const auto time = f.t->glob("**/Time With Children").front();
  CHECK(f.r->statement(time, 0).find("Time with one's children needs children.") == 0);
}
