// The baseline scorer: TF-IDF word overlap through the taxonomy's own model, exactly as the selection
// computed it before: per-word query vectors (Taxonomy::query_vector(word)), cached per thread,
// summed with unit weight per word occurrence, normalised, and scored through the inverted index.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "base/text.hpp"
#include "similarity/scorer.hpp"

namespace persona::sim {

namespace {

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view w) const { return std::hash<std::string_view>{}(w); }
};

struct TfIdfCache final : Cache {
  std::unordered_map<std::string, tax::SparseVector, Hash, std::equal_to<>> words;
  std::vector<float> acc;
  std::vector<std::uint32_t> touched;
  std::string word;
  tax::SparseVector core;
};

constexpr std::size_t kMaxCachedWords = 65536;  // bounded memory per thread

class TfIdfScorer final : public Scorer {
 public:
  explicit TfIdfScorer(const tax::Taxonomy& t) : t_(t) {}
  std::string_view name() const override { return "tfidf"; }
  std::unique_ptr<Cache> cache() const override { return std::make_unique<TfIdfCache>(); }

  void score_all(std::span<const std::string> core, Cache& cache, std::vector<float>& scores) const override {
    auto& c = static_cast<TfIdfCache&>(cache);
    c.acc.resize(t_.vocabulary_size(), 0.0f);
    c.touched.clear();
    for (const std::string& text : core) text::for_each_word(text, c.word, [&](std::string_view w) { add_word(c, w); });
    std::sort(c.touched.begin(), c.touched.end());
    double norm = 0;
    for (std::uint32_t term : c.touched) norm += static_cast<double>(c.acc[term]) * c.acc[term];
    norm = std::sqrt(norm);
    c.core.terms.assign(c.touched.begin(), c.touched.end());
    c.core.weights.resize(c.touched.size());
    for (std::size_t k = 0; k < c.touched.size(); ++k) {
      c.core.weights[k] = norm > 0 ? static_cast<float>(c.acc[c.touched[k]] / norm) : 0.0f;
      c.acc[c.touched[k]] = 0.0f;
    }
    t_.score_all(c.core, scores);
  }

 private:
  void add_word(TfIdfCache& c, std::string_view word) const {
    auto it = c.words.find(word);
    if (it == c.words.end()) {
      if (c.words.size() >= kMaxCachedWords) c.words.clear();
      it = c.words.emplace(std::string(word), t_.query_vector(word)).first;
    }
    const tax::SparseVector& v = it->second;
    for (std::size_t k = 0; k < v.terms.size(); ++k) {
      const std::uint32_t term = v.terms[k];
      if (term >= c.acc.size()) continue;
      if (c.acc[term] == 0.0f) c.touched.push_back(term);
      c.acc[term] += v.weights[k];
    }
  }

  const tax::Taxonomy& t_;
};

}  // namespace

std::unique_ptr<Scorer> make_tfidf(const tax::Taxonomy& t) { return std::make_unique<TfIdfScorer>(t); }

}  // namespace persona::sim
