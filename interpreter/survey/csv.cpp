// CSV reading with positions (csv.hpp).
#include "survey/csv.hpp"

#include "base/text.hpp"

namespace persona::survey::csv {

Parsed parse(std::string_view text) {
  Parsed out;
  std::size_t pos = 0;
  std::uint32_t line = 1;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;  // UTF-8 byte order mark
  while (pos < text.size()) {
    // Skip blank and comment lines.
    const std::size_t eol = text.find('\n', pos);
    const std::string_view raw = text.substr(pos, eol == std::string_view::npos ? text.size() - pos : eol - pos);
    const std::string_view t = text::trim(raw);
    if (t.empty() || t.front() == '#') {
      pos = eol == std::string_view::npos ? text.size() : eol + 1;
      ++line;
      continue;
    }
    Row row;
    row.line = line;
    Field f;
    f.column = 1;
    std::uint32_t col = 1;
    bool quoted = false, was_quoted = false;
    const std::uint32_t start_line = line;
    std::uint32_t quote_col = 0;
    bool done = false;
    while (pos < text.size() && !done) {
      const char c = text[pos];
      if (quoted) {
        if (c == '"') {
          if (pos + 1 < text.size() && text[pos + 1] == '"') {
            f.text += '"';
            pos += 2;
            col += 2;
            continue;
          }
          quoted = false;
        } else {
          if (c == '\n') {
            ++line;
            col = 0;
          }
          f.text += c;
        }
        ++pos;
        ++col;
        continue;
      }
      if (c == '"' && text::trim(f.text).empty() && !was_quoted) {
        f.text.clear();
        quoted = was_quoted = true;
        quote_col = col;
        ++pos;
        ++col;
        continue;
      }
      if (c == ',' || c == '\n') {
        row.fields.push_back(Field{was_quoted ? f.text : std::string(text::trim(f.text)), f.column});
        f.text.clear();
        was_quoted = false;
        ++pos;
        ++col;
        f.column = col;
        if (c == '\n') {
          ++line;
          done = true;
        }
        continue;
      }
      if (c != '\r') f.text += c;
      ++pos;
      ++col;
    }
    if (quoted) {
      out.error = "unterminated quoted field";
      out.error_line = start_line;
      out.error_column = quote_col;
      return out;
    }
    if (!done) row.fields.push_back(Field{was_quoted ? f.text : std::string(text::trim(f.text)), f.column});
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string quote(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace persona::survey::csv
