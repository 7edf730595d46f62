// Anchors: fixed values, categoricals (weights, numeric labels), numeric distributions, table draws
// (the table exists, `by` names its keys in its order), bounds and rounding; then every label that
// selects a table row (a fixed value, a categorical label) is checked against the table's keys, and
// the anchors are ordered by their dependencies.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "check/checker_impl.hpp"

namespace persona::lang::checking {

namespace {

std::optional<double> as_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

// A value that selects a row of a table drawn `by` its anchor.
struct Key {
  std::string text;
  std::optional<double> number;
  SourceRange where;
};

bool level_has(const TableLevel& level, const Key& k) {
  if (std::find(level.keys.begin(), level.keys.end(), k.text) != level.keys.end()) return true;
  if (level.numeric && k.number) {
    for (const auto& [lo, hi] : level.ranges)
      if (*k.number >= lo && *k.number <= hi) return true;
  }
  return false;
}

}  // namespace

void Checker::check_anchors(const Scope& scope, Recipe& out) {
  // First pass: distributions resolved, table infos and derived facts, so `by` can name a derived fact.
  std::vector<std::optional<TableInfo>> infos(scope.anchors.size());
  for (std::size_t i = 0; i < scope.anchors.size(); ++i) {
    const ast::Anchor& a = scope.anchors[i];
    if (!a.draw) continue;
    ast::Distribution storage;
    const ast::Distribution* d = resolve_dist(*a.draw, scope, storage);
    if (d == nullptr) continue;
    resolved_[a.name.text] = storage;
    if (const auto* t = std::get_if<ast::TableDraw>(&d->form)) {
      infos[i] = table_info(*t, scope);
      if (infos[i]) {
        for (const auto& f : infos[i]->derived_facts) {
          if (!derived_by_.count(f)) derived_by_[f] = a.name.text;
        }
      }
    }
  }
  for (const auto& [fact, anchor] : derived_by_) value_types_[fact] = ValueType::text;

  const std::vector<std::string> facts = known_facts(scope);
  for (std::size_t i = 0; i < scope.anchors.size(); ++i) {
    const ast::Anchor& a = scope.anchors[i];
    Anchor r;
    r.name = a.name.text;
    r.where = a.where;
    if (a.fixed_text) {
      r.type = ValueType::text;
      r.source.kind = AnchorSource::Kind::fixed;
      r.source.fixed = a.fixed_text->value;
    } else if (a.fixed_number) {
      r.type = ValueType::number;
      r.source.kind = AnchorSource::Kind::fixed;
      r.source.fixed = a.fixed_number->value;
    } else if (a.draw) {
      auto found = resolved_.find(r.name);
      if (found == resolved_.end()) continue;  // reported by resolve_dist
      const ast::Distribution* d = &found->second;
      bool ok = true;
      if (const auto* c = std::get_if<ast::Categorical>(&d->form)) {
        check_weights(*c);
        r.source.kind = AnchorSource::Kind::categorical;
        // Numeric when every label is a number (written 1 or "1"): the draw is then a number.
        bool all_numbers = !c->choices.empty();
        for (const auto& ch : c->choices) all_numbers = all_numbers && as_number(ch.label).has_value();
        for (const auto& ch : c->choices) {
          Choice choice{ch.label, ch.weight.value, std::nullopt};
          if (all_numbers) choice.number = as_number(ch.label);
          r.source.choices.push_back(std::move(choice));
        }
        r.type = all_numbers ? ValueType::number : ValueType::text;
      } else if (const auto* n = std::get_if<ast::Numeric>(&d->form)) {
        ok = check_numeric(*n, r);
      } else if (const auto* t = std::get_if<ast::TableDraw>(&d->form)) {
        ok = check_table_draw(*t, scope, infos[i], facts, r);
      }
      if (d->bound != ast::Distribution::Bound::none) {
        if (ok && r.type != ValueType::number) {
          error(d->bound_range.where, "type-error",
                std::string(d->bound == ast::Distribution::Bound::clamp ? "clamp" : "truncate") +
                    " needs a numeric anchor, but '" + r.name + "' is categorical");
        }
        if (check_range(d->bound_range, "a bound", false)) {
          r.source.bound.kind =
              d->bound == ast::Distribution::Bound::clamp ? Bound::Kind::clamp : Bound::Kind::truncate;
          if (d->bound_range.lo) r.source.bound.lo = d->bound_range.lo->value;
          if (d->bound_range.hi) r.source.bound.hi = d->bound_range.hi->value;
        }
      }
      if (d->round) {
        if (ok && r.type != ValueType::number)
          error(d->where, "type-error", "round needs a numeric anchor, but '" + r.name + "' is categorical");
        r.source.round = true;
      }
    }
    value_types_[r.name] = r.type;
    built_[r.name] = r;
  }

  build_facts(scope);
  check_keys(scope);
  check_coverage();

  // Order by dependencies (stable), reporting cycles.
  std::vector<const Anchor*> list;
  std::map<std::string, std::size_t> index;
  for (const auto& a : scope.anchors) {
    auto it = built_.find(a.name.text);
    if (it == built_.end() || index.count(a.name.text)) continue;
    index[a.name.text] = list.size();
    list.push_back(&it->second);
  }
  auto deps_of = [&](std::size_t i) {
    std::vector<std::size_t> deps;
    for (const auto& dname : list[i]->depends_on) {
      std::string target = dname;
      if (!index.count(target) && derived_by_.count(dname)) target = derived_by_.at(dname);
      auto it = index.find(target);
      if (it != index.end()) deps.push_back(it->second);
    }
    return deps;
  };
  std::vector<std::size_t> order;
  if (topo_order(
          list.size(), deps_of, [&](std::size_t i) { return list[i]->name; },
          [&](std::size_t i) { return list[i]->where; }, "anchors", order)) {
    for (std::size_t i : order) out.anchors.push_back(*list[i]);
  }
}

// Stable topological order (depth-first, declaration order); reports every cycle once.
bool Checker::topo_order(std::size_t n, const std::function<std::vector<std::size_t>(std::size_t)>& deps,
                         const std::function<std::string(std::size_t)>& name,
                         const std::function<SourceRange(std::size_t)>& where, const char* what,
                         std::vector<std::size_t>& order) {
  std::vector<std::vector<std::size_t>> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = deps(i);
  std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::size_t> stack;
  bool ok = true;
  std::set<std::set<std::size_t>> reported;
  std::function<void(std::size_t)> visit = [&](std::size_t v) {
    state[v] = 1;
    stack.push_back(v);
    for (std::size_t w : d[v]) {
      if (state[w] == 1) {
        auto it = std::find(stack.begin(), stack.end(), w);
        std::set<std::size_t> members(it, stack.end());
        if (reported.insert(members).second) {
          std::string chain;
          for (auto j = it; j != stack.end(); ++j) chain += name(*j) + " -> ";
          chain += name(w);
          error(where(w), "dependency-cycle", std::string("dependency cycle among ") + what + ": " + chain);
        }
        ok = false;
      } else if (state[w] == 0) {
        visit(w);
      }
    }
    stack.pop_back();
    state[v] = 2;
    order.push_back(v);
  };
  for (std::size_t i = 0; i < n; ++i)
    if (state[i] == 0) visit(i);
  return ok;
}

// Resolves a distribution through `distribution` references; reports unknown names and cycles.
const ast::Distribution* Checker::resolve_dist(const ast::Distribution& d, const Scope& scope,
                                               ast::Distribution& storage) {
  storage = d;
  std::set<std::string> seen;
  while (auto* ref = std::get_if<ast::DistRef>(&storage.form)) {
    const std::string& n = ref->name.text;
    auto it = scope.distributions.find(n);
    if (it == scope.distributions.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : scope.distributions) names.push_back(k);
      for (const char* fam : {"uniform", "normal", "lognormal"}) names.emplace_back(fam);
      std::vector<std::string> notes;
      const std::string best = closest_match(n, names);
      if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
      error(ref->name.where, "undefined-name", "undefined distribution '" + n + "'", notes);
      return nullptr;
    }
    if (!seen.insert(n).second) {
      error(ref->name.where, "distribution-cycle", "distribution '" + n + "' refers to itself");
      return nullptr;
    }
    // Bounds written at the use site win over the definition's.
    ast::Distribution next = it->second.dist;
    if (storage.bound != ast::Distribution::Bound::none) {
      next.bound = storage.bound;
      next.bound_range = storage.bound_range;
    }
    next.round = next.round || storage.round;
    storage = std::move(next);
  }
  return &storage;
}

void Checker::check_weights(const ast::Categorical& c) {
  double sum = 0;
  bool any_positive = false;
  std::map<std::string, SourceRange> labels;
  for (const auto& ch : c.choices) {
    if (!std::isfinite(ch.weight.value)) {
      error(ch.weight.where, "bad-weight",
            "weight " + ch.weight.text + " for '" + ch.label + "' is not a finite number; write a smaller weight");
      return;
    }
    if (ch.weight.value < 0) {
      error(ch.weight.where, "negative-probability", "negative weight " + ch.weight.text + " for '" + ch.label + "'");
    }
    if (ch.weight.value > 0) any_positive = true;
    sum += ch.weight.value;
    auto [it, fresh] = labels.emplace(ch.label, ch.where);
    if (!fresh)
      error_related(ch.where, "duplicate-choice", "duplicate choice '" + ch.label + "'", {it->second, "first here"});
  }
  if (!any_positive) {
    error(c.where, "zero-probabilities", "every weight is zero: nothing can be drawn");
    return;
  }
  if (!std::isfinite(sum)) {
    error(c.where, "bad-weight",
          "the weights sum to more than the largest number; write them smaller (e.g. as shares)");
    return;
  }
  if (std::fabs(sum - 1.0) > 1e-6) {
    warning(c.where, "weights-not-normalised", "weights sum to " + number_text(sum) + ", not 1; they are normalised");
  }
}

bool Checker::check_numeric(const ast::Numeric& n, Anchor& r) {
  r.type = ValueType::number;
  const std::string& fam = n.family.text;
  static const std::vector<std::string> families = {"uniform", "normal", "lognormal"};
  if (fam == "uniform") {
    r.source.kind = AnchorSource::Kind::uniform;
  } else if (fam == "normal") {
    r.source.kind = AnchorSource::Kind::normal;
  } else if (fam == "lognormal") {
    r.source.kind = AnchorSource::Kind::lognormal;
  } else {
    std::vector<std::string> notes;
    const std::string best = closest_match(fam, families);
    if (!best.empty())
      notes.push_back("did you mean '" + best + "'?");
    else
      notes.emplace_back("distributions: uniform(lo, hi), normal(mean, sd), lognormal(mu, sigma)");
    error(n.family.where, "unknown-distribution", "unknown distribution '" + fam + "'", notes);
    return false;
  }
  if (n.args.size() != 2) {
    error(n.where, "wrong-arity", fam + " takes 2 arguments, got " + std::to_string(n.args.size()));
    return false;
  }
  for (const auto& a : n.args) {
    if (!std::isfinite(a.value)) {
      error(a.where, "bad-parameter", fam + " argument " + a.text + " is not a finite number");
      return false;
    }
    r.source.args.push_back(a.value);
  }
  if (fam == "uniform" && n.args[0].value >= n.args[1].value) {
    error(n.where, "inverted-range", "uniform(lo, hi) needs lo < hi");
    return false;
  }
  if (fam == "uniform" && !std::isfinite(n.args[1].value - n.args[0].value)) {
    error(n.where, "bad-parameter", "uniform(lo, hi): hi - lo is larger than the largest number; narrow the range");
    return false;
  }
  // exp(mu) is the median of lognormal(mu, sigma): above log(DBL_MAX) = 709.78 most draws overflow.
  if (fam == "lognormal" && n.args[0].value > 709.78) {
    error(n.args[0].where, "bad-parameter",
          "lognormal(mu, sigma) with mu " + n.args[0].text +
              " draws values beyond the largest number (exp(mu) overflows above mu = 709.78); use a smaller mu");
    return false;
  }
  if ((fam == "normal" || fam == "lognormal") && n.args[1].value <= 0) {
    error(n.args[1].where, "bad-parameter", fam + " needs a positive spread (second argument)");
    return false;
  }
  return true;
}

std::optional<TableInfo> Checker::table_info(const ast::TableDraw& t, const Scope& scope) {
  const std::string& n = t.table.text;
  if (n.rfind("stdlib.", 0) == 0) return env_.table(n);
  auto it = scope.tables.find(n);
  if (it == scope.tables.end()) return std::nullopt;
  const std::string path = resolve(it->second.where.file, it->second.path.value);
  DiagnosticList local;
  auto info = env_.user_table(path, it->second.path.where, local);
  const bool first = reported_tables_.insert(path).second;
  for (const auto& d : local.all()) {
    // Reported once per table even when several anchors draw from it.
    if (!first) continue;
    if (d.severity == Severity::error) ++errors_;
    sink_.report(d);
  }
  return info;
}

bool Checker::check_table_draw(const ast::TableDraw& t, const Scope& scope, const std::optional<TableInfo>& info,
                               const std::vector<std::string>& facts, Anchor& r) {
  const std::string& n = t.table.text;
  r.source.kind = AnchorSource::Kind::table;
  r.source.table = n;
  if (n.rfind("stdlib.", 0) != 0) {
    auto it = scope.tables.find(n);
    if (it != scope.tables.end()) r.source.table_path = resolve(it->second.where.file, it->second.path.value);
  }
  if (!info) {
    const bool declared = n.rfind("stdlib.", 0) != 0 && scope.tables.count(n);
    if (declared) return false;  // its file's errors were reported
    std::vector<std::string> names = env_.table_names();
    for (const auto& [k, v] : scope.tables) names.push_back(k);
    unknown_name(t.table, "table", names);
    return false;
  }
  r.type = info->type;
  std::vector<bool> defined(t.by.size(), true);
  for (std::size_t i = 0; i < t.by.size(); ++i) {
    const auto& b = t.by[i];
    r.source.by.push_back(b.text);
    r.depends_on.push_back(b.text);
    if (std::find(facts.begin(), facts.end(), b.text) == facts.end()) {
      defined[i] = false;
      if (!explain_missing_fact(b.text, b.where)) unknown_name(b, "anchor", facts);
    }
    if (b.text == r.name) error(b.where, "dependency-cycle", "anchor '" + r.name + "' is drawn by itself");
  }
  const std::string expected = join(info->by);
  if (t.by.size() != info->by.size()) {
    const SourceRange where = t.by.empty() ? t.table.where : t.by.front().where;
    if (info->by.empty()) {
      error(where, "table-by", "table '" + n + "' is not conditioned: remove 'by'");
    } else {
      error(where, "table-by",
            "table '" + n + "' is conditioned on " + std::to_string(info->by.size()) + " fact(s) (" + expected +
                "); write 'by " + expected + "'",
            {std::to_string(t.by.size()) + " given"});
    }
    return false;
  }
  // The names, in the table's order: a table keyed on country, gender used `by gender, country`
  // (or with an anchor `sex`) would look its rows up with the wrong facts.
  for (std::size_t i = 0; i < t.by.size(); ++i) {
    if (t.by[i].text == info->by[i] || !defined[i]) continue;
    const bool reordered = std::find(info->by.begin(), info->by.end(), t.by[i].text) != info->by.end();
    error(t.by[i].where, "table-by",
          reordered ? "table '" + n + "' is keyed on " + expected + ", in this order; write 'by " + expected + "'"
                    : "table '" + n + "' is keyed on " + expected + ", not on '" + t.by[i].text + "'; write 'by " +
                          expected + "'",
          {reordered ? std::string("`by` follows the table's order of keys")
                     : "key " + std::to_string(i + 1) + " is '" + info->by[i] +
                           "': an anchor of that name selects its rows"});
    return false;
  }
  for (bool d : defined)
    if (!d) return false;
  draws_.push_back(Draw{r.name, t, *info});
  return true;
}

// Every value written in the recipe that selects a row of a table (a fixed anchor, a label of an
// inline categorical) must be one of that table's keys: "USA" against a table keyed "United States"
// would silently use the table's "*" row, or draw nothing.
void Checker::check_keys(const Scope& scope) {
  std::map<std::string, const ast::Anchor*> by_name;
  for (const auto& a : scope.anchors) by_name[a.name.text] = &a;
  // Per anchor: the tables drawn by it (draw index, level).
  std::map<std::string, std::vector<std::pair<std::size_t, std::size_t>>> uses;
  for (std::size_t d = 0; d < draws_.size(); ++d) {
    const Draw& dr = draws_[d];
    if (dr.info.levels.size() != dr.info.by.size()) continue;  // keys unknown
    for (std::size_t lvl = 0; lvl < dr.draw.by.size(); ++lvl) uses[dr.draw.by[lvl].text].emplace_back(d, lvl);
  }
  for (const auto& [anchor, tables] : uses) {
    auto it = by_name.find(anchor);
    if (it == by_name.end()) continue;  // a derived fact
    const ast::Anchor& a = *it->second;
    std::vector<Key> keys;
    if (a.fixed_text) {
      keys.push_back(Key{a.fixed_text->value, std::nullopt, a.fixed_text->where});
    } else if (a.fixed_number) {
      keys.push_back(Key{a.fixed_number->text, a.fixed_number->value, a.fixed_number->where});
    } else if (auto r = resolved_.find(anchor); r != resolved_.end()) {
      if (const auto* c = std::get_if<ast::Categorical>(&r->second.form)) {
        // Labels of an inline categorical; one defined by a `distribution` is blamed at its label.
        for (const auto& ch : c->choices) keys.push_back(Key{ch.label, as_number(ch.label), ch.where});
      }
    }
    for (const Key& k : keys) {
      std::vector<std::pair<std::size_t, std::size_t>> missing;
      bool fatal = false;
      for (const auto& [d, lvl] : tables) {
        const TableLevel& level = draws_[d].info.levels[lvl];
        if (level_has(level, k)) continue;
        missing.emplace_back(d, lvl);
        fatal = fatal || !level.fallback;
      }
      if (missing.empty()) continue;
      std::vector<std::string> names, candidates;
      for (const auto& [d, lvl] : missing) {
        names.push_back("'" + draws_[d].draw.table.text + "'");
        for (const auto& key : draws_[d].info.levels[lvl].keys) candidates.push_back(key);
      }
      const Draw& first = draws_[missing.front().first];
      const std::string table_word = missing.size() == 1 ? "table " : "tables ";
      const std::string shown = k.number ? k.text : "'" + k.text + "'";
      std::vector<std::string> notes;
      const std::string best = suggest_label(k.text, candidates);
      if (!best.empty()) notes.push_back("did you mean \"" + best + "\"?");
      const Related rel{first.draw.by[missing.front().second].where,
                        "'" + first.anchor + "' is drawn by '" + anchor + "' here"};
      const std::string keyed = " (keyed by " + anchor + ")";
      if (fatal) {
        error_related(
            k.where, "unknown-key",
            shown + " is not a key of " + table_word + list_text(names) + keyed + ": nothing can be drawn for it", rel,
            notes);
      } else if (missing.size() == tables.size()) {
        error_related(
            k.where, "unknown-key",
            shown + " is not a key of " + table_word + list_text(names) + keyed + ": the '*' row would be used instead",
            rel, notes);
      } else {
        report_related(Severity::warning, k.where, "key-fallback",
                       shown + " is not a key of " + table_word + list_text(names) + keyed + ": its '*' row is used",
                       rel, notes);
      }
    }
  }
}

}  // namespace persona::lang::checking
