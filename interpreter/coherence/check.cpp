// Rules::check: the violations of a finished persona. Not on the hot path; clarity first.
//
// 1. Facts the record has (anchors, derived facts, latent facts when present) are bound.
// 2. Each attribute is mapped to its leaf and option (unknown paths or free-text values: unmapped).
// 3. Two attributes of one meaning id are a "twins" violation.
// 4. Unknown category facts are inferred: each linked option narrows the facts its condition reads
//    to the values that do not make it false. A narrowing that leaves nothing is a violation naming
//    this attribute and the earlier one it disagrees with.
// 5. An inferred latent fact outside what its own weights allow for this persona (grandchildren at
//    25, married at 12) is a violation.
// 6. Every option link and every applicability (`?`) condition is evaluated in three values: true
//    (checked), false (violation), unknown (skipped: a fact the persona does not have).
#include <algorithm>
#include <cmath>
#include <map>

#include "base/text.hpp"
#include "coherence.hpp"

namespace persona::coherence {

namespace {

constexpr LabelMask kOther = kOtherLabel;  // a value outside a fact's labels

}  // namespace

struct Checker {
  const Rules& r;
  State st;
  CheckReport rep;
  struct Item {
    const Attribute* a = nullptr;
    tax::Vertex v = 0;
    const Rules::LeafInfo* li = nullptr;
    int option = -1;
    bool conflicted = false;
  };
  std::vector<Item> items;

  std::string fact_text(std::size_t f) const {
    const auto& fi = r.facts_[f];
    if (fi.number) {
      if (st.origin_[f] == Origin::unknown || std::isnan(st.number_[f])) return "unknown";
      return text::format_number(st.number_[f]);
    }
    const LabelMask m = st.mask_[f];
    if (m == fi.domain) return "unknown";
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < fi.labels.size(); ++i)
      if (m & label_bit(i)) labels.push_back(fi.labels[i]);
    if (m & kOther) {
      if (const auto* s = std::get_if<std::string>(&st.keys_[f]); s && st.origin_[f] == Origin::anchor)
        labels.push_back(*s);
      else
        labels.push_back("(other)");
    }
    if (labels.size() == 1) return labels.front();
    return "one of " + text::join(labels, ", ");
  }

  std::string label_set(std::size_t f, LabelMask m) const {
    const auto& fi = r.facts_[f];
    std::vector<std::string> labels;
    for (std::size_t i = 0; i < fi.labels.size(); ++i)
      if (m & label_bit(i)) labels.push_back(fi.labels[i]);
    if (labels.size() == 1) return labels.front();
    return "one of " + text::join(labels, ", ");
  }

  void add_facts(Violation& v, std::uint32_t cond) const {
    for (auto f : r.cond_facts_[cond]) {
      const char* kind = st.origin_[f] == Origin::anchor ? "anchor " : "fact ";
      v.involved.emplace_back(kind + r.facts_[f].name, fact_text(f));
    }
  }

  SourceRange link_where(const Item& it) const {
    if (it.li->rules == nullptr) return {};
    for (const auto& l : it.li->rules->links)
      if (std::find(l.options.begin(), l.options.end(), static_cast<std::size_t>(it.option)) != l.options.end())
        return l.where;
    return it.li->rules->where;
  }

  std::string family_of(const Item& it) const {
    return it.li->rules ? it.li->rules->family : std::string("applicability");
  }

  void map_attributes(std::span<const Attribute> attributes) {
    const tax::Taxonomy& t = *r.tax_;
    for (const auto& a : attributes) {
      Item it;
      it.a = &a;
      const auto v = t.find(a.path);
      if (!v || !t.is_leaf(*v) || r.leaf_of_[*v] < 0) {
        ++rep.unmapped;
        continue;
      }
      it.v = *v;
      it.li = &r.leaves_[static_cast<std::size_t>(r.leaf_of_[*v])];
      const auto& opts = t[*v].values;
      for (std::size_t k = 0; k < opts.size() && it.option < 0; ++k)
        if (opts[k].label == a.value) it.option = static_cast<int>(k);
      if (it.option < 0) {
        const std::string f = text::fold(a.value);
        for (std::size_t k = 0; k < opts.size() && it.option < 0; ++k)
          if (!f.empty() && text::fold(opts[k].label) == f) it.option = static_cast<int>(k);
      }
      if (it.option < 0) ++rep.unmapped;
      items.push_back(it);
    }
  }

  void twins() {
    const tax::Taxonomy& t = *r.tax_;
    std::map<std::uint32_t, std::size_t> first;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto [it, fresh] = first.emplace(t.meaning_id(items[i].v), i);
      if (fresh) continue;
      const Item& a = items[it->second];
      const Item& b = items[i];
      Violation v;
      v.family = "twins";
      v.rule = "twins:" + std::string(a.a->path);
      v.statement =
          "\"" + t[a.v].name + "\" and \"" + t[b.v].name + "\" describe the same attribute; a persona carries it once";
      v.involved.emplace_back(std::string(a.a->path), std::string(a.a->value));
      v.involved.emplace_back(std::string(b.a->path), std::string(b.a->value));
      rep.violations.push_back(std::move(v));
    }
  }

  struct Narrower {
    std::size_t item;
    LabelMask allowed;
  };
  std::vector<std::vector<Narrower>> by_fact;  // per fact: the attributes that narrowed it

  void narrow() {
    const std::size_t nf = r.facts_.size();
    by_fact.assign(nf, {});
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        Item& it = items[i];
        if (it.option < 0 || it.conflicted) continue;
        const auto c = it.li->option_cond[static_cast<std::size_t>(it.option)];
        if (c < 0) continue;
        const auto cu = static_cast<std::size_t>(c);
        for (auto f : r.cond_facts_[cu]) {
          const auto& fi = r.facts_[f];
          if (fi.number || st.origin_[f] == Origin::anchor || st.origin_[f] == Origin::drawn) continue;
          const LabelMask cur = st.mask_[f];
          LabelMask allowed = 0;
          for (LabelMask m = cur; m != 0; m &= m - 1) {
            const LabelMask bit = m & (~m + 1);
            st.mask_[f] = bit;
            if (r.eval(st, r.roots_[cu]) != Truth::no) allowed |= bit;
          }
          st.mask_[f] = cur;
          if (allowed == cur) continue;
          if ((cur & allowed) == 0) {
            // Disagreement: name the earlier attribute whose own demand excludes this one's.
            Violation v;
            v.family = family_of(it);
            v.rule = v.family + ":" + r.tax_->node(it.v).path;
            std::optional<std::size_t> other;
            for (const auto& n : by_fact[f])
              if ((n.allowed & allowed) == 0 && n.item != i) {
                other = n.item;
                break;
              }
            v.statement = r.statement(it.v, static_cast<std::size_t>(it.option));
            if (other) {
              const Item& o = items[*other];
              v.statement += "; \"" + r.tax_->node(o.v).name + "\" = \"" + std::string(o.a->value) + "\" says " +
                             fi.name + " is " + label_set(f, cur) + " (" + fi.description + ")";
              v.involved.emplace_back(std::string(o.a->path), std::string(o.a->value));
            } else {
              v.statement += "; the other attributes say " + fi.name + " is " + label_set(f, cur);
              for (const auto& n : by_fact[f])
                v.involved.emplace_back(std::string(items[n.item].a->path), std::string(items[n.item].a->value));
            }
            v.involved.emplace(v.involved.begin(), std::string(it.a->path), std::string(it.a->value));
            v.where = link_where(it);
            rep.violations.push_back(std::move(v));
            it.conflicted = true;
            break;
          }
          st.mask_[f] = cur & allowed;
          st.origin_[f] = Origin::inferred;
          by_fact[f].push_back({i, allowed});
        }
      }
    }
    // Latent facts inferred outside what their weights allow for this persona.
    for (std::size_t f = 0; f < nf; ++f) {
      const auto& fi = r.facts_[f];
      if (st.origin_[f] != Origin::inferred || !fi.drawable) continue;
      const std::vector<double>* w = nullptr;
      bool decided = false;
      std::string why;
      for (const auto& x : fi.weighings) {
        if (x.when >= 0) {
          const Truth t = r.eval(st, r.roots_[static_cast<std::size_t>(x.when)]);
          if (t == Truth::unknown) break;  // cannot tell which weights apply
          if (t == Truth::yes) {
            w = &x.weights;
            decided = true;
            why = r.cond_text_[static_cast<std::size_t>(x.when)];
            break;
          }
          continue;
        }
        break;  // a table line: its support is not a rule (any value may be rare); stop here
      }
      if (!decided) continue;
      LabelMask support = 0;
      for (std::size_t k = 0; k < w->size(); ++k)
        if ((*w)[k] > 0) support |= label_bit(k);
      if ((st.mask_[f] & support) != 0) continue;
      Violation v;
      v.family = "facts";
      v.rule = "fact:" + fi.name;
      v.statement = "the attributes say " + fi.name + " (" + fi.description + ") is " + label_set(f, st.mask_[f]) +
                    ", which is impossible when " + why + " (then it is " + label_set(f, support) + ")";
      for (const auto& it : items) {
        if (it.option < 0) continue;
        const auto c = it.li->option_cond[static_cast<std::size_t>(it.option)];
        if (c < 0) continue;
        const auto& fs = r.cond_facts_[static_cast<std::size_t>(c)];
        if (std::find(fs.begin(), fs.end(), f) != fs.end())
          v.involved.emplace_back(std::string(it.a->path), std::string(it.a->value));
      }
      rep.violations.push_back(std::move(v));
    }
  }

  // The truth of a condition for item i given what the *other* attributes say: an attribute's own
  // narrowing of a fact must not make its own check pass.
  Truth eval_for(std::size_t i, std::size_t cu) {
    std::vector<std::pair<std::size_t, LabelMask>> saved;
    for (auto f : r.cond_facts_[cu]) {
      if (by_fact.empty() || by_fact[f].empty()) continue;
      LabelMask m = r.facts_[f].domain;
      for (const auto& n : by_fact[f])
        if (n.item != i) m &= n.allowed;
      if (m == 0) continue;  // the others disagree among themselves (reported already)
      saved.emplace_back(f, st.mask_[f]);
      st.mask_[f] = m;
    }
    const Truth t = r.eval(st, r.roots_[cu]);
    for (const auto& [f, m] : saved) st.mask_[f] = m;
    return t;
  }

  void evaluate() {
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto& it = items[i];
      if (it.option >= 0 && !it.conflicted) {
        const auto c = it.li->option_cond[static_cast<std::size_t>(it.option)];
        if (c >= 0) {
          const auto cu = static_cast<std::size_t>(c);
          const Truth t = eval_for(i, cu);
          if (t == Truth::yes)
            ++rep.checked;
          else if (t == Truth::unknown)
            ++rep.skipped;
          else {
            Violation v;
            v.family = family_of(it);
            v.rule = v.family + ":" + r.tax_->node(it.v).path;
            v.statement = r.statement(it.v, static_cast<std::size_t>(it.option));
            v.involved.emplace_back(std::string(it.a->path), std::string(it.a->value));
            add_facts(v, static_cast<std::uint32_t>(cu));
            v.where = link_where(it);
            rep.violations.push_back(std::move(v));
          }
        }
      }
      const tax::Taxonomy& t = *r.tax_;
      const auto conds = t.inherited_conditions(it.v);
      for (std::size_t k = 0; k < it.li->applicability.size(); ++k) {
        const auto cu = static_cast<std::size_t>(it.li->applicability[k]);
        const Truth tr = eval_for(i, cu);
        if (tr == Truth::yes)
          ++rep.checked;
        else if (tr == Truth::unknown)
          ++rep.skipped;
        else {
          Violation v;
          v.family = it.li->rules ? it.li->rules->family : std::string("applicability");
          v.rule = "applicability:" + t[it.v].path;
          v.statement = "\"" + t[it.v].name + "\" applies only when " + r.cond_text_[cu];
          v.involved.emplace_back(std::string(it.a->path), std::string(it.a->value));
          add_facts(v, static_cast<std::uint32_t>(cu));
          if (k < conds.size()) v.where = conds[k]->where;
          rep.violations.push_back(std::move(v));
        }
      }
    }
  }
};

CheckReport Rules::check(const cond::Facts& facts, std::span<const Attribute> attributes) const {
  Checker c{*this, {}, {}, {}, {}};
  bind(c.st, facts);
  c.map_attributes(attributes);
  c.twins();
  c.narrow();
  c.evaluate();
  return std::move(c.rep);
}

}  // namespace persona::coherence
