// The plan compiler: DAG shape, topological order, estimates, text and DOT renderings.
#include <map>

#include "engine/plan.hpp"
#include "engine_support.hpp"

using namespace engine_test;
using namespace persona;

TEST_CASE("plan: one node per anchor, story step and batch, in dependency order", "[engine][plan]") {
  auto r = base_recipe(200, 250);
  r.name = "kenya";
  r.attributes.batch = 40;
  r.anchors.push_back(fixed_anchor("country", std::string("Kenya")));
  auto age = table_anchor("age", "stdlib.age_structure", {"country"}, lang::ValueType::number);
  age.source.bound = {lang::Bound::Kind::truncate, 18.0, 90.0};
  r.anchors.push_back(age);
  r.anchors.push_back(table_anchor("occupation", "stdlib.occupations", {"age"}));
  r.story.push_back(story("values", "core values", lang::StoryShape::Kind::list, 3, 5, {"age", "occupation"}));
  r.story.push_back(story("attitude", "life attitude", lang::StoryShape::Kind::text, 1, 1, {"values"}));
  const auto plan = engine::compile(r);
  const auto& g = plan.graph;
  // 3 anchors + 2 story + select + ceil(250/40)=7 batches + narrative + write
  CHECK(boost::num_vertices(g) == 3 + 2 + 1 + 7 + 1 + 1);
  std::map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < plan.order.size(); ++i) pos[g[plan.order[i]].name] = i;
  CHECK(pos["anchor country"] < pos["anchor age"]);
  CHECK(pos["anchor age"] < pos["anchor occupation"]);
  CHECK(pos["anchor occupation"] < pos["story values"]);
  CHECK(pos["story values"] < pos["story attitude"]);
  CHECK(pos["story attitude"] < pos["select attributes"]);
  CHECK(pos["select attributes"] < pos["fill batch 1"]);
  CHECK(pos["fill batch 7"] < pos["narrative"]);
  CHECK(pos["narrative"] < pos["write"]);
  // Every edge goes forward in the order.
  for (auto [e, end] = boost::edges(g); e != end; ++e)
    CHECK(pos[g[boost::source(*e, g)].name] < pos[g[boost::target(*e, g)].name]);
  // Estimate: 1 story call (both steps in one structured call) + 7 fill + 1 narrative calls.
  CHECK(plan.estimate.story_calls == 1);
  CHECK(plan.estimate.calls == 9);
  CHECK(plan.estimate.fill_calls == 7);
  CHECK(plan.estimate.prompt_tokens > 7 * 600);
  const std::string text = engine::to_text(plan);
  CHECK(text.find("anchor age") != std::string::npos);
  CHECK(text.find("truncate 18..90") != std::string::npos);
  CHECK(text.find("0 calls offline") != std::string::npos);
  CHECK(text.find("9 LLM calls") != std::string::npos);
  const std::string dot = engine::to_dot(plan);
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(dot.find("->") != std::string::npos);
  CHECK(dot.find("fill batch 7") != std::string::npos);
}

TEST_CASE("the token formula is one function", "[engine][plan]") {
  const auto t = engine::estimate_call(10, 600, 40, 0);
  CHECK(t.prompt == engine::kSystemTokens + 10 + 600 + 40 * engine::kSlotPromptTokens);
  CHECK(t.completion == 40 * engine::kSlotCompletionTokens);
  CHECK(engine::estimate_tokens("") == 0);
  CHECK(engine::estimate_tokens("one two three four") == 6);
}
