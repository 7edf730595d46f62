// One persona under construction: the state every step of a program reads and writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "check/recipe.hpp"
#include "coherence/coherence.hpp"
#include "cond/condition.hpp"

namespace persona::engine {

class Population;  // engine/population.hpp

// panel: an `always` attribute, given to every persona whatever its similarity to the core.
enum class Tier : std::uint8_t { near, mid, far, panel };
enum class Source : std::uint8_t { options, lexicon, llm, table };
enum class SlotStatus : std::uint8_t { pending, filled, failed };

std::string_view to_string(Tier t);
std::string_view to_string(Source s);

struct Usage {
  std::uint64_t calls = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;
  Usage& operator+=(const Usage& o) {
    calls += o.calls;
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    cached_tokens += o.cached_tokens;
    return *this;
  }
};

// One selected attribute (a taxonomy leaf) and its value.
struct Slot {
  std::uint32_t leaf = 0;  // index into Model::leaf(): not a taxonomy vertex
  Tier tier = Tier::near;
  Source source = Source::options;
  SlotStatus status = SlotStatus::pending;
  std::string value;
  std::string reason;        // why status is not "filled" ("not_applicable", "llm: timeout", ...)
  std::int32_t option = -1;  // index of the chosen value option when value is one (fast serialisation)
};

// The output of one story step, shaped like the step declares.
struct CoreField {
  std::string name;
  std::string type;  // text | list | number
  std::string text;
  std::vector<std::string> items;
  double number = 0;
};
struct CoreValue {
  lang::StoryShape::Kind kind = lang::StoryShape::Kind::text;
  bool done = false;
  std::string text;                // text
  std::vector<std::string> items;  // list
  std::vector<CoreField> fields;   // object
  void clear() {
    done = false;
    text.clear();
    items.clear();
    fields.clear();
  }
};

// What one LLM call of this persona saw (kept only when the recipe says `output { prompts on }`).
struct CallLog {
  std::string step;  // the asking step's tag ("story", "fill:40", "narrative")
  int attempt = 0;
  std::string system, user;
  std::size_t answers_before = 0;  // earlier answers of the persona when the call was made
  std::size_t answers_shown = 0;   // of which its profile showed
};

// One persona under construction. Reusable: Program::begin() resets it and keeps the buffers.
struct Persona {
  std::uint64_t index = 0;
  std::uint64_t run_seed = 0;  // the run's seed
  // The run's calibrated population (the recipe's `population` block), or nullptr: the anchors it
  // calibrates take this persona's assigned values instead of a draw.
  const Population* population = nullptr;
  std::uint64_t seed = 0;  // this persona's derived seed (reported in the output)
  std::string id;          // "<recipe name>-<zero-padded index>"
  // Anchors in recipe order (nullopt when the draw failed), then facts derived from tables.
  std::vector<std::optional<cond::Value>> anchors;           // parallel to recipe.anchors
  std::vector<std::pair<std::string, std::string>> derived;  // e.g. {"employment", "employed"}
  cond::Facts facts;                                         // anchors + derived facts
  std::vector<CoreValue> core;                               // parallel to recipe.story
  int target_count = 0;                                      // drawn in [min_count, max_count]
  std::vector<Slot> attributes;                              // taxonomy preorder
  // Slot positions in the order their answers came (filled or not applicable), and where each call's
  // answers end in that list: the LLM profile shows them in this order, append-only.
  std::vector<std::uint32_t> answered;
  std::vector<std::size_t> answer_blocks;
  std::string narrative;
  Usage usage;
  std::vector<std::string> problems;  // anchor draws that failed, tiers that ran short, ...
  std::uint32_t context_dropped = 0;  // earlier answers left out of prompts for the context budget
  std::vector<CallLog> calls;         // `output { prompts on }` only
  // The coherence rules' facts (anchors + latent facts drawn once the anchors are complete, see
  // bind_facts) and their memoised condition outcomes: what the offline draw, the selection and the
  // check of LLM answers ask.
  coherence::State coherence;
};

}  // namespace persona::engine
