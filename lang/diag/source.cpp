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

std::string render(const Diagnostic& d, const SourceFiles* sources, bool color) {
  std::string out;
  const std::string bold = color ? "\x1b[1m" : "";
  const std::string reset = color ? "\x1b[0m" : "";
  out += bold;
  out += d.where.file.empty() ? std::string("<input>") : d.where.file;
  if (d.where.line > 0) {
    out += ':' + std::to_string(d.where.line) + ':' + std::to_string(d.where.column == 0 ? 1 : d.where.column);
  }
  out += ": " + reset;
  out += color ? severity_color(d.severity) : "";
  out += severity_name(d.severity);
  out += reset + ": " + bold + d.message + reset + '\n';

  if (sources != nullptr && d.where.line > 0) {
    std::string_view text = sources->line(d.where.file, d.where.line);
    if (!text.empty() || sources->text(d.where.file) != nullptr) {
      std::string gutter = std::to_string(d.where.line);
      out += ' ' + gutter + " | ";
      // Tabs shown as one space so the caret lines up; control bytes (binary input) as '?'.
      for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out += c == '\t' ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c;
      }
      out += '\n';
      out += ' ' + std::string(gutter.size(), ' ') + " | ";
      const std::uint32_t col = d.where.column == 0 ? 1 : d.where.column;
      out += std::string(col - 1, ' ');
      std::uint32_t len = d.where.length == 0 ? 1 : d.where.length;
      if (col - 1 + len > text.size() && text.size() >= col) len = static_cast<std::uint32_t>(text.size() - (col - 1));
      if (len == 0) len = 1;
      out += color ? std::string(severity_color(d.severity)) : std::string();
      out += '^' + std::string(len - 1, '~');
      out += reset + '\n';
    }
  }
  for (const auto& n : d.notes) out += "  note: " + n + '\n';
  return out;
}

}  // namespace persona
