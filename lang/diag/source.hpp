// Source texts by file name, so diagnostics can show the offending line long after parsing.
#pragma once

#include <cstdint>
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
  // Why load() failed: "cannot read PATH: it is a directory", "... over the limit ...", or "not valid
  // UTF-8 (byte 0xE9) ..." with the line and byte column of the bad byte (else 0). Never the contents.
  struct LoadError {
    std::string message;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };
  // The largest source file load() reads.
  static constexpr std::uintmax_t max_bytes = 8u << 20;
  // Reads a file through files::read (regular files only, at most max_bytes, valid UTF-8) and
  // registers it; nullopt when it cannot be read (why in `error`).
  std::optional<std::string_view> load(const std::string& path, LoadError* error = nullptr);
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
