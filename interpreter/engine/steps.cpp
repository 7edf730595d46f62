// The steps of a program: anchors, story calls, fill batches and the narrative (selection is in
// select.cpp). Each step draws from its own Rng::derive(seed, index, step) stream and checks every
// answer against what the recipe declares, whichever backend gave it.
#include "engine/steps.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/population.hpp"

namespace persona::engine {

std::string_view to_string(Tier t) {
  switch (t) {
    case Tier::near:
      return "near";
    case Tier::mid:
      return "mid";
    case Tier::far:
      return "far";
    case Tier::panel:
      return "panel";
  }
  return "near";
}

std::string_view to_string(Source s) {
  switch (s) {
    case Source::options:
      return "options";
    case Source::lexicon:
      return "lexicon";
    case Source::llm:
      return "llm";
    case Source::table:
      return "table";
  }
  return "options";
}

std::optional<Ask> Step::apply(Persona&, Scratch&, const Ask&, Answer&) const { return std::nullopt; }

// ---------------------------------------------------------------------------------------------
// Anchors

namespace {

double apply_bound_and_round(const lang::AnchorSource& src, double x) {
  if (src.bound.kind != lang::Bound::Kind::none) {
    if (src.bound.lo) x = std::max(x, *src.bound.lo);
    if (src.bound.hi) x = std::min(x, *src.bound.hi);
  }
  if (src.round) x = std::round(x);
  return x;
}

bool in_bound(const lang::Bound& b, double x) {
  if (b.lo && x < *b.lo) return false;
  if (b.hi && x > *b.hi) return false;
  return true;
}

constexpr int kTruncateTries = 1000;

std::string fmt_num(double d) { return text::format_number(d); }

}  // namespace

std::string AnchorStep::name() const { return "anchor " + m_.anchors()[i_].anchor->name; }

std::string AnchorStep::detail() const {
  const lang::Anchor& a = *m_.anchors()[i_].anchor;
  const auto& s = a.source;
  using K = lang::AnchorSource::Kind;
  std::string d;
  switch (s.kind) {
    case K::fixed:
      d = "fixed ";
      if (const auto* str = std::get_if<std::string>(&s.fixed))
        d += "\"" + *str + "\"";
      else
        d += fmt_num(std::get<double>(s.fixed));
      break;
    case K::categorical: {
      d = "categorical {";
      for (std::size_t i = 0; i < s.choices.size(); ++i) {
        if (i > 0) d += ", ";
        d += s.choices[i].label + ": " + fmt_num(s.choices[i].weight);
      }
      d += "}";
      break;
    }
    case K::uniform:
    case K::normal:
    case K::lognormal: {
      d = s.kind == K::uniform ? "uniform(" : s.kind == K::normal ? "normal(" : "lognormal(";
      for (std::size_t i = 0; i < s.args.size(); ++i) d += (i > 0 ? ", " : "") + fmt_num(s.args[i]);
      d += ")";
      break;
    }
    case K::table:
      d = "table " + s.table;
      if (!s.by.empty()) d += " by " + text::join(s.by, ", ");
      break;
  }
  if (s.bound.kind != lang::Bound::Kind::none) {
    d += s.bound.kind == lang::Bound::Kind::clamp ? ", clamp " : ", truncate ";
    d += (s.bound.lo ? fmt_num(*s.bound.lo) : std::string()) + ".." +
         (s.bound.hi ? fmt_num(*s.bound.hi) : std::string());
  }
  if (s.round) d += ", round";
  const auto& cal = m_.recipe().population.anchors;
  if (std::find(cal.begin(), cal.end(), a.name) != cal.end()) d += ", calibrated";
  return d;
}

std::optional<Ask> AnchorStep::run(Persona& p, Scratch&) const {
  const AnchorInfo& ai = m_.anchors()[i_];
  const lang::Anchor& a = *ai.anchor;
  const lang::AnchorSource& src = a.source;
  Rng rng = Rng::derive_hashed(p.run_seed, p.index, ai.step_hash);
  std::optional<cond::Value> value;
  using K = lang::AnchorSource::Kind;
  // A calibrated anchor takes the value the run's population gave this persona (population.hpp).
  const cond::Value* assigned = p.population != nullptr ? p.population->value(p.index, i_) : nullptr;
  switch (src.kind) {
    case K::fixed:
      value = src.fixed;
      break;
    case K::categorical: {
      if (assigned != nullptr) {
        value = *assigned;
        break;
      }
      const double u = rng.uniform();
      const auto it = std::upper_bound(ai.cumulative.begin(), ai.cumulative.end(), u);
      std::size_t k = static_cast<std::size_t>(it - ai.cumulative.begin());
      if (k >= src.choices.size()) k = src.choices.size() - 1;
      // A categorical whose labels are all numbers draws numbers (checker: Choice::number).
      const lang::Choice& ch = src.choices[k];
      value = ch.number ? cond::Value(*ch.number) : cond::Value(ch.label);
      break;
    }
    case K::uniform:
    case K::normal:
    case K::lognormal: {
      auto draw = [&]() {
        const double x = src.args[0], y = src.args[1];
        if (src.kind == K::uniform) return x + (y - x) * rng.uniform();
        if (src.kind == K::normal) return x + y * rng.normal();
        return std::exp(x + y * rng.normal());
      };
      double x = draw();
      if (src.bound.kind == lang::Bound::Kind::truncate)
        for (int t = 0; t < kTruncateTries && !in_bound(src.bound, x); ++t) x = draw();
      // Huge parameters (normal(0, 1e308), lognormal(700, 10)) can overflow: a persona problem, not a
      // silent null anchor.
      if (!std::isfinite(x)) {
        p.problems.push_back("anchor " + a.name + ": the draw overflowed to " +
                             (x > 0   ? "+inf"
                              : x < 0 ? "-inf"
                                      : "nan") +
                             " (its distribution's parameters are too large); the anchor is not set");
        break;
      }
      value = apply_bound_and_round(src, x);
      break;
    }
    case K::table: {
      const tables::Table* t = ai.table;
      std::vector<cond::Value> keys;
      keys.reserve(src.by.size());
      bool have_keys = true;
      for (const auto& b : src.by) {
        auto it = p.facts.find(b);
        if (it == p.facts.end()) {
          have_keys = false;
          break;
        }
        keys.push_back(it->second);
      }
      const tables::Dist* d = (t != nullptr && have_keys) ? t->lookup(keys) : nullptr;
      if (d == nullptr) {
        p.problems.push_back("anchor " + a.name + ": no distribution in " + src.table + " for its `by` values");
        break;
      }
      cond::Value v = assigned != nullptr ? *assigned : t->sample(*d, rng);
      if (const double* x = std::get_if<double>(&v); x != nullptr && assigned == nullptr) {
        double y = *x;
        if (src.bound.kind == lang::Bound::Kind::truncate)
          for (int k = 0; k < kTruncateTries && !in_bound(src.bound, y); ++k) y = std::get<double>(t->sample(*d, rng));
        v = apply_bound_and_round(src, y);
      }
      // Derived facts (e.g. occupations -> employment) from the drawn label.
      if (!ai.derived.empty()) {
        std::optional<std::string> label;
        if (const auto* s = std::get_if<std::string>(&v))
          label = *s;
        else
          label = t->label_of(*d, v);
        if (label)
          for (const auto& f : ai.derived)
            if (auto dv = t->derive(f, *label)) {
              p.derived.emplace_back(f, *dv);
              p.facts[f] = cond::Value(*dv);
            }
      }
      value = std::move(v);
      break;
    }
  }
  if (value) {
    p.facts[a.name] = *value;
    p.anchors[i_] = std::move(value);
  }
  if (i_ + 1 == m_.anchors().size()) bind_facts(m_, p);  // the anchors are complete
  return std::nullopt;
}

void bind_facts(const Model& m, Persona& p) {
  if (p.coherence.bound()) return;
  m.rules().begin(p.coherence, p.facts, p.run_seed, p.index);
  m.rules().export_facts(p.coherence, p.facts);
}

// ---------------------------------------------------------------------------------------------
// Story

namespace {

std::int64_t story_completion(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text:
      return 60;
    case K::list:
      return 8 + 40 * std::max(1, st.shape.max_items);
    case K::object:
      return 8 + 30 * static_cast<std::int64_t>(std::max<std::size_t>(1, st.shape.fields.size()));
  }
  return 60;
}

std::string shape_text(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  std::string d;
  if (st.shape.kind == K::list)
    d += st.shape.min_items == st.shape.max_items ? fmt::format(" x {}", st.shape.min_items)
                                                  : fmt::format(" x {}..{}", st.shape.min_items, st.shape.max_items);
  if (st.shape.kind == K::object) {
    d += " {";
    for (std::size_t i = 0; i < st.shape.fields.size(); ++i)
      d += (i > 0 ? ", " : "") + st.shape.fields[i].first + ": " + st.shape.fields[i].second;
    d += "}";
  }
  return d;
}

}  // namespace

std::vector<std::vector<std::size_t>> story_call_groups(const lang::Recipe& r) {
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t k = 0; k < r.story.size(); ++k) {
    if (r.story[k].prompt || groups.empty() || r.story[groups.back().back()].prompt) groups.emplace_back();
    groups.back().push_back(k);
  }
  return groups;
}

std::string StoryStep::name() const {
  std::vector<std::string> outs;
  for (std::size_t k : group_) outs.push_back(m_.recipe().story[k].output);
  return "story " + text::join(outs, ", ");
}

std::string StoryStep::detail() const {
  std::string d;
  for (std::size_t k : group_) {
    const auto& st = m_.recipe().story[k];
    if (!d.empty()) d += "; ";
    d += st.output + " <- llm \"" + st.instruction + "\"" + shape_text(st);
    if (!st.inputs.empty()) d += " from " + text::join(st.inputs, ", ");
    if (st.tones.size() == 1)
      d += " tone " + st.tones.front();
    else if (st.tones.size() > 1)
      d += " tone random(" + text::join(st.tones, ", ") + ")";
  }
  if (group_.size() > 1) d += " (one structured call)";
  return d;
}

namespace {

// The profile every call sends before its task (backend::profile_text): the anchors and derived facts,
// the story told so far, and the answers so far. The expected attribute count is the middle of the
// recipe's range, so the estimate is the expected cost (within a few percent of what runs).
std::int64_t profile_tokens(const Model& m, std::size_t story_steps, std::int64_t answers) {
  const auto& r = m.recipe();
  std::int64_t facts = static_cast<std::int64_t>(r.anchors.size());
  for (const auto& a : m.anchors()) facts += static_cast<std::int64_t>(a.derived.size());
  // The latent facts the coherence rules draw are shown too ("smoking: former"), a few tokens each.
  std::int64_t t = 5 + kFactTokens * facts + kLatentFactTokens * static_cast<std::int64_t>(m.rules().fact_count());
  for (std::size_t k = 0; k < story_steps && k < r.story.size(); ++k) t += story_completion(r.story[k]) * 4 / 5;
  return t + answers * kAnswerTokens;
}

std::int64_t expected_count(const lang::Recipe& r) {
  const int lo = std::max(0, r.attributes.min_count), hi = std::max(lo, r.attributes.max_count);
  return (lo + hi + 1) / 2;
}

}  // namespace

Estimate StoryStep::estimate() const {
  // Task: one line per step (its words, shape and inputs, ~12 tokens) plus the template (~20);
  // context: the profile with the story told by earlier calls; completion: every step's answer.
  const auto& r = m_.recipe();
  std::int64_t instruction = 20, completion = 0;
  for (std::size_t k : group_) {
    const auto& st = r.story[k];
    instruction += estimate_tokens(st.prompt ? *st.prompt : st.instruction) + 12;
    completion += story_completion(st);
  }
  return estimate_call(instruction, profile_tokens(m_, group_.front(), 0), 0, completion);
}

std::optional<Ask> StoryStep::run(Persona&, Scratch&) const {
  Ask a;
  a.kind = Ask::Kind::story;
  a.step = index_;
  for (std::size_t k : group_) a.items.push_back(static_cast<std::uint32_t>(k));
  const auto& r = m_.recipe();
  a.tag = group_.size() == 1 && r.story[group_[0]].prompt ? "story:" + r.story[group_[0]].output : "story";
  return a;
}

std::optional<Ask> StoryStep::apply(Persona& p, Scratch&, const Ask& ask, Answer& a) const {
  if (a.fatal) return std::nullopt;
  const auto& r = m_.recipe();
  if (!a.ok) {
    p.problems.push_back("story: llm: " + a.error);
    return std::nullopt;
  }
  using K = lang::StoryShape::Kind;
  std::vector<std::uint32_t> missing, short_lists;
  std::string feedback;
  for (std::size_t i = 0; i < ask.items.size(); ++i) {
    const std::uint32_t k = ask.items[i];
    const auto& st = r.story[k];
    std::optional<CoreValue>* got = i < a.story.size() ? &a.story[i] : nullptr;
    const bool empty = got == nullptr || !*got || ((*got)->kind == K::text && (*got)->text.empty()) ||
                       ((*got)->kind == K::list && (*got)->items.empty());
    if (empty) {
      missing.push_back(k);
      continue;
    }
    CoreValue& cv = **got;
    if (st.shape.kind == K::list) {
      const auto hi = static_cast<std::size_t>(std::max(1, st.shape.max_items));
      const auto lo = static_cast<std::size_t>(std::max(0, st.shape.min_items));
      if (cv.items.size() > hi) cv.items.resize(hi);
      if (cv.items.size() < lo) {
        // Keep the short list for now; ask again once for a complete one.
        if (ask.attempt < kReasksShape) {
          short_lists.push_back(k);
          feedback += fmt::format("'{}' had {} item{}; give {} to {}. ", st.output, cv.items.size(),
                                  cv.items.size() == 1 ? "" : "s", lo, hi);
        } else {
          p.problems.push_back(fmt::format("story: '{}' has {} item{}, {}..{} declared", st.output, cv.items.size(),
                                           cv.items.size() == 1 ? "" : "s", lo, hi));
        }
      }
    }
    cv.done = true;
    p.core[k] = std::move(cv);
  }
  if (!missing.empty() && ask.attempt < kReasksMissing) {
    Ask again = ask;
    again.items = missing;
    if (a.truncated) again.room = ask.room * 2;  // cut at max_tokens: more room
    for (std::uint32_t k : short_lists) again.items.push_back(k);
    std::sort(again.items.begin(), again.items.end());
    std::vector<std::string> names;
    for (std::uint32_t k : missing) names.push_back(r.story[k].output);
    again.feedback = "No usable value for " + text::join(names, ", ") + ". " + feedback;
    ++again.attempt;
    return again;
  }
  for (std::uint32_t k : missing)
    p.problems.push_back(a.truncated ? "story: " + r.story[k].output +
                                           " truncated: the model stopped at its token limit before giving it"
                                     : "story: llm gave no value for " + r.story[k].output);
  if (!short_lists.empty()) {
    Ask again = ask;
    again.items = short_lists;
    again.feedback = feedback;
    again.attempt = std::max(ask.attempt + 1, kReasksShape);
    return again;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Fill

std::size_t fill_steps(const lang::Recipe& r) {
  const int batch = std::max(1, r.attributes.batch);
  const int maxc = std::max(0, r.attributes.max_count);
  return static_cast<std::size_t>((maxc + batch - 1) / batch);
}

std::pair<std::size_t, std::size_t> batch_range(const Model& m, const Persona& p, std::size_t k) {
  const std::size_t b = static_cast<std::size_t>(std::max(1, m.recipe().attributes.batch));
  const std::size_t first = std::min(p.attributes.size(), k * b);
  return {first, std::min(p.attributes.size(), first + b)};
}

std::string FillStep::name() const { return fmt::format("fill batch {}", k_ + 1); }

std::string FillStep::detail() const {
  const auto& as = m_.recipe().attributes;
  const int batch = std::max(1, as.batch), maxc = std::max(0, as.max_count);
  const int lo = static_cast<int>(k_) * batch + 1, hi = std::min(maxc, (static_cast<int>(k_) + 1) * batch);
  const std::string context = as.context_tokens > 0 ? fmt::format("profile up to {} tokens", as.context_tokens)
                                                    : std::string("the whole profile so far");
  return fmt::format("attributes {}..{} ({} slots, {})", lo, hi, hi - lo + 1, context);
}

Estimate FillStep::estimate() const {
  const auto& r = m_.recipe();
  const std::int64_t batch = std::max(1, r.attributes.batch), n = expected_count(r);
  const std::int64_t before = static_cast<std::int64_t>(k_) * batch;
  const std::int64_t slots = std::min(batch, n - before);
  if (slots <= 0) return {};  // only personas with more attributes than expected reach this batch
  std::int64_t context = profile_tokens(m_, r.story.size(), before);
  if (r.attributes.context_tokens > 0) context = std::min<std::int64_t>(context, r.attributes.context_tokens);
  return estimate_call(kFillTaskTokens, context, slots, 0);
}

std::optional<Ask> FillStep::run(Persona& p, Scratch&) const {
  const auto [first, last] = batch_range(m_, p, k_);
  if (first >= last) return std::nullopt;
  Ask a;
  a.kind = Ask::Kind::fill;
  a.step = index_;
  // Slots decided before the fill (panel attributes that do not apply to this persona) are not asked.
  for (std::size_t i = first; i < last; ++i)
    if (p.attributes[i].status == SlotStatus::pending) a.items.push_back(static_cast<std::uint32_t>(i));
  if (a.items.empty()) return std::nullopt;
  a.tag = "fill:" + std::to_string(first);
  return a;
}

std::string_view tone_of(const lang::StoryStep& step, const Persona& p) {
  if (step.tones.empty()) return {};
  if (step.tones.size() == 1) return step.tones.front();
  Rng rng = Rng::derive(p.run_seed, p.index, "tone:" + step.output);
  return step.tones[static_cast<std::size_t>(rng.below(step.tones.size()))];
}

bool negative_filler(std::string_view v) {
  const std::string low = text::lower(v.substr(0, 24));
  for (const char* w : {"no ", "none", "n/a", "not applicable", "nothing", "no.", "null", "does not ", "doesn't ",
                        "not currently ", "never had ", "no involvement"})
    if (low.rfind(w, 0) == 0) return true;
  return low == "no";
}

std::optional<Ask> FillStep::apply(Persona& p, Scratch&, const Ask& ask, Answer& a) const {
  if (a.fatal) return std::nullopt;
  if (!a.ok) {
    for (std::uint32_t i : ask.items) {
      Slot& sl = p.attributes[i];
      sl.source = Source::llm;
      sl.status = SlotStatus::failed;
      sl.value.clear();
      sl.option = -1;
      sl.reason = "llm: " + a.error;
    }
    return std::nullopt;
  }
  std::vector<std::uint32_t> missing;
  std::vector<std::uint32_t> contradicting;  // values a coherence rule forbids, asked again once
  std::string rule_feedback;
  // Every answer that arrives (a value or "does not apply") joins the profile later calls see.
  auto answered = [&](std::uint32_t pos) { p.answered.push_back(pos); };
  for (std::size_t j = 0; j < ask.items.size(); ++j) {
    Slot& sl = p.attributes[ask.items[j]];
    SlotAnswer* s = j < a.slots.size() ? &a.slots[j] : nullptr;
    if (s == nullptr || s->state == SlotAnswer::State::missing) {
      missing.push_back(ask.items[j]);
      continue;
    }
    const bool rule_reasked = sl.reason == kRuleReasked;  // this slot's value was refused once already
    sl.source = s->source;
    sl.option = s->option;
    sl.reason.clear();
    if (s->state == SlotAnswer::State::refused) {
      sl.status = SlotStatus::failed;
      sl.value.clear();
      sl.reason = std::move(s->value);
      continue;
    }
    const std::string_view v = text::trim(s->value);
    // Free text that says "nothing" is not a value: the attribute does not apply. Value options and
    // lexicon words ("no heirlooms", "none") are values of their own.
    if (s->state == SlotAnswer::State::null || v.empty() || (s->source == Source::llm && negative_filler(v))) {
      sl.status = SlotStatus::failed;
      sl.value.clear();
      sl.option = -1;
      sl.reason = "not_applicable";
      answered(ask.items[j]);
      continue;
    }
    const LeafInfo& L = m_.leaf(sl.leaf);
    // A value that is one of the leaf's options must be one the coherence rules allow this persona
    // (free text that matches no option cannot be checked here).
    std::optional<std::size_t> k;
    if (s->option >= 0 && static_cast<std::size_t>(s->option) < L.options.size())
      k = static_cast<std::size_t>(s->option);
    else if (s->source == Source::llm && !L.options.empty())
      k = m_.rules().option_of(L.vertex, v);
    if (k && !m_.rules().allowed(p.coherence, L.vertex, *k)) {
      sl.status = SlotStatus::failed;
      sl.value.clear();
      sl.option = -1;
      if (!rule_reasked && ask.attempt < kReasksMissing) {
        sl.reason = kRuleReasked;
        contradicting.push_back(ask.items[j]);
        rule_feedback += "\n- " + m_.rules().statement(L.vertex, *k);
      } else {
        sl.reason = "rejected: contradicts the persona's facts";
      }
      continue;
    }
    if (v.size() == s->value.size()) {
      sl.value.swap(s->value);
    } else {
      sl.value.assign(v);
    }
    if (sl.value.size() > 300) sl.value.resize(text::utf8_prefix(sl.value, 300).size());
    sl.status = SlotStatus::filled;
    answered(ask.items[j]);
  }
  p.answer_blocks.push_back(p.answered.size());
  // `contradicting` is empty from the last attempt on (see above).
  if (ask.attempt < kReasksMissing && (!missing.empty() || !contradicting.empty())) {
    Ask again = ask;
    again.items = std::move(missing);
    again.feedback = again.items.empty() ? std::string() : std::string("missing keys");
    if (a.truncated && !again.items.empty()) {
      again.room = ask.room * 2;  // the answer was cut at max_tokens: more room, and a shorter answer
      again.feedback += " (the previous answer was cut off at the length limit: keep each value short)";
    }
    if (!contradicting.empty()) {
      again.items.insert(again.items.end(), contradicting.begin(), contradicting.end());
      std::sort(again.items.begin(), again.items.end());
      again.feedback += std::string(again.feedback.empty() ? "" : ". ") +
                        "These values contradict the person's profile; give another value:" + rule_feedback;
    }
    ++again.attempt;
    return again;
  }
  for (std::uint32_t i : missing) {
    Slot& sl = p.attributes[i];
    sl.source = Source::llm;
    sl.status = SlotStatus::failed;
    sl.value.clear();
    sl.option = -1;
    sl.reason = a.truncated ? "truncated" : "llm: no value returned";
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Narrative

std::string NarrativeStep::detail() const {
  const auto& n = m_.recipe().narrative;
  return n.voice == "none" ? std::string("none") : fmt::format("{} {}..{} words", n.voice, n.min_words, n.max_words);
}

Estimate NarrativeStep::estimate() const {
  const auto& r = m_.recipe();
  if (r.narrative.voice == "none") return {};
  std::int64_t context = profile_tokens(m_, r.story.size(), expected_count(r));
  if (r.attributes.context_tokens > 0) context = std::min<std::int64_t>(context, r.attributes.context_tokens);
  const double words = (r.narrative.min_words + r.narrative.max_words) / 2.0;
  return estimate_call(40, context, 0, static_cast<std::int64_t>(std::ceil(words * 1.35)));
}

std::optional<Ask> NarrativeStep::run(Persona& p, Scratch&) const {
  p.narrative.clear();
  if (m_.recipe().narrative.voice == "none") return std::nullopt;
  Ask a;
  a.kind = Ask::Kind::narrative;
  a.step = index_;
  a.tag = "narrative";
  return a;
}

std::optional<Ask> NarrativeStep::apply(Persona& p, Scratch&, const Ask& ask, Answer& a) const {
  if (a.fatal) return std::nullopt;
  const auto& n = m_.recipe().narrative;
  if (!a.ok) {
    if (p.narrative.empty())
      p.problems.push_back("narrative: llm: " + a.error);
    else
      p.problems.push_back(
          fmt::format("narrative: {} words, outside {}..{}", text::word_count(p.narrative), n.min_words, n.max_words));
    return std::nullopt;
  }
  const std::string_view t = text::trim(a.text);
  const std::size_t words = text::word_count(t);
  const bool in_range = words >= static_cast<std::size_t>(std::max(0, n.min_words)) &&
                        words <= static_cast<std::size_t>(std::max(n.min_words, n.max_words));
  // A better answer replaces a kept one; a worse re-ask keeps the first.
  if (p.narrative.empty() || in_range) p.narrative.assign(t);
  if (in_range) return std::nullopt;
  if (ask.attempt < kReasksShape) {
    Ask again = ask;
    again.feedback = fmt::format("Your narrative had {} words; write {} to {} words.", words, n.min_words, n.max_words);
    ++again.attempt;
    return again;
  }
  p.problems.push_back(
      fmt::format("narrative: {} words, outside {}..{}", text::word_count(p.narrative), n.min_words, n.max_words));
  return std::nullopt;
}

}  // namespace persona::engine
