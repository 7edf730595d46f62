// Node embeddings from a provider, cosine with a core embedding the caller supplies.
#include "similarity/embedding_scorer.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

#include "base/files.hpp"
#include "base/text.hpp"
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

namespace {

// The node texts, and the key of their vectors under `model`.
std::vector<std::string> node_texts(const tax::Taxonomy& t) {
  std::vector<std::string> texts;
  texts.reserve(t.size());
  for (tax::Vertex v = 0; v < t.size(); ++v) texts.push_back(tax::node_text(t, v));
  return texts;
}

std::string vectors_key(const std::string& model, const std::vector<std::string>& texts) {
  std::string all = model;
  for (const auto& s : texts) {
    all += '\n';
    all += s;
  }
  return files::sha256_hex(all);
}

// File layout: the line "persona-embeddings 1 KEY COUNT DIM\n", then COUNT x DIM floats in the
// machine's byte order (a cache is local to its machine).
constexpr std::string_view kMagic = "persona-embeddings 1 ";

std::string encode(const std::string& key, const std::vector<std::vector<float>>& vectors) {
  const std::size_t dim = vectors.empty() ? 0 : vectors.front().size();
  std::string out = std::string(kMagic) + key + " " + std::to_string(vectors.size()) + " " + std::to_string(dim) + "\n";
  const std::size_t head = out.size();
  out.resize(head + vectors.size() * dim * sizeof(float));
  char* dst = out.data() + head;
  for (const auto& v : vectors) {
    std::memcpy(dst, v.data(), dim * sizeof(float));
    dst += dim * sizeof(float);
  }
  return out;
}

bool decode(const std::string& data, const std::string& key, std::size_t count,
            std::vector<std::vector<float>>& vectors) {
  const std::size_t nl = data.find('\n');
  if (nl == std::string::npos || !data.starts_with(kMagic)) return false;
  const std::string head = data.substr(kMagic.size(), nl - kMagic.size());
  const auto parts = text::split(head, ' ');
  if (parts.size() != 3 || parts[0] != key || parts[1] != std::to_string(count)) return false;
  char* end = nullptr;
  const unsigned long long dim = std::strtoull(parts[2].c_str(), &end, 10);
  if (end == parts[2].c_str() || *end != '\0' || dim == 0 || dim > (1u << 16)) return false;
  if (data.size() - nl - 1 != count * dim * sizeof(float)) return false;
  vectors.assign(count, std::vector<float>(dim));
  const char* src = data.data() + nl + 1;
  for (auto& v : vectors) {
    std::memcpy(v.data(), src, dim * sizeof(float));
    src += dim * sizeof(float);
  }
  return true;
}

std::string file_safe(std::string_view s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out.empty() ? std::string("model") : out;
}

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
    if (norm <= 0) {
      out.error = "the embedding of node " + std::to_string(v + 1) + " (" + t[v].path + ") is all zeros";
      return out;
    }
    norm = std::sqrt(norm);
    float* dst = s->matrix_.data() + v * dim;
    for (std::size_t k = 0; k < dim; ++k) dst[k] = static_cast<float>(row[k] / norm);
  }
  s->fallback_ = std::move(fallback);
  out.scorer = std::move(s);
  return out;
}

EmbeddingScorer::Built EmbeddingScorer::build(const tax::Taxonomy& t, llm::Client& client,
                                              std::unique_ptr<Scorer> fallback, std::size_t batch) {
  const std::vector<std::string> texts = node_texts(t);
  llm::Embeddings e = llm::embed(client, texts, batch);
  if (!e.ok()) {
    Built out;
    out.error = "taxonomy embeddings: " + e.error;
    out.http_status = e.http_status;
    return out;
  }
  Built out = from_vectors(t, e.vectors, std::move(fallback));
  if (!out.ok()) out.error = "taxonomy embeddings: " + out.error;
  return out;
}

std::filesystem::path EmbeddingScorer::cache_file(const tax::Taxonomy& t, const llm::Client& client,
                                                  const std::filesystem::path& cache_dir) {
  const std::string& model = client.provider().embedding_model;
  return cache_dir / (file_safe(model) + "-" + vectors_key(model, node_texts(t)).substr(0, 16) + ".vec");
}

EmbeddingScorer::Built EmbeddingScorer::build_cached(const tax::Taxonomy& t, llm::Client& client,
                                                     const std::filesystem::path& cache_dir,
                                                     std::unique_ptr<Scorer> fallback, std::size_t batch) {
  if (cache_dir.empty()) return build(t, client, std::move(fallback), batch);
  const std::vector<std::string> texts = node_texts(t);
  const std::string key = vectors_key(client.provider().embedding_model, texts);
  const auto file = cache_file(t, client, cache_dir);
  files::Limits limits;
  limits.max_bytes = 4ull << 30;
  limits.require_utf8 = false;
  std::vector<std::vector<float>> vectors;
  if (std::error_code ec; std::filesystem::is_regular_file(file, ec))
    if (auto r = files::read(file, limits); r.ok() && decode(*r.text, key, texts.size(), vectors)) {
      Built out = from_vectors(t, vectors, std::move(fallback));
      if (out.ok()) return out;
      fallback = nullptr;  // moved: a damaged file is rare; the rebuilt scorer goes without
    }
  llm::Embeddings e = llm::embed(client, texts, batch);
  if (!e.ok()) {
    Built out;
    out.error = "taxonomy embeddings: " + e.error;
    out.http_status = e.http_status;
    return out;
  }
  Built out = from_vectors(t, e.vectors, std::move(fallback));
  if (!out.ok()) {
    out.error = "taxonomy embeddings: " + out.error;
    return out;
  }
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  std::string err;
  (void)files::write_atomic(file, encode(key, e.vectors), err);
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
