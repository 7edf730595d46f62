// Node embeddings from a provider, cosine with a core embedding the caller supplies.
#include "similarity/embedding_scorer.hpp"

#include <cmath>

#include "llm/client.hpp"
#include "llm/embeddings.hpp"

namespace persona::sim {

namespace {

struct EmbeddingCache final : Cache {
  std::vector<float> core;  // normalised
  bool has_core = false;
  std::size_t fallbacks = 0;
  std::unique_ptr<Cache> fallback_cache;
};

}  // namespace

EmbeddingScorer::Built EmbeddingScorer::from_vectors(const tax::Taxonomy& t,
                                                     const std::vector<std::vector<float>>& vectors,
                                                     std::unique_ptr<Scorer> fallback) {
  Built out;
  if (vectors.size() != t.size()) {
    out.error = "expected one embedding per taxonomy node (" + std::to_string(t.size()) + "), got " +
                std::to_string(vectors.size());
    return out;
  }
  const std::size_t dim = vectors.empty() ? 0 : vectors.front().size();
  if (dim == 0 && !vectors.empty()) {
    out.error = "the embeddings have no dimensions";
    return out;
  }
  auto s = std::unique_ptr<EmbeddingScorer>(new EmbeddingScorer());
  s->nodes_ = vectors.size();
  s->dim_ = dim;
  s->matrix_.resize(s->nodes_ * dim);
  for (std::size_t v = 0; v < vectors.size(); ++v) {
    const auto& row = vectors[v];
    if (row.size() != dim) {
      out.error = "the embedding of node " + std::to_string(v + 1) + " (" + t[v].path + ") has " +
                  std::to_string(row.size()) + " dimensions where the first has " + std::to_string(dim);
      return out;
    }
    double norm = 0;
    for (float x : row) {
      if (!std::isfinite(x)) {
        out.error = "the embedding of node " + std::to_string(v + 1) + " (" + t[v].path + ") is not finite";
        return out;
      }
      norm += static_cast<double>(x) * x;
    }
    norm = std::sqrt(norm);
    float* dst = s->matrix_.data() + v * dim;
    for (std::size_t k = 0; k < dim; ++k) dst[k] = norm > 0 ? static_cast<float>(row[k] / norm) : 0.0f;
  }
  s->fallback_ = std::move(fallback);
  out.scorer = std::move(s);
  return out;
}

EmbeddingScorer::Built EmbeddingScorer::build(const tax::Taxonomy& t, llm::Client& client,
                                              std::unique_ptr<Scorer> fallback, std::size_t batch) {
  std::vector<std::string> texts;
  texts.reserve(t.size());
  for (tax::Vertex v = 0; v < t.size(); ++v) texts.push_back(tax::node_text(t, v));
  llm::Embeddings e = llm::embed(client, texts, batch);
  if (!e.ok()) {
    Built out;
    out.error = "taxonomy embeddings: " + e.error;
    return out;
  }
  Built out = from_vectors(t, e.vectors, std::move(fallback));
  if (!out.ok()) out.error = "taxonomy embeddings: " + out.error;
  return out;
}

std::string EmbeddingScorer::core_text(std::span<const std::string> core) {
  std::string out;
  for (const auto& s : core) {
    if (s.empty()) continue;
    if (!out.empty()) out += "; ";
    out += s;
  }
  return out;
}

std::string EmbeddingScorer::check(std::span<const float> v, double& norm) const {
  norm = 0;
  if (v.size() != dim_)
    return "the core embedding has " + std::to_string(v.size()) + " dimensions where the taxonomy's have " +
           std::to_string(dim_);
  for (float x : v) {
    if (!std::isfinite(x)) return "the core embedding is not finite";
    norm += static_cast<double>(x) * x;
  }
  if (norm <= 0) return "the core embedding is all zeros";
  norm = std::sqrt(norm);
  return {};
}

std::string EmbeddingScorer::score_vector(std::span<const float> core_vector, std::vector<float>& scores) const {
  scores.assign(nodes_, 0.0f);
  double norm = 0;
  if (std::string err = check(core_vector, norm); !err.empty()) return err;
  const float inv = static_cast<float>(1.0 / norm);
  const float* q = core_vector.data();
  // Eight independent partial sums: the compiler can keep them in vector lanes without reordering
  // a single floating-point reduction.
  for (std::size_t v = 0; v < nodes_; ++v) {
    const float* row = matrix_.data() + v * dim_;
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 8 <= dim_; k += 8)
      for (std::size_t j = 0; j < 8; ++j) part[j] += row[k + j] * q[k + j];
    float dot = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; k < dim_; ++k) dot += row[k] * q[k];
    scores[v] = dot * inv;
  }
  return {};
}

std::string EmbeddingScorer::set_core_vector(Cache& cache, std::span<const float> core_vector) const {
  auto& c = static_cast<EmbeddingCache&>(cache);
  c.has_core = false;
  double norm = 0;
  if (std::string err = check(core_vector, norm); !err.empty()) return err;
  c.core.assign(core_vector.begin(), core_vector.end());
  c.has_core = true;
  return {};
}

std::size_t EmbeddingScorer::fallbacks(const Cache& cache) {
  return static_cast<const EmbeddingCache&>(cache).fallbacks;
}

std::unique_ptr<Cache> EmbeddingScorer::cache() const {
  auto c = std::make_unique<EmbeddingCache>();
  if (fallback_) c->fallback_cache = fallback_->cache();
  c->core.reserve(dim_);
  return c;
}

void EmbeddingScorer::score_all(std::span<const std::string> core, Cache& cache, std::vector<float>& scores) const {
  auto& c = static_cast<EmbeddingCache&>(cache);
  if (c.has_core) {
    c.has_core = false;
    score_vector(c.core, scores);  // checked when set
    return;
  }
  ++c.fallbacks;
  if (fallback_)
    fallback_->score_all(core, *c.fallback_cache, scores);
  else
    scores.assign(nodes_, 0.0f);
}

}  // namespace persona::sim
