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
  CHECK_FALSE(cond::evaluate(parse_ok("country = \"Kenya\""), f));  // absent fact: unknown, counts as false
}

TEST_CASE("a comparison on an absent fact is unknown, and an unknown condition is false") {
  const cond::Facts f{{"age", 15.0}};  // no employment
  CHECK_FALSE(cond::evaluate(parse_ok("employment = retired"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("employment != retired"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("not employment = retired"), f));  // not unknown = unknown
  CHECK_FALSE(cond::evaluate(parse_ok("employment not in (retired)"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("age >= 16 and not employment = student"), f));
  CHECK_FALSE(cond::evaluate(parse_ok("age < 16 and employment = student"), f));  // true and unknown
  CHECK(cond::evaluate(parse_ok("age < 16 or employment = student"), f));         // true or unknown
  CHECK_FALSE(cond::evaluate(parse_ok("age > 16 or employment = student"), f));   // false or unknown
}

TEST_CASE("`has` and `fact?` say what an absent fact means") {
  const cond::Facts none{{"age", 15.0}};
  const cond::Facts student{{"age", 15.0}, {"employment", std::string("student")}};
  CHECK_FALSE(cond::evaluate(parse_ok("has employment"), none));
  CHECK(cond::evaluate(parse_ok("has employment"), student));
  CHECK(cond::evaluate(parse_ok("not has employment"), none));
  CHECK(cond::evaluate(parse_ok("employment? = retired"), none));  // absent: holds
  CHECK_FALSE(cond::evaluate(parse_ok("employment? = retired"), student));
  CHECK(cond::evaluate(parse_ok("employment? in (student, retired)"), student));
  CHECK(cond::evaluate(parse_ok("has employment and employment = student"), student));
  CHECK_FALSE(cond::evaluate(parse_ok("has employment and employment = student"), none));
  CHECK(cond::evaluate(parse_ok("not has employment or employment = student"), none));
}

TEST_CASE("conditions print canonically and round-trip") {
  for (const char* text :
       {"age >= 16", "employment in (employed, unemployed)", "not gender = female", "a = 1 and (b = 2 or c = 3)",
        "a = 1 or b = 2 and c = 3", "x = \"two words\"", "has employment and employment = student",
        "employment? in (student, retired)", "not has x or x? != 3"}) {
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

TEST_CASE("10,000 parentheses or 50,000 'not' are a positioned \"nested too deeply\" error, not a crash") {
  for (const std::string& text : {std::string(10000, '(') + "age > 1" + std::string(10000, ')'), [] {
                                    std::string s;
                                    for (int i = 0; i < 50000; ++i) s += "not ";
                                    return s + "age > 1";
                                  }()}) {
    DiagnosticList d;
    CHECK_FALSE(cond::parse(text, SourceRange{"x.tax", 3, 5, 0}, d));
    REQUIRE(d.error_count() == 1);
    CHECK(d.all()[0].message.find("nested too deeply") == 0);
    CHECK(d.all()[0].where.line == 3);
    // The 101st level: after 100 '(' (1 byte each) or 100 "not " (4 bytes each) from column 5.
    CHECK(d.all()[0].where.column == (text[0] == '(' ? 5u + 100u : 5u + 400u));
  }
  // 100 levels are fine.
  DiagnosticList ok;
  CHECK(cond::parse(std::string(100, '(') + "age > 1" + std::string(100, ')'), SourceRange{"x", 1, 1, 0}, ok));
}

TEST_CASE("collect_vars lists every variable") {
  std::vector<std::string> vars;
  cond::collect_vars(parse_ok("a = 1 and (b = 2 or not c = 3) and has d"), vars);
  CHECK(vars == std::vector<std::string>{"a", "b", "c", "d"});
}
