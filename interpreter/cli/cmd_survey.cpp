// persona survey PERSONAS.jsonl --questions Q.toml [--targets T.csv] --mode random -o DIR
// (docs/survey.md): personas answer a questionnaire; their answer distributions are compared with
// real survey distributions.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/files.hpp"
#include "cli/commands.hpp"
#include "cli/provider.hpp"
#include "cli/render.hpp"
#include "llm/cache.hpp"
#include "llm/client.hpp"
#include "llm/models.hpp"
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
  std::string cache;
  bool no_cache = false;
  int concurrency = 0;
  bool quiet = false;
};

std::optional<llm::Provider> resolve_provider(const SurveyArgs& a, DiagnosticList& diags) {
  return resolve_cli_provider(a.config, a.llm, a.model, diags);
}

bool write_file(const fs::path& path, std::string_view text) {
  std::string err;
  if (!files::write_atomic(path, text, err)) {
    std::cerr << "persona survey: " << err << "\n";
    return false;
  }
  return true;
}

// What the LLM modes asked and got; said on stderr and in metrics.json.
struct LlmTotals {
  long calls = 0;         // requests answered (by the provider or the cache), re-asks included
  long sent = 0;          // of them answered by the provider
  long from_cache = 0;    // of them answered by the response cache
  long reasks = 0;        // re-asks for invalid items
  long failed = 0;        // requests that failed (their items are recorded invalid)
  long answered = 0;      // items with a valid answer (a code or a missing code)
  long invalid = 0;       // items still invalid after the re-ask (failed requests' items included)
  llm::Usage usage;       // of every answer, the cached ones included (what the survey costs)
  llm::Usage sent_usage;  // of the answers the provider sent in this run
  std::string provider;
  std::string fatal;  // a failure that stops the run (401/403/404), said in the user's terms
  std::string first_error;
  std::vector<std::string> why;  // the first reasons for invalid items
  bool interrupted = false;      // a SIGINT/SIGTERM stopped the asking
  std::size_t jobs = 0;          // persona x item group x repeat
  std::size_t whole = 0;         // of them answered whole (every item final) before a stop

  [[nodiscard]] nlohmann::json to_json() const {
    const double n = answered > 0 ? static_cast<double>(answered) : 1.0;
    return {{"calls", calls},
            {"sent", sent},
            {"from_cache", from_cache},
            {"reasks", reasks},
            {"failed", failed},
            {"answered", answered},
            {"invalid", invalid},
            {"prompt_tokens", usage.prompt_tokens},
            {"completion_tokens", usage.completion_tokens},
            {"prompt_tokens_per_answer", answered > 0 ? static_cast<double>(usage.prompt_tokens) / n : 0.0},
            {"completion_tokens_per_answer", answered > 0 ? static_cast<double>(usage.completion_tokens) / n : 0.0},
            {"sent_prompt_tokens", sent_usage.prompt_tokens},
            {"sent_completion_tokens", sent_usage.completion_tokens}};
  }
};

// Every persona x item group x repeat asked through the one LLM client: many requests in flight
// (the client's concurrency), each reply checked, invalid items re-asked once, then recorded
// invalid. The answers come back ordered by (persona, item, repeat) whatever the completion order.
// When a stop signal arrives nothing more is sent, the requests in flight are cancelled, and
// `whole` gets the answers of the jobs that were answered whole (every item final) before it.
std::vector<survey::Answer> ask_llm(const survey::Questionnaire& q, const std::vector<survey::PersonaRecord>& people,
                                    int repeats, const survey::Templates& t, const llm::Provider& provider,
                                    const survey::CallOptions& co, llm::Cache* cache, int concurrency, LlmTotals& tot,
                                    std::vector<survey::Answer>& whole) {
  const auto groups = survey::item_groups(q);
  const std::size_t G = groups.size(), R = static_cast<std::size_t>(std::max(1, repeats));
  const std::size_t jobs = people.size() * G * R;
  tot.jobs = jobs;
  std::vector<std::vector<survey::Answer>> results(jobs);
  std::vector<char> done(jobs, 0);  // every item of the job has its final answer from a reply
  llm::Options lo;
  lo.max_concurrency = concurrency;
  lo.cache = cache;
  llm::Client client(provider, lo);
  const std::size_t window =
      static_cast<std::size_t>(std::max(16, 4 * (concurrency > 0 ? concurrency : provider.max_concurrency)));
  bool stop = false;
  auto record_invalid = [&](std::size_t k, const survey::PersonaRecord& p, const std::vector<std::size_t>& items,
                            int repeat) {
    for (auto& x : survey::invalid_answers(p, items, repeat, co.mode)) results[k].push_back(x);
  };
  std::function<void(std::size_t, survey::SurveyCall, bool)> send = [&](std::size_t k, survey::SurveyCall call,
                                                                        bool again) {
    const survey::PersonaRecord& p = people[k / (G * R)];
    llm::Request req;
    req.body = std::move(call.body);
    req.tag = p.id + ":" + call.step;
    client.submit(std::move(req), [&, k, again, items = std::move(call.items), repeat = call.repeat](llm::Response r) {
      const survey::PersonaRecord& person = people[k / (G * R)];
      if (!r.ok()) {
        if (r.status != llm::Response::Status::cancelled) {
          ++tot.failed;
          if (llm::stops_the_run(r.http_status) && tot.fatal.empty()) {
            tot.fatal = llm::describe_failure(provider, r.http_status, r.error, r.replica);
            if (tot.fatal.find("'" + provider.name + "'") == std::string::npos)
              tot.fatal = "provider '" + provider.name + "': " + tot.fatal;
            stop = true;
          }
          if (tot.first_error.empty()) tot.first_error = r.error;
        }
        record_invalid(k, person, items, repeat);
        return;
      }
      ++tot.calls;
      ++(r.from_cache ? tot.from_cache : tot.sent);
      tot.usage += r.usage;
      if (!r.from_cache) tot.sent_usage += r.usage;
      auto parsed = survey::parse_reply(q, person, items, repeat, co.mode, r.content);
      for (auto& x : parsed.answers) results[k].push_back(x);
      if (parsed.invalid.empty()) {
        done[k] = 1;
        return;
      }
      if (again || stop) {
        done[k] = again ? 1 : 0;  // a re-ask a stop prevented leaves the job unfinished
        for (const auto& w : parsed.why)
          if (tot.why.size() < 5) tot.why.push_back(person.id + " r" + std::to_string(repeat) + ": " + w);
        record_invalid(k, person, parsed.invalid, repeat);
        return;
      }
      ++tot.reasks;
      send(k, survey::reask_call(q, person, parsed, repeat, t, provider, co), true);
    });
  };
  std::size_t next = 0;
  while (true) {
    // A signal once every reply is in changes nothing here (the caller checks before writing).
    if (g_stop.load() && !stop && (next < jobs || client.pending() > 0)) {
      stop = true;
      tot.interrupted = true;
    }
    while (!stop && next < jobs && client.pending() < window) {
      const std::size_t k = next++;
      const auto& p = people[k / (G * R)];
      send(k, survey::survey_call(q, p, groups[(k / R) % G], static_cast<int>(k % R), t, provider, co), false);
    }
    if (stop) client.cancel_all();
    if (client.pending() == 0 && (stop || next >= jobs)) break;
    client.poll(100);
  }
  // Requests never sent (a run stopped early) leave their items unanswered.
  for (std::size_t k = next; k < jobs; ++k)
    record_invalid(k, people[k / (G * R)], groups[(k / R) % G], static_cast<int>(k % R));
  std::vector<survey::Answer> out;
  out.reserve(people.size() * q.items.size() * R);
  whole.clear();
  for (std::size_t k = 0; k < jobs; ++k)
    for (const auto& x : results[k]) {
      out.push_back(x);
      if (done[k]) whole.push_back(x);
    }
  tot.whole = static_cast<std::size_t>(std::count(done.begin(), done.end(), 1));
  const auto order = [](const survey::Answer& x, const survey::Answer& y) {
    return std::tie(x.persona, x.item, x.repeat) < std::tie(y.persona, y.item, y.repeat);
  };
  std::sort(out.begin(), out.end(), order);
  std::sort(whole.begin(), whole.end(), order);
  for (const auto& x : out) ++(x.status == survey::AnswerStatus::invalid ? tot.invalid : tot.answered);
  return out;
}

std::string llm_summary(const LlmTotals& t) {
  const double n = static_cast<double>(t.answered);
  auto per = [&](long tokens) { return t.answered > 0 ? static_cast<double>(tokens) / n : 0.0; };
  return fmt::format(
      "{} calls ({} sent, {} from the cache, {} re-asks, {} failed); {} prompt tokens and {} completion tokens "
      "({:.1f} and {:.1f} per answered item; sent in this run: {} and {}); {} items answered, {} invalid",
      t.calls, t.sent, t.from_cache, t.reasks, t.failed, t.usage.prompt_tokens, t.usage.completion_tokens,
      per(t.usage.prompt_tokens), per(t.usage.completion_tokens), t.sent_usage.prompt_tokens,
      t.sent_usage.completion_tokens, t.answered, t.invalid);
}

int run_survey(const SurveyArgs& a) {
  // From the start: a signal while the inputs load stops before any answer (exit 4, nothing
  // written); one after the files were written changes nothing.
  if (!a.dry_run) catch_stop_signals();
  DiagnosticList diags;
  SourceFiles sources;
  auto fail = [&](int code) {
    print_diagnostics(diags, sources);
    return code;
  };
  // A stop signal outside the LLM calls: nothing of this run is written, the same command redoes it
  // (the LLM modes' answers so far come back from the response cache).
  auto stopped = [&](const char* before) {
    print_diagnostics(diags, sources);
    std::cerr << "persona survey: stopped by a signal before " << before
              << "; nothing was written. Run the same command again"
              << (a.answers.empty() && a.mode != "random" && !a.no_cache
                      ? " (the answers so far come from the response cache)"
                      : "")
              << "\n";
    return Exit::interrupted;
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

  if (g_stop.load()) return stopped("any answer");

  std::vector<survey::Answer> answers;
  LlmTotals llm_totals;
  bool asked_llm = false;
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
    const survey::CallOptions co{.mode = *mode, .seed = a.seed, .temperature = a.temperature, .max_tokens = 0};
    if (a.dry_run) {
      const auto e = survey::estimate(*q, *people, a.repeats, *t, *provider, co);
      print_diagnostics(diags, sources);
      std::cout << fmt::format(
          "mode {}: {} calls ({} personas x {} item groups x {} repeats), {} prompt tokens ({} cacheable by a prefix "
          "cache), {} completion tokens, ${:.4f} at {}'s prices\n",
          a.mode, e.calls, people->size(), survey::item_groups(*q).size(), a.repeats, e.prompt_tokens,
          e.cacheable_tokens, e.completion_tokens, e.cost, provider->name);
      return Exit::ok;
    }
    // A missing key is said before anything is sent or written.
    if (const std::string why = llm::key_problem(*provider); !why.empty()) {
      print_diagnostics(diags, sources);
      std::cerr << "persona survey: error: " << why << "\n";
      return Exit::usage_error;
    }
    std::error_code ec;
    fs::create_directories(a.out, ec);
    if (ec) {
      std::cerr << "persona survey: cannot create " << a.out << ": " << ec.message() << "\n";
      return Exit::runtime_error;
    }
    std::unique_ptr<llm::Cache> cache;
    if (!a.no_cache) {
      const fs::path file = a.cache.empty() ? fs::path(a.out) / "cache.sqlite" : fs::path(a.cache);
      std::string why;
      cache = llm::Cache::open(file, &why);
      if (!cache) {
        std::cerr << "persona survey: cannot open the response cache " << file.string() << ": " << why << "\n";
        return Exit::runtime_error;
      }
    }
    llm_totals.provider = provider->name;
    std::vector<survey::Answer> kept;  // of the requests answered whole, when a signal stops the asking
    answers = ask_llm(*q, *people, a.repeats, *t, *provider, co, cache.get(), a.concurrency, llm_totals, kept);
    asked_llm = true;
    if (!llm_totals.fatal.empty()) {
      print_diagnostics(diags, sources);
      std::cerr << "persona survey: error: " << llm_totals.fatal << "\n";
      if (!a.quiet) std::cerr << "persona survey: " << llm_summary(llm_totals) << "\n";
      return Exit::runtime_error;
    }
    if (llm_totals.interrupted) {
      // The whole answers so far: in the response cache (what the rerun resumes from) and, to look
      // at, in answers.csv.part; answers.csv and the metrics are not written.
      print_diagnostics(diags, sources);
      const fs::path part = fs::path(a.out) / "answers.csv.part";
      const bool wrote = write_file(part, survey::answers_csv(*q, *people, kept));
      std::cerr << "persona survey: stopped by a signal: " << llm_totals.whole << " of " << llm_totals.jobs
                << " requests (persona x item group x repeat) were answered whole, " << kept.size() << " answers"
                << (wrote ? " in " + part.string() : std::string())
                << "; answers.csv and the metrics are not written\n";
      if (cache)
        std::cerr << "persona survey: resume with the same command: the answers so far come from the response "
                     "cache "
                  << (a.cache.empty() ? (fs::path(a.out) / "cache.sqlite").string() : a.cache)
                  << " and only the rest is sent\n";
      else
        std::cerr << "persona survey: no response cache (--no-cache): the same command asks everything again\n";
      return Exit::interrupted;
    }
  }

  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) {
    std::cerr << "persona survey: cannot create " << a.out << ": " << ec.message() << "\n";
    return Exit::runtime_error;
  }
  // answers.csv of this run (not with --answers, whose file is the input); an answers.csv.part an
  // interrupted run left is then out of date.
  auto write_answers = [&] {
    if (!a.answers.empty()) return true;
    if (!write_file(fs::path(a.out) / "answers.csv", survey::answers_csv(*q, *people, answers))) return false;
    std::error_code rm;
    fs::remove(fs::path(a.out) / "answers.csv.part", rm);
    return true;
  };
  if (asked_llm) {
    for (const auto& w : llm_totals.why)
      std::cerr << "persona survey: warning: invalid after the re-ask: " << w << "\n";
    if (!a.quiet) std::cerr << "persona survey: " << llm_summary(llm_totals) << "\n";
    if (llm_totals.failed > 0) {
      if (g_stop.load()) return stopped("answers.csv was written");
      if (!write_answers()) return Exit::runtime_error;
      std::cerr << "persona survey: error: " << llm_totals.failed << " requests to provider '" << llm_totals.provider
                << "' failed (first: " << llm_totals.first_error
                << "); their items are recorded invalid in answers.csv. Run the same command again to ask them "
                   "again: the answered ones come from the response cache\n";
      return Exit::runtime_error;
    }
  }
  if (!targets) {
    if (g_stop.load()) return stopped("answers.csv was written");
    if (!write_answers()) return Exit::runtime_error;
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
  eo.stop = &g_stop;
  const auto report = survey::evaluate(*q, *people, answers, *targets, eo, diags);
  // A signal during the metrics (the bootstrap is the long part) stops before anything is written,
  // so that answers.csv and the metrics never disagree; one from here on changes nothing.
  if (report.interrupted || g_stop.load()) return stopped("answers.csv and the metrics were written");
  print_diagnostics(diags, sources);
  auto metrics_json = survey::metrics_json(report);
  if (asked_llm) metrics_json["llm"] = llm_totals.to_json();
  if (!write_answers() || !write_file(fs::path(a.out) / "metrics.csv", survey::metrics_csv(report)) ||
      !write_file(fs::path(a.out) / "metrics.json", metrics_json.dump(2) + "\n"))
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
  s->add_option("--seed,-s", a->seed, "Seed of every draw: answers, request seeds, bootstrap, noise floor (default 0)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  s->add_option("--repeats,-r", a->repeats, "Answers per persona and item, 1 to 100 (default 1)")
      ->check(whole_number(1, 100));
  s->add_option("--out,-o", a->out, "Output folder: answers.csv, metrics.csv, metrics.json");
  s->add_option("--bootstrap", a->bootstrap, "Bootstrap replicates for the intervals (default 200; 0: none)")
      ->check(whole_number(0, 100000));
  s->add_option("--floor-draws", a->floor_draws, "Samples drawn from the target for the noise floor (default 50)")
      ->check(whole_number(0, 100000));
  s->add_option("--confidence", a->confidence, "Interval coverage, between 0 and 1 (default 0.95)")
      ->check(finite_number(0, 1));
  s->add_flag("--reference", a->reference,
              "The reference implementation's conventions: mean of repeats per persona, raw W1, 19-bin natural-log "
              "JS distance, first respondents of microdata");
  s->add_flag("--dry-run", a->dry_run, "Print the calls and tokens an LLM mode would need; send nothing");
  s->add_option("--llm", a->llm, "Provider of persona.toml (or openai) for the LLM modes");
  s->add_option("--config", a->config, "persona.toml with the [providers] (default: ./persona.toml if present)");
  s->add_option("--model", a->model, "Model name (overrides the provider's)");
  s->add_option("--temperature", a->temperature, "Sampling temperature of the LLM modes, 0 to 2 (default 1.0)")
      ->check(finite_number(0, 2));
  s->add_option("--prompts", a->prompts, "Folder of prompt templates (default: stdlib/prompts)");
  s->add_option("--cache", a->cache, "Response cache of the LLM modes (default: OUT/cache.sqlite)");
  s->add_flag("--no-cache", a->no_cache, "LLM modes: no response cache (every request is sent)");
  s->add_option("--concurrency", a->concurrency, "LLM modes: requests in flight at most (default: the provider's)")
      ->check(whole_number(0, 1024));
  s->add_flag("--quiet,-q", a->quiet, "No summary on stderr");
  s->footer(
      "Writes OUT/answers.csv, and with --targets OUT/metrics.csv and OUT/metrics.json (draw them with `persona "
      "report --survey OUT`). Resume: the LLM modes keep every answer in the response cache, so after a kill, a "
      "signal or failed requests the same command sends only what is missing and gives the results of an "
      "uninterrupted run. SIGINT/SIGTERM: the first stops cleanly (no request sent after it, the answers so far in "
      "the cache and in OUT/answers.csv.part, answers.csv and the metrics not written, exit 4); a second exits at "
      "once.\nExit codes: 0 ok; 1 bad input (questionnaire, targets, personas, answers) or nothing to compare; 2 "
      "usage (a bad option or number, an LLM mode's key variable not set); 3 output not writable, the provider "
      "rejected the key or the model, or requests still failed (their items written invalid); 4 stopped by "
      "SIGINT/SIGTERM (run the same command again).");
  s->callback([a, &code] { code = run_survey(*a); });
}

std::optional<llm::Provider> resolve_cli_provider(const std::string& config_file, const std::string& llm_name,
                                                  const std::string& model, DiagnosticList& diags) {
  std::string config = config_file;
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
  const std::string name = llm_name.empty() ? set->default_name : llm_name;
  const llm::Provider* p = set->find(name);
  if (p == nullptr) {
    std::string known;
    for (const auto& q : set->providers) known += (known.empty() ? "" : ", ") + q.name;
    diags.error(SourceRange{config.empty() ? std::string("--llm") : config, 0, 0, 0}, "unknown-provider",
                "no provider '" + name + "' (known: " + known + ")");
    return std::nullopt;
  }
  llm::Provider out = *p;
  if (!model.empty()) out.model = model;
  return out;
}

}  // namespace persona::cli
