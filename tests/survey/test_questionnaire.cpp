// Questionnaire (TOML) and target (CSV) files: what they mean, and precise errors for bad ones.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "files.hpp"
#include "survey/survey.hpp"

using namespace persona;
using namespace persona::survey;
using Catch::Detail::Approx;

namespace {

const std::string kQ = R"([survey]
id = "t"
group_by = ["country"]
missing = { -1 = "don't know", -2 = "refused" }

[[item]]
id = "happy"
text = "How happy?"
labels = { 1 = "very", 2 = "rather", 3 = "not very", 4 = "not at all" }

[[item]]
id = "abortion"
text = "Justifiable?"
form = "scale"
scale = [1, 10]
labels = { 1 = "never", 10 = "always" }

[[item]]
id = "party"
text = "Which party?"
form = "options"
options = { 1 = "A", 2 = "B", 3 = "C" }
missing = { -9 = "no answer" }

[[item]]
id = "hours"
text = "Hours of TV a day?"
form = "numeric"
range = [0, 24]
bins = 6
)";

Questionnaire parse_ok(const std::string& text) {
  DiagnosticList d;
  auto q = parse_questionnaire(text, "q.toml", d);
  INFO((d.all().empty() ? std::string() : d.all().front().message));
  REQUIRE(q);
  REQUIRE_FALSE(d.has_errors());
  return *q;
}

// The first error of parsing `text`, as "LINE:COL: message".
std::string first_error(const std::string& text) {
  DiagnosticList d;
  auto q = parse_questionnaire(text, "q.toml", d);
  CHECK_FALSE(q);
  for (const auto& x : d.all())
    if (x.severity == Severity::error)
      return std::to_string(x.where.line) + ":" + std::to_string(x.where.column) + ": " + x.message;
  return "(no error)";
}

std::string first_target_error(const Questionnaire& q, const std::string& csv) {
  DiagnosticList d;
  auto t = parse_targets(csv, "t.csv", q, d);
  CHECK_FALSE(t);
  for (const auto& x : d.all())
    if (x.severity == Severity::error)
      return std::to_string(x.where.line) + ":" + std::to_string(x.where.column) + ": " + x.message;
  return "(no error)";
}

}  // namespace

TEST_CASE("a questionnaire declares scales, options, numeric items and missing codes") {
  const Questionnaire q = parse_ok(kQ);
  REQUIRE(q.items.size() == 4);
  CHECK(q.group_by == std::vector<std::string>{"country"});
  const Item& h = q.items[0];
  CHECK(h.form == Form::scale);
  CHECK(h.code_values() == std::vector<double>{1, 2, 3, 4});
  CHECK(h.codes[3].label == "not at all");
  CHECK(h.is_missing(-1));
  CHECK(h.is_missing(-2));
  CHECK_FALSE(h.is_code(-1));
  const Item& a = q.items[1];
  CHECK(a.codes.size() == 10);
  CHECK(a.range() == 9);
  CHECK(a.codes[0].label == "never");
  CHECK(a.codes[4].label.empty());
  const Item& p = q.items[2];
  CHECK(p.form == Form::options);
  CHECK_FALSE(p.ordered());
  CHECK(p.is_missing(-9));
  CHECK_FALSE(p.is_missing(-1));  // an item's own `missing` replaces the survey's
  const Item& n = q.items[3];
  CHECK(n.form == Form::numeric);
  CHECK(n.is_code(7.5));
  CHECK_FALSE(n.is_code(25));
  CHECK(n.bins == 6);
}

TEST_CASE("the example questionnaire loads") {
  DiagnosticList d;
  auto q = load_questionnaire(std::string(PERSONA_SOURCE_DIR) + "/examples/survey/questionnaire.toml", d);
  REQUIRE(q);
  CHECK(d.all().empty());
  CHECK(q->items.size() == 2);
  CHECK(q->items[0].block == "ghq");
}

TEST_CASE("questionnaire mistakes are errors at their line and column") {
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nform = \"slider\"\n") == "4:8: unknown form `slider`");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1, 5]\nlabels = { 7 = \"seven\" }\n") ==
        "5:10: label for code 7 is outside `scale` [1, 5]");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [5, 1]\n") ==
        "4:9: `scale`: the low end 5 must be below the high end 1");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nlabels = { one = \"1\", 2 = \"two\" }\n") ==
        "4:12: `labels`: `one` is not a whole-number answer code");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nform = \"numeric\"\n") ==
        "1:1: numeric item `x` needs `range = [low, high]`");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1, 4]\nmissing = { 2 = \"dk\" }\n") ==
        "5:11: missing code 2 of item `x` is also an answer");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1, 4]\n[[item]]\nid = \"x\"\ntext = \"u\"\n"
                    "scale = [1, 4]\n") == "6:6: item `x` is defined twice");
  CHECK(first_error("[survey]\nid = \"s\"\n") == "0:0: the questionnaire has no [[item]]");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1e17, 2e17]\n") ==
        "4:9: `scale` codes must lie within -1e9..1e9");
  CHECK(first_error("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1, 5000]\n") ==
        "4:9: `scale` has more than 1000 points: use form = \"numeric\"");
  // TOML syntax errors keep TOML++'s position.
  CHECK(first_error("[[item]\nid = \"x\"\n").rfind("1:", 0) == 0);
}

TEST_CASE("an unknown questionnaire key is a warning that suggests the right one") {
  DiagnosticList d;
  auto q =
      parse_questionnaire("[[item]]\nid = \"x\"\ntext = \"t\"\nscale = [1, 4]\nlabel = { 1 = \"a\" }\n", "q.toml", d);
  REQUIRE(q);
  REQUIRE(d.warning_count() == 1);
  CHECK(d.all()[0].where.line == 5);
  CHECK(d.all()[0].message == "unknown key `label` in an [[item]] (ignored)");
  REQUIRE(d.all()[0].notes.size() == 1);
  CHECK(d.all()[0].notes[0] == "did you mean `labels`?");
}

TEST_CASE("aggregated targets: counts become distributions, missing codes are set apart") {
  const Questionnaire q = parse_ok(kQ);
  DiagnosticList d;
  auto t = parse_targets(
      "# a comment\nitem,group,code,count\nhappy,Kenya,1,30\nhappy,Kenya,2,50\nhappy,Kenya,3,15\n"
      "happy,Kenya,4,5\nhappy,Kenya,-1,10\nhappy,India,1,1\n",
      "t.csv", q, d);
  REQUIRE(t);
  CHECK(d.all().empty());
  CHECK_FALSE(t->microdata);
  const TargetCell* k = t->find("happy", "Kenya");
  REQUIRE(k != nullptr);
  CHECK(k->dist.x == std::vector<double>{1, 2, 3, 4});
  CHECK(k->dist.total() == Approx(100));
  CHECK(k->missing_mass == Approx(10));
  CHECK(k->respondents == Approx(110));
  CHECK(k->where.line == 3);
  CHECK(t->find("happy", "India") != nullptr);
  CHECK(t->find("happy", "Chile") == nullptr);
}

TEST_CASE("shares that do not sum to one are normalised with a warning") {
  const Questionnaire q = parse_ok(kQ);
  DiagnosticList d;
  auto t = parse_targets("item,code,share\nparty,1,0.5\nparty,2,0.5\nparty,3,0.5\n", "t.csv", q, d);
  REQUIRE(t);
  REQUIRE(d.warning_count() == 1);
  CHECK(d.all()[0].message == "the shares of `party` (all) sum to 1.5, not 1: normalised");
  CHECK(d.all()[0].where.line == 2);
  const TargetCell* c = t->find("party", "all");
  REQUIRE(c != nullptr);
  CHECK(code_shares(c->dist, {1, 2, 3})[0] == Approx(1.0 / 3));
  // Rounded percentages within half a percent pass quietly.
  DiagnosticList d2;
  auto t2 = parse_targets("item,code,percent\nparty,1,33.3\nparty,2,33.3\nparty,3,33.3\n", "t.csv", q, d2);
  REQUIRE(t2);
  CHECK(d2.all().empty());
}

TEST_CASE("a weight column makes the target a weighted distribution") {
  const Questionnaire q = parse_ok(kQ);
  DiagnosticList d;
  auto t = parse_targets("item,code,count,weight\nhappy,1,10,30\nhappy,2,10,10\n", "t.csv", q, d);
  REQUIRE(t);
  const TargetCell* c = t->find("happy", "all");
  REQUIRE(c != nullptr);
  CHECK(c->weighted);
  CHECK(c->dist.w == std::vector<double>{30, 10});
  CHECK(c->respondents == Approx(20));
}

TEST_CASE("target mistakes are errors at their line and column") {
  const Questionnaire q = parse_ok(kQ);
  CHECK(first_target_error(q, "item,code,share\nhapy,1,0.5\n") == "2:1: no item `hapy` in the questionnaire q.toml");
  CHECK(first_target_error(q, "item,code,share\nhappy,7,0.5\n") == "2:7: code 7 is not an answer of item `happy`");
  CHECK(first_target_error(q, "item,code,share\nhappy,1,-0.5\n") == "2:9: the share `-0.5` must be a number >= 0");
  CHECK(first_target_error(q, "item,code,share\nhappy,1,0.5\nhappy,1,0.5\n") ==
        "3:7: code 1 of `happy` (all) is given twice");
  CHECK(first_target_error(q, "item,code\nhappy,1\n") ==
        "1:1: the header names no amount column: expected `share`, `percent`, `count` or `weight`");
  CHECK(first_target_error(q, "item,code,share\nhappy,1\n") == "2:1: row has 2 fields, the header 3");
  CHECK(first_target_error(q, "item,code,share\n\"happy,1,0.5\n") == "2:1: unterminated quoted field");
  CHECK(first_target_error(q, "respondent,happy\nr1,9\n") == "2:4: `9` is not an answer of item `happy`");
}

TEST_CASE("microdata targets: one row per respondent, weights, blanks not asked") {
  const Questionnaire q = parse_ok(kQ);
  DiagnosticList d;
  auto t = parse_targets(
      "respondent,group,weight,happy,party,extra\nr1,Kenya,2,1,2,x\nr2,Kenya,1,2,,y\nr3,Kenya,1,-1,3,z\n"
      "r4,Kenya,1,2,1,z\n",
      "t.csv", q, d);
  REQUIRE(t);
  CHECK(t->microdata);
  REQUIRE(d.warning_count() == 1);  // the unknown column
  CHECK(d.all()[0].message == "column `extra` is not an item of q.toml (ignored)");
  const TargetCell* h = t->find("happy", "Kenya");
  REQUIRE(h != nullptr);
  CHECK(h->weighted);
  CHECK(h->dist.x == std::vector<double>{1, 2});
  CHECK(h->dist.w == std::vector<double>{2, 2});
  CHECK(h->missing_mass == Approx(1));
  CHECK(h->first_values == std::vector<double>{1, 2, 2});  // file order, unweighted
  const TargetCell* p = t->find("party", "Kenya");
  REQUIRE(p != nullptr);
  CHECK(p->respondents == Approx(3));  // r2 was not asked
}

TEST_CASE("mutated questionnaire and target files are accepted or rejected with an error, never a crash") {
  const std::string q_text =
      persona::test::read_file(std::string(PERSONA_SOURCE_DIR) + "/examples/survey/questionnaire.toml");
  const std::string t_text =
      "item,group,code,count\nghq_happy,United Kingdom,1,3152\nghq_happy,United Kingdom,-1,31\n"
      "ghq_concentrate,United Kingdom,2,26407\n";
  REQUIRE(q_text.size() > 500);
  DiagnosticList d0;
  const auto q = parse_questionnaire(q_text, "q.toml", d0);
  REQUIRE(q);
  const std::string noise = "\"=[]{},#\n-9x. ";
  std::size_t rejected = 0, mutations = 0;
  for (std::size_t i = 0; i < q_text.size(); i += 3) {
    for (int kind = 0; kind < 3; ++kind) {
      std::string m = q_text;
      if (kind == 0) m.erase(i, 1);
      if (kind == 1) m[i] = noise[i % noise.size()];
      if (kind == 2) m.insert(i, 1, noise[(i / 3) % noise.size()]);
      DiagnosticList d;
      const auto got = parse_questionnaire(m, "q.toml", d);
      ++mutations;
      if (!got) {
        ++rejected;
        CHECK(d.has_errors());
      }
    }
  }
  CHECK(rejected > mutations / 10);
  for (std::size_t i = 0; i < t_text.size(); ++i) {
    for (int kind = 0; kind < 2; ++kind) {
      std::string m = t_text;
      if (kind == 0) m.erase(i, 1);
      if (kind == 1) m[i] = noise[i % noise.size()];
      DiagnosticList d;
      const auto got = parse_targets(m, "t.csv", *q, d);
      if (!got) CHECK(d.has_errors());
    }
  }
}
