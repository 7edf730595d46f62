// Backends answer the Asks of a program's steps (engine/ask.hpp).
//
// Offline answers at once, deterministically, from the taxonomy's value options, lexicons and
// templates. Llm turns an Ask into a chat request (prompt templates from stdlib/prompts, the
// persona's profile, a JSON schema) and an llm::Response back into an Answer; the schedulers in
// interpreter/exec send the requests. Neither checks answers: the asking step does, the same way
// for both.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "diag/diagnostic.hpp"
#include "engine/program.hpp"
#include "llm/client.hpp"
#include "llm/providers.hpp"

namespace persona::backend {

class Offline {
 public:
  // Answers `ask` into `out` (cleared first; its buffers are reused, so a worker that keeps one Answer
  // allocates nothing in the steady state).
  void answer(const engine::Program& prog, const engine::Persona& p, const engine::Ask& ask, engine::Answer& out) const;
  [[nodiscard]] engine::Answer answer(const engine::Program& prog, const engine::Persona& p,
                                      const engine::Ask& ask) const {
    engine::Answer a;
    answer(prog, p, ask, a);
    return a;
  }
};

// ---- prompt templates (stdlib/prompts/*.txt) ----
struct Template {
  std::string system;  // before a line "---"
  std::string user;    // after it
};
struct Templates {
  std::string system;  // system.txt: the same for every call, so a provider's prefix cache serves it
  Template story, batch, narrative, repair;  // the tasks (their `user`), after the profile
  std::string fingerprint;                   // SHA-256 over the files (the run fingerprint includes it)
};
// Loads system.txt, story.txt, batch.txt, narrative.txt and repair.txt from `dir` (default stdlib/prompts).
std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error);
std::filesystem::path default_prompts_dir();
// Replaces every `{name}` for which lookup gives a value; other braces are kept.
std::string render(std::string_view tpl, const std::function<std::optional<std::string>(std::string_view)>& lookup);

// ---- what an LLM run talks to ----
struct Setup {
  llm::Provider provider;  // with the recipe's / --model's model name
  double temperature = 0.7;
  int max_tokens = 0;
  Templates templates;
  std::string config_file;  // the persona.toml that defined the provider ("" for the built-in one)
};

struct ResolveOptions {
  std::string llm;          // --llm NAME ("" = the recipe's model provider when configured, else offline)
  std::string config;       // --config PATH ("" = look for persona.toml)
  std::string model;        // --model NAME (overrides)
  std::string prompts_dir;  // "" = stdlib/prompts
  std::string recipe_dir;   // where the recipe lives: persona.toml is looked for there first
};
// nullopt + no errors = offline; nullopt + errors = error; otherwise the provider.
std::optional<Setup> resolve(const lang::Recipe& r, const ResolveOptions& o, DiagnosticSink& sink, bool& offline);

// When the provider names an `embedding_model` in persona.toml, the program's selection ranks its
// near / mid / far tiers by embeddings: the taxonomy's node vectors are embedded now on a client for
// the provider (batched; kept in `cache_dir` by model and text hash, so a rerun sends nothing) and each
// persona's core is embedded by its select step. Returns true when nothing is to be done or it is
// done; an endpoint that fails or answers wrong counts or dimensions is an error naming the provider
// (no fallback to another ranking).
bool use_embeddings(engine::Program& prog, const Setup& s, const std::filesystem::path& cache_dir,
                    const llm::Options& client_options, DiagnosticSink& sink);

struct ProfileStats;

class Llm {
 public:
  explicit Llm(Setup s) : s_(std::move(s)) {}
  [[nodiscard]] const Setup& setup() const { return s_; }
  // The chat request for an Ask. `log`, when given, receives the system and user prompts; `stats`,
  // how many earlier answers the profile showed (fewer than all when the provider's context_window
  // left no room for them).
  [[nodiscard]] llm::Request request(const engine::Program& prog, const engine::Persona& p, const engine::Ask& ask,
                                     engine::CallLog* log = nullptr, ProfileStats* stats = nullptr) const;
  // The Answer in a response (a failed call gives ok = false; a cancelled or circuit-broken one, fatal).
  [[nodiscard]] engine::Answer parse(const engine::Program& prog, const engine::Persona& p, const engine::Ask& ask,
                                     const llm::Response& r) const;

 private:
  Setup s_;
};

// Compacts a taxonomy path to its last two segments ("Food Preference/Vegan").
std::string compact_path(std::string_view path);
// A leaf's description cut to its gist for a fill prompt ("Whether the person keeps objects handed down
// from ancestors" -> "the person keeps objects handed down from").
std::string short_description(std::string_view description);

struct ProfileOptions {
  std::int64_t budget_tokens = 0;    // 0: the whole profile
  std::vector<std::uint32_t> focus;  // the slots the call is about (what "related" means when cutting)
};
struct ProfileStats {
  std::size_t answers = 0;  // earlier answers of this persona
  std::size_t shown = 0;    // of which the profile shows
};
// The persona's profile as every call sees it: anchors and derived facts, the story, then every
// earlier answer in the order it came ("Parent: Leaf = value; Leaf = value" lines, "n/a" when the
// attribute does not apply), so the profile of a later call starts with an earlier call's. Over the
// budget, the answers least related to `focus` are left out first.
std::string profile_text(const engine::Model& m, const engine::Persona& p, const ProfileOptions& o = {},
                         ProfileStats* stats = nullptr);

}  // namespace persona::backend
