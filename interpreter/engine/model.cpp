// Model::create: the per-(recipe, taxonomy, tables) precomputation behind the hot path.
#include "engine/model.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::engine {

namespace {

// Leaves that restate an anchor. Under "Demographic Information" a leaf whose folded name is one
// of the anchor's synonyms restates it; anywhere, a leaf whose folded name equals the anchor's.
const std::map<std::string, std::vector<std::string>>& anchor_synonyms() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"age",
       {"age", "current age", "chronological age", "age bracket", "age group", "age band", "generational cohort",
        "year of birth", "birth year", "age in years"}},
      {"gender", {"gender", "sex", "sex recorded at birth", "biological sex", "sex at birth"}},
      {"sex", {"gender", "sex", "sex recorded at birth", "biological sex", "sex at birth"}},
      {"country", {"country", "country of residence", "current country", "country of birth and residence"}},
      {"city", {"city", "city of residence", "current city", "home city", "town", "town or city"}},
      {"occupation", {"occupation", "current occupation", "job title", "profession", "job", "occupation category"}},
      {"name", {"name", "given name", "first name", "full name"}},
      {"given_name", {"name", "given name", "first name"}},
      {"employment",
       {"employment status", "activity status", "labour force status", "work status", "employment situation"}},
      {"religion", {"religion", "religion identified with"}},
      {"marital_status", {"marital status", "legal marital status"}},
      {"education", {"highest education level", "education level"}},
  };
  return m;
}

Lexicon lexicon_for(const tax::Node& n) {
  const std::string name = text::lower(n.name);
  const std::string desc = text::lower(n.description);
  auto any = [&](std::initializer_list<std::string_view> ws) {
    for (auto w : ws)
      if (text::contains_word(name, w)) return true;
    return false;
  };
  if (any({"frequency", "often", "habit", "routine", "regularity"}) || desc.starts_with("how often"))
    return Lexicon::frequency;
  if (any({"number", "count", "amount", "size", "how many"}) || desc.starts_with("how many")) return Lexicon::amount;
  if (any({"duration", "years", "length", "age at", "tenure"}) || desc.starts_with("how long"))
    return Lexicon::duration;
  if (desc.starts_with("whether") || name.starts_with("has ") || name.starts_with("is ") ||
      any({"ownership", "possession", "status"}))
    return Lexicon::yes_no;
  if (any({"level", "degree", "importance", "satisfaction", "confidence", "intensity", "strength", "tolerance",
           "interest", "skill", "proficiency", "openness", "sensitivity", "salience", "engagement", "trust"}))
    return Lexicon::level;
  return Lexicon::descriptor;
}

}  // namespace

std::unique_ptr<Model> Model::create(lang::Recipe recipe, std::shared_ptr<const tables::Library> tables,
                                     std::shared_ptr<const tax::Taxonomy> taxonomy, DiagnosticSink& sink) {
  std::unique_ptr<Model> m(new Model());
  m->recipe_ = std::move(recipe);
  m->tables_ = tables ? std::move(tables) : std::make_shared<const tables::Library>();
  m->tax_ = std::move(taxonomy);
  if (!m->tax_) {
    sink.error(SourceRange{m->recipe_.file, 0, 0, 0}, "no-taxonomy", "no taxonomy loaded for the recipe");
    return nullptr;
  }
  const lang::Recipe& r = m->recipe_;
  const tax::Taxonomy& t = *m->tax_;
  bool ok = true;
  // The default similarity: semantic when WordNet is there (built at the first selection), else
  // tfidf, said once here.
  if (r.attributes.max_count > 0 && !sim::wordnet_present(sim::default_wordnet_dir(), sink)) m->similarity_ = "tfidf";
  // Coherence: facts, conditional weights and option links (errors name the rules file and line).
  m->rules_ = coherence::Rules::compile(t, *m->tables_, sink);
  if (!m->rules_) return nullptr;

  // ---- anchors ----
  for (const auto& a : r.anchors) {
    AnchorInfo ai;
    ai.anchor = &a;
    ai.step_hash = stable_hash("anchor:" + a.name);
    const auto& src = a.source;
    using K = lang::AnchorSource::Kind;
    if (src.kind == K::table) {
      ai.table = m->tables_->find(src.table);
      if (ai.table == nullptr) {
        sink.error(a.where, "unknown-table",
                   "anchor `" + a.name + "` draws from table `" + src.table + "`, which is not loaded");
        ok = false;
      } else {
        ai.derived = ai.table->derived_facts();
      }
    } else if (src.kind == K::categorical) {
      double total = 0;
      for (const auto& c : src.choices) total += std::max(0.0, c.weight);
      double acc = 0;
      for (const auto& c : src.choices) {
        acc += std::max(0.0, c.weight);
        ai.cumulative.push_back(total > 0 ? acc / total : 0);
      }
      if (src.choices.empty() || total <= 0) {
        sink.error(a.where, "bad-distribution", "anchor `" + a.name + "` has no choice with a positive weight");
        ok = false;
      }
    } else if ((src.kind == K::uniform || src.kind == K::normal || src.kind == K::lognormal) && src.args.size() < 2) {
      sink.error(a.where, "bad-distribution", "anchor `" + a.name + "` needs two distribution parameters");
      ok = false;
    }
    m->anchors_.push_back(std::move(ai));
  }

  // ---- filters ----
  const auto& filters = r.attributes.filters;
  if (filters.size() > 64) {
    sink.error(filters[64].where, "too-many-filters", "at most 64 include/exclude filters are supported");
    ok = false;
  }
  if (!ok) return nullptr;

  // ---- restating names ----
  std::set<std::string> exact_names, demo_names;
  auto add_anchor_name = [&](const std::string& nm) {
    exact_names.insert(tax::fold_name(nm));
    demo_names.insert(tax::fold_name(nm));
    const auto& syn = anchor_synonyms();
    if (auto it = syn.find(text::lower(nm)); it != syn.end())
      for (const auto& s : it->second) demo_names.insert(tax::fold_name(s));
  };
  for (const auto& a : m->anchors_) {
    add_anchor_name(a.anchor->name);
    for (const auto& d : a.derived) add_anchor_name(d);
  }
  std::optional<tax::Vertex> demo_root;
  for (tax::Vertex v : t.roots())
    if (tax::fold_name(t[v].name).starts_with("demographic")) demo_root = v;

  // ---- leaves ----
  std::map<std::vector<std::uint32_t>, std::uint32_t> set_ids;
  std::unordered_map<std::string, std::uint32_t> cond_ids;
  std::vector<std::uint32_t> leaf_of_vertex(t.size(), UINT32_MAX);
  std::vector<std::vector<tax::Vertex>> glob_hits;
  for (const auto& f : filters) glob_hits.push_back(t.glob(f.glob));
  const auto leaves = t.leaves();
  m->leaves_.reserve(leaves.size());
  for (tax::Vertex v : leaves) {
    const tax::Node& n = t[v];
    LeafInfo li;
    li.vertex = v;
    li.name = n.name;
    const std::string folded = tax::fold_name(n.name);
    li.fold_id = t.meaning_id(v);
    li.fill_hash = stable_hash("fill:" + n.path);
    li.walk_weight = static_cast<float>(0.25 + t.long_tail(v));
    // Under the demographic root?
    bool in_demo = false;
    if (demo_root) {
      std::optional<tax::Vertex> p = v;
      while (p) {
        if (*p == *demo_root) in_demo = true;
        p = t.parent(*p);
      }
    }
    li.restates_anchor = exact_names.count(folded) > 0 || (in_demo && demo_names.count(folded) > 0);
    if (li.restates_anchor) ++m->restating_;
    li.lexicon = lexicon_for(n);
    for (const auto& o : n.values) {
      OptionInfo oi;
      oi.label = o.label;
      oi.weight = o.weight > 0 ? o.weight : 0.0;
      li.options.push_back(std::move(oi));
    }
    // Condition set: distinct conditions (by canonical text) on the leaf and its ancestors.
    std::vector<std::uint32_t> ids;
    for (const cond::Condition* c : t.inherited_conditions(v)) {
      auto [it, fresh] = cond_ids.emplace(cond::to_string(*c), static_cast<std::uint32_t>(m->conditions_.size()));
      if (fresh) m->conditions_.push_back(c);
      ids.push_back(it->second);
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    auto [sit, sfresh] = set_ids.emplace(ids, static_cast<std::uint32_t>(m->cond_sets_.size()));
    if (sfresh) m->cond_sets_.push_back(ids);
    li.cond_set = sit->second;
    leaf_of_vertex[v] = static_cast<std::uint32_t>(m->leaves_.size());
    m->leaves_.push_back(std::move(li));
  }
  m->fold_count_ = t.meaning_count();
  // Latent conditions: those reading a fact of the coherence rules that no anchor supplies.
  {
    std::set<std::string, std::less<>> supplied;
    for (const auto& ai : m->anchors_) {
      if (ai.anchor != nullptr) supplied.insert(ai.anchor->name);
      supplied.insert(ai.derived.begin(), ai.derived.end());
    }
    std::vector<std::string> vars;
    m->cond_latent_.assign(m->conditions_.size(), 0);
    for (std::size_t c = 0; c < m->conditions_.size(); ++c) {
      vars.clear();
      cond::collect_vars(*m->conditions_[c], vars);
      for (const auto& var : vars)
        if (!supplied.contains(var) && m->rules_->fact_index(var)) m->cond_latent_[c] = 1;
    }
    for (const auto& set : m->cond_sets_) {
      auto& latent = m->set_latent_.emplace_back();
      for (auto c : set)
        if (m->cond_latent_[c]) latent.push_back(c);
    }
  }
  // A filter's glob selects nodes; a selected node selects every leaf of its subtree
  // (`include *` = every top-level category = everything).
  for (std::size_t f = 0; f < glob_hits.size(); ++f)
    for (tax::Vertex v : glob_hits[f])
      for (tax::Vertex w : t.subtree(v))
        if (w < leaf_of_vertex.size() && leaf_of_vertex[w] != UINT32_MAX)
          m->leaves_[leaf_of_vertex[w]].filter_bits |= std::uint64_t{1} << f;
  // The panel: every leaf under a node an `always` glob selects.
  for (const auto& g : r.attributes.panels)
    for (tax::Vertex v : t.glob(g))
      for (tax::Vertex w : t.subtree(v))
        if (w < leaf_of_vertex.size() && leaf_of_vertex[w] != UINT32_MAX) m->leaves_[leaf_of_vertex[w]].panel = true;
  for (std::uint32_t i = 0; i < m->leaves_.size(); ++i)
    if (m->leaves_[i].panel) m->panel_.push_back(i);

  // ---- near-duplicates: leaves whose TF-IDF cosine is >= 0.9 (through the inverted index) ----
  if (t.has_vectors()) {
    const auto similar = t.similar_nodes(0.9f);
    for (auto& li : m->leaves_) {
      for (tax::Vertex w : similar[li.vertex]) {
        if (w >= leaf_of_vertex.size() || leaf_of_vertex[w] == UINT32_MAX) continue;
        const std::uint32_t lw = leaf_of_vertex[w];
        if (m->leaves_[lw].fold_id != li.fold_id) li.near_dups.push_back(lw);
      }
    }
  }
  return m;
}

const sim::Scorer& Model::offline_scorer() const {
  std::call_once(offline_once_, [this] {
    DiagnosticList ignored;  // WordNet's absence was reported by create()
    offline_ = sim::shared_scorer(similarity_.starts_with("tfidf") ? "tfidf" : "semantic", tax_, ignored);
    if (!offline_) offline_ = sim::shared_scorer("tfidf", tax_, ignored);
  });
  return *offline_;
}

const sim::Scorer& Model::scorer() const {
  std::call_once(scorer_once_, [this] {
    if (scorer_) return;
    (void)offline_scorer();
    scorer_ = offline_;
  });
  return *scorer_;
}

void Model::use_scorer(std::shared_ptr<const sim::Scorer> scorer, std::string description) {
  if (!scorer) return;
  embeds_core_ = scorer->name() == "embeddings";
  scorer_ = std::move(scorer);
  similarity_ = std::move(description);
}

std::shared_ptr<const tax::Taxonomy> load_taxonomy(const lang::Recipe& r, DiagnosticSink& sink) {
  tax::LoadOptions opts;
  std::optional<tax::Taxonomy> t;
  if (r.taxonomy_is_file) {
    t = tax::load(r.taxonomy, sink, opts);
  } else {
    std::string_view name = r.taxonomy;
    if (name.starts_with("stdlib.")) name.remove_prefix(7);
    t = tax::load_stdlib(name, sink, opts);
  }
  if (!t) return nullptr;
  return std::make_shared<const tax::Taxonomy>(std::move(*t));
}

}  // namespace persona::engine
