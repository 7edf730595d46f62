// The LLM judge's sans-IO pieces: choice of personas, requests, answers, scoring.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "eval/judge.hpp"
#include "eval_support.hpp"

using namespace eval_test;
using namespace persona;
namespace judge = persona::eval::judge;

namespace {

judge::Rubric rubric() {
  DiagnosticList d;
  auto r = judge::load_rubric(std::filesystem::path(PERSONA_SOURCE_DIR) / "stdlib/prompts", d);
  INFO(dump(d));
  REQUIRE(r.has_value());
  return *r;
}

record::PersonaRecord judged() {
  auto r = make_persona("kenya-000004",
                        {{"Lifestyle and Daily Routine/Sleep/Chronotype", "early riser"},
                         {"Hobbies, Interests and Lifestyle/Music/Instrument Played", "nyatiti"},
                         {"Career and Work Identity/Work Setting/Commute Mode", "matatu"}},
                        "I am Achieng, 34, from Kisumu. I wake before dawn and play the nyatiti at church. I ride a "
                        "matatu to the fish market where I keep the accounts.");
  r.anchors = {
      {"name", record::Value::of("Achieng")}, {"age", record::Value::of(34.0)}, {"city", record::Value::of("Kisumu")}};
  return r;
}

}  // namespace

TEST_CASE("the judged personas are the n smallest hashes: deterministic, independent of order", "[eval][judge]") {
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("run-" + std::to_string(i));
  judge::Chooser a(10, 3), b(10, 3), c(10, 4);
  for (const auto& id : ids) a.offer(id);
  std::reverse(ids.begin(), ids.end());
  for (const auto& id : ids) {
    b.offer(id);
    c.offer(id);
  }
  CHECK(a.size() == 10);
  CHECK(a.ids() == b.ids());
  CHECK(a.ids() != c.ids());  // another seed, another choice
  std::size_t chosen = 0;
  for (const auto& id : ids) chosen += a.chosen(id) ? 1 : 0;
  CHECK(chosen == 10);
  judge::Chooser all(500, 3);
  for (const auto& id : ids) all.offer(id);
  CHECK(all.size() == 200);
  judge::Chooser none(0, 3);
  none.offer("x");
  CHECK(none.size() == 0);
}

TEST_CASE("a rating request holds the rubric, the profile and the narrative, with a strict schema and an estimate",
          "[eval][judge]") {
  const auto rb = rubric();
  const auto q = judge::build_rating(judged(), rb);
  CHECK(q.kind == judge::Kind::rating);
  CHECK(q.persona_id == "kenya-000004");
  CHECK(q.system.find("Uniqueness") != std::string::npos);
  CHECK(q.system.find("Actionability") != std::string::npos);
  CHECK(q.user.find("name: Achieng") != std::string::npos);
  CHECK(q.user.find("Sleep > Chronotype: early riser") != std::string::npos);
  CHECK(q.user.find("I wake before dawn") != std::string::npos);
  CHECK(q.user.find("{profile}") == std::string::npos);
  CHECK(q.user.find("{\"uniqueness\": 1-5") != std::string::npos);  // JSON braces of the template are kept
  const auto schema = nlohmann::json::parse(q.schema);
  CHECK(schema["required"] == nlohmann::json::parse(R"(["uniqueness","actionability","reason"])"));
  CHECK(q.prompt_tokens > 100);
  CHECK(q.completion_tokens > 0);
  // The estimate grows with the persona.
  auto big = judged();
  for (int i = 0; i < 200; ++i) big.attributes.push_back(big.attributes[0]);
  CHECK(judge::build_rating(big, rb).prompt_tokens > q.prompt_tokens + 500);
}

TEST_CASE("a recovery request shows the judge the narrative only", "[eval][judge]") {
  const auto q = judge::build_recovery(judged(), rubric());
  CHECK(q.kind == judge::Kind::recovery);
  CHECK(q.user.find("I wake before dawn") != std::string::npos);
  CHECK(q.user.find("early riser") == std::string::npos);  // no attribute values leak in
  CHECK(q.user.find("Chronotype") == std::string::npos);
  CHECK(nlohmann::json::parse(q.schema)["required"][0] == "attributes");
}

TEST_CASE("ratings parse from plain or fenced JSON and are refused outside 1-5 or when missing", "[eval][judge]") {
  std::string e;
  auto r = judge::parse_rating(R"({"uniqueness": 4, "actionability": 5, "reason": "specific"})", e);
  REQUIRE(r);
  CHECK(r->uniqueness == 4);
  CHECK(r->actionability == 5);
  CHECK(r->reason == "specific");
  r = judge::parse_rating("Here you go:\n```json\n{\"uniqueness\": \"3\", \"actionability\": 2.0}\n```", e);
  REQUIRE(r);
  CHECK(r->uniqueness == 3);
  CHECK(r->actionability == 2);
  CHECK_FALSE(judge::parse_rating(R"({"uniqueness": 6, "actionability": 5})", e));
  CHECK(e.find("uniqueness") != std::string::npos);
  CHECK_FALSE(judge::parse_rating(R"({"uniqueness": 3.5, "actionability": 5})", e));
  CHECK_FALSE(judge::parse_rating(R"({"uniqueness": 3})", e));
  CHECK(e.find("actionability") != std::string::npos);
  CHECK_FALSE(judge::parse_rating("I would rate it four.", e));
  CHECK(e == "the answer is not JSON");
  CHECK_FALSE(judge::parse_rating("[4, 5]", e));
}

TEST_CASE("recovered facts are matched to the persona's facts by name and value, each counted once", "[eval][judge]") {
  std::string e;
  const auto facts = judge::parse_recovery(
      R"({"attributes": [{"attribute": "name", "value": "Achieng"},
                         {"attribute": "chronotype", "value": "early riser"},
                         {"attribute": "Chronotype", "value": "Early riser"},
                         {"attribute": "instrument played", "value": "the nyatiti"},
                         {"attribute": "commute mode", "value": "bicycle"},
                         {"attribute": "favourite food", "value": "tilapia"}]})",
      e);
  REQUIRE(facts);
  CHECK(facts->size() == 6);
  const auto s = judge::score_recovery(judged(), *facts);
  CHECK(s.listed == 6);
  CHECK(s.recovered == 3);  // name, chronotype (once), instrument; the commute's value and the food do not match
  CHECK_FALSE(judge::parse_recovery(R"({"facts": []})", e));
  CHECK(e.find("attributes") != std::string::npos);
  CHECK_FALSE(judge::parse_recovery(R"({"attributes": [{"value": "x"}]})", e));
  CHECK(e.find("fact 1") != std::string::npos);
}

TEST_CASE("the judge's summary becomes judge_* figures of the file", "[eval][judge]") {
  judge::Summary s;
  s.add(judge::Rating{4, 5, ""});
  s.add(judge::Rating{2, 3, ""});
  s.add(judge::Recovery{10, 6});
  s.fail("the answer is not JSON");
  eval::FileReport rep;
  judge::apply(s, rep);
  CHECK(rep.metrics.at("judge_uniqueness") == Approx(3.0));
  CHECK(rep.metrics.at("judge_actionability") == Approx(4.0));
  CHECK(rep.metrics.at("judge_recovered") == Approx(6.0));
  CHECK(rep.metrics.at("judge_failures") == 1);
  CHECK(eval::find_metric("judge_uniqueness") != nullptr);
}

TEST_CASE("a rubric template without its '---' separator is an error naming the file", "[eval][judge]") {
  const auto dir = temp_dir() / "prompts";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "judge_rating.txt") << "no separator here {profile}\n";
  std::ofstream(dir / "judge_recovery.txt") << "system\n---\n{narrative}\n";
  DiagnosticList d;
  CHECK_FALSE(judge::load_rubric(dir, d));
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].where.file.find("judge_rating.txt") != std::string::npos);
  CHECK(d.all()[0].message.find("---") != std::string::npos);
}
