// Source texts by file name, so diagnostics can show the offending line long after parsing.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "diag/diagnostic.hpp"

namespace persona {

class SourceFiles {
 public:
  // Registers a text under a name (a path, or "<repl>"); replaces an earlier text of that name.
  const std::string& add(const std::string& name, std::string text);
  // Reads a file from disk and registers it; nullopt when it cannot be read.
  std::optional<std::string_view> load(const std::string& path);
  [[nodiscard]] const std::string* text(const std::string& name) const;
  // The text of one line (1-based) without its newline; empty when unknown.
  [[nodiscard]] std::string_view line(const std::string& name, std::uint32_t line) const;

 private:
  std::map<std::string, std::unique_ptr<std::string>, std::less<>> texts_;
};

// Renders "FILE:LINE:COL: error: MESSAGE", then the source line and a caret spanning the token,
// then the notes. `color` adds ANSI colours (for terminals).
std::string render(const Diagnostic& d, const SourceFiles* sources, bool color = false);

}  // namespace persona
