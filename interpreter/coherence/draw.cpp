// The per-persona path: bind anchors, draw latent facts, evaluate conditions, weigh and draw options.
// Nothing here allocates once a State has seen a few personas (vectors and strings keep capacity).
#include <algorithm>
#include <cmath>

#include "base/text.hpp"
#include "coherence.hpp"

namespace persona::coherence {

namespace {

constexpr LabelMask kOther = kOtherLabel;  // a value outside a fact's labels

bool single(LabelMask m) { return m != 0 && (m & (m - 1)) == 0; }

int bit_index(LabelMask m) {
  int i = 0;
  while ((m & 1) == 0) {
    m >>= 1;
    ++i;
  }
  return i;
}

// text::fold into a reusable buffer.
void fold_into(std::string_view s, std::string& out) {
  out.clear();
  for (unsigned char c : s) {
    if (c >= 0x80)
      out.push_back(static_cast<char>(c));
    else if (c >= 'A' && c <= 'Z')
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out.push_back(static_cast<char>(c));
  }
}

std::optional<double> as_number(const cond::Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  const auto& s = std::get<std::string>(v);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

}  // namespace

std::string_view State::label(std::size_t fact) const {
  if (rules_ == nullptr || fact >= mask_.size()) return {};
  const auto m = mask_[fact];
  if (!single(m) || m == kOther) {
    if (origin_[fact] == Origin::anchor || origin_[fact] == Origin::drawn) {
      if (const auto* s = std::get_if<std::string>(&keys_[fact])) return *s;
    }
    return {};
  }
  const auto& labels = rules_->fact_labels(fact);
  const auto i = static_cast<std::size_t>(bit_index(m));
  return i < labels.size() ? std::string_view(labels[i]) : std::string_view();
}

std::int32_t Rules::label_of(const FactInfo& f, std::string_view text, std::string& buf) const {
  for (std::size_t i = 0; i < f.labels.size(); ++i)
    if (f.labels[i] == text) return static_cast<std::int32_t>(i);
  fold_into(text, buf);
  auto it = f.lookup.find(buf);
  return it == f.lookup.end() ? -1 : it->second;
}

Truth Rules::eval(const State& st, std::uint32_t n) const {
  const Node& x = nodes_[n];
  switch (x.kind) {
    case Node::Kind::category: {
      const LabelMask m = st.mask_[x.fact];
      const LabelMask in = m & x.mask, out = m & ~x.mask;
      if (m == 0 || (in != 0 && out != 0)) return Truth::unknown;
      return out == 0 ? Truth::yes : Truth::no;
    }
    case Node::Kind::number: {
      if (st.origin_[x.fact] == Origin::unknown) return Truth::unknown;
      const double a = st.number_[x.fact];
      if (std::isnan(a)) return Truth::unknown;
      const double* v = numbers_.data() + x.values_first;
      const std::uint32_t nv = x.values_count;
      bool r = false;
      switch (x.op) {
        case cond::Op::eq:
          r = nv > 0 && a == v[0];
          break;
        case cond::Op::ne:
          r = nv == 0 || a != v[0];
          break;
        case cond::Op::in:
          for (std::uint32_t i = 0; i < nv; ++i) r = r || a == v[i];
          break;
        case cond::Op::not_in:
          r = true;
          for (std::uint32_t i = 0; i < nv; ++i) r = r && a != v[i];
          break;
        case cond::Op::lt:
          r = nv > 0 && a < v[0];
          break;
        case cond::Op::le:
          r = nv > 0 && a <= v[0];
          break;
        case cond::Op::gt:
          r = nv > 0 && a > v[0];
          break;
        case cond::Op::ge:
          r = nv > 0 && a >= v[0];
          break;
      }
      return r ? Truth::yes : Truth::no;
    }
    case Node::Kind::all: {
      Truth acc = Truth::yes;
      for (std::uint32_t i = 0; i < x.count; ++i) {
        const Truth k = eval(st, kids_[x.first + i]);
        if (k == Truth::no) return Truth::no;
        if (k == Truth::unknown) acc = Truth::unknown;
      }
      return acc;
    }
    case Node::Kind::any: {
      Truth acc = Truth::no;
      for (std::uint32_t i = 0; i < x.count; ++i) {
        const Truth k = eval(st, kids_[x.first + i]);
        if (k == Truth::yes) return Truth::yes;
        if (k == Truth::unknown) acc = Truth::unknown;
      }
      return acc;
    }
    case Node::Kind::negate: {
      const Truth k = eval(st, kids_[x.first]);
      return k == Truth::yes ? Truth::no : k == Truth::no ? Truth::yes : Truth::unknown;
    }
  }
  return Truth::unknown;
}

const std::vector<double>* Rules::pick_weights(const State& st, const std::vector<Weighing>& ws,
                                               bool facts_phase) const {
  if (st.rules_ != this) return nullptr;
  for (const auto& w : ws) {
    if (w.when >= 0) {
      const auto c = static_cast<std::size_t>(w.when);
      const Truth t = facts_phase ? eval(st, roots_[c]) : truth(st, c);
      if (t == Truth::yes) return &w.weights;
      continue;
    }
    if (w.table < 0) continue;
    const TableWeights& tw = tables_[static_cast<std::size_t>(w.table)];
    auto& keys = st.keys_scratch();
    bool ok = true;
    for (std::size_t i = 0; i < tw.by.size() && ok; ++i) {
      const auto f = tw.by[i];
      if (st.origin_[f] == Origin::unknown)
        ok = false;
      else
        keys[i] = st.keys_[f];
    }
    if (!ok) continue;
    const tables::Dist* d = tw.table->lookup(std::span<const cond::Value>(keys.data(), tw.by.size()));
    if (d == nullptr) continue;
    auto it = std::lower_bound(tw.rows.begin(), tw.rows.end(), std::make_pair(d, std::uint32_t{0}));
    if (it == tw.rows.end() || it->first != d) continue;
    return &tw.weights[it->second];
  }
  return nullptr;
}

void Rules::bind(State& st, const cond::Facts& facts) const {
  const std::size_t nf = facts_.size();
  st.rules_ = this;
  st.mask_.resize(nf);
  st.number_.resize(nf);
  st.origin_.resize(nf);
  st.keys_.resize(nf);
  if (st.scratch_.size() < 8) st.scratch_.resize(8);
  for (std::size_t i = 0; i < nf; ++i) {
    const FactInfo& f = facts_[i];
    st.origin_[i] = Origin::unknown;
    st.mask_[i] = f.number ? 0 : f.domain;
    st.number_[i] = std::nan("");
    if (f.derive_from >= 0) {
      const auto src = static_cast<std::size_t>(f.derive_from);
      if (st.origin_[src] != Origin::unknown && !std::isnan(st.number_[src])) {
        st.number_[i] = f.derive_minuend - st.number_[src];
        st.origin_[i] = Origin::derived;
        st.keys_[i] = st.number_[i];
      }
      continue;
    }
    for (const auto& [anchor, label] : f.bindings) {
      auto it = facts.find(anchor);
      if (it == facts.end()) continue;
      const cond::Value& v = it->second;
      if (f.number) {
        const auto d = as_number(v);
        if (!d) continue;
        st.number_[i] = *d;
      } else if (label >= 0) {
        st.mask_[i] = label_bit(label);
      } else {
        std::int32_t k = -1;
        if (const auto* s = std::get_if<std::string>(&v)) {
          k = label_of(f, *s, st.fold_);
        } else {
          const double d = std::get<double>(v);
          for (std::size_t j = 0; j < f.labels.size() && k < 0; ++j)
            if (auto n = as_number(cond::Value(f.labels[j])); n && *n == d) k = static_cast<std::int32_t>(j);
        }
        st.mask_[i] = k >= 0 ? label_bit(static_cast<std::size_t>(k)) : kOther;
      }
      st.keys_[i] = label >= 0 ? cond::Value(f.labels[static_cast<std::size_t>(label)]) : v;
      st.origin_[i] = Origin::anchor;
      break;
    }
  }
}

void Rules::begin(State& st, const cond::Facts& facts, std::uint64_t seed, std::uint64_t index) const {
  bind(st, facts);
  for (std::size_t i = 0; i < facts_.size(); ++i) {
    const FactInfo& f = facts_[i];
    if (f.derive_from >= 0 && st.origin_[i] == Origin::unknown) {
      const auto src = static_cast<std::size_t>(f.derive_from);
      if (st.origin_[src] != Origin::unknown && !std::isnan(st.number_[src])) {
        st.number_[i] = f.derive_minuend - st.number_[src];
        st.origin_[i] = Origin::derived;
        st.keys_[i] = st.number_[i];
      }
      continue;
    }
    if (st.origin_[i] != Origin::unknown || !f.drawable) continue;
    const std::vector<double>* w = pick_weights(st, f.weighings, true);
    if (w == nullptr) w = &f.base;
    double total = 0;
    for (double x : *w) total += x;
    if (total <= 0) continue;
    Rng rng = Rng::derive_hashed(seed, index, f.step_hash);
    double u = rng.uniform() * total;
    std::size_t k = 0;
    for (std::size_t j = 0; j < w->size(); ++j) {
      if ((*w)[j] <= 0) continue;
      k = j;
      u -= (*w)[j];
      if (u < 0) break;
    }
    st.mask_[i] = label_bit(k);
    st.keys_[i] = f.labels[k];  // reuses the string's capacity when it held one
    st.origin_[i] = Origin::drawn;
  }
  // Conditions are evaluated on first use (truth()); a new epoch invalidates the last persona's.
  if (st.memo_.size() != roots_.size() || ++st.epoch_ >= (std::uint32_t{1} << 30)) {
    st.memo_.assign(roots_.size(), 0);
    st.epoch_ = 1;
  }
}

void Rules::export_facts(const State& st, cond::Facts& facts) const {
  for (std::size_t i = 0; i < facts_.size(); ++i) {
    const Origin o = st.origin_[i];
    if (o == Origin::unknown || o == Origin::inferred) continue;
    const std::string& name = facts_[i].name;
    const auto at = facts.lower_bound(name);
    if (at != facts.end() && at->first == name) continue;  // the persona's own value stays
    if (facts_[i].number) {
      facts.emplace_hint(at, name, st.number_[i]);
    } else if (single(st.mask_[i]) && st.mask_[i] != kOther) {
      facts.emplace_hint(at, name, facts_[i].labels[static_cast<std::size_t>(bit_index(st.mask_[i]))]);
    }
  }
}

bool Rules::possible(const State& st, tax::Vertex leaf) const {
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0 || st.rules_ != this) return true;
  const Hot& h = hot_[static_cast<std::size_t>(leaf_of_[leaf])];
  if (h.always_possible) return true;
  const HotOption* o = hot_options_.data() + h.options;
  for (std::size_t k = 0; k < h.option_count; ++k)
    if (o[k].cond < 0 || truth(st, static_cast<std::size_t>(o[k].cond)) != Truth::no) return true;
  return false;
}

bool Rules::allowed(const State& st, tax::Vertex leaf, std::size_t option) const {
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0 || st.rules_ != this) return true;
  const Hot& h = hot_[static_cast<std::size_t>(leaf_of_[leaf])];
  if (option >= h.option_count) return true;
  const std::int32_t c = hot_options_[h.options + option].cond;
  return c < 0 || truth(st, static_cast<std::size_t>(c)) != Truth::no;
}

std::optional<std::size_t> Rules::option_of(tax::Vertex leaf, std::string_view value) const {
  if (tax_ == nullptr || leaf >= tax_->size()) return std::nullopt;
  const auto& opts = (*tax_)[leaf].values;
  for (std::size_t k = 0; k < opts.size(); ++k)
    if (opts[k].label == value) return k;
  const std::string f = text::fold(value);
  for (std::size_t k = 0; k < opts.size() && !f.empty(); ++k)
    if (text::fold(opts[k].label) == f) return k;
  return std::nullopt;
}

const double* Rules::pick_hot(const State& st, const Hot& h, std::size_t leaf) const {
  if (st.rules_ != this) return nullptr;
  if (h.tables) {
    const auto* w = pick_weights(st, leaves_[leaf].weighings, false);
    return w == nullptr ? nullptr : w->data();
  }
  const HotWeighing* w = hot_weighings_.data() + h.weighings;
  for (std::size_t k = 0; k < h.weighing_count; ++k)
    if (truth(st, static_cast<std::size_t>(w[k].when)) == Truth::yes) return hot_weights_.data() + w[k].weights;
  return nullptr;
}

double Rules::weights(const State& st, tax::Vertex leaf, std::span<double> out) const {
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0) return 0;
  const auto index = static_cast<std::size_t>(leaf_of_[leaf]);
  const Hot& h = hot_[index];
  const HotOption* o = hot_options_.data() + h.options;
  const std::size_t n = std::min<std::size_t>(out.size(), h.option_count);
  const double* w = pick_hot(st, h, index);
  const bool bound = st.rules_ == this;  // an unbound state knows no facts: every option is allowed
  auto allowed = [&](std::size_t k) {
    return !bound || o[k].cond < 0 || truth(st, static_cast<std::size_t>(o[k].cond)) != Truth::no;
  };
  double total = 0;
  for (int pass = 0; pass < 3 && total <= 0; ++pass) {
    total = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const double base = pass == 0 && w != nullptr ? w[k] : pass < 2 ? o[k].weight : 1.0;
      out[k] = allowed(k) ? base : 0.0;
      total += out[k];
    }
  }
  return total;
}

int Rules::draw(const State& st, tax::Vertex leaf, Rng& rng) const {
  if (leaf >= leaf_of_.size() || leaf_of_[leaf] < 0) return -1;
  const auto index = static_cast<std::size_t>(leaf_of_[leaf]);
  const Hot& h = hot_[index];
  const HotOption* o = hot_options_.data() + h.options;
  const std::size_t n = h.option_count;
  const double* w = pick_hot(st, h, index);
  const bool bound = st.rules_ == this;  // an unbound state knows no facts: every option is allowed
  auto allowed = [&](std::size_t k) {
    return !bound || o[k].cond < 0 || truth(st, static_cast<std::size_t>(o[k].cond)) != Truth::no;
  };
  // Pass 0: the chosen weighting; 1: the `=` weights; 2: equal weights (among allowed options).
  for (int pass = 0; pass < 3; ++pass) {
    if (pass == 0 && w == nullptr) continue;
    auto weight = [&](std::size_t k) { return pass == 0 ? w[k] : pass == 1 ? o[k].weight : 1.0; };
    double total = 0;
    for (std::size_t k = 0; k < n; ++k)
      if (allowed(k)) total += weight(k);
    if (total <= 0) continue;
    double u = rng.uniform() * total;
    int chosen = -1;
    for (std::size_t k = 0; k < n; ++k) {
      if (!allowed(k) || weight(k) <= 0) continue;
      chosen = static_cast<int>(k);
      u -= weight(k);
      if (u < 0) break;
    }
    return chosen;
  }
  return -1;
}

}  // namespace persona::coherence
