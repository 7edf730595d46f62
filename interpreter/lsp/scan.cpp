#include "lsp/scan.hpp"

#include <array>
#include <cctype>

namespace persona::lsp {

namespace {

bool word_first(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-'; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::size_t Token::content_begin() const {
  if (kind != Kind::string) return begin;
  return begin + (text.starts_with("\"\"\"") ? 3 : 1);
}

std::size_t Token::content_end() const {
  if (kind != Kind::string) return end;
  if (!closed) return end;
  return end - (text.size() >= 6 && text.starts_with("\"\"\"") ? 3 : 1);
}

std::vector<Token> scan(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  int depth = 0;
  bool line_start = true;
  auto push = [&](Token::Kind k, std::size_t b, std::size_t e, bool closed = true) {
    Token t;
    t.kind = k;
    t.begin = b;
    t.end = e;
    t.text = s.substr(b, e - b);
    t.closed = closed;
    t.first_on_line = line_start;
    t.depth = depth;
    line_start = false;
    if (k == Token::Kind::punct && t.text == "{") ++depth;
    if (k == Token::Kind::punct && t.text == "}" && depth > 0) --depth;
    out.push_back(t);
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      line_start = true;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    const std::size_t b = i;
    if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
      const bool keep = line_start;
      push(Token::Kind::comment, b, i);
      line_start = keep;  // a comment does not make the next line's first token any less first
      continue;
    }
    if (s.substr(i, 3) == "\"\"\"") {
      const auto close = s.find("\"\"\"", i + 3);
      if (close == std::string_view::npos) {
        push(Token::Kind::string, b, s.size(), false);
        break;
      }
      i = close + 3;
      push(Token::Kind::string, b, i);
      continue;
    }
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < s.size() && s[i] != '\n') {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] != '\n') {
          i += 2;
          continue;
        }
        if (s[i] == '"') {
          ++i;
          closed = true;
          break;
        }
        ++i;
      }
      push(Token::Kind::string, b, i, closed);
      continue;
    }
    if (word_first(c)) {
      while (i < s.size()) {
        if (word_char(s[i])) {
          ++i;
        } else if (s[i] == '.' && i + 1 < s.size() && word_first(s[i + 1])) {
          i += 2;  // dotted: stdlib.age_structure
        } else {
          break;
        }
      }
      push(Token::Kind::word, b, i);
      continue;
    }
    if (digit(c) || (c == '-' && i + 1 < s.size() && digit(s[i + 1]))) {
      ++i;
      while (i < s.size() && digit(s[i])) ++i;
      if (i + 1 < s.size() && s[i] == '.' && digit(s[i + 1])) {
        ++i;
        while (i < s.size() && digit(s[i])) ++i;
      }
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < s.size() && digit(s[j])) {
          i = j;
          while (i < s.size() && digit(s[i])) ++i;
        }
      }
      push(Token::Kind::number, b, i);
      continue;
    }
    if (s.substr(i, 2) == "<-" || s.substr(i, 2) == "..") {
      i += 2;
      push(Token::Kind::punct, b, i);
      continue;
    }
    // One character; a UTF-8 sequence stays whole so views never split a character.
    const auto u = static_cast<unsigned char>(c);
    std::size_t n = 1;
    if (u >= 0xC0) n = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : 2;
    i = std::min(s.size(), i + n);
    push(Token::Kind::punct, b, i);
  }
  return out;
}

std::string string_value(const Token& t) {
  if (t.kind != Token::Kind::string) return std::string(t.text);
  const std::string_view body = t.text.substr(t.content_begin() - t.begin, t.content_end() - t.content_begin());
  if (t.text.starts_with("\"\"\"")) return std::string(body);
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out += body[i];
      continue;
    }
    const char e = body[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '"':
      case '\\':
      case '{':
      case '}':
        out += e;
        break;
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

bool is_statement_keyword(std::string_view w) {
  static constexpr std::array<std::string_view, 14> k = {
      "recipe", "import", "extends",    "taxonomy",   "seed",      "table", "distribution",
      "anchor", "story",  "attributes", "population", "narrative", "model", "output"};
  for (auto x : k)
    if (x == w) return true;
  return false;
}

namespace {

bool is_setting_keyword(std::string_view w) {
  return w == "count" || w == "tiers" || w == "walk" || w == "include" || w == "exclude" || w == "always" ||
         w == "batch" || w == "context";
}

// A word that cannot end a statement: a statement keyword after it continues the statement
// (`anchor x ~` newline `table stdlib.x`).
bool continues(const Token& prev) {
  if (prev.kind == Token::Kind::punct)
    return prev.text == "~" || prev.text == "=" || prev.text == "," || prev.text == "<-" || prev.text == "(";
  if (prev.kind != Token::Kind::word) return false;
  static constexpr std::array<std::string_view, 10> w = {"by",  "from", "when", "and",   "or",
                                                         "not", "in",   "llm",  "clamp", "truncate"};
  for (auto x : w)
    if (prev.text == x) return true;
  return false;
}

class Builder {
 public:
  explicit Builder(const std::vector<Token>& toks) {
    for (const auto& t : toks)
      if (t.kind != Token::Kind::comment) t_.push_back(&t);
  }

  Outline run() {
    Outline o;
    std::size_t i = 0;
    while (i < t_.size()) {
      if (!starts_statement(i)) {
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < t_.size() && !starts_statement(j)) ++j;
      o.statements.push_back(statement(i, j));
      i = j;
    }
    return o;
  }

 private:
  std::vector<const Token*> t_;

  [[nodiscard]] bool starts_statement(std::size_t i) const {
    const Token& t = *t_[i];
    if (t.kind != Token::Kind::word || t.depth != 0 || !is_statement_keyword(t.text)) return false;
    if (i == 0) return true;
    const Token& prev = *t_[i - 1];
    if (continues(prev)) return false;
    // `table` and `model` also appear inside statements (a table draw, a model setting): only at
    // the start of a line do they start one.
    if (t.text == "table" || t.text == "model" || t.text == "seed") return t.first_on_line;
    return true;
  }

  [[nodiscard]] const Token* at(std::size_t i, std::size_t end) const { return i < end ? t_[i] : nullptr; }

  Symbol statement(std::size_t b, std::size_t e) {
    Symbol s;
    const Token& kw = *t_[b];
    s.kind = std::string(kw.text);
    s.name = s.kind;
    s.begin = kw.begin;
    s.end = t_[e - 1]->end;
    s.name_begin = kw.begin;
    s.name_end = kw.end;
    const Token* n1 = at(b + 1, e);
    auto name_from = [&](const Token* t) {
      if (t == nullptr) return;
      s.name = t->kind == Token::Kind::string ? string_value(*t) : std::string(t->text);
      s.name_begin = t->begin;
      s.name_end = t->end;
    };
    auto value_from = [&](const Token* t) {
      if (t == nullptr || t->kind != Token::Kind::string) return;
      s.detail = string_value(*t);
      s.value_begin = t->begin;
      s.value_end = t->end;
    };
    if (s.kind == "recipe") {
      if (n1 != nullptr && n1->kind == Token::Kind::string) name_from(n1);
      const Token* v = at(b + 3, e);
      if (v != nullptr && v->kind == Token::Kind::string && t_[b + 2]->is_word("version"))
        s.detail = "version " + string_value(*v);
    } else if (s.kind == "import" || s.kind == "extends") {
      if (n1 != nullptr && n1->kind == Token::Kind::string) {
        name_from(n1);
        value_from(n1);
      }
    } else if (s.kind == "taxonomy") {
      if (n1 != nullptr && n1->kind == Token::Kind::string) {
        name_from(n1);
        value_from(n1);
      } else if (n1 != nullptr && n1->kind == Token::Kind::word) {
        name_from(n1);
      }
    } else if (s.kind == "seed") {
      if (n1 != nullptr) s.detail = std::string(n1->text);
    } else if (s.kind == "table" || s.kind == "distribution" || s.kind == "anchor") {
      if (n1 != nullptr && n1->kind == Token::Kind::word) name_from(n1);
      if (s.kind == "table") value_from(at(b + 3, e));
      // The rest of the statement, for the outline's detail: "~ table stdlib.countries".
      if (b + 2 < e) s.detail = join(b + 2, e);
    } else if (s.kind == "narrative") {
      if (n1 != nullptr && n1->kind == Token::Kind::word) s.detail = join(b + 1, e);
    } else if (s.kind == "model") {
      if (n1 != nullptr && n1->kind == Token::Kind::string) s.detail = string_value(*n1);
    } else if (s.kind == "story" || s.kind == "attributes" || s.kind == "population" || s.kind == "output") {
      block(s, b, e);
    }
    return s;
  }

  [[nodiscard]] std::string join(std::size_t b, std::size_t e) const {
    std::string out;
    for (std::size_t i = b; i < e && out.size() < 80; ++i) {
      if (t_[i]->kind == Token::Kind::string && t_[i]->text.starts_with("\"\"\"")) {
        out += out.empty() ? "" : " ";
        out += "\"\"\"...\"\"\"";
        continue;
      }
      const bool tight = t_[i]->is_punct(",") || t_[i]->is_punct(")") || t_[i]->is_punct("..") ||
                         t_[i - 1]->is_punct("(") || t_[i - 1]->is_punct("..");
      if (!out.empty() && !tight) out += ' ';
      out += t_[i]->text;
    }
    return out;
  }

  void block(Symbol& s, std::size_t b, std::size_t e) {
    // Parts start at depth 1: a story step at NAME <-, a setting or an output key first on its line.
    std::vector<std::size_t> starts;
    for (std::size_t i = b + 1; i < e; ++i) {
      const Token& t = *t_[i];
      if (t.depth != 1 || t.kind != Token::Kind::word) continue;
      if (s.kind == "story") {
        if (i + 1 < e && t_[i + 1]->is_punct("<-")) starts.push_back(i);
      } else if (s.kind == "attributes") {
        if (t.first_on_line && is_setting_keyword(t.text)) starts.push_back(i);
      } else if (s.kind == "population") {
        if (t.first_on_line && (t.is_word("calibrate") || t.is_word("oversample"))) starts.push_back(i);
      } else if (t.first_on_line) {
        starts.push_back(i);
      }
    }
    for (std::size_t k = 0; k < starts.size(); ++k) {
      std::size_t stop = k + 1 < starts.size() ? starts[k + 1] : e;
      // A part ends before the block's closing brace.
      while (stop > starts[k] + 1 && t_[stop - 1]->is_punct("}") && t_[stop - 1]->depth == 1) --stop;
      const std::size_t i = starts[k];
      Symbol p;
      p.begin = t_[i]->begin;
      p.end = t_[stop - 1]->end;
      p.name = std::string(t_[i]->text);
      p.name_begin = t_[i]->begin;
      p.name_end = t_[i]->end;
      if (s.kind == "story") {
        p.kind = "step";
        if (i + 3 < stop && t_[i + 3]->kind == Token::Kind::string) p.detail = "llm " + std::string(t_[i + 3]->text);
      } else if (s.kind == "attributes" || s.kind == "population") {
        p.kind = "setting";
        p.detail = join(i + 1, stop);
        if ((p.name == "include" || p.name == "exclude" || p.name == "always") && i + 1 < stop &&
            t_[i + 1]->kind == Token::Kind::string) {
          p.value_begin = t_[i + 1]->begin;
          p.value_end = t_[i + 1]->end;
        }
      } else {
        p.kind = "key";
        p.detail = join(i + 1, stop);
      }
      s.children.push_back(std::move(p));
    }
  }
};

void collect(const std::vector<Symbol>& list, std::string_view kind, std::vector<const Symbol*>& out) {
  for (const auto& s : list) {
    if (s.kind == kind) out.push_back(&s);
    collect(s.children, kind, out);
  }
}

}  // namespace

Outline outline(const std::vector<Token>& tokens) { return Builder(tokens).run(); }

const Symbol* Outline::declaration(std::string_view name) const {
  for (const char* kind : {"anchor", "step", "table", "distribution"})
    for (const Symbol* s : all(kind))
      if (s->name == name) return s;
  return nullptr;
}

std::vector<const Symbol*> Outline::all(std::string_view kind) const {
  std::vector<const Symbol*> out;
  collect(statements, kind, out);
  return out;
}

}  // namespace persona::lsp
