// The selection step (the method's stage 2: candidates, core similarity, near/mid/far tiers,
// random-BFS picking with deduplication) and its explanation for the REPL's :why.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/steps.hpp"
#include "similarity/embedding_scorer.hpp"

namespace persona::engine {

// ---------------------------------------------------------------------------------------------
// Scratch

struct Scratch::Impl {
  // Candidate lists by (condition outcomes on anchors, active filters).
  std::unordered_map<std::string, std::vector<std::uint32_t>> candidates;
  std::string key;
  std::vector<std::uint8_t> set_ok;
  std::vector<std::int8_t> latent_truth;  // per condition, this persona: -1 not evaluated, 0 / 1
  std::vector<float> scores;
  std::vector<std::string> query;
  // The similarity scorer's per-thread state, for the scorer it was made by.
  std::unique_ptr<sim::Cache> sim_cache;
  const sim::Scorer* sim_owner = nullptr;
  sim::Cache& scorer_cache(const sim::Scorer& sc) {
    if (sim_owner != &sc || !sim_cache) {
      sim_cache = sc.cache();
      sim_owner = &sc;
    }
    return *sim_cache;
  }
  struct Ranked {
    std::uint64_t key;  // ascending = better
    std::uint32_t leaf;
    float walk;  // random-BFS key within the tier, ascending = earlier
  };
  std::vector<Ranked> ranked;
  std::vector<std::uint8_t> fold_used;
  std::vector<std::uint8_t> blocked;
  std::vector<std::uint32_t> touched_folds, touched_blocked;
  struct Pick {
    std::uint32_t leaf;
    Tier tier;
    const char* not_applicable = nullptr;  // panel leaves only: why it does not apply to this persona
  };
  std::vector<Pick> chosen;
};

Scratch::Scratch() : impl_(std::make_unique<Impl>()) {}
Scratch::~Scratch() = default;
Scratch::Scratch(Scratch&&) noexcept = default;
Scratch& Scratch::operator=(Scratch&&) noexcept = default;

namespace {

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

std::string value_string(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return text::format_number(std::get<double>(v));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Selection

namespace {

// The recipe filters that apply to persona p (bit f: filter f's `when` holds) and whether any
// filter includes. The decision for one leaf: the last active filter whose glob matches wins;
// with no match the leaf is included unless the recipe has include filters.
struct FilterState {
  std::uint64_t active = 0;
  bool has_include = false;
};

FilterState filter_state(const Model& m, const cond::Facts& facts) {
  FilterState fs;
  const auto& filters = m.recipe().attributes.filters;
  for (std::size_t f = 0; f < filters.size() && f < 64; ++f) {
    fs.has_include = fs.has_include || filters[f].include;
    if (!filters[f].when || cond::evaluate(*filters[f].when, facts)) fs.active |= std::uint64_t{1} << f;
  }
  return fs;
}

// -1 when no active filter matches the leaf, else the deciding filter's index.
int deciding_filter(const LeafInfo& li, const FilterState& fs) {
  const std::uint64_t hit = li.filter_bits & fs.active;
  return hit == 0 ? -1 : 63 - std::countl_zero(hit);
}

bool included(const Model& m, const LeafInfo& li, const FilterState& fs) {
  const int f = deciding_filter(li, fs);
  return f < 0 ? !fs.has_include : m.recipe().attributes.filters[static_cast<std::size_t>(f)].include;
}

const std::vector<std::uint32_t>& candidates(const Model& m, const Persona& p, Scratch::Impl& s) {
  const auto conds = m.conditions();
  s.key.clear();
  // Condition outcomes, 8 per byte.
  std::uint8_t byte = 0;
  for (std::size_t i = 0; i < conds.size(); ++i) {
    // Conditions on latent facts count as holding here (checked per persona when a leaf is picked),
    // so the cache stays keyed by the anchors.
    if (m.condition_latent(i) || cond::evaluate(*conds[i], p.facts)) byte |= static_cast<std::uint8_t>(1u << (i & 7));
    if ((i & 7) == 7) {
      s.key.push_back(static_cast<char>(byte));
      byte = 0;
    }
  }
  s.key.push_back(static_cast<char>(byte));
  const FilterState fs = filter_state(m, p.facts);
  s.key.append(reinterpret_cast<const char*>(&fs.active), sizeof fs.active);
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
    if (li.restates_anchor || !s.set_ok[li.cond_set] || !included(m, li, fs)) continue;
    out.push_back(i);
  }
  return s.candidates.emplace(s.key, std::move(out)).first->second;
}

// The texts of the persona's core: anchor values, derived facts and story outputs.
void core_query(const Persona& p, std::vector<std::string>& query) {
  query.clear();
  for (const auto& a : p.anchors)
    if (a) query.push_back(value_string(*a));
  for (const auto& d : p.derived) query.push_back(d.second);
  for (const auto& c : p.core) {
    if (!c.text.empty()) query.push_back(c.text);
    for (const auto& it : c.items) query.push_back(it);
    for (const auto& f : c.fields) {
      if (!f.text.empty()) query.push_back(f.text);
      for (const auto& it : f.items) query.push_back(it);
    }
  }
}

}  // namespace

void core_texts(const Persona& p, std::vector<std::string>& out) { core_query(p, out); }

std::string core_text(const Persona& p) {
  std::vector<std::string> texts;
  core_query(p, texts);
  return sim::EmbeddingScorer::core_text(texts);
}

namespace {

// The tier boundaries of n ranked candidates: [0, b1) near, [b1, b2) mid, the rest far.
std::pair<std::size_t, std::size_t> tier_bounds(std::size_t n) {
  const std::size_t b1 = n / 3 + (n % 3 > 0 ? 1 : 0), b2 = b1 + n / 3 + (n % 3 > 1 ? 1 : 0);
  return {b1, b2};
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

void select_attributes(const Model& m, Persona& p, Scratch& scratch, bool offline) {
  Scratch::Impl& s = scratch.impl();
  const auto& as = m.recipe().attributes;
  const tax::Taxonomy& t = m.taxonomy();
  bind_facts(m, p);  // a recipe without anchors: the latent facts are drawn here

  // Target count, uniform in [min_count, max_count].
  Rng count_rng = Rng::derive(p.run_seed, p.index, "select:count");
  const int lo = std::max(0, as.min_count), hi = std::max(lo, as.max_count);
  p.target_count = lo + static_cast<int>(count_rng.below(static_cast<std::uint64_t>(hi - lo + 1)));

  const std::vector<std::uint32_t>& cand = candidates(m, p, s);

  // Similarity of every node to the core (semantic, tfidf, or the embedding the step asked for).
  core_query(p, s.query);
  const sim::Scorer& scorer = offline ? m.offline_scorer() : m.scorer();
  scorer.score_all(s.query, s.scorer_cache(scorer), s.scores);

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
      const double u =
          (static_cast<double>(splitmix64(walk_seed ^ (std::uint64_t{li} * 0x9e3779b97f4a7c15ULL)) >> 11) + 0.5) *
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
  const auto [b1, b2] = tier_bounds(n);
  auto by_rank = [](const auto& a, const auto& b) { return a.key < b.key; };
  if (n > 0) {
    if (b1 < n)
      std::nth_element(s.ranked.begin(), s.ranked.begin() + static_cast<std::ptrdiff_t>(b1), s.ranked.end(), by_rank);
    if (b2 < n && b2 > b1)
      std::nth_element(s.ranked.begin() + static_cast<std::ptrdiff_t>(b1),
                       s.ranked.begin() + static_cast<std::ptrdiff_t>(b2), s.ranked.end(), by_rank);
  }
  auto* base = s.ranked.data();
  Cursor cur[3] = {{base, base + b1, base, base},
                   {base + b1, base + b2, base + b1, base + b1},
                   {base + b2, base + n, base + b2, base + b2}};

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
  auto take = [&](const LeafInfo& L) {
    s.fold_used[L.fold_id] = 1;
    s.touched_folds.push_back(L.fold_id);
    for (std::uint32_t d : L.near_dups)
      if (!s.blocked[d]) {
        s.blocked[d] = 1;
        s.touched_blocked.push_back(d);
      }
  };

  // The panel first: every persona gets every panel leaf, whatever the filters say; one that does not
  // apply keeps its slot and says why (the fill step skips it). Its leaves count toward the target,
  // and block their same-meaning leaves and near-duplicates from the sampled part.
  for (std::uint32_t li : m.panel()) {
    const LeafInfo& L = m.leaf(li);
    const char* why = nullptr;
    if (L.restates_anchor) {
      why = "not_applicable: restates an anchor";
    } else {
      bool holds = true;
      for (std::uint32_t c : m.condition_set(L.cond_set))
        if (!m.condition_latent(c) && !cond::evaluate(*m.conditions()[c], p.facts)) holds = false;
      if (!holds || !latent_hold(L.cond_set))
        why = "not_applicable: the taxonomy's condition is false for this persona";
      else if (!m.rules().possible(p.coherence, L.vertex))
        why = "not_applicable: every value option contradicts the persona's facts";
    }
    take(L);
    s.chosen.push_back({li, Tier::panel, why});
  }

  // Quotas by the tier ratio, for what the panel leaves of the target.
  const double wsum = std::max(1e-9, as.near + as.mid + as.far);
  const int panel_n = static_cast<int>(m.panel().size());
  const int total = std::max(0, p.target_count - panel_n);
  int quota[3];
  quota[0] = static_cast<int>(std::lround(total * as.near / wsum));
  quota[1] = static_cast<int>(std::lround(total * as.mid / wsum));
  quota[1] = std::min(quota[1], total - quota[0]);
  quota[2] = total - quota[0] - quota[1];

  auto pick = [&](int tier, int want) {
    int got = 0;
    Cursor& c = cur[tier];
    while (got < want && !c.empty()) {
      const std::uint32_t li = c.next(static_cast<std::size_t>(want - got));
      const LeafInfo& L = m.leaf(li);
      if (s.fold_used[L.fold_id] || s.blocked[li]) continue;
      if (!latent_hold(L.cond_set)) continue;                    // not applicable given the latent facts
      if (!m.rules().possible(p.coherence, L.vertex)) continue;  // every option contradicts the facts
      take(L);
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
    p.problems.push_back("only " + std::to_string(total - deficit + panel_n) + " of " +
                         std::to_string(total + panel_n) + " attributes available after filters and deduplication");
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
    sl.status = s.chosen[k].not_applicable != nullptr ? SlotStatus::failed : SlotStatus::pending;
    sl.value.clear();
    sl.reason.clear();
    if (s.chosen[k].not_applicable != nullptr) sl.reason = s.chosen[k].not_applicable;
    sl.option = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// The step

std::string SelectStep::detail() const {
  const auto& r = m_.recipe();
  const auto& as = r.attributes;
  std::string d =
      fmt::format("taxonomy {}, count {}..{}, tiers near {} mid {} far {} by {}, walk {} prefer {}", r.taxonomy,
                  as.min_count, as.max_count, text::format_number(as.near), text::format_number(as.mid),
                  text::format_number(as.far), m_.similarity(), as.walk, as.prefer);
  for (const auto& g : as.panels) d += ", always \"" + g + "\"";
  if (as.filters.empty()) d += ", include *";
  for (const auto& f : as.filters) {
    d += std::string(", ") + (f.include ? "include " : "exclude ") + "\"" + f.glob + "\"";
    if (f.when) d += " when " + cond::to_string(*f.when);
  }
  return d;
}

std::optional<Ask> SelectStep::run(Persona& p, Scratch& s) const {
  if (m_.embeds_core()) {
    Ask a;
    a.kind = Ask::Kind::embed;
    a.step = index_;
    a.tag = "select";
    return a;
  }
  select_attributes(m_, p, s);
  return std::nullopt;
}

std::optional<Ask> SelectStep::apply(Persona& p, Scratch& s, const Ask&, Answer& a) const {
  if (a.fatal) return std::nullopt;
  // A core embedding that failed or cannot be compared with the node vectors (the LLM backend says
  // why): this persona is ranked by the offline similarity, and says so.
  std::string err = a.ok ? std::string() : a.error;
  if (const auto* es = dynamic_cast<const sim::EmbeddingScorer*>(&m_.scorer()); es != nullptr && err.empty())
    err = es->set_core_vector(s.impl().scorer_cache(*es), a.embedding);
  if (!err.empty())
    p.problems.push_back("similarity: " + err + "; this persona's tiers are ranked by the offline similarity (" +
                         std::string(m_.offline_scorer().name()) + ")");
  select_attributes(m_, p, s, !err.empty());
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Explanation (:why)

namespace {

std::optional<tax::Vertex> find_node(const tax::Taxonomy& t, std::string_view path) {
  std::string want(path);
  while (!want.empty() && want.back() == '/') want.pop_back();
  if (auto v = t.find(want)) return v;
  for (tax::Vertex v = 0; v < t.size(); ++v)
    if (text::iequals(t[v].path, want)) return v;
  return std::nullopt;
}

}  // namespace

Explanation explain_selection(const Program& prog, Persona& p, Scratch& scratch, std::string_view path) {
  const Model& m = prog.model();
  const tax::Taxonomy& t = m.taxonomy();
  Explanation ex;
  const auto v = find_node(t, path);
  if (!v) {
    ex.found = false;
    return ex;
  }
  select_attributes(m, p, scratch);
  std::string& o = ex.text;
  o += t[*v].path + (t.is_leaf(*v) ? "" : "/") + "  for " + p.id + " (seed " + std::to_string(p.run_seed) + ", index " +
       std::to_string(p.index) + ")\n";
  const auto leaves = m.leaves();
  if (!t.is_leaf(*v)) {
    std::vector<std::string> chosen;
    const std::string& base = t[*v].path;
    for (const auto& s : p.attributes) {
      const std::string& sp = t[m.leaf(s.leaf).vertex].path;
      if (sp.size() > base.size() && sp.starts_with(base) && sp[base.size()] == '/')
        chosen.push_back(sp + "  (" + std::string(to_string(s.tier)) + ")");
    }
    o += "  a category with " + std::to_string(t.leaf_count(*v)) + " attributes; " + std::to_string(chosen.size()) +
         " chosen for this persona" + (chosen.empty() ? "" : ":") + "\n";
    for (std::size_t i = 0; i < chosen.size() && i < 20; ++i) o += "    " + chosen[i] + "\n";
    if (chosen.size() > 20) o += "    ... " + std::to_string(chosen.size() - 20) + " more\n";
    o += "  ':why' a leaf path for the reasons\n";
    return ex;
  }
  std::optional<std::uint32_t> li_opt;
  for (std::uint32_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].vertex == *v) li_opt = i;
  if (!li_opt) {
    o += "  not an attribute the engine selects from\n";
    return ex;
  }
  const std::uint32_t li = *li_opt;
  const LeafInfo& L = m.leaf(li);
  const Slot* slot = nullptr;
  for (const auto& s : p.attributes)
    if (s.leaf == li) slot = &s;

  // The scores the selection ranked by (an embeddings program has no core embedding here: its
  // fallback scores are shown).
  std::vector<std::string> query;
  core_query(p, query);
  std::vector<float> scores;
  m.scorer().score_all(query, scratch.impl().scorer_cache(m.scorer()), scores);

  const FilterState fs = filter_state(m, p.facts);
  auto candidate = [&](const LeafInfo& leaf) {
    return !leaf.restates_anchor && t.applicable(leaf.vertex, p.facts) && included(m, leaf, fs) &&
           m.rules().possible(p.coherence, leaf.vertex);
  };
  std::size_t n = 0, above = 0, ties = 0;
  const float mine = scores[L.vertex];
  for (const auto& leaf : leaves) {
    if (!candidate(leaf)) continue;
    ++n;
    if (scores[leaf.vertex] > mine)
      ++above;
    else if (scores[leaf.vertex] == mine && &leaf != &L)
      ++ties;
  }
  const bool is_candidate = candidate(L);
  const auto [b1, b2] = tier_bounds(n);
  const char* rank_tier = above < b1 ? "near" : above < b2 ? "mid" : "far";

  o += slot != nullptr ? "  chosen: yes, tier " + std::string(to_string(slot->tier)) + "\n" : "  chosen: no\n";
  o += "  similarity to the core (" + std::string(m.scorer().name()) +
       "): " + fmt::format("{:.3f}", static_cast<double>(mine));
  if (is_candidate) {
    o += ", rank " + std::to_string(above + 1) + " of " + std::to_string(n) + " candidates";
    if (ties > 0) o += " (tied with " + std::to_string(ties) + ")";
    o += "; ranks 1.." + std::to_string(b1) + " are near, .." + std::to_string(b2) + " mid, the rest far -> " +
         rank_tier;
  }
  o += "\n";

  const auto& filters = m.recipe().attributes.filters;
  if (filters.empty()) {
    o += "  recipe filters: none (include *): passed\n";
  } else {
    o += "  recipe filters:\n";
    for (std::size_t f = 0; f < filters.size(); ++f) {
      const auto& flt = filters[f];
      o += "    " + std::string(flt.include ? "include " : "exclude ") + "\"" + flt.glob + "\"";
      if (flt.when) o += " when " + cond::to_string(*flt.when);
      o += ": ";
      const bool hits = f < 64 && ((L.filter_bits >> f) & 1u) != 0;
      const bool active = f < 64 && ((fs.active >> f) & 1u) != 0;
      if (!hits)
        o += "glob does not match";
      else if (!active)
        o += "glob matches, condition false for this persona";
      else
        o += std::string("applies -> ") + (flt.include ? "included" : "excluded");
      o += "\n";
    }
    const int decided = deciding_filter(L, fs);
    const bool inc = included(m, L, fs);
    if (decided >= 0)
      o += "    decided by filter " + std::to_string(decided + 1) + ": " + (inc ? "passed" : "failed") + "\n";
    else
      o += std::string("    no filter applies: ") +
           (inc ? "passed (there is no include filter)" : "failed (include filters exist and none matches)") + "\n";
  }

  const auto conds = t.inherited_conditions(L.vertex);
  if (conds.empty()) {
    o += "  taxonomy conditions: none\n";
  } else {
    o += "  taxonomy conditions:\n";
    for (const cond::Condition* c : conds) {
      std::vector<std::string> vars;
      cond::collect_vars(*c, vars);
      std::string facts;
      for (const auto& var : vars) {
        if (!facts.empty()) facts += ", ";
        auto it = p.facts.find(var);
        facts += var + " = " + (it == p.facts.end() ? std::string("(absent)") : value_string(it->second));
      }
      o += "    " + cond::to_string(*c) + ": " + (cond::evaluate(*c, p.facts) ? "passed" : "failed") + "  (" + facts +
           ")\n";
    }
  }
  if (L.restates_anchor) o += "  restates an anchor: never selected\n";
  if (!m.rules().possible(p.coherence, L.vertex))
    o += "  every value option contradicts the persona's facts (" + m.rules().statement(L.vertex, 0) + ")\n";

  if (L.panel) o += "  panel: an 'always' glob matches it: every persona receives it, whatever the filters and tiers\n";
  if (slot != nullptr && slot->tier == Tier::panel) {
    o += "  verdict: in the panel" + (slot->reason.empty() ? std::string() : " (" + slot->reason + ")") + "\n";
  } else if (slot != nullptr) {
    o += "  verdict: chosen in the " + std::string(to_string(slot->tier)) + " tier\n";
  } else if (!is_candidate) {
    o += "  verdict: not a candidate for this persona\n";
  } else {
    std::string dup;
    for (const auto& s : p.attributes) {
      const LeafInfo& other = m.leaf(s.leaf);
      if (other.fold_id == L.fold_id ||
          std::find(other.near_dups.begin(), other.near_dups.end(), li) != other.near_dups.end()) {
        dup = t[other.vertex].path;
        break;
      }
    }
    if (!dup.empty())
      o += "  verdict: a candidate, but a same-meaning attribute was chosen: " + dup + "\n";
    else
      o += "  verdict: a candidate in the " + std::string(rank_tier) + " tier, not reached by the walk (" +
           std::to_string(p.attributes.size()) + " of " + std::to_string(n) + " candidates chosen)\n";
  }
  return ex;
}

}  // namespace persona::engine
