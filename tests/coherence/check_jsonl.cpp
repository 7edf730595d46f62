// coherence-check-jsonl: the rule set of stdlib.core applied to a persona JSONL file (measurement
// tool until `persona check-personas` is wired through the typed persona-record reader).
//
//   coherence-check-jsonl FILE.jsonl [--examples N] [--ignore FAMILY]...
//
// Prints the personas with at least one violation, violations by family and the most frequent
// rules, with a few examples (rule statement, attributes and values).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "coherence/coherence.hpp"
#include "diag/diagnostic.hpp"
#include "tables/tables.hpp"
#include "taxonomy/taxonomy.hpp"

using namespace persona;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: coherence-check-jsonl FILE.jsonl [--examples N] [--ignore FAMILY]...\n";
    return 2;
  }
  std::size_t examples = 5;
  std::set<std::string> ignored;  // families left out of the counts (e.g. applicability)
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--examples") examples = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--ignore") ignored.insert(argv[i + 1]);
  }
  DiagnosticList d;
  auto t = tax::load_stdlib("core", d);
  tables::Library lib;
  lib.load_stdlib(d);
  if (!t || d.has_errors()) {
    for (const auto& x : d.all()) std::cerr << to_string(x.where) << ": " << x.message << "\n";
    return 1;
  }
  auto rules = coherence::Rules::compile(*t, lib, d);
  if (!rules) return 1;
  std::ifstream in(argv[1]);
  std::string line;
  std::size_t personas = 0, with = 0, total = 0, twins = 0, checked = 0, skipped = 0, unmapped = 0, attrs = 0;
  std::map<std::string, std::size_t> families, by_rule;
  std::vector<std::string> shown;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      std::cerr << "line " << personas + 1 << ": " << e.what() << "\n";
      continue;
    }
    ++personas;
    cond::Facts facts;
    for (auto& [k, v] : j["anchors"].items()) {
      if (v.is_number())
        facts[k] = v.get<double>();
      else if (v.is_string())
        facts[k] = v.get<std::string>();
    }
    std::vector<std::string> paths, values;
    for (const auto& a : j["attributes"]) {
      if (!a["value"].is_string()) continue;
      paths.push_back(a["path"].get<std::string>());
      values.push_back(a["value"].get<std::string>());
    }
    std::vector<coherence::Attribute> list;
    for (std::size_t k = 0; k < paths.size(); ++k) list.push_back({paths[k], values[k]});
    attrs += list.size();
    auto rep = rules->check(facts, list);
    std::erase_if(rep.violations, [&](const coherence::Violation& v) { return ignored.contains(v.family); });
    checked += rep.checked;
    skipped += rep.skipped;
    unmapped += rep.unmapped;
    total += rep.violations.size();
    with += rep.violations.empty() ? 0 : 1;
    bool twin = false;
    for (const auto& v : rep.violations) {
      ++families[v.family];
      ++by_rule[v.rule];
      twin = twin || v.family == "twins";
      if (shown.size() < examples) {
        std::string s = "  " + j.value("id", std::string("?")) + ": " + v.statement;
        for (const auto& [a, val] : v.involved) s += "\n      " + a + " = " + val;
        shown.push_back(s);
      }
    }
    twins += twin ? 1 : 0;
  }
  std::printf(
      "%zu personas, %zu attributes: %zu with at least one violation (%.1f%%), %zu violations (%.2f per persona), "
      "%zu carry two attributes of one meaning\n",
      personas, attrs, with, personas ? 100.0 * static_cast<double>(with) / static_cast<double>(personas) : 0.0, total,
      personas ? static_cast<double>(total) / static_cast<double>(personas) : 0.0, twins);
  std::printf("rule checks: %zu held, %zu skipped (a fact the persona does not have), %zu unmapped values\n", checked,
              skipped, unmapped);
  for (const auto& [f, n] : families) std::printf("  family %-12s %zu\n", f.c_str(), n);
  std::vector<std::pair<std::size_t, std::string>> top;
  for (const auto& [r, n] : by_rule) top.emplace_back(n, r);
  std::sort(top.rbegin(), top.rend());
  for (std::size_t k = 0; k < top.size() && k < 15; ++k)
    std::printf("  %5zu  %s\n", top[k].first, top[k].second.c_str());
  for (const auto& s : shown) std::printf("%s\n", s.c_str());
  return 0;
}
