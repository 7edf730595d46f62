// The plan compiler: a checked recipe -> a DAG of steps (Boost.Graph) with per-persona estimates
// of LLM calls and tokens. `persona plan` prints it as text or Graphviz DOT.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "check/recipe.hpp"

namespace persona::engine {

struct PlanStep {
  enum class Kind { anchor, story, select, fill, narrative, write };
  Kind kind = Kind::anchor;
  std::string name;    // "anchor age", "story values", "fill batch 3", ...
  std::string detail;  // "table stdlib.age_structure by country, truncate 18..90"
  int llm_calls = 0;   // per persona, with an LLM backend
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

using PlanGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, PlanStep>;

// Per-persona cost of one recipe with an LLM backend (worst case: max_count attributes).
struct Estimate {
  int story_calls = 0;
  int fill_calls = 0;       // K = ceil(max_count / batch)
  int narrative_calls = 0;
  int calls = 0;            // total
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
};

// Token estimate of one LLM call. This is THE formula (the LLM backend reuses it):
//   prompt     = kSystemTokens + instruction_tokens + context_tokens + slots * kSlotPromptTokens
//   completion = slots * kSlotCompletionTokens + extra_completion
// where context_tokens is the recipe's `attributes.context_tokens` budget (the compact profile
// each call re-sends; the reference implementation re-sends the whole JSON profile instead),
// kSlotPromptTokens covers one attribute path plus its options hint and kSlotCompletionTokens one
// short value with its key. Words are counted as 1.35 tokens.
struct CallTokens {
  std::int64_t prompt = 0;
  std::int64_t completion = 0;
};
// Calibrated on the requests the LLM driver (interpreter/generate/) sends, counted as the fake
// server does (request bytes / 4): the system message plus the request envelope (model, seed,
// response_format, ...) is ~100 tokens; a slot costs its compacted path in the prompt ("Parent:
// a12 Leaf", the parent shared by consecutive slots) plus its nullable entry in the strict schema.
inline constexpr std::int64_t kSystemTokens = 100;
inline constexpr std::int64_t kSlotPromptTokens = 21;
inline constexpr std::int64_t kSlotCompletionTokens = 12;
CallTokens estimate_call(std::int64_t instruction_tokens, std::int64_t context_tokens, std::int64_t slots,
                         std::int64_t extra_completion);
// Rough token count of a text (words * 1.35, at least 1 for non-empty text).
std::int64_t estimate_tokens(std::string_view text);

struct PlanOptions {
  std::string backend = "offline";  // "offline" or a provider name
};

struct Plan {
  PlanGraph graph;
  std::vector<PlanGraph::vertex_descriptor> order;  // topological
  Estimate estimate;
  std::string recipe_name;
  std::string backend;
  int max_count = 0, min_count = 0, batch = 0;
};

// Builds the DAG: one node per anchor (edges from its `by` dependencies), one per story step (edges
// from its inputs), attribute selection (after anchors and story), K fill batches, the narrative
// and the write step.
Plan compile(const lang::Recipe& r, const PlanOptions& opts = {});
Estimate estimate(const lang::Recipe& r);
// Story calls: consecutive steps without their own `prompt` share one structured call.
std::vector<std::vector<std::size_t>> story_call_groups(const lang::Recipe& r);
CallTokens story_call_tokens(const lang::Recipe& r, const std::vector<std::size_t>& group);
std::string to_text(const Plan& p);
std::string to_dot(const Plan& p);  // boost::write_graphviz

}  // namespace persona::engine
