// persona run FILE --count N --seed S --out PATH [--threads N] [--shard K/N] [--llm offline]
// persona plan FILE [--format text|dot] [--llm NAME]
#include <charconv>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "engine/engine.hpp"
#include "engine/plan.hpp"
#include "engine/runner.hpp"
#include "frontend/frontend.hpp"

namespace persona::cli {

namespace {

struct RunArgs {
  std::string file;
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> seed;
  std::string out;
  unsigned threads = 1;
  std::string shard = "1/1";
  std::string llm = "offline";
  bool quiet = false;
  std::string command_line;
};

struct PlanArgs {
  std::string file;
  std::string format = "text";
  std::string llm = "offline";
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

int do_run(const RunArgs& a) {
  if (a.llm != "offline") {
    std::cerr << "persona run: error: --llm " << a.llm
              << ": only the offline backend is available in this build (use --llm offline)\n";
    return Exit::usage_error;
  }
  unsigned k = 1, n = 1;
  if (!parse_shard(a.shard, k, n)) {
    std::cerr << "persona run: error: --shard expects K/N with 1 <= K <= N, got '" << a.shard << "'\n";
    return Exit::usage_error;
  }
  auto model = load_model(a.file);
  if (!model) return Exit::user_error;
  const auto& r = model->recipe();
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
    } else {
      std::cerr << "persona run: error: --out PATH is required (use --out - for standard output)\n";
      return Exit::usage_error;
    }
  }
  o.threads = std::max(1u, a.threads);
  o.shard_k = k;
  o.shard_n = n;
  o.backend = a.llm;
  o.command_line = a.command_line;
  const bool progress = !a.quiet && stderr_is_tty() && o.out != "-";
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
    std::cerr << fmt::format("wrote {} personas ({:.1f} attributes each, {}..{}) to {} in {:.2f} s ({:.0f} personas/s)",
                             t.personas, per, t.min_attributes, t.max_attributes, o.out == "-" ? "stdout" : o.out,
                             t.seconds, t.seconds > 0 ? static_cast<double>(t.personas) / t.seconds : 0.0);
    if (!res.manifest_path.empty()) std::cerr << "; manifest " << res.manifest_path;
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
  po.backend = a.llm;
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
  run->add_option("--llm", ra->llm, "Backend: offline (default; deterministic, no network)");
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
  plan->callback([pa, &code] { code = do_plan(*pa); });
}

}  // namespace persona::cli
