// Rules::compile: the taxonomy's rule book and `~` lines -> flat arrays for drawing and checking.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "base/text.hpp"
#include "coherence.hpp"

namespace persona::coherence {

namespace {

constexpr LabelMask kOther = kOtherLabel;  // a value outside a fact's labels

std::optional<double> number_of(std::string_view s) {
  s = text::trim(s);
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

std::string value_text(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return text::format_number(std::get<double>(v));
}

}  // namespace

struct Compiler {
  Rules& r;
  const tax::Taxonomy& t;
  const tables::Library& lib;
  DiagnosticSink& sink;
  std::size_t errors = 0;
  std::map<std::string, std::int32_t> cond_ids;

  void error(const SourceRange& where, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {}) {
    sink.error(where, code, msg, std::move(notes));
    ++errors;
  }

  std::optional<std::size_t> fact(std::string_view name) const {
    for (std::size_t i = 0; i < r.facts_.size(); ++i)
      if (r.facts_[i].name == name) return i;
    return std::nullopt;
  }

  // ---- facts ----

  void add_declared(const tax::FactDecl& d) {
    Rules::FactInfo f;
    f.name = d.name;
    f.description = d.description;
    f.number = d.type == tax::FactDecl::Type::number;
    f.closed = !d.values.empty();
    f.drawable = d.drawable();
    for (std::size_t i = 0; i < d.values.size(); ++i) {
      f.labels.push_back(d.values[i].label);
      f.base.push_back(d.values[i].weight);
      f.lookup.emplace(text::fold(d.values[i].label), static_cast<std::uint8_t>(i));
      for (const auto& a : d.aliases[i]) f.lookup.emplace(text::fold(a), static_cast<std::uint8_t>(i));
    }
    for (const auto& b : d.bindings)
      f.bindings.emplace_back(b.anchor, b.value ? static_cast<std::int32_t>(*b.value) : -1);
    f.step_hash = stable_hash("fact:" + d.name);
    r.facts_.push_back(std::move(f));
  }

  // Facts a taxonomy without a rule book reads in its conditions: bound to the anchor of their name,
  // never drawn. Numbers when compared with numbers.
  void add_implicit(const cond::Condition& c) {
    if (c.kind != cond::Condition::Kind::compare) {
      for (const auto& k : c.kids) add_implicit(k);
      return;
    }
    if (fact(c.var)) return;
    Rules::FactInfo f;
    f.name = c.var;
    f.number = !c.values.empty() && std::holds_alternative<double>(c.values.front()) && c.op != cond::Op::eq &&
               c.op != cond::Op::ne && c.op != cond::Op::in && c.op != cond::Op::not_in;
    f.bindings.emplace_back(c.var, -1);
    f.step_hash = stable_hash("fact:" + c.var);
    r.facts_.push_back(std::move(f));
  }

  // Open (undeclared-label) text facts learn their labels from the conditions that compare them.
  void collect_open_values(const cond::Condition& c) {
    if (c.kind != cond::Condition::Kind::compare) {
      for (const auto& k : c.kids) collect_open_values(k);
      return;
    }
    auto k = fact(c.var);
    if (!k) return;
    auto& f = r.facts_[*k];
    if (f.number || f.closed) return;
    for (const auto& v : c.values) {
      const std::string s = value_text(v);
      const std::string key = text::fold(s);
      if (f.lookup.count(key)) continue;
      if (f.labels.size() >= kMaxLabels - 1) {
        error(c.where, "too-many-values",
              "rules compare fact '" + f.name + "' with more than " + std::to_string(kMaxLabels - 1) +
                  " different values");
        return;
      }
      f.lookup.emplace(key, static_cast<std::uint8_t>(f.labels.size()));
      f.labels.push_back(s);
    }
  }

  void finish_domains() {
    for (auto& f : r.facts_) {
      if (f.number) continue;
      f.domain = kOther;
      for (std::size_t i = 0; i < f.labels.size(); ++i) f.domain |= label_bit(i);
    }
  }

  // ---- conditions ----

  static bool label_matches(const Rules::FactInfo& f, std::size_t i, const cond::Value& v) {
    const std::string& label = f.labels[i];
    if (const double* d = std::get_if<double>(&v)) {
      if (auto n = number_of(label)) return *n == *d;
      return label == text::format_number(*d);
    }
    const auto& s = std::get<std::string>(v);
    if (label == s) return true;
    auto it = f.lookup.find(text::fold(s));
    return it != f.lookup.end() && it->second == i;
  }

  static bool holds(const Rules::FactInfo& f, std::size_t i, const cond::Condition& c) {
    switch (c.op) {
      case cond::Op::eq:
        return !c.values.empty() && label_matches(f, i, c.values.front());
      case cond::Op::ne:
        return c.values.empty() || !label_matches(f, i, c.values.front());
      case cond::Op::in:
        for (const auto& v : c.values)
          if (label_matches(f, i, v)) return true;
        return false;
      case cond::Op::not_in:
        for (const auto& v : c.values)
          if (label_matches(f, i, v)) return false;
        return true;
      default: {
        const auto a = number_of(f.labels[i]);
        if (!a || c.values.empty()) return false;
        const double* b = std::get_if<double>(&c.values.front());
        if (b == nullptr) return false;
        if (c.op == cond::Op::lt) return *a < *b;
        if (c.op == cond::Op::le) return *a <= *b;
        if (c.op == cond::Op::gt) return *a > *b;
        return *a >= *b;
      }
    }
  }

  std::uint32_t node(const cond::Condition& c) {
    Rules::Node n;
    using K = cond::Condition::Kind;
    if (c.kind == K::compare) {
      const auto k = fact(c.var);
      const auto& f = r.facts_[k.value_or(0)];
      n.fact = static_cast<std::uint16_t>(k.value_or(0));
      n.op = c.op;
      if (!k) {  // cannot happen: every variable is a declared or implicit fact
        n.kind = Rules::Node::Kind::category;
        n.mask = 0;
      } else if (f.number) {
        n.kind = Rules::Node::Kind::number;
        n.values_first = static_cast<std::uint32_t>(r.numbers_.size());
        for (const auto& v : c.values) {
          if (const double* d = std::get_if<double>(&v))
            r.numbers_.push_back(*d);
          else if (auto x = number_of(std::get<std::string>(v)))
            r.numbers_.push_back(*x);
          else
            r.numbers_.push_back(std::nan(""));
        }
        n.values_count = static_cast<std::uint32_t>(r.numbers_.size()) - n.values_first;
      } else {
        n.kind = Rules::Node::Kind::category;
        for (std::size_t i = 0; i < f.labels.size(); ++i)
          if (holds(f, i, c)) n.mask |= label_bit(i);
        if (c.op == cond::Op::ne || c.op == cond::Op::not_in) n.mask |= kOther;
      }
      r.nodes_.push_back(n);
      return static_cast<std::uint32_t>(r.nodes_.size() - 1);
    }
    n.kind = c.kind == K::all   ? Rules::Node::Kind::all
             : c.kind == K::any ? Rules::Node::Kind::any
                                : Rules::Node::Kind::negate;
    std::vector<std::uint32_t> kids;
    for (const auto& k : c.kids) kids.push_back(node(k));
    n.first = static_cast<std::uint32_t>(r.kids_.size());
    n.count = static_cast<std::uint32_t>(kids.size());
    r.kids_.insert(r.kids_.end(), kids.begin(), kids.end());
    r.nodes_.push_back(n);
    return static_cast<std::uint32_t>(r.nodes_.size() - 1);
  }

  std::int32_t condition(const cond::Condition& c) {
    std::string key = cond::to_string(c);
    if (auto it = cond_ids.find(key); it != cond_ids.end()) return it->second;
    const auto id = static_cast<std::int32_t>(r.roots_.size());
    r.roots_.push_back(node(c));
    std::vector<std::string> vars;
    cond::collect_vars(c, vars);
    std::vector<std::uint16_t> fs;
    for (const auto& v : vars)
      if (auto k = fact(v)) fs.push_back(static_cast<std::uint16_t>(*k));
    std::sort(fs.begin(), fs.end());
    fs.erase(std::unique(fs.begin(), fs.end()), fs.end());
    r.cond_facts_.push_back(std::move(fs));
    r.cond_text_.push_back(key);
    cond_ids.emplace(std::move(key), id);
    return id;
  }

  // ---- weightings ----

  // A `~ table` line weighing `targets` (a leaf's options or a fact's labels).
  std::int32_t table(const tax::Weighting& w, const std::vector<std::string>& targets, const std::string& owner,
                     const Rules::FactInfo* fact_owner) {
    const tables::Table* tb = lib.find(w.table);
    if (tb == nullptr) {
      std::vector<std::string> names = lib.names();
      std::vector<std::string> notes;
      if (auto near = closest_match(w.table, names); !near.empty()) notes.push_back("did you mean '" + near + "'?");
      error(w.where, "unknown-table", "'" + owner + "' is weighted by table '" + w.table + "', which is not loaded",
            std::move(notes));
      return -1;
    }
    if (tb->kind != tables::ValueKind::category) {
      error(w.where, "table-kind", "table '" + w.table + "' draws numbers; a '~ table' line needs a category table");
      return -1;
    }
    if (w.by.size() > 8) {
      error(w.where, "table-keys", "a '~ table' line reads at most 8 facts");
      return -1;
    }
    if (tb->by.size() != w.by.size()) {
      error(w.where, "table-keys",
            "table '" + w.table + "' is keyed by " + std::to_string(tb->by.size()) + " fact(s) (" +
                text::join(tb->by, ", ") + "); the line gives " + std::to_string(w.by.size()));
      return -1;
    }
    Rules::TableWeights tw;
    tw.table = tb;
    for (const auto& b : w.by) {
      auto k = fact(b);
      if (!k) {
        error(w.where, "unknown-fact", "the table is keyed by '" + b + "', which is not a fact");
        return -1;
      }
      tw.by.push_back(static_cast<std::uint16_t>(*k));
    }
    std::set<std::string> reported;
    for (const auto& e : tb->entries()) {
      std::vector<double> row(targets.size(), 0.0);
      const auto& labels = e.dist->labels();
      const auto& probs = e.dist->probabilities();
      for (std::size_t i = 0; i < labels.size(); ++i) {
        std::optional<std::size_t> k;
        if (fact_owner != nullptr) {
          if (auto it = fact_owner->lookup.find(text::fold(labels[i])); it != fact_owner->lookup.end()) k = it->second;
        } else {
          for (std::size_t j = 0; j < targets.size() && !k; ++j)
            if (targets[j] == labels[i] || text::fold(targets[j]) == text::fold(labels[i])) k = j;
        }
        if (!k) {
          if (reported.insert(labels[i]).second)
            error(w.where, "table-label",
                  "table '" + w.table + "' has the label '" + labels[i] + "', which is not " +
                      (fact_owner ? "a value of fact '" : "an option of '") + owner + "'",
                  {"its " + std::string(fact_owner ? "values" : "options") + ": " + text::join(targets, " | ")});
          continue;
        }
        row[*k] += probs[i];
      }
      tw.rows.emplace_back(e.dist, static_cast<std::uint32_t>(tw.weights.size()));
      tw.weights.push_back(std::move(row));
    }
    std::sort(tw.rows.begin(), tw.rows.end());
    r.tables_.push_back(std::move(tw));
    return static_cast<std::int32_t>(r.tables_.size() - 1);
  }

  std::vector<Rules::Weighing> weighings(const std::vector<tax::Weighting>& ws, const std::vector<std::string>& targets,
                                         const std::string& owner, const Rules::FactInfo* fact_owner) {
    std::vector<Rules::Weighing> out;
    for (const auto& w : ws) {
      Rules::Weighing x;
      if (w.kind == tax::Weighting::Kind::when) {
        x.when = condition(w.condition);
        x.weights = w.weights;
      } else if (w.kind == tax::Weighting::Kind::table) {
        x.table = table(w, targets, owner, fact_owner);
        if (x.table < 0) continue;
      } else {
        continue;  // uniform: documentation only
      }
      out.push_back(std::move(x));
    }
    return out;
  }

  void run() {
    const tax::RuleBook& book = t.rules();
    for (const auto& d : book.facts) add_declared(d);
    // Implicit facts for taxonomies whose conditions read undeclared names (no rule book).
    for (tax::Vertex v : t.preorder()) {
      for (const auto& c : t[v].conditions) add_implicit(c.condition);
      for (const auto& w : t[v].weightings)
        if (w.kind == tax::Weighting::Kind::when) add_implicit(w.condition);
    }
    for (const auto& d : book.facts)
      for (const auto& w : d.weightings)
        if (w.kind == tax::Weighting::Kind::when) collect_open_values(w.condition);
    for (const auto& l : book.leaves)
      for (const auto& k : l.links) collect_open_values(k.condition);
    for (tax::Vertex v : t.preorder()) {
      for (const auto& c : t[v].conditions) collect_open_values(c.condition);
      for (const auto& w : t[v].weightings)
        if (w.kind == tax::Weighting::Kind::when) collect_open_values(w.condition);
    }
    finish_domains();
    // Fact weightings and derivations.
    for (std::size_t i = 0; i < book.facts.size(); ++i) {
      const auto& d = book.facts[i];
      auto& f = r.facts_[i];
      f.weighings = weighings(d.weightings, f.labels, d.name, &f);
      if (d.derive) {
        if (auto k = fact(d.derive->fact)) f.derive_from = static_cast<std::int32_t>(*k);
        f.derive_minuend = d.derive->minuend;
      }
    }
    // Leaves.
    r.leaf_of_.assign(t.size(), -1);
    for (tax::Vertex v : t.leaves()) {
      const tax::Node& n = t[v];
      if (n.values.empty()) continue;
      Rules::LeafInfo li;
      li.vertex = v;
      std::vector<std::string> targets;
      for (const auto& o : n.values) {
        li.base.push_back(o.weight > 0 ? o.weight : 0.0);
        targets.push_back(o.label);
      }
      li.weighings = weighings(n.weightings, targets, n.path, nullptr);
      li.option_cond.assign(n.values.size(), -1);
      li.rules = book.leaf(v);
      if (li.rules != nullptr) {
        std::vector<std::vector<const cond::Condition*>> per(n.values.size());
        for (const auto& l : li.rules->links)
          for (auto k : l.options) per[k].push_back(&l.condition);
        for (std::size_t k = 0; k < per.size(); ++k) {
          if (per[k].empty()) continue;
          if (per[k].size() == 1) {
            li.option_cond[k] = condition(*per[k].front());
          } else {
            cond::Condition all;
            all.kind = cond::Condition::Kind::all;
            for (const auto* c : per[k]) all.kids.push_back(*c);
            li.option_cond[k] = condition(all);
          }
          li.linked = true;
        }
        li.always_possible = std::any_of(li.option_cond.begin(), li.option_cond.end(), [](auto c) { return c < 0; });
      }
      for (const cond::Condition* c : t.inherited_conditions(v)) li.applicability.push_back(condition(*c));
      Rules::Hot h;
      h.options = static_cast<std::uint32_t>(r.hot_options_.size());
      h.option_count = static_cast<std::uint16_t>(li.base.size());
      for (std::size_t k = 0; k < li.base.size(); ++k) r.hot_options_.push_back({li.base[k], li.option_cond[k]});
      h.weighings = static_cast<std::uint32_t>(r.hot_weighings_.size());
      h.weighing_count = static_cast<std::uint16_t>(li.weighings.size());
      for (const auto& w : li.weighings) {
        r.hot_weighings_.push_back({w.when, static_cast<std::uint32_t>(r.hot_weights_.size())});
        r.hot_weights_.insert(r.hot_weights_.end(), w.weights.begin(), w.weights.end());
      }
      h.always_possible = li.always_possible;
      h.tables = std::any_of(li.weighings.begin(), li.weighings.end(), [](const auto& w) { return w.table >= 0; });
      r.leaf_of_[v] = static_cast<std::int32_t>(r.leaves_.size());
      r.leaves_.push_back(std::move(li));
      r.hot_.push_back(h);
    }
  }
};

std::shared_ptr<const Rules> Rules::compile(const tax::Taxonomy& t, const tables::Library& tables,
                                            DiagnosticSink& sink) {
  try {
    std::shared_ptr<Rules> r(new Rules());
    r->tax_ = &t;
    Compiler c{*r, t, tables, sink, 0, {}};
    c.run();
    if (c.errors > 0) return nullptr;
    return r;
  } catch (const std::exception& e) {
    sink.error({}, "internal", std::string("cannot compile the coherence rules: ") + e.what());
    return nullptr;
  }
}

std::optional<std::size_t> Rules::fact_index(std::string_view name) const {
  for (std::size_t i = 0; i < facts_.size(); ++i)
    if (facts_[i].name == name) return i;
  return std::nullopt;
}

std::string_view Rules::family(tax::Vertex leaf) const {
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0) return {};
  const auto* lr = leaves_[static_cast<std::size_t>(leaf_of_[leaf])].rules;
  return lr ? std::string_view(lr->family) : std::string_view();
}

RuleStats Rules::stats() const {
  RuleStats s;
  s.facts = facts_.size();
  std::map<std::string, std::size_t> fam;
  for (const auto& f : facts_) s.latent_facts += f.drawable ? 1 : 0;
  for (const auto& l : leaves_) {
    if (l.linked) {
      ++s.linked_leaves;
      ++fam[l.rules->family];
      for (auto c : l.option_cond) s.links += c >= 0 ? 1 : 0;
    }
    bool when = false, table = false;
    for (const auto& w : l.weighings) {
      when = when || w.when >= 0;
      table = table || w.table >= 0;
    }
    s.conditional_leaves += when ? 1 : 0;
    s.table_leaves += table ? 1 : 0;
  }
  s.families.assign(fam.begin(), fam.end());
  return s;
}

std::vector<tax::Vertex> Rules::undocumented_uniform() const {
  std::vector<tax::Vertex> out;
  for (const auto& l : leaves_) {
    const tax::Node& n = (*tax_)[l.vertex];
    bool documented = false;
    for (const auto& w : n.weightings) documented = documented || w.kind == tax::Weighting::Kind::uniform;
    if (documented || !l.weighings.empty()) continue;
    // Links that leave at most one option for most personas decide the value: not a uniform draw.
    std::size_t linked = 0;
    for (auto c : l.option_cond) linked += c >= 0 ? 1 : 0;
    if (linked * 2 >= l.option_cond.size() && l.option_cond.size() > 1) continue;
    const bool equal = std::all_of(l.base.begin(), l.base.end(), [&](double w) { return w == l.base.front(); });
    if (equal && l.base.size() > 1) out.push_back(l.vertex);
  }
  return out;
}

std::string Rules::statement(tax::Vertex leaf, std::size_t option) const {
  const tax::Node& n = (*tax_)[leaf];
  std::string s = "\"" + n.name + "\"";
  if (option < n.values.size()) s += " = \"" + n.values[option].label + "\"";
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0) return s;
  const LeafInfo& li = leaves_[static_cast<std::size_t>(leaf_of_[leaf])];
  if (option < li.option_cond.size() && li.option_cond[option] >= 0)
    s += " requires " + cond_text_[static_cast<std::size_t>(li.option_cond[option])];
  if (li.rules != nullptr && !li.rules->statement.empty()) s = li.rules->statement + " (" + s + ")";
  return s;
}

}  // namespace persona::coherence
