// Shared by the commands: print diagnostics to stderr (the core never prints).
#pragma once

#include <iostream>

#include "cli/commands.hpp"
#include "diag/diagnostic.hpp"
#include "diag/source.hpp"

namespace persona::cli {

inline void print_diagnostics(const DiagnosticList& diags, const SourceFiles& sources) {
  const bool color = stderr_is_tty();
  DiagnosticList sorted = diags;
  sorted.sort_by_location();
  for (const auto& d : sorted.all()) std::cerr << render(d, &sources, color);
}

}  // namespace persona::cli
