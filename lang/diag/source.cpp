#include "diag/source.hpp"

#include <fstream>
#include <sstream>

namespace persona {

std::optional<std::string_view> SourceFiles::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::string_view(add(path, std::move(buf).str()));
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

// The source line of `where` with a gutter, and a caret spanning the token under it.
void append_excerpt(std::string& out, const SourceRange& where, const SourceFiles* sources, const char* caret_color,
                    const std::string& reset) {
  if (sources == nullptr || where.line == 0) return;
  std::string_view text = sources->line(where.file, where.line);
  if (text.empty() && sources->text(where.file) == nullptr) return;
  const std::string gutter = std::to_string(where.line);
  out += ' ' + gutter + " | ";
  // Tabs shown as one space so the caret lines up; control bytes (binary input) as '?'.
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += c == '\t' ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  out += '\n';
  out += ' ' + std::string(gutter.size(), ' ') + " | ";
  const std::uint32_t col = where.column == 0 ? 1 : where.column;
  out += std::string(col - 1, ' ');
  std::uint32_t len = where.length == 0 ? 1 : where.length;
  if (col - 1 + len > text.size() && text.size() >= col) len = static_cast<std::uint32_t>(text.size() - (col - 1));
  if (len == 0) len = 1;
  out += caret_color;
  out += '^' + std::string(len - 1, '~');
  out += reset + '\n';
}

}  // namespace

std::string render(const Diagnostic& d, const SourceFiles* sources, bool color) {
  std::string out;
  const std::string bold = color ? "\x1b[1m" : "";
  const std::string reset = color ? "\x1b[0m" : "";
  out += bold + to_string(d.where) + ": " + reset;
  out += color ? severity_color(d.severity) : "";
  out += severity_name(d.severity);
  out += reset + ": " + bold + d.message + reset + '\n';
  append_excerpt(out, d.where, sources, color ? severity_color(d.severity) : "", reset);
  for (const auto& n : d.notes) out += "  note: " + n + '\n';
  for (const auto& r : d.related) {
    out += bold + to_string(r.where) + ": " + reset + (color ? severity_color(Severity::note) : "") + "note" + reset +
           ": " + r.message + '\n';
    append_excerpt(out, r.where, sources, color ? severity_color(Severity::note) : "", reset);
  }
  return out;
}

}  // namespace persona
