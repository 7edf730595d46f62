// An open document as the language server holds it: its text, and the conversions between byte
// offsets (what the front end reports, as 1-based line and byte column) and LSP positions (0-based
// line and character, counted in UTF-16 code units unless the client agreed to UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace persona::lsp {

enum class Encoding { utf16, utf8 };

struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;
  bool operator==(const Position&) const = default;
};

struct Range {
  Position start, end;
  bool operator==(const Range&) const = default;
};

class Text {
 public:
  Text() { index(); }
  explicit Text(std::string text) : text_(std::move(text)) { index(); }

  [[nodiscard]] const std::string& str() const { return text_; }
  [[nodiscard]] std::size_t size() const { return text_.size(); }
  [[nodiscard]] std::size_t line_count() const { return starts_.size(); }
  // Byte offset where line `line` (0-based) starts; size() past the last line.
  [[nodiscard]] std::size_t line_start(std::size_t line) const;
  // The line's text without its line break.
  [[nodiscard]] std::string_view line_text(std::size_t line) const;

  // Byte offset of a position; a character past the end of its line clamps to the line's end and a
  // line past the end clamps to the end of the text.
  [[nodiscard]] std::size_t offset(Position p, Encoding enc) const;
  [[nodiscard]] Position position(std::size_t offset, Encoding enc) const;
  // From the front end's 1-based line and byte column.
  [[nodiscard]] std::size_t offset_of_column(std::uint32_t line1, std::uint32_t column1) const;

  // Replaces [begin, end) by `with`.
  void replace(std::size_t begin, std::size_t end, std::string_view with);

 private:
  void index();
  std::string text_;
  std::vector<std::size_t> starts_;
};

// file:///a/b%20c.persona -> /a/b c.persona; nullopt for other schemes or malformed escapes.
std::optional<std::string> uri_to_path(std::string_view uri);
// /a/b c.persona -> file:///a/b%20c.persona
std::string path_to_uri(std::string_view path);

}  // namespace persona::lsp
