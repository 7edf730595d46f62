// persona run FILE --count N --seed S --out PATH [--format jsonl|csv|csv-wide] [--threads N] [--shard K/N|auto
// [--shards N]]
//             [--llm NAME] ...
// persona plan FILE [--format text|dot] [--llm NAME]
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include "base/text.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "exec/exec.hpp"
#include "exec/merge.hpp"

namespace persona::cli {

// SIGINT / SIGTERM (persona run and persona survey): the first asks the command to stop cleanly
// (whole personas or answers kept, exit 4, resumable); a second one exits at once (a run's `.part`
// file still resumes: a torn last line is dropped; a survey's response cache keeps every answer).
std::atomic<bool> g_stop{false};
namespace {
extern "C" void on_signal(int) {
  if (g_stop.exchange(true)) _exit(Exit::interrupted);
}
}  // namespace

// From the start of `persona run` to its exit: a signal while the recipe loads stops the run before
// its first persona (exit 4, a `.part` that resumes), one after the run ended changes nothing. The
// signals are unblocked in case the parent blocked them (a signal it sent meanwhile arrives now).
void catch_stop_signals() {
  g_stop.store(false);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

namespace {

struct RunArgs {
  std::string file;
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> seed;
  std::string out;
  std::string format;  // "" = the recipe's `output { format }`, else jsonl
  unsigned threads = 1;
  std::string shard = "1/1";
  std::optional<unsigned> shards;  // with --shard auto: N for a Kubernetes Indexed Job
  std::string llm;                 // "" = the recipe's provider when persona.toml configures one, else offline
  std::string config;
  std::string model;
  int concurrency = 0;
  std::string cache;
  bool no_cache = false;
  bool resume = false;
  bool dry_run = false;
  std::optional<double> budget;
  std::string prompts;
  bool quiet = false;
  double max_failed_share = 0.5;
  double stall_timeout = 300;
};

struct PlanArgs {
  std::string file;
  std::string format = "text";
  std::string llm;
  std::string config;
  std::string model;
};

bool parse_shard(const std::string& s, unsigned& k, unsigned& n) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  const char* b = s.data();
  auto r1 = std::from_chars(b, b + slash, k);
  auto r2 = std::from_chars(b + slash + 1, b + s.size(), n);
  return r1.ec == std::errc() && r1.ptr == b + slash && r2.ec == std::errc() && r2.ptr == b + s.size() && n >= 1 &&
         k >= 1 && k <= n;
}

std::string fmt_tokens(double t) {
  if (t >= 1e6) return fmt::format("{:.2f}M", t / 1e6);
  if (t >= 1e4) return fmt::format("{:.1f}k", t / 1e3);
  return fmt::format("{:.0f}", t);
}

std::string recipe_dir(const std::string& file) {
  const auto parent = std::filesystem::path(file).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// The backend: --llm NAME, else the recipe's provider when a persona.toml configures one.
// Returns false (diagnostics printed) when the provider cannot be resolved.
bool resolve_backend(const lang::Recipe& r, const std::string& file, const std::string& llm, const std::string& config,
                     const std::string& model, const std::string& prompts, std::optional<backend::Setup>& setup,
                     int& code) {
  backend::ResolveOptions ro{llm, config, model, prompts, recipe_dir(file)};
  DiagnosticList pdiags;
  bool offline = false;
  setup = backend::resolve(r, ro, pdiags, offline);
  for (const auto& d : pdiags.all())
    if (d.severity == Severity::warning)
      std::cerr << (d.where.file.empty() ? std::string("persona") : to_string(d.where)) << ": warning: " << d.message
                << "\n";
  if (setup || offline) return true;
  for (const auto& d : pdiags.all())
    if (d.severity == Severity::error)
      std::cerr << (d.where.file.empty() ? std::string("persona") : to_string(d.where)) << ": error: " << d.message
                << "\n";
  code = pdiags.error_count() > 0 && llm.empty() ? Exit::user_error : Exit::usage_error;
  return false;
}

void print_summary(const exec::RunResult& res, const exec::RunOptions& o, bool llm) {
  const auto& t = res.totals;
  const double np = t.personas > 0 ? static_cast<double>(t.personas) : 1.0;
  std::string line;
  if (!llm) {
    line = fmt::format(
        "wrote {} personas ({:.1f} attributes each, {}..{}) to {} in {:.2f} s ({:.0f} personas/s); "
        "backend offline (values from the taxonomy and templates, no model)",
        t.personas, static_cast<double>(t.attributes) / np, t.min_attributes, t.max_attributes,
        o.out == "-" ? "stdout" : o.out, t.seconds, t.seconds > 0 ? static_cast<double>(t.personas) / t.seconds : 0.0);
  } else {
    line = fmt::format(
        "wrote {} personas to {} in {:.2f} s: {:.1f} attributes each ({:.1f} filled by the LLM), {:.1f} calls, "
        "{:.0f} prompt + {:.0f} completion tokens per persona; {} requests, {} retries, {} from the cache, ${:.4f}",
        t.personas, o.out == "-" ? "stdout" : o.out, t.seconds, static_cast<double>(t.attributes) / np,
        static_cast<double>(t.source[2]) / np, static_cast<double>(t.usage.calls) / np,
        static_cast<double>(t.usage.prompt_tokens) / np, static_cast<double>(t.usage.completion_tokens) / np,
        res.stats.requests, res.stats.retries, res.stats.cache_hits, res.spent_usd);
  }
  if (t.resumed > 0) line += fmt::format(" ({} kept from the interrupted run)", t.resumed);
  if (!res.manifest_path.empty()) line += "; manifest " + res.manifest_path;
  if (llm && !res.warnings.empty()) line += "; the response cache had a problem (see the warning)";
  if (res.stats.usage_clamped > 0)
    line += fmt::format("; {} answers reported token counts out of range (negative or over {}), clamped",
                        res.stats.usage_clamped, llm::kMaxCallTokens);
  std::cerr << line << "\n";
  // Several base URLs: each replica's share, and its failures (the run went on on the others).
  if (llm && res.stats.replicas.size() > 1) {
    std::vector<std::string> reps;
    for (const auto& r : res.stats.replicas) {
      std::string one = fmt::format("{} {} answers", r.url, r.succeeded);
      if (r.failed > 0)
        one += fmt::format(", {} failed attempts (set aside {} time{}{}; last: {})", r.failed, r.set_aside,
                           r.set_aside == 1 ? "" : "s", r.down ? ", down at the end" : "", r.last_error);
      reps.push_back(std::move(one));
    }
    std::cerr << "replicas: " << text::join(reps, "; ") << "\n";
  }
  // Problems, counted: attributes not filled (by kind), answers asked again, personas with problems.
  std::vector<std::string> parts;
  for (const auto& [kind, n] : exec::status_kinds(t)) parts.push_back(fmt::format("{} {}", n, kind));
  std::string problems = fmt::format("{} attributes not filled", t.not_filled);
  if (!parts.empty()) problems += " (" + text::join(parts, ", ") + ")";
  problems += fmt::format("; {} answers asked again; {} personas with problems", t.reasks, t.with_problems);
  std::cerr << "problems: " << problems << "\n";
}

int do_run(const RunArgs& a) {
  if (!a.dry_run) catch_stop_signals();
  unsigned k = 1, n = 1;
  if (a.shard == "auto") {
    std::string why;
    if (!exec::shard_from_environment([](const char* name) { return std::getenv(name); }, a.shards, k, n, why)) {
      std::cerr << "persona run: error: " << why << "\n";
      return Exit::usage_error;
    }
  } else if (a.shards) {
    std::cerr << "persona run: error: --shards goes with --shard auto (--shard K/N already says N)\n";
    return Exit::usage_error;
  } else if (!parse_shard(a.shard, k, n)) {
    std::cerr << "persona run: error: --shard expects K/N with 1 <= K <= N, or auto, got '" << a.shard << "'\n";
    return Exit::usage_error;
  }
  SourceFiles sources;
  DiagnosticList diags;
  auto prog = engine::load_program(a.file, sources, diags);
  print_diagnostics(diags, sources);
  if (!prog) return Exit::user_error;
  const auto& r = prog->recipe();
  std::optional<backend::Setup> setup;
  int code = Exit::ok;
  if (!resolve_backend(r, a.file, a.llm, a.config, a.model, a.prompts, setup, code)) return code;

  exec::RunOptions o;
  if (a.count) {
    o.count = *a.count;
  } else if (auto it = r.output.find("count"); it != r.output.end() && std::holds_alternative<double>(it->second)) {
    o.count = static_cast<std::uint64_t>(std::get<double>(it->second));
  } else {
    std::cerr << "persona run: error: --count is required (or `output { count N }` in the recipe)\n";
    return Exit::usage_error;
  }
  o.seed = a.seed ? *a.seed : r.seed.value_or(0);
  if (r.population.present()) {  // exact counts for the whole run's N (every shard builds the same)
    DiagnosticList pd;
    o.population = engine::Population::build(prog->model(), o.seed, o.count, pd);
    print_diagnostics(pd, sources);
    if (!o.population) return Exit::user_error;
  }
  o.out = a.out;
  if (o.out.empty()) {
    if (auto it = r.output.find("path"); it != r.output.end() && std::holds_alternative<std::string>(it->second)) {
      o.out = std::get<std::string>(it->second);
    } else if (!a.dry_run) {
      std::cerr << "persona run: error: --out PATH is required (use --out - for standard output)\n";
      return Exit::usage_error;
    }
  }
  std::string format = a.format;
  if (format.empty())
    if (auto it = r.output.find("format"); it != r.output.end() && std::holds_alternative<std::string>(it->second))
      format = std::get<std::string>(it->second);
  if (format.empty()) format = "jsonl";
  const auto fmt_kind = record::parse_format(format);
  if (!fmt_kind) {
    std::cerr << "persona run: error: unknown format '" << format << "' (jsonl, csv or csv-wide)\n";
    return Exit::usage_error;
  }
  o.format = *fmt_kind;
  if (o.format == record::Format::csv_wide && r.attributes.panels.empty() && !a.quiet)
    std::cerr << "persona run: warning: the recipe has no panel (`always \"GLOB\"` in `attributes`), so the "
                 "csv-wide file has no attribute columns: only id, seed, anchors and story outputs\n";
  o.threads = std::max(1u, a.threads);
  o.shard_k = k;
  o.shard_n = n;
  o.resume = a.resume;
  o.command_line = invocation();
  const std::uint64_t personas = exec::shard_size(o.count, k, n);
  std::optional<backend::Llm> llm;
  if (setup) {
    llm.emplace(*setup);
    o.llm = &*llm;
  }

  if (a.dry_run) {
    if (!setup) {
      std::cout << fmt::format("dry run: {} personas with the offline backend: 0 LLM calls, 0 tokens, $0\n", personas);
      return Exit::ok;
    }
    const auto& p = setup->provider;
    const engine::Estimate e = prog->estimate();
    engine::Usage u;
    u.prompt_tokens = static_cast<std::uint64_t>(e.prompt_tokens);
    u.completion_tokens = static_cast<std::uint64_t>(e.completion_tokens);
    const double per = exec::cost_usd(p, u);
    std::cout << fmt::format("dry run: provider {} ({}), model {}, no request sent\n", p.name, p.shown_base_urls(),
                             p.model);
    std::cout << fmt::format("per persona: {} calls, {} prompt + {} completion tokens (estimate), ${:.6f}\n", e.calls,
                             e.prompt_tokens, e.completion_tokens, per);
    const auto np = static_cast<std::int64_t>(personas);
    std::cout << fmt::format(
        "{} personas: {} calls, {} prompt + {} completion tokens, ${:.4f} at ${}/M input, "
        "${}/M output, ${}/M cached input\n",
        personas, e.calls * np, e.prompt_tokens * np, e.completion_tokens * np, per * static_cast<double>(personas),
        p.price_input_per_mtok, p.price_output_per_mtok, p.price_cached_input_per_mtok);
    if (p.price_input_per_mtok == 0 && p.price_output_per_mtok == 0) {
      std::cout << fmt::format(
          "note: provider '{}' has no prices; set price_input_per_mtok, price_output_per_mtok "
          "and price_cached_input_per_mtok under [providers.{}] in persona.toml for a cost "
          "estimate\n",
          p.name, p.name);
    }
    return Exit::ok;
  }

  const bool tty = stderr_is_tty();
  if (setup) {
    if (!a.no_cache) {
      if (!a.cache.empty())
        o.cache_path = a.cache;
      else if (o.out != "-")
        o.cache_path = o.out + ".cache.sqlite";
    }
    if (a.budget) o.budget_usd = *a.budget;
    o.max_failed_share = a.max_failed_share;
    o.stall_seconds = a.stall_timeout;
    o.concurrency = a.concurrency;
    if (!a.quiet && !setup->config_file.empty())
      std::cerr << "provider " << setup->provider.name << " from " << setup->config_file << "\n";
    // A provider with an embedding_model ranks the tiers by embeddings; the node vectors live beside
    // the response cache (none without one).
    DiagnosticList ediags;
    const std::string vectors_dir = o.cache_path.empty() ? std::string() : o.cache_path + ".embeddings";
    const bool embedded = backend::use_embeddings(*prog, *setup, vectors_dir, o.client, ediags);
    print_diagnostics(ediags, sources);
    if (!embedded) return Exit::runtime_error;
  }
  if (!a.quiet && (o.out != "-" || setup)) {
    auto last = std::make_shared<double>(-1e9);
    const bool with_llm = setup.has_value();
    o.progress = [tty, last, with_llm](const exec::Progress& p) {
      const bool final = p.done >= p.total;
      if (!tty && !final && p.seconds - *last < 10.0) return;
      if (!tty && !with_llm) return;
      *last = p.seconds;
      std::string line = fmt::format("{}/{} personas", p.done, p.total);
      if (with_llm) {
        const std::string eta = p.eta_seconds < 0 ? std::string("?") : fmt::format("{:.0f}s", p.eta_seconds);
        line += fmt::format(
            ", {} of at most {} requests in flight, {} prompt + {} completion tokens, ${:.4f}, {:.0f}s, "
            "ETA {}",
            p.in_flight, p.max_in_flight, fmt_tokens(static_cast<double>(p.prompt_tokens)),
            fmt_tokens(static_cast<double>(p.completion_tokens)), p.cost, p.seconds, eta);
      }
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else
        std::cerr << "progress: " << line << "\n";
    };
  }
  o.stop = &g_stop;  // the handlers stay until exit (catch_stop_signals)
  const auto res = exec::run(*prog, o);
  if (o.progress && tty) std::cerr << "\n";
  for (const auto& w : res.warnings) std::cerr << "persona run: warning: " << w << "\n";
  if (res.interrupted) {
    std::string why = res.reason == "budget"
                          ? fmt::format("the budget of ${:.4f} would be exceeded by the next persona (spent ${:.4f})",
                                        o.budget_usd, res.spent_usd)
                          : res.reason;
    std::cerr << "persona run: stopped: " << why << "; " << res.totals.personas << " of " << personas
              << " personas are in " << (o.out == "-" ? std::string("the output") : o.out + ".part") << "\n";
    if (o.out != "-")
      std::cerr << "persona run: resume with the same command and --resume"
                << (res.reason == "budget" ? " (and a larger --budget)" : "") << "\n";
    return Exit::interrupted;
  }
  if (!res.ok) {
    if (res.output_written && !a.quiet) print_summary(res, o, setup.has_value());
    std::cerr << "persona run: error: " << res.error << "\n";
    return Exit::runtime_error;
  }
  if (!a.quiet) print_summary(res, o, setup.has_value());
  return Exit::ok;
}

int do_plan(const PlanArgs& a) {
  SourceFiles sources;
  DiagnosticList diags;
  auto prog = engine::load_program(a.file, sources, diags);
  print_diagnostics(diags, sources);
  if (!prog) return Exit::user_error;
  std::optional<backend::Setup> setup;
  int code = Exit::ok;
  if (!resolve_backend(prog->recipe(), a.file, a.llm, a.config, a.model, "", setup, code)) return code;
  std::cout << (a.format == "dot" ? prog->to_dot() : prog->to_text(setup ? setup->provider.name : "offline"));
  return Exit::ok;
}

}  // namespace

void add_run_command(CLI::App& root, int& code) {
  auto ra = std::make_shared<RunArgs>();
  CLI::App* run = root.add_subcommand("run", "Generate personas from a recipe (JSONL or CSV + manifest)");
  run->add_option("file", ra->file, "The .persona recipe")->required();
  run->add_option("--count,-n", ra->count, "Number of personas (indices 0..N-1 across all shards)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  run->add_option("--seed,-s", ra->seed, "Run seed, 0 to 2^64-1 (default: the recipe's `seed`, else 0)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  run->add_option("--out,-o", ra->out, "Output path, or - for standard output (JSONL or csv-wide, no manifest then)");
  run->add_option("--format,-f", ra->format,
                  "jsonl (one persona per line), csv (PATH.personas.csv + PATH.attributes.csv) or csv-wide (PATH: "
                  "one row per persona with id, seed, weight, anchors, story outputs and one column per panel "
                  "attribute, `always` in the recipe; other attributes are not in it); default: the recipe's "
                  "`output { format }`, else jsonl")
      ->check(CLI::IsMember({"jsonl", "csv", "csv-wide"}));
  run->add_option("--threads,-j", ra->threads, "Worker threads (output is identical for any value)")
      ->check(whole_number(1, 1024));
  run->add_option("--shard", ra->shard,
                  "Shard K/N: only indices i with i % N == K-1 (default 1/1); auto: K and N from a Slurm array "
                  "(SLURM_ARRAY_TASK_ID, _COUNT, _MIN) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX with "
                  "--shards N or PERSONA_SHARDS); join the shards with persona merge");
  run->add_option("--shards", ra->shards,
                  "With --shard auto: the number of shards of a Kubernetes Indexed Job (its completions)")
      ->check(whole_number(1, 1000000));
  run->add_option("--llm", ra->llm,
                  "Backend: a provider of persona.toml, openai (built in), or offline (the default when no provider "
                  "is configured; deterministic, no network)");
  run->add_option("--config", ra->config,
                  "persona.toml with the [providers] (default: next to the recipe, then ./, then "
                  "$XDG_CONFIG_HOME/persona/)");
  run->add_option("--model", ra->model, "Model name (overrides the provider's and the recipe's)");
  run->add_option("--concurrency,-c", ra->concurrency,
                  "LLM requests in flight (default and maximum: the provider's max_concurrency)")
      ->check(whole_number(1, 4096));
  run->add_option("--cache", ra->cache, "SQLite response cache (default: <out>.cache.sqlite)");
  run->add_flag("--no-cache", ra->no_cache, "Do not read or write the response cache");
  run->add_flag("--resume", ra->resume, "Continue an interrupted run from <out>.part (same command otherwise)");
  run->add_flag("--dry-run", ra->dry_run, "Print the calls, tokens and cost the run would need; send nothing");
  run->add_option("--budget", ra->budget, "Stop cleanly (resumable, exit 4) before the run spends more than USD")
      ->check(finite_number(0, 1e12));
  run->add_option("--max-failed-share", ra->max_failed_share,
                  "Exit 3 (the output still written) when more than this share of the attributes failed "
                  "(status llm: ... or truncated), or when no LLM call succeeded (default 0.5)")
      ->check(finite_number(0, 1));
  run->add_option("--stall-timeout", ra->stall_timeout,
                  "Stop (resumable, exit 4) when the server has answered nothing for this many seconds while "
                  "calls are pending (default 300; 0: never)")
      ->check(finite_number(0, 1e9));
  run->add_option("--prompts", ra->prompts, "Folder of prompt templates (default: stdlib/prompts)");
  run->add_flag("--quiet,-q", ra->quiet, "No summary or progress on stderr");
  run->callback([ra, &code] { code = do_run(*ra); });

  auto pa = std::make_shared<PlanArgs>();
  CLI::App* plan = root.add_subcommand("plan", "Show the program a recipe compiles to (steps, order, cost estimate)");
  plan->add_option("file", pa->file, "The .persona recipe")->required();
  plan->add_option("--format,-f", pa->format, "text or dot (Graphviz)")->check(CLI::IsMember({"text", "dot"}));
  plan->add_option("--llm", pa->llm, "Backend the estimate is for (offline: 0 calls)");
  plan->add_option("--config", pa->config, "persona.toml with the [providers] (default: as for run)");
  plan->add_option("--model", pa->model, "Model name (overrides the provider's and the recipe's)");
  plan->callback([pa, &code] { code = do_plan(*pa); });
}

}  // namespace persona::cli
