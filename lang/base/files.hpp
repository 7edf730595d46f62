// Reading input files: the one place the project reads a whole file. Only regular files are read
// (no devices, FIFOs or directories), up to a size limit, and optionally checked to be UTF-8, so a
// hostile path can neither hang the tool nor exhaust memory, and every error names the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

namespace persona::files {

struct Limits {
  std::uintmax_t max_bytes = 64ull << 20;  // 64 MiB; larger files are refused
  bool require_utf8 = true;                // refuse invalid UTF-8 (error names line and byte)
};

struct ReadResult {
  std::optional<std::string> text;  // set on success
  std::string error;                // "cannot read F: ..." (never the file's contents)
  std::uint32_t error_line = 0;     // for UTF-8 errors: 1-based line of the bad byte
  std::uint32_t error_column = 0;   // and its 1-based byte column
  [[nodiscard]] bool ok() const { return text.has_value(); }
};

// Reads `path` whole. `display` is the name used in messages (default: the path as given).
ReadResult read(const std::filesystem::path& path, const Limits& limits = {}, const std::string& display = {});

// Opens `path` for streaming (files too large to read whole: persona JSONL and CSV), with the
// same rule as read(): only a regular file, so a device (/dev/zero) or a FIFO can neither hang the
// reader nor feed it forever. nullptr and `error` ("cannot read F: ...") otherwise. The caller
// fcloses the stream. (Standard input is the caller's own choice, by the name "-".)
std::FILE* open_stream(const std::filesystem::path& path, std::string& error, const std::string& display = {});

// Writes `text` to `path` through `path.part` + rename (a reader never sees half a file).
bool write_atomic(const std::filesystem::path& path, std::string_view text, std::string& error);

// Hex SHA-256 of a text (fingerprints: recipes, tables, taxonomy files, prompt templates).
std::string sha256_hex(std::string_view data);

}  // namespace persona::files
