// Export: reference JSON, `.tax`, Graphviz DOT.
// GCC 12 reports a false -Wmaybe-uninitialized inside boost::write_graphviz's edge iterator
// (boost::optional storage) after inlining; it is not in our code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/graph/graphviz.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "detail.hpp"

namespace persona::tax {

namespace {

void to_json_rec(const Taxonomy& t, Vertex v, nlohmann::ordered_json& parent) {
  auto& obj = parent[t[v].name];
  if (!obj.is_object()) obj = nlohmann::ordered_json::object();
  for (Vertex c : t.children(v)) to_json_rec(t, c, obj);
}

struct GraphAttributes {
  void operator()(std::ostream& os) const {
    os << "rankdir=LR;\n"
       << "node [shape=box, fontname=\"Helvetica\", fontsize=10];\n";
  }
};

}  // namespace

std::string to_json(const Taxonomy& t, int indent) {
  try {
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    for (Vertex r : t.roots()) to_json_rec(t, r, root);
    return root.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  } catch (const std::exception&) {
    return "{}\n";
  }
}

std::string to_tax(const Taxonomy& t) {
  std::string out;
  out.reserve(t.size() * 48);
  for (Vertex v : t.preorder()) {
    const Node& n = t[v];
    const std::string indent(static_cast<std::size_t>(n.depth - 1) * 2, ' ');
    out += indent;
    out += n.name;
    if (!n.description.empty()) {
      out += " | ";
      out += n.description;
    }
    out += '\n';
    if (!n.values.empty()) {
      out += indent + "  = ";
      for (std::size_t i = 0; i < n.values.size(); ++i) {
        if (i > 0) out += " | ";
        out += n.values[i].label;
        if (n.values[i].weighted || n.values[i].weight != 1.0) out += " @" + detail::format_weight(n.values[i].weight);
      }
      out += '\n';
    }
    for (const auto& w : n.weightings) out += indent + "  ~ " + w.text + "\n";
    for (const auto& c : n.conditions) out += indent + "  ? " + c.text + "\n";
    if (n.support > 0) out += indent + "  + support " + std::to_string(n.support) + "\n";
  }
  return out;
}

std::string to_dot(const Taxonomy& t, const DotOptions& opts) {
  try {
    using Small = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    Small sg;
    std::vector<std::string> labels;
    std::vector<std::size_t> map(t.size(), static_cast<std::size_t>(-1));
    std::vector<Vertex> starts;
    if (opts.root && *opts.root < t.size())
      starts.push_back(*opts.root);
    else
      starts.assign(t.roots().begin(), t.roots().end());
    for (Vertex s : starts) {
      const int base = t[s].depth;
      for (Vertex v : t.subtree(s)) {
        if (opts.max_depth > 0 && t[v].depth - base > opts.max_depth) continue;
        map[v] = boost::add_vertex(sg);
        std::string label = t[v].name;
        if (!t.is_leaf(v) && opts.max_depth > 0 && t[v].depth - base == opts.max_depth)
          label += " (+" + std::to_string(t.leaf_count(v)) + ")";
        labels.push_back(std::move(label));
        if (auto p = t.parent(v); p && map[*p] != static_cast<std::size_t>(-1)) boost::add_edge(map[*p], map[v], sg);
      }
    }
    std::ostringstream os;
    boost::write_graphviz(os, sg, boost::make_label_writer(labels.data()), boost::default_writer(), GraphAttributes());
    return os.str();
  } catch (const std::exception&) {
    return "digraph G {\n}\n";
  }
}

}  // namespace persona::tax
