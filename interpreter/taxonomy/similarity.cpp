// Embedded TF-IDF similarity: words of the path, description and value options plus character
// trigrams of the node's own name; L2-normalised sparse vectors and an inverted index (CSR).
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "detail.hpp"

namespace persona::tax {

namespace {

// Term weights: the node's own name dominates.
constexpr float kNameWord = 3.0f;
constexpr float kNameTrigram = 0.4f;
constexpr float kParentWord = 1.0f;
constexpr float kAncestorWord = 0.5f;
constexpr float kDescriptionWord = 1.0f;
constexpr float kValueWord = 0.5f;
constexpr float kQueryWord = 1.0f;
constexpr float kQueryTrigram = 0.4f;

bool is_stopword(std::string_view w) {
  static const std::unordered_set<std::string_view> stop = {
      "a",       "an",   "and",   "or",   "the", "of",   "to",  "in",    "on",      "for",
      "with",    "by",   "at",    "as",   "is",  "are",  "be",  "it",    "its",     "this",
      "that",    "from", "their", "they", "how", "what", "who", "which", "whether", "person",
      "persons", "s",    "do",    "does", "has", "have", "not", "no",    "e",       "g"};
  return stop.count(w) > 0;
}

// Calls fn(word) for each lowercase word of text (the same split as words()), reusing one buffer.
template <typename Fn>
void for_each_word(std::string_view text, std::string& cur, Fn&& fn) {
  cur.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
      cur.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      if (!cur.empty() && i > 0 && text[i - 1] >= 'a' && text[i - 1] <= 'z') {
        fn(std::string_view(cur));
        cur.clear();
      }
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!cur.empty()) {
      fn(std::string_view(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) fn(std::string_view(cur));
  cur.clear();
}

// Emits the weighted terms of a text: words (unless trigrams_only) and/or "#"-prefixed trigrams.
template <typename Emit>
void emit_terms(std::string_view text, float word_w, float tri_w, std::string& buf, std::string& key, Emit&& emit) {
  for_each_word(text, buf, [&](std::string_view w) {
    if (is_stopword(w)) return;
    if (word_w > 0) emit(w, word_w);
    if (tri_w > 0) {
      const std::size_t n = w.size() + 2;  // with the boundary marks
      auto at = [&](std::size_t i) { return i == 0 ? '<' : i == n - 1 ? '>' : w[i - 1]; };
      if (n <= 3) {
        key.clear();
        key.push_back('#');
        key.push_back('<');
        for (char c : w) key.push_back(c);
        key.push_back('>');
        emit(std::string_view(key), tri_w);
        return;
      }
      for (std::size_t i = 0; i + 3 <= n; ++i) {
        key.clear();
        key.push_back('#');
        key.push_back(at(i));
        key.push_back(at(i + 1));
        key.push_back(at(i + 2));
        emit(std::string_view(key), tri_w);
      }
    }
  });
}

// Sorts (term, weight) pairs by term and sums duplicates.
void combine(std::vector<std::pair<std::uint32_t, float>>& v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::size_t o = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (o > 0 && v[o - 1].first == v[i].first)
      v[o - 1].second += v[i].second;
    else
      v[o++] = v[i];
  }
  v.resize(o);
}

}  // namespace

std::vector<std::string> words(std::string_view text) {
  // The same split as the TF-IDF model's (for_each_word), so tests and callers see its tokens.
  std::vector<std::string> out;
  std::string cur;
  for_each_word(text, cur, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

std::vector<std::string> trigrams(std::string_view word) {
  std::vector<std::string> out;
  if (word.empty()) return out;
  const std::string w = "<" + std::string(word) + ">";
  if (w.size() <= 3) {
    out.push_back(w);
    return out;
  }
  for (std::size_t i = 0; i + 3 <= w.size(); ++i) out.push_back(w.substr(i, 3));
  return out;
}

namespace detail {

TfIdfModel::TfIdfModel(const Taxonomy& t) {
  const std::size_t n = t.size();
  // Intern every term once; per node a list of (term id, weight).
  std::unordered_map<std::string, std::uint32_t> ids;
  ids.reserve(n * 8);
  std::vector<std::uint32_t> df;
  std::vector<std::vector<std::pair<std::uint32_t, float>>> raw(n);
  std::string buf, key, lookup;
  for (Vertex v = 0; v < n; ++v) {
    auto& tf = raw[v];
    auto emit = [&](std::string_view term, float w) {
      lookup.assign(term);
      auto it = ids.find(lookup);
      if (it == ids.end()) {
        it = ids.emplace(lookup, static_cast<std::uint32_t>(df.size())).first;
        df.push_back(0);
      }
      tf.emplace_back(it->second, w);
    };
    const Node& node = t[v];
    emit_terms(node.name, kNameWord, kNameTrigram, buf, key, emit);
    std::optional<Vertex> p = t.parent(v);
    float w = kParentWord;
    while (p) {
      emit_terms(t[*p].name, w, 0, buf, key, emit);
      w = kAncestorWord;
      p = t.parent(*p);
    }
    emit_terms(node.description, kDescriptionWord, 0, buf, key, emit);
    for (const auto& o : node.values) emit_terms(o.label, kValueWord, 0, buf, key, emit);
    combine(tf);
    for (const auto& e : tf) ++df[e.first];
  }
  // Terms present in more than 30% of a large taxonomy carry no signal; dropping them keeps the
  // postings short.
  const auto max_df =
      n >= 50 ? static_cast<std::uint32_t>(0.3 * static_cast<double>(n)) : static_cast<std::uint32_t>(n);
  constexpr std::uint32_t none = ~std::uint32_t{0};
  std::vector<std::uint32_t> remap(df.size(), none);
  vocab_.reserve(ids.size());
  for (auto& kv : ids) {
    if (df[kv.second] > max_df) continue;
    remap[kv.second] = static_cast<std::uint32_t>(idf_.size());
    idf_.push_back(static_cast<float>(std::log(1.0 + static_cast<double>(n) / static_cast<double>(df[kv.second]))));
  }
  // Ids in first-occurrence order would depend on hash-map iteration; renumber by old id instead.
  {
    std::vector<std::uint32_t> kept;
    for (std::uint32_t old = 0; old < df.size(); ++old)
      if (remap[old] != none) kept.push_back(old);
    idf_.assign(kept.size(), 0.0f);
    for (std::uint32_t i = 0; i < kept.size(); ++i) {
      remap[kept[i]] = i;
      idf_[i] = static_cast<float>(std::log(1.0 + static_cast<double>(n) / static_cast<double>(df[kept[i]])));
    }
    for (auto& kv : ids)
      if (remap[kv.second] != none) vocab_.emplace(kv.first, remap[kv.second]);
  }
  vecs_.resize(n);
  std::vector<std::uint32_t> counts(idf_.size() + 1, 0);
  for (Vertex v = 0; v < n; ++v) {
    double norm = 0;
    auto& sv = vecs_[v];
    for (const auto& e : raw[v]) {
      if (remap[e.first] == none) continue;
      const float x = e.second * idf_[remap[e.first]];
      norm += static_cast<double>(x) * x;
      sv.terms.push_back(remap[e.first]);
      sv.weights.push_back(x);
    }
    norm = std::sqrt(norm);
    for (auto& x : sv.weights) x = norm > 0 ? static_cast<float>(x / norm) : 0.0f;
    for (auto term : sv.terms) ++counts[term + 1];
    raw[v] = {};
  }
  offsets_.assign(idf_.size() + 1, 0);
  for (std::size_t i = 1; i < counts.size(); ++i) offsets_[i] = offsets_[i - 1] + counts[i];
  post_v_.resize(offsets_.back());
  post_w_.resize(offsets_.back());
  std::vector<std::uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (Vertex v = 0; v < n; ++v) {
    const auto& sv = vecs_[v];
    for (std::size_t k = 0; k < sv.terms.size(); ++k) {
      const std::uint32_t pos = fill[sv.terms[k]]++;
      post_v_[pos] = static_cast<std::uint32_t>(v);
      post_w_[pos] = sv.weights[k];
    }
  }
}

SparseVector TfIdfModel::query(std::span<const std::string_view> texts) const {
  std::vector<std::pair<std::uint32_t, float>> entries;
  std::string buf, key, lookup;
  auto emit = [&](std::string_view term, float w) {
    lookup.assign(term);
    if (auto it = vocab_.find(lookup); it != vocab_.end()) entries.emplace_back(it->second, w * idf_[it->second]);
  };
  for (auto text : texts) emit_terms(text, kQueryWord, kQueryTrigram, buf, key, emit);
  combine(entries);
  double norm = 0;
  for (const auto& e : entries) norm += static_cast<double>(e.second) * e.second;
  norm = std::sqrt(norm);
  SparseVector sv;
  sv.terms.reserve(entries.size());
  sv.weights.reserve(entries.size());
  for (const auto& e : entries) {
    sv.terms.push_back(e.first);
    sv.weights.push_back(norm > 0 ? static_cast<float>(e.second / norm) : 0.0f);
  }
  return sv;
}

void TfIdfModel::score_all(const SparseVector& q, std::vector<float>& out) const {
  out.assign(vecs_.size(), 0.0f);
  float* o = out.data();
  const std::uint32_t* pv = post_v_.data();
  const float* pw = post_w_.data();
  for (std::size_t k = 0; k < q.terms.size(); ++k) {
    const std::uint32_t t = q.terms[k];
    if (t + 1 >= offsets_.size()) continue;
    const float qw = q.weights[k];
    for (std::uint32_t i = offsets_[t], e = offsets_[t + 1]; i < e; ++i) o[pv[i]] += qw * pw[i];
  }
}

std::vector<std::vector<Vertex>> TfIdfModel::similar_nodes(float min_score) const {
  // All pairs through prefix filtering (Bayardo, Ma and Srikant, "Scaling up all pairs similarity
  // search", WWW 2007): with one global term order, rarest first, a node's prefix is its first
  // terms up to where the remaining terms' norm (its suffix norm) drops below min_score. Two unit
  // vectors whose prefixes share no term score below min_score (every shared term lies in the
  // suffix of the node whose prefix ends first), so only prefixes are indexed and probed. While
  // probing, the dot product over terms in both prefixes is summed; the rest of the score is at
  // most |suffix(v)| + |prefix(v)| * |suffix(w)| (Cauchy-Schwarz on disjoint term sets), so a
  // candidate that cannot reach min_score is dropped before the exact sum. Margins cover float
  // rounding; the final test is the exact sum, in score_all's order.
  const std::size_t n = vecs_.size();
  std::vector<std::vector<Vertex>> out(n);
  const double bound = static_cast<double>(min_score) - 1e-4;
  auto df = [&](std::uint32_t t) { return t + 1 < offsets_.size() ? offsets_[t + 1] - offsets_[t] : 0U; };
  std::vector<std::uint32_t> prefix_start(n + 1, 0), prefix_terms;
  std::vector<float> prefix_weights;
  std::vector<double> prefix_norm(n, 0.0), suffix_norm(n, 0.0);
  std::vector<std::size_t> order;
  for (Vertex v = 0; v < n; ++v) {
    const SparseVector& q = vecs_[v];
    order.resize(q.terms.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      const auto da = df(q.terms[a]), db = df(q.terms[b]);
      return da != db ? da < db : q.terms[a] < q.terms[b];
    });
    double rest = 0.0, head = 0.0;
    for (float w : q.weights) rest += static_cast<double>(w) * w;
    for (std::size_t k = 0; k < order.size() && std::sqrt(std::max(rest, 0.0)) >= bound; ++k) {
      const double w2 = static_cast<double>(q.weights[order[k]]) * q.weights[order[k]];
      prefix_terms.push_back(q.terms[order[k]]);
      prefix_weights.push_back(q.weights[order[k]]);
      rest -= w2;
      head += w2;
    }
    prefix_start[v + 1] = static_cast<std::uint32_t>(prefix_terms.size());
    prefix_norm[v] = std::sqrt(std::max(head, 0.0));
    suffix_norm[v] = std::sqrt(std::max(rest, 0.0));
  }
  // Inverted index of the prefixes (CSR, vertices ascending per term, with their weights).
  std::vector<std::uint32_t> start(idf_.size() + 1, 0);
  for (auto t : prefix_terms) ++start[t + 1];
  for (std::size_t t = 1; t < start.size(); ++t) start[t] += start[t - 1];
  std::vector<Vertex> posting(prefix_terms.size());
  std::vector<float> posting_w(prefix_terms.size());
  {
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    for (Vertex v = 0; v < n; ++v)
      for (std::uint32_t k = prefix_start[v]; k < prefix_start[v + 1]; ++k) {
        const auto pos = fill[prefix_terms[k]]++;
        posting[pos] = v;
        posting_w[pos] = prefix_weights[k];
      }
  }
  std::vector<Vertex> seen(n, static_cast<Vertex>(-1));  // seen[w] == v: w is already a candidate of v
  std::vector<double> partial(n, 0.0);
  std::vector<float> dense(idf_.size(), 0.0f);  // v's weights by term
  std::vector<Vertex> candidates;
  for (Vertex v = 0; v < n; ++v) {
    candidates.clear();
    for (std::uint32_t k = prefix_start[v]; k < prefix_start[v + 1]; ++k) {
      const auto t = prefix_terms[k];
      const double qw = prefix_weights[k];
      for (std::uint32_t i = start[t]; i < start[t + 1]; ++i) {
        const Vertex w = posting[i];
        if (w == v) continue;
        if (seen[w] != v) {
          seen[w] = v;
          partial[w] = 0.0;
          candidates.push_back(w);
        }
        partial[w] += qw * posting_w[i];
      }
    }
    if (candidates.empty()) continue;
    std::sort(candidates.begin(), candidates.end());
    const SparseVector& q = vecs_[v];
    for (std::size_t k = 0; k < q.terms.size(); ++k) dense[q.terms[k]] = q.weights[k];
    for (Vertex w : candidates) {
      if (partial[w] + suffix_norm[v] + prefix_norm[v] * suffix_norm[w] < bound) continue;
      // The same products, summed in ascending term order like score_all (q's terms ascending).
      const SparseVector& b = vecs_[w];
      float s = 0.0f;
      for (std::size_t j = 0; j < b.terms.size(); ++j) {
        const float x = dense[b.terms[j]];
        if (x != 0.0f) s += x * b.weights[j];
      }
      if (s >= min_score) out[v].push_back(w);
    }
    for (auto t : q.terms) dense[t] = 0.0f;
  }
  return out;
}

std::size_t TfIdfModel::memory_bytes() const {
  std::size_t b = sizeof(*this);
  for (const auto& kv : vocab_) b += kv.first.capacity() + sizeof(kv) + 16;
  b += idf_.capacity() * sizeof(float) + offsets_.capacity() * 4 + post_v_.capacity() * 4 + post_w_.capacity() * 4;
  for (const auto& v : vecs_) b += sizeof(v) + v.terms.capacity() * 4 + v.weights.capacity() * 4;
  return b;
}

}  // namespace detail

float Taxonomy::cosine(const SparseVector& a, const SparseVector& b) {
  float s = 0;
  std::size_t i = 0, j = 0;
  while (i < a.terms.size() && j < b.terms.size()) {
    if (a.terms[i] == b.terms[j])
      s += a.weights[i++] * b.weights[j++];
    else if (a.terms[i] < b.terms[j])
      ++i;
    else
      ++j;
  }
  return s;
}

float Taxonomy::cosine(Vertex a, Vertex b) const {
  if (!tfidf_ || a >= size() || b >= size()) return 0.0f;
  return cosine(tfidf_->vec(a), tfidf_->vec(b));
}

const SparseVector& Taxonomy::vector(Vertex v) const {
  static const SparseVector empty;
  if (!tfidf_ || v >= size()) return empty;
  return tfidf_->vec(v);
}

SparseVector Taxonomy::query_vector(std::string_view text) const {
  if (!tfidf_) return {};
  const std::string_view one[] = {text};
  return tfidf_->query(one);
}

SparseVector Taxonomy::query_vector(std::span<const std::string> texts) const {
  if (!tfidf_) return {};
  std::vector<std::string_view> views(texts.begin(), texts.end());
  return tfidf_->query(views);
}

SparseVector Taxonomy::query_vector(std::initializer_list<std::string_view> texts) const {
  if (!tfidf_) return {};
  return tfidf_->query(std::span<const std::string_view>(texts.begin(), texts.size()));
}

void Taxonomy::score_all(const SparseVector& query, std::vector<float>& out) const {
  if (!tfidf_) {
    out.assign(size(), 0.0f);
    return;
  }
  tfidf_->score_all(query, out);
}

std::vector<std::vector<Vertex>> Taxonomy::similar_nodes(float min_score) const {
  if (!tfidf_) return std::vector<std::vector<Vertex>>(size());
  return tfidf_->similar_nodes(min_score);
}

std::size_t Taxonomy::vocabulary_size() const { return tfidf_ ? tfidf_->vocabulary_size() : 0; }

}  // namespace persona::tax
