// Helpers shared by the taxonomy tests.
#pragma once

#include <string>

#include "diag/diagnostic.hpp"
#include "taxonomy.hpp"

namespace tax_test {

inline std::string data(const std::string& name) { return std::string(PERSONA_TESTS_DIR) + "/taxonomy/data/" + name; }

// True when diags has a diagnostic with this code (and line, when line > 0).
inline bool has(const persona::DiagnosticList& diags, const std::string& code, std::uint32_t line = 0) {
  for (const auto& d : diags.all())
    if (d.code == code && (line == 0 || d.where.line == line)) return true;
  return false;
}

inline std::string dump(const persona::DiagnosticList& diags) {
  std::string s;
  for (const auto& d : diags.all())
    s += d.where.file + ":" + std::to_string(d.where.line) + ":" + std::to_string(d.where.column) + ": [" + d.code +
         "] " + d.message + "\n";
  return s;
}

}  // namespace tax_test
