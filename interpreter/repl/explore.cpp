// :tax and :why: read-only views of the taxonomy and of one persona's attribute selection.
#include "repl/explore.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <span>

#include <fmt/format.h>

namespace persona::repl {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string fmt3(double x) { return fmt::format("{:.3f}", x); }

std::string value_text(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  const double d = std::get<double>(v);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return fmt::format("{}", static_cast<long long>(d));
  return fmt::format("{}", d);
}

Answer not_found(const tax::Taxonomy& t, const std::string& path) {
  Answer a;
  a.error = "no taxonomy node '" + path + "'";
  // Nodes named like the last segment first ("Sleep/Chronotype" -> ".../Sleep Timing/Chronotype").
  std::string_view last = path;
  while (!last.empty() && last.back() == '/') last.remove_suffix(1);
  if (auto slash = last.rfind('/'); slash != std::string_view::npos) last.remove_prefix(slash + 1);
  const std::string needle = lower(last);
  std::vector<std::string> named;
  if (!needle.empty())
    for (tax::Vertex v : t.preorder())
      if (lower(t[v].name) == needle) named.push_back(t[v].path);
  if (!named.empty() && named.size() <= 3) {
    for (const auto& n : named) a.notes.push_back("did you mean '" + n + "'?");
    return a;
  }
  std::vector<std::string> paths;
  paths.reserve(t.size());
  for (tax::Vertex v : t.preorder()) paths.push_back(t[v].path);
  if (auto best = closest_match(path, paths); !best.empty()) a.notes.push_back("did you mean '" + best + "'?");
  else a.notes.push_back("':tax ls' lists the top-level categories; ':tax find TEXT' searches");
  return a;
}

std::string child_line(const tax::Taxonomy& t, tax::Vertex c) {
  if (t.is_leaf(c)) return "  " + t[c].name + "\n";
  return "  " + t[c].name + "/  (" + std::to_string(t.leaf_count(c)) + " leaves)\n";
}

}  // namespace

std::optional<tax::Vertex> resolve_path(const tax::Taxonomy& t, std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (auto v = t.find(path)) return v;
  if (path.find_first_of("*?") != std::string_view::npos) {
    auto g = t.glob(path);
    if (g.size() == 1) return g.front();
    return std::nullopt;
  }
  const std::string lp = lower(path);
  for (tax::Vertex v : t.preorder())
    if (lower(t[v].path) == lp) return v;
  return std::nullopt;
}

Answer tax_ls(const tax::Taxonomy& t, const std::string& path) {
  Answer a;
  if (path.empty()) {
    for (tax::Vertex r : t.roots()) a.text += child_line(t, r);
    return a;
  }
  auto v = resolve_path(t, path);
  if (!v) return not_found(t, path);
  if (t.is_leaf(*v)) {
    a.text = t[*v].path + " is an attribute (a leaf); ':tax show' describes it\n";
    return a;
  }
  for (tax::Vertex c : t.children(*v)) a.text += child_line(t, c);
  return a;
}

Answer tax_show(const tax::Taxonomy& t, const std::string& path) {
  Answer a;
  auto v = resolve_path(t, path);
  if (!v) return not_found(t, path);
  const tax::Node& n = t[*v];
  std::string& o = a.text;
  o += n.path + "\n";
  if (!n.description.empty()) o += "  description: " + n.description + "\n";
  o += "  depth: " + std::to_string(n.depth) + "   " + (t.is_leaf(*v) ? "leaf" : "inner node") +
       "   long-tail: " + fmt3(t.long_tail(*v)) + "\n";
  // The file name only: the stdlib's absolute location differs between machines.
  if (n.where.line > 0)
    o += "  defined at: " + std::filesystem::path(n.where.file).filename().string() + ":" +
         std::to_string(n.where.line) + "\n";
  if (!n.values.empty()) {
    double total = 0;
    for (const auto& opt : n.values) total += opt.weight;
    o += "  values:\n";
    for (const auto& opt : n.values)
      o += "    " + opt.label + "  (p=" + fmt3(total > 0 ? opt.weight / total : 0) + ")\n";
  }
  const auto inherited = t.inherited_conditions(*v);
  if (!inherited.empty()) {
    o += "  applies when:\n";
    for (const cond::Condition* c : inherited) o += "    " + cond::to_string(*c) + "\n";
  }
  const auto kids = t.children(*v);
  if (!kids.empty()) {
    o += "  children (" + std::to_string(kids.size()) + "):\n";
    for (tax::Vertex c : kids) o += "  " + child_line(t, c);
  }
  return a;
}

Answer tax_find(const tax::Taxonomy& t, const std::string& text) {
  Answer a;
  constexpr std::size_t kLimit = 25;
  std::vector<tax::Vertex> hits;
  if (text.find_first_of("*?") != std::string::npos) {
    hits = t.glob(text);
  } else {
    const std::string needle = lower(text);
    for (tax::Vertex v : t.preorder())
      if (lower(t[v].path).find(needle) != std::string::npos) hits.push_back(v);
  }
  if (hits.empty()) {
    a.text = "no node matches '" + text + "'\n";
    return a;
  }
  for (std::size_t i = 0; i < hits.size() && i < kLimit; ++i)
    a.text += "  " + t[hits[i]].path + (t.is_leaf(hits[i]) ? "" : "/") + "\n";
  if (hits.size() > kLimit) a.text += "  ... " + std::to_string(hits.size() - kLimit) + " more\n";
  return a;
}

std::vector<std::string> complete_path(const tax::Taxonomy& t, std::string_view prefix) {
  std::vector<std::string> out;
  std::span<const tax::Vertex> pool = t.roots();
  std::string_view parent, last = prefix;
  if (auto slash = prefix.rfind('/'); slash != std::string_view::npos) {
    parent = prefix.substr(0, slash);
    last = prefix.substr(slash + 1);
    auto v = t.find(parent);
    if (!v) return out;
    pool = t.children(*v);
  }
  for (tax::Vertex c : pool) {
    const tax::Node& n = t[c];
    if (!std::string_view(n.name).starts_with(last)) continue;
    out.push_back(n.path + (t.is_leaf(c) ? "" : "/"));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// :why

Answer why(const engine::Model& m, std::uint64_t seed, const std::string& path) {
  const tax::Taxonomy& t = m.taxonomy();
  auto v = resolve_path(t, path);
  if (!v) return not_found(t, path);

  // Persona 0, offline, up to the selection stage: exactly what :sample 1 builds.
  engine::OfflineBackend offline;
  engine::Scratch scratch;
  engine::Persona p;
  engine::begin(m, seed, 0, p);
  engine::draw_anchors(m, p);
  engine::run_story(m, p, offline);
  engine::select_attributes(m, p, scratch);

  Answer a;
  std::string& o = a.text;
  o += t[*v].path + (t.is_leaf(*v) ? "" : "/") + "  for " + p.id + " (seed " + std::to_string(seed) + ", index 0)\n";

  const auto leaves = m.leaves();
  auto leaf_of = [&](tax::Vertex x) -> std::optional<std::uint32_t> {
    for (std::uint32_t i = 0; i < leaves.size(); ++i)
      if (leaves[i].vertex == x) return i;
    return std::nullopt;
  };
  const engine::Slot* slot_of_leaf = nullptr;
  auto find_slot = [&](std::uint32_t li) -> const engine::Slot* {
    for (const auto& s : p.attributes)
      if (s.leaf == li) return &s;
    return nullptr;
  };

  if (!t.is_leaf(*v)) {
    std::vector<std::string> chosen;
    for (const auto& s : p.attributes) {
      const std::string& sp = t[m.leaf(s.leaf).vertex].path;
      if (sp.size() > t[*v].path.size() && sp.starts_with(t[*v].path) && sp[t[*v].path.size()] == '/')
        chosen.push_back(sp + "  (" + std::string(engine::to_string(s.tier)) + ")");
    }
    o += "  a category with " + std::to_string(t.leaf_count(*v)) + " attributes; " + std::to_string(chosen.size()) +
         " chosen for this persona" + (chosen.empty() ? "" : ":") + "\n";
    for (std::size_t i = 0; i < chosen.size() && i < 20; ++i) o += "    " + chosen[i] + "\n";
    if (chosen.size() > 20) o += "    ... " + std::to_string(chosen.size() - 20) + " more\n";
    o += "  ':why' a leaf path for the reasons\n";
    return a;
  }
  const auto li_opt = leaf_of(*v);
  if (!li_opt) {
    o += "  not an attribute the engine selects from\n";
    return a;
  }
  const std::uint32_t li = *li_opt;
  const engine::LeafInfo& L = m.leaf(li);
  slot_of_leaf = find_slot(li);

  // The persona's core: the query the selection stage scores every node against.
  std::vector<std::string> query;
  for (const auto& av : p.anchors)
    if (av) query.push_back(value_text(*av));
  for (const auto& d : p.derived) query.push_back(d.second);
  for (const auto& c : p.core) {
    if (!c.text.empty()) query.push_back(c.text);
    for (const auto& it : c.items) query.push_back(it);
    for (const auto& f : c.fields) {
      if (!f.text.empty()) query.push_back(f.text);
      for (const auto& it : f.items) query.push_back(it);
    }
  }
  std::vector<float> scores;
  t.score_all(t.query_vector(std::span<const std::string>(query)), scores);

  // Recipe filters, in order: the last one whose glob matches and whose `when` holds decides.
  const auto& filters = m.recipe().attributes.filters;
  auto filter_active = [&](std::size_t f) {
    return !filters[f].when || cond::evaluate(*filters[f].when, p.facts);
  };
  auto glob_hits = [&](const engine::LeafInfo& leaf, std::size_t f) {
    return f < 64 && ((leaf.filter_bits >> f) & 1u) != 0;
  };
  const bool has_include = std::any_of(filters.begin(), filters.end(), [](const auto& f) { return f.include; });
  auto included = [&](const engine::LeafInfo& leaf, std::optional<std::size_t>* decided_by) {
    bool inc = !has_include;
    for (std::size_t f = 0; f < filters.size(); ++f)
      if (glob_hits(leaf, f) && filter_active(f)) {
        inc = filters[f].include;
        if (decided_by != nullptr) *decided_by = f;
      }
    return inc;
  };
  auto options_ok = [&](const engine::LeafInfo& leaf) { return m.rules().possible(p.coherence, leaf.vertex); };
  auto candidate = [&](const engine::LeafInfo& leaf) {
    return !leaf.restates_anchor && t.applicable(leaf.vertex, p.facts) && included(leaf, nullptr) && options_ok(leaf);
  };

  // Rank among the candidates by similarity, and the tier thirds the engine splits them into.
  std::size_t n = 0, above = 0, ties = 0;
  const float mine = scores[L.vertex];
  for (const auto& leaf : leaves) {
    if (!candidate(leaf)) continue;
    ++n;
    if (scores[leaf.vertex] > mine) ++above;
    else if (scores[leaf.vertex] == mine && &leaf != &L) ++ties;
  }
  const bool is_candidate = candidate(L);
  const std::size_t b1 = n / 3 + (n % 3 > 0 ? 1 : 0), b2 = b1 + n / 3 + (n % 3 > 1 ? 1 : 0);
  const char* rank_tier = above < b1 ? "near" : above < b2 ? "mid" : "far";

  if (slot_of_leaf != nullptr)
    o += "  chosen: yes, tier " + std::string(engine::to_string(slot_of_leaf->tier)) + "\n";
  else
    o += "  chosen: no\n";
  o += "  similarity to the core: " + fmt3(static_cast<double>(mine));
  if (is_candidate) {
    o += ", rank " + std::to_string(above + 1) + " of " + std::to_string(n) + " candidates";
    if (ties > 0) o += " (tied with " + std::to_string(ties) + ")";
    o += "; ranks 1.." + std::to_string(b1) + " are near, .." + std::to_string(b2) + " mid, the rest far -> " +
         rank_tier;
  }
  o += "\n";

  // Recipe filters.
  std::optional<std::size_t> decided;
  const bool inc = included(L, &decided);
  if (filters.empty()) {
    o += "  recipe filters: none (include *): passed\n";
  } else {
    o += "  recipe filters:\n";
    for (std::size_t f = 0; f < filters.size(); ++f) {
      const auto& flt = filters[f];
      o += "    " + std::string(flt.include ? "include " : "exclude ") + "\"" + flt.glob + "\"";
      if (flt.when) o += " when " + cond::to_string(*flt.when);
      o += ": ";
      if (!glob_hits(L, f)) o += "glob does not match";
      else if (!filter_active(f)) o += "glob matches, condition false for this persona";
      else o += std::string("applies -> ") + (flt.include ? "included" : "excluded");
      o += "\n";
    }
    if (decided)
      o += "    decided by filter " + std::to_string(*decided + 1) + ": " + (inc ? "passed" : "failed") + "\n";
    else
      o += std::string("    no filter applies: ") +
           (inc ? "passed (there is no include filter)" : "failed (include filters exist and none matches)") + "\n";
  }

  // Taxonomy applicability conditions (the node's and its ancestors').
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
        facts += var + " = " + (it == p.facts.end() ? std::string("(unknown: satisfied)") : value_text(it->second));
      }
      o += "    " + cond::to_string(*c) + ": " + (cond::evaluate(*c, p.facts) ? "passed" : "failed") + "  (" + facts +
           ")\n";
    }
  }
  if (L.restates_anchor) o += "  restates an anchor: never selected\n";
  if (!options_ok(L))
    o += "  every value option contradicts the persona's facts (" + m.rules().statement(L.vertex, 0) + ")\n";

  // Verdict.
  if (slot_of_leaf != nullptr) {
    o += "  verdict: chosen in the " + std::string(engine::to_string(slot_of_leaf->tier)) + " tier\n";
  } else if (!is_candidate) {
    o += "  verdict: not a candidate for this persona\n";
  } else {
    std::string dup;
    for (const auto& s : p.attributes) {
      const engine::LeafInfo& other = m.leaf(s.leaf);
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
  return a;
}

}  // namespace persona::repl
