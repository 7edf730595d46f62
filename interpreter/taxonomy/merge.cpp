// Merging attribute hierarchies (merge.hpp): name similarity from stdlib/taxonomy/naming.toml, the
// constrained clustering of siblings, and the mutable Forest both `taxonomy merge` and `taxonomy mine`
// canonicalise with.
#include "merge.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "detail.hpp"
#include "util/stdlib_path.hpp"

namespace persona::tax {

namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

struct Naming {
  std::unordered_set<std::string> stop, filler;
  std::unordered_map<std::string, std::string> spelling;
  std::vector<std::pair<std::string, std::string>> abbreviations;  // whole words -> expansion
};

// stdlib/taxonomy/naming.toml, read once. A missing or broken file leaves the lists empty: names
// are then compared on their plain word stems (the tests load the file and would fail).
const Naming& naming() {
  static const Naming n = [] {
    Naming out;
    try {
      const auto tbl = toml::parse_file((stdlib_dir() / "taxonomy" / "naming.toml").string());
      auto list = [&](const char* key, std::unordered_set<std::string>& into) {
        if (const auto* a = tbl[key].as_array())
          for (const auto& e : *a)
            if (const auto* s = e.as_string()) into.insert(s->get());
      };
      list("stop", out.stop);
      list("filler", out.filler);
      if (const auto* sp = tbl["spelling"].as_table())
        for (const auto& [k, v] : *sp)
          if (const auto* s = v.as_string()) out.spelling.emplace(std::string(k.str()), s->get());
      if (const auto* ab = tbl["abbreviations"].as_table())
        for (const auto& [k, v] : *ab)
          if (const auto* s = v.as_string()) out.abbreviations.emplace_back(std::string(k.str()), s->get());
    } catch (const toml::parse_error&) {
    }
    return out;
  }();
  return n;
}

// A light stemmer: plural and a few derivational endings, never below 3 letters.
std::string stem_once(std::string w) {
  auto strip = [&](std::string_view suffix, std::string_view repl = {}) {
    if (w.size() >= suffix.size() + 3 && w.ends_with(suffix)) {
      w = w.substr(0, w.size() - suffix.size()) + std::string(repl);
      return true;
    }
    return false;
  };
  if (!strip("ies", "y") && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is")) strip("s");
  strip("ship") || strip("ism") || strip("ist");
  strip("ary") || strip("ical") || strip("al") || strip("ic") || strip("ing") || strip("ed") || strip("er") ||
      strip("ence") || strip("ance") || strip("ness") || strip("ment") || strip("ation") || strip("ion") || strip("e");
  // "napp" (napping) -> "nap": a doubled final consonant left by -ing/-ed/-er.
  if (w.size() >= 4 && w[w.size() - 1] == w[w.size() - 2] &&
      std::string_view("aeiouls").find(w.back()) == std::string_view::npos)
    w.pop_back();
  return w;
}

std::string stem(std::string w) {
  // A second pass only after an adjective ending ("educational" -> "education" -> "educ"), so that
  // nouns of different roots do not meet ("community" and "communication").
  const bool adjective = w.ends_with("al") || w.ends_with("ary");
  std::string once = stem_once(w);
  return adjective && once != w ? stem_once(once) : once;
}

std::string spelled(const std::string& w) {
  const auto& sp = naming().spelling;
  if (auto it = sp.find(w); it != sp.end()) return it->second;
  // -ise/-ising/-isation -> -ize...
  for (const auto& [from, to] : {std::pair<std::string_view, std::string_view>{"isation", "ization"},
                                 {"ising", "izing"},
                                 {"ised", "ized"},
                                 {"ise", "ize"},
                                 {"our", "or"}})
    if (w.size() > from.size() + 3 && w.ends_with(from)) return w.substr(0, w.size() - from.size()) + std::string(to);
  return w;
}

// Lower-case words of letters and digits (UTF-8 bytes kept inside words); no stop list here.
std::vector<std::string> raw_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  char prev = 0;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    // camelCase keys of the reference taxonomy ("CuisinePreference") are two words.
    if (std::isupper(c) != 0 && std::islower(static_cast<unsigned char>(prev)) != 0 && !cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
    prev = ch;
    if (std::isalnum(c) != 0 || c >= 0x80) {
      cur += static_cast<char>(std::tolower(c));
    } else if (c == '\'') {
      continue;  // "mother's" -> "mothers"
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// The words of a name with its abbreviations expanded ("SES" -> socioeconomic status).
std::vector<std::string> expanded_words(std::string_view name) {
  std::vector<std::string> ws = raw_words(name);
  const auto& ab = naming().abbreviations;
  if (ab.empty()) return ws;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ws.size();) {
    bool hit = false;
    for (const auto& [from, to] : ab) {
      const auto fw = raw_words(from);
      if (fw.empty() || i + fw.size() > ws.size() ||
          !std::equal(fw.begin(), fw.end(), ws.begin() + static_cast<std::ptrdiff_t>(i)))
        continue;
      for (auto& w : raw_words(to)) out.push_back(std::move(w));
      i += fw.size();
      hit = true;
      break;
    }
    if (!hit) out.push_back(ws[i++]);
  }
  return out;
}

struct Word {
  std::string word, stem;
  bool filler = false;
};

std::vector<Word> items_of(std::string_view name) {
  const auto& n = naming();
  std::vector<Word> out;
  for (auto& w : expanded_words(name)) {
    if (n.stop.contains(w)) continue;
    std::string s = spelled(w);
    if (n.stop.contains(s)) continue;
    std::string st = stem(s);
    const bool filler = n.filler.contains(s) || std::any_of(n.filler.begin(), n.filler.end(),
                                                            [&](const std::string& f) { return stem(f) == st; });
    Word x{s, std::move(st), filler};
    if (std::none_of(out.begin(), out.end(), [&](const Word& o) { return o.stem == x.stem; }))
      out.push_back(std::move(x));
  }
  return out;
}

// Words of a and b paired one to one: equal stems, or the oracle's synonyms.
std::size_t matches(const std::vector<Word>& a, const std::vector<Word>& b, const WordOracle& same) {
  std::vector<char> used_a(a.size(), 0), used_b(b.size(), 0);
  std::size_t m = 0;
  for (int pass = 0; pass < 2; ++pass) {  // stems first, then the oracle for what is left
    if (pass == 1 && !same) break;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (used_a[i]) continue;
      for (std::size_t j = 0; j < b.size(); ++j) {
        if (used_b[j]) continue;
        if (pass == 0 ? a[i].stem == b[j].stem : same(a[i].word, b[j].word)) {
          used_a[i] = used_b[j] = 1;
          ++m;
          break;
        }
      }
    }
  }
  return m;
}

bool has_conjunction(std::string_view name) {
  for (const auto& w : raw_words(name))
    if (w == "and" || w == "or") return true;
  return name.find('&') != std::string_view::npos || name.find(',') != std::string_view::npos;
}

std::string sanitized(std::string name) {
  for (char& c : name)
    if (std::string_view("/|#*?=@").find(c) != std::string_view::npos) c = '-';
  while (!name.empty() && (name.front() == '-' || name.front() == ' ')) name.erase(name.begin());
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (name.size() > 80) {
    std::size_t cut = 80;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
    name.resize(cut);
    while (!name.empty() && name.back() == ' ') name.pop_back();
  }
  return name.empty() ? std::string("Unnamed") : name;
}

template <class M>
std::string most_frequent(const M& forms) {
  std::string best;
  std::uint64_t count = 0;
  for (const auto& [s, c] : forms)
    if (c > count || (c == count && (s.size() < best.size() || (s.size() == best.size() && s < best)))) {
      best = s;
      count = c;
    }
  return best;
}

void merge_sorted(std::vector<std::uint32_t>& into, const std::vector<std::uint32_t>& from) {
  std::vector<std::uint32_t> out;
  out.reserve(into.size() + from.size());
  std::set_union(into.begin(), into.end(), from.begin(), from.end(), std::back_inserter(out));
  into = std::move(out);
}

}  // namespace

std::vector<std::string> name_stems(std::string_view name) {
  std::vector<std::string> out;
  for (const auto& w : items_of(name)) out.push_back(w.stem);
  std::sort(out.begin(), out.end());
  return out;
}

double name_similarity(std::string_view a, std::string_view b, const WordOracle& same) {
  if (merge_key(a) == merge_key(b)) return 1.0;
  auto wa = items_of(a), wb = items_of(b);
  if (wa.empty() || wb.empty()) return 0.0;
  // Written together or apart ("Videogames", "Video Games"; "Well-being", "Wellbeing").
  auto joined = [](std::string_view name) {
    std::string s;
    for (const auto& w : raw_words(name)) s += spelled(w);
    return stem(s);
  };
  if (joined(a) == joined(b)) return 1.0;
  const std::size_t m = matches(wa, wb, same);
  if (m == wa.size() && m == wb.size()) return 1.0;
  std::vector<Word> fa, fb;
  std::copy_if(wa.begin(), wa.end(), std::back_inserter(fa), [](const Word& w) { return !w.filler; });
  std::copy_if(wb.begin(), wb.end(), std::back_inserter(fb), [](const Word& w) { return !w.filler; });
  const std::size_t mf = matches(fa, fb, same);
  if (!fa.empty() && !fb.empty() && mf == fa.size() && mf == fb.size()) {
    // The same topic: one with a generic head ("Home Decor Preferences") is the other ("Home Decor");
    // two different heads are two aspects of it ("Reading Habits", "Reading Preferences").
    std::vector<Word> ha, hb;
    std::copy_if(wa.begin(), wa.end(), std::back_inserter(ha), [](const Word& w) { return w.filler; });
    std::copy_if(wb.begin(), wb.end(), std::back_inserter(hb), [](const Word& w) { return w.filler; });
    const std::size_t mh = matches(ha, hb, same);
    return mh < ha.size() && mh < hb.size() ? 0.7 : 0.95;
  }
  // "Hobbies" inside "Hobbies and Interests": the broader name lists it as one of its parts.
  const bool a_in_b = m == wa.size(), b_in_a = m == wb.size();
  if ((a_in_b && has_conjunction(b)) || (b_in_a && has_conjunction(a))) return 0.9;
  const bool fa_in_fb = !fa.empty() && mf == fa.size(), fb_in_fa = !fb.empty() && mf == fb.size();
  if ((fa_in_fb && has_conjunction(b)) || (fb_in_fa && has_conjunction(a))) return 0.9;
  const double j = static_cast<double>(m) / static_cast<double>(wa.size() + wb.size() - m);
  const double jf =
      fa.empty() || fb.empty() ? 0.0 : static_cast<double>(mf) / static_cast<double>(fa.size() + fb.size() - mf);
  return std::max(j, jf * 0.95);
}

// ---- report ----

std::string MergeReport::to_text() const {
  std::ostringstream o;
  for (const auto& m : merges)
    o << "merged  " << (m.parent.empty() ? "" : m.parent + "/") << m.merged << "  ->  " << m.kept << "  (similarity "
      << static_cast<double>(static_cast<int>(m.score * 100 + 0.5)) / 100 << ")\n";
  for (const auto& m : moved) o << "moved   " << m << "\n";
  for (const auto& f : folded) o << "folded  " << f << "\n";
  o << merges.size() << " merges, " << moved.size() << " moves, " << folded.size() << " folded, " << added.size()
    << " new nodes; " << input_nodes << " nodes in, " << output_nodes << " out\n";
  return o.str();
}

nlohmann::ordered_json MergeReport::to_json() const {
  nlohmann::ordered_json j;
  j["input_nodes"] = input_nodes;
  j["output_nodes"] = output_nodes;
  auto ms = nlohmann::ordered_json::array();
  for (const auto& m : merges)
    ms.push_back({{"parent", m.parent}, {"kept", m.kept}, {"merged", m.merged}, {"score", m.score}});
  j["merges"] = ms;
  j["added"] = added;
  j["moved"] = moved;
  j["folded"] = folded;
  return j;
}

// ---- forest ----

std::size_t Forest::add(ForestNode n) {
  nodes_.push_back(std::move(n));
  parent_.push_back(kNone);
  return nodes_.size() - 1;
}

Forest Forest::from(const Taxonomy& t, bool fixed) {
  Forest f;
  std::vector<std::size_t> id(t.size(), kNone);
  for (Vertex v : t.preorder()) {
    ForestNode n;
    n.node = t[v];
    n.fixed = fixed;
    n.forms[t[v].name] = 1;
    n.support = t[v].support;
    id[v] = f.add(std::move(n));
    if (auto p = t.parent(v)) {
      f.nodes_[id[*p]].children.push_back(id[v]);
      f.parent_[id[v]] = id[*p];
    } else {
      f.roots_.push_back(id[v]);
    }
  }
  return f;
}

void Forest::add_path(const std::vector<std::string>& path, std::uint32_t source, const std::string& value,
                      const std::string& description) {
  std::size_t parent = kNone;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string name = sanitized(path[i]);
    const std::string key = merge_key(name);
    auto& siblings = parent == kNone ? roots_ : nodes_[parent].children;
    std::size_t found = kNone;
    for (std::size_t c : siblings)
      if (!nodes_[c].dead && merge_key(nodes_[c].node.name) == key) {
        found = c;
        break;
      }
    if (found == kNone) {
      ForestNode n;
      n.node.name = name;
      found = add(std::move(n));
      parent_[found] = parent;
      (parent == kNone ? roots_ : nodes_[parent].children).push_back(found);
    }
    ForestNode& n = nodes_[found];
    ++n.forms[name];
    if (i + 1 == path.size()) {
      if (!value.empty()) ++n.values[value];
      if (!description.empty()) ++n.descriptions[description];
      auto it = std::lower_bound(n.sources.begin(), n.sources.end(), source);
      if (it == n.sources.end() || *it != source) n.sources.insert(it, source);
    }
    parent = found;
  }
}

void Forest::graft(const Forest& other) {
  const std::size_t base = nodes_.size();
  for (std::size_t i = 0; i < other.nodes_.size(); ++i) {
    ForestNode n = other.nodes_[i];
    for (auto& c : n.children) c += base;
    nodes_.push_back(std::move(n));
    parent_.push_back(other.parent_[i] == kNone ? kNone : other.parent_[i] + base);
  }
  for (std::size_t r : other.roots_) roots_.push_back(r + base);
}

std::string Forest::name(std::size_t v) const {
  const ForestNode& n = nodes_[v];
  if (n.fixed || n.forms.empty()) return n.node.name;
  return sanitized(most_frequent(n.forms));
}

std::optional<std::size_t> Forest::parent(std::size_t v) const {
  return parent_[v] == kNone ? std::nullopt : std::optional<std::size_t>(parent_[v]);
}

std::string Forest::path(std::size_t v) const {
  std::vector<std::string> parts;
  for (std::size_t x = v; x != kNone; x = parent_[x]) parts.push_back(name(x));
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : "/") + *it;
  return out;
}

std::size_t Forest::live_size() const { return preorder().size(); }

std::vector<std::size_t> Forest::preorder() const {
  std::vector<std::size_t> out, stack(roots_.rbegin(), roots_.rend());
  while (!stack.empty()) {
    const std::size_t v = stack.back();
    stack.pop_back();
    if (nodes_[v].dead) continue;
    out.push_back(v);
    for (auto it = nodes_[v].children.rbegin(); it != nodes_[v].children.rend(); ++it) stack.push_back(*it);
  }
  return out;
}

std::vector<std::uint32_t> Forest::subtree_sources(std::size_t v) const {
  std::vector<std::uint32_t> out;
  std::vector<std::size_t> stack{v};
  while (!stack.empty()) {
    const std::size_t x = stack.back();
    stack.pop_back();
    if (nodes_[x].dead) continue;
    merge_sorted(out, nodes_[x].sources);
    for (std::size_t c : nodes_[x].children) stack.push_back(c);
  }
  return out;
}

// `from` joins `into`: names, descriptions, values, sources and children pooled; `from` dies.
void Forest::absorb(std::size_t into, std::size_t from) {
  ForestNode& a = nodes_[into];
  ForestNode& b = nodes_[from];
  for (const auto& [s, c] : b.forms) a.forms[s] += c;
  for (const auto& [s, c] : b.descriptions) a.descriptions[s] += c;
  for (const auto& [s, c] : b.values) a.values[s] += c;
  if (a.node.description.empty()) a.node.description = b.node.description;
  if (a.node.values.empty() && a.values.empty()) a.node.values = b.node.values;
  merge_sorted(a.sources, b.sources);
  a.support += b.support;
  for (std::size_t c : b.children) {
    a.children.push_back(c);
    parent_[c] = into;
  }
  b.children.clear();
  b.dead = true;
}

void Forest::merge_children(std::vector<std::size_t>& kids, const std::string& parent_path, const MergeOptions& o,
                            MergeReport& r, bool recurse) {
  std::erase_if(kids, [&](std::size_t v) { return nodes_[v].dead; });
  const std::size_t n = kids.size();
  if (n > 1) {
    struct Pair {
      double score;
      std::size_t i, j;
    };
    std::vector<Pair> pairs;
    std::vector<std::string> names(n);
    for (std::size_t i = 0; i < n; ++i) names[i] = name(kids[i]);
    // Every pair's score (two fixed nodes: -1, never together).
    std::vector<double> score(n * n, -1.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = i + 1; j < n; ++j) {
        if (nodes_[kids[i]].fixed && nodes_[kids[j]].fixed) continue;
        const double s =
            o.score ? o.score(parent_path, names[i], names[j]) : name_similarity(names[i], names[j], o.same_word);
        score[i * n + j] = score[j * n + i] = s;
        if (s >= o.threshold) pairs.push_back({s, i, j});
      }
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.score > b.score; });
    // Complete linkage: two clusters join only when every pair across them reaches the threshold,
    // so no chain of look-alikes ("Morality" ~ "Ethics" ~ "Ethics of Life, Body and Conduct") joins
    // names that are not alike themselves; two fixed nodes never share a cluster.
    std::vector<std::size_t> cluster(n);
    std::vector<std::vector<std::size_t>> groups(n);
    for (std::size_t i = 0; i < n; ++i) {
      cluster[i] = i;
      groups[i] = {i};
    }
    for (const auto& p : pairs) {
      std::size_t a = cluster[p.i], b = cluster[p.j];
      if (a == b) continue;
      double weakest = 1.0;
      for (std::size_t x : groups[a])
        for (std::size_t y : groups[b]) weakest = std::min(weakest, score[x * n + y]);
      if (weakest < o.threshold) continue;
      if (b < a) std::swap(a, b);
      for (std::size_t y : groups[b]) {
        cluster[y] = a;
        groups[a].push_back(y);
      }
      groups[b].clear();
    }
    auto find = [&](std::size_t x) { return cluster[x]; };
    // Each cluster's representative: its fixed member, else its first member in order.
    std::vector<std::vector<std::size_t>> members(n);
    for (std::size_t i = 0; i < n; ++i) members[find(i)].push_back(i);
    std::vector<std::size_t> out;
    for (std::size_t root = 0; root < n; ++root) {
      if (members[root].size() <= 1) {
        if (!members[root].empty()) out.push_back(kids[root]);
        continue;
      }
      std::size_t rep = members[root].front();
      for (std::size_t i : members[root])
        if (nodes_[kids[i]].fixed) rep = i;
      std::vector<std::pair<std::string, double>> merged;
      for (std::size_t i : members[root])
        if (i != rep) {
          merged.emplace_back(names[i], score[i * n + rep]);  // its similarity to the kept name
          absorb(kids[rep], kids[i]);
        }
      const std::string kept = name(kids[rep]);
      for (auto& [m, s] : merged)
        if (m != kept) r.merges.push_back({parent_path, kept, m, s});
      out.push_back(kids[rep]);
    }
    // Keep the order of first appearance.
    std::sort(out.begin(), out.end(), [&](std::size_t x, std::size_t y) {
      return std::find(kids.begin(), kids.end(), x) < std::find(kids.begin(), kids.end(), y);
    });
    kids = std::move(out);
  }
  if (!recurse) return;
  for (std::size_t v : kids) {
    const std::string p = parent_path.empty() ? name(v) : parent_path + "/" + name(v);
    merge_children(nodes_[v].children, p, o, r, true);
  }
}

std::vector<std::size_t> Forest::merge_roots(const MergeOptions& o, MergeReport& r) {
  merge_children(roots_, "", o, r, false);
  return roots_;
}

void Forest::merge_all(const MergeOptions& o, MergeReport& r) { merge_children(roots_, "", o, r, true); }

void Forest::map_root(std::size_t v, const std::string& name, bool fixed, MergeReport& r) {
  for (std::size_t other : roots_)
    if (other != v && !nodes_[other].dead && merge_key(this->name(other)) == merge_key(name)) {
      const std::string was = this->name(v);
      absorb(other, v);
      if (fixed) nodes_[other].fixed = true;
      if (was != this->name(other)) r.merges.push_back({"", this->name(other), was, 1.0});
      std::erase(roots_, v);
      return;
    }
  const std::string was = this->name(v);
  ForestNode& n = nodes_[v];
  if (fixed || merge_key(was) != merge_key(name)) {
    n.node.name = name;
    n.fixed = fixed || n.fixed;
    if (!fixed) {
      n.forms.clear();
      n.forms[name] = 1;
    }
    if (was != name) r.merges.push_back({"", name, was, 1.0});
  }
}

void Forest::move(std::size_t v, std::size_t new_parent, const MergeOptions& o, MergeReport& r) {
  const std::string from = path(v);
  const std::size_t old = parent_[v];
  if (old == new_parent) return;
  for (std::size_t x = new_parent; x != kNone; x = parent_[x])
    if (x == v) return;  // never under itself
  std::erase(old == kNone ? roots_ : nodes_[old].children, v);
  nodes_[new_parent].children.push_back(v);
  parent_[v] = new_parent;
  r.moved.push_back(from + " -> " + path(v));
  merge_children(nodes_[new_parent].children, path(new_parent), o, r, true);
}

void Forest::fold_echoes(MergeReport& r) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t v : preorder()) {
      const std::size_t p = parent_[v];
      if (p == kNone || nodes_[v].dead || nodes_[v].fixed) continue;
      if (merge_key(name(v)) != merge_key(name(p))) continue;
      r.folded.push_back(path(v));
      std::erase(nodes_[p].children, v);
      absorb(p, v);
      changed = true;
      break;
    }
  }
}

std::optional<Taxonomy> Forest::to_taxonomy(DiagnosticSink& sink, const BuildOptions& opts) const {
  Graph g;
  std::vector<std::size_t> order = preorder();
  std::unordered_map<std::size_t, Vertex> vid;
  for (std::size_t v : order) {
    const ForestNode& fn = nodes_[v];
    Node n = fn.node;
    n.name = name(v);
    if (n.description.empty() && !fn.descriptions.empty()) n.description = most_frequent(fn.descriptions);
    for (char& c : n.description)
      if (c == '|' || c == '\n' || c == '\r') c = ' ';
    const bool leaf =
        std::none_of(fn.children.begin(), fn.children.end(), [&](std::size_t c) { return !nodes_[c].dead; });
    if (leaf && n.values.empty() && !fn.values.empty()) {
      std::vector<std::pair<std::string, std::uint64_t>> vals(fn.values.begin(), fn.values.end());
      std::stable_sort(vals.begin(), vals.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
      for (auto& [label, count] : vals) {
        std::string l = label;
        for (char& c : l)
          if (c == '|' || c == '@' || c == '\n' || c == '\r') c = ' ';
        while (!l.empty() && l.back() == ' ') l.pop_back();
        while (!l.empty() && l.front() == ' ') l.erase(l.begin());
        if (l.empty() ||
            std::any_of(n.values.begin(), n.values.end(), [&](const ValueOption& x) { return x.label == l; }))
          continue;
        n.values.push_back({l, static_cast<double>(count), true});
      }
    }
    if (!leaf && !fn.fixed) n.values.clear();
    const auto sources = subtree_sources(v);
    n.support = sources.empty() ? fn.support : sources.size();
    const Vertex x = boost::add_vertex(std::move(n), g);
    vid.emplace(v, x);
    if (parent_[v] != kNone) boost::add_edge(vid.at(parent_[v]), x, g);
  }
  return Taxonomy::from_graph(std::move(g), sink, opts);
}

MergeResult merge(const Taxonomy& a, const Taxonomy& b, const MergeOptions& o, DiagnosticSink& sink) {
  MergeResult res;
  Forest f = Forest::from(a, true);
  Forest other = Forest::from(b, false);
  f.graft(other);
  res.report.input_nodes = a.size() + b.size();
  f.merge_all(o, res.report);
  for (std::size_t v : f.preorder())
    if (!f[v].fixed) {
      const auto p = f.parent(v);
      if (!p || f[*p].fixed) res.report.added.push_back(f.path(v));
    }
  res.taxonomy = f.to_taxonomy(sink, BuildOptions{a.has_vectors()});
  if (res.taxonomy) res.report.output_nodes = res.taxonomy->size();
  return res;
}

}  // namespace persona::tax
