// Where the standard library (taxonomies, tables, prompt templates) lives:
// $PERSONA_STDLIB, else <dir of the executable>/../share/persona/stdlib, else the source tree.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "base/files.hpp"
#include "base/text.hpp"

#ifndef PERSONA_STDLIB_DIR
#define PERSONA_STDLIB_DIR "stdlib"
#endif

namespace persona {

inline std::filesystem::path stdlib_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("PERSONA_STDLIB"); env != nullptr && *env != '\0') return fs::path(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "persona" / "stdlib";
    if (fs::is_directory(installed, ec)) return installed;
  }
  return fs::path(PERSONA_STDLIB_DIR);
}

// The version in <stdlib>/VERSION (one line, e.g. "0.1.0"); empty when the file is missing or unreadable.
inline std::string stdlib_version(const std::filesystem::path& dir = stdlib_dir()) {
  files::Limits limits;
  limits.max_bytes = 256;
  auto r = files::read(dir / "VERSION", limits);
  if (!r.ok()) return {};
  return std::string(text::trim(*r.text));
}

}  // namespace persona
