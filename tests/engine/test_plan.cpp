// The program: what `persona plan` prints is the list of steps that runs, in dependency order, with
// one cost formula for the plan, the dry run and the budget.
#include <map>

#include "engine_support.hpp"

using namespace engine_test;
using namespace persona;

namespace {

std::unique_ptr<engine::Program> kenya_program() {
  auto lib = make_tables({{"ages", R"(name = "ages"
value = "integer-range"
by = ["country"]
[weights.Kenya]
"18-29" = 3
"30-89" = 4
)"},
                          {"occupations", R"(name = "occupations"
value = "category"
by = ["age"]
[weights."0-120"]
Farmer = 1
Teacher = 1
)"}});
  auto r = base_recipe(200, 250);
  r.name = "kenya";
  r.attributes.batch = 40;
  r.anchors.push_back(fixed_anchor("country", std::string("Kenya")));
  auto age = table_anchor("age", "ages", {"country"}, lang::ValueType::number);
  age.source.bound = {lang::Bound::Kind::truncate, 18.0, 90.0};
  r.anchors.push_back(age);
  r.anchors.push_back(table_anchor("occupation", "occupations", {"age"}));
  r.story.push_back(story("values", "core values", lang::StoryShape::Kind::list, 3, 5, {"age", "occupation"}));
  r.story.push_back(story("attitude", "life attitude", lang::StoryShape::Kind::text, 1, 1, {"values"}));
  return make_model(r, lib, make_taxonomy(generated_tax(3, 3, 30)));
}

}  // namespace

TEST_CASE("the program has one step per anchor, story call and batch, in dependency order", "[engine][plan]") {
  const auto prog = kenya_program();
  // 3 anchors + 1 story call (both steps in one structured call) + select + ceil(250/40) = 7 batches + narrative
  REQUIRE(prog->size() == 3 + 1 + 1 + 7 + 1);
  std::map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < prog->size(); ++i) pos[prog->step(i).name()] = i;
  CHECK(pos.count("story values, attitude") == 1);
  CHECK(pos["anchor country"] < pos["anchor age"]);
  CHECK(pos["anchor age"] < pos["anchor occupation"]);
  CHECK(pos["anchor occupation"] < pos["story values, attitude"]);
  CHECK(pos["story values, attitude"] < pos["select attributes"]);
  CHECK(pos["select attributes"] < pos["fill batch 1"]);
  CHECK(pos["fill batch 7"] < pos["narrative"]);
  // Every dependency comes earlier in the run order, and the graph has the same edges.
  for (std::size_t i = 0; i < prog->size(); ++i)
    for (std::size_t a : prog->step(i).after) CHECK(a < i);
  const auto g = prog->graph();
  CHECK(boost::num_vertices(g) == prog->size());
  for (auto [e, end] = boost::edges(g); e != end; ++e) CHECK(boost::source(*e, g) < boost::target(*e, g));
  // The estimate is the sum of the steps' estimates, for the expected 225 attributes (the middle of
  // 200..250): 1 story + 6 fill (batches of 40; the 7th only for personas past 240) + 1 narrative.
  const auto est = prog->estimate();
  CHECK(est.calls == 8);
  engine::Estimate sum;
  for (std::size_t i = 0; i < prog->size(); ++i) sum += prog->step(i).estimate();
  CHECK(sum.calls == est.calls);
  CHECK(sum.prompt_tokens == est.prompt_tokens);
  CHECK(sum.completion_tokens == est.completion_tokens);
  CHECK(est.prompt_tokens > 6 * 40 * engine::kSlotPromptTokens);
  const std::string text = prog->to_text();
  CHECK(text.find("anchor age") != std::string::npos);
  CHECK(text.find("truncate 18..90") != std::string::npos);
  CHECK(text.find("backend offline: 0 calls") != std::string::npos);
  CHECK(text.find("8 LLM calls") != std::string::npos);
  CHECK(prog->to_text("local").find("backend local: the estimate above applies") != std::string::npos);
  const std::string dot = prog->to_dot();
  CHECK(dot.rfind("digraph", 0) == 0);
  CHECK(dot.find("->") != std::string::npos);
  CHECK(dot.find("fill batch 7") != std::string::npos);
}

TEST_CASE("a recipe without a narrative has no narrative step and no narrative call", "[engine][plan]") {
  auto r = base_recipe(20, 20);
  r.narrative.voice = "none";
  const auto prog = make_model(r, nullptr, make_taxonomy(generated_tax(2, 2, 10)));
  for (std::size_t i = 0; i < prog->size(); ++i) CHECK(prog->step(i).kind() != engine::Step::Kind::narrative);
  CHECK(prog->estimate().calls == 3);  // 20 attributes in batches of 8
}

TEST_CASE("the token formula is one function", "[engine][plan]") {
  const auto t = engine::estimate_call(10, 600, 40, 0);
  CHECK(t.calls == 1);
  CHECK(t.prompt_tokens == engine::kSystemTokens + 10 + 600 + 40 * engine::kSlotPromptTokens);
  CHECK(t.completion_tokens == 40 * engine::kSlotCompletionTokens);
  CHECK(engine::estimate_tokens("") == 0);
  CHECK(engine::estimate_tokens("one two three four") == 6);
}
