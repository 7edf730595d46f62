// Helpers shared by the eval tests: hand-made persona records and the stdlib definitions.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "eval/eval.hpp"

namespace eval_test {

using namespace persona;

inline std::string dump(const DiagnosticList& d) {
  std::string s;
  for (const auto& x : d.all()) s += to_string(x.where) + ": " + x.message + "\n";
  return s;
}

inline eval::Definitions definitions() {
  DiagnosticList d;
  auto defs = eval::load_definitions(std::filesystem::path(PERSONA_SOURCE_DIR) / "stdlib/eval/eval.toml", d);
  INFO(dump(d));
  REQUIRE(defs.has_value());
  return *defs;
}

inline eval::Options options() {
  eval::Options o;
  o.defs = definitions();
  return o;
}

// A persona with the given (path, value) attributes, all filled, tier near unless given as "path|tier".
inline record::PersonaRecord make_persona(const std::string& id,
                                          const std::vector<std::pair<std::string, std::string>>& attrs,
                                          const std::string& narrative = "I live by the river and mend nets.") {
  record::PersonaRecord r;
  r.id = id;
  r.anchors.emplace_back("age", record::Value::of(34.0));
  r.anchors.emplace_back("gender", record::Value::of("female"));
  for (const auto& [p, v] : attrs) {
    record::Attribute a;
    const auto bar = p.find('|');
    a.path = p.substr(0, bar);
    a.tier = bar == std::string::npos ? "near" : p.substr(bar + 1);
    a.value = v;
    a.source = "options";
    a.status = "filled";
    r.attributes.push_back(a);
  }
  r.narrative = narrative;
  return r;
}

inline std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("persona-eval-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

inline std::string write_file(const std::string& name, const std::string& text) {
  const auto p = temp_dir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

inline std::string jsonl(const std::vector<record::PersonaRecord>& rs) {
  std::string out;
  for (const auto& r : rs) record::write_jsonl(r, out);
  return out;
}

}  // namespace eval_test
