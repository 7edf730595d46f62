// The coherence rules (interpreter/coherence) as the commands that read persona files use them:
// `persona check-personas` lists violations, `persona eval` counts contradictions and semantic twins.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coherence/coherence.hpp"
#include "diag/diagnostic.hpp"
#include "diag/source.hpp"
#include "engine/program.hpp"
#include "frontend/frontend.hpp"
#include "record/record.hpp"
#include "tables/tables.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::cli {

// The compiled rules with what they point into (the taxonomy) kept alive.
struct LoadedRules {
  std::shared_ptr<const tax::Taxonomy> taxonomy;
  std::shared_ptr<const tables::Library> tables;
  std::shared_ptr<const coherence::Rules> rules;
};

// The rules of a recipe's taxonomy and tables (`recipe` non-empty), else of stdlib.core with the
// standard tables. nullopt on error (in `diags`, sources in `sources`).
inline std::optional<LoadedRules> load_rules(const std::string& recipe, SourceFiles& sources, DiagnosticList& diags) {
  LoadedRules out;
  if (!recipe.empty()) {
    auto loaded = frontend::load_recipe(recipe, sources, diags);
    if (!loaded || diags.has_errors()) return std::nullopt;
    out.taxonomy = engine::load_taxonomy(loaded->recipe, diags);
    out.tables = loaded->tables;
  } else {
    tax::LoadOptions opts;
    opts.sources = &sources;
    opts.vectors = false;
    if (auto t = tax::load_stdlib("core", diags, opts))
      out.taxonomy = std::make_shared<const tax::Taxonomy>(std::move(*t));
    auto lib = std::make_shared<tables::Library>();
    lib->load_stdlib(diags);
    out.tables = std::move(lib);
  }
  if (!out.taxonomy || !out.tables || diags.has_errors()) return std::nullopt;
  out.rules = coherence::Rules::compile(*out.taxonomy, *out.tables, diags);
  if (!out.rules) return std::nullopt;
  return out;
}

// The facts a record carries: its anchors and derived facts (numbers and strings).
inline void record_facts(const record::PersonaRecord& r, cond::Facts& facts) {
  facts.clear();
  for (const auto& [name, v] : r.anchors) {
    if (v.kind == record::Value::Kind::number)
      facts[name] = v.number;
    else if (v.kind == record::Value::Kind::string)
      facts[name] = v.text;
  }
}

// The filled attributes of a record (views into it).
inline void record_attributes(const record::PersonaRecord& r, std::vector<coherence::Attribute>& out) {
  out.clear();
  for (const auto& a : r.attributes)
    if (a.value) out.push_back({a.path, *a.value});
}

// A record's violations of the rules.
inline coherence::CheckReport check_record(const coherence::Rules& rules, const record::PersonaRecord& r) {
  cond::Facts facts;
  std::vector<coherence::Attribute> attrs;
  record_facts(r, facts);
  record_attributes(r, attrs);
  return rules.check(facts, attrs);
}

}  // namespace persona::cli
