// `persona check-personas FILE.jsonl [--recipe R]`: the coherence rules of the taxonomy applied to
// finished personas (interpreter/coherence, Rules::check). Lists each violation (persona id, rule,
// its statement, the attributes and values involved) and exits 1 when there is any, 0 when none.
//
// Records are read with record::JsonlReader: a line that is not a persona record, or a torn last
// line, is reported with its line number and counted; the file is then not fully checked, and the
// exit code is 1 as well.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/coherence_rules.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "record/record.hpp"

namespace persona::cli {

namespace {

struct CheckArgs {
  std::string file;
  std::string recipe;
  std::vector<std::string> ignore;
  std::size_t top = 10;
  bool quiet = false;
};

int run_check(const CheckArgs& a) {
  DiagnosticList diags;
  SourceFiles sources;
  // The rules: the recipe's taxonomy and tables, else stdlib.core with the standard tables.
  const auto loaded = load_rules(a.recipe, sources, diags);
  if (!loaded) {
    print_diagnostics(diags, sources);
    return Exit::user_error;
  }
  const coherence::Rules* rules = loaded->rules.get();
  const std::set<std::string> ignored(a.ignore.begin(), a.ignore.end());

  record::JsonlReader in;
  if (!in.open(a.file)) {
    std::cerr << a.file << ": error: " << in.error() << "\n";
    return Exit::runtime_error;
  }
  record::PersonaRecord r;
  cond::Facts facts;
  std::vector<coherence::Attribute> attrs;
  std::size_t personas = 0, with = 0, total = 0, bad = 0, checked = 0, skipped = 0, unmapped = 0;
  std::map<std::string, std::size_t> by_rule, by_family;
  for (;;) {
    const auto st = in.next(r);
    if (st == record::ReadStatus::end) break;
    if (st == record::ReadStatus::io) {
      std::cerr << a.file << ": error: " << in.error() << "\n";
      return Exit::runtime_error;
    }
    if (st == record::ReadStatus::bad || st == record::ReadStatus::torn) {
      ++bad;
      std::cerr << a.file << ":" << in.line() << ": error: "
                << (st == record::ReadStatus::torn ? std::string("torn last line (no newline): not a record")
                                                   : in.error())
                << "\n";
      continue;
    }
    ++personas;
    record_facts(r, facts);
    record_attributes(r, attrs);
    auto rep = rules->check(facts, attrs);
    std::erase_if(rep.violations, [&](const coherence::Violation& v) { return ignored.contains(v.family); });
    checked += rep.checked;
    skipped += rep.skipped;
    unmapped += rep.unmapped;
    if (rep.violations.empty()) continue;
    ++with;
    total += rep.violations.size();
    for (const auto& v : rep.violations) {
      ++by_rule[v.rule];
      ++by_family[v.family];
      std::cout << r.id << ": " << v.rule << ": " << v.statement << "\n";
      for (const auto& [what, value] : v.involved) std::cout << "    " << what << " = " << value << "\n";
    }
  }
  if (!a.quiet) {
    std::cerr << fmt::format("{} personas checked: {} with a violation, {} violations", personas, with, total);
    if (bad > 0) std::cerr << fmt::format(", {} lines not read", bad);
    std::cerr << fmt::format(" (rule checks: {} held, {} skipped for an unknown fact, {} values not an option)\n",
                             checked, skipped, unmapped);
    std::vector<std::pair<std::size_t, std::string>> top;
    for (const auto& [rule, n] : by_rule) top.emplace_back(n, rule);
    std::sort(top.begin(), top.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    for (std::size_t k = 0; k < top.size() && k < a.top; ++k)
      std::cerr << fmt::format("  {:6}  {}\n", top[k].first, top[k].second);
  }
  return (total > 0 || bad > 0) ? Exit::user_error : Exit::ok;
}

}  // namespace

void add_check_personas_command(CLI::App& root, int& code) {
  auto a = std::make_shared<CheckArgs>();
  CLI::App* s = root.add_subcommand(
      "check-personas",
      "List the coherence-rule violations of finished personas (a JSONL file from `persona run`); exit 1 when any");
  s->add_option("personas", a->file, "Persona file (JSONL; - reads standard input)")->required();
  s->add_option("--recipe,-r", a->recipe,
                "Check against this recipe's taxonomy and tables (default: stdlib.core and the standard tables)");
  s->add_option("--ignore", a->ignore, "Leave a rule family out (e.g. applicability); repeatable");
  s->add_option("--top", a->top, "Most frequent rules listed in the summary (default 10)")
      ->check(whole_number(0, 1000000));
  s->add_flag("--quiet,-q", a->quiet, "No summary on stderr");
  s->footer(
      "Output: one block per violation on stdout, `ID: RULE: STATEMENT` then `    ATTRIBUTE = VALUE` lines.\n"
      "Exit codes: 0 no violation; 1 a violation, a line that is not a persona record (reported as FILE:LINE),\n"
      "or a recipe with errors; 3 the file cannot be read.");
  s->callback([a, &code] { code = run_check(*a); });
}

}  // namespace persona::cli
