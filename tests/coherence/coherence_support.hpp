// Helpers shared by the coherence tests: small taxonomies with rules, the stdlib quickstart model,
// and a finished persona seen as a record (anchors, derived facts and attributes only).
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "coherence/coherence.hpp"
#include "diag/diagnostic.hpp"
#include "exec/exec.hpp"
#include "taxonomy/rules.hpp"

namespace coherence_test {

using namespace persona;

inline std::string dump(const DiagnosticList& d) {
  std::string s;
  for (const auto& x : d.all())
    s += x.where.file + ":" + std::to_string(x.where.line) + ":" + std::to_string(x.where.column) + ": [" + x.code +
         "] " + x.message + "\n";
  return s;
}

inline bool has(const DiagnosticList& d, const std::string& code, std::uint32_t line = 0) {
  for (const auto& x : d.all())
    if (x.code == code && (line == 0 || x.where.line == line)) return true;
  return false;
}

// A `.tax` text plus rules texts; nullopt when loading fails (diagnostics in d).
inline std::optional<tax::Taxonomy> load(const std::string& tax_text, const std::string& rules_text,
                                         DiagnosticList& d) {
  auto t = tax::load_tax_text(tax_text, "test.tax", d);
  if (!t) return std::nullopt;
  if (!rules_text.empty() && !tax::load_rules(*t, {{"test.rules", rules_text}}, d)) return std::nullopt;
  return t;
}

inline std::shared_ptr<const tax::Taxonomy> make(const std::string& tax_text, const std::string& rules_text) {
  DiagnosticList d;
  auto t = load(tax_text, rules_text, d);
  INFO(dump(d));
  REQUIRE(t.has_value());
  return std::make_shared<const tax::Taxonomy>(std::move(*t));
}

inline cond::Facts facts(std::initializer_list<std::pair<const char*, cond::Value>> kv) {
  cond::Facts f;
  for (const auto& [k, v] : kv) f[k] = v;
  return f;
}

// The quickstart recipe compiled with the stdlib taxonomy and tables (once); fails the test when it
// does not load.
inline const engine::Program& quickstart() {
  static std::unique_ptr<engine::Program> prog = [] {
    SourceFiles sources;
    DiagnosticList d;
    auto p = engine::load_program(std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona", sources, d);
    INFO(dump(d));
    REQUIRE(p != nullptr);
    return p;
  }();
  return *prog;
}

// One whole offline persona, through the executor as `persona run` builds it.
inline void build(const engine::Program& prog, std::uint64_t seed, std::uint64_t index, exec::Job& job) {
  static const backend::Offline offline;
  static engine::Scratch scratch;
  exec::build_offline(prog, offline, scratch, seed, index, job);
}

// What a JSONL record of p carries: anchors and derived facts (not the latent facts).
inline cond::Facts record_facts(const engine::Model& m, const engine::Persona& p) {
  cond::Facts f;
  const auto& anchors = m.recipe().anchors;
  for (std::size_t i = 0; i < anchors.size() && i < p.anchors.size(); ++i)
    if (p.anchors[i]) f[anchors[i].name] = *p.anchors[i];
  for (const auto& [k, v] : p.derived) f[k] = v;
  return f;
}

inline std::vector<coherence::Attribute> record_attributes(const engine::Model& m, const engine::Persona& p) {
  std::vector<coherence::Attribute> out;
  for (const auto& s : p.attributes)
    if (s.status == engine::SlotStatus::filled) out.push_back({m.taxonomy()[m.leaf(s.leaf).vertex].path, s.value});
  return out;
}

}  // namespace coherence_test
