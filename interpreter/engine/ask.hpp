// The interface between a program's steps and the backends that answer them.
//
// A step never does I/O: when it needs a model's answer it returns an Ask. A backend answers it
// (the offline backend at once, from value options, lexicons and templates; the LLM backend by
// turning it into a chat call through a provider dialect), and the same step's apply() checks the
// Answer against what the recipe declares — one code path per step whichever backend answered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/persona.hpp"

namespace persona::engine {

struct Ask {
  // embed: the selection asks for an embedding of the persona's core (engine::core_text) when the
  // program ranks by embeddings (Program::use_scorer).
  enum class Kind : std::uint8_t { story, fill, narrative, embed };
  Kind kind = Kind::story;
  std::uint32_t step = 0;            // index of the asking step in the program
  std::vector<std::uint32_t> items;  // story: story step indices; fill: slot positions
  std::string tag;                   // "story", "story:NAME", "fill:K", "narrative": request seed and logs
  std::string feedback;              // on a re-ask: what the previous answer lacked, for the prompt
  int attempt = 0;                   // 0 first ask, 1.. re-asks
  int room = 1;                      // max_tokens multiplier: doubles on a re-ask of an answer cut at the limit
};

// One slot's answer. `missing`: the answer did not contain the key (ask again); `null`: the model
// said the attribute does not apply.
struct SlotAnswer {
  enum class State : std::uint8_t { value, null, missing, refused };  // refused: `value` holds why
  State state = State::missing;
  std::string value;
  Source source = Source::llm;
  std::int32_t option = -1;  // offline: the value option drawn
};

struct Answer {
  bool ok = true;                               // false: the call failed after its retries; `error` says why
  std::string error;                            // "HTTP 500 ...", "timeout", ...
  bool fatal = false;                           // the run must stop (circuit open, cancelled): the step records nothing
  bool truncated = false;                       // the model stopped at its token limit (finish_reason "length")
  std::vector<std::optional<CoreValue>> story;  // story: parallel to Ask::items (nullopt: not given)
  std::vector<SlotAnswer> slots;                // fill: parallel to Ask::items
  std::string text;                             // narrative
  std::vector<float> embedding;                 // embed
  Usage usage;                                  // what the call cost (0 offline)
};

}  // namespace persona::engine
