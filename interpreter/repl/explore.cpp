// :tax and :why: read-only views of the taxonomy and of one persona's attribute selection.
#include "repl/explore.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <span>

#include "backend/backend.hpp"
#include "base/text.hpp"

namespace persona::repl {

namespace {

std::string fmt3(double x) { return fmt::format("{:.3f}", x); }

}  // namespace

Answer not_found(const tax::Taxonomy& t, const std::string& path) {
  Answer a;
  a.error = "no taxonomy node '" + path + "'";
  // Nodes named like the last segment first ("Sleep/Chronotype" -> ".../Sleep Timing/Chronotype").
  std::string_view last = path;
  while (!last.empty() && last.back() == '/') last.remove_suffix(1);
  if (auto slash = last.rfind('/'); slash != std::string_view::npos) last.remove_prefix(slash + 1);
  const std::string needle = text::lower(last);
  std::vector<std::string> named;
  if (!needle.empty())
    for (tax::Vertex v : t.preorder())
      if (text::lower(t[v].name) == needle) named.push_back(t[v].path);
  if (!named.empty() && named.size() <= 3) {
    for (const auto& n : named) a.notes.push_back("did you mean '" + n + "'?");
    return a;
  }
  std::vector<std::string> paths;
  paths.reserve(t.size());
  for (tax::Vertex v : t.preorder()) paths.push_back(t[v].path);
  if (auto best = closest_match(path, paths); !best.empty())
    a.notes.push_back("did you mean '" + best + "'?");
  else
    a.notes.push_back("':tax ls' lists the top-level categories; ':tax find TEXT' searches");
  return a;
}

namespace {

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
  const std::string lp = text::lower(path);
  for (tax::Vertex v : t.preorder())
    if (text::lower(t[v].path) == lp) return v;
  // A name without its path, when one node has it ("Chronotype").
  if (path.find('/') != std::string_view::npos) return std::nullopt;
  std::optional<tax::Vertex> named;
  for (tax::Vertex v : t.preorder())
    if (text::lower(t[v].name) == lp) {
      if (named) return std::nullopt;
      named = v;
    }
  return named;
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
    const std::string needle = text::lower(text);
    for (tax::Vertex v : t.preorder())
      if (text::lower(t[v].path).find(needle) != std::string::npos) hits.push_back(v);
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

Answer why(const engine::Program& prog, std::uint64_t seed, const std::string& path, std::uint64_t index) {
  const tax::Taxonomy& t = prog.model().taxonomy();
  auto v = resolve_path(t, path);
  if (!v) return not_found(t, path);
  // The persona up to the selection step, offline: exactly what :sample builds before selecting.
  const backend::Offline offline;
  engine::Scratch scratch;
  engine::Persona p;
  prog.begin(seed, index, p);
  for (std::size_t pc = 0; pc < prog.size() && prog.step(pc).kind() != engine::Step::Kind::select; ++pc) {
    const engine::Step& st = prog.step(pc);
    auto ask = st.run(p, scratch);
    while (ask) {
      auto ans = offline.answer(prog, p, *ask);
      ask = st.apply(p, scratch, *ask, ans);
    }
  }
  Answer a;
  a.text = engine::explain_selection(prog, p, scratch, t[*v].path).text;
  return a;
}

}  // namespace persona::repl
