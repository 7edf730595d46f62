#include <catch2/catch.hpp>

#include "cond/condition.hpp"

using namespace persona;

namespace {
cond::Condition parse_ok(std::string_view text) {
  DiagnosticList d;
  auto c = cond::parse(text, SourceRange{"c", 1, 1, 0}, d);
  REQUIRE(c);
  return *c;
}
}  // namespace

TEST_CASE("conditions evaluate against facts") {
  cond::Facts f{{"age", 34.0}, {"employment", std::string("employed")}, {"gender", std::string("female")}};
  CHECK(cond::evaluate(parse_ok("age >= 16"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("age < 16"), f));
  CHECK(cond::evaluate(parse_ok("employment in (employed, unemployed)"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("employment not in (employed, unemployed)"), f));
  CHECK(cond::evaluate(parse_ok("gender = female and (age > 60 or age < 40)"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("not gender = female"), f));
  CHECK(cond::evaluate(parse_ok("gender != male"), f));
  CHECK(cond::evaluate(parse_ok("country = \"Kenya\""), f));  // unknown fact: satisfied
}

TEST_CASE("conditions print canonically and round-trip") {
  for (const char* text : {"age >= 16", "employment in (employed, unemployed)", "not gender = female",
                           "a = 1 and (b = 2 or c = 3)", "a = 1 or b = 2 and c = 3", "x = \"two words\""}) {
    auto c = parse_ok(text);
    const std::string printed = cond::to_string(c);
    CHECK(printed == text);
    CHECK(cond::to_string(parse_ok(printed)) == printed);
  }
}

TEST_CASE("a bad condition is reported with its position") {
  DiagnosticList d;
  CHECK_FALSE(cond::parse("age >> 3", SourceRange{"x.tax", 7, 9, 0}, d));
  REQUIRE(d.error_count() == 1);
  CHECK(d.all()[0].where.file == "x.tax");
  CHECK(d.all()[0].where.line == 7);
  CHECK(d.all()[0].where.column == 14);
  DiagnosticList d2;
  CHECK_FALSE(cond::parse("age >= 3 extra", SourceRange{"x.tax", 1, 1, 0}, d2));
  CHECK(d2.all().at(0).message == "unexpected text after the condition");
}

TEST_CASE("collect_vars lists every variable") {
  std::vector<std::string> vars;
  cond::collect_vars(parse_ok("a = 1 and (b = 2 or not c = 3)"), vars);
  CHECK(vars == std::vector<std::string>{"a", "b", "c"});
}
