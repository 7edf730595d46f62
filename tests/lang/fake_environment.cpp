#include "fake_environment.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>

namespace persona::test {

namespace {

using lang::TableInfo;
using lang::TableLevel;
using lang::ValueType;

TableLevel keys(std::vector<std::string> k, bool fallback) {
  TableLevel l;
  l.keys = std::move(k);
  l.fallback = fallback;
  return l;
}

TableLevel ages() {
  TableLevel l;
  l.keys = {"0-14", "15-64", "65+"};
  l.numeric = true;
  l.ranges = {{0, 14}, {15, 64}, {65, std::numeric_limits<double>::infinity()}};
  return l;
}

const std::map<std::string, TableInfo, std::less<>>& tables() {
  static const std::map<std::string, TableInfo, std::less<>> t = [] {
    std::map<std::string, TableInfo, std::less<>> m;
    const std::vector<std::string> countries = {"Kenya", "India", "United States"};
    TableInfo c;
    c.labels = countries;
    m["stdlib.countries"] = c;
    TableInfo age;
    age.type = ValueType::number;
    age.by = {"country"};
    age.levels = {keys(countries, true)};
    m["stdlib.age_structure"] = age;
    TableInfo sex;
    sex.by = {"country"};
    sex.levels = {keys(countries, true)};
    sex.labels = {"female", "male"};
    m["stdlib.sex_ratio"] = sex;
    TableInfo occ;
    occ.by = {"age"};
    occ.levels = {ages()};
    occ.labels = {"Student", "Farmer", "Teacher", "Retired"};
    occ.derived_facts = {"employment"};
    occ.derived_values = {{"employment", {"student", "employed", "retired"}}};
    occ.anchor_name = "occupation";
    m["stdlib.occupations"] = occ;
    TableInfo retirement;  // keyed by a derived fact
    retirement.type = ValueType::number;
    retirement.by = {"employment"};
    retirement.levels = {keys({"student", "employed", "retired"}, false)};
    m["stdlib.retirement_age"] = retirement;
    TableInfo cities;
    cities.by = {"country"};
    cities.levels = {keys({"Kenya", "India"}, false)};
    cities.labels = {"Nairobi", "Mumbai"};
    m["stdlib.cities"] = cities;
    TableInfo names;
    names.by = {"country", "gender"};
    names.levels = {keys({"Kenya"}, true), keys({"female", "male"}, false)};
    m["stdlib.given_names"] = names;
    return m;
  }();
  return t;
}

// The first three under a condition on employment, the last two under one on age.
const std::vector<std::string>& leaves() {
  static const std::vector<std::string> l = {
      "Career and Work Identity/Job/Title",
      "Career and Work Identity/Job/Employer",
      "Career and Work Identity/Retirement/Age at Retirement",
      "Lifestyle and Daily Routine/Sleep/Chronotype",
      "Lifestyle and Daily Routine/Sleep/Usual Bedtime",
      "Education and Learning/School/Grade",
  };
  return l;
}

// `*` within a segment, `**` any number of segments, `?` one character.
bool match_segment(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') return match_segment(p.substr(1), s) || (!s.empty() && match_segment(p, s.substr(1)));
  if (s.empty()) return false;
  return (p[0] == '?' || p[0] == s[0]) && match_segment(p.substr(1), s.substr(1));
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = s.find('/', start);
    out.emplace_back(s.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool match_path(const std::vector<std::string>& g, std::size_t gi, const std::vector<std::string>& p, std::size_t pi) {
  if (gi == g.size()) return pi == p.size();
  if (g[gi] == "**") {
    for (std::size_t k = pi; k <= p.size(); ++k)
      if (match_path(g, gi + 1, p, k)) return true;
    return false;
  }
  return pi < p.size() && match_segment(g[gi], p[pi]) && match_path(g, gi + 1, p, pi + 1);
}

}  // namespace

const std::vector<std::string>& fake_leaves() { return leaves(); }

std::optional<TableInfo> FakeEnvironment::table(std::string_view name) const {
  auto it = tables().find(name);
  if (it == tables().end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> FakeEnvironment::table_names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : tables()) out.push_back(k);
  return out;
}

std::optional<TableInfo> FakeEnvironment::user_table(const std::string& path, const SourceRange& where,
                                                     DiagnosticSink& sink) const {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    sink.error(where, "table-not-found",
               "table file '" + std::filesystem::path(path).filename().string() + "' not found");
    return std::nullopt;
  }
  TableInfo t;
  t.by = {"country"};
  return t;
}

std::shared_ptr<const lang::TaxonomyInfo> FakeEnvironment::taxonomy(const std::string& taxonomy, bool is_file,
                                                                    DiagnosticSink& /*sink*/) const {
  if (!with_taxonomy_ || is_file || taxonomy != "stdlib.core") return nullptr;
  auto info = std::make_shared<lang::TaxonomyInfo>();
  for (const auto& l : leaves()) {
    // Every node on the way: "A", "A/B", "A/B/C" (once each).
    const auto parts = split(l);
    std::string p;
    for (const auto& part : parts) {
      p += (p.empty() ? "" : "/") + part;
      if (std::find(info->paths.begin(), info->paths.end(), p) == info->paths.end()) info->paths.push_back(p);
    }
  }
  info->facts.push_back({"employment", 3, "employment = employed", SourceRange{"core.tax", 4, 7, 21}});
  info->facts.push_back({"age", 2, "age >= 12", SourceRange{"core.tax", 9, 9, 9}});
  return info;
}

std::optional<std::vector<std::uint32_t>> FakeEnvironment::glob_matches(const std::string& taxonomy, bool is_file,
                                                                        std::string_view glob) const {
  if (!with_taxonomy_ || is_file || taxonomy != "stdlib.core") return std::nullopt;
  // A glob selects nodes; a node selects the leaves under it.
  const auto g = split(glob);
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < leaves().size(); ++i) {
    const auto p = split(leaves()[i]);
    for (std::size_t n = 1; n <= p.size(); ++n) {
      if (match_path(g, 0, std::vector<std::string>(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n)), 0)) {
        out.push_back(static_cast<std::uint32_t>(i));
        break;
      }
    }
  }
  return out;
}

}  // namespace persona::test
