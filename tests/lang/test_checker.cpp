#include <catch2/catch.hpp>

#include "check/checker.hpp"
#include "fake_environment.hpp"

using namespace persona;

namespace {

struct Checked {
  std::optional<lang::Recipe> recipe;
  DiagnosticList diags;
  [[nodiscard]] bool has(const std::string& code) const {
    for (const auto& d : diags.all())
      if (d.code == code) return true;
    return false;
  }
  [[nodiscard]] const Diagnostic& first(const std::string& code) const {
    for (const auto& d : diags.all())
      if (d.code == code) return d;
    FAIL("no diagnostic " << code);
    return diags.all().front();
  }
};

Checked check(const std::string& text) {
  test::FakeEnvironment env;
  SourceFiles sources;
  Checked c;
  c.recipe = lang::check_text("recipe \"t\"\n" + text, "t.persona", sources, env, c.diags);
  return c;
}

}  // namespace

TEST_CASE("a good recipe checks, with defaults applied and anchors ordered by dependency") {
  auto c = check(
      "anchor age ~ table stdlib.age_structure by country clamp 18..90\n"
      "anchor country ~ table stdlib.countries\n"
      "anchor occupation ~ table stdlib.occupations by age\n"
      "story {\n  b <- llm \"b\" from a\n  a <- llm \"a\" from age, employment\n}\n");
  INFO((c.diags.all().empty() ? std::string() : c.diags.all().front().message));
  REQUIRE(c.recipe);
  const auto& r = *c.recipe;
  REQUIRE(r.anchors.size() == 3);
  CHECK(r.anchors[0].name == "country");
  CHECK(r.anchors[1].name == "age");
  CHECK(r.anchors[1].type == lang::ValueType::number);
  CHECK(r.anchors[1].source.bound.kind == lang::Bound::Kind::clamp);
  REQUIRE(r.story.size() == 2);
  CHECK(r.story[0].output == "a");  // b reads a
  CHECK(r.attributes.min_count == 200);
  CHECK(r.attributes.max_count == 250);
  CHECK(r.attributes.near == 5);
  CHECK(r.narrative.voice == "first-person");
  CHECK(r.taxonomy == "stdlib.core");
}

TEST_CASE("undefined names get a suggestion") {
  auto c = check("anchor country ~ table stdlib.countrys\nanchor age ~ table stdlib.age_structure by contry\n");
  CHECK_FALSE(c.recipe);
  const auto& d = c.first("undefined-name");
  CHECK(d.message == "undefined table 'stdlib.countrys'");
  REQUIRE(d.notes.size() == 1);
  CHECK(d.notes[0] == "did you mean 'stdlib.countries'?");
  CHECK(c.diags.error_count() == 2);
}

TEST_CASE("duplicate names point at the first definition") {
  auto c = check("anchor a = 1\nanchor a = 2\n");
  const auto& d = c.first("duplicate-name");
  CHECK(d.where.line == 3);
  REQUIRE(d.related.size() == 1);
  CHECK(to_string(d.related.at(0).where) == "t.persona:2:8");
  CHECK(d.related.at(0).message == "first defined here");
}

TEST_CASE("dependency cycles are printed") {
  auto c = check("story {\n  a <- llm \"a\" from b\n  b <- llm \"b\" from c\n  c <- llm \"c\" from a\n}\n");
  const auto& d = c.first("dependency-cycle");
  CHECK(d.message.find("a -> b -> c -> a") != std::string::npos);
}

TEST_CASE("a clamp on a categorical anchor is a type error") {
  auto c = check("anchor g ~ { f: 0.5, m: 0.5 } clamp 1..2\n");
  CHECK(c.first("type-error").message == "clamp needs a numeric anchor, but 'g' is categorical");
}

TEST_CASE("probabilities: negative and all-zero are errors - not summing to 1 is a warning") {
  CHECK(check("anchor g ~ { f: -0.5, m: 1.5 }\n").has("negative-probability"));
  CHECK(check("anchor g ~ { f: 0, m: 0 }\n").has("zero-probabilities"));
  auto w = check("anchor g ~ { f: 2, m: 1 }\n");
  CHECK(w.recipe);
  CHECK(w.has("weights-not-normalised"));
  CHECK(w.diags.error_count() == 0);
}

TEST_CASE("weights and distribution parameters that are not finite are positioned errors") {
  // 1e400 reads as infinity; two weights of 1e308 sum to infinity.
  const auto inf = check("anchor g ~ { f: 1e400, m: 1 }\n");
  REQUIRE(inf.has("bad-weight"));
  CHECK(inf.first("bad-weight").where.line == 2);
  CHECK(inf.first("bad-weight").where.column == 17);
  CHECK(inf.first("bad-weight").message.find("not a finite number") != std::string::npos);
  const auto sum = check("anchor g ~ { f: 1e308, m: 1e308 }\n");
  REQUIRE(sum.has("bad-weight"));
  CHECK(sum.first("bad-weight").message.find("sum") != std::string::npos);
  CHECK(check("attributes {\n  tiers near 1e308, mid 1e308, far 1\n}\n").has("bad-weight"));
  const auto logn = check("anchor income ~ lognormal(1000, 1)\n");
  REQUIRE(logn.has("bad-parameter"));
  CHECK(logn.first("bad-parameter").where.line == 2);
  CHECK(logn.first("bad-parameter").message.find("overflows") != std::string::npos);
  CHECK(check("anchor a ~ uniform(-1e308, 1e308)\n").has("bad-parameter"));
  CHECK(check("anchor a ~ normal(1e400, 1)\n").has("bad-parameter"));
  // Large but finite: fine.
  CHECK(check("anchor income ~ lognormal(10, 1)\n").diags.error_count() == 0);
}

TEST_CASE("empty and inverted ranges") {
  CHECK(check("attributes {\n  count 250..200\n}\n").has("inverted-range"));
  CHECK(check("anchor a ~ uniform(5, 1)\n").has("inverted-range"));
  CHECK(check("anchor a ~ normal(5, 0)\n").has("bad-parameter"));
  CHECK(check("story {\n  a <- llm \"a\" x 3..1\n}\n").has("inverted-range"));
  CHECK(check("narrative first-person 400..150 words\n").has("inverted-range"));
}

TEST_CASE("unknown keywords in settings get a suggestion") {
  auto c = check("attributes {\n  walk random-bsf\n}\nnarrative frist-person\n");
  CHECK(c.diags.error_count() == 2);
  CHECK(c.first("unknown-keyword").notes.at(0) == "did you mean 'random-bfs'?");
}

TEST_CASE("table draws must give the table's conditioning facts") {
  auto c = check("anchor country = \"Kenya\"\nanchor city ~ table stdlib.cities\n");
  CHECK(c.first("table-by").message ==
        "table 'stdlib.cities' is conditioned on 1 fact(s) (country); write 'by country'");
}

TEST_CASE("when clauses may use derived facts and must name known ones") {
  auto ok = check(
      "anchor age = 30\nanchor occupation ~ table stdlib.occupations by age\n"
      "attributes {\n  exclude \"X/**\" when employment = student\n}\n");
  CHECK(ok.recipe);
  auto bad = check("attributes {\n  exclude \"X/**\" when agee < 3\n}\n");
  CHECK(bad.has("undefined-name"));
}

TEST_CASE("every error is collected in one run") {
  auto c = check(
      "anchor a ~ { x: -1 }\nanchor b ~ table nope\nanchor c ~ gauss(1, 2)\n"
      "attributes {\n  count 0..3\n  batch 0\n}\n");
  CHECK(c.diags.error_count() >= 5);
}

TEST_CASE("a story step's tones reach the recipe in order - a tone listed twice is an error at the second") {
  auto c = check(
      "anchor age ~ uniform(20, 60)\nstory {\n  v <- llm \"v\" x 2 from age tone random(positive, negative, "
      "neutral)\n  w <- llm \"w\" from v tone dry\n}\n");
  REQUIRE(c.recipe);
  REQUIRE(c.recipe->story.size() == 2);
  CHECK(c.recipe->story[0].tones == std::vector<std::string>{"positive", "negative", "neutral"});
  CHECK(c.recipe->story[1].tones == std::vector<std::string>{"dry"});
  auto twice = check("anchor age ~ uniform(20, 60)\nstory {\n  v <- llm \"v\" tone random(sad, glad, sad)\n}\n");
  const auto& d = twice.first("duplicate-name");
  CHECK(d.message == "tone 'sad' is listed twice");
  CHECK(d.where.line == 4);  // check() puts a `recipe` line first
  CHECK(d.where.column == 39);
}
