// The population block: calibration targets and oversampling rules, checked against the anchors
// (which may be calibrated, what they are drawn by) and the target tables (keys, labels). The
// counts themselves are the engine's (interpreter/engine/population.cpp): it has the tables' weights.
#include <algorithm>
#include <cmath>
#include <set>

#include "base/text.hpp"
#include "check/checker_impl.hpp"

namespace persona::lang::checking {

namespace {

void collect_vars(const cond::Condition& c, std::vector<const cond::Condition*>& out) {
  if (c.kind == cond::Condition::Kind::compare || c.kind == cond::Condition::Kind::has) out.push_back(&c);
  for (const auto& k : c.kids) collect_vars(k, out);
}

}  // namespace

void Checker::check_population(const Scope& scope, Recipe& out) {
  if (!scope.population) return;
  const ast::Population& pop = *scope.population;
  PopulationSettings& ps = out.population;
  ps.where = pop.where;
  if (pop.calibrate.empty()) {
    error(pop.where, "empty-population",
          "the population block has no 'calibrate' statement: say which anchors to calibrate "
          "(calibrate region, gender, age [to table NAME])");
    return;
  }
  std::vector<std::string> anchor_names;
  for (const auto& a : out.anchors) anchor_names.push_back(a.name);

  // Which anchors are calibrated (the union), and which facts those anchors' tables derive.
  std::set<std::string> calibrated;
  for (const auto& c : pop.calibrate)
    for (const auto& id : c.anchors)
      if (out.anchor(id.text) != nullptr) calibrated.insert(id.text);
  auto settled = [&](const std::string& fact) {  // calibrated, derived from a calibrated anchor, or fixed
    if (calibrated.count(fact)) return true;
    auto d = derived_by_.find(fact);
    if (d != derived_by_.end() && calibrated.count(d->second)) return true;
    const Anchor* a = out.anchor(fact);
    return a != nullptr && a->source.kind == AnchorSource::Kind::fixed;
  };

  for (const auto& c : pop.calibrate) {
    CalibrationTarget t;
    t.where = c.where;
    bool ok = true;
    std::set<std::string> seen;
    for (const auto& id : c.anchors) {
      const Anchor* a = out.anchor(id.text);
      if (a == nullptr) {
        if (built_.count(id.text) == 0) unknown_name(id, "anchor", anchor_names);
        ok = false;
        continue;
      }
      if (!seen.insert(id.text).second) {
        error(id.where, "duplicate-calibrate", "'" + id.text + "' is listed twice in this calibrate statement");
        ok = false;
        continue;
      }
      using K = AnchorSource::Kind;
      switch (a->source.kind) {
        case K::fixed:
          error(id.where, "calibrate-fixed",
                "anchor '" + id.text + "' has a fixed value: every persona has it, there is nothing to calibrate");
          ok = false;
          break;
        case K::uniform:
        case K::normal:
        case K::lognormal:
          error(id.where, "calibrate-continuous",
                "anchor '" + id.text +
                    "' is drawn from a continuous distribution: calibration needs values to count (a categorical "
                    "{ ... } or a table)",
                {"draw it from a table with ranges such as \"18-24\", or calibrate a banded anchor instead"});
          ok = false;
          break;
        default:
          break;
      }
      for (const auto& dep : a->depends_on) {
        if (settled(dep)) continue;
        error(id.where, "calibrate-free-parent",
              "anchor '" + id.text + "' is drawn by '" + dep + "', which is not calibrated: fixing '" + id.text +
                  "' while '" + dep + "' is drawn freely would give combinations its table cannot produce",
              {"calibrate '" + dep + "' too (add it to a calibrate list), or give it a fixed value"});
        ok = false;
      }
      t.anchors.push_back(id.text);
    }
    if (c.table) {
      const std::string& n = c.table->text;
      t.table = n;
      ast::TableDraw draw;
      draw.table = *c.table;
      std::optional<TableInfo> info = table_info(draw, scope);
      if (n.rfind("stdlib.", 0) != 0) {
        auto it = scope.tables.find(n);
        if (it != scope.tables.end()) t.table_path = resolve(it->second.where.file, it->second.path.value);
      }
      if (!info) {
        const bool declared = n.rfind("stdlib.", 0) != 0 && scope.tables.count(n);
        if (!declared) {
          std::vector<std::string> names = env_.table_names();
          for (const auto& [k, v] : scope.tables) names.push_back(k);
          unknown_name(*c.table, "table", names);
        }
        ok = false;
      } else if (ok) {
        // The table's `by` names the first anchors, its values are the last anchor's.
        std::vector<std::string> want(t.anchors.begin(), t.anchors.end() - 1);
        if (info->by != want) {
          error(c.table->where, "calibrate-table-keys",
                "table '" + n + "' is keyed by (" + text::join(info->by, ", ") + ") but this statement needs (" +
                    text::join(want, ", ") + ")",
                {"a target table is keyed by every calibrated anchor but the last, in the order listed, and its "
                 "values are the last anchor's (calibrate " +
                 text::join(t.anchors, ", ") + " to table " + n + ")"});
          ok = false;
        } else {
          // Every key and label must be a value the anchor can take.
          auto check_values = [&](const std::string& anchor, const std::vector<std::string>& keys, bool fallback) {
            if (fallback) {
              error(c.table->where, "calibrate-fallback",
                    "table '" + n + "' has a '*' key for '" + anchor +
                        "': a calibration target counts each value, a fallback is not one");
              ok = false;
            }
            auto f = facts_.find(anchor);
            if (f == facts_.end() || !f->second.values || f->second.type != ValueType::text) return;
            const auto& vals = *f->second.values;
            for (const auto& k : keys) {
              if (std::find(vals.begin(), vals.end(), k) != vals.end()) continue;
              std::vector<std::string> notes;
              const std::string best = suggest_label(k, vals);
              if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
              notes.push_back("'" + anchor + "' takes " + list_text(vals));
              error(c.table->where, "calibrate-unknown-value",
                    "table '" + n + "' has a target for " + anchor + " = '" + k +
                        "', a value the recipe's tables cannot produce",
                    notes);
              ok = false;
            }
          };
          for (std::size_t i = 0; i < want.size() && i < info->levels.size(); ++i)
            check_values(want[i], info->levels[i].keys, info->levels[i].fallback);
          if (info->type == ValueType::text) check_values(t.anchors.back(), info->labels, false);
        }
      }
    }
    if (ok) ps.targets.push_back(std::move(t));
  }

  // The union of calibrated anchors, in dependency order.
  for (const auto& a : out.anchors)
    if (calibrated.count(a.name)) ps.anchors.push_back(a.name);

  const std::vector<std::string> facts = known_facts(scope);
  for (const auto& o : pop.oversample) {
    OversampleRule r;
    r.where = o.where;
    r.when = o.when;
    r.factor = o.factor.value;
    if (!std::isfinite(r.factor) || r.factor <= 0) {
      error(o.factor.where, "bad-oversample",
            "an oversampling factor is a positive number (x 3 triples the group's share of the sample)");
      continue;
    }
    check_condition(o.when, facts);
    std::vector<const cond::Condition*> vars;
    collect_vars(o.when, vars);
    bool ok = true;
    for (const auto* v : vars) {
      if (settled(v->var) || std::find(facts.begin(), facts.end(), v->var) == facts.end()) continue;
      SourceRange w = v->where;
      w.length = static_cast<std::uint32_t>(v->var.size());
      error(w, "oversample-uncalibrated",
            "oversampling reads '" + v->var +
                "', which is not calibrated: the groups to oversample are made of calibrated anchors",
            {"add '" + v->var + "' to a calibrate statement"});
      ok = false;
    }
    if (ok) ps.oversample.push_back(std::move(r));
  }
}

}  // namespace persona::lang::checking
