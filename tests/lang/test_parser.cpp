#include <catch2/catch.hpp>

#include "syntax/parser.hpp"

using namespace persona;

namespace {
ast::Recipe parse_ok(std::string_view text) {
  DiagnosticList d;
  auto r = lang::parse_recipe(text, "t.persona", d);
  INFO((d.all().empty() ? std::string() : d.all().front().message));
  REQUIRE(r.recipe);
  return *r.recipe;
}

Diagnostic parse_fail(std::string_view text) {
  DiagnosticList d;
  auto r = lang::parse_recipe(text, "t.persona", d);
  REQUIRE_FALSE(r.recipe);
  REQUIRE(d.error_count() >= 1);
  return d.all().front();
}
}  // namespace

TEST_CASE("header, taxonomy and seed") {
  auto r = parse_ok("recipe \"kenya\" version \"1.2\"\ntaxonomy stdlib.core\nseed 42\n");
  CHECK(r.name->value == "kenya");
  CHECK(r.version->value == "1.2");
  CHECK(r.taxonomy_name->text == "stdlib.core");
  CHECK(r.seed->value == 42);
  CHECK(r.header->where.line == 1);
  CHECK(r.seed->where.line == 3);
}

TEST_CASE("anchors of every form carry positions") {
  auto r = parse_ok(
      "anchor country = \"Kenya\"\n"
      "anchor n = 3\n"
      "anchor gender ~ { female: 0.5, \"non binary\": 0.1, male: 0.4, }\n"
      "anchor age ~ table stdlib.age_structure by country clamp 18..90\n"
      "anchor h ~ normal(170, 10) truncate 140.. round\n"
      "anchor x ~ mydist\n");
  REQUIRE(r.anchors.size() == 6);
  CHECK(r.anchors[0].fixed_text->value == "Kenya");
  CHECK(r.anchors[1].fixed_number->value == 3);
  const auto& cat = std::get<ast::Categorical>(r.anchors[2].draw->form);
  REQUIRE(cat.choices.size() == 3);
  CHECK(cat.choices[1].label == "non binary");
  CHECK(cat.choices[1].quoted);
  CHECK(cat.choices[2].weight.value == Approx(0.4));
  const auto& tab = std::get<ast::TableDraw>(r.anchors[3].draw->form);
  CHECK(tab.table.text == "stdlib.age_structure");
  REQUIRE(tab.by.size() == 1);
  CHECK(tab.by[0].where.line == 4);
  CHECK(tab.by[0].where.column == 44);
  CHECK(r.anchors[3].draw->bound == ast::Distribution::Bound::clamp);
  CHECK(r.anchors[3].draw->bound_range.hi->value == 90);
  const auto& num = std::get<ast::Numeric>(r.anchors[4].draw->form);
  CHECK(num.family.text == "normal");
  CHECK(num.args.size() == 2);
  CHECK(r.anchors[4].draw->bound == ast::Distribution::Bound::truncate);
  CHECK_FALSE(r.anchors[4].draw->bound_range.hi);
  CHECK(r.anchors[4].draw->round);
  CHECK(std::get<ast::DistRef>(r.anchors[5].draw->form).name.text == "mydist");
}

TEST_CASE("story steps with shapes, inputs and prompts") {
  auto r = parse_ok(
      "story {\n"
      "  values <- llm \"core values\" x 3..5 from age, gender\n"
      "  card <- llm \"card\" as { motto, score: number } from values prompt \"Write {values}\"\n"
      "  v <- llm \"one\"\n"
      "}\n");
  REQUIRE(r.story->steps.size() == 3);
  const auto& s0 = r.story->steps[0];
  CHECK(s0.shape.kind == ast::Shape::Kind::list);
  CHECK(s0.shape.count.lo->value == 3);
  CHECK(s0.inputs.size() == 2);
  const auto& s1 = r.story->steps[1];
  CHECK(s1.shape.kind == ast::Shape::Kind::object);
  REQUIRE(s1.shape.fields.size() == 2);
  CHECK(s1.shape.fields[1].type.text == "number");
  CHECK(s1.prompt->value == "Write {values}");
  CHECK(r.story->steps[2].shape.kind == ast::Shape::Kind::text);
  CHECK(r.story->close_line == 5);
}

TEST_CASE("attributes block settings and filters") {
  auto r = parse_ok(
      "attributes {\n  count 200..250\n  tiers near 5, mid 3, far 2\n  walk random-bfs prefer long-tail\n"
      "  include *\n  exclude \"Career and Work Identity/**\" when age < 16 and not employment = employed\n"
      "  batch 40\n  context 800 tokens\n}\n");
  const auto& a = *r.attributes;
  CHECK(a.count->lo->value == 200);
  CHECK(a.tiers->far.value == 2);
  CHECK(a.walk->text == "random-bfs");
  CHECK(a.prefer->text == "long-tail");
  REQUIRE(a.filters.size() == 2);
  CHECK(a.filters[0].bare_star);
  CHECK_FALSE(a.filters[1].include);
  REQUIRE(a.filters[1].when);
  CHECK(a.filters[1].when->kind == cond::Condition::Kind::all);
  CHECK(a.batch->value == 40);
  CHECK(a.context->value == 800);
}

TEST_CASE("narrative, model, output, includes and comments") {
  auto r = parse_ok(
      "# leading\nimport \"lib.persona\"\nextends \"base.persona\"  # trailing\n"
      "narrative third-person 100..200 words\nmodel \"local\" temperature 0.7 model \"llama3\"\n"
      "output {\n  path \"out.jsonl\"\n  narrative off\n}\n");
  REQUIRE(r.includes.size() == 2);
  CHECK_FALSE(r.includes[0].extends);
  CHECK(r.includes[1].extends);
  CHECK(r.narrative->voice.text == "third-person");
  CHECK(r.narrative->words->hi->value == 200);
  CHECK(r.model->params.size() == 2);
  CHECK(r.output->params.size() == 2);
  REQUIRE(r.comments.size() == 2);
  CHECK(r.comments[0].own_line);
  CHECK_FALSE(r.comments[1].own_line);
  CHECK(r.comments[1].line == 3);
}

TEST_CASE("string escapes and triple-quoted strings") {
  auto r = parse_ok("anchor a = \"tab\\there \\\"q\\\" \\u00e9\"\nanchor b = \"\"\"\nline one\nline \"two\"\n\"\"\"\n");
  CHECK(r.anchors[0].fixed_text->value == "tab\there \"q\" \xC3\xA9");
  CHECK(r.anchors[1].fixed_text->value == "line one\nline \"two\"\n");
}

TEST_CASE("syntax errors name the place and span the token") {
  auto d = parse_fail("recipe \"x\"\nanchr age = 3\n");
  CHECK(d.where.line == 2);
  CHECK(d.where.column == 1);
  CHECK(d.where.length == 5);
  CHECK(d.message == "unknown statement 'anchr'; did you mean 'anchor'?");

  d = parse_fail("anchor g ~ { a: 1, b 2 }\n");
  CHECK(d.where.column == 22);
  CHECK(d.message == "expected ':' between the label and its weight");

  d = parse_fail("anchor s = \"unterminated\n");
  CHECK(d.message.find("unterminated string") != std::string::npos);
}

TEST_CASE("several syntax errors are reported in one run") {
  DiagnosticList d;
  auto r = lang::parse_recipe("anchor a ~ \nanchor b = 1\nstory {\n  x <- llm\n}\nattributes {\n  cont 3\n}\n",
                              "t.persona", d);
  CHECK_FALSE(r.recipe);
  CHECK(d.error_count() == 3);
}

TEST_CASE("an error at the end of the input marks the recipe incomplete") {
  DiagnosticList d;
  CHECK(lang::parse_recipe("story {\n  a <- llm \"x\"\n", "t", d).incomplete);
  DiagnosticList d2;
  CHECK_FALSE(lang::parse_recipe("anchor 3\nanchor a = 1\n", "t", d2).incomplete);
}

TEST_CASE("keywords cannot name anchors") {
  auto d = parse_fail("anchor story = 1\n");
  CHECK(d.where.column == 8);
}

TEST_CASE("a story step's tone: one word, or random(...) of several - a missing or repeated tone is an error") {
  auto r = parse_ok(
      "story {\n"
      "  values <- llm \"core values\" x 3..5 tone random(positive, negative, neutral)\n"
      "  mood <- llm \"mood\" from values tone wry\n"
      "}\n");
  REQUIRE(r.story->steps.size() == 2);
  const auto& s0 = r.story->steps[0];
  REQUIRE(s0.tone);
  CHECK(s0.tone->random);
  REQUIRE(s0.tone->choices.size() == 3);
  CHECK(s0.tone->choices[1].text == "negative");
  CHECK(s0.tone->choices[1].where.column == 60);
  const auto& s1 = r.story->steps[1];
  REQUIRE(s1.tone);
  CHECK_FALSE(s1.tone->random);
  CHECK(s1.tone->choices.front().text == "wry");
  CHECK(s1.inputs.size() == 1);  // the tone word is not an input
  const auto bad = parse_fail("story {\n  v <- llm \"values\" tone\n}\n");
  CHECK(bad.message.find("expected a tone such as negative") != std::string::npos);
  const auto unclosed = parse_fail("story {\n  v <- llm \"values\" tone random(a, b\n}\n");
  CHECK(unclosed.message == "expected ')'");
  DiagnosticList d;
  (void)lang::parse_recipe("story {\n  v <- llm \"values\" tone a tone b\n}\n", "t.persona", d);
  REQUIRE(d.error_count() == 1);
  CHECK(d.all().front().message == "a story step has at most one tone");
}
