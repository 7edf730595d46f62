// The HTML page of `persona report`.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "base/text.hpp"
#include "report/report.hpp"
#include "report/svg.hpp"

namespace persona::report {

using svg::escape;

namespace {

constexpr std::size_t kMaxAnchorLabels = 24;

const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2330;margin:24px auto;max-width:1280px;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dce6;padding-bottom:4px}
h3{font-size:14px;margin:12px 0 4px}p.note{color:#555e70;margin:4px 0}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d8dce6;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f2f4f8}td.l,th.l{text-align:left}.grid2{display:flex;flex-wrap:wrap;gap:18px}
.chart{background:#fff;border:1px solid #e3e6ee;margin:4px 0}.chart text{font-size:11px;fill:#3a4152}
.chart .grid{stroke:#e8ebf1}.chart .axis{stroke:#8a93a6}.chart .empty{fill:#8a93a6}
.s0{fill:#3b6fb6}.s1{fill:#e08a2c}.s2{fill:#4c9a5b}.s3{fill:#b5485d}.s4{fill:#7a5cb0}.s5{fill:#6b7280}
.chart .ci{stroke:#1d2330;stroke-width:1.3;fill:none}.chart .mark{stroke:#c21f1f;stroke-width:2.5}
.survey-cell td,.survey-averages td{white-space:nowrap}
.bad{color:#a32020;font-weight:600}.ok{color:#26753a}code{background:#f2f4f8;padding:0 3px}
)";

std::string cell(const std::string& s, bool left = false) {
  return std::string(left ? "<td class=\"l\">" : "<td>") + escape(s) + "</td>";
}

std::string short_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string metric_text(const eval::FileReport& r, const std::string& name) {
  const auto it = r.metrics.find(name);
  if (it == r.metrics.end()) return "-";
  const eval::MetricInfo* info = eval::find_metric(name);
  const double v = it->second;
  if (info != nullptr && info->kind == eval::MetricInfo::Kind::count) return text::format_number(std::round(v));
  if (info != nullptr && info->kind == eval::MetricInfo::Kind::share) return fmt::format("{:.2f}%", v * 100);
  return fmt::format("{:.4g}", v);
}

std::string section(const std::string& id, const std::string& title) {
  return "<h2 id=\"" + id + "\">" + escape(title) + "</h2>\n";
}

std::string summary_table(const std::vector<Input>& in) {
  std::string out = "<table class=\"metrics\"><tr><th class=\"l\">metric</th>";
  for (const auto& i : in) out += "<th>" + escape(short_name(i.report.file)) + "</th>";
  out += "<th class=\"l\">meaning</th></tr>\n";
  for (const auto& info : eval::metric_names()) {
    std::vector<std::string> names;
    if (info.name == "anchor_js") {
      for (const auto& i : in)
        for (const auto& [k, v] : i.report.metrics)
          if (k.rfind("anchor_js.", 0) == 0 && std::find(names.begin(), names.end(), k) == names.end())
            names.push_back(k);
    } else {
      for (const auto& i : in)
        if (i.report.metrics.count(info.name) != 0) {
          names.push_back(info.name);
          break;
        }
    }
    for (const auto& n : names) {
      out += "<tr><td class=\"l\"><code>" + escape(n) + "</code></td>";
      for (const auto& i : in) out += cell(metric_text(i.report, n));
      out += cell(info.meaning, true) + "</tr>\n";
    }
  }
  return out + "</table>\n";
}

svg::Chart chart(const std::string& title, const std::string& format, int width = 560) {
  svg::Chart c;
  c.title = title;
  c.value_format = format;
  c.width = width;
  return c;
}

std::string histograms(const std::vector<Input>& in, const std::string& title,
                       eval::Histogram eval::FileReport::*member) {
  std::vector<const eval::Histogram*> hs;
  for (const auto& i : in) hs.push_back(&(i.report.*member));
  auto b = svg::bin(hs, 30);
  // Several files of different sizes compare as shares of their own personas; one file shows counts.
  const bool shares = in.size() > 1;
  svg::Chart c = chart(title, shares ? "share" : "count", shares ? 760 : 620);
  c.labels = b.labels;
  for (std::size_t k = 0; k < in.size(); ++k) {
    if (shares) {
      double total = 0;
      for (double v : b.counts[k]) total += v;
      for (double& v : b.counts[k]) v = total > 0 ? v / total : 0;
    }
    c.series.push_back({short_name(in[k].report.file), b.counts[k]});
  }
  return "<h3>" + escape(title + (shares ? " (share of each file's personas)" : "")) + "</h3>" + svg::vertical_bars(c);
}

std::string categories(const std::vector<Input>& in) {
  std::vector<std::string> labels;
  for (const auto& i : in)
    for (const auto& [c, n] : i.report.categories)
      if (std::find(labels.begin(), labels.end(), c) == labels.end()) labels.push_back(c);
  for (const auto& i : in)
    for (const auto& [c, s] : i.report.category_targets)
      if (std::find(labels.begin(), labels.end(), c) == labels.end()) labels.push_back(c);
  svg::Chart c = chart("Share of attributes per category", "share", 760);
  c.labels = labels;
  bool targets = false;
  for (const auto& i : in) {
    svg::Series s{short_name(i.report.file), {}};
    double total = 0;
    for (const auto& [k, n] : i.report.categories) total += static_cast<double>(n);
    for (const auto& l : labels) {
      double v = 0;
      for (const auto& [k, n] : i.report.categories)
        if (k == l) v = total > 0 ? static_cast<double>(n) / total : 0;
      s.values.push_back(v);
    }
    c.series.push_back(std::move(s));
    targets = targets || !i.report.category_targets.empty();
  }
  if (targets) {
    svg::Series t{"taxonomy leaves (recipe)", {}};
    const auto& ct = std::find_if(in.begin(), in.end(), [](const Input& i) {
                       return !i.report.category_targets.empty();
                     })->report.category_targets;
    for (const auto& l : labels) {
      double v = 0;
      for (const auto& [k, s] : ct)
        if (k == l) v = s;
      t.values.push_back(v);
    }
    c.series.push_back(std::move(t));
  }
  return svg::horizontal_bars(c);
}

std::string tiers(const std::vector<Input>& in) {
  svg::Chart c = chart("Tier mix", "share", 560);
  c.labels = {"near", "mid", "far"};
  for (const auto& i : in)
    if (i.report.tiers.count("panel") > 0 && c.labels.size() == 3) c.labels.emplace_back("panel");
  for (const auto& i : in) {
    double total = 0;
    for (const auto& [k, n] : i.report.tiers) total += static_cast<double>(n);
    svg::Series s{short_name(i.report.file), {}};
    for (const auto& l : c.labels) {
      const auto it = i.report.tiers.find(l);
      s.values.push_back(it == i.report.tiers.end() || total <= 0 ? 0.0 : static_cast<double>(it->second) / total);
    }
    c.series.push_back(std::move(s));
  }
  for (const auto& i : in)
    if (!i.report.tier_targets.empty()) {
      svg::Series t{"recipe target", {}};
      for (const auto& l : c.labels) {
        const auto it = i.report.tier_targets.find(l);  // the panel has no target: every persona gets it
        t.values.push_back(it == i.report.tier_targets.end() ? 0.0 : it->second);
      }
      c.series.push_back(std::move(t));
      break;
    }
  return svg::vertical_bars(c);
}

std::string anchor_chart(const eval::AnchorResult& a, const std::string& file) {
  double total = 0;
  for (const auto& [l, n] : a.realised) total += n;
  // Labels: the most frequent by the larger of realised and expected share.
  std::vector<std::pair<double, std::size_t>> rank;
  for (std::size_t k = 0; k < a.realised.size(); ++k) {
    const double r = total > 0 ? a.realised[k].second / total : 0;
    const double e = k < a.expected.size() ? a.expected[k].second : 0;
    rank.emplace_back(-std::max(r, e), k);
  }
  std::stable_sort(rank.begin(), rank.end());
  std::vector<std::size_t> keep;
  for (std::size_t k = 0; k < rank.size() && k < kMaxAnchorLabels; ++k) keep.push_back(rank[k].second);
  std::sort(keep.begin(), keep.end());  // table order
  svg::Chart c = chart(a.name + " (" + file + ")", "share", 620);
  svg::Series real{"realised", {}}, exp{"table" + (a.table.empty() ? std::string() : " " + a.table), {}};
  double rest_r = 1, rest_e = 1;
  for (std::size_t k : keep) {
    c.labels.push_back(a.realised[k].first);
    const double r = total > 0 ? a.realised[k].second / total : 0;
    real.values.push_back(r);
    rest_r -= r;
    if (!a.expected.empty()) {
      exp.values.push_back(a.expected[k].second);
      rest_e -= a.expected[k].second;
    }
  }
  if (keep.size() < a.realised.size()) {
    c.labels.push_back(fmt::format("({} other labels)", a.realised.size() - keep.size()));
    real.values.push_back(std::max(0.0, rest_r));
    if (!a.expected.empty()) exp.values.push_back(std::max(0.0, rest_e));
  }
  c.series.push_back(std::move(real));
  if (!a.expected.empty()) c.series.push_back(std::move(exp));
  return svg::horizontal_bars(c);
}

std::string similarity(const Input& i) {
  std::vector<std::string> labels;
  for (int k = 0; k < 20; ++k) labels.push_back(fmt::format("{:.2f}", k / 20.0));
  const auto& r = i.report;
  std::string out;
  svg::Chart a = chart("Pairwise Jaccard similarity in the sample", "count", 560);
  a.labels = labels;
  auto to_d = [](const std::vector<std::uint64_t>& v) {
    std::vector<double> d(v.begin(), v.end());
    return d;
  };
  a.series = {{"attribute paths", to_d(r.path_similarity)}, {"(path, value) pairs", to_d(r.value_similarity)}};
  out += "<p class=\"note\">Pairwise Jaccard similarity of attribute paths and of (path, value) pairs</p>";
  out += svg::vertical_bars(a);
  out += "<p class=\"note\">Each narrative's TF-IDF cosine to its nearest neighbour</p>";
  svg::Chart b = chart("Nearest-neighbour narrative similarity (TF-IDF cosine)", "count", 560);
  b.labels = labels;
  b.series = {{"", to_d(r.narrative_similarity)}};
  out += svg::vertical_bars(b);
  return out;
}

std::string privacy(const std::vector<Input>& in) {
  std::string out = "<table><tr><th class=\"l\">file</th><th class=\"l\">quasi-identifiers</th><th>classes</th>";
  const std::vector<std::string> sizes = {"1", "2", "3-4", "5-9", "10+"};
  for (const auto& s : sizes) out += "<th>personas in classes of " + escape(s) + "</th>";
  out += "<th>exact duplicates</th><th>near-duplicate pairs</th></tr>\n";
  for (const auto& i : in) {
    const auto& p = i.report.privacy;
    out += "<tr>" + cell(short_name(i.report.file), true) +
           cell(p.quasi_identifiers.empty() ? "(none in the file)" : text::join(p.quasi_identifiers, ", "), true) +
           cell(std::to_string(p.classes));
    for (const auto& s : sizes) {
      std::uint64_t n = 0;
      for (const auto& [k, v] : p.by_class_size)
        if (k == s) n = v;
      out += cell(std::to_string(n));
    }
    out += cell(std::to_string(p.exact_duplicates)) +
           cell(std::to_string(p.near_duplicate_pairs) + (p.pairs_capped ? " (capped)" : "")) + "</tr>\n";
  }
  out += "</table>\n";
  for (const auto& i : in)
    if (!i.report.privacy.examples.empty()) {
      out += "<h3>Near-duplicate pairs in " + escape(short_name(i.report.file)) + "</h3><table>";
      out += "<tr><th class=\"l\">persona</th><th class=\"l\">persona</th><th>Jaccard (MinHash)</th></tr>";
      for (const auto& [a, b, j] : i.report.privacy.examples)
        out += "<tr>" + cell(a, true) + cell(b, true) + cell(fmt::format("{:.2f}", j)) + "</tr>";
      out += "</table>\n";
    }
  return out;
}

std::string checks(const std::vector<Input>& in) {
  svg::Chart c = chart("Counts of problems", "count", 760);
  c.labels = {"negative filler", "repeated leaf names", "duplicate values", "semantic twins", "contradictions"};
  // A bar of 0 would claim "no contradictions": the row is drawn only when some file counted them.
  const bool counted =
      std::any_of(in.begin(), in.end(), [](const Input& i) { return i.report.contradictions_counted; });
  if (!counted) c.labels.pop_back();
  std::string notes;
  for (const auto& i : in) {
    const auto& m = i.report.metrics;
    auto get = [&](const char* k) {
      const auto it = m.find(k);
      return it == m.end() ? 0.0 : it->second;
    };
    double contradictions = 0;
    for (const auto& [k, n] : i.report.contradictions_by_rule) contradictions += static_cast<double>(n);
    c.series.push_back({short_name(i.report.file),
                        {get("filler_count"), get("repeated_names_count"), get("duplicate_values_count"),
                         get("semantic_twins_count"), contradictions}});
    if (!counted) c.series.back().values.pop_back();
    if (!i.report.contradictions_counted)
      notes += "<p class=\"note\">" + escape(short_name(i.report.file)) +
               ": contradictions not counted (no consistency rules are loaded).</p>\n";
  }
  std::string out = svg::horizontal_bars(c) + notes;
  for (const auto& i : in)
    if (!i.report.contradictions_by_rule.empty()) {
      out += "<h3>Broken rules in " + escape(short_name(i.report.file)) + "</h3><table>";
      for (const auto& [rule, n] : i.report.contradictions_by_rule)
        out += "<tr>" + cell(rule, true) + cell(std::to_string(n)) + "</tr>";
      out += "</table>\n";
    }
  return out;
}

std::string manifests(const std::vector<Input>& in) {
  std::string out;
  for (const auto& i : in) {
    out += "<h3>" + escape(short_name(i.report.file)) + "</h3>";
    if (!i.manifest) {
      out += "<p class=\"note\">No manifest beside the file (" + escape(i.manifest_path) + ").</p>\n";
      continue;
    }
    out += "<table>";
    for (const auto& [k, v] : manifest_rows(*i.manifest)) out += "<tr>" + cell(k, true) + cell(v, true) + "</tr>";
    out += "</table>\n";
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> manifest_rows(const std::string& manifest_text) {
  using json = nlohmann::json;
  std::vector<std::pair<std::string, std::string>> rows;
  const json j = json::parse(manifest_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    rows.emplace_back("manifest", "not a JSON object: cannot be shown");
    return rows;
  }
  const std::pair<const char*, std::vector<const char*>> fields[] = {
      {"recipe", {"recipe", "name"}},
      {"recipe version", {"recipe", "version"}},
      {"recipe file", {"recipe", "file"}},
      {"recipe hash", {"recipe", "text_hash"}},
      {"taxonomy", {"taxonomy", "name"}},
      {"taxonomy hash", {"taxonomy", "content_hash"}},
      {"engine version", {"engine", "version"}},
      {"seed", {"seed"}},
      {"personas", {"counts", "personas"}},
      {"backend", {"model", "backend"}},
      {"provider", {"model", "provider"}},
      {"model", {"model", "name"}},
      {"calls", {"totals", "calls"}},
      {"prompt tokens", {"totals", "prompt_tokens"}},
      {"completion tokens", {"totals", "completion_tokens"}},
      {"cost (USD)", {"totals", "cost_usd"}},
      {"command", {"parameters", "command_line"}},
      {"finished", {"timestamps", "finished"}},
  };
  for (const auto& [label, path] : fields) {
    const json* x = &j;
    bool found = true;
    for (const char* k : path) {
      if (!x->is_object() || !x->contains(k)) {
        found = false;
        break;
      }
      x = &(*x)[k];
    }
    if (!found || x->is_null()) continue;
    rows.emplace_back(label, x->is_string() ? x->get<std::string>() : x->dump());
  }
  if (rows.empty()) rows.emplace_back("manifest", "no known fields");
  return rows;
}

namespace {

std::string persona_sections(const std::vector<Input>& in) {
  std::string out = "<p class=\"note\">";
  for (std::size_t k = 0; k < in.size(); ++k) {
    const auto& r = in[k].report;
    if (k > 0) out += "; ";
    out += "<b>" + escape(r.file) + "</b>: " + text::format_number(static_cast<double>(r.personas)) + " personas" +
           (r.recipe.empty() ? "" : ", targets from recipe " + escape(r.recipe));
  }
  out += ".</p>\n";
  for (const auto& i : in) {
    const auto& d = i.report.damage;
    if (d.unreadable || d.bad_lines > 0 || d.torn) {
      out += "<p class=\"bad\">" + escape(i.report.file) + " is damaged: " + std::to_string(d.bad_lines) +
             " line(s) not personas" + (d.torn ? ", torn last line" : "") + (d.unreadable ? ", unreadable" : "") +
             ".</p><ul>";
      for (const auto& m : d.messages) out += "<li>" + escape(m) + "</li>";
      out += "</ul>\n";
    }
  }

  out += section("summary", "Summary");
  out += summary_table(in);

  out += section("attributes", "Attributes per persona");
  out += histograms(in, "Attributes per persona", &eval::FileReport::attributes_per_persona);
  out += histograms(in, "Names per attribute path (depth)", &eval::FileReport::path_depth);

  out += section("narrative", "Narrative length");
  out += histograms(in, "Narrative words", &eval::FileReport::narrative_words);

  out += section("categories", "Category coverage");
  out += categories(in);
  out += histograms(in, "Top-level categories per persona", &eval::FileReport::categories_per_persona);

  out += section("tiers", "Tier mix");
  out += tiers(in);

  out += section("anchors", "Anchors against their tables");
  for (const auto& i : in) {
    if (i.report.anchors.empty()) out += "<p class=\"note\">No anchors in " + escape(i.report.file) + ".</p>";
    out += "<div class=\"grid2\">";
    for (const auto& a : i.report.anchors) {
      out += "<div><h3>" + escape(a.name) +
             (!a.js ? std::string(a.table.empty() ? "" : " — no JS")
              : a.noise_floor.value_or(1) < 0.5
                  ? fmt::format(" — Jensen-Shannon {:.4f} (sampling noise alone: about {:.4f})", *a.js, *a.noise_floor)
                  : fmt::format(" — Jensen-Shannon {:.4f} (too few personas for this many labels to tell)", *a.js)) +
             "</h3>";
      out += anchor_chart(a, short_name(i.report.file));
      if (a.unmatched > 0)
        out += "<p class=\"note\">" + std::to_string(a.unmatched) + " persona(s) without a value or a table row.</p>";
      out += "</div>";
    }
    out += "</div>\n";
  }

  out += section("checks", "Contradictions, filler and repeats");
  out += checks(in);

  out += section("similarity", "Similarity between personas");
  out += "<div class=\"grid2\">";
  for (const auto& i : in) {
    out += "<div><h3>" + escape(short_name(i.report.file)) + " (sample of " + std::to_string(i.report.sample) +
           " personas)</h3>";
    out += similarity(i) + "</div>";
  }
  out += "</div>\n";

  out += section("privacy", "Privacy");
  out +=
      "<p class=\"note\">A persona is unique on its quasi-identifiers when no other persona shares its combination "
      "(numbers in bands of years, text folded).</p>";
  out += privacy(in);

  out += section("manifest", "Manifest");
  out += manifests(in);

  return out;
}

}  // namespace

std::string render_html(const std::vector<Input>& in, const std::string& title, const std::string& generator,
                        std::vector<SurveyRun> surveys, const std::vector<MiningRun>& mining) {
  std::string out;
  out.reserve(1 << 18);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += "<title>" + escape(title) + "</title><style>" + kStyle + "</style></head><body>\n";
  out += "<h1>" + escape(title) + "</h1>\n";
  const bool with_surveys = !surveys.empty();
  if (with_surveys) {
    out += "<p class=\"note\">Survey results: ";
    for (std::size_t k = 0; k < surveys.size(); ++k)
      out += (k > 0 ? ", " : "") + std::string("<b>") + escape(surveys[k].dir) + "</b>";
    out += ".</p>\n";
  }
  if (!in.empty()) out += persona_sections(in);
  if (with_surveys) {
    out += section("survey", "Survey");
    out += survey_section(std::move(surveys));
  }
  if (!mining.empty()) {
    out += section("mining", "Taxonomy mining");
    out += mining_section(mining);
  }
  out += "<p class=\"note\">Generated by " + escape(generator) + ". Definitions: docs/eval.md" +
         (with_surveys ? ", docs/survey.md" : "") + (mining.empty() ? "" : ", docs/mining.md") +
         ".</p>\n</body></html>\n";
  return out;
}

}  // namespace persona::report
