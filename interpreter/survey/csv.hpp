// A small RFC 4180 reader for the survey's CSV files (targets, answers) that keeps the line and
// column of every field for diagnostics. Blank lines and lines starting with '#' are skipped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace persona::survey::csv {

struct Field {
  std::string text;  // unquoted; unquoted fields are trimmed of spaces and tabs
  std::uint32_t column = 1;
};

struct Row {
  std::uint32_t line = 0;
  std::vector<Field> fields;
};

struct Parsed {
  std::vector<Row> rows;
  std::string error;  // set on an unterminated quote
  std::uint32_t error_line = 0, error_column = 0;
  [[nodiscard]] bool ok() const { return error.empty(); }
};

Parsed parse(std::string_view text);

// CSV quoting of one field (quotes when it holds a comma, quote, CR or LF).
std::string quote(std::string_view s);

}  // namespace persona::survey::csv
