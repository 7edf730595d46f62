// Actions that build the AST from the grammar in grammar.hpp.
//
// Leaf rules (names, numbers, strings, operators) push an Item on a stack; composite rules pop the
// items their match produced and push the node they build; statements store themselves in the
// Recipe. The control class remembers the stack height when each rule starts and truncates the
// stack when the rule fails, so backtracking never leaves stray items behind.
#include "syntax/parser.hpp"

#include <charconv>
#include <cstdlib>
#include <set>
#include <variant>

#include "cond/condition.hpp"
#include "syntax/errors.hpp"
#include "syntax/grammar.hpp"

namespace persona::lang {
namespace {

namespace pegtl = tao::pegtl;
namespace g = grammar;

struct Kw {
  std::string text;
  SourceRange where;
};

using Item = std::variant<ast::Ident, ast::StringLit, ast::Number, ast::Range, Kw, ast::Choice, ast::Categorical,
                          ast::Numeric, ast::TableDraw, ast::DistRef, ast::Distribution, ast::Field, ast::Shape,
                          ast::Param, cond::Condition, ast::StoryStep>;

struct State {
  std::string file;
  std::string_view text;
  DiagnosticSink* sink = nullptr;
  std::vector<Item> items;
  std::vector<std::size_t> marks;
  ast::Recipe recipe;
  ast::Attributes attrs;  // the attributes block being read
  std::set<std::size_t> comment_offsets;
  std::uint32_t error_length = 0;  // set by actions that raise, for the caret
  std::uint32_t close_line = 0;    // line of the last block's closing '}'

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

double to_double(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

std::string unescape(std::string_view raw) {
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

// ---- control: marks for backtracking + error messages ----

template <typename Rule>
struct control : pegtl::must_if<g::error, pegtl::normal, false>::control<Rule> {
  using base = typename pegtl::must_if<g::error, pegtl::normal, false>::template control<Rule>;

  template <typename Input>
  static void start(const Input& /*in*/, State& st) {
    st.marks.push_back(st.items.size());
  }
  template <typename Input>
  static void success(const Input& /*in*/, State& st) {
    st.marks.pop_back();
  }
  template <typename Input>
  static void failure(const Input& in, State& st) {
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
struct action<g::number> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    std::string t = in.string();
    st.items.emplace_back(ast::Number{{range_of(in, st)}, to_double(t), t});
  }
};

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

cond::Value to_value(Item& item) {
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
    const std::string op = get<Kw>(items, 1)->text;
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
    for (std::size_t i = 2; i < items.size(); ++i) c.values.push_back(to_value(items[i]));
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

// ---- statements ----

void note_order(State& st, const char* kind, std::size_t index) { st.recipe.order.emplace_back(kind, index); }

template <>
struct action<g::recipe_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.header) {
      st.sink->error(range_of(in, st), "duplicate-recipe", "duplicate 'recipe' header",
                     {"the first is at line " + std::to_string(st.recipe.header->where.line)});
      return;
    }
    st.recipe.header = ast::Node{range_of(in, st)};
    st.recipe.header->where.length = 6;
    st.recipe.name = *get<ast::StringLit>(items, 0);
    if (auto* v = get<ast::StringLit>(items, 1)) st.recipe.version = *v;
    note_order(st, "recipe", 0);
  }
};

template <>
struct action<g::include_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Include inc;
    inc.where = range_of(in, st);
    inc.extends = get<Kw>(items, 0)->text == "extends";
    inc.path = *get<ast::StringLit>(items, 1);
    st.recipe.includes.push_back(std::move(inc));
    note_order(st, "include", st.recipe.includes.size() - 1);
  }
};

template <>
struct action<g::taxonomy_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.taxonomy_where) {
      st.sink->error(range_of(in, st), "duplicate-taxonomy", "duplicate 'taxonomy' statement",
                     {"the first is at line " + std::to_string(st.recipe.taxonomy_where->where.line)});
      return;
    }
    st.recipe.taxonomy_where = ast::Node{range_of(in, st)};
    if (auto* s = get<ast::StringLit>(items, 0))
      st.recipe.taxonomy_file = *s;
    else
      st.recipe.taxonomy_name = *get<ast::Ident>(items, 0);
    note_order(st, "taxonomy", 0);
  }
};

template <>
struct action<g::seed_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.seed) {
      st.sink->error(range_of(in, st), "duplicate-seed", "duplicate 'seed' statement");
      return;
    }
    st.recipe.seed = *get<ast::Number>(items, 0);
    note_order(st, "seed", 0);
  }
};

template <>
struct action<g::table_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::TableDecl t;
    t.where = range_of(in, st);
    t.name = *get<ast::Ident>(items, 0);
    t.path = *get<ast::StringLit>(items, 1);
    st.recipe.tables.push_back(std::move(t));
    note_order(st, "table", st.recipe.tables.size() - 1);
  }
};

template <>
struct action<g::dist_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::DistributionDecl d;
    d.where = range_of(in, st);
    d.name = *get<ast::Ident>(items, 0);
    d.dist = std::move(*get<ast::Distribution>(items, 1));
    st.recipe.distributions.push_back(std::move(d));
    note_order(st, "distribution", st.recipe.distributions.size() - 1);
  }
};

template <>
struct action<g::anchor_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Anchor a;
    a.where = range_of(in, st);
    a.name = *get<ast::Ident>(items, 0);
    if (auto* s = get<ast::StringLit>(items, 1))
      a.fixed_text = *s;
    else if (auto* n = get<ast::Number>(items, 1))
      a.fixed_number = *n;
    else
      a.draw = std::move(*get<ast::Distribution>(items, 1));
    st.recipe.anchors.push_back(std::move(a));
    note_order(st, "anchor", st.recipe.anchors.size() - 1);
  }
};

template <>
struct action<g::field> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Field f;
    f.where = range_of(in, st);
    f.name = *get<ast::Ident>(items, 0);
    if (auto* t = get<ast::Ident>(items, 1)) f.type = *t;
    st.items.emplace_back(std::move(f));
  }
};

template <>
struct action<g::shape_list> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Shape s;
    s.where = range_of(in, st);
    s.kind = ast::Shape::Kind::list;
    s.count = *get<ast::Range>(items, 0);
    st.items.emplace_back(std::move(s));
  }
};

template <>
struct action<g::shape_object> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Shape s;
    s.where = range_of(in, st);
    s.kind = ast::Shape::Kind::object;
    for (auto& i : items) s.fields.push_back(std::move(std::get<ast::Field>(i)));
    st.items.emplace_back(std::move(s));
  }
};

template <>
struct action<g::story_step> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::StoryStep step;
    step.where = range_of(in, st);
    step.output = *get<ast::Ident>(items, 0);
    step.instruction = *get<ast::StringLit>(items, 1);
    bool have_shape = false;
    for (std::size_t i = 2; i < items.size(); ++i) {
      if (auto* s = std::get_if<ast::Shape>(&items[i])) {
        if (have_shape) st.sink->error(s->where, "duplicate-shape", "a story step has at most one output shape");
        step.shape = std::move(*s);
        have_shape = true;
      } else if (auto* id = std::get_if<ast::Ident>(&items[i])) {
        step.inputs.push_back(std::move(*id));
      } else if (auto* p = std::get_if<ast::StringLit>(&items[i])) {
        if (step.prompt) st.sink->error(p->where, "duplicate-prompt", "a story step has at most one prompt");
        step.prompt = std::move(*p);
      }
    }
    if (!have_shape) step.shape.where = step.where;
    st.items.emplace_back(std::move(step));
  }
};

struct remember_close {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.close_line = static_cast<std::uint32_t>(in.position().line);
  }
};
template <>
struct action<g::story_close> : remember_close {};
template <>
struct action<g::attributes_close> : remember_close {};
template <>
struct action<g::output_close> : remember_close {};

template <>
struct action<g::story_block> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.story) {
      st.sink->error(range_of(in, st), "duplicate-story", "duplicate 'story' block",
                     {"the first is at line " + std::to_string(st.recipe.story->where.line)});
      return;
    }
    ast::Story story;
    story.where = range_of(in, st);
    story.close_line = st.close_line;
    for (auto& i : items) story.steps.push_back(std::move(std::get<ast::StoryStep>(i)));
    st.recipe.story = std::move(story);
    note_order(st, "story", 0);
  }
};

template <>
struct action<g::count_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.attrs.count) st.sink->error(range_of(in, st), "duplicate-setting", "duplicate 'count' setting");
    st.attrs.count = *get<ast::Range>(items, 0);
  }
};

template <>
struct action<g::tiers_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.attrs.tiers) st.sink->error(range_of(in, st), "duplicate-setting", "duplicate 'tiers' setting");
    ast::Tiers t;
    t.where = range_of(in, st);
    t.near = *get<ast::Number>(items, 0);
    t.mid = *get<ast::Number>(items, 1);
    t.far = *get<ast::Number>(items, 2);
    st.attrs.tiers = t;
  }
};

template <>
struct action<g::walk_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.attrs.walk) st.sink->error(range_of(in, st), "duplicate-setting", "duplicate 'walk' setting");
    st.attrs.walk = *get<ast::Ident>(items, 0);
    if (auto* p = get<ast::Ident>(items, 1)) st.attrs.prefer = *p;
  }
};

template <>
struct action<g::filter_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Filter f;
    f.where = range_of(in, st);
    f.include = get<Kw>(items, 0)->text == "include";
    if (auto* s = get<ast::StringLit>(items, 1)) {
      f.glob = *s;
    } else {
      f.bare_star = true;
      f.glob = ast::StringLit{{get<Kw>(items, 1)->where}, "*"};
    }
    if (auto* c = get<cond::Condition>(items, 2)) {
      f.when = std::move(*c);
      f.when_text = cond::to_string(*f.when);
    }
    st.attrs.filters.push_back(std::move(f));
  }
};

template <>
struct action<g::batch_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.attrs.batch) st.sink->error(range_of(in, st), "duplicate-setting", "duplicate 'batch' setting");
    st.attrs.batch = *get<ast::Number>(items, 0);
  }
};

template <>
struct action<g::context_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.attrs.context) st.sink->error(range_of(in, st), "duplicate-setting", "duplicate 'context' setting");
    st.attrs.context = *get<ast::Number>(items, 0);
  }
};

template <>
struct action<g::kw_attributes> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.attrs = ast::Attributes{};
    st.attrs.where = range_of(in, st);
  }
};

template <>
struct action<g::attributes_block> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.take();
    if (st.recipe.attributes) {
      st.sink->error(st.attrs.where, "duplicate-attributes", "duplicate 'attributes' block",
                     {"the first is at line " + std::to_string(st.recipe.attributes->where.line)});
      return;
    }
    (void)in;
    st.attrs.close_line = st.close_line;
    st.recipe.attributes = std::move(st.attrs);
    note_order(st, "attributes", 0);
  }
};

template <>
struct action<g::narrative_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.narrative) {
      st.sink->error(range_of(in, st), "duplicate-narrative", "duplicate 'narrative' statement");
      return;
    }
    ast::Narrative n;
    n.where = range_of(in, st);
    n.voice = *get<ast::Ident>(items, 0);
    for (std::size_t i = 1; i < items.size(); ++i) {
      if (auto* r = std::get_if<ast::Range>(&items[i])) n.words = *r;
      if (auto* p = std::get_if<ast::StringLit>(&items[i])) n.prompt = *p;
    }
    st.recipe.narrative = std::move(n);
    note_order(st, "narrative", 0);
  }
};

struct make_param {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Param p;
    p.where = range_of(in, st);
    p.key = *get<ast::Ident>(items, 0);
    if (auto* n = get<ast::Number>(items, 1))
      p.value = *n;
    else if (auto* s = get<ast::StringLit>(items, 1))
      p.value = *s;
    else
      p.value = *get<ast::Ident>(items, 1);
    st.items.emplace_back(std::move(p));
  }
};
template <>
struct action<g::param> : make_param {};
template <>
struct action<g::output_param> : make_param {};

template <>
struct action<g::model_decl> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.model) {
      st.sink->error(range_of(in, st), "duplicate-model", "duplicate 'model' statement");
      return;
    }
    ast::Model m;
    m.where = range_of(in, st);
    m.provider = *get<ast::StringLit>(items, 0);
    for (std::size_t i = 1; i < items.size(); ++i) m.params.push_back(std::get<ast::Param>(items[i]));
    st.recipe.model = std::move(m);
    note_order(st, "model", 0);
  }
};

template <>
struct action<g::output_block> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    if (st.recipe.output) {
      st.sink->error(range_of(in, st), "duplicate-output", "duplicate 'output' block");
      return;
    }
    ast::Output o;
    o.where = range_of(in, st);
    o.close_line = st.close_line;
    for (auto& i : items) o.params.push_back(std::get<ast::Param>(i));
    st.recipe.output = std::move(o);
    note_order(st, "output", 0);
  }
};

const std::vector<std::string>& statement_keywords() {
  static const std::vector<std::string> k = {"recipe",    "import",       "extends", "taxonomy", "seed",
                                             "table",     "distribution", "anchor",  "story",    "attributes",
                                             "narrative", "model",        "output"};
  return k;
}

template <>
struct action<g::bad_statement> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    const std::string w = in.string();
    std::string msg = "unknown statement '" + w + "'";
    const std::string best = closest_match(w, statement_keywords());
    if (!best.empty()) msg += "; did you mean '" + best + "'?";
    st.error_length = static_cast<std::uint32_t>(in.size());
    throw pegtl::parse_error(msg, in);
  }
};

// ---- driver ----

std::uint32_t token_length(std::string_view text, std::size_t byte) {
  if (byte >= text.size()) return 1;
  const auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  };
  std::size_t e = byte;
  while (e < text.size() && is_word(text[e])) ++e;
  return e == byte ? 1 : static_cast<std::uint32_t>(e - byte);
}

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
    try {
      pegtl::parse<g::recipe, action, control>(in, st);
      break;
    } catch (const pegtl::parse_error& e) {
      const auto& p = e.positions().front();
      const std::string msg(e.message());
      std::uint32_t len = st.error_length != 0 ? st.error_length : token_length(text, p.byte);
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
      // Resume at the statement the error stopped at, if it starts a line; else at the next one.
      std::size_t next = std::string_view::npos;
      const std::size_t line_begin = p.byte - (p.column - 1);
      if (p.byte > begin && line_begin > begin) {
        const std::size_t probe = next_statement(text, line_begin - 1);
        if (probe == line_begin) next = probe;
      }
      if (next == std::string_view::npos) next = next_statement(text, p.byte);
      if (next == std::string_view::npos) break;
      // Count lines up to `next` to restart with a correct position.
      line = p.line;
      if (next < p.byte) {
        line = p.line;  // same line: next == line_begin
      } else {
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

// cond::parse lives here because it shares the grammar's actions.
namespace cond_impl {}

}  // namespace persona::lang

namespace persona::cond {

std::optional<Condition> parse(std::string_view text, const SourceRange& origin, DiagnosticSink& sink) {
  using namespace persona::lang;
  State st;
  st.file = origin.file;
  st.text = text;
  DiagnosticList local;
  st.sink = &local;
  const std::size_t line = origin.line == 0 ? 1 : origin.line;
  const std::size_t column = origin.column == 0 ? 1 : origin.column;
  tao::pegtl::memory_input<> in(text.data(), text.data() + text.size(), origin.file, 0, line, column);
  try {
    tao::pegtl::parse<grammar::condition_only, action, control>(in, st);
  } catch (const tao::pegtl::parse_error& e) {
    const auto& p = e.positions().front();
    sink.error(SourceRange{origin.file, static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column),
                           token_length(text, p.byte)},
               "syntax", std::string(e.message()));
    return std::nullopt;
  }
  if (st.items.empty()) return std::nullopt;
  auto* c = std::get_if<Condition>(&st.items.back());
  if (c == nullptr) return std::nullopt;
  return std::move(*c);
}

}  // namespace persona::cond
