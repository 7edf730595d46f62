// persona survey PERSONAS.jsonl --questions Q.toml [--targets T.csv] --mode random -o DIR
// (docs/survey.md): personas answer a questionnaire; their answer distributions are compared with
// real survey distributions.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "base/files.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "survey/survey.hpp"

namespace persona::cli {

namespace {

namespace fs = std::filesystem;

struct SurveyArgs {
  std::string personas;
  std::string questions;
  std::string targets;
  std::string answers;
  std::string mode = "random";
  std::uint64_t seed = 0;
  int repeats = 1;
  std::string out;
  int bootstrap = 200;
  int floor_draws = 50;
  double confidence = 0.95;
  bool reference = false;
  bool dry_run = false;
  std::string llm;
  std::string config;
  std::string model;
  double temperature = 1.0;
  std::string prompts;
  bool quiet = false;
};

std::optional<llm::Provider> resolve_provider(const SurveyArgs& a, DiagnosticList& diags) {
  std::string config = a.config;
  std::error_code ec;
  if (config.empty() && fs::exists("persona.toml", ec)) config = "persona.toml";
  std::optional<llm::ProviderSet> set;
  if (!config.empty()) {
    if (!fs::exists(config, ec)) {
      diags.error(SourceRange{config, 0, 0, 0}, "no-config", "cannot read " + config + ": no such file");
      return std::nullopt;
    }
    set = llm::load_providers(config, diags);
    if (!set) return std::nullopt;
  } else {
    set = llm::builtin_providers();
  }
  const std::string name = a.llm.empty() ? set->default_name : a.llm;
  const llm::Provider* p = set->find(name);
  if (p == nullptr) {
    std::string known;
    for (const auto& q : set->providers) known += (known.empty() ? "" : ", ") + q.name;
    diags.error(SourceRange{config.empty() ? std::string("--llm") : config, 0, 0, 0}, "unknown-provider",
                "no provider '" + name + "' (known: " + known + ")");
    return std::nullopt;
  }
  llm::Provider out = *p;
  if (!a.model.empty()) out.model = a.model;
  return out;
}

bool write_file(const fs::path& path, std::string_view text) {
  std::string err;
  if (!files::write_atomic(path, text, err)) {
    std::cerr << "persona survey: " << err << "\n";
    return false;
  }
  return true;
}

int run_survey(const SurveyArgs& a) {
  DiagnosticList diags;
  SourceFiles sources;
  auto fail = [&](int code) {
    print_diagnostics(diags, sources);
    return code;
  };
  const auto mode = survey::parse_mode(a.mode);
  if (!mode) {
    std::cerr << "persona survey: unknown --mode " << a.mode << " (random, deep, demographics, cultural)\n";
    return Exit::usage_error;
  }
  if (a.repeats < 1 || a.repeats > 100) {
    std::cerr << "persona survey: --repeats must be from 1 to 100\n";
    return Exit::usage_error;
  }
  if (!(a.confidence > 0 && a.confidence < 1)) {
    std::cerr << "persona survey: --confidence must be between 0 and 1\n";
    return Exit::usage_error;
  }
  if (!a.dry_run && a.out.empty()) {
    std::cerr << "persona survey: --out DIR is required (answers.csv, metrics.csv, metrics.json go there)\n";
    return Exit::usage_error;
  }
  sources.load(a.questions);
  auto q = survey::load_questionnaire(a.questions, diags);
  if (!q || diags.has_errors()) return fail(Exit::user_error);
  // The whole persona only for the LLM modes' prompts; grouping and the metrics need the anchors.
  const bool whole = a.answers.empty() && *mode != survey::Mode::random;
  auto people = survey::read_personas(a.personas, diags, whole);
  if (!people || diags.has_errors()) return fail(Exit::user_error);
  std::optional<survey::Targets> targets;
  if (!a.targets.empty()) {
    sources.load(a.targets);
    targets = survey::load_targets(a.targets, *q, diags);
    if (!targets || diags.has_errors()) return fail(Exit::user_error);
  }

  std::vector<survey::Answer> answers;
  if (!a.answers.empty()) {
    sources.load(a.answers);
    const auto rd = files::read(a.answers, {.max_bytes = 4ull << 30, .require_utf8 = true});
    if (!rd.ok()) {
      diags.error(SourceRange{a.answers, rd.error_line, rd.error_column, 0}, "answers-read", rd.error);
      return fail(Exit::user_error);
    }
    auto got = survey::parse_answers_csv(*rd.text, a.answers, *q, *people, diags);
    if (!got) return fail(Exit::user_error);
    answers = std::move(*got);
  } else if (*mode == survey::Mode::random) {
    if (a.dry_run) {
      print_diagnostics(diags, sources);
      std::cout << "mode random: 0 calls, 0 tokens (" << people->size() * q->items.size() * a.repeats
                << " answers drawn offline)\n";
      return Exit::ok;
    }
    answers = survey::random_answers(*q, *people, {.seed = a.seed, .repeats = a.repeats});
  } else {
    auto provider = resolve_provider(a, diags);
    if (!provider) return fail(Exit::usage_error);
    std::string err;
    const auto t = survey::load_templates(a.prompts.empty() ? survey::default_prompts_dir() : fs::path(a.prompts), err);
    if (!t) {
      std::cerr << "persona survey: " << err << "\n";
      return Exit::user_error;
    }
    if (!a.dry_run) {
      print_diagnostics(diags, sources);
      std::cerr << "persona survey: --mode " << a.mode
                << " needs the LLM executor, which is not wired to `persona survey` yet: use --dry-run for the "
                   "estimate, or --mode random, or --answers FILE with answers from another run\n";
      return Exit::usage_error;
    }
    const survey::CallOptions co{.mode = *mode, .seed = a.seed, .temperature = a.temperature, .max_tokens = 0};
    const auto e = survey::estimate(*q, *people, a.repeats, *t, *provider, co);
    print_diagnostics(diags, sources);
    std::cout << fmt::format(
        "mode {}: {} calls ({} personas x {} item groups x {} repeats), {} prompt tokens ({} cacheable by a prefix "
        "cache), {} completion tokens, ${:.4f} at {}'s prices\n",
        a.mode, e.calls, people->size(), survey::item_groups(*q).size(), a.repeats, e.prompt_tokens, e.cacheable_tokens,
        e.completion_tokens, e.cost, provider->name);
    return Exit::ok;
  }

  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) {
    std::cerr << "persona survey: cannot create " << a.out << ": " << ec.message() << "\n";
    return Exit::runtime_error;
  }
  if (a.answers.empty() && !write_file(fs::path(a.out) / "answers.csv", survey::answers_csv(*q, *people, answers)))
    return Exit::runtime_error;
  if (!targets) {
    print_diagnostics(diags, sources);
    if (!a.quiet)
      std::cerr << "persona survey: " << answers.size() << " answers written to " << a.out
                << "/answers.csv; no --targets, so no metrics\n";
    return Exit::ok;
  }
  survey::EvalOptions eo;
  eo.seed = a.seed;
  eo.bootstrap = a.bootstrap;
  eo.floor_draws = a.floor_draws;
  eo.confidence = a.confidence;
  eo.reference = a.reference;
  const auto report = survey::evaluate(*q, *people, answers, *targets, eo, diags);
  print_diagnostics(diags, sources);
  if (!write_file(fs::path(a.out) / "metrics.csv", survey::metrics_csv(report)) ||
      !write_file(fs::path(a.out) / "metrics.json", survey::metrics_json(report).dump(2) + "\n"))
    return Exit::runtime_error;
  if (report.cells.empty()) {
    std::cerr << "persona survey: no item had both answers and targets: nothing to compare\n";
    return Exit::user_error;
  }
  std::cout << survey::metrics_table(report);
  if (!a.quiet) std::cerr << "persona survey: wrote answers.csv, metrics.csv and metrics.json to " << a.out << "\n";
  return Exit::ok;
}

}  // namespace

void add_survey_command(CLI::App& root, int& code) {
  auto a = std::make_shared<SurveyArgs>();
  CLI::App* s = root.add_subcommand(
      "survey",
      "Personas answer a questionnaire; compare their answer distributions with real survey targets (docs/survey.md)");
  s->add_option("personas", a->personas, "Persona file (JSONL from `persona run`)")->required();
  s->add_option("--questions,-Q", a->questions, "Questionnaire (TOML)")->required();
  s->add_option("--targets,-t", a->targets, "Real answer distributions or microdata (CSV); without it no metrics");
  s->add_option("--mode,-m", a->mode, "random (offline, no calls), deep, demographics or cultural")
      ->check(CLI::IsMember({"random", "deep", "demographics", "cultural"}));
  s->add_option("--answers", a->answers, "Compute metrics from this answers.csv instead of answering");
  s->add_option("--seed,-s", a->seed, "Seed of every draw: answers, request seeds, bootstrap, noise floor (default 0)");
  s->add_option("--repeats,-r", a->repeats, "Answers per persona and item (default 1)");
  s->add_option("--out,-o", a->out, "Output folder: answers.csv, metrics.csv, metrics.json");
  s->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for the intervals (default 200; 0: none)")
      ->check(CLI::Range(0, 100000));
  s->add_option("--floor-draws", a->floor_draws, "Samples drawn from the target for the noise floor (default 50)")
      ->check(CLI::Range(0, 100000));
  s->add_option("--confidence", a->confidence, "Interval coverage (default 0.95)");
  s->add_flag("--reference", a->reference,
              "The reference implementation's conventions: mean of repeats per persona, raw W1, 19-bin natural-log "
              "JS distance, first respondents of microdata");
  s->add_flag("--dry-run", a->dry_run, "Print the calls and tokens an LLM mode would need; send nothing");
  s->add_option("--llm", a->llm, "Provider of persona.toml (or openai) for the LLM modes");
  s->add_option("--config", a->config, "persona.toml with the [providers] (default: ./persona.toml if present)");
  s->add_option("--model", a->model, "Model name (overrides the provider's)");
  s->add_option("--temperature", a->temperature, "Sampling temperature of the LLM modes (default 1.0)");
  s->add_option("--prompts", a->prompts, "Folder of prompt templates (default: stdlib/prompts)");
  s->add_flag("--quiet,-q", a->quiet, "No summary on stderr");
  s->callback([a, &code] { code = run_survey(*a); });
}

}  // namespace persona::cli
