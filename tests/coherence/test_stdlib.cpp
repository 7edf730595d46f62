// The standard library's rules measured on the quickstart recipe (issue 10). Each test prints its
// figures (run the test program or `ctest -V -R coherence`) and asserts the targets:
//   - no offline persona violates a rule of stdlib.core (1,000 personas);
//   - no persona carries two attributes of one meaning class (1,000 personas);
//   - religious identification by country within 10 points of Pew's shares (5,000 personas);
//   - settlement values agree with the city anchor;
//   - every leaf drawn with equal weights says why.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "coherence_support.hpp"

using namespace coherence_test;
using namespace persona;

namespace {

const coherence::Rules* stdlib_rules() { return &quickstart().model().rules(); }

}  // namespace

TEST_CASE("stdlib.core rules compile against the stdlib tables with no error", "[coherence][stdlib]") {
  DiagnosticList d;
  auto t = tax::load_stdlib("core", d);
  INFO(dump(d));
  REQUIRE(t);
  CHECK_FALSE(d.has_errors());
  tables::Library lib;
  lib.load_stdlib(d);
  auto r = coherence::Rules::compile(*t, lib, d);
  INFO(dump(d));
  REQUIRE(r != nullptr);
  const auto s = r->stats();
  std::cout << "stdlib.core rules: " << s.facts << " facts (" << s.latent_facts << " latent), " << s.linked_leaves
            << " linked leaves, " << s.links << " option links, " << s.conditional_leaves
            << " leaves with conditional weights, " << s.table_leaves << " with table weights\n  families:";
  for (const auto& [f, n] : s.families) std::cout << " " << f << " " << n << ";";
  std::cout << "\n";
  CHECK(s.latent_facts >= 10);
  CHECK(s.linked_leaves >= 100);
}

TEST_CASE("quickstart: 1,000 offline personas violate no rule and carry no attribute twice", "[coherence][stdlib]") {
  const engine::Program& prog = quickstart();
  const engine::Model* m = &prog.model();
  exec::Job job;
  const engine::Persona& p = job.p;
  std::size_t with_violation = 0, violations = 0, with_twins = 0, checked = 0, skipped = 0, unmapped = 0, failed = 0;
  std::map<std::string, std::size_t> by_family, by_rule;
  std::string example;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    build(prog, 7, i, job);
    for (const auto& sl : p.attributes) failed += sl.status == engine::SlotStatus::filled ? 0 : 1;
    const auto facts = record_facts(*m, p);
    const auto attrs = record_attributes(*m, p);
    const auto rep = m->rules().check(facts, attrs);
    checked += rep.checked;
    skipped += rep.skipped;
    unmapped += rep.unmapped;
    bool twin = false;
    for (const auto& v : rep.violations) {
      ++by_family[v.family];
      ++by_rule[v.rule];
      twin = twin || v.family == "twins";
      if (example.empty()) {
        example = v.rule + ": " + v.statement;
        for (const auto& [a, val] : v.involved) example += "\n      " + a + " = " + val;
      }
    }
    with_twins += twin ? 1 : 0;
    violations += rep.violations.size();
    with_violation += rep.violations.empty() ? 0 : 1;
  }
  std::cout << "quickstart, 1,000 offline personas (seed 7): " << with_violation << " with a violation (" << violations
            << " violations), " << with_twins << " with two attributes of one meaning, " << failed
            << " failed slots; rule checks: " << checked << " held, " << skipped << " skipped (unknown fact), "
            << unmapped << " unmapped values\n";
  for (const auto& [f, n] : by_family) std::cout << "  family " << f << ": " << n << "\n";
  std::size_t shown = 0;
  for (const auto& [r, n] : by_rule)
    if (shown++ < 15) std::cout << "  rule " << r << ": " << n << "\n";
  if (!example.empty()) std::cout << "  first: " << example << "\n";
  CHECK(with_violation == 0);
  CHECK(with_twins == 0);
  CHECK(failed == 0);
}

TEST_CASE("quickstart: religion by country is within 10 points of Pew's shares over 5,000 personas",
          "[coherence][stdlib][religion]") {
  const engine::Program& prog = quickstart();
  const engine::Model* m = &prog.model();
  const auto* religion = m->tables().find("stdlib.religion");
  REQUIRE(religion != nullptr);
  const auto fact = m->rules().fact_index("religion");
  REQUIRE(fact.has_value());
  std::map<std::string, std::map<std::string, double>> counts;
  std::map<std::string, double> totals;
  engine::Persona p;
  engine::Scratch scratch;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    prog.begin(7, i, p);
    for (std::size_t k = 0; k < prog.size() && prog.step(k).kind() == engine::Step::Kind::anchor; ++k)
      (void)prog.step(k).run(p, scratch);
    const auto country = p.facts.find("country");
    if (country == p.facts.end()) continue;
    const std::string c = std::get<std::string>(country->second);
    counts[c][std::string(p.coherence.label(*fact))] += 1;
    totals[c] += 1;
  }
  for (const char* c : {"India", "Pakistan", "Indonesia", "Nigeria", "Brazil", "United States"}) {
    const cond::Value key[] = {std::string(c)};
    const tables::Dist* d = religion->lookup(key);
    REQUIRE(d != nullptr);
    std::cout << c << " (" << totals[c] << " personas):";
    double worst = 0;
    for (std::size_t k = 0; k < d->size(); ++k) {
      const std::string& label = d->labels()[k];
      const double published = 100.0 * d->probabilities()[k];
      const double drawn = totals[c] > 0 ? 100.0 * counts[c][label] / totals[c] : 0;
      worst = std::max(worst, std::abs(drawn - published));
      if (published >= 1 || drawn >= 1)
        std::cout << " " << label << " " << std::fixed << std::setprecision(1) << drawn << "% (Pew " << published
                  << "%)";
    }
    std::cout << "; largest gap " << worst << " points\n";
    CHECK(totals[c] >= 20);
    CHECK(worst <= 10.0);
  }
}

TEST_CASE("quickstart: settlement values agree with the settlement anchor", "[coherence][stdlib][settlement]") {
  const engine::Program& prog = quickstart();
  const engine::Model* m = &prog.model();
  exec::Job job;
  const engine::Persona& p = job.p;
  std::map<std::string, std::size_t> us_sizes;
  std::size_t city_values = 0, city_rural = 0, rural_values = 0, rural_city = 0;
  const std::set<std::string> rural_like = {"village",         "isolated homestead", "small town",
                                            "farming village", "always rural",       "moved from urban to rural"};
  const std::set<std::string> city_like = {"megacity of over ten million", "large city",       "mid-sized city",
                                           "dense inner-city district",    "high-rise estate", "always urban"};
  for (std::uint64_t i = 0; i < 1000; ++i) {
    build(prog, 7, i, job);
    const auto it = p.facts.find("settlement");
    REQUIRE(it != p.facts.end());
    const std::string& settlement = std::get<std::string>(it->second);
    const bool in_city = settlement.starts_with("city of");  // 300,000 or more
    const bool rural = settlement == "rural area";
    const bool us = std::get<std::string>(p.facts.at("country")) == "United States";
    for (const auto& sl : p.attributes) {
      const auto& name = m->leaf(sl.leaf).name;
      if (name != "Settlement Size" && name != "Neighbourhood Type" && name != "Rural to Urban Movement") continue;
      if (in_city) {
        ++city_values;
        city_rural += rural_like.count(sl.value);
      }
      if (rural) {
        ++rural_values;
        rural_city += city_like.count(sl.value);
      }
      if (us && name == "Settlement Size") ++us_sizes[sl.value];
    }
  }
  std::cout << "settlement attributes of 1,000 quickstart personas: " << city_values
            << " values of personas in cities of 300,000 or more, " << city_rural << " of them rural or small-town; "
            << rural_values << " values of personas in rural areas, " << rural_city
            << " of them city-like\n  United States, Settlement Size:";
  for (const auto& [v, n] : us_sizes) std::cout << " " << v << " " << n << ";";
  std::cout << "\n";
  CHECK(city_values > 0);
  CHECK(rural_values > 0);
  CHECK(city_rural == 0);
  CHECK(rural_city == 0);
}

TEST_CASE("every stdlib leaf drawn with equal weights documents why", "[coherence][stdlib][weights]") {
  const coherence::Rules* r = stdlib_rules();
  const auto uniform = r->undocumented_uniform();
  std::cout << uniform.size() << " stdlib leaves are drawn with equal weights and no documented reason\n";
  for (std::size_t k = 0; k < uniform.size() && k < 40; ++k)
    std::cout << "  " << r->taxonomy()[uniform[k]].path << "\n";
  CHECK(uniform.empty());
}
