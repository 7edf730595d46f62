// The streaming evaluator: per-persona counts, anchor distributions, the similarity sample,
// quasi-identifier classes and MinHash signatures for near-duplicates.
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "eval/eval.hpp"

namespace persona::eval {

namespace {

constexpr std::size_t kMinHashes = 64;  // signature length (16 bands of 4 rows)
constexpr std::size_t kBandRows = 4;
constexpr std::size_t kMaxCandidatePairs = 2'000'000;
constexpr std::size_t kMaxMessages = 20;
constexpr std::size_t kMaxCategories = 1000;
constexpr std::size_t kMaxTiers = 32;  // distinct tier names kept; more count as "(other)"

std::string_view leaf_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view category_of(std::string_view path) {
  const auto slash = path.find('/');
  return slash == std::string_view::npos ? path : path.substr(0, slash);
}

std::int64_t depth_of(std::string_view path) {
  return path.empty() ? 0 : 1 + static_cast<std::int64_t>(std::count(path.begin(), path.end(), '/'));
}

// stable_hash(text::fold(s)) without building the folded string: ASCII letters and digits
// lower-cased, other ASCII dropped, bytes >= 0x80 kept.
std::uint64_t folded_hash(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

double jaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  // Branchless merge of two sorted sets (the sample's pairwise loop spends its time here).
  std::size_t i = 0, j = 0, both = 0;
  const std::size_t na = a.size(), nb = b.size();
  while (i < na && j < nb) {
    const std::uint64_t x = a[i], y = b[j];
    both += static_cast<std::size_t>(x == y);
    i += static_cast<std::size_t>(x <= y);
    j += static_cast<std::size_t>(y <= x);
  }
  const std::size_t uni = a.size() + b.size() - both;
  return uni == 0 ? 0.0 : static_cast<double>(both) / static_cast<double>(uni);
}

using Sparse = std::vector<std::pair<std::uint64_t, float>>;  // sorted by term

double cosine(const Sparse& a, const Sparse& b) {
  double dot = 0;
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first < b[j].first)
      ++i;
    else if (b[j].first < a[i].first)
      ++j;
    else
      dot += static_cast<double>(a[i++].second) * static_cast<double>(b[j++].second);
  }
  return dot;
}

std::size_t bin20(double x) {
  if (!(x > 0)) return 0;
  return std::min<std::size_t>(19, static_cast<std::size_t>(x * 20.0));
}

void sorted_unique(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// A record value as a table key / conditioning value.
std::optional<cond::Value> cond_value(const record::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->kind == record::Value::Kind::number) return cond::Value(v->number);
  if (v->kind == record::Value::Kind::string) return cond::Value(v->text);
  return std::nullopt;
}

struct SampleItem {
  std::uint64_t key = 0;
  std::string id;
  std::vector<std::uint64_t> paths, pairs;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> words;  // term -> count, sorted
};

struct AnchorAcc {
  std::string name;
  const AnchorTarget* target = nullptr;
  std::unordered_map<std::string, double> realised;
  std::vector<std::string> order;  // first-seen order of realised labels
  double other = 0;
  std::unordered_map<const tables::Dist*, double> rows;  // personas per selected table row
  std::uint64_t unmatched = 0;
};

// "line 12: not JSON" -> "not JSON" (the diagnostic carries the line).
std::string without_line_prefix(const std::string& e) {
  if (e.rfind("line ", 0) == 0)
    if (const auto colon = e.find(": "); colon != std::string::npos) return e.substr(colon + 2);
  return e;
}

}  // namespace

struct Evaluator::Impl {
  Options o;
  const Targets* t = nullptr;

  std::uint64_t personas = 0, attributes = 0, filled = 0, repeated = 0, twins = 0, filler = 0, dup_values = 0;
  double distinct_share_sum = 0;
  std::uint64_t distinct_share_n = 0;
  std::uint64_t attr_min = ~std::uint64_t{0}, attr_max = 0;
  std::uint64_t cats_min = ~std::uint64_t{0};
  std::uint64_t words_min = ~std::uint64_t{0}, words_max = 0, words_sum = 0;
  std::uint64_t in_count = 0, in_words = 0, with_problems = 0;
  std::uint64_t depth_sum = 0;
  Histogram attrs_hist, words_hist, depth_hist, cats_hist;
  std::map<std::string, std::uint64_t> tiers;
  std::map<std::string, std::uint64_t, std::less<>> categories;
  std::vector<std::string> category_order;

  std::vector<AnchorAcc> anchors;
  std::unordered_map<std::string, std::size_t> anchor_index;

  std::uint64_t contradicting = 0, violations = 0;
  std::map<std::string, std::uint64_t> by_rule;

  // privacy
  std::vector<std::string> qi_present;
  std::unordered_map<std::uint64_t, std::uint32_t> qi_classes;
  std::unordered_set<std::uint64_t> exact;
  std::uint64_t exact_dups = 0;
  // kMinHashes per persona, 16 bits each (b-bit MinHash: 128 bytes a persona; a chance agreement of
  // 1 in 65,536 per hash barely moves a Jaccard estimate near the 0.8 threshold).
  std::vector<std::uint16_t> signatures;
  std::string ids;  // every id, '\n'-separated
  std::vector<std::uint64_t> id_offsets;

  // sample: max-heap on key over positions in `sample`
  std::vector<SampleItem> sample;
  std::priority_queue<std::pair<std::uint64_t, std::size_t>> heap;

  Damage damage;

  // scratch
  std::unordered_set<std::uint64_t> seen_names, seen_values;
  std::unordered_map<std::uint64_t, std::uint64_t> meaning_path;  // meaning hash -> path hash
  std::vector<std::uint64_t> pair_scratch, path_scratch;
  std::string word_buf;

  AnchorAcc& anchor(const std::string& name) {
    auto [it, fresh] = anchor_index.emplace(name, anchors.size());
    if (fresh) {
      AnchorAcc a;
      a.name = name;
      if (t != nullptr)
        for (const auto& at : t->anchors)
          if (at.name == name) a.target = &at;
      anchors.push_back(std::move(a));
    }
    return anchors[it->second];
  }

  void count_label(AnchorAcc& a, const std::string& label) {
    auto it = a.realised.find(label);
    if (it != a.realised.end()) {
      it->second += 1;
    } else if (a.realised.size() < o.max_labels) {
      a.realised.emplace(label, 1.0);
      a.order.push_back(label);
    } else {
      a.other += 1;
    }
  }

  void add_anchors(const record::PersonaRecord& r) {
    if (t != nullptr)
      for (const auto& at : t->anchors) (void)anchor(at.name);  // recipe order first
    for (const auto& [name, v] : r.anchors) (void)anchor(name);
    for (auto& a : anchors) {
      const record::Value* v = r.anchor(a.name);
      if (a.target != nullptr && a.target->table != nullptr) {
        const auto value = cond_value(v);
        std::vector<cond::Value> keys;
        bool ok = value.has_value();
        for (const auto& b : a.target->by) {
          auto k = cond_value(r.anchor(b));
          if (!k) {
            ok = false;
            break;
          }
          keys.push_back(std::move(*k));
        }
        const tables::Dist* d = ok ? a.target->table->lookup(keys) : nullptr;
        std::optional<std::string> label;
        if (d != nullptr) label = a.target->table->label_of(*d, *value);
        if (!label) {
          ++a.unmatched;
          continue;
        }
        a.rows[d] += 1;
        count_label(a, *label);
      } else {
        if (v == nullptr || v->is_null()) {
          ++a.unmatched;
          continue;
        }
        count_label(a, v->to_text());
      }
    }
  }

  void add_privacy(const record::PersonaRecord& r, const std::vector<std::uint64_t>& pairs) {
    if (qi_present.empty() && personas == 1) {
      for (const auto& q : o.defs.quasi_identifiers)
        if (r.anchor(q) != nullptr) qi_present.push_back(q);
    }
    std::uint64_t h = 0x51;
    for (const auto& q : qi_present) {
      const record::Value* v = r.anchor(q);
      std::string key;
      if (v != nullptr && v->kind == record::Value::Kind::number && o.defs.age_band > 0) {
        const auto band = static_cast<std::int64_t>(std::floor(v->number / o.defs.age_band));
        key = "#" + std::to_string(band);
      } else if (v != nullptr) {
        key = text::fold(v->to_text());
      }
      h = stable_hash(key, splitmix64(h));
    }
    if (!qi_present.empty()) ++qi_classes[h];

    // exact duplicates: anchors + (path, value) set
    std::uint64_t e = 0x77;
    for (const auto& [k, v] : r.anchors) e = stable_hash(v.to_text(), stable_hash(k, splitmix64(e)));
    for (std::uint64_t p : pairs) e = splitmix64(e ^ p);
    if (!exact.insert(e).second) ++exact_dups;

    // MinHash signature of the (path, value) set
    const std::size_t base = signatures.size();
    signatures.resize(base + kMinHashes, std::uint16_t{0xffff});
    // k-th hash of an element: multiply-shift with the k-th odd multiplier and offset.
    static const auto coefficients = [] {
      std::array<std::pair<std::uint64_t, std::uint64_t>, kMinHashes> c{};
      std::uint64_t x = 0x6d696e68617368ULL;
      for (auto& [a, b] : c) {
        a = (x = splitmix64(x)) | 1u;
        b = (x = splitmix64(x));
      }
      return c;
    }();
    std::uint16_t* sig = signatures.data() + base;
    for (std::uint64_t p : pairs)
      for (std::size_t k = 0; k < kMinHashes; ++k) {
        const auto m = static_cast<std::uint16_t>((coefficients[k].first * p + coefficients[k].second) >> 48);
        sig[k] = std::min(sig[k], m);
      }
    id_offsets.push_back(ids.size());
    ids += r.id;
    ids += '\n';
  }

  void add_sample(const record::PersonaRecord& r, const std::vector<std::uint64_t>& paths,
                  const std::vector<std::uint64_t>& pairs) {
    if (o.sample == 0) return;
    const std::uint64_t key = splitmix64(stable_hash(r.id, splitmix64(o.sample_seed)));
    std::size_t slot;
    if (sample.size() < o.sample) {
      slot = sample.size();
      sample.emplace_back();
    } else if (key < heap.top().first) {
      slot = heap.top().second;
      heap.pop();
    } else {
      return;
    }
    SampleItem& s = sample[slot];
    s.key = key;
    s.id = r.id;
    s.paths = paths;
    s.pairs = pairs;
    std::unordered_map<std::uint64_t, std::uint32_t> tf;
    text::for_each_word(r.narrative, word_buf, [&](std::string_view w) { ++tf[stable_hash(w)]; });
    s.words.assign(tf.begin(), tf.end());
    std::sort(s.words.begin(), s.words.end());
    heap.emplace(key, slot);
  }

  void add(const record::PersonaRecord& r) {
    ++personas;
    const std::uint64_t n = r.attributes.size();
    attributes += n;
    attr_min = std::min(attr_min, n);
    attr_max = std::max(attr_max, n);
    ++attrs_hist[static_cast<std::int64_t>(n)];
    if (!r.problems.empty()) ++with_problems;

    seen_names.clear();
    seen_values.clear();
    meaning_path.clear();
    path_scratch.clear();
    pair_scratch.clear();
    std::unordered_set<std::string_view> cats;
    std::uint64_t f = 0;
    for (const auto& a : r.attributes) {
      path_scratch.push_back(stable_hash(a.path));
      const std::int64_t depth = depth_of(a.path);
      depth_sum += static_cast<std::uint64_t>(depth);
      ++depth_hist[depth];
      static const std::string no_tier = "(none)", other_tier = "(other)";
      const std::string& tier = a.tier.empty() ? no_tier : a.tier;
      if (auto it = tiers.find(tier); it != tiers.end())
        ++it->second;
      else if (tiers.size() < kMaxTiers)
        tiers.emplace(tier, 1);
      else
        ++tiers[other_tier];
      const std::string_view cat = category_of(a.path);
      cats.insert(cat);
      if (auto it = categories.find(cat); it != categories.end()) {
        ++it->second;
      } else if (categories.size() < kMaxCategories) {
        categories.emplace(std::string(cat), 1);
        category_order.emplace_back(cat);
      }
      const std::uint64_t name = folded_hash(leaf_of(a.path));
      if (!seen_names.insert(name).second) ++repeated;
      const std::uint64_t meaning = o.meaning ? stable_hash(o.meaning(a.path)) : name;
      auto [mp, fresh] = meaning_path.emplace(meaning, path_scratch.back());
      if (!fresh && mp->second != path_scratch.back()) ++twins;
      if (a.status == "filled" && a.value) {
        ++f;
        if (is_filler(o.defs, *a.value)) ++filler;
        const std::uint64_t folded = folded_hash(*a.value);
        if (!seen_values.insert(folded).second) ++dup_values;
        pair_scratch.push_back(splitmix64(path_scratch.back() ^ folded));
      }
    }
    filled += f;
    if (f > 0) {
      distinct_share_sum += static_cast<double>(seen_values.size()) / static_cast<double>(f);
      ++distinct_share_n;
    }
    const auto ncat = static_cast<std::uint64_t>(cats.size());
    cats_min = std::min(cats_min, ncat);
    ++cats_hist[static_cast<std::int64_t>(ncat)];

    const auto words = static_cast<std::uint64_t>(text::word_count(r.narrative));
    words_min = std::min(words_min, words);
    words_max = std::max(words_max, words);
    words_sum += words;
    ++words_hist[static_cast<std::int64_t>(words)];
    if (t != nullptr) {
      if (n >= static_cast<std::uint64_t>(t->min_count) && n <= static_cast<std::uint64_t>(t->max_count)) ++in_count;
      if (words >= static_cast<std::uint64_t>(t->min_words) && words <= static_cast<std::uint64_t>(t->max_words))
        ++in_words;
    }

    add_anchors(r);

    if (o.contradictions) {
      const auto v = o.contradictions(r);
      if (!v.empty()) ++contradicting;
      violations += v.size();
      for (const auto& x : v) ++by_rule[x.rule];
    }

    sorted_unique(path_scratch);
    sorted_unique(pair_scratch);
    add_privacy(r, pair_scratch);
    add_sample(r, path_scratch, pair_scratch);
  }

  std::string_view id_at(std::size_t i) const {
    const std::size_t b = id_offsets[i];
    const std::size_t e = i + 1 < id_offsets.size() ? id_offsets[i + 1] - 1 : ids.size() - 1;
    return std::string_view(ids).substr(b, e - b);
  }

  void near_duplicates(PrivacyResult& p) const {
    const std::size_t n = id_offsets.size();
    const std::size_t bands = kMinHashes / kBandRows;
    std::size_t checked = 0;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keys(n);
    auto band_equal = [&](std::size_t i, std::size_t j, std::size_t b) {
      for (std::size_t r = 0; r < kBandRows; ++r)
        if (signatures[i * kMinHashes + b * kBandRows + r] != signatures[j * kMinHashes + b * kBandRows + r])
          return false;
      return true;
    };
    for (std::size_t b = 0; b < bands && !p.pairs_capped; ++b) {
      for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t h = 0x1234 + b;
        for (std::size_t r = 0; r < kBandRows; ++r) h = splitmix64(h ^ signatures[i * kMinHashes + b * kBandRows + r]);
        keys[i] = {h, static_cast<std::uint32_t>(i)};
      }
      std::sort(keys.begin(), keys.end());
      for (std::size_t g = 0; g < n && !p.pairs_capped;) {
        std::size_t e = g + 1;
        while (e < n && keys[e].first == keys[g].first) ++e;
        for (std::size_t x = g; x < e && !p.pairs_capped; ++x)
          for (std::size_t y = x + 1; y < e; ++y) {
            if (++checked > kMaxCandidatePairs) {
              p.pairs_capped = true;
              break;
            }
            const std::size_t i = keys[x].second, j = keys[y].second;
            if (!band_equal(i, j, b)) continue;  // a hash collision
            bool earlier = false;
            for (std::size_t b2 = 0; b2 < b && !earlier; ++b2) earlier = band_equal(i, j, b2);
            if (earlier) continue;  // counted in an earlier band
            std::size_t same = 0;
            for (std::size_t k = 0; k < kMinHashes; ++k)
              same += signatures[i * kMinHashes + k] == signatures[j * kMinHashes + k] ? 1 : 0;
            const double jac = static_cast<double>(same) / static_cast<double>(kMinHashes);
            if (jac >= o.defs.near_duplicate) {
              ++p.near_duplicate_pairs;
              if (p.examples.size() < 10) {
                const auto lo = std::min(i, j), hi = std::max(i, j);
                p.examples.emplace_back(std::string(id_at(lo)), std::string(id_at(hi)), jac);
              }
            }
          }
        g = e;
      }
    }
  }

  void similarity(FileReport& rep) const {
    const std::size_t n = sample.size();
    rep.sample = n;
    rep.path_similarity.assign(20, 0);
    rep.value_similarity.assign(20, 0);
    rep.narrative_similarity.assign(20, 0);
    if (n < 2) return;
    // Order the sample by key so the figures do not depend on the file's order.
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return sample[a].key < sample[b].key; });
    // TF-IDF over the sample's narratives.
    std::unordered_map<std::uint64_t, std::uint32_t> df;
    for (const auto& s : sample)
      for (const auto& [w, c] : s.words) ++df[w];
    std::vector<Sparse> vec(n);
    bool any_words = false;
    for (std::size_t k = 0; k < n; ++k) {
      const auto& s = sample[order[k]];
      double norm = 0;
      for (const auto& [w, c] : s.words) {
        const double idf = std::log((1.0 + static_cast<double>(n)) / (1.0 + df[w])) + 1.0;
        const double x = (1.0 + std::log(static_cast<double>(c))) * idf;
        vec[k].emplace_back(w, static_cast<float>(x));
        norm += x * x;
      }
      norm = std::sqrt(norm);
      if (norm > 0) {
        any_words = true;
        for (auto& [w, x] : vec[k]) x = static_cast<float>(x / norm);
      }
    }
    std::vector<double> nn(n, 0.0);
    double sum_p = 0, sum_v = 0;
    std::uint64_t pairs = 0;
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a + 1; b < n; ++b) {
        const auto& x = sample[order[a]];
        const auto& y = sample[order[b]];
        const double jp = jaccard(x.paths, y.paths), jv = jaccard(x.pairs, y.pairs);
        sum_p += jp;
        sum_v += jv;
        ++pairs;
        ++rep.path_similarity[bin20(jp)];
        ++rep.value_similarity[bin20(jv)];
        if (any_words) {
          const double c = cosine(vec[a], vec[b]);
          nn[a] = std::max(nn[a], c);
          nn[b] = std::max(nn[b], c);
        }
      }
    rep.metrics["similarity_paths"] = sum_p / static_cast<double>(pairs);
    rep.metrics["similarity_values"] = sum_v / static_cast<double>(pairs);
    if (any_words) {
      double s = 0, mx = 0;
      for (double x : nn) {
        s += x;
        mx = std::max(mx, x);
        ++rep.narrative_similarity[bin20(x)];
      }
      rep.metrics["narrative_nn"] = s / static_cast<double>(n);
      rep.metrics["narrative_nn_max"] = mx;
    }
  }

  FileReport finish(const std::string& file) {
    FileReport rep;
    rep.file = file;
    rep.personas = personas;
    rep.damage = damage;
    auto& m = rep.metrics;
    const auto P = static_cast<double>(personas);
    const auto A = static_cast<double>(attributes);
    const auto F = static_cast<double>(filled);
    m["personas"] = P;
    m["damaged_lines"] = static_cast<double>(damage.bad_lines + (damage.torn ? 1 : 0));
    m["attributes_total"] = A;
    m["filled_total"] = F;
    m["repeated_names_count"] = static_cast<double>(repeated);
    m["semantic_twins_count"] = static_cast<double>(twins);
    m["filler_count"] = static_cast<double>(filler);
    m["duplicate_values_count"] = static_cast<double>(dup_values);
    if (personas > 0) {
      m["attributes_mean"] = A / P;
      m["attributes_min"] = static_cast<double>(attr_min);
      m["attributes_max"] = static_cast<double>(attr_max);
      m["categories_mean"] =
          std::accumulate(cats_hist.begin(), cats_hist.end(), 0.0,
                          [](double s, const auto& kv) {
                            return s + static_cast<double>(kv.first) * static_cast<double>(kv.second);
                          }) /
          P;
      m["categories_min"] = static_cast<double>(cats_min);
      m["narrative_words_mean"] = static_cast<double>(words_sum) / P;
      m["narrative_words_min"] = static_cast<double>(words_min);
      m["narrative_words_max"] = static_cast<double>(words_max);
      m["problems"] = static_cast<double>(with_problems) / P;
      if (distinct_share_n > 0) m["distinct_values"] = distinct_share_sum / static_cast<double>(distinct_share_n);
    }
    if (attributes > 0) {
      m["filled_share"] = F / A;
      m["repeated_names"] = static_cast<double>(repeated) / A;
      m["semantic_twins"] = static_cast<double>(twins) / A;
      m["depth_mean"] = static_cast<double>(depth_sum) / A;
      // The tier shares are of the sampled attributes: a panel (tier "panel", given to every
      // persona) has no tier target and is reported on its own.
      const auto panel_it = tiers.find("panel");
      const double panel_n = panel_it == tiers.end() ? 0.0 : static_cast<double>(panel_it->second);
      const double sampled = A - panel_n;
      for (const char* tier : {"near", "mid", "far"}) {
        const auto it = tiers.find(tier);
        m[std::string("tier_") + tier] =
            it == tiers.end() || sampled <= 0 ? 0.0 : static_cast<double>(it->second) / sampled;
      }
      if (panel_n > 0) m["tier_panel"] = panel_n / A;
    }
    if (filled > 0) {
      m["filler"] = static_cast<double>(filler) / F;
      m["duplicate_values"] = static_cast<double>(dup_values) / F;
    }
    rep.attributes_per_persona = attrs_hist;
    rep.narrative_words = words_hist;
    rep.path_depth = depth_hist;
    rep.categories_per_persona = cats_hist;
    rep.tiers = tiers;
    for (const auto& c : category_order) rep.categories.emplace_back(c, categories.find(c)->second);

    if (t != nullptr) {
      rep.recipe = t->recipe;
      rep.targets_used = *t;
      rep.category_targets = t->categories;
      if (personas > 0) {
        m["in_count_range"] = static_cast<double>(in_count) / P;
        if (t->max_words > 0) m["narrative_in_range"] = static_cast<double>(in_words) / P;
      }
      const double sum = t->near + t->mid + t->far;
      if (sum > 0 && attributes > 0) {
        rep.tier_targets = {{"near", t->near / sum}, {"mid", t->mid / sum}, {"far", t->far / sum}};
        double tv = 0;
        for (const auto& [k, v] : rep.tier_targets) tv += std::abs(m["tier_" + k] - v);
        // attributes outside near/mid/far count as distance too
        double other = 0;
        for (const auto& [k, c] : tiers)
          if (k != "near" && k != "mid" && k != "far" && k != "panel") other += static_cast<double>(c) / A;
        m["tier_distance"] = (tv + other) / 2.0;
      }
    }

    double js_max = -1;
    for (auto& a : anchors) {
      AnchorResult ar;
      ar.name = a.name;
      ar.unmatched = a.unmatched;
      if (a.target != nullptr && a.target->table != nullptr) {
        const tables::Table& tb = *a.target->table;
        ar.table = tb.name;
        std::map<std::string, double, std::less<>> expected;
        for (const auto& [d, count] : a.rows)
          for (const auto& [label, p] : restricted(tb, *d, a.target->bound)) expected[label] += p * count;
        double total = 0;
        for (const auto& [k, v] : expected) total += v;
        // table order for both sides
        std::vector<std::string> labels;
        std::unordered_set<std::string> listed;
        for (const auto& l : tb.all_labels())
          if (expected.count(l) != 0 || a.realised.count(l) != 0) {
            labels.push_back(l);
            listed.insert(l);
          }
        for (const auto& l : a.order)
          if (listed.insert(l).second) labels.push_back(l);
        std::map<std::string, double, std::less<>> emp;
        for (const auto& l : labels) {
          const auto it = a.realised.find(l);
          const double c = it == a.realised.end() ? 0.0 : it->second;
          ar.realised.emplace_back(l, c);
          if (c > 0) emp[l] = c;
          const auto e = expected.find(l);
          ar.expected.emplace_back(l, e == expected.end() || total <= 0 ? 0.0 : e->second / total);
        }
        if (!emp.empty() && total > 0) {
          ar.js = tables::jensen_shannon(emp, expected);
          double matched = 0, k = 0;
          for (const auto& [l, c] : emp) matched += c;
          for (const auto& [l, p] : expected) k += p > 0 ? 1 : 0;
          ar.noise_floor = (k - 1) / (8.0 * matched * std::log(2.0));
          m["anchor_js." + a.name] = *ar.js;
          js_max = std::max(js_max, *ar.js);
        }
      } else {
        for (const auto& l : a.order) ar.realised.emplace_back(l, a.realised.find(l)->second);
      }
      if (a.other > 0) ar.realised.emplace_back("(other)", a.other);
      rep.anchors.push_back(std::move(ar));
    }
    if (js_max >= 0) m["anchor_js_max"] = js_max;

    if (o.contradictions) {
      rep.contradictions_counted = true;
      rep.contradictions_by_rule = by_rule;
      if (personas > 0) {
        m["contradictions"] = static_cast<double>(contradicting) / P;
        m["contradictions_per_persona"] = static_cast<double>(violations) / P;
      }
    }

    // privacy
    PrivacyResult& pr = rep.privacy;
    pr.quasi_identifiers = qi_present;
    if (!qi_present.empty() && personas > 0) {
      pr.classes = qi_classes.size();
      std::uint64_t b1 = 0, b2 = 0, b3 = 0, b5 = 0, b10 = 0, kmin = ~std::uint64_t{0};
      for (const auto& [h, c] : qi_classes) {
        kmin = std::min<std::uint64_t>(kmin, c);
        if (c == 1)
          b1 += c;
        else if (c == 2)
          b2 += c;
        else if (c <= 4)
          b3 += c;
        else if (c <= 9)
          b5 += c;
        else
          b10 += c;
      }
      pr.by_class_size = {{"1", b1}, {"2", b2}, {"3-4", b3}, {"5-9", b5}, {"10+", b10}};
      m["qi_unique"] = static_cast<double>(b1) / P;
      m["qi_classes"] = static_cast<double>(pr.classes);
      m["k_anonymity"] = static_cast<double>(kmin);
    }
    pr.exact_duplicates = exact_dups;
    near_duplicates(pr);
    m["exact_duplicates"] = static_cast<double>(exact_dups);
    if (!pr.pairs_capped) m["near_duplicates"] = static_cast<double>(pr.near_duplicate_pairs);

    similarity(rep);
    m["sample"] = static_cast<double>(rep.sample);
    return rep;
  }
};

Evaluator::Evaluator(Options o, const Targets* targets) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(o);
  impl_->t = targets;
}
Evaluator::~Evaluator() = default;

void Evaluator::add(const record::PersonaRecord& r) { impl_->add(r); }

void Evaluator::damaged(const std::string& message, bool torn) {
  auto& d = impl_->damage;
  if (torn)
    d.torn = true;
  else
    ++d.bad_lines;
  if (d.messages.size() < kMaxMessages) d.messages.push_back(message);
}

FileReport Evaluator::finish(const std::string& file) { return impl_->finish(file); }

FileReport evaluate_file(const std::string& path, const Options& o, const Targets* targets, DiagnosticSink& sink) {
  Evaluator ev(o, targets);
  record::Reader in;
  if (!in.open(path)) {
    sink.error(SourceRange{path, 0, 0, 0}, "unreadable-personas", in.error());
    FileReport rep = ev.finish(path);
    rep.damage.unreadable = true;
    return rep;
  }
  record::PersonaRecord r;
  std::size_t reported = 0;
  for (;;) {
    const auto st = in.next(r);
    if (st == record::ReadStatus::ok) {
      ev.add(r);
      continue;
    }
    if (st == record::ReadStatus::end) break;
    if (st == record::ReadStatus::io) {
      sink.error(SourceRange{path, 0, 0, 0}, "unreadable-personas", in.error());
      FileReport rep = ev.finish(path);
      rep.damage.unreadable = true;
      return rep;
    }
    const bool torn = st == record::ReadStatus::torn;
    ev.damaged(in.error(), torn);
    if (reported++ < kMaxMessages) {
      const auto line = static_cast<std::uint32_t>(in.line());
      sink.error(SourceRange{path, line, 1, 0}, torn ? "torn-line" : "not-a-persona",
                 torn ? "the last line is torn (no final newline): it was not evaluated"
                      : without_line_prefix(in.error()) + "; the line was skipped");
    }
    if (torn) break;
  }
  return ev.finish(path);
}

}  // namespace persona::eval
