// Meaning-level checks (issue 12): each reported way a recipe passed `persona check` and then
// produced wrong data with exit 0, as the smallest recipe that shows it, against the fake
// environment's tables and six-leaf taxonomy. The message, its position and its second place.
#include <catch2/catch.hpp>

#include "check/checker.hpp"
#include "fake_environment.hpp"

using namespace persona;

namespace {

struct Checked {
  std::optional<lang::Recipe> recipe;
  DiagnosticList diags;
  [[nodiscard]] std::size_t count(const std::string& code) const {
    std::size_t n = 0;
    for (const auto& d : diags.all()) n += d.code == code ? 1 : 0;
    return n;
  }
  [[nodiscard]] const Diagnostic& first(const std::string& code) const {
    for (const auto& d : diags.all())
      if (d.code == code) return d;
    FAIL("no diagnostic " << code);
    return diags.all().front();
  }
  [[nodiscard]] std::string all() const {
    std::string s;
    for (const auto& d : diags.all()) s += to_string(d.where) + " " + d.code + ": " + d.message + "\n";
    return s;
  }
};

// `text` follows a header line, so its first line is line 2 of t.persona.
Checked check(const std::string& text, lang::CheckOptions options = {}) {
  test::FakeEnvironment env(/*with_taxonomy=*/true);
  SourceFiles sources;
  Checked c;
  c.recipe = lang::check_text("recipe \"t\"\n" + text, "t.persona", sources, env, c.diags, options);
  return c;
}

// Anchors that give every fact the fake taxonomy reads (age, employment).
const std::string kFacts =
    "anchor age ~ uniform(20, 60) round\n"
    "anchor occupation ~ table stdlib.occupations by age\n";

}  // namespace

TEST_CASE("a fixed anchor that is no key of the tables drawn by it is an error with a suggestion") {
  auto c = check("anchor country = \"USA\"\nanchor age ~ table stdlib.age_structure by country\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  const auto& d = c.first("unknown-key");
  CHECK(to_string(d.where) == "t.persona:2:18");
  CHECK(d.where.length == 5);
  CHECK(d.message ==
        "'USA' is not a key of table 'stdlib.age_structure' (keyed by country): the '*' row would be used instead");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "did you mean \"United States\"?");
  REQUIRE(d.related.size() == 1);
  CHECK(to_string(d.related[0].where) == "t.persona:3:44");
  CHECK(d.related[0].message == "'age' is drawn by 'country' here");
}

TEST_CASE("a categorical label that is no key of a table without a '*' row is an error: nothing can be drawn") {
  auto c = check("anchor country ~ { Kenya: 0.5, Ghana: 0.5 }\nanchor city ~ table stdlib.cities by country\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  const auto& d = c.first("unknown-key");
  CHECK(to_string(d.where) == "t.persona:2:32");  // the label, not the categorical
  CHECK(d.message == "'Ghana' is not a key of table 'stdlib.cities' (keyed by country): nothing can be drawn for it");
  CHECK(c.count("unknown-key") == 1);  // Kenya is a key
}

TEST_CASE("a label that only some tables lack, falling back to their '*' row, is a warning") {
  // stdlib.given_names is keyed by Kenya only (and '*'); stdlib.age_structure knows India.
  auto c = check(
      "anchor country = \"India\"\nanchor gender ~ { female: 0.5, male: 0.5 }\n"
      "anchor age ~ table stdlib.age_structure by country\n"
      "anchor name ~ table stdlib.given_names by country, gender\n");
  INFO(c.all());
  CHECK(c.recipe);
  const auto& d = c.first("key-fallback");
  CHECK(d.severity == Severity::warning);
  CHECK(d.message == "'India' is not a key of table 'stdlib.given_names' (keyed by country): its '*' row is used");
}

TEST_CASE("a number selects the range key holding it - one in no range is an error") {
  CHECK(check("anchor age = 34\nanchor occupation ~ table stdlib.occupations by age\n").recipe);
  auto c = check("anchor age = -3\nanchor occupation ~ table stdlib.occupations by age\n");
  CHECK(c.first("unknown-key").message ==
        "-3 is not a key of table 'stdlib.occupations' (keyed by age): nothing can be drawn for it");
}

TEST_CASE("`by` must name the table's keys, in its order") {
  auto renamed = check(
      "anchor country = \"Kenya\"\nanchor sex ~ { female: 0.5, male: 0.5 }\n"
      "anchor name ~ table stdlib.given_names by country, sex\n");
  const auto& d = renamed.first("table-by");
  CHECK(to_string(d.where) == "t.persona:4:52");
  CHECK(d.message ==
        "table 'stdlib.given_names' is keyed on country, gender, not on 'sex'; write 'by country, gender'");
  auto swapped = check(
      "anchor country = \"Kenya\"\nanchor gender ~ { female: 0.5, male: 0.5 }\n"
      "anchor name ~ table stdlib.given_names by gender, country\n");
  CHECK(swapped.first("table-by").message ==
        "table 'stdlib.given_names' is keyed on country, gender, in this order; write 'by country, gender'");
  auto short_by = check("anchor country = \"Kenya\"\nanchor name ~ table stdlib.given_names by country\n");
  CHECK(short_by.first("table-by").message ==
        "table 'stdlib.given_names' is conditioned on 2 fact(s) (country, gender); write 'by country, gender'");
}

TEST_CASE("an include glob that matches no attribute is an error with a suggestion") {
  auto c = check(kFacts + "attributes {\n  include \"Carreer and Work Identity/**\"\n}\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  const auto& d = c.first("glob-no-match");
  CHECK(to_string(d.where) == "t.persona:5:11");
  CHECK(d.message == "\"Carreer and Work Identity/**\" matches no attribute of the taxonomy stdlib.core");
  CHECK(d.notes.at(0) == "did you mean \"Career and Work Identity/**\"?");
}

TEST_CASE("an exclude written before `include *` is undone by it: a warning naming both") {
  auto c = check(kFacts + "attributes {\n  exclude \"Career and Work Identity/**\" when age < 17\n  include *\n}\n");
  INFO(c.all());
  CHECK(c.recipe);
  const auto& d = c.first("shadowed-filter");
  CHECK(d.severity == Severity::warning);
  CHECK(to_string(d.where) == "t.persona:5:3");
  CHECK(d.message ==
        "'exclude \"Career and Work Identity/**\"' is undone by the later 'include *' (line 6): the last matching "
        "filter wins");
  REQUIRE(d.related.size() == 1);
  CHECK(to_string(d.related[0].where) == "t.persona:6:3");
  // Written after it, the exclude is not shadowed; a later filter with its own `when` shadows nothing.
  CHECK(check(kFacts + "attributes {\n  include *\n  exclude \"Career and Work Identity/**\" when age < 17\n}\n")
            .count("shadowed-filter") == 0);
  CHECK(check(kFacts + "attributes {\n  exclude \"Career and Work Identity/**\"\n  include * when age > 30\n}\n")
            .count("shadowed-filter") == 0);
}

TEST_CASE("an include that a later include covers is a redundant-filter warning") {
  auto c = check(kFacts + "attributes {\n  include \"Lifestyle and Daily Routine/**\"\n  include *\n}\n");
  CHECK(c.first("redundant-filter").message ==
        "'include \"Lifestyle and Daily Routine/**\"' has no effect: the later 'include *' (line 6) matches every "
        "attribute it does");
}

TEST_CASE("a fixed occupation loses the derived employment: an error at a `when` that reads it, and at the anchor") {
  auto c = check(
      "anchor age ~ uniform(14, 16) round\nanchor occupation = \"Student\"\n"
      "attributes {\n  exclude \"Career and Work Identity/**\" when employment in (student, retired)\n}\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  REQUIRE(c.count("missing-fact") == 2);
  const Diagnostic* at_when = nullptr;
  const Diagnostic* at_anchor = nullptr;
  for (const auto& d : c.diags.all()) {
    if (d.code != "missing-fact") continue;
    (d.where.line == 5 ? at_when : at_anchor) = &d;
  }
  REQUIRE(at_when);
  REQUIRE(at_anchor);
  CHECK(to_string(at_when->where) == "t.persona:5:46");
  CHECK(at_when->message ==
        "no persona has 'employment': anchor 'occupation' is fixed, so no table derives "
        "'employment' from it");
  CHECK(to_string(at_when->related.at(0).where) == "t.persona:3:1");
  // The taxonomy's conditions read employment too (3 of the fake's leaves).
  CHECK(to_string(at_anchor->where) == "t.persona:3:1");
  CHECK(at_anchor->message.find("the taxonomy's conditions read it (3 attributes, e.g. 'employment = employed')") !=
        std::string::npos);
  CHECK(to_string(at_anchor->related.at(0).where) == "core.tax:4:7");
  // Declaring the fact is the fix.
  CHECK(check("anchor age ~ uniform(14, 16) round\nanchor occupation = \"Student\"\nanchor employment = \"student\"\n")
            .recipe);
}

TEST_CASE("a recipe without a fact the taxonomy reads gets one warning naming the facts") {
  auto c = check("anchor country = \"Kenya\"\n");
  CHECK(c.recipe);
  REQUIRE(c.count("missing-fact") == 1);
  const auto& d = c.first("missing-fact");
  CHECK(d.severity == Severity::warning);
  CHECK(d.message ==
        "no anchor gives 'employment' or 'age', which the taxonomy's conditions read: the attributes "
        "that need them are never selected (employment: 3 and age: 2)");
  CHECK(check(kFacts).count("missing-fact") == 0);
}

TEST_CASE("a `when` on a fact the taxonomy derivation implies names the table that derives it") {
  auto c = check("anchor age = 30\nattributes {\n  exclude \"X/**\" when employment = student\n}\n");
  const auto& d = c.first("undefined-name");
  CHECK(d.message == "undefined anchor or fact 'employment'");
  CHECK(d.notes.at(0) ==
        "'employment' is derived by table 'stdlib.occupations': add 'anchor occupation ~ table "
        "stdlib.occupations by age', or declare 'anchor employment = ...'");
}

TEST_CASE("a condition value the fact never takes: a typo is an error, another value a warning") {
  auto typo = check(kFacts + "attributes {\n  exclude \"Career and Work Identity/**\" when employment = studnet\n}\n");
  CHECK(typo.first("unknown-value").message == "'studnet' is not a value of 'employment'");
  CHECK(typo.first("unknown-value").notes.at(0) == "did you mean 'student'?");
  auto never =
      check(kFacts + "attributes {\n  exclude \"Career and Work Identity/**\" when employment = homemaker\n}\n");
  CHECK(never.recipe);
  CHECK(never.first("impossible-value").severity == Severity::warning);
}

TEST_CASE("absent facts: `has` and `fact?` are checked like comparisons, and guard what follows") {
  const std::string career = "attributes {\n  exclude \"Career and Work Identity/**\" when ";
  CHECK(check(kFacts + career + "has employment and employment = student\n}\n").recipe);
  CHECK(check(kFacts + career + "employment? in (student, retired)\n}\n").recipe);
  CHECK(check(kFacts + career + "not has employment or employment = student\n}\n").recipe);
  auto c = check(kFacts + "attributes {\n  exclude \"X/**\" when has employmnt\n}\n");
  CHECK(c.first("undefined-name").notes.at(0) == "did you mean 'employment'?");
}

TEST_CASE("warnings: --no-warn drops one, --Werror makes the rest errors, a comment allows one in its file") {
  const std::string text = kFacts + "attributes {\n  include \"Lifestyle and Daily Routine/**\"\n  include *\n}\n";
  lang::CheckOptions off;
  off.no_warn = {"redundant-filter"};
  auto quiet = check(text, off);
  CHECK(quiet.recipe);
  CHECK(quiet.diags.all().empty());
  lang::CheckOptions strict;
  strict.warnings_as_errors = true;
  auto failed = check(text, strict);
  CHECK_FALSE(failed.recipe);
  CHECK(failed.first("redundant-filter").severity == Severity::error);
  CHECK(failed.first("redundant-filter").notes.back() == "warning 'redundant-filter' is an error with --Werror");
  auto allowed = check("# persona: allow redundant-filter\n" + text, strict);
  CHECK(allowed.recipe);
  CHECK(allowed.diags.all().empty());
  auto typo = check("# persona: allow redundant-filtre\n" + text);
  const auto& d = typo.first("unknown-warning");
  CHECK(d.message == "unknown warning 'redundant-filtre'");
  CHECK(to_string(d.where) == "t.persona:2:18");
  CHECK(d.notes.at(0) == "did you mean 'redundant-filter'?");
}

TEST_CASE("every output setting the docs list is accepted, and checked") {
  auto ok = check(
      "output {\n  path \"o.csv\"\n  count 10\n  format csv\n  narrative off\n  core on\n  usage on\n  prompts "
      "off\n}\n");
  INFO(ok.all());
  CHECK(ok.recipe);
  CHECK(std::get<double>(ok.recipe->output.at("count")) == 10);
  auto bad = check("output {\n  count 2.5\n  format xml\n  usage true\n}\n");
  CHECK(bad.first("bad-count").message == "output count is a whole number of personas, at least 1");
  CHECK(bad.first("unknown-keyword").message == "output format is jsonl, csv or csv-wide");
  CHECK(bad.first("type-error").message == "output setting 'usage' is on or off");
}

TEST_CASE("numeric labels: a categorical of numbers is numeric and its choices carry the numbers") {
  auto c = check("anchor household ~ { 1: 0.3, 2: 0.5, \"3\": 0.2 }\n");
  REQUIRE(c.recipe);
  const auto& a = c.recipe->anchors.at(0);
  CHECK(a.type == lang::ValueType::number);
  CHECK(a.source.choices.at(1).number == 2.0);
  CHECK(a.source.choices.at(2).number == 3.0);
  auto mixed = check("anchor household ~ { 1: 0.5, \"5+\": 0.5 }\n");
  REQUIRE(mixed.recipe);
  CHECK(mixed.recipe->anchors.at(0).type == lang::ValueType::text);
  CHECK_FALSE(mixed.recipe->anchors.at(0).source.choices.at(0).number);
}

TEST_CASE("always globs become the panel of the checked recipe, in order") {
  auto c = check(kFacts +
                 "attributes {\n  count 3..4\n  always \"Lifestyle and Daily Routine/**\"\n"
                 "  always \"Career and Work Identity/Job/Title\"\n}\n");
  INFO(c.all());
  REQUIRE(c.recipe);
  CHECK(c.recipe->attributes.panels ==
        std::vector<std::string>{"Lifestyle and Daily Routine/**", "Career and Work Identity/Job/Title"});
}

TEST_CASE("an always glob that matches no attribute is an error with a suggestion") {
  auto c = check(kFacts + "attributes {\n  always \"Lifestyle and Daly Routine/**\"\n}\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  const auto& d = c.first("glob-no-match");
  CHECK(to_string(d.where) == "t.persona:5:10");
  CHECK(d.message.find("\"Lifestyle and Daly Routine/**\" matches no attribute of the taxonomy stdlib.core") == 0);
  CHECK(d.notes.at(0) == "did you mean \"Lifestyle and Daily Routine/**\"?");
}

TEST_CASE("a panel larger than count's upper bound is a positioned error that says how many attributes it has") {
  auto c = check(kFacts +
                 "attributes {\n  count 1..2\n  always \"Lifestyle and Daily Routine/**\"\n"
                 "  always \"Career and Work Identity/Job/*\"\n}\n");
  INFO(c.all());
  CHECK_FALSE(c.recipe);
  REQUIRE(c.count("panel-too-large") == 1);
  const auto& d = c.first("panel-too-large");
  CHECK(to_string(d.where) == "t.persona:7:3");  // the line that makes it too large
  CHECK(d.message == "the panel has 4 attributes (with this 'always' line), more than count's upper bound 2");
  CHECK(d.notes.at(1) == "raise count (line 5) to at least 4, or narrow the panel");
  // Within the bound, and with the default count (200..250), no error.
  CHECK(check(kFacts + "attributes {\n  count 1..4\n  always \"Lifestyle and Daily Routine/**\"\n"
                       "  always \"Career and Work Identity/Job/*\"\n}\n")
            .recipe);
  CHECK(check(kFacts + "attributes {\n  always \"**\"\n}\n").recipe);
}
