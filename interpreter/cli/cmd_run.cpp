// persona run FILE --count N --seed S --out PATH [--threads N] [--shard K/N] [--llm NAME] ...
// persona plan FILE [--format text|dot] [--llm NAME]
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "engine/engine.hpp"
#include "engine/plan.hpp"
#include "engine/runner.hpp"
#include "frontend/frontend.hpp"
#include "generate/generate.hpp"

namespace persona::cli {

namespace {

struct RunArgs {
  std::string file;
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> seed;
  std::string out;
  unsigned threads = 1;
  std::string shard = "1/1";
  std::string llm;  // "" = the recipe's provider when persona.toml configures one, else offline
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
  std::string command_line;
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

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

// Loads the recipe and its taxonomy, builds the engine model. Prints diagnostics; nullptr on error.
std::unique_ptr<engine::Model> load_model(const std::string& file) {
  SourceFiles sources;
  DiagnosticList diags;
  auto loaded = frontend::load_recipe(file, sources, diags);
  if (!loaded) {
    print_diagnostics(diags, sources);
    return nullptr;
  }
  DiagnosticList tax_diags;
  auto taxonomy = engine::load_taxonomy(loaded->recipe, tax_diags);
  // Taxonomy warnings (missing descriptions, depth) are for `persona taxonomy check`; only errors here.
  DiagnosticList errors;
  for (const auto& d : diags.all()) errors.report(d);
  for (const auto& d : tax_diags.all())
    if (d.severity == Severity::error) errors.report(d);
  if (!taxonomy) {
    print_diagnostics(errors, sources);
    return nullptr;
  }
  auto model = engine::Model::create(std::move(loaded->recipe), loaded->tables, std::move(taxonomy), errors);
  print_diagnostics(errors, sources);
  return model;
}

std::string fmt_tokens(double t) {
  if (t >= 1e6) return fmt::format("{:.2f}M", t / 1e6);
  if (t >= 1e4) return fmt::format("{:.1f}k", t / 1e3);
  return fmt::format("{:.0f}", t);
}

int do_run(const RunArgs& a) {
  unsigned k = 1, n = 1;
  if (!parse_shard(a.shard, k, n)) {
    std::cerr << "persona run: error: --shard expects K/N with 1 <= K <= N, got '" << a.shard << "'\n";
    return Exit::usage_error;
  }
  auto model = load_model(a.file);
  if (!model) return Exit::user_error;
  const auto& r = model->recipe();
  // The backend: --llm NAME, else the recipe's provider when persona.toml configures one.
  generate::ResolveOptions ro{a.llm, a.config, a.model, a.prompts};
  DiagnosticList pdiags;
  bool offline = false;
  auto setup = generate::resolve(r, ro, pdiags, offline);
  if (!setup && !offline) {
    for (const auto& d : pdiags.all())
      std::cerr << (d.where.file.empty() ? std::string("persona run") : d.where.file)
                << (d.where.line > 0 ? ":" + std::to_string(d.where.line) + ":" + std::to_string(d.where.column) : "")
                << ": error: " << d.message << "\n";
    return pdiags.error_count() > 0 && a.llm.empty() ? Exit::user_error : Exit::usage_error;
  }
  engine::RunOptions o;
  o.count = a.count.value_or(0);
  if (!a.count) {
    if (auto it = r.output.find("count"); it != r.output.end() && std::holds_alternative<double>(it->second)) {
      o.count = static_cast<std::uint64_t>(std::get<double>(it->second));
    } else {
      std::cerr << "persona run: error: --count is required\n";
      return Exit::usage_error;
    }
  }
  o.seed = a.seed ? *a.seed : r.seed.value_or(0);
  o.out = a.out;
  if (o.out.empty()) {
    if (auto it = r.output.find("path"); it != r.output.end() && std::holds_alternative<std::string>(it->second)) {
      o.out = std::get<std::string>(it->second);
    } else if (!a.dry_run) {
      std::cerr << "persona run: error: --out PATH is required (use --out - for standard output)\n";
      return Exit::usage_error;
    }
  }
  o.threads = std::max(1u, a.threads);
  o.shard_k = k;
  o.shard_n = n;
  o.backend = offline ? "offline" : "llm";
  o.resume = a.resume;
  o.command_line = a.command_line;
  const std::uint64_t personas = engine::shard_size(o.count, k, n);

  if (a.dry_run) {
    if (offline) {
      std::cout << fmt::format("dry run: {} personas with the offline backend: 0 LLM calls, 0 tokens, $0\n", personas);
      return Exit::ok;
    }
    const auto d = generate::dry_run(r, setup->provider, personas);
    const auto& e = d.per_persona;
    std::cout << fmt::format("dry run: provider {} ({}), model {}, no request sent\n", setup->provider.name,
                             setup->provider.base_url, setup->provider.model);
    std::cout << fmt::format(
        "per persona: {} calls ({} story, {} fill, {} narrative), {} prompt + {} completion "
        "tokens (estimate), ${:.6f}\n",
        e.calls, e.story_calls, e.fill_calls, e.narrative_calls, e.prompt_tokens, e.completion_tokens,
        d.cost_per_persona);
    std::cout << fmt::format(
        "{} personas: {} calls, {} prompt + {} completion tokens, ${:.4f} at ${}/M input, "
        "${}/M output, ${}/M cached input\n",
        personas, e.calls * static_cast<std::int64_t>(personas), e.prompt_tokens * static_cast<std::int64_t>(personas),
        e.completion_tokens * static_cast<std::int64_t>(personas), d.cost, setup->provider.price_input_per_mtok,
        setup->provider.price_output_per_mtok, setup->provider.price_cached_input_per_mtok);
    if (setup->provider.price_input_per_mtok == 0 && setup->provider.price_output_per_mtok == 0) {
      std::cout << fmt::format(
          "note: provider '{}' has no prices; set price_input_per_mtok, price_output_per_mtok "
          "and price_cached_input_per_mtok under [providers.{}] in persona.toml for a cost "
          "estimate\n",
          setup->provider.name, setup->provider.name);
    }
    return Exit::ok;
  }

  const bool tty = stderr_is_tty();
  if (offline) {
    const bool progress = !a.quiet && tty && o.out != "-";
    if (progress)
      o.progress = [](std::uint64_t done, std::uint64_t total) {
        std::cerr << "\r" << done << "/" << total << " personas" << std::flush;
      };
    const engine::RunResult res = engine::run(*model, o);
    if (progress) std::cerr << "\n";
    if (!res.ok) {
      std::cerr << "persona run: error: " << res.error << "\n";
      return Exit::runtime_error;
    }
    if (!a.quiet) {
      const auto& t = res.totals;
      const double per = t.personas > 0 ? static_cast<double>(t.attributes) / static_cast<double>(t.personas) : 0.0;
      std::cerr << fmt::format(
          "wrote {} personas ({:.1f} attributes each, {}..{}) to {} in {:.2f} s ({:.0f} personas/s)", t.personas, per,
          t.min_attributes, t.max_attributes, o.out == "-" ? "stdout" : o.out, t.seconds,
          t.seconds > 0 ? static_cast<double>(t.personas) / t.seconds : 0.0);
      if (t.resumed > 0) std::cerr << " (" << t.resumed << " kept from the interrupted run)";
      if (!res.manifest_path.empty()) std::cerr << "; manifest " << res.manifest_path;
      std::cerr << "\n";
    }
    return Exit::ok;
  }

  generate::DriverOptions d;
  d.concurrency = a.concurrency;
  if (!a.no_cache) {
    if (!a.cache.empty())
      d.cache_path = a.cache;
    else if (o.out != "-")
      d.cache_path = o.out + ".cache.sqlite";
  }
  if (a.budget) d.budget_usd = *a.budget;
  d.stop = &g_stop;
  if (!a.quiet) {
    auto last = std::make_shared<double>(-1e9);
    d.progress = [tty, last](const generate::Progress& p) {
      const bool final = p.done >= p.total;
      if (!tty && !final && p.seconds - *last < 10.0) return;
      *last = p.seconds;
      const std::string eta = p.eta_seconds < 0 ? std::string("?") : fmt::format("{:.0f}s", p.eta_seconds);
      const std::string line = fmt::format(
          "{}/{} personas, {} requests in flight, {} prompt + {} completion tokens, ${:.4f}, {:.0f}s, ETA {}", p.done,
          p.total, p.in_flight, fmt_tokens(static_cast<double>(p.prompt_tokens)),
          fmt_tokens(static_cast<double>(p.completion_tokens)), p.cost, p.seconds, eta);
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else
        std::cerr << "progress: " << line << "\n";
    };
  }
  g_stop.store(false);
  auto prev_int = std::signal(SIGINT, on_signal);
  auto prev_term = std::signal(SIGTERM, on_signal);
  const auto res = generate::run(*model, o, *setup, d);
  std::signal(SIGINT, prev_int);
  std::signal(SIGTERM, prev_term);
  if (!a.quiet && tty) std::cerr << "\n";
  if (!res.run.ok) {
    std::cerr << "persona run: error: " << res.run.error << "\n";
    return Exit::runtime_error;
  }
  const auto& t = res.run.totals;
  if (res.interrupted) {
    std::string why = res.reason == "budget"
                          ? fmt::format("the budget of ${:.4f} would be exceeded by the next persona (spent ${:.4f})",
                                        d.budget_usd, res.stats.cost)
                          : res.reason;
    std::cerr << "persona run: stopped: " << why << "; " << t.personas << " of " << personas << " personas are in "
              << o.out << ".part\n"
              << "persona run: resume with the same command and --resume"
              << (res.reason == "budget" ? " (and a larger --budget)" : "") << "\n";
    return Exit::interrupted;
  }
  if (!a.quiet) {
    const double np = t.personas > 0 ? static_cast<double>(t.personas) : 1.0;
    std::cerr << fmt::format(
        "wrote {} personas to {} in {:.2f} s: {:.1f} attributes each ({:.1f} filled by the LLM), "
        "{:.1f} calls, {:.0f} prompt + {:.0f} completion tokens per persona; {} requests, "
        "{} retries, {} from the cache, ${:.4f}",
        t.personas, o.out == "-" ? "stdout" : o.out, t.seconds, static_cast<double>(t.attributes) / np,
        static_cast<double>(t.source[2]) / np, static_cast<double>(t.usage.calls) / np,
        static_cast<double>(t.usage.prompt_tokens) / np, static_cast<double>(t.usage.completion_tokens) / np,
        res.stats.requests, res.stats.retries, res.stats.cache_hits, res.stats.cost);
    if (t.resumed > 0) std::cerr << " (" << t.resumed << " kept from the interrupted run)";
    if (!res.run.manifest_path.empty()) std::cerr << "; manifest " << res.run.manifest_path;
    std::cerr << "\n";
  }
  return Exit::ok;
}

int do_plan(const PlanArgs& a) {
  SourceFiles sources;
  DiagnosticList diags;
  auto loaded = frontend::load_recipe(a.file, sources, diags);
  print_diagnostics(diags, sources);
  if (!loaded) return Exit::user_error;
  engine::PlanOptions po;
  DiagnosticList pdiags;
  bool offline = false;
  auto setup = generate::resolve(loaded->recipe, {a.llm, a.config, a.model, ""}, pdiags, offline);
  if (!setup && !offline) {
    for (const auto& d : pdiags.all()) std::cerr << "persona plan: error: " << d.message << "\n";
    return Exit::usage_error;
  }
  po.backend = offline ? std::string("offline") : setup->provider.name;
  const engine::Plan plan = engine::compile(loaded->recipe, po);
  std::cout << (a.format == "dot" ? engine::to_dot(plan) : engine::to_text(plan));
  return Exit::ok;
}

}  // namespace

void add_run_command(CLI::App& root, int& code) {
  auto ra = std::make_shared<RunArgs>();
  CLI::App* run = root.add_subcommand("run", "Generate personas from a recipe (JSONL + manifest)");
  run->add_option("file", ra->file, "The .persona recipe")->required();
  run->add_option("--count,-n", ra->count, "Number of personas (indices 0..N-1 across all shards)");
  run->add_option("--seed,-s", ra->seed, "Run seed (default: the recipe's `seed`, else 0)");
  run->add_option("--out,-o", ra->out, "Output JSONL path, or - for standard output (no manifest then)");
  run->add_option("--threads,-j", ra->threads, "Worker threads (output is identical for any value)")
      ->check(CLI::Range(1u, 1024u));
  run->add_option("--shard", ra->shard, "Shard K/N: only indices i with i % N == K-1 (default 1/1)");
  run->add_option("--llm", ra->llm,
                  "Backend: a provider of persona.toml, openai (built in), or offline (the default when no provider "
                  "is configured; deterministic, no network)");
  run->add_option("--config", ra->config, "persona.toml with the [providers] (default: ./persona.toml if present)");
  run->add_option("--model", ra->model, "Model name (overrides the provider's and the recipe's)");
  run->add_option("--concurrency,-c", ra->concurrency,
                  "LLM requests in flight (default and maximum: the provider's "
                  "max_concurrency)")
      ->check(CLI::Range(1, 4096));
  run->add_option("--cache", ra->cache, "SQLite response cache (default: <out>.cache.sqlite)");
  run->add_flag("--no-cache", ra->no_cache, "Do not read or write the response cache");
  run->add_flag("--resume", ra->resume, "Continue an interrupted run from <out>.part (same command otherwise)");
  run->add_flag("--dry-run", ra->dry_run, "Print the calls, tokens and cost the run would need; send nothing");
  run->add_option("--budget", ra->budget, "Stop cleanly (resumable, exit 4) before spending more than USD")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--prompts", ra->prompts, "Folder of prompt templates (default: stdlib/prompts)");
  run->add_flag("--quiet,-q", ra->quiet, "No summary or progress on stderr");
  run->callback([ra, &code, &root] {
    ra->command_line = "persona run " + ra->file;
    (void)root;
    code = do_run(*ra);
  });

  auto pa = std::make_shared<PlanArgs>();
  CLI::App* plan = root.add_subcommand("plan", "Show a recipe's plan (steps, dependencies, cost estimate)");
  plan->add_option("file", pa->file, "The .persona recipe")->required();
  plan->add_option("--format,-f", pa->format, "text or dot (Graphviz)")->check(CLI::IsMember({"text", "dot"}));
  plan->add_option("--llm", pa->llm, "Backend the estimate is for (offline: 0 calls)");
  plan->add_option("--config", pa->config, "persona.toml with the [providers] (default: ./persona.toml if present)");
  plan->add_option("--model", pa->model, "Model name (overrides the provider's and the recipe's)");
  plan->callback([pa, &code] { code = do_plan(*pa); });
}

}  // namespace persona::cli
