// The embeddings scorer: cosine between provider embeddings of the taxonomy's nodes (computed once
// per run through llm::embed, batched; the client's response cache makes reruns free) and an
// embedding of the persona's core, which the caller obtains (the selection asks for it through the
// LLM backend, so the step itself does no I/O).
//
//   auto built = sim::EmbeddingScorer::build(taxonomy, client, sim::make_scorer("semantic", taxonomy, diags));
//   if (!built.ok()) warn(built.error);                   // the caller falls back to `semantic`
//   std::string text = sim::EmbeddingScorer::core_text(core);      // embed this one text ...
//   std::string err = built.scorer->score_vector(core_vector, scores);   // ... and score with it
//
// Through the Scorer interface: set_core_vector(cache, v) then score_all(core, cache, scores) uses v
// once; without a vector set, score_all gives the fallback scorer's scores (and counts it).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "similarity/scorer.hpp"

namespace persona::llm {
class Client;
}

namespace persona::sim {

class EmbeddingScorer final : public Scorer {
 public:
  struct Built {
    std::unique_ptr<EmbeddingScorer> scorer;
    std::string error;     // why not: the endpoint failed, or answered a wrong count or dimension
    long http_status = 0;  // of the failed call, when one failed
    [[nodiscard]] bool ok() const { return scorer != nullptr; }
  };
  // Embeds tax::node_text of every node on `client` in batches of `batch`. `fallback` (may be null:
  // then all zeros) answers score_all when no core vector was set. The client is not kept.
  static Built build(const tax::Taxonomy& t, llm::Client& client, std::unique_ptr<Scorer> fallback,
                     std::size_t batch = 64);
  // build, with the node vectors kept on disk: `cache_dir`/MODEL-HASH.vec, HASH being the SHA-256 of
  // the model name and every node text, so a later run with the same model and taxonomy reads the
  // file instead of asking the endpoint (a file that does not match is ignored and rewritten). A
  // cache that cannot be written is not an error (the vectors were computed); `cache_dir` empty: build.
  static Built build_cached(const tax::Taxonomy& t, llm::Client& client, const std::filesystem::path& cache_dir,
                            std::unique_ptr<Scorer> fallback, std::size_t batch = 64);
  // The file build_cached uses for `t` on `client`'s provider.
  static std::filesystem::path cache_file(const tax::Taxonomy& t, const llm::Client& client,
                                          const std::filesystem::path& cache_dir);
  // From vectors already at hand (one per node, in vertex order; tests, a vector store). Error when
  // the count differs from the taxonomy's size or the dimensions differ or are zero.
  static Built from_vectors(const tax::Taxonomy& t, const std::vector<std::vector<float>>& vectors,
                            std::unique_ptr<Scorer> fallback);

  // The one text whose embedding scores the core: its non-empty texts joined by "; ".
  static std::string core_text(std::span<const std::string> core);

  [[nodiscard]] std::size_t dimensions() const { return dim_; }
  [[nodiscard]] const Scorer* fallback() const { return fallback_.get(); }

  // scores[v] = cosine(node v, core_vector), resized to the taxonomy's size. Returns an error (scores
  // then all zero) when the vector's dimension differs from the nodes', or it is zero or not finite.
  std::string score_vector(std::span<const float> core_vector, std::vector<float>& scores) const;

  // Why `core_vector` cannot be scored against the nodes ("" when it can): a different dimension,
  // all zeros, not finite.
  [[nodiscard]] std::string check_vector(std::span<const float> core_vector) const {
    double norm = 0;
    return check(core_vector, norm);
  }
  // Stores the core vector for the next score_all on this cache (same checks as score_vector).
  std::string set_core_vector(Cache& cache, std::span<const float> core_vector) const;
  // How many score_all calls on this cache had no core vector and used the fallback.
  static std::size_t fallbacks(const Cache& cache);

  std::string_view name() const override { return "embeddings"; }
  std::unique_ptr<Cache> cache() const override;
  void score_all(std::span<const std::string> core, Cache& cache, std::vector<float>& scores) const override;

 private:
  EmbeddingScorer() = default;
  std::string check(std::span<const float> v, double& norm) const;
  std::size_t nodes_ = 0, dim_ = 0;
  std::vector<float> matrix_;  // nodes_ x dim_, rows L2-normalised (a zero row stays zero)
  std::unique_ptr<Scorer> fallback_;
};

}  // namespace persona::sim
