// Reference import: the DeepPersona JSON's 19 near-duplicate top-level keys onto the method's 12
// categories, with recursive merging of duplicate and near-duplicate siblings.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "detail.hpp"
#include "diag/source.hpp"

namespace persona::tax {

using detail::RawNode;

const std::array<std::string_view, 12>& categories() {
  static const std::array<std::string_view, 12> cats = {
      "Demographic Information",
      "Career and Work Identity",
      "Core Values, Beliefs and Philosophy",
      "Lifestyle and Daily Routine",
      "Cultural and Social Context",
      "Hobbies, Interests and Lifestyle",
      "Relationships and Social Networks",
      "Physical and Health Characteristics",
      "Psychological and Cognitive Aspects",
      "Education and Learning",
      "Media Consumption and Engagement",
      "Emotional and Relational Skills",
  };
  return cats;
}

namespace {

std::string singular(std::string w) {
  if (w.size() > 4 && w.ends_with("ies")) return w.substr(0, w.size() - 3) + "y";
  if (w.size() > 3 && w.back() == 's' && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is")) w.pop_back();
  return w;
}

std::vector<std::string> key_words(std::string_view name, bool plural, bool drop_and) {
  std::vector<std::string> out;
  for (auto& w : words(name)) {
    if (drop_and && w == "and") continue;
    out.push_back(plural ? singular(std::move(w)) : std::move(w));
  }
  return out;
}

std::string join(const std::vector<std::string>& ws) {
  std::string s;
  for (const auto& w : ws) {
    if (!s.empty()) s += ' ';
    s += w;
  }
  return s;
}

std::string merge_reason(const std::string& a, const std::string& b) {
  if (a == b) return "same name";
  if (fold_name(a) == fold_name(b)) return "case/punctuation";
  if (join(key_words(a, false, true)) == join(key_words(b, false, true))) return "&/and";
  if (join(key_words(a, true, true)) == join(key_words(b, true, true))) return "plural";
  return "word order";
}

double dice(std::string_view a, std::string_view b) {
  auto wa = key_words(a, true, true), wb = key_words(b, true, true);
  std::set<std::string> sa(wa.begin(), wa.end()), sb(wb.begin(), wb.end());
  if (sa.empty() || sb.empty()) return 0;
  std::size_t common = 0;
  for (const auto& w : sa) common += sb.count(w);
  return 2.0 * static_cast<double>(common) / static_cast<double>(sa.size() + sb.size());
}

// Keys of the reference files (and a few obvious variants) -> category.
const std::unordered_map<std::string, std::string_view>& alias_table() {
  static const std::unordered_map<std::string, std::string_view> table = [] {
    const auto& c = categories();
    const std::vector<std::pair<std::string_view, std::string_view>> aliases = {
        {"Demographic Information", c[0]},
        {"Demographics", c[0]},
        {"Career and Work Identity", c[1]},
        {"Career and Work", c[1]},
        {"Core Values and Beliefs", c[2]},
        {"Core Values and Philosophy", c[2]},
        {"Core Values, Beliefs, Philosophy", c[2]},
        {"Core Values, Beliefs, and Philosophy", c[2]},
        {"Lifestyle and Daily Routine", c[3]},
        {"Lifestyle and Habits", c[3]},
        {"Lifestyle and Routine", c[3]},
        {"Cultural and Social Context", c[4]},
        {"Cultural and Social Contexts", c[4]},
        {"Hobbies, Interests, and Lifestyle", c[5]},
        {"Hobbies and Interests", c[5]},
        {"Relationships and Social Networks", c[6]},
        {"Physical and Health Characteristics", c[7]},
        {"Psychological and Cognitive Aspects", c[8]},
        {"Psychological and Cognitive", c[8]},
        {"Education and Learning", c[9]},
        {"Media Consumption and Engagement", c[10]},
        {"Emotional and Relational Skills", c[11]},
    };
    std::unordered_map<std::string, std::string_view> t;
    for (auto cat : c) t.emplace(merge_key(cat), cat);
    for (const auto& [from, to] : aliases) t.emplace(merge_key(from), to);
    return t;
  }();
  return table;
}

void merge_siblings(std::vector<RawNode>& kids, const std::string& path, ImportReport& report) {
  std::vector<RawNode> out;
  out.reserve(kids.size());
  std::unordered_map<std::string, std::size_t> index;   // merge_key -> position in out
  std::unordered_map<std::string, std::size_t> folded;  // fold_name -> position in out
  for (auto& node : kids) {
    std::string key = merge_key(node.name);
    std::string fold = fold_name(node.name);
    auto it = index.find(key);
    std::size_t pos = it != index.end() ? it->second : out.size();
    if (pos == out.size())
      if (auto f = folded.find(fold); f != folded.end()) pos = f->second;
    if (pos == out.size()) {
      index.emplace(std::move(key), out.size());
      folded.emplace(std::move(fold), out.size());
      out.push_back(std::move(node));
      continue;
    }
    index.emplace(std::move(key), pos);
    folded.emplace(std::move(fold), pos);
    RawNode& kept = out[pos];
    std::string merged_name = node.name;
    // Prefer the readable spelling ("Public Policy" over "PublicPolicy").
    const auto spaces = [](const std::string& s) { return std::count(s.begin(), s.end(), ' '); };
    if (spaces(node.name) > spaces(kept.name)) std::swap(kept.name, merged_name);
    report.merges.push_back({path, kept.name, merged_name, merge_reason(kept.name, merged_name)});
    if (kept.description.empty()) kept.description = std::move(node.description);
    for (auto& v : node.values) {
      const bool dup =
          std::any_of(kept.values.begin(), kept.values.end(), [&](const ValueOption& o) { return o.label == v.label; });
      if (!dup) kept.values.push_back(std::move(v));
    }
    for (auto& c : node.conditions) kept.conditions.push_back(std::move(c));
    for (auto& k : node.kids) kept.kids.push_back(std::move(k));
  }
  kids = std::move(out);
  for (auto& k : kids) merge_siblings(k.kids, path.empty() ? k.name : path + "/" + k.name, report);
}

}  // namespace

std::string merge_key(std::string_view name) {
  auto ws = key_words(name, true, true);
  std::sort(ws.begin(), ws.end());
  return join(ws);
}

std::optional<std::pair<std::string_view, double>> map_category(std::string_view key) {
  const auto& table = alias_table();
  if (auto it = table.find(merge_key(key)); it != table.end()) return std::make_pair(it->second, 1.0);
  std::string_view best;
  double best_score = 0;
  for (auto cat : categories()) {
    const double s = dice(key, cat);
    if (s > best_score) {
      best_score = s;
      best = cat;
    }
  }
  if (best_score >= 0.5) return std::make_pair(best, best_score);
  return std::nullopt;
}

std::string ImportReport::to_text() const {
  std::ostringstream os;
  os << "Top-level mapping (" << input_top_level << " keys -> " << output_top_level << " categories):\n";
  for (const auto& m : mappings) {
    os << "  " << m.from << " -> " << m.to;
    if (m.alias)
      os << "  (alias)\n";
    else
      os << "  (similarity " << detail::format_weight(static_cast<double>(static_cast<int>(m.score * 100)) / 100)
         << ")\n";
  }
  for (const auto& d : dropped) os << "  " << d << " -> (no category; dropped)\n";
  os << "Merged siblings (" << merges.size() << "):\n";
  for (const auto& m : merges)
    os << "  " << (m.parent.empty() ? "(top)" : m.parent) << ": '" << m.merged << "' into '" << m.kept << "' ("
       << m.reason << ")\n";
  if (!renamed.empty()) {
    os << "Renamed (" << renamed.size() << "):\n";
    for (const auto& r : renamed) os << "  " << r << "\n";
  }
  os << "Nodes: " << input_nodes << " in, " << output_nodes << " out\n";
  return os.str();
}

ImportResult import_reference_text(std::string_view json_text, const std::string& file, DiagnosticSink& sink,
                                   const LoadOptions& opts) {
  ImportResult res;
  try {
    auto forest = detail::parse_json_forest(json_text, file, sink, res.report.renamed, false, false);
    if (!forest) return res;
    auto& rep = res.report;
    rep.input_nodes = detail::count_nodes(*forest);
    rep.input_top_level = forest->size();
    const auto& cats = categories();
    std::vector<RawNode> out(cats.size());
    std::vector<bool> has_source(cats.size(), false);
    for (std::size_t i = 0; i < cats.size(); ++i) {
      out[i].name = std::string(cats[i]);
      out[i].where = SourceRange{file, 0, 0, 0};
    }
    for (auto& root : *forest) {
      auto m = map_category(root.name);
      if (!m) {
        rep.dropped.push_back(root.name);
        sink.warning(root.where, "unmapped-category",
                     "the top-level key '" + root.name + "' matches none of the 12 categories; it is dropped");
        continue;
      }
      const auto idx = static_cast<std::size_t>(std::find(cats.begin(), cats.end(), m->first) - cats.begin());
      rep.mappings.push_back({root.name, std::string(m->first), m->second, m->second >= 1.0});
      if (!has_source[idx]) out[idx].where = root.where;
      has_source[idx] = true;
      if (out[idx].description.empty()) out[idx].description = root.description;
      for (auto& k : root.kids) out[idx].kids.push_back(std::move(k));
    }
    for (std::size_t i = 0; i < cats.size(); ++i)
      if (!has_source[i])
        sink.warning({file, 0, 0, 0}, "empty-category",
                     "no top-level key of the file maps to '" + std::string(cats[i]) + "'");
    for (auto& cat : out) merge_siblings(cat.kids, cat.name, rep);
    Graph g = detail::build_graph(out);
    res.taxonomy = Taxonomy::from_graph(std::move(g), sink, BuildOptions{opts.vectors});
    if (res.taxonomy) {
      rep.output_nodes = res.taxonomy->size();
      rep.output_top_level = res.taxonomy->roots().size();
    }
  } catch (const std::exception& e) {
    sink.error({file, 0, 0, 0}, "internal", std::string("import failed: ") + e.what());
    res.taxonomy.reset();
  }
  return res;
}

ImportResult import_reference(const std::filesystem::path& json_file, DiagnosticSink& sink, const LoadOptions& opts) {
  try {
    auto text = detail::read_file(json_file, sink);
    if (!text) return {};
    const std::string name = json_file.string();
    if (opts.sources != nullptr) {
      const std::string& kept = opts.sources->add(name, std::move(*text));
      return import_reference_text(kept, name, sink, opts);
    }
    return import_reference_text(*text, name, sink, opts);
  } catch (const std::exception& e) {
    sink.error({json_file.string(), 0, 0, 0}, "internal", std::string("import failed: ") + e.what());
    return {};
  }
}

}  // namespace persona::tax
