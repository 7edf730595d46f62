// Parser actions, part 1: the parse state, the control class (backtracking marks, error messages,
// the nesting limit) and the actions of the leaf rules, conditions and distributions. Part 2
// (statement_actions.hpp) builds statements; parser.cpp drives the parse. Included only by
// parser.cpp and condition_parser.cpp.
//
// Leaf rules (names, numbers, strings, operators) push an Item on a stack; composite rules pop the
// items their match produced and push the node they build; statements store themselves in the
// Recipe. The control class remembers the stack height when each rule starts and truncates the
// stack when the rule fails, so backtracking never leaves stray items behind.
#pragma once

#include <charconv>
#include <cstdlib>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "cond/condition.hpp"
#include "syntax/ast.hpp"
#include "syntax/errors.hpp"
#include "syntax/grammar.hpp"

namespace persona::lang::parsing {

namespace pegtl = tao::pegtl;
namespace g = grammar;

struct Kw {
  std::string text;
  SourceRange where;
};

using Item = std::variant<ast::Ident, ast::StringLit, ast::Number, ast::Range, Kw, ast::Choice, ast::Categorical,
                          ast::Numeric, ast::TableDraw, ast::DistRef, ast::Distribution, ast::Field, ast::Shape,
                          ast::Param, cond::Condition, ast::StoryStep, ast::Tone>;

struct State {
  std::string file;
  std::string_view text;
  DiagnosticSink* sink = nullptr;
  std::vector<Item> items;
  std::vector<std::size_t> marks;
  ast::Recipe recipe;
  ast::Attributes attrs;  // the attributes block being read
  ast::Population pop;    // the population block being read
  std::set<std::size_t> comment_offsets;
  std::uint32_t error_length = 0;  // set by actions that raise, for the caret
  std::uint32_t close_line = 0;    // line of the last block's closing '}'
  int depth = 0;                   // levels of parentheses and `not` open (the nesting limit)
  std::vector<int> depth_marks;    // the depth when each open paren_cond / negation started

  std::vector<Item> take() {
    const std::size_t m = marks.back();
    std::vector<Item> out(std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(m)),
                          std::make_move_iterator(items.end()));
    items.resize(m);
    return out;
  }
};

template <typename Input>
SourceRange range_of(const Input& in, const State& st) {
  const auto p = in.position();
  return SourceRange{st.file, static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column),
                     static_cast<std::uint32_t>(in.size())};
}

template <typename T>
T* get(std::vector<Item>& items, std::size_t i) {
  return i < items.size() ? std::get_if<T>(&items[i]) : nullptr;
}

inline double to_double(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

inline std::string unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    const char e = raw[++i];
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
      case '0':
        out += '\0';
        break;
      case 'u': {
        unsigned cp = 0;
        std::from_chars(raw.data() + i + 1, raw.data() + i + 5, cp, 16);
        i += 4;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        out += e;
        break;  // \" \\ \{ \}
    }
  }
  return out;
}

// The length of the token at `byte` for a caret: a word (with its UTF-8 letters) or one character.
inline std::uint32_t token_length(std::string_view text, std::size_t byte) {
  if (byte >= text.size()) return 1;
  const auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  };
  std::size_t e = byte;
  while (e < text.size() && is_word(text[e])) ++e;
  if (e == byte) {  // one character: a UTF-8 sequence counts as one
    ++e;
    while (e < text.size() && (static_cast<unsigned char>(text[e]) & 0xC0) == 0x80) ++e;
  }
  return static_cast<std::uint32_t>(e - byte);
}

// ---- control: marks for backtracking, error messages, the nesting limit ----

// The recursive rules: each level of parentheses or `not` costs stack, so their depth is limited.
// An opener that matches adds a level; the rule it opens restores the depth when it ends.
template <typename Rule>
inline constexpr bool nests = std::is_same_v<Rule, g::paren_cond> || std::is_same_v<Rule, g::negation>;
template <typename Rule>
inline constexpr std::size_t opener = std::is_same_v<Rule, g::paren_open> ? 1
                                      : std::is_same_v<Rule, g::not_open> ? 3
                                                                          : 0;

// must_if<..., true>: every rule that a must<> can raise on has a message in errors.hpp (checked at
// compile time).
template <typename Rule>
struct control : pegtl::must_if<g::error, pegtl::normal, true>::control<Rule> {
  using base = typename pegtl::must_if<g::error, pegtl::normal, true>::template control<Rule>;

  template <typename Input>
  static void start(const Input& /*in*/, State& st) {
    if constexpr (nests<Rule>) st.depth_marks.push_back(st.depth);
    st.marks.push_back(st.items.size());
  }
  template <typename Input>
  static void success(const Input& in, State& st) {
    if constexpr (nests<Rule>) {
      st.depth = st.depth_marks.back();
      st.depth_marks.pop_back();
    }
    if constexpr (opener<Rule> != 0) {
      if (++st.depth > cond::max_nesting) {
        auto p = in.position();  // just after the opener: point at it
        p.byte -= opener<Rule>;
        p.column -= opener<Rule>;
        st.error_length = static_cast<std::uint32_t>(opener<Rule>);
        throw pegtl::parse_error(
            "nested too deeply: more than " + std::to_string(cond::max_nesting) + " levels of parentheses and 'not'",
            p);
      }
    }
    st.marks.pop_back();
  }
  template <typename Input>
  static void failure(const Input& in, State& st) {
    if constexpr (nests<Rule>) {
      st.depth = st.depth_marks.back();
      st.depth_marks.pop_back();
    }
    st.items.resize(st.marks.back());
    st.marks.pop_back();
    base::failure(in, st);
  }
};

// ---- actions ----

template <typename Rule>
struct action : pegtl::nothing<Rule> {};

struct push_ident {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.items.emplace_back(ast::Ident{{range_of(in, st)}, in.string()});
  }
};
template <>
struct action<g::name> : push_ident {};
template <>
struct action<g::dotted> : push_ident {};
template <>
struct action<g::bare_word> : push_ident {};
template <>
struct action<g::cond_var> : push_ident {};
template <>
struct action<g::walk_kind> : push_ident {};
template <>
struct action<g::prefer_kind> : push_ident {};
template <>
struct action<g::narrative_voice> : push_ident {};
template <>
struct action<g::field_type> : push_ident {};
template <>
struct action<g::param_key> : push_ident {};
template <>
struct action<g::output_key> : push_ident {};

struct push_kw {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.items.emplace_back(Kw{in.string(), range_of(in, st)});
  }
};
template <>
struct action<g::bound_kind> : push_kw {};
template <>
struct action<g::kw_random> : push_kw {};
template <>
struct action<g::round_flag> : push_kw {};
template <>
struct action<g::include_kind> : push_kw {};
template <>
struct action<g::filter_kind> : push_kw {};
template <>
struct action<g::star_glob> : push_kw {};
template <>
struct action<g::cmp_op> : push_kw {};
template <>
struct action<g::op_in> : push_kw {};
template <>
struct action<g::op_not_in> : push_kw {};
template <>
struct action<g::absent_mark> : push_kw {};

struct push_number {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    std::string t = in.string();
    st.items.emplace_back(ast::Number{{range_of(in, st)}, to_double(t), t});
  }
};
template <>
struct action<g::number> : push_number {};
template <>
struct action<g::number_label> : push_number {};

template <>
struct action<g::single> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    std::string t = in.string();
    ast::Number n{{range_of(in, st)}, to_double(t), t};
    ast::Range r{{range_of(in, st)}, n, n, true};
    st.items.emplace_back(std::move(r));
  }
};

template <>
struct action<g::range_full> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Range r{{range_of(in, st)}, *get<ast::Number>(items, 0), *get<ast::Number>(items, 1), false};
    st.items.emplace_back(std::move(r));
  }
};
template <>
struct action<g::range_lo> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Range r{{range_of(in, st)}, *get<ast::Number>(items, 0), std::nullopt, false};
    st.items.emplace_back(std::move(r));
  }
};
template <>
struct action<g::range_hi> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Range r{{range_of(in, st)}, std::nullopt, *get<ast::Number>(items, 0), false};
    st.items.emplace_back(std::move(r));
  }
};

template <>
struct action<g::dq_string> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string_view raw(in.begin() + 1, in.size() - 2);
    st.items.emplace_back(ast::StringLit{{range_of(in, st)}, unescape(raw)});
  }
};
template <>
struct action<g::tq_string> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    std::string_view raw(in.begin() + 3, in.size() - 6);
    if (!raw.empty() && raw.front() == '\n') raw.remove_prefix(1);  // """\n... starts on the next line
    st.items.emplace_back(ast::StringLit{{range_of(in, st)}, std::string(raw)});
  }
};

template <>
struct action<g::comment> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const auto p = in.position();
    if (!st.comment_offsets.insert(p.byte).second) return;
    std::string text = in.string();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    bool own_line = true;
    for (std::size_t i = p.byte; i > 0; --i) {
      const char c = st.text[i - 1];
      if (c == '\n') break;
      if (c != ' ' && c != '\t') {
        own_line = false;
        break;
      }
    }
    // Is the line after the comment blank?
    bool blank_after = false;
    std::size_t eol = st.text.find('\n', p.byte);
    if (eol != std::string_view::npos) {
      std::size_t i = eol + 1;
      while (i < st.text.size() && (st.text[i] == ' ' || st.text[i] == '\t' || st.text[i] == '\r')) ++i;
      blank_after = i < st.text.size() && st.text[i] == '\n';
    }
    st.recipe.comments.push_back(ast::Comment{static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column),
                                              text, own_line, blank_after});
  }
};

// ---- conditions ----

inline cond::Value to_value(Item& item) {
  if (auto* n = std::get_if<ast::Number>(&item)) return n->value;
  if (auto* s = std::get_if<ast::StringLit>(&item)) return s->value;
  if (auto* w = std::get_if<ast::Ident>(&item)) return w->text;
  return std::string();
}

template <>
struct action<g::comparison> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    cond::Condition c;
    c.kind = cond::Condition::Kind::compare;
    c.where = range_of(in, st);
    c.var = get<ast::Ident>(items, 0)->text;
    std::size_t next = 1;
    if (const Kw* mark = get<Kw>(items, 1); mark != nullptr && mark->text == "?") {
      c.absent_ok = true;
      next = 2;
    }
    const std::string op = get<Kw>(items, next)->text;
    if (op == "=" || op == "==")
      c.op = cond::Op::eq;
    else if (op == "!=")
      c.op = cond::Op::ne;
    else if (op == "<")
      c.op = cond::Op::lt;
    else if (op == "<=")
      c.op = cond::Op::le;
    else if (op == ">")
      c.op = cond::Op::gt;
    else if (op == ">=")
      c.op = cond::Op::ge;
    else if (op == "in")
      c.op = cond::Op::in;
    else
      c.op = cond::Op::not_in;
    for (std::size_t i = next + 1; i < items.size(); ++i) c.values.push_back(to_value(items[i]));
    st.items.emplace_back(std::move(c));
  }
};

template <>
struct action<g::has_test> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    cond::Condition c;
    c.kind = cond::Condition::Kind::has;
    c.where = range_of(in, st);
    c.var = get<ast::Ident>(items, 0)->text;
    st.items.emplace_back(std::move(c));
  }
};

template <>
struct action<g::negation> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    cond::Condition c;
    c.kind = cond::Condition::Kind::negate;
    c.where = range_of(in, st);
    c.kids.push_back(std::move(std::get<cond::Condition>(items.at(0))));
    st.items.emplace_back(std::move(c));
  }
};

template <cond::Condition::Kind K>
struct combine {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (items.size() == 1) {
      st.items.push_back(std::move(items.front()));
      return;
    }
    cond::Condition c;
    c.kind = K;
    c.where = range_of(in, st);
    for (auto& i : items) c.kids.push_back(std::move(std::get<cond::Condition>(i)));
    st.items.emplace_back(std::move(c));
  }
};
template <>
struct action<g::and_expr> : combine<cond::Condition::Kind::all> {};
// `condition` derives from or_expr, and actions attach to rule types: combine at `condition`.
template <>
struct action<g::condition> : combine<cond::Condition::Kind::any> {};

// ---- distributions ----

template <>
struct action<g::choice> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Choice c;
    c.where = range_of(in, st);
    if (auto* s = get<ast::StringLit>(items, 0)) {
      c.label = s->value;
      c.quoted = true;
    } else if (auto* n = get<ast::Number>(items, 0)) {
      c.label = n->text;
      c.number = true;
    } else {
      c.label = get<ast::Ident>(items, 0)->text;
    }
    c.weight = *get<ast::Number>(items, 1);
    st.items.emplace_back(std::move(c));
  }
};

template <>
struct action<g::categorical> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Categorical c;
    c.where = range_of(in, st);
    for (auto& i : items) c.choices.push_back(std::move(std::get<ast::Choice>(i)));
    st.items.emplace_back(std::move(c));
  }
};

template <>
struct action<g::table_draw> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::TableDraw t;
    t.where = range_of(in, st);
    t.table = *get<ast::Ident>(items, 0);
    for (std::size_t i = 1; i < items.size(); ++i) t.by.push_back(std::get<ast::Ident>(items[i]));
    st.items.emplace_back(std::move(t));
  }
};

template <>
struct action<g::numeric> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Numeric n;
    n.where = range_of(in, st);
    n.family = *get<ast::Ident>(items, 0);
    for (std::size_t i = 1; i < items.size(); ++i) n.args.push_back(std::get<ast::Number>(items[i]));
    st.items.emplace_back(std::move(n));
  }
};

template <>
struct action<g::dist_ref> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.items.emplace_back(ast::DistRef{{range_of(in, st)}, ast::Ident{{range_of(in, st)}, in.string()}});
  }
};

template <>
struct action<g::distribution> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Distribution d;
    d.where = range_of(in, st);
    Item& form = items.at(0);
    if (auto* c = std::get_if<ast::Categorical>(&form))
      d.form = std::move(*c);
    else if (auto* n = std::get_if<ast::Numeric>(&form))
      d.form = std::move(*n);
    else if (auto* t = std::get_if<ast::TableDraw>(&form))
      d.form = std::move(*t);
    else
      d.form = std::move(std::get<ast::DistRef>(form));
    for (std::size_t i = 1; i < items.size(); ++i) {
      if (auto* k = std::get_if<Kw>(&items[i])) {
        if (k->text == "round") {
          d.round = true;
        } else {
          d.bound = k->text == "clamp" ? ast::Distribution::Bound::clamp : ast::Distribution::Bound::truncate;
          d.bound_range = std::get<ast::Range>(items.at(i + 1));
          ++i;
        }
      }
    }
    st.items.emplace_back(std::move(d));
  }
};

}  // namespace persona::lang::parsing
