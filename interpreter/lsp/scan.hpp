// A tolerant scanner and outline of recipe text for the editor features. Unlike the parser it
// never stops at an error: a half-typed recipe still yields its tokens, its statements and the
// names it declares, which is what completion, hover, go to definition and document symbols need
// while the user types. Diagnostics still come from the real front end (lang/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace persona::lsp {

struct Token {
  enum class Kind { word, number, string, punct, comment };
  Kind kind = Kind::word;
  std::size_t begin = 0, end = 0;  // byte offsets
  std::string_view text;           // a view into the scanned text
  bool closed = true;              // strings: the closing quote was found
  bool first_on_line = false;      // nothing but blanks before it on its line
  int depth = 0;                   // brace depth before the token

  [[nodiscard]] bool is(Kind k, std::string_view t) const { return kind == k && text == t; }
  [[nodiscard]] bool is_word(std::string_view t) const { return is(Kind::word, t); }
  [[nodiscard]] bool is_punct(std::string_view t) const { return is(Kind::punct, t); }
  // Strings: the offsets of the content between the quotes.
  [[nodiscard]] std::size_t content_begin() const;
  [[nodiscard]] std::size_t content_end() const;
};

// Words (with dots and dashes: stdlib.age_structure, random-bfs), numbers, strings ("..." and
// """..."""), punctuation (`{ } ( ) , : = ~ * <- ..` and any other single byte) and comments.
std::vector<Token> scan(std::string_view text);

// The content of a string token with its escapes undone (\" \\ \n \t ...; other escapes kept).
std::string string_value(const Token& t);

// A statement or a part of a block (a story step, an attribute setting, an output key).
struct Symbol {
  std::string kind;  // recipe import extends taxonomy seed table distribution anchor story step
                     // attributes setting narrative model output key
  std::string name;  // the declared name, the string of a header/import, the keyword otherwise
  std::string detail;
  std::size_t begin = 0, end = 0;              // the whole statement
  std::size_t name_begin = 0, name_end = 0;    // what names it (selection range)
  std::size_t value_begin = 0, value_end = 0;  // a string it points at (table path, import path)
  std::vector<Symbol> children;
};

struct Outline {
  std::vector<Symbol> statements;  // in file order; blocks hold their parts as children

  // The first declaration of `name` among anchors, story steps, tables and distributions.
  [[nodiscard]] const Symbol* declaration(std::string_view name) const;
  [[nodiscard]] std::vector<const Symbol*> all(std::string_view kind) const;
};

Outline outline(const std::vector<Token>& tokens);

// Words that start a top-level statement.
bool is_statement_keyword(std::string_view w);

}  // namespace persona::lsp
