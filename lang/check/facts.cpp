// Facts: the anchors and the facts their tables derive (stdlib.occupations derives employment).
// A fact may be absent for some personas: a table derives it for some labels only, or a table is
// drawn by a fact some of whose values have no row. A condition that reads such a fact must say
// what absence means (`has employment and ...`, `employment? in (...)`). A fact that a `when` or
// the taxonomy's conditions read but that the recipe lost (occupation fixed, or drawn from a table
// without the derivation) is an error that says so.
#include <algorithm>

#include "check/checker_impl.hpp"

namespace persona::lang::checking {

namespace {

std::string value_string(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return number_text(std::get<double>(v));
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::vector<std::string> Checker::known_facts(const Scope& scope) const {
  std::vector<std::string> names;
  for (const auto& a : scope.anchors) names.push_back(a.name.text);
  for (const auto& [fact, anchor] : derived_by_) names.push_back(fact);
  for (const auto& f : env_.builtin_facts()) names.push_back(f);
  return names;
}

void Checker::build_facts(const Scope& /*scope*/) {
  for (const auto& [name, a] : built_) {
    Fact f;
    f.anchor = name;
    f.type = a.type;
    f.where = a.where;
    using K = AnchorSource::Kind;
    if (a.type == ValueType::text) {
      if (a.source.kind == K::fixed) {
        f.values = std::vector<std::string>{std::get<std::string>(a.source.fixed)};
      } else if (a.source.kind == K::categorical) {
        std::vector<std::string> labels;
        for (const auto& c : a.source.choices) labels.push_back(c.label);
        f.values = labels;
      } else if (a.source.kind == K::table) {
        for (const auto& d : draws_)
          if (d.anchor == name && !d.info.labels.empty()) f.values = d.info.labels;
      }
    }
    facts_[name] = std::move(f);
  }
  for (const auto& [fact, anchor] : derived_by_) {
    if (facts_.count(fact)) continue;  // an anchor of that name wins
    Fact f;
    f.derived = true;
    f.anchor = anchor;
    if (auto a = built_.find(anchor); a != built_.end()) f.where = a->second.where;
    for (const auto& d : draws_) {
      if (d.anchor != anchor) continue;
      if (auto v = d.info.derived_values.find(fact); v != d.info.derived_values.end()) f.values = v->second;
      if (contains(d.info.partial_facts, fact)) {
        f.maybe_absent = true;
        f.absent_why = "table '" + d.draw.table.text + "' derives it for some " + anchor + " values only";
      }
    }
    facts_[fact] = std::move(f);
  }
  for (const auto& b : env_.builtin_facts())
    if (!facts_.count(b)) facts_[b] = Fact{};
}

// A table drawn by a fact whose values are known (a table-drawn anchor, a derived fact) must have a
// row, or a "*" row, for each of them; else the anchor is missing for the personas who draw the
// others. Then absence spreads: an anchor drawn by a fact that may be absent may be absent, and so
// may the facts its table derives.
void Checker::check_coverage() {
  for (const Draw& d : draws_) {
    if (d.info.levels.size() != d.info.by.size()) continue;
    for (std::size_t lvl = 0; lvl < d.draw.by.size(); ++lvl) {
      const std::string& by = d.draw.by[lvl].text;
      auto f = facts_.find(by);
      if (f == facts_.end() || !f->second.values) continue;
      if (!f->second.derived) {
        auto a = built_.find(by);
        if (a == built_.end() || a->second.source.kind != AnchorSource::Kind::table) continue;  // check_keys
      }
      const TableLevel& level = d.info.levels[lvl];
      if (level.fallback || level.numeric) continue;
      std::vector<std::string> missing;
      for (const auto& v : *f->second.values)
        if (!contains(level.keys, v)) missing.push_back("'" + v + "'");
      if (missing.empty()) continue;
      warning(d.draw.by[lvl].where, "table-coverage",
              "table '" + d.draw.table.text + "' has no row for " + std::to_string(missing.size()) + " of the " +
                  std::to_string(f->second.values->size()) + " values of '" + by + "' (" + list_text(missing, 3) +
                  ") and no '*' row: '" + d.anchor + "' is missing for personas with those values");
      Fact& target = facts_[d.anchor];
      target.maybe_absent = true;
      target.absent_why = "table '" + d.draw.table.text + "' has no row for some values of '" + by + "'";
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const Draw& d : draws_) {
      Fact& target = facts_[d.anchor];
      if (target.maybe_absent) continue;
      for (const auto& b : d.draw.by) {
        auto f = facts_.find(b.text);
        if (f != facts_.end() && f->second.maybe_absent) {
          target.maybe_absent = changed = true;
          target.absent_why = "it is drawn by '" + b.text + "', which may be absent";
          break;
        }
      }
    }
    for (auto& [name, f] : facts_) {
      if (!f.derived || f.maybe_absent) continue;
      auto a = facts_.find(f.anchor);
      if (a != facts_.end() && a->second.maybe_absent) {
        f.maybe_absent = changed = true;
        f.absent_why = "it is derived from '" + f.anchor + "', which may be absent";
      }
    }
  }
}

std::string Checker::lost_source(const std::string& fact, std::string& table, std::string& how) const {
  for (const auto& name : env_.table_names()) {
    auto info = env_.table(name);
    if (!info || info->anchor_name.empty() || !contains(info->derived_facts, fact)) continue;
    auto a = built_.find(info->anchor_name);
    if (a == built_.end()) continue;
    table = name;
    const Anchor& an = a->second;
    switch (an.source.kind) {
      case AnchorSource::Kind::fixed:
        how = "anchor '" + an.name + "' is fixed, so no table derives '" + fact + "' from it";
        break;
      case AnchorSource::Kind::table:
        how = "anchor '" + an.name + "' is drawn from table '" + an.source.table + "', which does not derive '" + fact +
              "'";
        break;
      default:
        how = "anchor '" + an.name + "' is not drawn from a table that derives '" + fact + "'";
        break;
    }
    return an.name;
  }
  return {};
}

bool Checker::explain_missing_fact(const std::string& fact, const SourceRange& where) {
  std::string table, how;
  const std::string anchor = lost_source(fact, table, how);
  if (!anchor.empty()) {
    error_related(where, "missing-fact", "no persona has '" + fact + "': " + how,
                  {built_.at(anchor).where, "'" + anchor + "' is defined here"},
                  {"'" + fact + "' is derived by table '" + table + "'; draw '" + anchor +
                   "' from it, or declare 'anchor " + fact + " = ...'"});
    return true;
  }
  for (const auto& name : env_.table_names()) {
    auto info = env_.table(name);
    if (!info || !contains(info->derived_facts, fact)) continue;
    std::string by;
    for (std::size_t i = 0; i < info->by.size(); ++i) by += (i ? ", " : " by ") + info->by[i];
    const std::string anchor_name = info->anchor_name.empty() ? "NAME" : info->anchor_name;
    error(where, "undefined-name", "undefined anchor or fact '" + fact + "'",
          {"'" + fact + "' is derived by table '" + name + "': add 'anchor " + anchor_name + " ~ table " + name + by +
           "', or declare 'anchor " + fact + " = ...'"});
    return true;
  }
  return false;
}

void Checker::check_condition(const cond::Condition& c, const std::vector<std::string>& facts,
                              std::set<std::string> present) {
  using Kind = cond::Condition::Kind;
  const auto var_where = [&c] {
    SourceRange w = c.where;
    w.length = static_cast<std::uint32_t>(c.kind == Kind::has ? c.var.size() + 4 : c.var.size());
    return w;
  };
  switch (c.kind) {
    case Kind::all:
    case Kind::any:
      // `has x and x = 1`: x is present on the right; `not has x or x = 1` likewise.
      for (const auto& k : c.kids) {
        check_condition(k, facts, present);
        if (c.kind == Kind::all && k.kind == Kind::has) present.insert(k.var);
        if (c.kind == Kind::any && k.kind == Kind::negate && k.kids.front().kind == Kind::has)
          present.insert(k.kids.front().var);
      }
      return;
    case Kind::negate:
      check_condition(c.kids.front(), facts, present);
      return;
    case Kind::has:
    case Kind::compare:
      break;
  }
  if (std::find(facts.begin(), facts.end(), c.var) == facts.end()) {
    if (explain_missing_fact(c.var, var_where())) return;
    ast::Ident id;
    id.text = c.var;
    id.where = var_where();
    unknown_name(id, "anchor or fact", facts);
    return;
  }
  if (c.kind == Kind::has) return;
  const bool ordered = c.op == cond::Op::lt || c.op == cond::Op::le || c.op == cond::Op::gt || c.op == cond::Op::ge;
  auto t = value_types_.find(c.var);
  if (ordered && t != value_types_.end() && t->second == ValueType::text) {
    error(var_where(), "type-error", "'" + c.var + "' is categorical; ordering comparisons need a number");
    return;
  }
  auto f = facts_.find(c.var);
  if (f != facts_.end() && f->second.maybe_absent && !c.absent_ok && !present.count(c.var)) {
    const std::string rest = cond::to_string(c).substr(c.var.size());
    error_related(
        var_where(), "absent-fact",
        "'" + c.var + "' may be absent (" + f->second.absent_why + "): say what absence means",
        {f->second.where, "'" + f->second.anchor + "' is defined here"},
        {"write '" + c.var + "?" + rest + "' (true when absent) or 'has " + c.var + " and " + c.var + rest + "'"});
    return;
  }
  check_values(c);
}

// A comparison with a value the fact never takes is a typo ("studnet": an error with a suggestion)
// or can never be true (a warning).
void Checker::check_values(const cond::Condition& c) {
  if (c.op != cond::Op::eq && c.op != cond::Op::ne && c.op != cond::Op::in && c.op != cond::Op::not_in) return;
  auto f = facts_.find(c.var);
  if (f == facts_.end() || !f->second.values || f->second.type != ValueType::text) return;
  const auto& values = *f->second.values;
  for (const auto& v : c.values) {
    const std::string s = value_string(v);
    if (contains(values, s)) continue;
    const std::string best = suggest_label(s, values);
    if (!best.empty()) {
      error(c.where, "unknown-value", "'" + s + "' is not a value of '" + c.var + "'",
            {"did you mean '" + best + "'?"});
    } else {
      std::vector<std::string> quoted;
      for (const auto& x : values) quoted.push_back("'" + x + "'");
      warning(c.where, "impossible-value",
              "'" + c.var + "' is never '" + s + "' (its values: " + list_text(quoted) +
                  "), so this comparison always has the same outcome");
    }
  }
}

// The facts the taxonomy's applicability conditions read must come from the recipe, or the
// attributes they guard are never selected.
void Checker::check_taxonomy_facts(const Scope& scope) {
  if (!taxonomy_) return;
  const std::vector<std::string> facts = known_facts(scope);
  SourceRange at{scope.files.empty() ? std::string() : scope.files.front(), 1, 1, 0};
  if (scope.taxonomy_name) at = scope.taxonomy_name->where;
  if (scope.taxonomy_file) at = scope.taxonomy_file->where;
  std::vector<const TaxonomyInfo::FactUse*> absent;
  for (const auto& use : taxonomy_->facts) {
    if (contains(facts, use.fact)) continue;
    std::string table, how;
    const std::string anchor = lost_source(use.fact, table, how);
    if (anchor.empty()) {
      absent.push_back(&use);
      continue;
    }
    error_related(built_.at(anchor).where, "missing-fact",
                  "no persona has '" + use.fact + "': " + how + ", and the taxonomy's conditions read it (" +
                      std::to_string(use.attributes) + " attributes, e.g. '" + use.example + "')",
                  {use.where, "a condition of the taxonomy that reads '" + use.fact + "'"},
                  {"those attributes would never be selected; draw '" + anchor + "' from table '" + table +
                   "', or declare 'anchor " + use.fact + " = ...'"});
  }
  if (absent.empty() || scope.anchors.empty()) return;  // nothing to say about a recipe without anchors yet
  // One warning for the facts the recipe never had (a small recipe without age or employment).
  std::vector<std::string> names, counts;
  for (const auto* use : absent) {
    names.push_back("'" + use->fact + "'");
    counts.push_back(use->fact + ": " + std::to_string(use->attributes));
  }
  std::string list = names.front();
  for (std::size_t i = 1; i < names.size(); ++i) list += (i + 1 == names.size() ? " or " : ", ") + names[i];
  report_related(Severity::warning, at, "missing-fact",
                 "no anchor gives " + list + ", which the taxonomy's conditions read: the attributes that need " +
                     (absent.size() == 1 ? "it" : "them") + " are never selected (" + list_text(counts) + ")",
                 {absent.front()->where, "e.g. '" + absent.front()->example + "'"},
                 {"declare an anchor (e.g. 'anchor " + absent.front()->fact + " = ...') or draw it from a table"});
}

}  // namespace persona::lang::checking
