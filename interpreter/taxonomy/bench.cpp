// persona-bench-taxonomy: load time and peak memory of the stdlib taxonomy (with TF-IDF vectors)
// and of the reference import, plus the cost of one score_all call.
//
//   persona-bench-taxonomy [--runs N] [--reference FILE.json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "taxonomy.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Peak resident set (VmHWM) in MiB, from /proc/self/status.
double peak_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  std::string reference = PERSONA_SHARED_DIR "/interop/deeppersona-attributes-merged.json";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (std::strcmp(argv[i], "--reference") == 0 && i + 1 < argc)
      reference = argv[++i];
  }
  using namespace persona;
  std::printf("persona-bench-taxonomy (%d runs, median)\n", runs);
  const double rss0 = peak_mib();
  std::printf("  baseline peak RSS          %8.1f MiB\n", rss0);

  std::optional<tax::Taxonomy> stdlib;
  {
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
      DiagnosticList diags;
      const auto t0 = Clock::now();
      auto t = tax::load_stdlib("core", diags);
      times.push_back(ms_since(t0));
      if (!t) {
        std::printf("  stdlib.core: failed to load (%zu errors)\n", diags.error_count());
        break;
      }
      if (r + 1 == runs) stdlib = std::move(t);
    }
    if (stdlib) {
      const auto s = stdlib->stats();
      std::printf("  stdlib.core load+vectors   %8.2f ms   (%zu nodes, %zu leaves, vocab %zu, ~%.1f MiB held)\n",
                  median(times), s.nodes, s.leaves, stdlib->vocabulary_size(),
                  static_cast<double>(stdlib->memory_bytes()) / (1024.0 * 1024.0));
      std::printf("  peak RSS after stdlib      %8.1f MiB\n", peak_mib());
    }
  }

  {
    std::vector<double> times;
    for (int r = 0; r < runs; ++r) {
      DiagnosticList diags;
      tax::LoadOptions opts;
      opts.vectors = false;
      const auto t0 = Clock::now();
      auto t = tax::load_stdlib("core", diags, opts);
      times.push_back(ms_since(t0));
      if (!t) break;
    }
    std::printf("  stdlib.core load, no vectors %6.2f ms\n", median(times));
  }

  auto bench_scores = [](const tax::Taxonomy& t, const char* label) {
    const std::vector<std::string> core = {
        "34 year old night shift nurse in Nairobi, Kenya",
        "female, employed, married with two children",
        "She grew up in a farming family, studied nursing on a scholarship and still sends money home. "
        "She sleeps during the day, runs on weekends and reads detective novels on her phone.",
    };
    std::vector<float> out;
    const auto q = t.query_vector(std::span<const std::string>(core));
    const int calls = 2000;
    const auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) t.score_all(q, out);
    const double us = ms_since(t0) * 1000.0 / calls;
    const auto t1 = Clock::now();
    for (int i = 0; i < calls; ++i) (void)t.query_vector(std::span<const std::string>(core));
    const double qus = ms_since(t1) * 1000.0 / calls;
    std::printf("  %-26s %8.2f us/call (%zu nodes, %zu query terms); query_vector %.2f us\n", label, us, t.size(),
                q.terms.size(), qus);
  };
  if (stdlib) bench_scores(*stdlib, "stdlib score_all");

  {
    std::vector<double> times;
    std::optional<tax::Taxonomy> imported;
    for (int r = 0; r < runs; ++r) {
      DiagnosticList diags;
      const auto t0 = Clock::now();
      auto res = tax::import_reference(reference, diags);
      times.push_back(ms_since(t0));
      if (!res.taxonomy) {
        std::printf("  reference import: failed (%s)\n", reference.c_str());
        break;
      }
      if (r + 1 == runs) imported = std::move(res.taxonomy);
    }
    if (imported) {
      std::printf("  reference import+vectors   %8.2f ms   (%zu nodes, %zu top-level)\n", median(times),
                  imported->size(), imported->roots().size());
      std::printf("  peak RSS after import      %8.1f MiB\n", peak_mib());
      bench_scores(*imported, "reference score_all");
    }
  }
  return 0;
}
