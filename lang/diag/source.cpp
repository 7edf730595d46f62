#include "diag/source.hpp"

#include <algorithm>

#include "base/files.hpp"

namespace persona {

std::optional<std::string_view> SourceFiles::load(const std::string& path, LoadError* error) {
  files::Limits limits;
  limits.max_bytes = max_bytes;
  files::ReadResult r = files::read(path, limits);
  if (!r.ok()) {
    if (error != nullptr) {
      error->line = r.error_line;
      error->column = r.error_column;
      error->message = r.error;
      // A UTF-8 error reads "PATH:LINE:COL: not valid UTF-8 ..."; the position goes in line/column.
      if (r.error_line > 0) {
        const std::string prefix =
            path + ":" + std::to_string(r.error_line) + ":" + std::to_string(r.error_column) + ": ";
        if (error->message.rfind(prefix, 0) == 0) error->message.erase(0, prefix.size());
      }
    }
    return std::nullopt;
  }
  return std::string_view(add(path, std::move(*r.text)));
}

namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::note:
      return "note";
  }
  return "error";
}

const char* severity_color(Severity s) {
  switch (s) {
    case Severity::error:
      return "\x1b[1;31m";
    case Severity::warning:
      return "\x1b[1;35m";
    case Severity::note:
      return "\x1b[1;36m";
  }
  return "";
}

}  // namespace

namespace {

// Characters (UTF-8 code points) in a byte range: continuation bytes do not count.
std::size_t chars_in(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// The byte offset of the character `chars` characters into `s` (s.size() past the end).
std::size_t byte_of_char(std::string_view s, std::size_t chars) {
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (chars == 0) return i;
    --chars;
  }
  return s.size();
}

// The 1-based character column of a byte column on `line` (columns in SourceRange count bytes).
std::uint32_t char_column(std::string_view line, std::uint32_t byte_column) {
  const std::size_t b = std::min<std::size_t>(byte_column == 0 ? 0 : byte_column - 1, line.size());
  return static_cast<std::uint32_t>(chars_in(line.substr(0, b)) + 1);
}

constexpr std::size_t kMaxExcerpt = 120;  // characters of a source line shown around the caret

// The source line of `where` with a gutter, and a caret spanning the token under it. Columns are
// counted in characters, so a caret after "café" lines up; a line longer than kMaxExcerpt
// characters is clipped to a window around the caret, marked with "...".
void append_excerpt(std::string& out, const SourceRange& where, const SourceFiles* sources, const char* caret_color,
                    const std::string& reset) {
  if (sources == nullptr || where.line == 0) return;
  std::string_view text = sources->line(where.file, where.line);
  if (text.empty() && sources->text(where.file) == nullptr) return;
  const std::size_t col_byte = std::min<std::size_t>(where.column == 0 ? 0 : where.column - 1, text.size());
  const std::size_t len_byte = std::min<std::size_t>(where.length, text.size() - col_byte);
  std::size_t caret = chars_in(text.substr(0, col_byte));
  std::size_t width = std::max<std::size_t>(1, chars_in(text.substr(col_byte, len_byte)));
  const std::size_t total = chars_in(text);
  std::size_t first = 0, last = total;  // the characters shown: [first, last)
  if (total > kMaxExcerpt) {
    first = caret > kMaxExcerpt / 3 ? caret - kMaxExcerpt / 3 : 0;
    last = std::min(total, first + kMaxExcerpt);
  }
  const std::string_view shown =
      text.substr(byte_of_char(text, first), byte_of_char(text, last) - byte_of_char(text, first));
  const std::string gutter = std::to_string(where.line);
  out += ' ' + gutter + " | ";
  if (first > 0) out += "...";
  // Tabs shown as one space so the caret lines up; control bytes (binary input) as '?'.
  for (char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    out += c == '\t' ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (last < total) out += "...";
  out += '\n';
  out += ' ' + std::string(gutter.size(), ' ') + " | ";
  if (first > 0) out += "   ";
  caret = caret >= first ? caret - first : 0;
  const std::size_t visible = last - first;
  if (caret > visible) caret = visible;
  if (caret + width > visible + 1) width = std::max<std::size_t>(1, visible + 1 - caret);
  out += std::string(caret, ' ');
  out += caret_color;
  out += '^' + std::string(width - 1, '~');
  out += reset + '\n';
}

// "FILE:LINE:COL" with COL in characters when the line is known.
std::string location(const SourceRange& where, const SourceFiles* sources) {
  if (sources == nullptr || where.line == 0 || sources->text(where.file) == nullptr) return to_string(where);
  SourceRange shown = where;
  shown.column = char_column(sources->line(where.file, where.line), where.column == 0 ? 1 : where.column);
  return to_string(shown);
}

}  // namespace

std::string render(const Diagnostic& d, const SourceFiles* sources, bool color) {
  std::string out;
  const std::string bold = color ? "\x1b[1m" : "";
  const std::string reset = color ? "\x1b[0m" : "";
  out += bold + location(d.where, sources) + ": " + reset;
  out += color ? severity_color(d.severity) : "";
  out += severity_name(d.severity);
  out += reset + ": " + bold + d.message + reset + '\n';
  append_excerpt(out, d.where, sources, color ? severity_color(d.severity) : "", reset);
  for (const auto& n : d.notes) out += "  note: " + n + '\n';
  for (const auto& r : d.related) {
    out += bold + location(r.where, sources) + ": " + reset + (color ? severity_color(Severity::note) : "") + "note" +
           reset + ": " + r.message + '\n';
    append_excerpt(out, r.where, sources, color ? severity_color(Severity::note) : "", reset);
  }
  return out;
}

}  // namespace persona
