// The program: compile a recipe into steps; begin a persona; turn it into a record; the estimate,
// the plan graph and its text and DOT renderings.
#include "engine/program.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/topological_sort.hpp>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/population.hpp"
#include "engine/steps.hpp"

namespace persona::engine {

std::int64_t estimate_tokens(std::string_view t) {
  const std::size_t words = text::word_count(t);
  if (words == 0) return t.empty() ? 0 : 1;
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(words) * 1.35));
}

Estimate estimate_call(std::int64_t instruction_tokens, std::int64_t context_tokens, std::int64_t slots,
                       std::int64_t extra_completion) {
  Estimate e;
  e.calls = 1;
  e.prompt_tokens = kSystemTokens + instruction_tokens + context_tokens + slots * kSlotPromptTokens;
  e.completion_tokens = slots * kSlotCompletionTokens + extra_completion;
  return e;
}

namespace {

bool output_on(const lang::Recipe& r, const char* key) {
  const auto it = r.output.find(key);
  if (it == r.output.end()) return true;
  const auto* s = std::get_if<std::string>(&it->second);
  return s == nullptr || (*s != "off" && *s != "false");
}

}  // namespace

Program::~Program() = default;

std::unique_ptr<Program> Program::compile(lang::Recipe recipe, std::shared_ptr<const tables::Library> tables,
                                          std::shared_ptr<const tax::Taxonomy> taxonomy, DiagnosticSink& sink,
                                          const ProgramOptions& opts) {
  auto model = Model::create(std::move(recipe), std::move(tables), std::move(taxonomy), sink);
  if (!model) return nullptr;
  std::unique_ptr<Program> prog(new Program());
  prog->opts_ = opts;
  prog->model_ = std::move(model);
  const Model& m = *prog->model_;
  const lang::Recipe& r = m.recipe();
  auto& steps = prog->steps_;
  auto add = [&](std::unique_ptr<Step> s) {
    steps.push_back(std::move(s));
    return steps.size() - 1;
  };
  // Anchors: one step each, after the anchors whose values or derived facts their `by` reads.
  std::map<std::string, std::size_t> by_name;
  std::vector<std::size_t> anchor_steps;
  for (std::size_t i = 0; i < r.anchors.size(); ++i) {
    const std::size_t s = add(std::make_unique<AnchorStep>(m, i));
    anchor_steps.push_back(s);
    by_name[r.anchors[i].name] = s;
    for (const auto& d : m.anchors()[i].derived) by_name.emplace(d, s);
  }
  for (std::size_t i = 0; i < r.anchors.size(); ++i) {
    auto& after = steps[anchor_steps[i]]->after;
    auto need = [&](const std::string& n) {
      auto it = by_name.find(n);
      if (it != by_name.end() && it->second != anchor_steps[i] &&
          std::find(after.begin(), after.end(), it->second) == after.end())
        after.push_back(it->second);
    };
    for (const auto& d : r.anchors[i].depends_on) need(d);
    for (const auto& b : r.anchors[i].source.by) need(b);
  }
  // Story calls, after the anchors and earlier steps they read.
  std::vector<std::size_t> story_steps;
  for (const auto& g : story_call_groups(r)) {
    const std::size_t s = add(std::make_unique<StoryStep>(m, g, static_cast<std::uint32_t>(steps.size())));
    story_steps.push_back(s);
    auto& after = steps[s]->after;
    for (std::size_t k : g)
      for (const auto& in : r.story[k].inputs) {
        auto it = by_name.find(in);
        if (it != by_name.end() && it->second != s && std::find(after.begin(), after.end(), it->second) == after.end())
          after.push_back(it->second);
      }
    for (std::size_t k : g) by_name[r.story[k].output] = s;
  }
  // Selection after every anchor and story call; K fill batches; the narrative.
  const std::size_t sel = add(std::make_unique<SelectStep>(m, static_cast<std::uint32_t>(steps.size())));
  for (std::size_t s : anchor_steps) steps[sel]->after.push_back(s);
  for (std::size_t s : story_steps) steps[sel]->after.push_back(s);
  std::vector<std::size_t> fills;
  for (std::size_t k = 0; k < fill_steps(r); ++k) {
    const std::size_t s = add(std::make_unique<FillStep>(m, k, static_cast<std::uint32_t>(steps.size())));
    steps[s]->after.push_back(sel);
    fills.push_back(s);
  }
  if (output_on(r, "narrative") && r.narrative.voice != "none") {
    const std::size_t s = add(std::make_unique<NarrativeStep>(m, static_cast<std::uint32_t>(steps.size())));
    if (fills.empty()) steps[s]->after.push_back(sel);
    for (std::size_t f : fills) steps[s]->after.push_back(f);
  }
  for (auto& s : steps) std::sort(s->after.begin(), s->after.end());
  return prog;
}

void Program::begin(std::uint64_t seed, std::uint64_t index, Persona& p, const Population* population) const {
  const Model& m = *model_;
  p.index = index;
  p.run_seed = seed;
  p.population = population;
  p.seed = Rng::derive(seed, index, "persona")();
  p.id = m.recipe().name;
  p.id += '-';
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, index);
  const auto digits = static_cast<std::size_t>(r.ptr - buf);
  if (digits < 6) p.id.append(6 - digits, '0');
  p.id.append(buf, r.ptr);
  p.anchors.assign(m.recipe().anchors.size(), std::nullopt);
  p.derived.clear();
  p.facts.clear();
  p.core.resize(m.recipe().story.size());
  for (std::size_t k = 0; k < p.core.size(); ++k) {
    p.core[k].clear();
    p.core[k].kind = m.recipe().story[k].shape.kind;
  }
  p.target_count = 0;
  // p.attributes keeps its slots (and their strings' capacity): the select step resizes it.
  p.answered.clear();
  p.answer_blocks.clear();
  p.context_dropped = 0;
  p.narrative.clear();
  p.usage = {};
  p.problems.clear();
  p.calls.clear();
  p.coherence.unbind();  // latent facts are drawn once the anchors are complete (bind_facts)
}

namespace {

record::Value core_value(const CoreValue& cv) {
  record::Value v;
  if (!cv.done) return v;
  using K = lang::StoryShape::Kind;
  switch (cv.kind) {
    case K::text:
      v = record::Value::of(cv.text);
      break;
    case K::list:
      v.kind = record::Value::Kind::list;
      v.items = cv.items;
      break;
    case K::object:
      v.kind = record::Value::Kind::object;
      for (const auto& f : cv.fields) {
        record::Value fv;
        if (f.type == "number") {
          fv = record::Value::of(f.number);
        } else if (f.type == "list") {
          fv.kind = record::Value::Kind::list;
          fv.items = f.items;
        } else {
          fv = record::Value::of(f.text);
        }
        v.fields.emplace_back(f.name, std::move(fv));
      }
      break;
  }
  return v;
}

}  // namespace

void Program::to_record(const Persona& p, record::PersonaRecord& rec) const {
  const Model& m = *model_;
  const lang::Recipe& r = m.recipe();
  rec.id = p.id;
  rec.seed = p.seed;
  rec.weight.reset();
  if (p.population != nullptr) rec.weight = p.population->weight(p.index);
  rec.anchors.resize(r.anchors.size());
  for (std::size_t i = 0; i < r.anchors.size(); ++i) {
    rec.anchors[i].first = r.anchors[i].name;
    record::Value& v = rec.anchors[i].second;
    v.items.clear();
    v.fields.clear();
    if (!p.anchors[i]) {
      v.kind = record::Value::Kind::null;
    } else if (const double* d = std::get_if<double>(&*p.anchors[i])) {
      v.kind = record::Value::Kind::number;
      v.number = *d;
    } else {
      v.kind = record::Value::Kind::string;
      v.text = std::get<std::string>(*p.anchors[i]);
    }
  }
  for (const auto& [k, val] : p.derived) {
    if (r.anchor(k) != nullptr) continue;
    rec.anchors.emplace_back(k, record::Value::of(val));
  }
  rec.has_core = output_on(r, "core");
  rec.core.clear();
  if (rec.has_core)
    for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k)
      rec.core.emplace_back(r.story[k].output, core_value(p.core[k]));
  rec.attributes.resize(p.attributes.size());
  const tax::Taxonomy& t = m.taxonomy();
  for (std::size_t i = 0; i < p.attributes.size(); ++i) {
    const Slot& s = p.attributes[i];
    const LeafInfo& L = m.leaf(s.leaf);
    record::Attribute& a = rec.attributes[i];
    a.path = t[L.vertex].path;
    if (s.status == SlotStatus::filled)
      a.value = s.value;
    else
      a.value.reset();
    a.tier = to_string(s.tier);
    a.source = to_string(s.source);
    if (s.status == SlotStatus::filled)
      a.status = "filled";
    else if (s.status == SlotStatus::pending)
      a.status = "pending";
    else
      a.status = s.reason.empty() ? std::string("failed") : s.reason;
  }
  rec.has_narrative = output_on(r, "narrative");
  rec.narrative = rec.has_narrative ? p.narrative : std::string();
  rec.has_usage = output_on(r, "usage");
  rec.usage = {p.usage.calls, p.usage.prompt_tokens, p.usage.completion_tokens, p.usage.cached_tokens};
  rec.problems = p.problems;
  rec.extra.clear();
  if (!output_on(r, "prompts") || r.output.find("prompts") == r.output.end()) return;
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const auto& c : p.calls)
    calls.push_back({{"step", c.step},
                     {"attempt", c.attempt},
                     {"answers_before", c.answers_before},
                     {"answers_shown", c.answers_shown},
                     {"system", c.system},
                     {"user", c.user}});
  rec.extra.emplace_back("prompts", calls.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

record::CsvColumns Program::csv_columns() const {
  const Model& m = *model_;
  const lang::Recipe& r = m.recipe();
  record::CsvColumns c;
  for (const auto& a : r.anchors) c.anchors.push_back(a.name);
  for (const auto& ai : m.anchors())
    for (const auto& d : ai.derived)
      if (r.anchor(d) == nullptr && std::find(c.anchors.begin(), c.anchors.end(), d) == c.anchors.end())
        c.anchors.push_back(d);
  if (output_on(r, "core"))
    for (const auto& st : r.story) c.core.emplace_back(st.output, st.shape.kind != lang::StoryShape::Kind::text);
  c.narrative = output_on(r, "narrative");
  c.usage = output_on(r, "usage");
  for (std::uint32_t li : m.panel()) c.panel.push_back(m.taxonomy()[m.leaf(li).vertex].path);
  return c;
}

Estimate Program::estimate() const {
  Estimate e;
  for (const auto& s : steps_) e += s->estimate();
  return e;
}

PlanGraph Program::graph() const {
  PlanGraph g;
  for (const auto& s : steps_) boost::add_vertex(PlanStep{s->name(), s->detail(), s->estimate()}, g);
  for (std::size_t i = 0; i < steps_.size(); ++i)
    for (std::size_t a : steps_[i]->after) boost::add_edge(a, i, g);
  return g;
}

std::string Program::to_text(std::string_view backend) const {
  const Model& m = *model_;
  const lang::Recipe& r = m.recipe();
  std::string out = fmt::format("program for recipe \"{}\" ({} steps, run in this order)\n", r.name, steps_.size());
  if (r.population.present()) {
    std::vector<std::string> parts;
    for (const auto& t : r.population.targets)
      parts.push_back("calibrate " + text::join(t.anchors, ", ") + (t.table.empty() ? "" : " to table " + t.table));
    for (const auto& o : r.population.oversample)
      parts.push_back("oversample " + cond::to_string(o.when) + " x " + text::format_number(o.factor));
    out += "population: " + text::join(parts, "; ") + " (exact counts for the run's N, decided before persona 1)\n";
  }
  int calls[3] = {0, 0, 0};
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    const Step& s = *steps_[i];
    const Estimate e = s.estimate();
    out += fmt::format("{:3}. {:<22} {}", i + 1, s.name(), s.detail());
    if (e.calls > 0)
      out +=
          fmt::format("  [{} call, ~{} prompt + ~{} completion tokens]", e.calls, e.prompt_tokens, e.completion_tokens);
    if (!s.after.empty()) {
      std::vector<std::string> deps;
      for (std::size_t a : s.after) deps.push_back(steps_[a]->name());
      // The selection reads every anchor and story step: say so instead of listing them all.
      if (s.kind() == Step::Kind::select)
        out += "\n       after: every anchor and story step";
      else if (s.kind() == Step::Kind::fill)
        out += "\n       after: " + steps_[s.after.front()]->name();
      else
        out += "\n       after: " + text::join(deps, ", ");
    }
    out += '\n';
    if (s.kind() == Step::Kind::story) calls[0] += e.calls;
    if (s.kind() == Step::Kind::fill) calls[1] += e.calls;
    if (s.kind() == Step::Kind::narrative) calls[2] += e.calls;
  }
  const Estimate e = estimate();
  out += fmt::format(
      "per persona (up to {} attributes, batch {}): {} LLM calls ({} story + {} fill + {} narrative), "
      "~{} prompt tokens, ~{} completion tokens\n",
      r.attributes.max_count, std::max(1, r.attributes.batch), e.calls, calls[0], calls[1], calls[2], e.prompt_tokens,
      e.completion_tokens);
  if (backend == "offline")
    out += "backend offline: 0 calls (values from the taxonomy's options, lexicons and templates)\n";
  else
    out += fmt::format("backend {}: the estimate above applies\n", backend);
  return out;
}

namespace {

struct StepWriter {
  const PlanGraph* g;
  const std::vector<std::unique_ptr<Step>>* steps;
  void operator()(std::ostream& os, PlanGraph::vertex_descriptor v) const {
    const PlanStep& s = (*g)[v];
    auto esc = [](const std::string& t) {
      std::string r;
      for (char c : t) {
        if (c == '"' || c == '\\') r += '\\';
        r += c;
      }
      return r;
    };
    const char* shape = "box";
    const char* color = "black";
    switch ((*steps)[v]->kind()) {
      case Step::Kind::anchor:
        shape = "ellipse";
        color = "darkgreen";
        break;
      case Step::Kind::select:
        shape = "diamond";
        break;
      case Step::Kind::story:
      case Step::Kind::fill:
      case Step::Kind::narrative:
        color = "blue";
        break;
    }
    os << "[label=\"" << esc(s.name) << "\\n" << esc(s.detail) << "\", shape=" << shape << ", color=" << color << "]";
  }
};

}  // namespace

std::string Program::to_dot() const {
  const PlanGraph g = graph();
  std::ostringstream os;
  boost::write_graphviz(os, g, StepWriter{&g, &steps_});
  return os.str();
}

}  // namespace persona::engine
