#include "lsp/document.hpp"

#include <algorithm>

namespace persona::lsp {

namespace {

// Bytes in the UTF-8 sequence led by `c` (1 for continuation or invalid bytes, so a walk always
// advances).
std::size_t seq_len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

}  // namespace

void Text::index() {
  starts_.clear();
  starts_.push_back(0);
  for (std::size_t i = 0; i < text_.size(); ++i)
    if (text_[i] == '\n') starts_.push_back(i + 1);
}

std::size_t Text::line_start(std::size_t line) const { return line < starts_.size() ? starts_[line] : text_.size(); }

std::string_view Text::line_text(std::size_t line) const {
  if (line >= starts_.size()) return {};
  std::size_t b = starts_[line];
  std::size_t e = line + 1 < starts_.size() ? starts_[line + 1] - 1 : text_.size();
  if (e > b && text_[e - 1] == '\r') --e;
  return std::string_view(text_).substr(b, e - b);
}

std::size_t Text::offset(Position p, Encoding enc) const {
  if (p.line >= starts_.size()) return text_.size();
  const std::size_t b = starts_[p.line];
  const std::string_view line = line_text(p.line);
  if (enc == Encoding::utf8) return b + std::min<std::size_t>(p.character, line.size());
  std::size_t i = 0, units = 0;
  while (i < line.size() && units < p.character) {
    const std::size_t n = std::min(seq_len(static_cast<unsigned char>(line[i])), line.size() - i);
    units += n == 4 ? 2 : 1;
    i += n;
  }
  return b + i;
}

Position Text::position(std::size_t off, Encoding enc) const {
  off = std::min(off, text_.size());
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), off);
  const std::size_t line = static_cast<std::size_t>(it - starts_.begin()) - 1;
  const std::size_t b = starts_[line];
  Position p;
  p.line = static_cast<std::uint32_t>(line);
  if (enc == Encoding::utf8) {
    p.character = static_cast<std::uint32_t>(off - b);
    return p;
  }
  std::uint32_t units = 0;
  for (std::size_t i = b; i < off;) {
    const std::size_t n = seq_len(static_cast<unsigned char>(text_[i]));
    units += n == 4 ? 2 : 1;
    i += n;
  }
  p.character = units;
  return p;
}

std::size_t Text::offset_of_column(std::uint32_t line1, std::uint32_t column1) const {
  if (line1 == 0) return 0;
  const std::size_t line = line1 - 1;
  if (line >= starts_.size()) return text_.size();
  const std::size_t col = column1 > 0 ? column1 - 1 : 0;
  return starts_[line] + std::min(col, line_text(line).size());
}

void Text::replace(std::size_t begin, std::size_t end, std::string_view with) {
  begin = std::min(begin, text_.size());
  end = std::clamp(end, begin, text_.size());
  text_.replace(begin, end - begin, with);
  index();
}

std::optional<std::string> uri_to_path(std::string_view uri) {
  constexpr std::string_view scheme = "file://";
  if (!uri.starts_with(scheme)) return std::nullopt;
  uri.remove_prefix(scheme.size());
  // file://host/path: only an empty host or localhost names this machine.
  const auto slash = uri.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view host = uri.substr(0, slash);
  if (!host.empty() && host != "localhost") return std::nullopt;
  uri.remove_prefix(slash);
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == '?' || c == '#') break;
    if (c != '%') {
      out += c;
      continue;
    }
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    if (i + 2 >= uri.size()) return std::nullopt;
    const int hi = hex(uri[i + 1]), lo = hex(uri[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return std::nullopt;
    out += decoded;
    i += 2;
  }
  return out;
}

std::string path_to_uri(std::string_view path) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
                       c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace persona::lsp
