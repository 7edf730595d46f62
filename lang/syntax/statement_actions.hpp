// Parser actions, part 2: the statements. Each statement action pops the items its match produced
// and stores the statement in the Recipe (reporting a duplicate where a statement may appear once).
// Included only by parser.cpp.
#pragma once

#include "syntax/actions.hpp"

namespace persona::lang::parsing {

// ---- statements ----

inline void note_order(State& st, const char* kind, std::size_t index) { st.recipe.order.emplace_back(kind, index); }

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
struct action<g::tone_clause> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Tone t;
    t.where = range_of(in, st);
    for (auto& i : items) {
      if (auto* id = std::get_if<ast::Ident>(&i))
        t.choices.push_back(std::move(*id));
      else if (auto* k = std::get_if<Kw>(&i); k != nullptr && k->text == "random")
        t.random = true;
    }
    st.items.emplace_back(std::move(t));
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
      } else if (auto* t = std::get_if<ast::Tone>(&items[i])) {
        if (step.tone) st.sink->error(t->where, "duplicate-tone", "a story step has at most one tone");
        step.tone = std::move(*t);
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
struct action<g::always_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Panel panel;
    panel.where = range_of(in, st);
    panel.glob = *get<ast::StringLit>(items, 0);
    st.attrs.panels.push_back(std::move(panel));
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

// `to table NAME`: a marker, then the table's name.
template <>
struct action<g::calibrate_to> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    st.items.emplace_back(Kw{"to", range_of(in, st)});
    for (auto& i : items) st.items.push_back(std::move(i));
  }
};

template <>
struct action<g::calibrate_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Calibrate c;
    c.where = range_of(in, st);
    c.where.length = 9;
    bool after_to = false;
    for (auto& i : items) {
      if (std::holds_alternative<Kw>(i)) {
        after_to = true;
      } else if (auto* id = std::get_if<ast::Ident>(&i)) {
        if (after_to)
          c.table = std::move(*id);
        else
          c.anchors.push_back(std::move(*id));
      }
    }
    st.pop.calibrate.push_back(std::move(c));
  }
};

template <>
struct action<g::oversample_stmt> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    auto items = st.take();
    ast::Oversample o;
    o.where = range_of(in, st);
    o.where.length = 10;
    o.when = std::move(*get<cond::Condition>(items, 0));
    o.when_text = cond::to_string(o.when);
    o.factor = *get<ast::Number>(items, 1);
    st.pop.oversample.push_back(std::move(o));
  }
};

template <>
struct action<g::population_close> : remember_close {};

template <>
struct action<g::kw_population_open> {
  template <typename Input>
  static void apply(const Input& in, State& st) {
    st.pop = ast::Population{};
    st.pop.where = range_of(in, st);
  }
};

template <>
struct action<g::population_block> {
  template <typename Input>
  static void apply(const Input& /*in*/, State& st) {
    st.take();
    if (st.recipe.population) {
      st.sink->error(st.pop.where, "duplicate-population", "duplicate 'population' block",
                     {"the first is at line " + std::to_string(st.recipe.population->where.line)});
      return;
    }
    st.pop.close_line = st.close_line;
    st.recipe.population = std::move(st.pop);
    note_order(st, "population", 0);
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

inline const std::vector<std::string>& statement_keywords() {
  static const std::vector<std::string> k = {"recipe",     "import",       "extends", "taxonomy", "seed",
                                             "table",      "distribution", "anchor",  "story",    "attributes",
                                             "population", "narrative",    "model",   "output"};
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

}  // namespace persona::lang::parsing
