// The interpreter's stages for one persona: anchors, story, selection, fill, narrative, JSON.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "engine/engine.hpp"
#include "base/rng.hpp"

namespace persona::engine {

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::near: return "near";
    case Tier::mid: return "mid";
    case Tier::far: return "far";
  }
  return "near";
}

std::string_view to_string(Source s) {
  switch (s) {
    case Source::options: return "options";
    case Source::lexicon: return "lexicon";
    case Source::llm: return "llm";
    case Source::table: return "table";
  }
  return "options";
}

// ---------------------------------------------------------------------------------------------
// Scratch

struct Scratch::Impl {
  // Candidate lists by (condition outcomes, active filters, forbidden rules).
  std::unordered_map<std::string, std::vector<std::uint32_t>> candidates;
  std::string key;
  std::vector<std::uint8_t> set_ok;
  std::vector<std::int8_t> latent_truth;  // per condition, this persona: -1 not evaluated, 0 / 1
  std::vector<float> scores;
  std::vector<std::string> query;
  // Core vector: per-word query vectors (Taxonomy::query_vector(word)), cached, summed densely.
  std::unordered_map<std::string, tax::SparseVector> word_vectors;
  std::vector<float> acc;
  std::vector<std::uint32_t> acc_terms;
  std::string word;
  tax::SparseVector core;
  struct Ranked {
    std::uint64_t key;  // ascending = better
    std::uint32_t leaf;
    float walk;         // random-BFS key within the tier, ascending = earlier
  };
  std::vector<Ranked> ranked;
  std::vector<std::uint8_t> fold_used;
  std::vector<std::uint8_t> blocked;
  std::vector<std::uint32_t> touched_folds, touched_blocked;
  struct Pick {
    std::uint32_t leaf;
    Tier tier;
  };
  std::vector<Pick> chosen;
};

Scratch::Scratch() : impl_(std::make_unique<Impl>()) {}
Scratch::~Scratch() = default;
Scratch::Scratch(Scratch&&) noexcept = default;
Scratch& Scratch::operator=(Scratch&&) noexcept = default;

namespace {

// Rng::derive(seed, index, step) with stable_hash(step) precomputed.
Rng derive_hashed(std::uint64_t seed, std::uint64_t index, std::uint64_t step_hash) {
  return Rng(splitmix64(splitmix64(seed) ^ splitmix64(index + 0x632be59bd9b4e019ULL) ^ step_hash));
}

void append_number(std::string& out, double d) {
  char buf[32];
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(d));
    out.append(buf, r.ptr);
  } else if (std::isfinite(d)) {
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
  } else {
    out += "null";
  }
}

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, const cond::Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    append_number(out, *d);
  } else {
    out += '"';
    json_escape(std::get<std::string>(v), out);
    out += '"';
  }
}

void append_string(std::string& out, std::string_view s) {
  out += '"';
  json_escape(s, out);
  out += '"';
}

std::string value_string(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  std::string out;
  append_number(out, std::get<double>(v));
  return out;
}

double apply_bound_and_round(const lang::AnchorSource& src, double x) {
  if (src.bound.kind != lang::Bound::Kind::none) {
    if (src.bound.lo) x = std::max(x, *src.bound.lo);
    if (src.bound.hi) x = std::min(x, *src.bound.hi);
  }
  if (src.round) x = std::round(x);
  return x;
}

bool in_bound(const lang::Bound& b, double x) {
  if (b.lo && x < *b.lo) return false;
  if (b.hi && x > *b.hi) return false;
  return true;
}

constexpr int kTruncateTries = 1000;

// -ln(u) for u in (0, 1), to about 1e-4 relative: exponent bits + a short polynomial for the
// mantissa. Pure arithmetic, so the same on every platform; only used to order the random walk.
inline float neg_log(double u) {
  std::uint64_t bits;
  std::memcpy(&bits, &u, sizeof bits);
  const int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;  // mantissa in [1, 2)
  double m;
  std::memcpy(&m, &bits, sizeof m);
  // ln(m) for m in [1,2) via t = (m-1)/(m+1): ln m = 2(t + t^3/3 + t^5/5 + t^7/7).
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  const double ln_m = 2.0 * t * (1.0 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7))));
  return static_cast<float>(-(ln_m + e * 0.6931471805599453));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// begin

void begin(const Model& m, std::uint64_t seed, std::uint64_t index, Persona& p) {
  p.index = index;
  p.run_seed = seed;
  p.seed = Rng::derive(seed, index, "persona")();
  p.id = m.recipe().name;
  p.id += '-';
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, index);
  const auto digits = static_cast<std::size_t>(r.ptr - buf);
  if (digits < 6) p.id.append(6 - digits, '0');
  p.id.append(buf, r.ptr);
  p.anchors.assign(m.recipe().anchors.size(), std::nullopt);
  p.derived.clear();
  p.facts.clear();
  p.core.resize(m.recipe().story.size());
  for (auto& c : p.core) {
    c.done = false;
    c.text.clear();
    c.items.clear();
    c.fields.clear();
  }
  p.target_count = 0;
  // p.attributes keeps its slots (and their strings' capacity); select_attributes resizes it.
  p.narrative.clear();
  p.usage = {};
  p.problems.clear();
}

// ---------------------------------------------------------------------------------------------
// Anchors

bool draw_anchors(const Model& m, Persona& p) {
  bool ok = true;
  const auto infos = m.anchors();
  for (std::size_t i = 0; i < infos.size(); ++i) {
    const AnchorInfo& ai = infos[i];
    const lang::Anchor& a = *ai.anchor;
    const lang::AnchorSource& src = a.source;
    Rng rng = derive_hashed(p.run_seed, p.index, ai.step_hash);
    std::optional<cond::Value> value;
    using K = lang::AnchorSource::Kind;
    switch (src.kind) {
      case K::fixed: value = src.fixed; break;
      case K::categorical: {
        const double u = rng.uniform();
        const auto it = std::upper_bound(ai.cumulative.begin(), ai.cumulative.end(), u);
        std::size_t k = static_cast<std::size_t>(it - ai.cumulative.begin());
        if (k >= src.choices.size()) k = src.choices.size() - 1;
        // Skip zero-weight choices that upper_bound can land on only through rounding.
        value = cond::Value(src.choices[k].label);
        break;
      }
      case K::uniform:
      case K::normal:
      case K::lognormal: {
        auto draw = [&]() {
          const double x = src.args[0], y = src.args[1];
          if (src.kind == K::uniform) return x + (y - x) * rng.uniform();
          if (src.kind == K::normal) return x + y * rng.normal();
          return std::exp(x + y * rng.normal());
        };
        double x = draw();
        if (src.bound.kind == lang::Bound::Kind::truncate)
          for (int t = 0; t < kTruncateTries && !in_bound(src.bound, x); ++t) x = draw();
        value = apply_bound_and_round(src, x);
        break;
      }
      case K::table: {
        const tables::Table* t = ai.table;
        std::vector<cond::Value> keys;
        keys.reserve(src.by.size());
        bool have_keys = true;
        for (const auto& b : src.by) {
          auto it = p.facts.find(b);
          if (it == p.facts.end()) {
            have_keys = false;
            break;
          }
          keys.push_back(it->second);
        }
        const tables::Dist* d = (t != nullptr && have_keys) ? t->lookup(keys) : nullptr;
        if (d == nullptr) {
          p.problems.push_back("anchor " + a.name + ": no distribution in " + src.table + " for its `by` values");
          ok = false;
          break;
        }
        cond::Value v = t->sample(*d, rng);
        if (const double* x = std::get_if<double>(&v)) {
          double y = *x;
          if (src.bound.kind == lang::Bound::Kind::truncate)
            for (int k = 0; k < kTruncateTries && !in_bound(src.bound, y); ++k)
              y = std::get<double>(t->sample(*d, rng));
          v = apply_bound_and_round(src, y);
        }
        // Derived facts (e.g. occupations -> employment) from the drawn label.
        if (!ai.derived.empty()) {
          std::optional<std::string> label;
          if (const auto* s = std::get_if<std::string>(&v)) label = *s;
          else label = t->label_of(*d, v);
          if (label)
            for (const auto& f : ai.derived)
              if (auto dv = t->derive(f, *label)) {
                p.derived.emplace_back(f, *dv);
                p.facts[f] = cond::Value(*dv);
              }
        }
        value = std::move(v);
        break;
      }
    }
    if (value) {
      // Numeric anchors stay numbers; a text anchor that reads as a number stays text.
      p.facts[a.name] = *value;
      p.anchors[i] = std::move(value);
    }
  }
  // Coherence: bind the anchors, draw the latent facts (partner, children, religion, ...) and make
  // them visible to the taxonomy's `?` conditions and the recipe's `when` filters.
  m.rules().begin(p.coherence, p.facts, p.run_seed, p.index);
  m.rules().export_facts(p.coherence, p.facts);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Story

void run_story(const Model& m, Persona& p, Backend& b) {
  for (std::size_t k = 0; k < m.recipe().story.size(); ++k) b.story_step(m, p, k);
}

// ---------------------------------------------------------------------------------------------
// Selection

namespace {

const std::vector<std::uint32_t>& candidates(const Model& m, const Persona& p, Scratch::Impl& s) {
  const auto conds = m.conditions();
  const auto& filters = m.recipe().attributes.filters;
  s.key.clear();
  // Condition outcomes, 8 per byte.
  std::uint8_t byte = 0;
  for (std::size_t i = 0; i < conds.size(); ++i) {
    if (m.condition_latent(i) || cond::evaluate(*conds[i], p.facts)) byte |= static_cast<std::uint8_t>(1u << (i & 7));
    if ((i & 7) == 7) {
      s.key.push_back(static_cast<char>(byte));
      byte = 0;
    }
  }
  s.key.push_back(static_cast<char>(byte));
  std::uint64_t active = 0;
  bool has_include = false;
  for (std::size_t f = 0; f < filters.size() && f < 64; ++f) {
    has_include = has_include || filters[f].include;
    if (!filters[f].when || cond::evaluate(*filters[f].when, p.facts)) active |= std::uint64_t{1} << f;
  }
  s.key.append(reinterpret_cast<const char*>(&active), sizeof active);
  if (auto it = s.candidates.find(s.key); it != s.candidates.end()) return it->second;

  if (s.candidates.size() >= 4096) s.candidates.clear();  // bounded memory
  std::vector<std::uint32_t> out;
  // Which condition sets hold.
  s.set_ok.assign(m.condition_set_count(), 1);
  for (std::uint32_t k = 0; k < m.condition_set_count(); ++k)
    for (std::uint32_t c : m.condition_set(k))
      if (!(static_cast<std::uint8_t>(s.key[c >> 3]) & (1u << (c & 7)))) {
        s.set_ok[k] = 0;
        break;
      }
  const auto leaves = m.leaves();
  for (std::uint32_t i = 0; i < leaves.size(); ++i) {
    const LeafInfo& li = leaves[i];
    if (li.restates_anchor || !s.set_ok[li.cond_set]) continue;
    const std::uint64_t hit = li.filter_bits & active;
    bool included = !has_include;
    if (hit != 0) included = filters[63 - static_cast<std::size_t>(std::countl_zero(hit))].include;
    if (!included) continue;
    out.push_back(i);
  }
  return s.candidates.emplace(s.key, std::move(out)).first->second;
}

// The core vector: the normalised sum of the per-word TF-IDF query vectors of every word of the
// core texts (each word occurrence counts with unit weight). Per-word vectors come from
// Taxonomy::query_vector(word) and are cached in the Scratch, so a persona costs a few hash lookups
// per word instead of re-tokenising trigrams. Words are split exactly like tax::words().
void add_word(const tax::Taxonomy& t, Scratch::Impl& s) {
  if (s.word.empty()) return;
  auto it = s.word_vectors.find(s.word);
  if (it == s.word_vectors.end()) {
    if (s.word_vectors.size() >= 65536) s.word_vectors.clear();  // bounded memory
    it = s.word_vectors.emplace(s.word, t.query_vector(std::string_view(s.word))).first;
  }
  const tax::SparseVector& v = it->second;
  for (std::size_t k = 0; k < v.terms.size(); ++k) {
    const std::uint32_t term = v.terms[k];
    if (term >= s.acc.size()) continue;
    if (s.acc[term] == 0.0f) s.acc_terms.push_back(term);
    s.acc[term] += v.weights[k];
  }
  s.word.clear();
}

void core_vector(const tax::Taxonomy& t, Scratch::Impl& s) {
  s.acc.resize(t.vocabulary_size(), 0.0f);
  s.acc_terms.clear();
  for (const std::string& text : s.query) {
    s.word.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
        s.word.push_back(static_cast<char>(c));
      } else if (c >= 'A' && c <= 'Z') {
        if (!s.word.empty() && i > 0 && text[i - 1] >= 'a' && text[i - 1] <= 'z') add_word(t, s);
        s.word.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        add_word(t, s);
      }
    }
    add_word(t, s);
  }
  std::sort(s.acc_terms.begin(), s.acc_terms.end());
  double norm = 0;
  for (std::uint32_t term : s.acc_terms) norm += static_cast<double>(s.acc[term]) * s.acc[term];
  norm = std::sqrt(norm);
  s.core.terms.assign(s.acc_terms.begin(), s.acc_terms.end());
  s.core.weights.resize(s.acc_terms.size());
  for (std::size_t k = 0; k < s.acc_terms.size(); ++k) {
    s.core.weights[k] = norm > 0 ? static_cast<float>(s.acc[s.acc_terms[k]] / norm) : 0.0f;
    s.acc[s.acc_terms[k]] = 0.0f;
  }
}

std::uint32_t sortable(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// A tier's members in walk order, sorted lazily in chunks.
struct Cursor {
  Scratch::Impl::Ranked* begin;
  Scratch::Impl::Ranked* end;
  Scratch::Impl::Ranked* pos;
  Scratch::Impl::Ranked* sorted;
  bool empty() const { return pos == end; }
  std::uint32_t next(std::size_t want) {
    if (pos == sorted) {
      const std::size_t chunk = std::min<std::size_t>(static_cast<std::size_t>(end - pos), want + want / 4 + 16);
      auto by_walk = [](const auto& a, const auto& b) { return a.walk != b.walk ? a.walk < b.walk : a.leaf < b.leaf; };
      std::nth_element(pos, pos + chunk - 1, end, by_walk);
      std::sort(pos, pos + chunk, by_walk);
      sorted = pos + chunk;
    }
    return (pos++)->leaf;
  }
};

}  // namespace

void select_attributes(const Model& m, Persona& p, Scratch& scratch) {
  Scratch::Impl& s = scratch.impl();
  const auto& as = m.recipe().attributes;
  const tax::Taxonomy& t = m.taxonomy();

  // Target count, uniform in [min_count, max_count].
  Rng count_rng = Rng::derive(p.run_seed, p.index, "select:count");
  const int lo = std::max(0, as.min_count), hi = std::max(lo, as.max_count);
  p.target_count = lo + static_cast<int>(count_rng.below(static_cast<std::uint64_t>(hi - lo + 1)));

  const std::vector<std::uint32_t>& cand = candidates(m, p, s);

  // Core query: anchor values, derived facts and story outputs.
  s.query.clear();
  for (const auto& a : p.anchors)
    if (a) s.query.push_back(value_string(*a));
  for (const auto& d : p.derived) s.query.push_back(d.second);
  for (const auto& c : p.core) {
    if (!c.text.empty()) s.query.push_back(c.text);
    for (const auto& it : c.items) s.query.push_back(it);
    for (const auto& f : c.fields) {
      if (!f.text.empty()) s.query.push_back(f.text);
      for (const auto& it : f.items) s.query.push_back(it);
    }
  }
  core_vector(t, s);
  t.score_all(s.core, s.scores);

  // Rank by similarity (ties broken by a per-persona hash) and split into thirds.
  const std::uint64_t tie_seed = Rng::derive(p.run_seed, p.index, "select:rank")();
  const std::uint64_t walk_seed = Rng::derive(p.run_seed, p.index, "select:walk")();
  const bool random_walk = as.walk == "random-bfs";
  const bool long_tail = as.prefer != "none";
  s.ranked.resize(cand.size());
  for (std::size_t k = 0; k < cand.size(); ++k) {
    const std::uint32_t li = cand[k];
    const LeafInfo& L = m.leaf(li);
    const std::uint32_t tie = static_cast<std::uint32_t>(splitmix64(tie_seed ^ li));
    float walk;
    if (random_walk) {
      // Efraimidis-Spirakis key: -log(u) / w ascending == the weighted random order that
      // Taxonomy::random_bfs_leaves uses (weight 0.25 + long_tail) over the tier's leaves.
      const double u = (static_cast<double>(splitmix64(walk_seed ^ (std::uint64_t{li} * 0x9e3779b97f4a7c15ULL)) >> 11) + 0.5) *
                       0x1.0p-53;
      walk = neg_log(u) / (long_tail ? L.walk_weight : 1.0f);
    } else if (as.walk == "bfs") {
      walk = static_cast<float>(t[L.vertex].depth) * 1e6f + static_cast<float>(li);
    } else {
      walk = static_cast<float>(li);  // dfs: taxonomy preorder
    }
    s.ranked[k] = {(std::uint64_t{~sortable(s.scores[L.vertex])} << 32) | tie, li, walk};
  }
  const std::size_t n = s.ranked.size();
  const std::size_t b1 = n / 3 + (n % 3 > 0 ? 1 : 0), b2 = b1 + n / 3 + (n % 3 > 1 ? 1 : 0);
  auto by_rank = [](const auto& a, const auto& b) { return a.key < b.key; };
  if (n > 0) {
    if (b1 < n) std::nth_element(s.ranked.begin(), s.ranked.begin() + static_cast<std::ptrdiff_t>(b1), s.ranked.end(), by_rank);
    if (b2 < n && b2 > b1)
      std::nth_element(s.ranked.begin() + static_cast<std::ptrdiff_t>(b1), s.ranked.begin() + static_cast<std::ptrdiff_t>(b2),
                       s.ranked.end(), by_rank);
  }
  auto* base = s.ranked.data();
  Cursor cur[3] = {{base, base + b1, base, base}, {base + b1, base + b2, base + b1, base + b1},
                   {base + b2, base + n, base + b2, base + b2}};

  // Quotas by the tier ratio.
  const double wsum = std::max(1e-9, as.near + as.mid + as.far);
  const int total = p.target_count;
  int quota[3];
  quota[0] = static_cast<int>(std::lround(total * as.near / wsum));
  quota[1] = static_cast<int>(std::lround(total * as.mid / wsum));
  quota[1] = std::min(quota[1], total - quota[0]);
  quota[2] = total - quota[0] - quota[1];

  // Pick, skipping same-meaning leaves.
  s.fold_used.resize(m.fold_count(), 0);
  s.blocked.resize(m.leaves().size(), 0);
  s.chosen.clear();
  s.latent_truth.assign(m.conditions().size(), -1);
  auto latent_hold = [&](std::uint32_t set) {  // conditions on latent facts, which candidates() skips
    for (std::uint32_t c : m.latent_conditions(set)) {
      auto& v = s.latent_truth[c];
      if (v < 0) v = cond::evaluate(*m.conditions()[c], p.facts) ? 1 : 0;
      if (v == 0) return false;
    }
    return true;
  };
  auto pick = [&](int tier, int want) {
    int got = 0;
    Cursor& c = cur[tier];
    while (got < want && !c.empty()) {
      const std::uint32_t li = c.next(static_cast<std::size_t>(want - got));
      const LeafInfo& L = m.leaf(li);
      if (s.fold_used[L.fold_id] || s.blocked[li]) continue;
      if (!latent_hold(L.cond_set)) continue;                    // not applicable given the latent facts
      if (!m.rules().possible(p.coherence, L.vertex)) continue;  // every option contradicts the facts
      s.fold_used[L.fold_id] = 1;
      s.touched_folds.push_back(L.fold_id);
      for (std::uint32_t d : L.near_dups)
        if (!s.blocked[d]) {
          s.blocked[d] = 1;
          s.touched_blocked.push_back(d);
        }
      s.chosen.push_back({li, static_cast<Tier>(tier)});
      ++got;
    }
    return got;
  };
  int deficit = quota[0] - pick(0, quota[0]);
  int want = quota[1] + deficit;
  deficit = want - pick(1, want);
  want = quota[2] + deficit;
  deficit = want - pick(2, want);
  if (deficit > 0) deficit -= pick(1, deficit);
  if (deficit > 0) deficit -= pick(0, deficit);
  if (deficit > 0)
    p.problems.push_back("only " + std::to_string(total - deficit) + " of " + std::to_string(total) +
                         " attributes available after filters and deduplication");
  for (std::uint32_t f : s.touched_folds) s.fold_used[f] = 0;
  for (std::uint32_t b : s.touched_blocked) s.blocked[b] = 0;
  s.touched_folds.clear();
  s.touched_blocked.clear();

  // Output order: taxonomy preorder (related attributes share a fill batch).
  std::sort(s.chosen.begin(), s.chosen.end(), [](const auto& a, const auto& b) { return a.leaf < b.leaf; });
  p.attributes.resize(s.chosen.size());
  for (std::size_t k = 0; k < s.chosen.size(); ++k) {
    Slot& sl = p.attributes[k];
    sl.leaf = s.chosen[k].leaf;
    sl.tier = s.chosen[k].tier;
    sl.source = Source::options;
    sl.status = SlotStatus::pending;
    sl.value.clear();
    sl.reason.clear();
    sl.option = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Fill, narrative

std::size_t batch_count(const Model& m, const Persona& p) {
  const std::size_t b = static_cast<std::size_t>(std::max(1, m.recipe().attributes.batch));
  return (p.attributes.size() + b - 1) / b;
}

std::pair<std::size_t, std::size_t> batch_range(const Model& m, const Persona& p, std::size_t k) {
  const std::size_t b = static_cast<std::size_t>(std::max(1, m.recipe().attributes.batch));
  const std::size_t first = std::min(p.attributes.size(), k * b);
  return {first, std::min(p.attributes.size(), first + b)};
}

void fill_batch(const Model& m, Persona& p, Backend& b, std::size_t k) {
  const auto [first, last] = batch_range(m, p, k);
  if (first < last) b.fill_batch(m, p, first, last);
}

void fill_all(const Model& m, Persona& p, Backend& b) {
  const std::size_t n = batch_count(m, p);
  for (std::size_t k = 0; k < n; ++k) fill_batch(m, p, b, k);
}

void write_narrative(const Model& m, Persona& p, Backend& b) { b.narrative(m, p); }

void build_persona(const Model& m, Backend& b, Scratch& s, std::uint64_t seed, std::uint64_t index, Persona& p) {
  begin(m, seed, index, p);
  draw_anchors(m, p);
  run_story(m, p, b);
  select_attributes(m, p, s);
  fill_all(m, p, b);
  write_narrative(m, p, b);
}

// ---------------------------------------------------------------------------------------------
// Serialise

void serialise(const Model& m, const Persona& p, std::string& out) {
  const auto& r = m.recipe();
  out += "{\"id\":";
  append_string(out, p.id);
  out += ",\"seed\":";
  append_u64(out, p.seed);
  out += ",\"anchors\":{";
  bool first = true;
  const auto infos = m.anchors();
  for (std::size_t i = 0; i < infos.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += infos[i].json_name;
    out += "\":";
    if (p.anchors[i]) append_value(out, *p.anchors[i]);
    else out += "null";
  }
  for (const auto& [k, v] : p.derived) {
    if (r.anchor(k) != nullptr) continue;
    if (!first) out += ',';
    first = false;
    append_string(out, k);
    out += ':';
    append_string(out, v);
  }
  out += "},\"core\":{";
  for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k) {
    if (k > 0) out += ',';
    append_string(out, r.story[k].output);
    out += ':';
    const CoreValue& cv = p.core[k];
    if (!cv.done) {
      out += "null";
      continue;
    }
    auto list = [&](const std::vector<std::string>& items) {
      out += '[';
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        append_string(out, items[i]);
      }
      out += ']';
    };
    switch (cv.kind) {
      case lang::StoryShape::Kind::text: append_string(out, cv.text); break;
      case lang::StoryShape::Kind::list: list(cv.items); break;
      case lang::StoryShape::Kind::object:
        out += '{';
        for (std::size_t f = 0; f < cv.fields.size(); ++f) {
          if (f > 0) out += ',';
          append_string(out, cv.fields[f].name);
          out += ':';
          if (cv.fields[f].type == "number") append_number(out, cv.fields[f].number);
          else if (cv.fields[f].type == "list") list(cv.fields[f].items);
          else append_string(out, cv.fields[f].text);
        }
        out += '}';
        break;
    }
  }
  out += "},\"attributes\":[";
  for (std::size_t i = 0; i < p.attributes.size(); ++i) {
    const Slot& s = p.attributes[i];
    const LeafInfo& L = m.leaf(s.leaf);
    if (i > 0) out += ',';
    out += "{\"path\":\"";
    out += L.json_path;
    out += "\",\"value\":";
    if (s.status != SlotStatus::filled) {
      out += "null";
    } else if (s.option >= 0 && static_cast<std::size_t>(s.option) < L.options.size() &&
               L.options[static_cast<std::size_t>(s.option)].label == s.value) {
      out += '"';
      out += L.options[static_cast<std::size_t>(s.option)].json;
      out += '"';
    } else {
      append_string(out, s.value);
    }
    out += ",\"tier\":\"";
    out += to_string(s.tier);
    out += "\",\"source\":\"";
    out += to_string(s.source);
    out += "\",\"status\":";
    if (s.status == SlotStatus::filled) out += "\"filled\"";
    else if (s.status == SlotStatus::pending) out += "\"pending\"";
    else append_string(out, s.reason.empty() ? std::string_view("failed") : std::string_view(s.reason));
    out += '}';
  }
  out += "],\"narrative\":";
  append_string(out, p.narrative);
  out += ",\"usage\":{\"calls\":";
  append_u64(out, p.usage.calls);
  out += ",\"prompt_tokens\":";
  append_u64(out, p.usage.prompt_tokens);
  out += ",\"completion_tokens\":";
  append_u64(out, p.usage.completion_tokens);
  out += ",\"cached_tokens\":";
  append_u64(out, p.usage.cached_tokens);
  out += "}";
  if (!p.problems.empty()) {
    out += ",\"problems\":[";
    for (std::size_t i = 0; i < p.problems.size(); ++i) {
      if (i > 0) out += ',';
      append_string(out, p.problems[i]);
    }
    out += ']';
  }
  out += "}\n";
}

}  // namespace persona::engine
