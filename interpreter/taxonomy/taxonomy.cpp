// The taxonomy model: validation of the raw graph, indexes, hash, stats, glob, long tail, walk.
#include "taxonomy.hpp"

#include <algorithm>
#include <boost/graph/depth_first_search.hpp>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "base/rng.hpp"
#include "detail.hpp"

namespace persona::tax {

Taxonomy::Taxonomy() : g_(std::make_unique<Graph>()) {}
Taxonomy::~Taxonomy() = default;
Taxonomy::Taxonomy(Taxonomy&&) noexcept = default;
Taxonomy& Taxonomy::operator=(Taxonomy&&) noexcept = default;

Taxonomy::Taxonomy(const Taxonomy& o) : g_(std::make_unique<Graph>(*o.g_)), rules_(o.rules_), twins_(o.twins_) {
  build(BuildOptions{o.has_vectors()});
}

Taxonomy& Taxonomy::operator=(const Taxonomy& o) {
  if (this != &o) {
    Taxonomy copy(o);
    *this = std::move(copy);
  }
  return *this;
}

namespace {

// Records back edges (cycles) during a boost DFS.
struct CycleVisitor : boost::default_dfs_visitor {
  std::vector<std::pair<Vertex, Vertex>>* back = nullptr;
  void back_edge(Graph::edge_descriptor e, const Graph& g) const {
    back->emplace_back(boost::source(e, g), boost::target(e, g));
  }
};

}  // namespace

std::optional<Taxonomy> Taxonomy::from_graph(Graph g, DiagnosticSink& sink, const BuildOptions& opts) {
  try {
    std::size_t errors = 0;
    const std::size_t n = boost::num_vertices(g);
    for (Vertex v = 0; v < n; ++v) {
      if (boost::in_degree(v, g) > 1) {
        std::vector<std::string> notes;
        for (auto [it, end] = boost::in_edges(v, g); it != end; ++it) {
          notes.push_back("parent: " + g[boost::source(*it, g)].name);
        }
        sink.error(g[v].where, "multiple-parents", "node '" + g[v].name + "' has more than one parent",
                   std::move(notes));
        ++errors;
      }
    }
    std::vector<std::pair<Vertex, Vertex>> back;
    CycleVisitor vis;
    vis.back = &back;
    std::vector<boost::default_color_type> colors(n);
    boost::depth_first_search(g, boost::visitor(vis).color_map(boost::make_iterator_property_map(
                                     colors.begin(), boost::get(boost::vertex_index, g))));
    for (auto [from, to] : back) {
      // The cycle: to -> ... -> from -> to, following first parents back from `from`.
      std::vector<std::string> chain{g[to].name};
      std::vector<std::string> tail;
      Vertex cur = from;
      for (std::size_t guard = 0; cur != to && guard < n; ++guard) {
        tail.push_back(g[cur].name);
        auto [it, end] = boost::in_edges(cur, g);
        if (it == end) break;
        cur = boost::source(*it, g);
      }
      std::reverse(tail.begin(), tail.end());
      chain.insert(chain.end(), tail.begin(), tail.end());
      std::string path;
      for (const auto& c : chain) path += c + " -> ";
      path += g[to].name;
      sink.error(g[to].where, "cycle", "the taxonomy has a cycle through '" + g[to].name + "'", {"cycle: " + path});
      ++errors;
    }
    if (errors > 0) return std::nullopt;
    Taxonomy t;
    *t.g_ = std::move(g);
    t.build(opts);
    return t;
  } catch (const std::exception& e) {
    sink.error({}, "internal", std::string("taxonomy build failed: ") + e.what());
    return std::nullopt;
  }
}

void Taxonomy::build(const BuildOptions& opts) {
  Graph& g = *g_;
  const std::size_t n = boost::num_vertices(g);
  roots_.clear();
  children_.assign(n, {});
  parent_.assign(n, 0);
  for (Vertex v = 0; v < n; ++v) {
    parent_[v] = v;
    auto [it, end] = boost::in_edges(v, g);
    if (it == end)
      roots_.push_back(v);
    else
      parent_[v] = boost::source(*it, g);
    for (auto [o, oe] = boost::out_edges(v, g); o != oe; ++o) children_[v].push_back(boost::target(*o, g));
  }
  // Preorder, depth, path.
  preorder_.clear();
  preorder_.reserve(n);
  preorder_pos_.assign(n, 0);
  subtree_end_.assign(n, 0);
  std::vector<std::pair<Vertex, bool>> stack;
  for (auto it = roots_.rbegin(); it != roots_.rend(); ++it) stack.emplace_back(*it, false);
  while (!stack.empty()) {
    auto [v, done] = stack.back();
    stack.pop_back();
    if (done) {
      subtree_end_[v] = preorder_.size();
      continue;
    }
    preorder_pos_[v] = preorder_.size();
    preorder_.push_back(v);
    Node& node = g[v];
    if (parent_[v] == v) {
      node.depth = 1;
      node.path = node.name;
    } else {
      node.depth = g[parent_[v]].depth + 1;
      node.path = g[parent_[v]].path + "/" + node.name;
    }
    stack.emplace_back(v, true);
    for (auto c = children_[v].rbegin(); c != children_[v].rend(); ++c) stack.emplace_back(*c, false);
  }
  leaves_.clear();
  for (Vertex v : preorder_)
    if (children_[v].empty()) leaves_.push_back(v);
  leaf_count_.assign(n, 0);
  for (auto it = preorder_.rbegin(); it != preorder_.rend(); ++it) {
    const Vertex v = *it;
    if (children_[v].empty()) leaf_count_[v] = 1;
    if (parent_[v] != v) leaf_count_[parent_[v]] += leaf_count_[v];
  }
  inherited_.assign(n, {});
  for (Vertex v : preorder_) {
    if (parent_[v] != v) inherited_[v] = inherited_[parent_[v]];
    for (const auto& c : g[v].conditions) inherited_[v].push_back(&c.condition);
  }
  by_path_.clear();
  by_path_.reserve(n);
  segments_.assign(n, {});
  for (Vertex v : preorder_) {
    const std::string& p = g[v].path;
    by_path_.emplace(std::string_view(p), v);
    std::size_t start = 0;
    for (std::size_t i = 0; i <= p.size(); ++i) {
      if (i == p.size() || p[i] == '/') {
        segments_[v].push_back(std::string_view(p).substr(start, i - start));
        start = i + 1;
      }
    }
  }
  // Long tail: 0.5 * relative depth + 0.5 * rarity of the branch (few leaves under the parent).
  long_tail_.assign(n, 0.0);
  if (n > 0) {
    std::size_t max_depth = 1;
    for (Vertex v = 0; v < n; ++v) max_depth = std::max<std::size_t>(max_depth, static_cast<std::size_t>(g[v].depth));
    const double total = static_cast<double>(std::max<std::size_t>(leaves_.size(), 2));
    double lo = 1e9, hi = -1e9;
    for (Vertex v = 0; v < n; ++v) {
      const Vertex branch = parent_[v] == v ? v : parent_[v];
      const double rarity =
          1.0 - std::log(static_cast<double>(std::max<std::size_t>(leaf_count_[branch], 1))) / std::log(total);
      const double raw = 0.5 * static_cast<double>(g[v].depth) / static_cast<double>(max_depth) + 0.5 * rarity;
      long_tail_[v] = raw;
      lo = std::min(lo, raw);
      hi = std::max(hi, raw);
    }
    for (double& x : long_tail_) x = hi > lo ? (x - lo) / (hi - lo) : 0.5;
  }
  // Content hash.
  std::uint64_t h = stable_hash("persona-taxonomy-v1");
  auto mix = [&h](std::string_view s) {
    h = stable_hash(s, h);
    h = stable_hash(std::string_view("\x1f", 1), h);
  };
  for (Vertex v : preorder_) {
    const Node& node = g[v];
    mix(std::to_string(node.depth));
    mix(node.name);
    mix(node.description);
    for (const auto& o : node.values) {
      mix(o.label);
      mix(detail::format_weight(o.weight));
    }
    for (const auto& c : node.conditions) mix(cond::to_string(c.condition));
    for (const auto& w : node.weightings) mix(w.text);
    mix("\x1e");
  }
  static const char* hex = "0123456789abcdef";
  hash_.assign(16, '0');
  for (int i = 15; i >= 0; --i) {
    hash_[static_cast<std::size_t>(i)] = hex[h & 0xF];
    h >>= 4;
  }
  tfidf_.reset();
  if (opts.vectors) tfidf_ = std::make_unique<detail::TfIdfModel>(*this);
  assign_meanings();
}

std::optional<Vertex> Taxonomy::parent(Vertex v) const {
  if (v >= parent_.size() || parent_[v] == v) return std::nullopt;
  return parent_[v];
}

std::optional<Vertex> Taxonomy::find(std::string_view path) const {
  auto it = by_path_.find(path);
  if (it == by_path_.end()) return std::nullopt;
  return it->second;
}

std::vector<Vertex> Taxonomy::subtree(Vertex v) const {
  if (v >= preorder_pos_.size()) return {};
  return {preorder_.begin() + static_cast<std::ptrdiff_t>(preorder_pos_[v]),
          preorder_.begin() + static_cast<std::ptrdiff_t>(subtree_end_[v])};
}

bool Taxonomy::applicable(Vertex v, const cond::Facts& facts) const {
  if (v >= inherited_.size()) return false;
  for (const cond::Condition* c : inherited_[v])
    if (!cond::evaluate(*c, facts)) return false;
  return true;
}

Stats Taxonomy::stats() const {
  Stats s;
  s.nodes = size();
  s.leaves = leaves_.size();
  s.top_level = roots_.size();
  for (Vertex v = 0; v < size(); ++v)
    s.max_depth = std::max<std::size_t>(s.max_depth, static_cast<std::size_t>(node(v).depth));
  for (Vertex v : leaves_)
    if (!node(v).values.empty()) ++s.leaves_with_values;
  return s;
}

std::size_t Taxonomy::memory_bytes() const {
  std::size_t b = sizeof(*this);
  for (Vertex v = 0; v < size(); ++v) {
    const Node& nd = node(v);
    b += sizeof(Node) + 64 + nd.name.capacity() + nd.path.capacity() + nd.description.capacity();
    for (const auto& o : nd.values) b += sizeof(o) + o.label.capacity();
    for (const auto& c : nd.conditions) b += sizeof(c) + c.text.capacity() + 128;
    b += children_[v].capacity() * sizeof(Vertex) + inherited_[v].capacity() * sizeof(void*) +
         segments_[v].capacity() * sizeof(std::string_view);
  }
  b += by_path_.size() * (sizeof(std::string_view) + sizeof(Vertex) + 16);
  b += (parent_.size() + leaves_.size() + preorder_.size()) * sizeof(Vertex) +
       (leaf_count_.size() + subtree_end_.size() + preorder_pos_.size()) * sizeof(std::size_t) +
       long_tail_.size() * sizeof(double);
  if (tfidf_) b += tfidf_->memory_bytes();
  return b;
}

// ---- glob ----

namespace {

bool segment_match(std::string_view pat, std::string_view s) {
  std::size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && (pat[p] == '?' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool path_match(const std::vector<std::string_view>& pat, std::size_t pi, const std::vector<std::string_view>& segs,
                std::size_t si) {
  while (true) {
    if (pi == pat.size()) return si == segs.size();
    if (pat[pi] == "**") {
      // Collapse consecutive "**".
      while (pi + 1 < pat.size() && pat[pi + 1] == "**") ++pi;
      for (std::size_t k = si; k <= segs.size(); ++k)
        if (path_match(pat, pi + 1, segs, k)) return true;
      return false;
    }
    if (si == segs.size() || !segment_match(pat[pi], segs[si])) return false;
    ++pi;
    ++si;
  }
}

}  // namespace

std::vector<Vertex> Taxonomy::glob(std::string_view pattern) const {
  std::vector<Vertex> out;
  const auto pat = detail::split(pattern, "/");
  if (pattern.empty()) return out;
  bool has_double = false;
  for (auto p : pat) has_double |= (p == "**");
  for (Vertex v : preorder_) {
    const auto& segs = segments_[v];
    if (!has_double && segs.size() != pat.size()) continue;
    if (path_match(pat, 0, segs, 0)) out.push_back(v);
  }
  return out;
}

// ---- random breadth-first walk ----

std::vector<Vertex> Taxonomy::random_bfs_leaves(Rng& rng, std::span<const Vertex> start,
                                                const cond::Facts* facts) const {
  std::vector<Vertex> out;
  std::vector<Vertex> level;
  const std::span<const Vertex> first = start.empty() ? roots() : start;
  for (Vertex v : first) {
    if (v >= size()) continue;
    if (facts != nullptr && !applicable(v, *facts)) continue;
    level.push_back(v);
  }
  auto own_ok = [&](Vertex v) {
    if (facts == nullptr) return true;
    for (const auto& c : node(v).conditions)
      if (!cond::evaluate(c.condition, *facts)) return false;
    return true;
  };
  std::vector<std::pair<double, Vertex>> keyed;
  std::vector<Vertex> next;
  while (!level.empty()) {
    keyed.clear();
    for (Vertex v : level) {
      // Efraimidis-Spirakis: key = log(u) / w, larger first; heavier (long-tail) nodes come earlier.
      double u = rng.uniform();
      if (u <= 0.0) u = 1e-300;
      keyed.emplace_back(std::log(u) / (0.25 + long_tail_[v]), v);
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    next.clear();
    for (const auto& kv : keyed) {
      const Vertex v = kv.second;
      if (children_[v].empty()) {
        out.push_back(v);
        continue;
      }
      for (Vertex c : children_[v])
        if (own_ok(c)) next.push_back(c);
    }
    level.swap(next);
  }
  return out;
}

// ---- names ----

std::string fold_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (unsigned char c : name) {
    if (c >= 0x80)
      out.push_back(static_cast<char>(c));
    else if (std::isalnum(c))
      out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

std::string name_problem(std::string_view name) {
  if (detail::trim(name).empty()) return "the name is empty";
  if (detail::trim(name).size() != name.size()) return "the name has leading or trailing spaces";
  if (name.size() > 80) return "the name is longer than 80 characters";
  if (name.front() == '-') return "a name cannot start with '-'";
  for (char c : name) {
    if (std::string_view("/|#*?=@").find(c) != std::string_view::npos)
      return std::string("the name contains the forbidden character '") + c + "'";
    if (static_cast<unsigned char>(c) < 0x20) return "the name contains a control character";
  }
  return {};
}

std::size_t validate(const Taxonomy& t, DiagnosticSink& sink) {
  detail::CountingSink counting(sink);
  try {
    // Re-run the structural checks on a copy of the graph.
    Graph g = t.graph();
    if (!Taxonomy::from_graph(std::move(g), counting, BuildOptions{false}))
      return std::max<std::size_t>(counting.errors, 1);
    for (Vertex v = 0; v < t.size(); ++v) {
      if (auto p = name_problem(t[v].name); !p.empty())
        counting.error(t[v].where, "bad-name", p + ": '" + t[v].name + "'");
    }
    auto check_siblings = [&](std::span<const Vertex> kids) {
      std::map<std::string, Vertex> seen;
      for (Vertex c : kids) {
        auto [it, fresh] = seen.emplace(fold_name(t[c].name), c);
        if (!fresh)
          counting.warning(t[c].where, "duplicate-sibling",
                           "'" + t[c].name + "' duplicates its sibling '" + t[it->second].name + "'");
      }
    };
    check_siblings(t.roots());
    for (Vertex v = 0; v < t.size(); ++v) check_siblings(t.children(v));
  } catch (const std::exception& e) {
    counting.error({}, "internal", e.what());
  }
  return counting.errors;
}

}  // namespace persona::tax
