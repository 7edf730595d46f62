// persona-bench-similarity: how well and how fast each scorer ranks attributes against persona cores.
//
//   persona-bench-similarity [--data DIR] [--personas FILE.jsonl] [--wordnet DIR] [--seconds S] [--explain CORE]
//
// 1. ROC AUC on the labelled set (tests/similarity/data), pooled over pairs and averaged per core:
//    c01-c15 (the semantic constants were chosen on these), c16-c30 (checked, then looked into),
//    c31-c45 (labelled after the method was frozen: the honest figure), and all.
// 2. Time per persona of score_all (embeddings: score_vector, the per-persona part once the core's
//    embedding is known) over the labelled cores and, with --personas, those personas' cores.
// 3. With --personas (e.g. `persona run examples/quickstart.persona -n 200 -o q.jsonl`): where the
//    near/mid/far boundaries fall among all leaves for each persona, and how many leaves tie at zero.
// The embeddings scorer runs against the loopback fake server, whose vectors are random: its AUC only
// shows the plumbing works (about 0.5 is the expected value).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "llm/client.hpp"
#include "llm/embeddings.hpp"
#include "llm/fake/fake_server.hpp"
#include "similarity/embedding_scorer.hpp"
#include "similarity/evaluate.hpp"
#include "similarity/scorer.hpp"
#include "similarity/wordnet.hpp"

namespace {

using namespace persona;
using Clock = std::chrono::steady_clock;

// CPU time of this thread in milliseconds: the figures stay meaningful on a shared, loaded machine.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_ms();
};
double ms_since(const Timer& t) { return cpu_ms() - t.cpu; }

// Resident set (VmRSS) in MiB, from /proc/self/status.
double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}
double wall_ms_since(const Timer& t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t.wall).count();
}

// Wraps the embeddings scorer so that score_all embeds the core first (from a precomputed table).
class EmbedThenScore final : public sim::Scorer {
 public:
  EmbedThenScore(const sim::EmbeddingScorer& s, std::map<std::string, std::vector<float>> table)
      : s_(s), table_(std::move(table)) {}
  std::string_view name() const override { return "embeddings"; }
  std::unique_ptr<sim::Cache> cache() const override { return s_.cache(); }
  void score_all(std::span<const std::string> core, sim::Cache&, std::vector<float>& scores) const override {
    auto it = table_.find(sim::EmbeddingScorer::core_text(core));
    if (it == table_.end() || !s_.score_vector(it->second, scores).empty()) scores.assign(scores.size(), 0.0f);
  }

 private:
  const sim::EmbeddingScorer& s_;
  std::map<std::string, std::vector<float>> table_;
};

void flatten(const nlohmann::json& j, std::vector<std::string>& out) {
  if (j.is_string()) {
    out.push_back(j.get<std::string>());
  } else if (j.is_number()) {
    out.push_back(text::format_number(j.get<double>()));
  } else if (j.is_array() || j.is_object()) {
    for (const auto& x : j) flatten(x, out);
  }
}

// The selected attributes of a persona in a file: path and tier (0 near, 1 mid, 2 far).
struct Selected {
  std::string path;
  int tier = 0;
};

// The cores of a persona file: anchor values (derived facts included) and every core text; and,
// when `selected` is given, each persona's selected attributes.
std::vector<std::vector<std::string>> read_personas(const std::string& file,
                                                    std::vector<std::vector<Selected>>* selected = nullptr) {
  std::vector<std::vector<std::string>> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    std::vector<std::string> texts;
    if (j.contains("anchors")) flatten(j["anchors"], texts);
    if (j.contains("core")) flatten(j["core"], texts);
    out.push_back(std::move(texts));
    if (selected != nullptr) {
      selected->emplace_back();
      if (j.contains("attributes") && j["attributes"].is_array())
        for (const auto& a : j["attributes"]) {
          if (!a.is_object() || !a.contains("path") || !a.contains("tier")) continue;
          const std::string tier = a["tier"].get<std::string>();
          selected->back().push_back({a["path"].get<std::string>(), tier == "near" ? 0 : tier == "mid" ? 1 : 2});
        }
    }
  }
  return out;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = PERSONA_SOURCE_DIR "/tests/similarity/data", personas_file, wordnet_dir, explain;
  double seconds = 0.5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc)
      data = argv[++i];
    else if (std::strcmp(argv[i], "--personas") == 0 && i + 1 < argc)
      personas_file = argv[++i];
    else if (std::strcmp(argv[i], "--wordnet") == 0 && i + 1 < argc)
      wordnet_dir = argv[++i];
    else if (std::strcmp(argv[i], "--explain") == 0 && i + 1 < argc)
      explain = argv[++i];
    else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = std::max(0.01, std::atof(argv[++i]));
    else {
      std::fprintf(stderr,
                   "usage: persona-bench-similarity [--data DIR] [--personas FILE.jsonl] [--wordnet DIR] [--seconds S] "
                   "[--explain CORE]\n");
      return 2;
    }
  }
  DiagnosticList diags;
  auto tax = tax::load_stdlib("core", diags);
  if (!tax) {
    std::fprintf(stderr, "stdlib.core failed to load\n");
    return 1;
  }
  auto set = sim::load_labelled(data, *tax, diags);
  if (!set) {
    for (const auto& d : diags.all()) std::fprintf(stderr, "%s: %s\n", to_string(d.where).c_str(), d.message.c_str());
    return 1;
  }
  std::printf("(times are this thread's CPU time, so a loaded machine inflates them less than wall time)\n");
  std::printf("persona-bench-similarity: stdlib.core %zu nodes, %zu leaves; labelled set %zu cores, %zu pairs\n",
              tax->size(), tax->leaves().size(), set->cores.size(), set->pairs.size());

  // ---- the scorers ----
  std::vector<std::unique_ptr<sim::Scorer>> scorers;
  const double rss0 = rss_mib();
  Timer t0;
  scorers.push_back(sim::make_tfidf(*tax));
  std::printf("  build tfidf        %8.1f ms CPU\n", ms_since(t0));
  t0 = Timer();
  std::shared_ptr<const sim::WordNet> wn =
      sim::WordNet::open(wordnet_dir.empty() ? sim::default_wordnet_dir() : std::filesystem::path(wordnet_dir), diags);
  const double open_ms = ms_since(t0);
  const double rss_wordnet = rss_mib() - rss0;
  if (wn) {
    t0 = Timer();
    scorers.push_back(sim::make_semantic(*tax, wn));
    std::printf(
        "  build semantic     %8.1f ms CPU (WordNet open %.1f ms, %zu lemmas); resident +%.1f MiB (WordNet "
        "%.1f MiB)\n",
        ms_since(t0) + open_ms, open_ms, wn->lemma_count(), rss_mib() - rss0, rss_wordnet);
  } else {
    std::printf("  semantic: WordNet unavailable (%s)\n",
                diags.all().empty() ? "?" : diags.all().back().message.c_str());
  }
  llm::fake::Server server;
  std::unique_ptr<sim::EmbeddingScorer> embeddings;
  std::unique_ptr<EmbedThenScore> embed_then_score;
  if (server.start()) {
    llm::Provider p;
    p.base_url = server.base_url();
    p.api_key_env = "PERSONA_BENCH_NO_KEY";
    llm::Client client(p);
    t0 = Timer();
    auto built = sim::EmbeddingScorer::build(*tax, client, nullptr);
    if (built.ok()) {
      embeddings = std::move(built.scorer);
      std::printf("  build embeddings   %8.1f ms wall (fake loopback server, %zu dimensions, %ld requests)\n",
                  wall_ms_since(t0), embeddings->dimensions(), server.requests());
      std::vector<std::string> texts;
      for (const auto& c : set->cores) texts.push_back(sim::EmbeddingScorer::core_text(c.texts));
      auto e = llm::embed(client, texts);
      std::map<std::string, std::vector<float>> table;
      for (std::size_t i = 0; e.ok() && i < texts.size(); ++i) table[texts[i]] = e.vectors[i];
      embed_then_score = std::make_unique<EmbedThenScore>(*embeddings, std::move(table));
    } else {
      std::printf("  embeddings: %s\n", built.error.c_str());
    }
  }

  // ---- 1. AUC ----
  std::printf("\nROC AUC on the labelled set (pooled / mean per core)\n");
  std::printf("  %-11s %-16s %-16s %-16s %-16s\n", "scorer", "c01-c15 tuning", "c16-c30 check", "c31-c45 final", "all");
  auto range = [](std::size_t lo, std::size_t hi) { return [lo, hi](std::size_t c) { return c >= lo && c < hi; }; };
  auto report = [&](const sim::Scorer& s) {
    const auto a = sim::evaluate(s, *set, range(0, 15)), b = sim::evaluate(s, *set, range(15, 30)),
               c = sim::evaluate(s, *set, range(30, 45)), d = sim::evaluate(s, *set);
    std::printf("  %-11s %.3f / %.3f    %.3f / %.3f    %.3f / %.3f    %.3f / %.3f  (%zu pairs)\n",
                std::string(s.name()).c_str(), a.auc, a.mean_core_auc, b.auc, b.mean_core_auc, c.auc, c.mean_core_auc,
                d.auc, d.mean_core_auc, d.pairs);
  };
  for (const auto& s : scorers) report(*s);
  if (embed_then_score) report(*embed_then_score);

  // How sure is the difference? A paired bootstrap over cores (the unit that was sampled).
  if (scorers.size() >= 2) {
    std::vector<std::vector<float>> per_core[2];
    for (int k = 0; k < 2; ++k) {
      auto cache = scorers[static_cast<std::size_t>(k)]->cache();
      std::vector<float> sc;
      for (std::size_t c = 0; c < set->cores.size(); ++c) {
        scorers[static_cast<std::size_t>(k)]->score_all(set->cores[c].texts, *cache, sc);
        per_core[k].emplace_back();
        for (const auto& p : set->pairs)
          if (p.core == c) per_core[k].back().push_back(sc[p.attribute]);
      }
    }
    std::vector<std::vector<std::uint8_t>> labels(set->cores.size());
    for (const auto& p : set->pairs) labels[p.core].push_back(p.related ? 1 : 0);
    Rng rng = Rng::derive(1, 0, "bench:bootstrap");
    std::vector<double> diffs;
    std::vector<float> a, b;
    std::vector<std::uint8_t> l;
    for (int r = 0; r < 2000; ++r) {
      a.clear();
      b.clear();
      l.clear();
      for (std::size_t i = 0; i < set->cores.size(); ++i) {
        const auto c = static_cast<std::size_t>(rng.below(set->cores.size()));
        a.insert(a.end(), per_core[0][c].begin(), per_core[0][c].end());
        b.insert(b.end(), per_core[1][c].begin(), per_core[1][c].end());
        l.insert(l.end(), labels[c].begin(), labels[c].end());
      }
      diffs.push_back(sim::roc_auc(b, l) - sim::roc_auc(a, l));
    }
    std::printf(
        "  %s - %s, all pairs: %+.3f, 90%% paired bootstrap interval over cores [%+.3f, %+.3f], "
        "share of resamples <= 0: %.1f%%\n",
        std::string(scorers[1]->name()).c_str(), std::string(scorers[0]->name()).c_str(),
        sim::evaluate(*scorers[1], *set).auc - sim::evaluate(*scorers[0], *set).auc, percentile(diffs, 0.05),
        percentile(diffs, 0.95),
        100.0 * static_cast<double>(std::count_if(diffs.begin(), diffs.end(), [](double d) { return d <= 0; })) /
            static_cast<double>(diffs.size()));
  }

  // Where the labelled attributes land among all leaves for their core (the selection's view).
  std::printf("\ntiers of the labelled attributes among all %zu leaves of their core's ranking\n",
              tax->leaves().size());
  std::printf("  %-11s %-28s %s\n", "scorer", "related: near / mid / far", "unrelated: near / mid / far");
  auto tiers = [&](const sim::Scorer& s) {
    auto cache = s.cache();
    std::vector<float> sc;
    double rel[3] = {0, 0, 0}, unrel[3] = {0, 0, 0};
    for (std::size_t c = 0; c < set->cores.size(); ++c) {
      s.score_all(set->cores[c].texts, *cache, sc);
      for (const auto& p : set->pairs) {
        if (p.core != c) continue;
        std::size_t above = 0;
        for (auto v : tax->leaves()) above += sc[v] > sc[p.attribute] ? 1 : 0;
        const std::size_t n = tax->leaves().size();
        const int tier = above < (n + 2) / 3 ? 0 : above < (n + 2) / 3 + (n + 1) / 3 ? 1 : 2;
        (p.related ? rel : unrel)[tier] += 1;
        if (explain == set->cores[c].id)
          std::printf("    %-10s %-9s rank %4zu  %s\n", std::string(s.name()).c_str(),
                      p.related ? "related" : "unrelated", above + 1, tax->node(p.attribute).path.c_str());
      }
    }
    const double nr = rel[0] + rel[1] + rel[2], nu = unrel[0] + unrel[1] + unrel[2];
    std::printf("  %-11s %4.0f%% / %4.0f%% / %4.0f%%        %4.0f%% / %4.0f%% / %4.0f%%\n",
                std::string(s.name()).c_str(), 100 * rel[0] / nr, 100 * rel[1] / nr, 100 * rel[2] / nr,
                100 * unrel[0] / nu, 100 * unrel[1] / nu, 100 * unrel[2] / nu);
  };
  for (const auto& s : scorers) tiers(*s);
  if (embed_then_score) tiers(*embed_then_score);

  // ---- 2. time per persona ----
  std::vector<std::vector<std::string>> cores;
  for (const auto& c : set->cores) cores.push_back(c.texts);
  std::vector<std::vector<std::string>> personas;
  std::vector<std::vector<Selected>> selected;
  if (!personas_file.empty()) {
    personas = read_personas(personas_file, &selected);
    cores.insert(cores.end(), personas.begin(), personas.end());
  }
  std::printf("\nscore_all per persona (%zu cores, warm per-thread cache, one thread, CPU time)\n", cores.size());
  auto time_it = [&](const char* label, auto&& fn) {
    fn();  // warm-up
    std::size_t calls = 0;
    const Timer start;
    do {
      fn();
      calls += cores.size();
    } while (ms_since(start) < seconds * 1000.0);
    std::printf("  %-11s %8.1f us\n", label, ms_since(start) * 1000.0 / static_cast<double>(calls));
  };
  std::vector<float> scores;
  for (const auto& s : scorers) {
    auto cache = s->cache();
    time_it(std::string(s->name()).c_str(), [&] {
      for (const auto& c : cores) s->score_all(c, *cache, scores);
    });
  }
  if (embeddings) {
    std::vector<float> q(embeddings->dimensions(), 0.1f);
    time_it("embeddings", [&] {
      for (std::size_t i = 0; i < cores.size(); ++i) {
        q[i % q.size()] += 0.01f;
        embeddings->score_vector(q, scores);
      }
    });
  }

  // ---- 3. tier boundaries ----
  if (!personas.empty()) {
    std::printf("\ntier boundaries over all %zu leaves, %zu personas of %s (median [p10, p90])\n", tax->leaves().size(),
                personas.size(), personas_file.c_str());
    std::printf("  %-11s %-26s %-26s %-26s %-12s %s\n", "scorer", "top score", "near|mid boundary", "mid|far boundary",
                "zero share", "ties at boundaries");
    auto fmt3 = [](const std::vector<double>& v) {
      char b[64];
      std::snprintf(b, sizeof b, "%.4f [%.4f, %.4f]", percentile(v, 0.5), percentile(v, 0.1), percentile(v, 0.9));
      return std::string(b);
    };
    for (const auto& s : scorers) {
      auto cache = s->cache();
      std::vector<double> top, b1s, b2s, zero, ties;
      std::vector<float> leaf;
      for (const auto& core : personas) {
        s->score_all(core, *cache, scores);
        leaf.clear();
        for (auto v : tax->leaves()) leaf.push_back(scores[v]);
        std::sort(leaf.begin(), leaf.end(), std::greater<>());
        const std::size_t n = leaf.size(), i1 = (n + 2) / 3, i2 = i1 + (n + 1) / 3;
        top.push_back(leaf.front());
        b1s.push_back(leaf[std::min(i1, n - 1)]);
        b2s.push_back(leaf[std::min(i2, n - 1)]);
        zero.push_back(static_cast<double>(std::count(leaf.begin(), leaf.end(), 0.0f)) / static_cast<double>(n));
        const auto tied = [&](float x) { return static_cast<double>(std::count(leaf.begin(), leaf.end(), x)); };
        ties.push_back((tied(leaf[std::min(i1, n - 1)]) + tied(leaf[std::min(i2, n - 1)])) / static_cast<double>(n));
      }
      char z[32], tz[32];
      std::snprintf(z, sizeof z, "%.1f%%", 100.0 * percentile(zero, 0.5));
      std::snprintf(tz, sizeof tz, "%.1f%% of leaves", 100.0 * percentile(ties, 0.5));
      std::printf("  %-11s %-26s %-26s %-26s %-12s %s\n", std::string(s->name()).c_str(), fmt3(top).c_str(),
                  fmt3(b1s).c_str(), fmt3(b2s).c_str(), z, tz);
    }
  }
  // ---- 4. the attributes the file's personas were given, judged by each scorer ----
  if (!selected.empty()) {
    std::printf(
        "\nselected attributes of %s by tier, scored against their persona's core: share with no\n"
        "evidence (score 0, so placed by the tie-break alone) and mean percentile among all leaves\n",
        personas_file.c_str());
    std::printf("  %-11s %-30s %s\n", "judged by", "zero score: near / mid / far", "mean percentile: near / mid / far");
    for (const auto& s : scorers) {
      auto cache = s->cache();
      double zero[3] = {0, 0, 0}, pct[3] = {0, 0, 0}, n[3] = {0, 0, 0};
      std::vector<float> leaf;
      for (std::size_t i = 0; i < personas.size() && i < selected.size(); ++i) {
        s->score_all(personas[i], *cache, scores);
        leaf.clear();
        for (auto v : tax->leaves()) leaf.push_back(scores[v]);
        std::sort(leaf.begin(), leaf.end());
        for (const auto& a : selected[i]) {
          const auto v = tax->find(a.path);
          if (!v) continue;
          const float x = scores[*v];
          const auto below = static_cast<double>(std::lower_bound(leaf.begin(), leaf.end(), x) - leaf.begin());
          const auto upto = static_cast<double>(std::upper_bound(leaf.begin(), leaf.end(), x) - leaf.begin());
          pct[a.tier] += 100.0 * (below + upto) / 2.0 / static_cast<double>(leaf.size());
          zero[a.tier] += x == 0.0f ? 1 : 0;
          n[a.tier] += 1;
        }
      }
      std::printf(
          "  %-11s %5.1f%% / %5.1f%% / %5.1f%%        %5.1f / %5.1f / %5.1f   (%.0f / %.0f / %.0f attributes)\n",
          std::string(s->name()).c_str(), 100 * zero[0] / n[0], 100 * zero[1] / n[1], 100 * zero[2] / n[2],
          pct[0] / n[0], pct[1] / n[1], pct[2] / n[2], n[0], n[1], n[2]);
    }
  }
  return 0;
}
