// The executable program: a checked recipe compiled into steps. What `persona plan` prints is what
// runs: the same Step objects give the plan's lines, its DOT graph and cost estimate, and execute.
//
//   auto prog = engine::Program::compile(std::move(recipe), tables, taxonomy, {}, sink);
//   engine::Persona p;  engine::Scratch s;
//   prog->begin(seed, index, p);
//   for (std::size_t pc = 0; pc < prog->size(); ++pc) {
//     auto ask = prog->step(pc).run(p, s);           // Done (nullopt) or an Ask for a backend
//     while (ask) { Answer a = backend.answer(*prog, p, *ask); ask = prog->step(pc).apply(p, s, *ask, a); }
//   }
//   record::PersonaRecord r;  prog->to_record(p, r);   // then any sink writes it
//
// Steps are sans-IO: they draw from Rng::derive(seed, index, step) streams, read and write the
// persona, and return Asks; schedulers (interpreter/exec) decide who answers and when.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diag/source.hpp"
#include "engine/ask.hpp"
#include "engine/model.hpp"
#include "engine/persona.hpp"
#include "record/record.hpp"

namespace persona::engine {

// Per-thread buffers and caches of the selection step. Not shared between threads.
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

// The cost of one step per persona with an LLM backend (0 offline), in tokens as the provider
// counts them. THE cost formula: plan, dry-run and budget all add these up.
struct Estimate {
  int calls = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  Estimate& operator+=(const Estimate& o) {
    calls += o.calls;
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    return *this;
  }
};

class Step {
 public:
  enum class Kind { anchor, story, select, fill, narrative };
  virtual ~Step() = default;
  [[nodiscard]] virtual Kind kind() const = 0;
  [[nodiscard]] virtual std::string name() const = 0;    // "anchor age", "story values, attitude", "fill batch 2"
  [[nodiscard]] virtual std::string detail() const = 0;  // "table stdlib.age_structure by country, truncate 18..90"
  [[nodiscard]] virtual Estimate estimate() const { return {}; }
  // Starts the step: nullopt when it is done, else what a backend must answer.
  virtual std::optional<Ask> run(Persona& p, Scratch& s) const = 0;
  // Applies an answer to the step's ask: nullopt when done, else a re-ask.
  virtual std::optional<Ask> apply(Persona& p, Scratch& s, const Ask& ask, Answer& a) const;
  // Steps this one needs first (indices into the program), for the plan graph.
  std::vector<std::size_t> after;
};

struct PlanStep {
  std::string name, detail;
  Estimate estimate;
};
using PlanGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, PlanStep>;

struct ProgramOptions {};

class Program {
 public:
  // Precomputes the model and builds the steps. Errors go to the sink; nullptr on error.
  static std::unique_ptr<Program> compile(lang::Recipe recipe, std::shared_ptr<const tables::Library> tables,
                                          std::shared_ptr<const tax::Taxonomy> taxonomy, DiagnosticSink& sink,
                                          const ProgramOptions& opts = {});
  ~Program();

  [[nodiscard]] const Model& model() const { return *model_; }
  // Ranks the selection's candidates with `scorer` instead of the offline default (an
  // sim::EmbeddingScorer: the selection step then asks a backend for the core's embedding).
  // `description` ("embeddings text-embedding-3-small") goes into the plan and the run fingerprint.
  // Call before running; not thread-safe.
  void use_scorer(std::shared_ptr<const sim::Scorer> scorer, std::string description) {
    model_->use_scorer(std::move(scorer), std::move(description));
  }
  // The provider's embeddings are unusable: the tiers rank offline, and the plan says so.
  void fall_back_similarity(const std::string& embeddings) { model_->fall_back_similarity(embeddings); }
  [[nodiscard]] const lang::Recipe& recipe() const { return model_->recipe(); }
  [[nodiscard]] std::size_t size() const { return steps_.size(); }
  [[nodiscard]] const Step& step(std::size_t i) const { return *steps_[i]; }

  // Resets p for persona `index` of a run with seed `seed`: id, derived seed, empty state. With a
  // calibrated population (Population::build for this seed and the run's N), the calibrated anchors
  // take index's assigned values and the record its weight.
  void begin(std::uint64_t seed, std::uint64_t index, Persona& p, const Population* population = nullptr) const;
  // The persona as a record (what every sink writes).
  void to_record(const Persona& p, record::PersonaRecord& r) const;
  // The record's CSV columns for this recipe.
  [[nodiscard]] record::CsvColumns csv_columns() const;

  // Per-persona cost with an LLM backend: the sum of the steps' estimates.
  [[nodiscard]] Estimate estimate() const;
  [[nodiscard]] PlanGraph graph() const;
  // What `persona plan` prints; `backend` names who answers ("offline" or a provider).
  [[nodiscard]] std::string to_text(std::string_view backend = "offline") const;
  [[nodiscard]] std::string to_dot() const;  // Graphviz (boost::write_graphviz)

 private:
  Program() = default;
  std::unique_ptr<Model> model_;
  std::vector<std::unique_ptr<Step>> steps_;
  ProgramOptions opts_;
};

// Token estimate of one LLM call, the formula every step's estimate uses:
//   prompt     = kSystemTokens + instruction_tokens + context_tokens + slots * kSlotPromptTokens
//   completion = slots * kSlotCompletionTokens + extra_completion
// where context_tokens is the profile the call sends (anchors, story, earlier answers). Calibrated on
// the requests the LLM backend sends, counted as the loopback server does (request bytes / 4).
inline constexpr std::int64_t kSystemTokens = 180;        // system.txt and the request envelope
inline constexpr std::int64_t kSlotPromptTokens = 6;      // "12 Leaf (the gist of its description)"
inline constexpr std::int64_t kSlotCompletionTokens = 7;  // {"n":12,"v":"a short value"}
inline constexpr std::int64_t kFillTaskTokens = 120;      // batch.txt and the answers' schema
inline constexpr std::int64_t kFactTokens = 8;            // "occupation: Sales workers" in the profile
inline constexpr std::int64_t kLatentFactTokens = 4;      // "smoking: former": a latent fact in the profile
inline constexpr std::int64_t kAnswerTokens = 10;         // "Leaf = value" lines in the profile
Estimate estimate_call(std::int64_t instruction_tokens, std::int64_t context_tokens, std::int64_t slots,
                       std::int64_t extra_completion);
// Rough token count of a text (words * 1.35, at least 1 for non-empty text).
std::int64_t estimate_tokens(std::string_view text);

// Story calls: consecutive steps without their own `prompt` share one structured call; a step with a
// `prompt` gets its own.
std::vector<std::vector<std::size_t>> story_call_groups(const lang::Recipe& r);

// The taxonomy a recipe names: a stdlib name ("stdlib.core") or a file path. nullptr on error.
std::shared_ptr<const tax::Taxonomy> load_taxonomy(const lang::Recipe& r, DiagnosticSink& sink);

// The persona's core as the similarity scorers see it: anchor values, derived facts and story outputs,
// one text each (`out` is cleared); core_text joins them with "; " (what an embeddings model embeds).
void core_texts(const Persona& p, std::vector<std::string>& out);
std::string core_text(const Persona& p);

// Selection explained (the REPL's :why): why the attribute at `path` was or was not chosen for
// persona p, whose anchors and story are already drawn. Runs the selection itself.
struct Explanation {
  std::string text;
  bool found = true;  // false: `path` names no node
};
Explanation explain_selection(const Program& prog, Persona& p, Scratch& s, std::string_view path);

}  // namespace persona::engine

namespace persona::engine {

// A recipe file -> its program: parse, check, load the tables and the taxonomy, compile. Every
// problem goes to `diags` (taxonomy warnings are left to `persona taxonomy check`); nullptr on error.
std::unique_ptr<Program> load_program(const std::string& file, SourceFiles& sources, DiagnosticList& diags,
                                      const ProgramOptions& opts = {});

}  // namespace persona::engine
