// The semantic scorer: words meet through WordNet rather than through their spelling.
//
// A word becomes a weighted bag of concepts:
//   - the word itself (weight 1),
//   - its first senses as noun, verb, adjective and adverb (3 per part of speech, the k-th weighted
//     1/k, nouns 1, verbs and adjectives 0.6, adverbs 0.3, normalised to sum 1 over the word),
//   - each sense's hypernym ancestors (@, @i), the weight decaying by 0.6 per level, 6 levels up,
//   - for verb, adjective and adverb senses the nouns they point to (derivation +, pertainym \,
//     attribute =, domain ;c -c) with weight 0.7, and their ancestors,
//   - the words of each sense's gloss (weight 0.5 times the sense's weight).
// So "vegan" reaches "vegetarian", "eater" and the gloss words "animal", "products", "eats"; "nurse"
// reaches "health professional"; "church" reaches "religion".
//
// A node's vector is the sum of its words' bags (its name x3, its parent's name x1, higher ancestors
// x0.5, its description x1, its value options x0.5), weighted by inverse document frequency over the
// nodes (concepts in more than 30% of the nodes dropped), cut to its 128 heaviest concepts and
// L2-normalised; an inverted index maps each concept to its nodes. A persona's core is bagged the
// same way (word bags cached per thread), cut to its 400 heaviest concepts (the light tail costs
// most of the postings and moves no ranking on the development set) and every node scored by cosine
// through the index.
//
// Taxonomy neighbourhood: a node also takes 0.3 x (its parent's score + the best score among the
// parent's children) and 0.1 x the same for its grandparent, so attributes beside one that matches
// the core move up with it ("Prayer Frequency" lifts "Worship Attendance").
//
// The constants were chosen on the development half of tests/similarity/data (cores c01-c15) and
// then checked once on the other half; see docs/similarity.md.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "base/text.hpp"
#include "similarity/scorer.hpp"
#include "similarity/wordnet.hpp"

namespace persona::sim {

namespace {

// ---- constants (docs/similarity.md) ----
constexpr std::size_t kSensesPerPos = 3;
constexpr float kPosWeight[4] = {1.0f, 0.6f, 0.6f, 0.3f};  // noun, verb, adj, adv
constexpr float kLiteral = 1.0f;
constexpr float kGloss = 0.5f;
constexpr float kRelated = 0.7f;
constexpr float kDecay = 0.6f;
constexpr int kDepth = 6;
constexpr float kNameWord = 3.0f, kParentWord = 1.0f, kAncestorWord = 0.5f, kDescriptionWord = 1.0f, kValueWord = 0.5f;
constexpr double kMaxDocumentFrequency = 0.3;
constexpr std::size_t kConceptsPerNode = 128;
constexpr std::size_t kCandidatesPerNode = 512;  // heaviest before idf, while building
constexpr std::size_t kQueryConcepts = 400;      // a core keeps its heaviest 400 concepts
constexpr float kParentShare = 0.3f, kGrandparentShare = 0.1f;
constexpr std::size_t kMaxCachedWords = 65536;     // per thread
constexpr std::size_t kMaxCachedSynsets = 200000;  // per thread

bool is_stopword(std::string_view w) {
  static const std::unordered_set<std::string_view> stop = {
      "a",    "an",    "and",   "or",    "the",   "of",      "to",     "in",      "on",     "for",   "with",  "by",
      "at",   "as",    "is",    "are",   "was",   "were",    "be",     "been",    "being",  "it",    "its",   "this",
      "that", "these", "those", "from",  "their", "they",    "them",   "he",      "him",    "his",   "she",   "her",
      "i",    "me",    "my",    "we",    "us",    "our",     "you",    "your",    "who",    "whom",  "whose", "which",
      "what", "how",   "when",  "where", "why",   "whether", "not",    "no",      "nor",    "but",   "if",    "then",
      "than", "so",    "too",   "very",  "can",   "could",   "will",   "would",   "should", "may",   "might", "must",
      "do",   "does",  "did",   "has",   "have",  "had",     "person", "persons", "people", "s",     "e",     "g",
      "etc",  "about", "into",  "over",  "under", "after",   "before", "since",   "until",  "while", "all",   "any",
      "each", "every", "some",  "such",  "own",   "same",    "other",  "only",    "also",   "just",  "one",   "t"};
  return w.size() < 2 || stop.count(w) > 0;
}

using Key = std::uint64_t;  // a synset: part of speech << 32 | byte offset
Key make_key(WordNet::Pos pos, std::uint32_t offset) { return (static_cast<Key>(pos) << 32) | offset; }
WordNet::Pos key_pos(Key k) { return static_cast<WordNet::Pos>(k >> 32); }
std::uint32_t key_offset(Key k) { return static_cast<std::uint32_t>(k & 0xffffffffu); }

// What expansion needs of one synset, parsed once per thread (or once per build).
struct SynsetInfo {
  std::string_view gloss;    // into the WordNet data, which outlives every cache
  std::vector<Key> parents;  // @ and @i
  std::vector<Key> related;  // nouns pointed to by + \\ = ;c -c (used for non-noun senses)
};

// A weighted bag of ids (raw ids while building, term ids when scoring); an id may repeat.
struct Bag {
  std::vector<std::uint32_t> ids;
  std::vector<float> weights;
  void add(std::uint32_t id, float w) {
    ids.push_back(id);
    weights.push_back(w);
  }
  void clear() {
    ids.clear();
    weights.clear();
  }
};

// Words into bags of ids. `Ids` maps a literal word and a synset to an id (kNoId: not wanted):
// interning while building, looking up the scorer's vocabulary when scoring. One per thread (inside
// its cache) or per build; memoises parsed synsets and the bag of each sense.
constexpr std::uint32_t kNoId = ~std::uint32_t{0};

template <typename Ids>
struct Expander {
  const WordNet* wn = nullptr;
  Ids ids;
  std::unordered_map<Key, SynsetInfo> synsets;
  std::unordered_map<Key, Bag> sense_bags;
  std::vector<std::string> bases;
  std::vector<std::uint32_t> offsets;
  WordNet::Synset parsed;
  struct Sense {
    Key key;
    float weight;
  };
  std::vector<Sense> senses, frontier, next;
  std::vector<Key> visited;
  std::string gloss_word;

  const SynsetInfo& info(Key k) {
    if (auto it = synsets.find(k); it != synsets.end()) return it->second;
    if (synsets.size() >= kMaxCachedSynsets) synsets.clear();
    SynsetInfo si;
    if (wn->synset(key_pos(k), key_offset(k), parsed)) {
      si.gloss = parsed.gloss;
      for (const auto& p : parsed.pointers) {
        if (p.symbol == "@" || p.symbol == "@i") {
          si.parents.push_back(make_key(p.pos, p.offset));
        } else if (p.pos == WordNet::Pos::noun &&
                   (p.symbol == "+" || p.symbol == "\\" || p.symbol == "=" || p.symbol == ";c" || p.symbol == "-c")) {
          si.related.push_back(make_key(p.pos, p.offset));
        }
      }
    }
    return synsets.emplace(k, std::move(si)).first->second;
  }

  // The bag of one sense at weight 1: its gloss words, the synset and its ancestors (decaying), and
  // for a verb, adjective or adverb the nouns it points to and their ancestors.
  const Bag& sense_bag(Key sense) {
    if (auto it = sense_bags.find(sense); it != sense_bags.end()) return it->second;
    if (sense_bags.size() >= kMaxCachedSynsets) sense_bags.clear();
    Bag bag;
    const std::string_view gloss = info(sense).gloss;
    text::for_each_word(gloss, gloss_word, [&](std::string_view g) {
      if (is_stopword(g)) return;
      if (const std::uint32_t id = ids.literal(g); id != kNoId) bag.add(id, kGloss);
    });
    frontier.clear();
    frontier.push_back({sense, 1.0f});
    if (key_pos(sense) != WordNet::Pos::noun)
      for (Key r : info(sense).related) frontier.push_back({r, kRelated});
    visited.clear();
    for (int depth = 0; depth <= kDepth && !frontier.empty(); ++depth) {
      next.clear();
      for (const auto& f : frontier) {
        if (std::find(visited.begin(), visited.end(), f.key) != visited.end()) continue;
        visited.push_back(f.key);
        if (const std::uint32_t id = ids.synset(f.key); id != kNoId) bag.add(id, f.weight);
        if (depth == kDepth) continue;
        for (Key p : info(f.key).parents) next.push_back({p, f.weight * kDecay});
      }
      std::swap(frontier, next);
    }
    return sense_bags.emplace(sense, std::move(bag)).first->second;
  }

  // The bag of `word` (see the file comment) into `out` (cleared first).
  void expand(std::string_view word, Bag& out) {
    out.clear();
    if (const std::uint32_t id = ids.literal(word); id != kNoId) out.add(id, kLiteral);
    senses.clear();
    for (WordNet::Pos pos : WordNet::all_pos) {
      wn->base_forms(word, pos, bases);
      if (bases.empty()) continue;
      wn->senses(bases.front(), pos, offsets);
      for (std::size_t r = 0; r < offsets.size() && r < kSensesPerPos; ++r)
        senses.push_back({make_key(pos, offsets[r]), kPosWeight[static_cast<int>(pos)] / static_cast<float>(r + 1)});
    }
    float total = 0;
    for (const auto& s : senses) total += s.weight;
    for (const auto& sense : senses) {
      const float sw = sense.weight / total;
      const Bag& sb = sense_bag(sense.key);
      for (std::size_t k = 0; k < sb.ids.size(); ++k) out.add(sb.ids[k], sb.weights[k] * sw);
    }
  }
};

// Sums the weights of repeated ids (the bag comes out sorted by id).
void combine(Bag& bag) {
  static thread_local std::vector<std::pair<std::uint32_t, float>> v;
  v.clear();
  for (std::size_t k = 0; k < bag.ids.size(); ++k) v.emplace_back(bag.ids[k], bag.weights[k]);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  bag.clear();
  for (const auto& [id, w] : v) {
    if (!bag.ids.empty() && bag.ids.back() == id)
      bag.weights.back() += w;
    else
      bag.add(id, w);
  }
}

struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view w) const { return std::hash<std::string_view>{}(w); }
};

class SemanticScorer;

// Scoring: ids are the scorer's term ids; words and synsets outside its vocabulary are dropped.
struct TermIds {
  const SemanticScorer* scorer = nullptr;
  std::uint32_t literal(std::string_view word) const;
  std::uint32_t synset(Key k) const;
};

// A word's bag in term ids, each term once, weights already multiplied by the terms' idf.
struct WordBag {
  std::vector<std::uint32_t> terms;
  std::vector<float> weights;
};

struct SemanticCache final : Cache {
  Expander<TermIds> expander;
  Bag bag;
  std::unordered_map<std::string, WordBag, Hash, std::equal_to<>> words;
  std::vector<float> acc;  // per term
  std::vector<std::uint32_t> touched;
  std::vector<float> raw, lift;  // per node, plus the sentinel
  std::string word;
};

class SemanticScorer final : public Scorer {
 public:
  SemanticScorer(const tax::Taxonomy& t, std::shared_ptr<const WordNet> wn) : t_(t), wn_(std::move(wn)) { build(); }

  std::string_view name() const override { return "semantic"; }

  std::unique_ptr<Cache> cache() const override {
    auto c = std::make_unique<SemanticCache>();
    c->expander.wn = wn_.get();
    c->expander.ids.scorer = this;
    return c;
  }

  void score_all(std::span<const std::string> core, Cache& cache, std::vector<float>& scores) const override {
    auto& c = static_cast<SemanticCache&>(cache);
    const std::size_t n = t_.size();
    c.acc.resize(idf_.size(), 0.0f);
    c.touched.clear();
    for (const std::string& text : core)
      text::for_each_word(text, c.word, [&](std::string_view w) {
        if (is_stopword(w)) return;
        const WordBag& bag = word_bag(c, w);
        for (std::size_t k = 0; k < bag.terms.size(); ++k) {
          const std::uint32_t term = bag.terms[k];
          if (c.acc[term] == 0.0f) c.touched.push_back(term);
          c.acc[term] += bag.weights[k];
        }
      });
    if (c.touched.size() > kQueryConcepts) {  // the lightest concepts cost postings and add little
      std::nth_element(
          c.touched.begin(), c.touched.begin() + static_cast<std::ptrdiff_t>(kQueryConcepts), c.touched.end(),
          [&](std::uint32_t a, std::uint32_t b) { return c.acc[a] != c.acc[b] ? c.acc[a] > c.acc[b] : a < b; });
      for (std::size_t k = kQueryConcepts; k < c.touched.size(); ++k) c.acc[c.touched[k]] = 0.0f;
      c.touched.resize(kQueryConcepts);
    }
    std::sort(c.touched.begin(), c.touched.end());  // one forward sweep through offsets and postings
    double norm = 0;
    for (std::uint32_t term : c.touched) norm += static_cast<double>(c.acc[term]) * c.acc[term];
    const float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    c.raw.assign(n + 1, 0.0f);  // [n]: the sentinel "parent" of the roots, always 0
    float* raw = c.raw.data();
    for (std::uint32_t term : c.touched) {
      const float q = c.acc[term] * inv;
      c.acc[term] = 0.0f;
      for (const Posting *p = postings_.data() + offsets_[term], *e = postings_.data() + offsets_[term + 1]; p != e;
           ++p)
        raw[p->node] += q * p->weight;
    }
    // Taxonomy neighbourhood: lift[u] = raw[u] + the best raw score among u's children.
    c.lift.assign(n + 1, 0.0f);
    float* lift = c.lift.data();
    for (std::size_t v = 0; v < n; ++v) lift[parent_[v]] = std::max(lift[parent_[v]], raw[v]);
    for (std::size_t v = 0; v < n; ++v) lift[v] += raw[v];
    lift[n] = 0.0f;
    scores.resize(n);
    for (std::size_t v = 0; v < n; ++v)
      scores[v] = raw[v] + kParentShare * lift[parent_[v]] + kGrandparentShare * lift[grandparent_[v]];
  }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};

  const WordBag& word_bag(SemanticCache& c, std::string_view word) const {
    if (auto it = c.words.find(word); it != c.words.end()) return it->second;
    if (c.words.size() >= kMaxCachedWords) c.words.clear();
    c.expander.expand(word, c.bag);
    WordBag wb;
    for (std::size_t k = 0; k < c.bag.ids.size(); ++k) {
      const std::uint32_t term = c.bag.ids[k];
      const float w = c.bag.weights[k] * idf_[term];
      const auto at = std::find(wb.terms.begin(), wb.terms.end(), term);
      if (at == wb.terms.end()) {
        wb.terms.push_back(term);
        wb.weights.push_back(w);
      } else {
        wb.weights[static_cast<std::size_t>(at - wb.terms.begin())] += w;
      }
    }
    return c.words.emplace(std::string(word), std::move(wb)).first->second;
  }

  friend struct TermIds;
  void build();

  const tax::Taxonomy& t_;
  std::shared_ptr<const WordNet> wn_;
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> literal_terms_;
  std::unordered_map<Key, std::uint32_t> concept_terms_;
  std::vector<float> idf_;
  std::vector<std::uint32_t> offsets_;  // CSR over terms
  struct Posting {
    std::uint32_t node;
    float weight;
  };
  std::vector<Posting> postings_;                    // by term, then node
  std::vector<std::uint32_t> parent_, grandparent_;  // size() (a sentinel scoring 0) for none
};

void SemanticScorer::build() {
  const std::size_t n = t_.size();
  const auto sentinel = static_cast<std::uint32_t>(n);
  parent_.assign(n, sentinel);
  grandparent_.assign(n, sentinel);
  for (tax::Vertex v = 0; v < n; ++v)
    if (auto p = t_.parent(v)) parent_[v] = static_cast<std::uint32_t>(*p);
  for (std::size_t v = 0; v < n; ++v)
    if (parent_[v] != sentinel) grandparent_[v] = parent_[parent_[v]];

  // Raw ids for every literal and concept met, in first-occurrence order (deterministic).
  struct RawIds {
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> literals;
    std::unordered_map<Key, std::uint32_t> concepts;
    std::uint32_t next = 0;
    std::uint32_t literal(std::string_view w) {
      auto it = literals.find(w);
      if (it == literals.end()) it = literals.emplace(std::string(w), next++).first;
      return it->second;
    }
    std::uint32_t synset(Key k) {
      auto [it, fresh] = concepts.emplace(k, next);
      if (fresh) ++next;
      return it->second;
    }
  };
  Expander<RawIds> ex;
  ex.wn = wn_.get();
  struct Feature {
    std::uint32_t raw;
    float weight;
  };
  std::unordered_map<std::string, Bag, Hash, std::equal_to<>> bags;
  auto bag_of = [&](std::string_view word) -> const Bag& {
    if (auto it = bags.find(word); it != bags.end()) return it->second;
    Bag bag;
    ex.expand(word, bag);
    combine(bag);
    return bags.emplace(std::string(word), std::move(bag)).first->second;
  };

  // Per node: its words' bags, weighted by where the word occurs, summed in a dense accumulator.
  std::vector<std::vector<Feature>> nodes(n);
  std::vector<std::uint32_t> df;
  std::vector<float> sum;
  std::vector<std::uint32_t> touched;
  std::string buf;
  for (tax::Vertex v = 0; v < n; ++v) {
    touched.clear();
    auto add_text = [&](std::string_view text, float w) {
      text::for_each_word(text, buf, [&](std::string_view word) {
        if (is_stopword(word)) return;
        const Bag& bag = bag_of(word);
        if (sum.size() < ex.ids.next) sum.resize(ex.ids.next, 0.0f);
        for (std::size_t k = 0; k < bag.ids.size(); ++k) {
          const std::uint32_t r = bag.ids[k];
          if (sum[r] == 0.0f) touched.push_back(r);
          sum[r] += bag.weights[k] * w;
        }
      });
    };
    const tax::Node& node = t_[v];
    add_text(node.name, kNameWord);
    float w = kParentWord;
    for (std::uint32_t p = parent_[v]; p != sentinel; p = parent_[p]) {
      add_text(t_[p].name, w);
      w = kAncestorWord;
    }
    add_text(node.description, kDescriptionWord);
    for (const auto& o : node.values) add_text(o.label, kValueWord);
    // Document frequency counts every concept; the node keeps its heaviest candidates only (the final
    // vector takes kConceptsPerNode of them after idf weighting), which bounds the build's memory.
    if (df.size() < ex.ids.next) df.resize(ex.ids.next, 0);
    for (std::uint32_t r : touched) ++df[r];
    if (touched.size() > kCandidatesPerNode) {
      std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(kCandidatesPerNode),
                       touched.end(),
                       [&](std::uint32_t a, std::uint32_t b) { return sum[a] != sum[b] ? sum[a] > sum[b] : a < b; });
      for (std::size_t k = kCandidatesPerNode; k < touched.size(); ++k) sum[touched[k]] = 0.0f;
      touched.resize(kCandidatesPerNode);
    }
    std::sort(touched.begin(), touched.end());
    auto& out = nodes[v];
    out.reserve(touched.size());
    for (std::uint32_t r : touched) {
      out.push_back({r, sum[r]});
      sum[r] = 0.0f;
    }
  }

  // Document frequencies; frequent concepts carry no signal and make the postings long.
  const std::uint32_t next_raw = ex.ids.next;
  df.resize(next_raw, 0);
  const auto max_df = n >= 50 ? static_cast<std::uint32_t>(kMaxDocumentFrequency * static_cast<double>(n))
                              : static_cast<std::uint32_t>(n);
  std::vector<std::uint32_t> term_of(next_raw, kNone);
  for (std::uint32_t r = 0; r < next_raw; ++r) {
    if (df[r] == 0 || df[r] > max_df) continue;
    term_of[r] = static_cast<std::uint32_t>(idf_.size());
    idf_.push_back(static_cast<float>(std::log(1.0 + static_cast<double>(n) / static_cast<double>(df[r]))));
  }
  for (auto& [lit, r] : ex.ids.literals)
    if (term_of[r] != kNone) literal_terms_.emplace(lit, term_of[r]);
  for (auto& [k, r] : ex.ids.concepts)
    if (term_of[r] != kNone) concept_terms_.emplace(k, term_of[r]);

  // Node vectors: idf-weighted, the heaviest kConceptsPerNode, normalised; then the inverted index.
  struct Entry {
    std::uint32_t term;
    float weight;
  };
  std::vector<std::vector<Entry>> vecs(n);
  std::vector<std::uint32_t> counts(idf_.size() + 1, 0);
  for (std::size_t v = 0; v < n; ++v) {
    auto& vec = vecs[v];
    for (const Feature& f : nodes[v])
      if (term_of[f.raw] != kNone) vec.push_back({term_of[f.raw], f.weight * idf_[term_of[f.raw]]});
    nodes[v] = {};
    auto heavier = [](const Entry& a, const Entry& b) {
      return a.weight != b.weight ? a.weight > b.weight : a.term < b.term;
    };
    if (vec.size() > kConceptsPerNode) {
      std::nth_element(vec.begin(), vec.begin() + kConceptsPerNode, vec.end(), heavier);
      vec.resize(kConceptsPerNode);
    }
    double norm = 0;
    for (const auto& e : vec) norm += static_cast<double>(e.weight) * e.weight;
    norm = std::sqrt(norm);
    for (auto& e : vec) {
      e.weight = norm > 0 ? static_cast<float>(e.weight / norm) : 0.0f;
      ++counts[e.term + 1];
    }
  }
  offsets_.assign(idf_.size() + 1, 0);
  for (std::size_t i = 1; i < counts.size(); ++i) offsets_[i] = offsets_[i - 1] + counts[i];
  postings_.resize(offsets_.back());
  std::vector<std::uint32_t> fill(offsets_.begin(), offsets_.end() - 1);
  for (std::size_t v = 0; v < n; ++v)
    for (const auto& e : vecs[v]) {
      const std::uint32_t at = fill[e.term]++;
      postings_[at] = {static_cast<std::uint32_t>(v), e.weight};
    }
}

std::uint32_t TermIds::literal(std::string_view word) const {
  const auto it = scorer->literal_terms_.find(word);
  return it == scorer->literal_terms_.end() ? kNoId : it->second;
}

std::uint32_t TermIds::synset(Key k) const {
  const auto it = scorer->concept_terms_.find(k);
  return it == scorer->concept_terms_.end() ? kNoId : it->second;
}

}  // namespace

std::unique_ptr<Scorer> make_semantic(const tax::Taxonomy& t, std::shared_ptr<const WordNet> wordnet) {
  if (!wordnet) return nullptr;
  return std::make_unique<SemanticScorer>(t, std::move(wordnet));
}

}  // namespace persona::sim
