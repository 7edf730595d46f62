// Comparing two taxonomies node by node (`persona taxonomy diff A B`): added, removed, moved and
// changed nodes, as sorted text lines or JSON.
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "taxonomy.hpp"

namespace persona::tax {

namespace {

// The strings of `from` that `other` lacks (each occurrence counted), in `from`'s order.
std::vector<std::string> missing_from(const std::vector<std::string>& from, const std::vector<std::string>& other) {
  std::map<std::string, std::size_t> left;
  for (const auto& s : other) ++left[s];
  std::vector<std::string> out;
  for (const auto& s : from) {
    auto it = left.find(s);
    if (it != left.end() && it->second > 0)
      --it->second;
    else
      out.push_back(s);
  }
  return out;
}

std::vector<std::string> condition_texts(const Node& n) {
  std::vector<std::string> out;
  for (const auto& c : n.conditions) out.push_back(c.text);
  return out;
}

std::vector<std::string> weighting_texts(const Node& n) {
  std::vector<std::string> out;
  for (const auto& w : n.weightings) out.push_back(w.text);
  return out;
}

void compare_values(const Node& a, const Node& b, TaxonomyDiff::Change& c) {
  std::vector<std::string> la, lb;
  for (const auto& o : a.values) la.push_back(o.label);
  for (const auto& o : b.values) lb.push_back(o.label);
  c.values_removed = missing_from(la, lb);
  c.values_added = missing_from(lb, la);
  for (const auto& oa : a.values) {
    auto ob = std::find_if(b.values.begin(), b.values.end(), [&](const ValueOption& o) { return o.label == oa.label; });
    if (ob != b.values.end() && ob->weight != oa.weight) c.weights.push_back({oa.label, oa.weight, ob->weight});
  }
  c.values_reordered = c.values_added.empty() && c.values_removed.empty() && c.weights.empty() && la != lb;
}

// The change record of a matched pair; nullopt when nothing differs.
std::optional<TaxonomyDiff::Change> compare(const Taxonomy& ta, Vertex va, const Taxonomy& tb, Vertex vb) {
  const Node& a = ta[va];
  const Node& b = tb[vb];
  TaxonomyDiff::Change c;
  c.path = b.path;
  if (a.path != b.path) c.from_path = a.path;
  if (a.description != b.description) {
    c.description = true;
    c.description_a = a.description;
    c.description_b = b.description;
  }
  compare_values(a, b, c);
  const auto ca = condition_texts(a), cb = condition_texts(b);
  c.conditions_removed = missing_from(ca, cb);
  c.conditions_added = missing_from(cb, ca);
  const auto wa = weighting_texts(a), wb = weighting_texts(b);
  c.weightings_removed = missing_from(wa, wb);
  c.weightings_added = missing_from(wb, wa);
  c.leaf_a = ta.is_leaf(va);
  c.leaf_b = tb.is_leaf(vb);
  c.leaf_changed = c.leaf_a != c.leaf_b;
  if (c.what().empty()) return std::nullopt;
  return c;
}

std::string quote_short(std::string_view s, std::size_t max = 60) {
  std::string out = "\"";
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    out.append(s.substr(0, cut));
    out += "...";
  } else {
    out.append(s);
  }
  return out + "\"";
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::string plus_minus(const std::vector<std::string>& added, const std::vector<std::string>& removed) {
  std::string s;
  for (const auto& x : added) s += " +" + quote_short(x);
  for (const auto& x : removed) s += " -" + quote_short(x);
  return s;
}

}  // namespace

std::vector<std::string> TaxonomyDiff::Change::what() const {
  std::vector<std::string> out;
  if (leaf_changed) out.emplace_back(leaf_a ? "leaf -> inner" : "inner -> leaf");
  if (description) out.push_back("description " + quote_short(description_a) + " -> " + quote_short(description_b));
  if (!values_added.empty() || !values_removed.empty())
    out.push_back("values" + plus_minus(values_added, values_removed));
  for (const auto& w : weights)
    out.push_back("weight " + quote_short(w.label) + " " + number(w.a) + " -> " + number(w.b));
  if (values_reordered) out.emplace_back("values reordered");
  if (!conditions_added.empty() || !conditions_removed.empty())
    out.push_back("conditions" + plus_minus(conditions_added, conditions_removed));
  if (!weightings_added.empty() || !weightings_removed.empty())
    out.push_back("weightings" + plus_minus(weightings_added, weightings_removed));
  return out;
}

TaxonomyDiff diff(const Taxonomy& a, const Taxonomy& b) {
  TaxonomyDiff d;
  d.a_nodes = a.size();
  d.b_nodes = b.size();
  constexpr Vertex none = static_cast<Vertex>(-1);
  std::vector<Vertex> a_to_b(a.size(), none), b_to_a(b.size(), none);

  using Key = std::pair<std::string, std::string>;  // name, description
  std::map<Key, std::vector<Vertex>> a_free, b_free;
  auto unlist = [](std::map<Key, std::vector<Vertex>>& m, const Node& n, Vertex v) {
    auto it = m.find({n.name, n.description});
    if (it == m.end()) return;
    std::erase(it->second, v);
    if (it->second.empty()) m.erase(it);
  };
  auto pair = [&](Vertex va, Vertex vb) {
    a_to_b[va] = vb;
    b_to_a[vb] = va;
    unlist(a_free, a[va], va);
    unlist(b_free, b[vb], vb);
  };

  // 1. The same path on both sides.
  for (Vertex v : a.preorder())
    if (auto w = b.find(a[v].path)) {
      a_to_b[v] = *w;
      b_to_a[*w] = v;
    }
  for (Vertex v : a.preorder())
    if (a_to_b[v] == none) a_free[{a[v].name, a[v].description}].push_back(v);
  for (Vertex w : b.preorder())
    if (b_to_a[w] == none) b_free[{b[w].name, b[w].description}].push_back(w);

  // 2. Moves, top-down: an unmatched node whose name and description pick out exactly one unmatched
  // node on each side; its descendants follow it by their path below it.
  for (Vertex v : a.preorder()) {
    if (a_to_b[v] != none) continue;
    const Key key{a[v].name, a[v].description};
    auto ia = a_free.find(key);
    auto ib = b_free.find(key);
    if (ia == a_free.end() || ib == b_free.end() || ia->second.size() != 1 || ib->second.size() != 1) continue;
    const Vertex w = ib->second.front();
    pair(v, w);
    d.moved.push_back({a[v].path, b[w].path});
    const std::string& from = a[v].path;
    const std::string& to = b[w].path;
    for (Vertex x : a.subtree(v)) {
      if (x == v || a_to_b[x] != none) continue;
      const auto y = b.find(to + a[x].path.substr(from.size()));
      if (y && b_to_a[*y] == none) pair(x, *y);
    }
  }

  // 3. What is left is added or removed; matched pairs may have changed.
  for (Vertex v : a.preorder()) {
    if (a_to_b[v] == none)
      d.removed.push_back(a[v].path);
    else if (auto c = compare(a, v, b, a_to_b[v]))
      d.changed.push_back(std::move(*c));
  }
  for (Vertex w : b.preorder())
    if (b_to_a[w] == none) d.added.push_back(b[w].path);

  std::sort(d.added.begin(), d.added.end());
  std::sort(d.removed.begin(), d.removed.end());
  std::sort(d.changed.begin(), d.changed.end(), [](const auto& x, const auto& y) { return x.path < y.path; });
  std::sort(d.moved.begin(), d.moved.end(), [](const auto& x, const auto& y) { return x.from < y.from; });
  return d;
}

std::string TaxonomyDiff::to_text() const {
  std::vector<std::pair<std::string, std::string>> lines;  // sort key (a path), line
  for (const auto& p : added) lines.emplace_back(p, "+ " + p);
  for (const auto& p : removed) lines.emplace_back(p, "- " + p);
  for (const auto& m : moved) lines.emplace_back(m.from, "> " + m.from + " -> " + m.to);
  for (const auto& c : changed) {
    std::string line = "~ " + c.path + ":";
    const auto what = c.what();
    for (std::size_t i = 0; i < what.size(); ++i) line += (i == 0 ? " " : "; ") + what[i];
    lines.emplace_back(c.path, std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& [key, line] : lines) out += line + "\n";
  if (equal()) {
    out += "no differences (" + std::to_string(a_nodes) + " nodes)\n";
  } else {
    out += std::to_string(added.size()) + " added, " + std::to_string(removed.size()) + " removed, " +
           std::to_string(moved.size()) + " moved, " + std::to_string(changed.size()) + " changed (" +
           std::to_string(a_nodes) + " nodes in A, " + std::to_string(b_nodes) + " in B)\n";
  }
  return out;
}

std::string TaxonomyDiff::to_json(int indent) const {
  using json = nlohmann::ordered_json;
  json j;
  j["a"] = a_name;
  j["b"] = b_name;
  j["equal"] = equal();
  j["counts"] = {{"added", added.size()},     {"removed", removed.size()}, {"moved", moved.size()},
                 {"changed", changed.size()}, {"a_nodes", a_nodes},        {"b_nodes", b_nodes}};
  j["added"] = added;
  j["removed"] = removed;
  json mv = json::array();
  for (const auto& m : moved) mv.push_back({{"from", m.from}, {"to", m.to}});
  j["moved"] = mv;
  json ch = json::array();
  for (const auto& c : changed) {
    json x;
    x["path"] = c.path;
    if (!c.from_path.empty()) x["from"] = c.from_path;
    if (c.leaf_changed) x["leaf"] = {{"a", c.leaf_a}, {"b", c.leaf_b}};
    if (c.description) x["description"] = {{"a", c.description_a}, {"b", c.description_b}};
    if (!c.values_added.empty() || !c.values_removed.empty() || !c.weights.empty() || c.values_reordered) {
      json w = json::array();
      for (const auto& wc : c.weights) w.push_back({{"label", wc.label}, {"a", wc.a}, {"b", wc.b}});
      x["values"] = {
          {"added", c.values_added}, {"removed", c.values_removed}, {"weights", w}, {"reordered", c.values_reordered}};
    }
    if (!c.conditions_added.empty() || !c.conditions_removed.empty())
      x["conditions"] = {{"added", c.conditions_added}, {"removed", c.conditions_removed}};
    if (!c.weightings_added.empty() || !c.weightings_removed.empty())
      x["weightings"] = {{"added", c.weightings_added}, {"removed", c.weightings_removed}};
    ch.push_back(std::move(x));
  }
  j["changed"] = ch;
  return j.dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace persona::tax
