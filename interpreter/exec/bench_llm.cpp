// persona-bench-generate [--latency-ms 200] [--concurrency 32] [--count N] [--recipe FILE]
// Runs the quickstart through the asynchronous driver against the fake OpenAI server and prints
// personas/s next to the server-bound limit C / (L x calls per persona) and the ratio.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "exec/exec.hpp"
#include "frontend/frontend.hpp"
#include "llm/fake/fake_server.hpp"

using namespace persona;

int main(int argc, char** argv) {
  int latency = 200, conc = 32;
  long count = 0;
  std::string recipe = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--latency-ms")
      latency = std::atoi(argv[i + 1]);
    else if (a == "--concurrency")
      conc = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = std::atol(argv[i + 1]);
    else if (a == "--recipe")
      recipe = argv[i + 1];
    else {
      std::cerr << "usage: persona-bench-generate [--latency-ms L] [--concurrency C] [--count N] [--recipe F]\n";
      return 2;
    }
  }
  if (count <= 0) count = 16L * conc;
  SourceFiles sources;
  DiagnosticList diags;
  auto loaded = frontend::load_recipe(recipe, sources, diags);
  if (!loaded) {
    std::cerr << "cannot load " << recipe << "\n";
    return 1;
  }
  DiagnosticList tdiags;
  auto tax = engine::load_taxonomy(loaded->recipe, tdiags);
  auto model = engine::Program::compile(std::move(loaded->recipe), loaded->tables, std::move(tax), tdiags);
  if (!model) return 1;

  llm::fake::Config fc;
  fc.latency_ms = latency;
  fc.threads = std::max(64, 2 * conc + 8);
  llm::fake::Server server(fc);
  if (!server.start()) {
    std::cerr << "cannot start the fake server\n";
    return 1;
  }
  backend::Setup s;
  s.provider.name = "fake";
  s.provider.base_url = server.base_url();
  s.provider.api_key_env = "";  // the loopback server takes no key
  s.provider.max_concurrency = conc;
  std::string err;
  auto t = backend::load_templates(backend::default_prompts_dir(), err);
  if (!t) {
    std::cerr << err << "\n";
    return 1;
  }
  s.templates = *t;
  const auto dir = std::filesystem::temp_directory_path() / ("persona-bench-generate-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const backend::Llm llm(s);
  exec::RunOptions o;
  o.count = static_cast<std::uint64_t>(count);
  o.seed = 7;
  o.out = (dir / "bench.jsonl").string();
  o.llm = &llm;
  o.concurrency = conc;
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = exec::run(*model, o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::filesystem::remove_all(dir);
  if (!res.ok) {
    std::cerr << "run failed: " << res.error << res.reason << "\n";
    return 1;
  }
  if (std::getenv("PERSONA_BENCH_DUMP") != nullptr) {
    for (const auto& b : server.bodies()) std::cout << b.dump() << "\n";
  }
  const auto& tt = res.totals;
  const double per_calls = static_cast<double>(tt.usage.calls) / static_cast<double>(tt.personas);
  const double rate = static_cast<double>(tt.personas) / secs;
  const double limit = conc / (latency / 1000.0 * per_calls);
  std::cout << fmt::format(
      "generate: {} personas, L={} ms, C={}: {:.2f} calls/persona, {:.0f} prompt tokens/persona, "
      "{:.1f} LLM-filled attributes/persona\n",
      tt.personas, latency, conc, per_calls,
      static_cast<double>(tt.usage.prompt_tokens) / static_cast<double>(tt.personas),
      static_cast<double>(tt.source[2]) / static_cast<double>(tt.personas));
  std::cout << fmt::format(
      "generate: {:.2f} personas/s in {:.1f} s; server-bound limit C/(L x calls) = {:.2f}/s; "
      "ratio {:.3f}; server peak concurrency {}\n",
      rate, secs, limit, rate / limit, server.peak_concurrency());
  return 0;
}
