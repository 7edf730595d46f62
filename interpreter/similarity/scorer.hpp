// Similarity of every taxonomy node to a persona's core (anchors, values, life story): the ranking
// the selection splits into near / mid / far tiers. Three scorers behind one small interface:
//
//   tfidf       word overlap (the taxonomy's TF-IDF model; the baseline, and the fallback)
//   semantic    WordNet senses, hypernym ancestors and glosses, plus taxonomy neighbourhood (offline
//               default)
//   embeddings  cosine of provider embeddings (similarity/embedding_scorer.hpp)
//
//   DiagnosticList diags;
//   auto scorer = sim::make_scorer("semantic", taxonomy, diags);   // tfidf + a warning without WordNet
//   auto cache = scorer->cache();                                   // one per thread
//   std::vector<float> scores;
//   scorer->score_all(core_texts, *cache, scores);                  // scores[v] for every tax::Vertex v
//
// A Scorer is built once per program and shared read-only by threads; each thread owns a Cache.
// After a short warm-up (words not seen before on that thread), score_all allocates nothing.
// The Taxonomy must outlive the Scorer. Nothing here prints or throws.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::sim {

class WordNet;

// A scorer's per-thread state (word caches, scratch buffers). Make one with Scorer::cache().
class Cache {
 public:
  virtual ~Cache();
};

class Scorer {
 public:
  virtual ~Scorer();
  // "tfidf", "semantic" or "embeddings".
  [[nodiscard]] virtual std::string_view name() const = 0;
  // Fresh per-thread state for this scorer (a Cache of another scorer must not be passed in).
  [[nodiscard]] virtual std::unique_ptr<Cache> cache() const = 0;
  // Scores every taxonomy node (index = tax::Vertex) against the core's texts; higher = closer. `scores`
  // is resized to the taxonomy's size. An empty core (or one without a known word) gives all zeros.
  // Scores are comparable within one call only: rank by them, do not threshold them.
  virtual void score_all(std::span<const std::string> core, Cache& cache, std::vector<float>& scores) const = 0;
};

// The scorer names make_scorer accepts, for messages and completion.
const std::vector<std::string>& scorer_names();  // {"tfidf", "semantic", "embeddings"}

// Where WordNet is read from: $WNSEARCHDIR when set (the variable WordNet's own tools honour), else
// /usr/share/wordnet (Debian's wordnet-base).
std::filesystem::path default_wordnet_dir();

// TF-IDF word overlap: the core vector is the normalised sum of Taxonomy::query_vector(word) over the
// core's words, scores are Taxonomy::score_all (the selection's behaviour before this stage existed).
// All zeros when the taxonomy was built without vectors.
std::unique_ptr<Scorer> make_tfidf(const tax::Taxonomy& t);

// Meaning-based scores from WordNet (see semantic.cpp and docs/similarity.md). Builds every node's
// concept vector now (tens of milliseconds for stdlib.core).
std::unique_ptr<Scorer> make_semantic(const tax::Taxonomy& t, std::shared_ptr<const WordNet> wordnet);

struct Options {
  std::filesystem::path wordnet_dir;  // empty: default_wordnet_dir()
};

// "tfidf" or "semantic" by name. "semantic" without a usable WordNet reports one warning (code
// "wordnet-unavailable", naming the file) and returns the tfidf scorer. "embeddings" needs a provider
// (EmbeddingScorer::build) and an unknown name is an error (code "unknown-scorer"): both return nullptr.
std::unique_ptr<Scorer> make_scorer(std::string_view name, const tax::Taxonomy& t, DiagnosticSink& sink,
                                    const Options& options = {});

// Whether the WordNet files the semantic scorer reads are present in `dir` (a cheap check, no
// parsing). When one is missing: one warning (code "wordnet-unavailable") naming it, false.
bool wordnet_present(const std::filesystem::path& dir, DiagnosticSink& sink);

// make_scorer, memoised for the process: programs over taxonomies with the same content (and the
// same WordNet folder) share one scorer, so the semantic index (about half a second of CPU) is built
// once however many recipes a process compiles (REPL, tests). The returned pointer keeps the
// taxonomy it was built on alive. The diagnostics of the first build are reported again on each hit.
std::shared_ptr<const Scorer> shared_scorer(std::string_view name, std::shared_ptr<const tax::Taxonomy> t,
                                            DiagnosticSink& sink, const Options& options = {});

}  // namespace persona::sim
