// The parser's driver: recipe text -> ast::Recipe through the grammar (grammar.hpp) and its actions
// (actions.hpp, statement_actions.hpp). After a syntax error it resumes at the next line that starts
// with a statement keyword, so one run reports several errors. It never prints and never throws.
#include "syntax/parser.hpp"

#include <cctype>

#include "syntax/statement_actions.hpp"

namespace persona::lang {

using namespace parsing;

namespace {

bool only_space_after(std::string_view text, std::size_t byte) {
  bool in_comment = false;
  for (std::size_t i = byte; i < text.size(); ++i) {
    const char c = text[i];
    if (in_comment) {
      if (c == '\n') in_comment = false;
      continue;
    }
    if (c == '#')
      in_comment = true;
    else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return false;
  }
  return true;
}

// The byte offset of the next line after `byte` that starts (in column 1) with a statement keyword.
std::size_t next_statement(std::string_view text, std::size_t byte) {
  std::size_t pos = text.find('\n', byte);
  while (pos != std::string_view::npos) {
    const std::size_t start = pos + 1;
    for (const auto& k : statement_keywords()) {
      if (text.substr(start, k.size()) == k) {
        const std::size_t after = start + k.size();
        if (after >= text.size() || text[after] == ' ' || text[after] == '\t' || text[after] == '\n' ||
            text[after] == '{' || text[after] == '\r')
          return start;
      }
    }
    pos = text.find('\n', start);
  }
  return std::string_view::npos;
}

// A word with non-ASCII letters stops the grammar in its middle ("café"): say so and span the rest
// of the word, instead of a generic message under its first non-ASCII byte.
void non_ascii_message(std::string_view text, std::size_t byte, std::string& msg, std::uint32_t& len) {
  if (byte >= text.size() || static_cast<unsigned char>(text[byte]) < 0x80) return;
  const auto word_byte = [&](std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    return c >= 0x80 || std::isalnum(c) != 0 || c == '_' || c == '-';
  };
  std::size_t b = byte, e = byte;
  while (b > 0 && word_byte(b - 1)) --b;
  while (e < text.size() && word_byte(e)) ++e;
  const std::string word(text.substr(b, e - b));
  msg = "unexpected non-ASCII character in '" + word +
        "': names and bare labels are ASCII (letters, digits, '_', '-'); quote a label: \"" + word + "\"";
  len = static_cast<std::uint32_t>(e - byte);
}

}  // namespace

ParseResult parse_recipe(std::string_view text, const std::string& file, DiagnosticSink& sink) {
  DiagnosticList local;
  State st;
  st.file = file;
  st.text = text;
  st.sink = &local;
  ParseResult result;
  std::size_t begin = 0, line = 1, column = 1;
  int syntax_errors = 0;
  for (;;) {
    pegtl::memory_input<> in(text.data() + begin, text.data() + text.size(), file, begin, line, column);
    st.items.clear();
    st.marks.clear();
    st.error_length = 0;
    st.depth = 0;
    st.depth_marks.clear();
    try {
      pegtl::parse<g::recipe, action, control>(in, st);
      break;
    } catch (const pegtl::parse_error& e) {
      const auto& p = e.positions().front();
      std::string msg(e.message());
      std::uint32_t len = st.error_length != 0 ? st.error_length : token_length(text, p.byte);
      if (st.error_length == 0) non_ascii_message(text, p.byte, msg, len);
      if (syntax_errors == 0 && only_space_after(text, p.byte)) result.incomplete = true;
      // An error found after a line break belongs to the end of the previous token:
      // "anchor age ~" <newline> "anchor ..." is reported after the '~', not at the next anchor.
      SourceRange where{file, static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column), len};
      std::size_t back = p.byte;
      std::uint32_t newlines = 0;
      while (back > begin &&
             (text[back - 1] == ' ' || text[back - 1] == '\t' || text[back - 1] == '\n' || text[back - 1] == '\r')) {
        if (text[back - 1] == '\n') ++newlines;
        --back;
      }
      if (newlines > 0 && back > begin && st.error_length == 0) {
        std::size_t line_start = text.rfind('\n', back - 1);
        line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
        where.line = static_cast<std::uint32_t>(p.line - newlines);
        where.column = static_cast<std::uint32_t>(back - line_start + 1);
        where.length = 1;
      }
      local.error(where, "syntax", msg);
      if (++syntax_errors >= 20) break;
      // Resume at the statement the error stopped at when it is the first token of its line
      // ("anchor age ~" <newline> "anchor b = 1"); else at the next line that starts a statement.
      std::size_t next = std::string_view::npos;
      const std::size_t line_begin = p.byte - (p.column - 1);
      if (p.column == 1 && p.byte > begin && line_begin > begin) {
        const std::size_t probe = next_statement(text, line_begin - 1);
        if (probe == line_begin) next = probe;
      }
      if (next == std::string_view::npos) next = next_statement(text, p.byte);
      if (next == std::string_view::npos) break;
      // Count lines up to `next` to restart with a correct position.
      line = p.line;
      if (next >= p.byte) {
        for (std::size_t i = p.byte; i < next; ++i)
          if (text[i] == '\n') ++line;
      }
      begin = next;
      column = 1;
    }
  }
  const bool failed = local.has_errors();
  for (const auto& d : local.all()) sink.report(d);
  if (!failed) result.recipe = std::move(st.recipe);
  return result;
}

}  // namespace persona::lang
