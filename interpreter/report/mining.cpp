// The mining section of `persona report --mining FILE`: what `persona taxonomy mine` wrote to
// OUT.report.json (docs/mining.md), as tables and bars.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "report.hpp"
#include "svg.hpp"

namespace persona::report {

namespace {

using json = nlohmann::json;

std::string cell(const std::string& s) { return "<td>" + svg::escape(s) + "</td>"; }
std::string num(const json& j, const char* key) {
  if (!j.contains(key)) return "";
  const json& v = j[key];
  if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<long long>());
  if (v.is_number()) return fmt::format("{:.3f}", v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::optional<MiningRun> parse_mining(const std::string& file, const std::string& text, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not JSON: --mining takes the OUT.report.json that `persona taxonomy mine -o OUT` wrote";
    return std::nullopt;
  }
  for (const char* key : {"corpus", "steps", "personalizable", "candidates", "categories", "taxonomy", "usage"})
    if (!j.contains(key) || !(j[key].is_object() || j[key].is_array())) {
      error = std::string("no \"") + key + "\" object: not a mining report (docs/mining.md)";
      return std::nullopt;
    }
  if (!j["categories"].is_array()) {
    error = "\"categories\" is not an array";
    return std::nullopt;
  }
  return MiningRun{file, text};
}

std::string mining_section(const std::vector<MiningRun>& runs) {
  std::string out;
  for (const auto& run : runs) {
    const json j = json::parse(run.json);
    out += "<h3>" + svg::escape(run.file) + "</h3>\n";
    const json& c = j["corpus"];
    out += "<p class=\"note\">" +
           svg::escape(fmt::format("{} exchanges from {} files ({} records; {} empty, {} malformed lines skipped, "
                                   "{} messages truncated); model {} of {}.",
                                   num(c, "exchanges"), num(c, "files"), num(c, "records"), num(c, "empty"),
                                   num(c, "malformed"), num(c, "truncated"), j.value("model", ""),
                                   j.value("provider", ""))) +
           "</p>\n";
    out +=
        "<table><tr><th>step</th><th>calls</th><th>from the journal</th><th>re-asked</th><th>off-schema</th>"
        "<th>failed</th><th>prompt tokens</th><th>completion tokens</th></tr>\n";
    for (const auto& [name, s] : j["steps"].items())
      out += "<tr>" + cell(name) + cell(num(s, "calls")) + cell(num(s, "from_journal")) + cell(num(s, "reasks")) +
             cell(num(s, "off_schema")) + cell(num(s, "failed")) + cell(num(s, "prompt_tokens")) +
             cell(num(s, "completion_tokens")) + "</tr>\n";
    out += "</table>\n";
    const json& p = j["personalizable"];
    svg::Chart shares;
    shares.title = "Personalizable exchanges";
    shares.labels = {"non", "partial", "full"};
    shares.series = {{"exchanges", {p.value("non", 0.0), p.value("partial", 0.0), p.value("full", 0.0)}}};
    out += svg::horizontal_bars(shares);
    svg::Chart cats;
    cats.title = "Categories by support (exchanges)";
    std::vector<double> support;
    for (const auto& cat : j["categories"]) {
      cats.labels.push_back(cat.value("name", ""));
      support.push_back(cat.value("support", 0.0));
    }
    cats.series = {{"support", support}};
    out += svg::horizontal_bars(cats);
    const json& k = j["candidates"];
    out += "<p class=\"note\">" +
           svg::escape(fmt::format("{} candidates extracted, {} kept, {} dropped by validation, {} without their "
                                   "evidence in the exchange. The taxonomy has {} nodes and {} leaves; {} tokens, "
                                   "${:.4f}.",
                                   num(k, "extracted"), num(k, "kept"), num(k, "dropped"), num(k, "evidence_unmatched"),
                                   num(j["taxonomy"], "nodes"), num(j["taxonomy"], "leaves"),
                                   j["usage"].value("prompt_tokens", 0L) + j["usage"].value("completion_tokens", 0L),
                                   j["usage"].value("cost_usd", 0.0))) +
           "</p>\n";
    if (j.contains("top_mapping") && j["top_mapping"].is_array() && !j["top_mapping"].empty()) {
      out += "<table><tr><th>mined top level</th><th>category</th></tr>\n";
      for (const auto& m : j["top_mapping"])
        out += "<tr>" + cell(m.value("mined", "")) + cell(m.value("category", "")) + "</tr>\n";
      out += "</table>\n";
    }
    if (j.contains("merge") && j["merge"].contains("merges") && j["merge"]["merges"].is_array()) {
      const json& ms = j["merge"]["merges"];
      out += "<details><summary>" + std::to_string(ms.size()) +
             " merge decisions</summary><table><tr><th>under</th>"
             "<th>merged</th><th>into</th><th>similarity</th></tr>\n";
      for (const auto& m : ms)
        out += "<tr>" + cell(m.value("parent", "")) + cell(m.value("merged", "")) + cell(m.value("kept", "")) +
               cell(fmt::format("{:.2f}", m.value("score", 0.0))) + "</tr>\n";
      out += "</table></details>\n";
    }
  }
  return out;
}

}  // namespace persona::report
