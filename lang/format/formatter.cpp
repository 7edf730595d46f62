#include "format/formatter.hpp"

#include <algorithm>
#include <set>

namespace persona::lang {
namespace {

bool is_bare_word(const std::string& s) {
  if (s.empty()) return false;
  const char c0 = s[0];
  if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || c0 == '_')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

// A label as written: a bare word, a number (`{ 1: 0.3 }`) or, when it needs quotes, a string.
std::string label_text(const ast::Choice& c) {
  return (!c.quoted && (c.number || is_bare_word(c.label))) ? c.label : quote(c.label);
}

std::string range_text(const ast::Range& r) {
  if (r.single && r.lo) return r.lo->text;
  std::string s;
  if (r.lo) s += r.lo->text;
  s += "..";
  if (r.hi) s += r.hi->text;
  return s;
}

std::string join_idents(const std::vector<ast::Ident>& ids) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + ids[i].text;
  return s;
}

std::string param_text(const ast::Param& p) {
  std::string s = p.key.text + " ";
  if (const auto* n = std::get_if<ast::Number>(&p.value))
    s += n->text;
  else if (const auto* str = std::get_if<ast::StringLit>(&p.value))
    s += quote(str->value);
  else
    s += std::get<ast::Ident>(p.value).text;
  return s;
}

std::string step_text(const ast::StoryStep& st) {
  std::string s = st.output.text + " <- llm " + quote(st.instruction.value);
  if (st.shape.kind == ast::Shape::Kind::list) {
    s += " x " + range_text(st.shape.count);
  } else if (st.shape.kind == ast::Shape::Kind::object) {
    s += " as { ";
    for (std::size_t i = 0; i < st.shape.fields.size(); ++i) {
      const auto& f = st.shape.fields[i];
      s += (i ? ", " : "") + f.name.text;
      if (!f.type.text.empty()) s += ": " + f.type.text;
    }
    s += " }";
  }
  if (!st.inputs.empty()) s += " from " + join_idents(st.inputs);
  if (st.tone)
    s += " tone " + (st.tone->random ? "random(" + join_idents(st.tone->choices) + ")" : join_idents(st.tone->choices));
  if (st.prompt) s += " prompt " + quote(st.prompt->value);
  return s;
}

struct Unit {
  std::uint32_t line = 0;  // source line where it starts (0: synthetic)
  std::string text;        // without indentation
  int indent = 0;
  bool blank_before = false;
};

std::string group_of(const std::string& kind) {
  if (kind == "recipe" || kind == "include" || kind == "taxonomy" || kind == "seed") return "header";
  if (kind == "table" || kind == "distribution") return "defs";
  if (kind == "narrative" || kind == "model") return "settings";
  return kind;
}

}  // namespace

std::string quote(const std::string& s) {
  if (s.find('\n') != std::string::npos && s.find("\"\"\"") == std::string::npos && (s.empty() || s.back() != '"')) {
    return "\"\"\"\n" + s + "\"\"\"";
  }
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string format_distribution(const ast::Distribution& d) {
  std::string s;
  if (const auto* c = std::get_if<ast::Categorical>(&d.form)) {
    s += "{ ";
    for (std::size_t i = 0; i < c->choices.size(); ++i) {
      const auto& ch = c->choices[i];
      s += (i ? ", " : "") + label_text(ch) + ": " + ch.weight.text;
    }
    s += " }";
  } else if (const auto* n = std::get_if<ast::Numeric>(&d.form)) {
    s += n->family.text + "(";
    for (std::size_t i = 0; i < n->args.size(); ++i) s += (i ? ", " : "") + n->args[i].text;
    s += ")";
  } else if (const auto* t = std::get_if<ast::TableDraw>(&d.form)) {
    s += "table " + t->table.text;
    if (!t->by.empty()) s += " by " + join_idents(t->by);
  } else {
    s += std::get<ast::DistRef>(d.form).name.text;
  }
  if (d.bound == ast::Distribution::Bound::clamp) s += " clamp " + range_text(d.bound_range);
  if (d.bound == ast::Distribution::Bound::truncate) s += " truncate " + range_text(d.bound_range);
  if (d.round) s += " round";
  return s;
}

std::string format_recipe(const ast::Recipe& r) {
  std::vector<Unit> units;
  std::string last_group;
  // Anchors are aligned on their '=' / '~' within a run of consecutive anchor statements.
  std::vector<std::size_t> anchor_width(r.order.size(), 0);
  for (std::size_t i = 0; i < r.order.size();) {
    std::size_t j = i;
    std::size_t width = 0;
    while (j < r.order.size() && r.order[j].first == "anchor") {
      width = std::max(width, r.anchors[r.order[j].second].name.text.size());
      ++j;
    }
    for (std::size_t k = i; k < j; ++k) anchor_width[k] = width;
    i = (j == i) ? i + 1 : j;
  }

  for (std::size_t oi = 0; oi < r.order.size(); ++oi) {
    const auto& [kind, idx] = r.order[oi];
    const std::string group = group_of(kind);
    const bool block = kind == "story" || kind == "attributes" || kind == "population" || kind == "output";
    const bool blank = !units.empty() && (group != last_group || block);
    last_group = block ? "" : group;
    auto add = [&](std::uint32_t line, std::string text, int indent = 0, bool blank_before = false) {
      units.push_back(Unit{line, std::move(text), indent, blank_before});
    };
    if (kind == "recipe") {
      std::string s = "recipe " + quote(r.name->value);
      if (r.version) s += " version " + quote(r.version->value);
      add(r.header->where.line, s, 0, blank);
    } else if (kind == "include") {
      const auto& inc = r.includes[idx];
      add(inc.where.line, std::string(inc.extends ? "extends " : "import ") + quote(inc.path.value), 0, blank);
    } else if (kind == "taxonomy") {
      add(r.taxonomy_where->where.line,
          "taxonomy " + (r.taxonomy_file ? quote(r.taxonomy_file->value) : r.taxonomy_name->text), 0, blank);
    } else if (kind == "seed") {
      add(r.seed->where.line, "seed " + r.seed->text, 0, blank);
    } else if (kind == "table") {
      const auto& t = r.tables[idx];
      add(t.where.line, "table " + t.name.text + " = " + quote(t.path.value), 0, blank);
    } else if (kind == "distribution") {
      const auto& d = r.distributions[idx];
      add(d.where.line, "distribution " + d.name.text + " = " + format_distribution(d.dist), 0, blank);
    } else if (kind == "anchor") {
      const auto& a = r.anchors[idx];
      std::string name = a.name.text;
      name.resize(std::max(name.size(), anchor_width[oi]), ' ');
      std::string s = "anchor " + name;
      if (a.fixed_text)
        s += " = " + quote(a.fixed_text->value);
      else if (a.fixed_number)
        s += " = " + a.fixed_number->text;
      else
        s += " ~ " + format_distribution(*a.draw);
      add(a.where.line, s, 0, blank);
    } else if (kind == "story") {
      const auto& story = *r.story;
      add(story.where.line, "story {", 0, blank);
      std::size_t width = 0;
      for (const auto& st : story.steps) width = std::max(width, st.output.text.size());
      for (const auto& st : story.steps) {
        std::string text = step_text(st);
        std::string name = st.output.text;
        name.resize(width, ' ');
        text = name + text.substr(st.output.text.size());
        add(st.where.line, text, 1);
      }
      add(story.close_line, "}", 0);
    } else if (kind == "attributes") {
      const auto& a = *r.attributes;
      add(a.where.line, "attributes {", 0, blank);
      std::vector<Unit> inner;
      if (a.count) inner.push_back(Unit{a.count->where.line, "count " + range_text(*a.count), 1, false});
      if (a.tiers)
        inner.push_back(
            Unit{a.tiers->where.line,
                 "tiers near " + a.tiers->near.text + ", mid " + a.tiers->mid.text + ", far " + a.tiers->far.text, 1,
                 false});
      if (a.walk) {
        std::string s = "walk " + a.walk->text;
        if (a.prefer) s += " prefer " + a.prefer->text;
        inner.push_back(Unit{a.walk->where.line, s, 1, false});
      }
      for (const auto& f : a.filters) {
        std::string s = std::string(f.include ? "include " : "exclude ") + (f.bare_star ? "*" : quote(f.glob.value));
        if (f.when) s += " when " + cond::to_string(*f.when);
        inner.push_back(Unit{f.where.line, s, 1, false});
      }
      for (const auto& panel : a.panels)
        inner.push_back(Unit{panel.where.line, "always " + quote(panel.glob.value), 1, false});
      if (a.batch) inner.push_back(Unit{a.batch->where.line, "batch " + a.batch->text, 1, false});
      if (a.context) inner.push_back(Unit{a.context->where.line, "context " + a.context->text + " tokens", 1, false});
      std::stable_sort(inner.begin(), inner.end(), [](const Unit& x, const Unit& y) { return x.line < y.line; });
      for (auto& u : inner) units.push_back(std::move(u));
      add(a.close_line, "}", 0);
    } else if (kind == "population") {
      const auto& pop = *r.population;
      add(pop.where.line, "population {", 0, blank);
      std::vector<Unit> inner;
      for (const auto& c : pop.calibrate) {
        std::string s = "calibrate " + join_idents(c.anchors);
        if (c.table) s += " to table " + c.table->text;
        inner.push_back(Unit{c.where.line, s, 1, false});
      }
      for (const auto& o : pop.oversample)
        inner.push_back(Unit{o.where.line, "oversample " + cond::to_string(o.when) + " x " + o.factor.text, 1, false});
      std::stable_sort(inner.begin(), inner.end(), [](const Unit& x, const Unit& y) { return x.line < y.line; });
      for (auto& u : inner) units.push_back(std::move(u));
      add(pop.close_line, "}", 0);
    } else if (kind == "narrative") {
      const auto& n = *r.narrative;
      std::string s = "narrative " + n.voice.text;
      if (n.words) s += " " + range_text(*n.words) + " words";
      if (n.prompt) s += " prompt " + quote(n.prompt->value);
      add(n.where.line, s, 0, blank);
    } else if (kind == "model") {
      const auto& m = *r.model;
      std::string s = "model " + quote(m.provider.value);
      for (const auto& p : m.params) s += " " + param_text(p);
      add(m.where.line, s, 0, blank);
    } else if (kind == "output") {
      const auto& o = *r.output;
      add(o.where.line, "output {", 0, blank);
      for (const auto& p : o.params) add(p.where.line, param_text(p), 1);
      add(o.close_line, "}", 0);
    }
  }

  // Attach comments: an own-line comment goes before the first unit that starts after it; a
  // trailing comment goes after the last unit that starts on or before its line.
  std::vector<std::vector<std::string>> before(units.size() + 1), after(units.size());
  for (const auto& c : r.comments) {
    if (c.own_line) {
      std::size_t k = 0;
      while (k < units.size() && (units[k].line == 0 || units[k].line <= c.line)) ++k;
      before[k].push_back(c.text);
      // A blank line after a comment group separates it from what follows (kept, at most one).
      if (c.blank_after && k < units.size()) before[k].emplace_back();
    } else {
      std::size_t k = units.size();
      for (std::size_t i = 0; i < units.size(); ++i)
        if (units[i].line != 0 && units[i].line <= c.line) k = i;
      if (k == units.size())
        before[0].push_back(c.text);
      else
        after[k].push_back(c.text);
    }
  }

  std::string out;
  for (std::size_t i = 0; i < units.size(); ++i) {
    const std::string pad(static_cast<std::size_t>(units[i].indent) * 2, ' ');
    const bool closer = units[i].text == "}";
    const std::string comment_pad = closer ? pad + "  " : pad;  // comments before '}' stay inside
    if (units[i].blank_before && !out.empty()) out += '\n';
    for (std::size_t j = 0; j < before[i].size(); ++j) {
      const auto& c = before[i][j];
      if (c.empty()) {
        if (j + 1 == before[i].size() || !before[i][j + 1].empty()) out += '\n';
        continue;
      }
      out += comment_pad + c + '\n';
    }
    out += pad + units[i].text;
    for (const auto& c : after[i]) out += "  " + c;
    out += '\n';
  }
  if (!before[units.size()].empty() && !out.empty()) out += '\n';
  for (const auto& c : before[units.size()])
    if (!c.empty()) out += c + '\n';
  return out;
}

}  // namespace persona::lang
