// Loading rules files, `~` lines and twins: every mistake is a diagnostic with file and line.
#include "coherence_support.hpp"

using namespace coherence_test;
using namespace persona;

namespace {

const char* kTax =
    "Family | Family\n"
    "  Children | Children\n"
    "    Number of Children | How many children the person has\n"
    "      = none @30 | one @20 | two or more @50\n"
    "    Time With Children | Daily time spent with own children\n"
    "      = a lot | some | none, no children\n"
    "      ~ uniform: no known rate\n"
    "  Habits | Habits\n"
    "    Punctuality Habit | How punctual the person is\n"
    "      = early | on time | late\n"
    "      ~ uniform: no known rate\n"
    "    Everyday Punctuality | Punctuality in daily life\n"
    "      = early | on time | late\n"
    "      ~ uniform: no known rate\n";

const char* kFacts =
    "fact age | Age\n"
    "  type number\n"
    "  absent skip\n"
    "fact children | Own children\n"
    "  = 0 @40 | 1 @30 | 2 @30\n"
    "  ~ when age < 18: 0 @1\n"
    "  absent draw\n";

std::string rules(const std::string& extra) { return std::string(kFacts) + extra; }

}  // namespace

TEST_CASE("a rules file that links options to facts loads into the taxonomy's rule book", "[coherence][load]") {
  DiagnosticList d;
  auto t =
      load(kTax, rules("leaf **/Number of Children\n  none: children = 0\n  one | two or more: children >= 1\n"), d);
  INFO(dump(d));
  REQUIRE(t);
  const auto& book = t->rules();
  REQUIRE(book.facts.size() == 2);
  REQUIRE(book.leaves.size() == 1);
  CHECK(book.leaves[0].links.size() == 2);
  CHECK(book.leaves[0].links[1].options == std::vector<std::size_t>{1, 2});
  CHECK(book.leaves[0].family == "test");
}

TEST_CASE("a rule naming a missing leaf is a load error with file and line", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax, rules("\nleaf **/Number of Grandchildren\n  none: children = 0\n"), d);
  REQUIRE_FALSE(t);
  CHECK(has(d, "unknown-leaf", 9));
  CHECK(d.all().front().where.file == "test.rules");
}

TEST_CASE("a rule naming an option the leaf does not have is a load error with a suggestion", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax, rules("leaf **/Number of Children\n  nones: children = 0\n"), d);
  REQUIRE_FALSE(t);
  REQUIRE(has(d, "unknown-option", 9));
  CHECK(d.all().front().where.column == 3);
  CHECK(d.all().front().notes.front().find("none") != std::string::npos);
}

TEST_CASE("a glob that matches several leaves is a load error naming them", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax, rules("leaf **/*Punctuality*\n  late: age > 10\n"), d);
  REQUIRE_FALSE(t);
  CHECK(has(d, "ambiguous-leaf", 8));
}

TEST_CASE("a condition on an undeclared fact or on a value a fact does not have is a load error", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax, rules("leaf **/Number of Children\n  none: chidren = 0\n  one: children = 7\n"), d);
  REQUIRE_FALSE(t);
  CHECK(has(d, "unknown-fact", 9));
  CHECK(has(d, "unknown-value", 10));
}

TEST_CASE("facts whose conditional weights read each other form a cycle: a load error naming it", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax,
                "fact a | A\n  = x @1 | y @1\n  ~ when b = x: x @1\n  absent draw\n"
                "fact b | B\n  = x @1 | y @1\n  ~ when a = y: y @1\n  absent draw\n",
                d);
  REQUIRE_FALSE(t);
  REQUIRE(has(d, "fact-cycle"));
  bool named = false;
  for (const auto& x : d.all())
    named = named || x.message.find("a -> b -> a") != std::string::npos ||
            x.message.find("b -> a -> b") != std::string::npos;
  CHECK(named);
}

TEST_CASE("weights that do not form a distribution are a load error", "[coherence][load]") {
  DiagnosticList d;
  SECTION("a fact drawn from zero weights") {
    auto t = load(kTax, "fact c | C\n  = x @0 | y @0\n  absent draw\n", d);
    REQUIRE_FALSE(t);
    CHECK(has(d, "zero-weights", 1));
  }
  SECTION("a `~ when` line whose weights sum to zero") {
    auto t = load(std::string(kTax) + "    Extra | Extra\n      = a | b\n      ~ when age < 3: a @0 | b @0\n", "", d);
    REQUIRE_FALSE(t);
    CHECK(has(d, "zero-weights", 17));
  }
  SECTION("a leaf whose options all weigh zero") {
    auto t = load("A | A\n  B | B\n    = x @0 | y @0\n", "", d);
    REQUIRE_FALSE(t);
    CHECK(has(d, "zero-weights"));
  }
  SECTION("a `~ when` weight on an option the leaf does not have") {
    auto t = load(std::string(kTax) + "    Extra | Extra\n      = a | b\n      ~ when age < 3: c @1\n", "", d);
    REQUIRE_FALSE(t);
    CHECK(has(d, "unknown-option", 17));
  }
  SECTION("a negative weight") {
    auto t = load(kTax, "fact c | C\n  = x @-1 | y @1\n  absent draw\n", d);
    REQUIRE_FALSE(t);
    CHECK(has(d, "bad-weight", 2));
  }
}

TEST_CASE("a fact must say what absence means", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(kTax, "fact settlement | Where\n  = rural @1 | city @1\n", d);
  REQUIRE_FALSE(t);
  CHECK(has(d, "missing-absent", 1));
}

TEST_CASE("the taxonomy's own conditions may only read declared facts when rules exist", "[coherence][load]") {
  DiagnosticList d;
  auto t = load(std::string(kTax) + "    Extra | Extra\n      = a | b\n      ? childrn >= 1\n", kFacts, d);
  REQUIRE_FALSE(t);
  CHECK(has(d, "unknown-fact", 17));
}

TEST_CASE("malformed rules lines are errors with their line, never a crash", "[coherence][load]") {
  const char* bad[] = {
      "fact | no name\n  absent skip\n",
      "fact x | X\n  absent maybe\n",
      "fact x | X\n  derive soon\n  absent skip\n",
      "leaf\n",
      "leaf **/Number of Children\n  none children = 0\n",
      "leaf **/Number of Children\n  none: children = = 0\n",
      "something else\n",
      "fact x | X\n    = a | b\n  absent skip\n",
      "fact x | X\n\t= a\n",
      "fact x | X\n  = a @1 | a @2\n  absent draw\n",
      "fact x | X\n  ~ when age < 3: a @1\n  absent draw\n",
      "fact x | X\n  = a | b\n  ~ table\n  absent draw\n",
      "\xff\xfe",
  };
  for (const char* text : bad) {
    DiagnosticList d;
    auto t = load(kTax, rules(text), d);
    INFO(text);
    CHECK_FALSE(t);
    CHECK(d.has_errors());
    for (const auto& x : d.all())
      if (x.severity == Severity::error) CHECK(x.where.file == "test.rules");
  }
}

TEST_CASE("twins.toml gives the leaves of a class one meaning id", "[coherence][load][twins]") {
  DiagnosticList d;
  auto t = load(kTax, "", d);
  REQUIRE(t);
  const auto a = *t->find("Family/Habits/Punctuality Habit");
  const auto b = *t->find("Family/Habits/Everyday Punctuality");
  CHECK(t->meaning_id(a) != t->meaning_id(b));
  const bool ok =
      tax::load_twins(*t,
                      "classes = [\n"
                      "  { reason = \"both are punctuality\", leaves = [\"Family/Habits/Punctuality Habit\", "
                      "\"Family/Habits/Everyday Punctuality\"] },\n"
                      "]\n",
                      "twins.toml", d);
  INFO(dump(d));
  REQUIRE(ok);
  CHECK(t->meaning_id(a) == t->meaning_id(b));
  CHECK(t->meaning_id(a) != t->meaning_id(*t->find("Family/Children/Number of Children")));
  CHECK(t->twins().classes.size() == 1);
}

TEST_CASE("twins.toml naming a missing leaf or a merged path that came back is an error with its line",
          "[coherence][load][twins]") {
  DiagnosticList d;
  auto t = load(kTax, "", d);
  REQUIRE(t);
  CHECK_FALSE(tax::load_twins(*t,
                              "classes = [\n  { reason = \"x\", leaves = [\"Family/Habits/Nope\", "
                              "\"Family/Habits/Punctuality Habit\"] },\n]\n",
                              "twins.toml", d));
  CHECK(has(d, "unknown-leaf", 2));
  d.clear();
  CHECK_FALSE(tax::load_twins(*t,
                              "merged = [\n  { from = \"Family/Habits/Everyday Punctuality\", into = "
                              "\"Family/Habits/Punctuality Habit\", reason = \"same\" },\n]\n",
                              "twins.toml", d));
  CHECK(has(d, "twins-merged-back", 2));
  d.clear();
  CHECK_FALSE(tax::load_twins(*t, "classes = [ [1, 2] ]\n", "twins.toml", d));
  CHECK(d.has_errors());
  d.clear();
  CHECK_FALSE(tax::load_twins(*t, "classes = [\n", "twins.toml", d));
  CHECK(has(d, "twins-syntax"));
}

TEST_CASE("a table line naming a table that is not loaded, or labels that are not options, fails to compile",
          "[coherence][load][tables]") {
  DiagnosticList d;
  auto t =
      make(std::string(kTax) + "    Faith | Faith\n      = christian | muslim\n      ~ table religion by country\n",
           rules("fact country | Country\n  absent skip\n"));
  tables::Library lib;
  CHECK(coherence::Rules::compile(*t, lib, d) == nullptr);
  CHECK(has(d, "unknown-table", 17));
  d.clear();
  auto tbl =
      tables::parse_toml("value = \"category\"\nby = [\"country\"]\n[weights.Kenya]\nchristian = 85\nhindu = 1\n",
                         "religion.toml", "", "religion", false, d);
  REQUIRE(tbl);
  lib.add(std::move(*tbl));
  CHECK(coherence::Rules::compile(*t, lib, d) == nullptr);
  CHECK(has(d, "table-label", 17));
}
