// From answers to metrics: grouping, repeats, skipped items, bootstrap intervals, noise floor,
// the uniform baseline, the reference conventions, random answers and answers.csv.
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "survey/survey.hpp"

using namespace persona;
using namespace persona::survey;
using Catch::Detail::Approx;

namespace {

Questionnaire questionnaire(const std::string& extra = {}) {
  DiagnosticList d;
  auto q = parse_questionnaire(R"([survey]
group_by = ["country"]
missing = { -1 = "don't know" }

[[item]]
id = "a"
text = "A?"
scale = [1, 4]

[[item]]
id = "b"
text = "B?"
options = { 1 = "x", 2 = "y" }
form = "options"
)" + extra,
                               "q.toml", d);
  REQUIRE(q);
  return *q;
}

std::vector<PersonaRecord> people(const std::vector<std::string>& countries) {
  std::vector<PersonaRecord> out;
  for (std::size_t i = 0; i < countries.size(); ++i) {
    PersonaRecord p;
    p.index = i;
    p.id = "p" + std::to_string(i);
    p.data = {{"id", p.id}, {"anchors", {{"country", countries[i]}, {"age", 20 + 10 * static_cast<int>(i)}}}};
    out.push_back(std::move(p));
  }
  return out;
}

Answer ans(std::size_t persona, std::size_t item, double code, int repeat = 0, AnswerStatus status = AnswerStatus::ok) {
  Answer a;
  a.persona = persona;
  a.item = item;
  a.code = code;
  a.repeat = repeat;
  a.status = status;
  return a;
}

Targets targets(const Questionnaire& q, const std::string& csv) {
  DiagnosticList d;
  auto t = parse_targets(csv, "t.csv", q, d);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("answers that reproduce the target score zero, and the noise floor sits between zero and uniform") {
  const Questionnaire q = questionnaire();
  const auto ps = people(std::vector<std::string>(10, "Kenya"));
  // Target: 1 x4, 2 x3, 3 x2, 4 x1 of 10; the personas answer exactly that.
  std::vector<Answer> as;
  const std::vector<double> codes = {1, 1, 1, 1, 2, 2, 2, 3, 3, 4};
  for (std::size_t i = 0; i < 10; ++i) as.push_back(ans(i, 0, codes[i]));
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,0.4\na,Kenya,2,0.3\na,Kenya,3,0.2\na,Kenya,4,0.1\n");
  DiagnosticList d;
  const Report r = evaluate(q, ps, as, t, {.seed = 1, .bootstrap = 50, .floor_draws = 40}, d);
  REQUIRE(r.cells.size() == 1);
  const Cell& c = r.cells[0];
  CHECK(c.item == "a");
  CHECK(c.group == "Kenya");
  CHECK(c.personas == 10);
  CHECK(c.score.ks == Approx(0).margin(1e-12));
  CHECK(c.score.w1 == Approx(0).margin(1e-12));
  CHECK(c.score.js_divergence == Approx(0).margin(1e-12));
  CHECK(c.score.mean_diff == Approx(0).margin(1e-12));
  CHECK(c.score.mean_target == Approx(2.0));
  // Uniform answers over 1..4 against this skewed target: KS = max |F| diff = |0.25 - 0.4| ... = 0.2.
  CHECK(c.uniform.ks == Approx(0.2));
  CHECK(c.uniform.mean_diff == Approx(0.5));
  CHECK(c.uniform.w1_norm == Approx(c.uniform.w1 / 3));
  CHECK(c.floor.ks > 0);
  CHECK(c.floor.ks < c.uniform.ks + 0.2);
  // The interval contains the point estimate.
  CHECK(c.lo.ks <= c.score.ks + 1e-12);
  CHECK(c.hi.ks >= c.score.ks - 1e-12);
  // Item b has no targets: warned about, skipped, out of the averages.
  REQUIRE(r.skipped.size() == 1);
  CHECK(r.skipped[0] == "b (all groups): no targets");
  bool warned = false;
  for (const auto& x : d.all()) warned |= x.message == "no targets for item `b` in t.csv: skipped in the averages";
  CHECK(warned);
  REQUIRE(r.averages.size() == 1);
  CHECK(r.averages[0].cells == 1);
}

TEST_CASE("each persona weighs one whatever its repeats - missing codes are shares, invalid answers counts") {
  const Questionnaire q = questionnaire();
  const auto ps = people({"Kenya", "Kenya"});
  // p0 answers 1 three times; p1 answers 4 once, don't know once and one invalid answer.
  const std::vector<Answer> as = {ans(0, 0, 1, 0),
                                  ans(0, 0, 1, 1),
                                  ans(0, 0, 1, 2),
                                  ans(1, 0, 4, 0),
                                  ans(1, 0, -1, 1, AnswerStatus::missing),
                                  ans(1, 0, NAN, 2, AnswerStatus::invalid)};
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,0.5\na,Kenya,4,0.5\n");
  DiagnosticList d;
  const Report r = evaluate(q, ps, as, t, {.seed = 1, .bootstrap = 0, .floor_draws = 0}, d);
  REQUIRE(r.cells.size() == 1);
  CHECK(r.cells[0].score.ks == Approx(0).margin(1e-12));  // 1/2 on 1, 1/2 on 4
  CHECK(r.cells[0].answers == 5);
  CHECK(r.cells[0].invalid == 1);
  CHECK(r.cells[0].missing_sim == Approx(1.0 / 5));
  CHECK(std::isnan(r.cells[0].lo.ks));  // no bootstrap: no interval
}

TEST_CASE("reference conventions average each persona's repeats and use the first respondents of microdata") {
  const Questionnaire q = questionnaire();
  const auto ps = people({"Kenya", "Kenya"});
  // p0: 1 and 2 -> 1.5; p1: 4 -> 4.
  const std::vector<Answer> as = {ans(0, 0, 1, 0), ans(0, 0, 2, 1), ans(1, 0, 4, 0)};
  // Microdata: the first two respondents answer 1 and 4; the rest would change the distribution.
  const Targets t = targets(q, "respondent,group,a\nr1,Kenya,1\nr2,Kenya,4\nr3,Kenya,2\nr4,Kenya,2\nr5,Kenya,2\n");
  DiagnosticList d;
  const Report r = evaluate(q, ps, as, t, {.seed = 3, .bootstrap = 0, .floor_draws = 0, .reference = true}, d);
  REQUIRE(r.cells.size() == 1);
  const Cell& c = r.cells[0];
  CHECK(c.score.mean_sim == Approx(2.75));    // (1.5 + 4) / 2
  CHECK(c.score.mean_target == Approx(2.5));  // (1 + 4) / 2: the first two respondents only
  CHECK(c.score.w1 == Approx(0.25));          // |1.5 - 1| / 2 + |4 - 4| / 2
  CHECK(c.score.js_distance == Approx(reference_js_distance(make_dist({1.5, 4}), make_dist({1, 4}))));
  // The default conventions use every respondent and pool the repeats.
  const Report r2 = evaluate(q, ps, as, t, {.seed = 3, .bootstrap = 0, .floor_draws = 0}, d);
  CHECK(r2.cells[0].score.mean_target == Approx(11.0 / 5));
  CHECK(r2.cells[0].score.mean_sim == Approx((1.5 + 4) / 2));
}

TEST_CASE("groups come from the persona anchors, with bands for numeric ones, and average per group") {
  const Questionnaire q = questionnaire("");
  DiagnosticList d0;
  auto banded = parse_questionnaire(
      "[survey]\ngroup_by = [\"country\", \"age\"]\nbands = { age = [18, 30, 50] }\n[[item]]\nid = \"a\"\n"
      "text = \"A?\"\nscale = [1, 4]\n",
      "q.toml", d0);
  REQUIRE(banded);
  const auto ps = people({"Kenya", "India", "Kenya", "India", "Kenya"});  // ages 20, 30, 40, 50, 60
  CHECK(group_of(*banded, ps[0]) == "Kenya/18-29");
  CHECK(group_of(*banded, ps[1]) == "India/30-49");
  CHECK(group_of(*banded, ps[3]) == "India/50+");
  CHECK(group_of(q, ps[1]) == "India");
  PersonaRecord no_country;
  no_country.data = {{"id", "x"}, {"anchors", {{"age", 40}}}};
  CHECK_FALSE(group_of(q, no_country));

  std::vector<Answer> as;
  for (std::size_t i = 0; i < ps.size(); ++i) as.push_back(ans(i, 0, i % 2 == 0 ? 1 : 2));
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,1\na,India,1,1\n");
  DiagnosticList d;
  const Report r = evaluate(q, ps, as, t, {.seed = 1, .bootstrap = 20, .floor_draws = 5}, d);
  REQUIRE(r.cells.size() == 2);
  REQUIRE(r.averages.size() == 3);  // all, India, Kenya
  CHECK(r.averages[0].group == "all");
  CHECK(r.averages[0].cells == 2);
  CHECK(r.averages[1].group == "India");
  CHECK(r.averages[1].score.ks == Approx(1));  // India answered 2, the target is all 1
  CHECK(r.averages[2].score.ks == Approx(0).margin(1e-12));
  CHECK(r.averages[0].score.ks == Approx(0.5));
}

TEST_CASE("the same seed gives the same report - another seed other intervals") {
  const Questionnaire q = questionnaire();
  const auto ps = people(std::vector<std::string>(30, "Kenya"));
  const auto as = random_answers(q, ps, {.seed = 5, .repeats = 2});
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,0.7\na,Kenya,2,0.3\nb,Kenya,1,0.5\nb,Kenya,2,0.5\n");
  DiagnosticList d;
  const EvalOptions o{.seed = 9, .bootstrap = 40, .floor_draws = 10};
  const std::string one = metrics_csv(evaluate(q, ps, as, t, o, d));
  const std::string two = metrics_csv(evaluate(q, ps, as, t, o, d));
  CHECK(one == two);
  EvalOptions o2 = o;
  o2.seed = 10;
  CHECK(metrics_csv(evaluate(q, ps, as, t, o2, d)) != one);
  // The unordered item reports JS only.
  const Report r = evaluate(q, ps, as, t, o, d);
  REQUIRE(r.cells.size() == 2);
  CHECK(std::isnan(r.cells[1].score.ks));
  CHECK(std::isfinite(r.cells[1].score.js_distance));
  const auto j = metrics_json(r);
  CHECK(j["cells"][1]["metrics"]["ks"]["value"].is_null());
  CHECK(j["cells"][0]["metrics"]["ks"]["value"].is_number());
}

TEST_CASE("random answers are uniform over the codes, reproducible and independent per persona") {
  const Questionnaire q = questionnaire();
  const auto ps = people(std::vector<std::string>(2000, "Kenya"));
  const auto as = random_answers(q, ps, {.seed = 11, .repeats = 1});
  REQUIRE(as.size() == 4000);
  std::vector<int> count(5, 0);
  for (const auto& a : as) {
    CHECK(a.status == AnswerStatus::ok);
    if (a.item == 0) ++count[static_cast<std::size_t>(a.code)];
  }
  for (int c = 1; c <= 4; ++c) CHECK(count[static_cast<std::size_t>(c)] == Approx(500).margin(80));
  // Persona i's answers do not depend on the other personas.
  const std::vector<PersonaRecord> only(ps.begin() + 7, ps.begin() + 8);
  const auto again = random_answers(q, only, {.seed = 11, .repeats = 1});
  CHECK(again[0].code == as[14].code);
  CHECK(again[1].code == as[15].code);
  // Another seed, other answers.
  const auto other = random_answers(q, ps, {.seed = 12, .repeats = 1});
  std::size_t same = 0;
  for (std::size_t i = 0; i < as.size(); ++i) same += as[i].code == other[i].code;
  CHECK(same < 3000);
}

TEST_CASE("answers.csv reads back to the same answers, and a bad row names its line and column") {
  const Questionnaire q = questionnaire();
  const auto ps = people({"Kenya", "India"});
  std::vector<Answer> as = {ans(0, 0, 3, 0), ans(1, 1, 2, 1), ans(1, 0, -1, 0, AnswerStatus::missing),
                            ans(0, 1, NAN, 2, AnswerStatus::invalid)};
  const std::string text = answers_csv(q, ps, as);
  CHECK(text.rfind("persona,item,repeat,code,mode,status\np0,a,0,3,random,ok\n", 0) == 0);
  DiagnosticList d;
  const auto back = parse_answers_csv(text, "answers.csv", q, ps, d);
  REQUIRE(back);
  REQUIRE(back->size() == as.size());
  CHECK(answers_csv(q, ps, *back) == text);
  DiagnosticList d2;
  CHECK_FALSE(parse_answers_csv("persona,item,repeat,code,mode,status\np0,a,0,9,deep,ok\n", "x.csv", q, ps, d2));
  REQUIRE(d2.error_count() == 1);
  CHECK(d2.all()[0].where.line == 2);
  CHECK(d2.all()[0].where.column == 8);
  CHECK(d2.all()[0].message == "code `9` is not an answer of item `a`");
}

TEST_CASE("the persona reader names the line of a bad persona and skips a torn last line") {
  const auto dir = std::filesystem::temp_directory_path() / "persona-survey-read";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "ok.jsonl") << "{\"id\":\"a\",\"anchors\":{}}\n\n{\"id\":\"b\"}\n{\"id\":\"c\",\"anc";
    DiagnosticList d;
    auto ps = read_personas(dir / "ok.jsonl", d);
    REQUIRE(ps);
    CHECK(ps->size() == 2);
    CHECK((*ps)[1].index == 1);
    CHECK((*ps)[1].line == 3);
    REQUIRE(d.warning_count() == 1);
    CHECK(d.all()[0].where.line == 4);
  }
  {
    std::ofstream(dir / "bad.jsonl") << "{\"id\":\"a\"}\n[1,2]\n{\"id\":\"a\"}\n";
    DiagnosticList d;
    CHECK_FALSE(read_personas(dir / "bad.jsonl", d));
    REQUIRE(d.error_count() == 2);
    CHECK(d.all()[0].where.line == 2);
    CHECK(d.all()[1].message == "persona `a` appears twice (first on line 1)");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("each cell records the simulated and target shares per code that metrics.json carries") {
  const Questionnaire q = questionnaire();
  const auto ps = people(std::vector<std::string>(4, "Kenya"));
  // Persona 0 answers 1 twice, persona 1 answers 1 and 2 (each persona weighs 1), personas 2-3 answer 2.
  std::vector<Answer> as;
  auto add = [&](std::size_t p, std::size_t item, int r, double code) {
    as.push_back(ans(p, item, code, r));
    as.back().mode = Mode::deep;
  };
  add(0, 0, 0, 1), add(0, 0, 1, 1), add(1, 0, 0, 1), add(1, 0, 1, 2), add(2, 0, 0, 2), add(2, 0, 1, 2);
  add(3, 0, 0, 2), add(3, 0, 1, 2);
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,0.7\na,Kenya,2,0.3\n");
  DiagnosticList d;
  const Report r = evaluate(q, ps, as, t, {.seed = 1, .bootstrap = 0, .floor_draws = 0}, d);
  CHECK(r.mode == "deep");
  REQUIRE(r.cells.size() == 1);
  const Cell& c = r.cells[0];
  CHECK(c.points == std::vector<std::string>{"1", "2", "3", "4"});
  REQUIRE(c.sim_shares.size() == 4);
  CHECK(c.sim_shares[0] == Approx(1.5 / 4));
  CHECK(c.sim_shares[1] == Approx(2.5 / 4));
  CHECK(c.sim_shares[3] == 0);
  CHECK(c.target_shares[0] == Approx(0.7));
  CHECK(c.target_shares[2] == 0);
  const auto j = metrics_json(r);
  CHECK(j["mode"] == "deep");
  CHECK(j["items"][0]["id"] == "a");
  CHECK(j["cells"][0]["distribution"]["points"] == nlohmann::json({"1", "2", "3", "4"}));
  CHECK(j["cells"][0]["distribution"]["sim"][0].get<double>() == Approx(0.375));
  CHECK(j["cells"][0]["distribution"]["target"][1].get<double>() == Approx(0.3));
}

TEST_CASE("a stop flag raised before the bootstrap ends the evaluation early and says so") {
  const Questionnaire q = questionnaire();
  const auto ps = people(std::vector<std::string>(30, "Kenya"));
  const auto as = random_answers(q, ps, {.seed = 5, .repeats = 1});
  const Targets t = targets(q, "item,group,code,share\na,Kenya,1,0.7\na,Kenya,2,0.3\n");
  DiagnosticList d;
  std::atomic<bool> stop{true};
  EvalOptions o{.seed = 9, .bootstrap = 40, .floor_draws = 0};
  o.stop = &stop;
  const Report stopped = evaluate(q, ps, as, t, o, d);
  CHECK(stopped.interrupted);
  REQUIRE_FALSE(stopped.cells.empty());
  CHECK(std::isnan(stopped.cells[0].lo.ks));
  stop = false;
  const Report whole = evaluate(q, ps, as, t, o, d);
  CHECK_FALSE(whole.interrupted);
  CHECK(std::isfinite(whole.cells[0].lo.ks));
}
