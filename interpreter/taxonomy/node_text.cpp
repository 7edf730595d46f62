// The text a node is embedded as (its path, description and value options).
#include "taxonomy.hpp"

namespace persona::tax {

std::string node_text(const Taxonomy& t, Vertex v) {
  if (v >= t.size()) return {};
  const Node& n = t[v];
  std::string s;
  for (char c : n.path) {
    if (c == '/')
      s += " / ";
    else
      s += c;
  }
  if (!n.description.empty()) s += ": " + n.description;
  if (!n.values.empty()) {
    s += " (";
    for (std::size_t i = 0; i < n.values.size(); ++i) {
      if (i > 0) s += ", ";
      s += n.values[i].label;
    }
    s += ")";
  }
  return s;
}

}  // namespace persona::tax
