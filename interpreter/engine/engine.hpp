// The persona engine: a checked recipe + a taxonomy + tables -> personas.
//
//   auto model = engine::Model::create(recipe, tables, taxonomy, sink);   // precomputed once
//   engine::OfflineBackend offline;
//   engine::Scratch scratch;                                             // one per thread
//   engine::Persona p;
//   engine::build_persona(*model, offline, scratch, seed, index, p);     // every stage
//   std::string line; engine::serialise(*model, p, line);                // one JSONL line
//
// The stages are separate functions so an asynchronous LLM driver can run many personas in flight
// and advance each one stage by stage:
//
//   begin -> draw_anchors -> story_step x N -> select_attributes -> fill_batch x K
//         -> write_narrative -> serialise
//
// Every random draw comes from Rng::derive(seed, index, step) (or the equivalent with the step's
// hash precomputed), so a persona never depends on threads, shards, other personas or resume.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check/recipe.hpp"
#include "coherence/coherence.hpp"
#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"
#include "tables/tables.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::engine {

enum class Tier : std::uint8_t { near, mid, far };
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
  std::string reason;  // why status is not "filled" (failed: "llm: timeout", ...)
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
};

// One persona under construction. Reusable: begin() resets it and keeps the buffers' capacity.
struct Persona {
  std::uint64_t index = 0;
  std::uint64_t run_seed = 0;  // the run's seed
  std::uint64_t seed = 0;      // this persona's derived seed (reported in the output)
  std::string id;              // "<recipe name>-<zero-padded index>"
  // Anchors in recipe order (nullopt when the draw failed), then facts derived from tables.
  std::vector<std::optional<cond::Value>> anchors;        // parallel to recipe.anchors
  std::vector<std::pair<std::string, std::string>> derived;  // e.g. {"employment", "employed"}
  cond::Facts facts;                                      // anchors + derived facts
  std::vector<CoreValue> core;                            // parallel to recipe.story
  int target_count = 0;                                   // drawn in [min_count, max_count]
  std::vector<Slot> attributes;                           // taxonomy preorder
  std::string narrative;
  Usage usage;
  std::vector<std::string> problems;  // anchor draws that failed, tiers that ran short, ...
  coherence::State coherence;         // facts (anchors + latent) and rule outcomes, set by draw_anchors
};

class Model;

// Per-thread buffers and caches for the selection stage. Not shared between threads.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(Scratch&&) noexcept;
  Scratch& operator=(Scratch&&) noexcept;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// What a backend is asked for. The LLM backend builds its prompts from these.
class Backend {
 public:
  virtual ~Backend() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Fills p.core[step] (kind per the step's shape) and adds to p.usage.
  virtual void story_step(const Model& m, Persona& p, std::size_t step) = 0;
  // Fills p.attributes[first, last): value, source, status; adds to p.usage.
  virtual void fill_batch(const Model& m, Persona& p, std::size_t first, std::size_t last) = 0;
  // Writes p.narrative (empty when the recipe says `narrative none`).
  virtual void narrative(const Model& m, Persona& p) = 0;
};

// Deterministic, no network: value options, lexicons and templates (see offline.cpp and README.md).
class OfflineBackend final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const override { return "offline"; }
  void story_step(const Model& m, Persona& p, std::size_t step) override;
  void fill_batch(const Model& m, Persona& p, std::size_t first, std::size_t last) override;
  void narrative(const Model& m, Persona& p) override;
};

// ---- stages ----
// Resets p for persona `index` of a run with seed `seed`: id, derived seed, empty stages.
void begin(const Model& m, std::uint64_t seed, std::uint64_t index, Persona& p);
// Draws every anchor in dependency order and computes the facts. False when some draw failed
// (reported in p.problems; the anchor is null in the output).
bool draw_anchors(const Model& m, Persona& p);
// Story steps in order through the backend.
void run_story(const Model& m, Persona& p, Backend& b);
// Stage 2 of the method: candidates, core similarity, tiers, random-BFS picking with dedup.
void select_attributes(const Model& m, Persona& p, Scratch& s);
// Number of fill batches for this persona: ceil(attributes / batch).
std::size_t batch_count(const Model& m, const Persona& p);
// Slots [k*batch, min((k+1)*batch, n)).
std::pair<std::size_t, std::size_t> batch_range(const Model& m, const Persona& p, std::size_t k);
void fill_batch(const Model& m, Persona& p, Backend& b, std::size_t k);
void fill_all(const Model& m, Persona& p, Backend& b);
void write_narrative(const Model& m, Persona& p, Backend& b);
// Appends one JSON object and a '\n' to out.
void serialise(const Model& m, const Persona& p, std::string& out);

// Every stage in order.
void build_persona(const Model& m, Backend& b, Scratch& s, std::uint64_t seed, std::uint64_t index, Persona& p);

// The taxonomy a recipe names: a stdlib name ("stdlib.core") or a file path. nullptr on error.
std::shared_ptr<const tax::Taxonomy> load_taxonomy(const lang::Recipe& r, DiagnosticSink& sink);

}  // namespace persona::engine

#include "engine/model.hpp"
