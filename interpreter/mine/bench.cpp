// persona-bench-mine: classification throughput of `persona taxonomy mine` against the fake server
// on loopback, next to the server-bound limit (concurrency / latency), and the whole pipeline's
// step counts on the same corpus. Prints figures; asserts nothing about time.
//
//   persona-bench-mine [--exchanges 10000] [--concurrency 32] [--latency-ms 50] [--lexicon FILE]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "diag/diagnostic.hpp"
#include "fake_miner.hpp"
#include "llm/fake/fake_server.hpp"
#include "mine.hpp"

using namespace persona;

int main(int argc, char** argv) {
  std::size_t n = 10000;
  int concurrency = 32, latency = 50;
  std::string lexicon = std::string(PERSONA_SOURCE_DIR) + "/tests/data/mine/lexicon.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--exchanges")) n = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--latency-ms")) latency = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--lexicon")) lexicon = argv[i + 1];
  }
  auto miner = mine::fake::Miner::load(lexicon);
  if (!miner) {
    fmt::print(stderr, "cannot read the lexicon {}\n", lexicon);
    return 2;
  }
  // A synthetic corpus: every third exchange impersonal, the others with one or two keywords.
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("persona-bench-mine-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const auto file = dir / "corpus.jsonl";
  {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    const auto& lex = miner->lexicon();
    for (std::size_t i = 0; i < n; ++i) {
      std::string q;
      if (i % 3 == 0)
        q = fmt::format("What is {} times {}?", i, i + 7);
      else if (i % 3 == 1)
        q = fmt::format("I am {} and need advice for week {}.", lex[i % lex.size()].keywords.front(), i);
      else
        q = fmt::format("I am {} and also {}; plan my day {}.", lex[i % lex.size()].keywords.front(),
                        lex[(i * 7 + 3) % lex.size()].keywords.front(), i);
      const nlohmann::json line = {{"question", q}, {"answer", "Here is a plan."}};
      std::fprintf(f, "%s\n", line.dump().c_str());
    }
    std::fclose(f);
  }
  DiagnosticList diags;
  auto corpus = mine::read_corpus({file}, {}, diags);
  std::string err;
  auto tpl = mine::load_templates(mine::default_prompts_dir(), err);
  if (!corpus || !tpl) {
    fmt::print(stderr, "setup failed: {}\n", err);
    return 2;
  }
  llm::fake::Server server({.latency_ms = latency, .threads = std::max(64, concurrency * 2)});
  server.set_script(miner->script());
  if (!server.start()) return 2;
  llm::Provider p;
  p.name = "fake";
  p.model = "fake-model";
  p.base_url = server.base_url();
  p.max_concurrency = concurrency;
  p.max_retries = 2;

  mine::Options o;
  o.out = (dir / "mined.tax").string();
  o.concurrency = concurrency;
  o.classify_only = true;
  for (const auto& c : tax::categories()) o.categories.push_back({std::string(c), ""});
  const auto t0 = std::chrono::steady_clock::now();
  auto res = mine::run(*corpus, p, *tpl, o, diags);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rate = static_cast<double>(corpus->exchanges.size()) / secs;
  const double bound = concurrency * 1000.0 / latency;
  fmt::print("classification: {} exchanges, concurrency {}, server latency {} ms\n", corpus->exchanges.size(),
             concurrency, latency);
  fmt::print("  {:.2f} s, {:.0f} exchanges/s; server-bound limit {:.0f}/s ({:.2f} s): {:.1f}% of the limit\n", secs,
             rate, bound, corpus->exchanges.size() / bound, 100.0 * rate / bound);
  fmt::print("  peak concurrency at the server {}, ok {}\n", server.peak_concurrency(), res.ok ? "yes" : res.error);
  std::filesystem::remove_all(dir);
  return res.ok ? 0 : 1;
}
