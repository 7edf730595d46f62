// LLM slot-filling for the engine: prompts, an asynchronous driver that keeps many personas in
// flight on one llm::Client, a synchronous engine::Backend over the same prompts, and the
// dry-run estimate.
//
//   auto setup = generate::resolve(recipe, {.llm = "local", .config = "persona.toml"}, sink);
//   generate::DriverOptions d{.concurrency = 32, .cache_path = "out.jsonl.cache.sqlite"};
//   auto res = generate::run(model, run_options, *setup, d);   // JSONL + manifest, resumable
//
// Persona i depends only on (recipe, seed, i) and the answers the server gives: prompts and request
// seeds are built from the persona's own state, never from other personas or the schedule.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/diagnostic.hpp"
#include "engine/engine.hpp"
#include "engine/plan.hpp"
#include "engine/runner.hpp"
#include "llm/client.hpp"
#include "llm/providers.hpp"

namespace persona::generate {

// ---- prompt templates (stdlib/prompts/*.txt) ----
struct Template {
  std::string system;  // before a line "---"
  std::string user;    // after it
};
struct Templates {
  Template story, batch, narrative, repair;
};
// Loads story.txt, batch.txt, narrative.txt and repair.txt from `dir` (default stdlib/prompts).
std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error);
std::filesystem::path default_prompts_dir();
// Replaces every `{name}` for which lookup gives a value; other braces are kept.
std::string render(std::string_view tpl, const std::function<std::optional<std::string>(std::string_view)>& lookup);

// ---- what a run talks to ----
struct Setup {
  llm::Provider provider;  // with the recipe's / --model's model name
  double temperature = 0.7;
  int max_tokens = 0;
  Templates templates;
};

struct ResolveOptions {
  std::string llm;               // --llm NAME ("" = the recipe's model provider when configured, else offline)
  std::string config;            // --config PATH ("" = ./persona.toml when present)
  std::string model;             // --model NAME (overrides)
  std::string prompts_dir;       // "" = stdlib/prompts
};
// nullopt + no diagnostics = offline; nullopt + errors = error; otherwise the provider.
std::optional<Setup> resolve(const lang::Recipe& r, const ResolveOptions& o, DiagnosticSink& sink, bool& offline);

// ---- prompts (exposed for tests and the estimate) ----
// Compacts a taxonomy path to its last two segments ("Food Preference/Vegan").
std::string compact_path(std::string_view path);
// The profile lines: anchors and derived facts, the story, then the filled attributes most
// relevant to slots [first, last) while the context budget (tokens = chars / 4) lasts.
std::string profile_text(const engine::Model& m, const engine::Persona& p, std::size_t first, std::size_t last,
                         std::int64_t budget_tokens);

struct Call {
  nlohmann::json body;
  std::vector<std::string> keys;  // schema keys asked
  std::string step;               // "story", "story:NAME", "fill:K", "narrative"
};
// The story calls: consecutive steps without their own prompt share one structured call whose
// schema lists them in dependency order; a step with a `prompt` gets its own call.
std::vector<std::vector<std::size_t>> story_groups(const lang::Recipe& r);
Call story_call(const engine::Model& m, const engine::Persona& p, const Setup& s, const std::vector<std::size_t>& steps);
// A fill call for slots [first, last), or only those listed in `only` (positions) when re-asking.
Call fill_call(const engine::Model& m, const engine::Persona& p, const Setup& s, std::size_t first, std::size_t last,
               const std::vector<std::size_t>* only = nullptr, bool repair = false);
Call narrative_call(const engine::Model& m, const engine::Persona& p, const Setup& s);
// Apply answers. They return the keys still missing.
std::vector<std::string> apply_story(const engine::Model& m, engine::Persona& p, const std::vector<std::size_t>& steps,
                                     const std::string& content);
// `slots` are the positions the call asked for, in key order (a1 = slots[0], ...).
std::vector<std::size_t> apply_fill(const engine::Model& m, engine::Persona& p, const std::vector<std::size_t>& slots,
                                    const std::string& content);

// ---- the asynchronous driver ----
struct Progress {
  std::uint64_t done = 0, total = 0;
  int in_flight = 0;
  long prompt_tokens = 0, completion_tokens = 0;
  double cost = 0, seconds = 0, eta_seconds = -1;
};

struct DriverOptions {
  int concurrency = 0;             // 0: the provider's max_concurrency
  std::string cache_path;          // "" = no cache
  double budget_usd = -1;          // < 0: none
  llm::Options client;             // timeouts, retries, breaker (provider's when left at defaults)
  std::function<void(const Progress&)> progress;  // called about every 200 ms from the driver
  const std::atomic<bool>* stop = nullptr;          // set (e.g. by SIGINT) to stop cleanly
};

struct DriverResult {
  engine::RunResult run;  // ok, totals, manifest path, error
  bool interrupted = false;
  std::string reason;     // why interrupted (circuit open, budget, signal)
  llm::Stats stats;
};

DriverResult run(const engine::Model& m, engine::RunOptions opts, const Setup& s, const DriverOptions& d);

// ---- synchronous backend (REPL :run): one request at a time through the same prompts ----
std::unique_ptr<engine::Backend> make_backend(const Setup& s, llm::Cache* cache);

// ---- dry run ----
struct DryRun {
  std::uint64_t personas = 0;
  engine::Estimate per_persona;
  double cost_per_persona = 0, cost = 0;
};
DryRun dry_run(const lang::Recipe& r, const llm::Provider& p, std::uint64_t personas);

}  // namespace persona::generate
