// The figures as JSON and as a side-by-side table; `--fail-on` gates.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "eval/eval.hpp"

namespace persona::eval {

using K = MetricInfo::Kind;

const std::vector<MetricInfo>& metric_names() {
  static const std::vector<MetricInfo> names = {
      {"personas", K::count, "personas read"},
      {"damaged_lines", K::count, "lines that are not personas, torn last line included"},
      {"attributes_mean", K::number, "attributes per persona, mean"},
      {"attributes_min", K::count, "attributes per persona, least"},
      {"attributes_max", K::count, "attributes per persona, most"},
      {"attributes_total", K::count, "attributes in all personas"},
      {"filled_total", K::count, "attributes with a value in all personas"},
      {"in_count_range", K::share, "personas whose attribute count is in the recipe's count range"},
      {"filled_share", K::share, "attributes with a value (status filled)"},
      {"repeated_names", K::share, "attributes whose folded leaf name repeats an earlier one of the persona"},
      {"repeated_names_count", K::count, "attributes whose folded leaf name repeats an earlier one (count)"},
      {"semantic_twins", K::share, "attributes meaning the same as an earlier one under another path"},
      {"semantic_twins_count", K::count, "semantic twins (count)"},
      {"filler", K::share, "filled values that are negative filler (\"None\", \"No ...\", \"does not ...\")"},
      {"filler_count", K::count, "filled values that are negative filler (count)"},
      {"duplicate_values", K::share, "filled values repeating an earlier value of the same persona (folded)"},
      {"duplicate_values_count", K::count, "filled values repeating an earlier value of the same persona (count)"},
      {"distinct_values", K::share, "distinct values / filled values, mean over personas"},
      {"categories_mean", K::number, "top-level categories a persona covers, mean"},
      {"categories_min", K::count, "top-level categories a persona covers, least"},
      {"depth_mean", K::number, "names per attribute path, mean"},
      {"narrative_words_mean", K::number, "narrative words, mean"},
      {"narrative_words_min", K::count, "narrative words, least"},
      {"narrative_words_max", K::count, "narrative words, most"},
      {"narrative_in_range", K::share, "narratives inside the recipe's word range"},
      {"tier_near", K::share, "attributes in the near tier"},
      {"tier_mid", K::share, "attributes in the mid tier"},
      {"tier_far", K::share, "attributes in the far tier"},
      {"tier_distance", K::number, "total variation distance of the tier mix from the recipe's ratio"},
      {"anchor_js_max", K::number, "largest Jensen-Shannon divergence of an anchor from its table"},
      {"anchor_js", K::number, "Jensen-Shannon divergence of one anchor from its table (anchor_js.NAME)"},
      {"contradictions", K::share, "personas breaking at least one consistency rule"},
      {"contradictions_per_persona", K::number, "broken consistency rules per persona"},
      {"problems", K::share, "personas with recorded problems"},
      {"similarity_paths", K::share, "pairwise Jaccard of attribute paths in the sample, mean"},
      {"similarity_values", K::share, "pairwise Jaccard of (path, value) pairs in the sample, mean"},
      {"narrative_nn", K::share, "TF-IDF cosine of each narrative to its nearest neighbour in the sample, mean"},
      {"narrative_nn_max", K::share, "TF-IDF cosine of the closest pair of narratives in the sample"},
      {"sample", K::count, "personas in the similarity sample"},
      {"qi_unique", K::share, "personas unique on their quasi-identifiers"},
      {"qi_classes", K::count, "distinct quasi-identifier combinations"},
      {"k_anonymity", K::count, "smallest quasi-identifier class"},
      {"exact_duplicates", K::count, "personas identical to an earlier one (anchors and attributes)"},
      {"near_duplicates", K::count, "pairs of personas with (path, value) Jaccard at or above the threshold"},
      {"judge_sample", K::count, "personas judged by the LLM judge"},
      {"judge_failures", K::count, "judge answers that could not be used"},
      {"judge_uniqueness", K::number, "LLM judge: uniqueness, 1-5, mean"},
      {"judge_actionability", K::number, "LLM judge: actionability, 1-5, mean"},
      {"judge_recovered", K::number, "LLM judge: persona facts recovered from the narrative alone, mean"},
      {"judge_listed", K::number, "LLM judge: facts listed from the narrative, mean"},
  };
  return names;
}

const MetricInfo* find_metric(std::string_view name) {
  if (name.rfind("anchor_js.", 0) == 0 && name.size() > 10) name = "anchor_js";
  for (const auto& m : metric_names())
    if (m.name == name) return &m;
  return nullptr;
}

namespace {

using json = nlohmann::ordered_json;

json histogram_json(const Histogram& h) {
  json a = json::array();
  for (const auto& [k, v] : h) a.push_back({k, v});
  return a;
}

std::string format_value(const MetricInfo* info, double v) {
  if (info != nullptr && info->kind == K::count) return text::format_number(std::round(v));
  if (info != nullptr && info->kind == K::share) return fmt::format("{:.2f}%", v * 100.0);
  if (std::abs(v) >= 100) return fmt::format("{:.1f}", v);
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string to_json(const std::vector<FileReport>& reports) {
  json root;
  root["version"] = 1;
  json files = json::array();
  for (const auto& r : reports) {
    json f;
    f["file"] = r.file;
    if (!r.recipe.empty()) f["recipe"] = r.recipe;
    f["personas"] = r.personas;
    f["damage"] = {{"unreadable", r.damage.unreadable},
                   {"bad_lines", r.damage.bad_lines},
                   {"torn", r.damage.torn},
                   {"messages", r.damage.messages}};
    json m = json::object();
    for (const auto& info : metric_names())
      if (auto it = r.metrics.find(info.name); it != r.metrics.end()) m[info.name] = it->second;
    for (const auto& [k, v] : r.metrics)
      if (k.rfind("anchor_js.", 0) == 0) m[k] = v;
    f["metrics"] = m;
    f["histograms"] = {{"attributes_per_persona", histogram_json(r.attributes_per_persona)},
                       {"narrative_words", histogram_json(r.narrative_words)},
                       {"path_depth", histogram_json(r.path_depth)},
                       {"categories_per_persona", histogram_json(r.categories_per_persona)}};
    f["similarity"] = {{"sample", r.sample},
                       {"bins", 20},
                       {"paths", r.path_similarity},
                       {"values", r.value_similarity},
                       {"narrative_nn", r.narrative_similarity}};
    json cats = json::array();
    for (const auto& [c, n] : r.categories) cats.push_back({{"category", c}, {"attributes", n}});
    f["categories"] = cats;
    if (!r.category_targets.empty()) {
      json ct = json::object();
      for (const auto& [c, s] : r.category_targets) ct[c] = s;
      f["category_targets"] = ct;
    }
    f["tiers"] = r.tiers;
    if (!r.tier_targets.empty()) f["tier_targets"] = r.tier_targets;
    json anchors = json::array();
    for (const auto& a : r.anchors) {
      json j;
      j["name"] = a.name;
      if (!a.table.empty()) j["table"] = a.table;
      json re = json::array();
      for (const auto& [l, c] : a.realised) re.push_back({l, c});
      j["realised"] = re;
      if (!a.expected.empty()) {
        json ex = json::array();
        for (const auto& [l, p] : a.expected) ex.push_back({l, p});
        j["expected"] = ex;
      }
      if (a.js) j["js"] = *a.js;
      if (a.noise_floor) j["noise_floor"] = *a.noise_floor;
      j["unmatched"] = a.unmatched;
      anchors.push_back(j);
    }
    f["anchors"] = anchors;
    f["contradictions"] = {{"counted", r.contradictions_counted}, {"by_rule", r.contradictions_by_rule}};
    json priv;
    priv["quasi_identifiers"] = r.privacy.quasi_identifiers;
    priv["classes"] = r.privacy.classes;
    json bs = json::object();
    for (const auto& [k, v] : r.privacy.by_class_size) bs[k] = v;
    priv["personas_by_class_size"] = bs;
    priv["exact_duplicates"] = r.privacy.exact_duplicates;
    priv["near_duplicate_pairs"] = r.privacy.near_duplicate_pairs;
    priv["pairs_capped"] = r.privacy.pairs_capped;
    json ex = json::array();
    for (const auto& [a, b, j] : r.privacy.examples) ex.push_back({a, b, j});
    priv["examples"] = ex;
    f["privacy"] = priv;
    files.push_back(f);
  }
  root["files"] = files;
  return root.dump(2) + "\n";
}

std::string to_table(const std::vector<FileReport>& reports) {
  std::vector<std::string> names;
  for (const auto& info : metric_names()) {
    if (info.name == "anchor_js") {
      std::vector<std::string> per;
      for (const auto& r : reports)
        for (const auto& [k, v] : r.metrics)
          if (k.rfind("anchor_js.", 0) == 0 && std::find(per.begin(), per.end(), k) == per.end()) per.push_back(k);
      names.insert(names.end(), per.begin(), per.end());
      continue;
    }
    for (const auto& r : reports)
      if (r.metrics.count(info.name) != 0) {
        names.push_back(info.name);
        break;
      }
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"metric"};
  for (const auto& r : reports) header.push_back(r.file);
  rows.push_back(header);
  for (const auto& n : names) {
    std::vector<std::string> row{n};
    const MetricInfo* info = find_metric(n);
    for (const auto& r : reports) {
      const auto it = r.metrics.find(n);
      row.push_back(it == r.metrics.end() ? "-" : format_value(info, it->second));
    }
    rows.push_back(row);
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      if (c == 0)
        out += fmt::format("{:<{}}", rows[i][c], width[c]);
      else
        out += fmt::format("  {:>{}}", rows[i][c], width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
    if (i == 0) {
      std::size_t total = width[0];
      for (std::size_t c = 1; c < width.size(); ++c) total += 2 + width[c];
      out += std::string(total, '-') + '\n';
    }
  }
  return out;
}

std::optional<Gate> parse_gate(std::string_view expr, std::string& error) {
  static const char* ops[] = {">=", "<=", "==", "!=", ">", "<"};
  for (const char* op : ops) {
    const auto at = expr.find(op);
    if (at == std::string_view::npos) continue;
    Gate g;
    g.text = std::string(expr);
    g.op = op;
    g.metric = std::string(text::trim(expr.substr(0, at)));
    const std::string_view num = text::trim(expr.substr(at + std::string_view(op).size()));
    const auto r = std::from_chars(num.data(), num.data() + num.size(), g.value);
    if (num.empty() || r.ec != std::errc() || r.ptr != num.data() + num.size() || !std::isfinite(g.value)) {
      error = "'" + std::string(expr) + "': '" + std::string(num) + "' is not a number";
      return std::nullopt;
    }
    if (find_metric(g.metric) == nullptr) {
      std::vector<std::string> known;
      for (const auto& m : metric_names()) known.push_back(m.name);
      error = "'" + std::string(expr) + "': unknown metric '" + g.metric + "'";
      if (auto near = closest_match(g.metric, known); !near.empty()) error += " (did you mean '" + near + "'?)";
      return std::nullopt;
    }
    if (g.metric == "anchor_js") {
      error = "'" + std::string(expr) + "': name the anchor (anchor_js.NAME) or use anchor_js_max";
      return std::nullopt;
    }
    return g;
  }
  error = "'" + std::string(expr) + "' is not METRIC OP NUMBER (OP: > >= < <= == !=)";
  return std::nullopt;
}

std::vector<GateResult> check_gates(const std::vector<Gate>& gates, const std::vector<FileReport>& reports) {
  std::vector<GateResult> out;
  for (const auto& g : gates)
    for (const auto& r : reports) {
      GateResult res;
      res.gate = g;
      res.file = r.file;
      if (auto it = r.metrics.find(g.metric); it != r.metrics.end()) {
        const double v = it->second;
        res.value = v;
        if (g.op == ">")
          res.crossed = v > g.value;
        else if (g.op == ">=")
          res.crossed = v >= g.value;
        else if (g.op == "<")
          res.crossed = v < g.value;
        else if (g.op == "<=")
          res.crossed = v <= g.value;
        else if (g.op == "==")
          res.crossed = v == g.value;
        else
          res.crossed = v != g.value;
      }
      out.push_back(std::move(res));
    }
  return out;
}

}  // namespace persona::eval
