// Backends answer the Asks of a program's steps (engine/ask.hpp).
//
// Offline answers at once, deterministically, from the taxonomy's value options, lexicons and
// templates. Llm turns an Ask into a chat request (prompt templates from stdlib/prompts, the
// persona's profile, a JSON schema) and an llm::Response back into an Answer; the schedulers in
// interpreter/exec send the requests. Neither checks answers: the asking step does, the same way
// for both.
#pragma once

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
  [[nodiscard]] engine::Answer answer(const engine::Program& prog, const engine::Persona& p,
                                      const engine::Ask& ask) const;
};

// ---- prompt templates (stdlib/prompts/*.txt) ----
struct Template {
  std::string system;  // before a line "---"
  std::string user;    // after it
};
struct Templates {
  Template story, batch, narrative, repair;
  std::string fingerprint;  // SHA-256 over the four files (the run fingerprint includes it)
};
// Loads story.txt, batch.txt, narrative.txt and repair.txt from `dir` (default stdlib/prompts).
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

class Llm {
 public:
  explicit Llm(Setup s) : s_(std::move(s)) {}
  [[nodiscard]] const Setup& setup() const { return s_; }
  // The chat request for an Ask. `log`, when given, receives the system and user prompts.
  [[nodiscard]] llm::Request request(const engine::Program& prog, const engine::Persona& p, const engine::Ask& ask,
                                     engine::CallLog* log = nullptr) const;
  // The Answer in a response (a failed call gives ok = false; a cancelled or circuit-broken one, fatal).
  [[nodiscard]] engine::Answer parse(const engine::Program& prog, const engine::Persona& p, const engine::Ask& ask,
                                     const llm::Response& r) const;

 private:
  Setup s_;
};

// Compacts a taxonomy path to its last two segments ("Food Preference/Vegan").
std::string compact_path(std::string_view path);
// The profile lines of persona p for a call about slots [first, last): anchors and derived facts, the
// story, then the filled attributes most relevant to those slots while the context budget lasts.
std::string profile_text(const engine::Model& m, const engine::Persona& p, std::size_t first, std::size_t last,
                         std::int64_t budget_tokens);

}  // namespace persona::backend
