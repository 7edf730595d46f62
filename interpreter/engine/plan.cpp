// The plan compiler: recipe -> DAG of steps, text and Graphviz renderings, cost estimates.
#include "engine/plan.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>
#include <sstream>

#include <boost/graph/graphviz.hpp>
#include <boost/graph/topological_sort.hpp>
#include <fmt/format.h>

namespace persona::engine {

std::int64_t estimate_tokens(std::string_view text) {
  std::int64_t words = 0;
  bool in = false;
  for (char c : text) {
    const bool sp = c == ' ' || c == '\n' || c == '\t';
    if (!sp && !in) ++words;
    in = !sp;
  }
  if (words == 0) return text.empty() ? 0 : 1;
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(words) * 1.35));
}

CallTokens estimate_call(std::int64_t instruction_tokens, std::int64_t context_tokens, std::int64_t slots,
                         std::int64_t extra_completion) {
  CallTokens t;
  t.prompt = kSystemTokens + instruction_tokens + context_tokens + slots * kSlotPromptTokens;
  t.completion = slots * kSlotCompletionTokens + extra_completion;
  return t;
}

namespace {

std::string fmt_num(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return fmt::format("{}", d);
}

std::string anchor_detail(const lang::Anchor& a) {
  const auto& s = a.source;
  using K = lang::AnchorSource::Kind;
  std::string d;
  switch (s.kind) {
    case K::fixed:
      d = "fixed ";
      if (const auto* str = std::get_if<std::string>(&s.fixed)) d += "\"" + *str + "\"";
      else d += fmt_num(std::get<double>(s.fixed));
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
      if (!s.by.empty()) {
        d += " by ";
        for (std::size_t i = 0; i < s.by.size(); ++i) d += (i > 0 ? ", " : "") + s.by[i];
      }
      break;
  }
  if (s.bound.kind != lang::Bound::Kind::none) {
    d += s.bound.kind == lang::Bound::Kind::clamp ? ", clamp " : ", truncate ";
    d += (s.bound.lo ? fmt_num(*s.bound.lo) : std::string()) + ".." + (s.bound.hi ? fmt_num(*s.bound.hi) : std::string());
  }
  if (s.round) d += ", round";
  return d;
}

std::int64_t story_completion(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text: return 60;
    case K::list: return 8 + 40 * std::max(1, st.shape.max_items);
    case K::object: return 8 + 30 * static_cast<std::int64_t>(std::max<std::size_t>(1, st.shape.fields.size()));
  }
  return 60;
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

CallTokens story_call_tokens(const lang::Recipe& r, const std::vector<std::size_t>& group) {
  // Instruction: one line per step (its words, shape and inputs, ~12 tokens) plus the template
  // (~20); context: the anchors (about 8 tokens each), and for a step with its own prompt its
  // inputs (40 each); completion: every step's answer.
  std::int64_t instruction = 20, context = 8 * static_cast<std::int64_t>(r.anchors.size()), completion = 0;
  for (std::size_t k : group) {
    const auto& st = r.story[k];
    instruction += estimate_tokens(st.prompt ? *st.prompt : st.instruction) + 12;
    if (st.prompt) context += 40 * static_cast<std::int64_t>(st.inputs.size());
    completion += story_completion(st);
  }
  return estimate_call(instruction, context, 0, completion);
}

Estimate estimate(const lang::Recipe& r) {
  Estimate e;
  const auto& as = r.attributes;
  const std::int64_t ctx = as.context_tokens;
  // Story: consecutive steps without their own prompt share one structured call (the schema lists
  // them in dependency order); a step with a `prompt` is a call of its own.
  for (const auto& g : story_call_groups(r)) {
    const CallTokens t = story_call_tokens(r, g);
    e.prompt_tokens += t.prompt;
    e.completion_tokens += t.completion;
    ++e.story_calls;
  }
  // Fill: K batches of `batch` slots, each with the context budget.
  const int batch = std::max(1, as.batch);
  const int maxc = std::max(0, as.max_count);
  e.fill_calls = (maxc + batch - 1) / batch;
  for (int k = 0; k < e.fill_calls; ++k) {
    const int slots = std::min(batch, maxc - k * batch);
    const CallTokens t = estimate_call(40, ctx, slots, 0);
    e.prompt_tokens += t.prompt;
    e.completion_tokens += t.completion;
  }
  // Narrative: the context budget plus the story; the text itself as completion.
  if (r.narrative.voice != "none") {
    e.narrative_calls = 1;
    const CallTokens t = estimate_call(40, ctx + 60 * static_cast<std::int64_t>(r.story.size()), 0,
                                       static_cast<std::int64_t>(std::ceil(r.narrative.max_words * 1.35)));
    e.prompt_tokens += t.prompt;
    e.completion_tokens += t.completion;
  }
  e.calls = e.story_calls + e.fill_calls + e.narrative_calls;
  return e;
}

Plan compile(const lang::Recipe& r, const PlanOptions& opts) {
  Plan p;
  p.recipe_name = r.name;
  p.backend = opts.backend;
  p.min_count = r.attributes.min_count;
  p.max_count = r.attributes.max_count;
  p.batch = std::max(1, r.attributes.batch);
  p.estimate = estimate(r);
  auto& g = p.graph;
  std::map<std::string, PlanGraph::vertex_descriptor> by_name;
  auto add = [&](PlanStep s) { return boost::add_vertex(std::move(s), g); };

  std::vector<PlanGraph::vertex_descriptor> anchors, story;
  for (const auto& a : r.anchors) {
    PlanStep s;
    s.kind = PlanStep::Kind::anchor;
    s.name = "anchor " + a.name;
    s.detail = anchor_detail(a);
    const auto v = add(std::move(s));
    anchors.push_back(v);
    // Later anchors' `by` may name this anchor or a fact its table derives; both point here.
    by_name[a.name] = v;
  }
  // Derived facts: the anchor whose table derives them (the checker keeps their names in depends_on).
  for (std::size_t i = 0; i < r.anchors.size(); ++i) {
    for (const auto& dep : r.anchors[i].depends_on) {
      auto it = by_name.find(dep);
      if (it != by_name.end() && it->second != anchors[i]) boost::add_edge(it->second, anchors[i], g);
    }
    for (const auto& b : r.anchors[i].source.by) {
      auto it = by_name.find(b);
      if (it != by_name.end() && it->second != anchors[i] && !boost::edge(it->second, anchors[i], g).second)
        boost::add_edge(it->second, anchors[i], g);
    }
  }
  const auto est = p.estimate;
  for (const auto& st : r.story) {
    PlanStep s;
    s.kind = PlanStep::Kind::story;
    s.name = "story " + st.output;
    s.detail = "llm \"" + st.instruction + "\"";
    using K = lang::StoryShape::Kind;
    if (st.shape.kind == K::list)
      s.detail += st.shape.min_items == st.shape.max_items ? fmt::format(" x {}", st.shape.min_items)
                                                           : fmt::format(" x {}..{}", st.shape.min_items, st.shape.max_items);
    if (st.shape.kind == K::object) {
      s.detail += " {";
      for (std::size_t i = 0; i < st.shape.fields.size(); ++i)
        s.detail += (i > 0 ? ", " : "") + st.shape.fields[i].first + ": " + st.shape.fields[i].second;
      s.detail += "}";
    }
    if (!st.inputs.empty()) {
      s.detail += " from ";
      for (std::size_t i = 0; i < st.inputs.size(); ++i) s.detail += (i > 0 ? ", " : "") + st.inputs[i];
    }
    s.llm_calls = 0;
    for (const auto& grp : story_call_groups(r)) {
      if (grp.front() == static_cast<std::size_t>(&st - r.story.data())) {
        s.llm_calls = 1;
        const CallTokens t = story_call_tokens(r, grp);
        s.prompt_tokens = t.prompt;
        s.completion_tokens = t.completion;
        if (grp.size() > 1)
          s.detail += " (one structured call with the next " + std::to_string(grp.size() - 1) + " step" +
                      (grp.size() > 2 ? "s" : "") + ")";
      }
    }
    if (s.llm_calls == 0) s.detail += " (in the story call above)";
    const auto v = add(std::move(s));
    story.push_back(v);
    for (const auto& in : st.inputs) {
      auto it = by_name.find(in);
      if (it != by_name.end()) boost::add_edge(it->second, v, g);
    }
    by_name[st.output] = v;
  }
  // Selection after every anchor and story step.
  PlanStep sel;
  sel.kind = PlanStep::Kind::select;
  sel.name = "select attributes";
  {
    const auto& as = r.attributes;
    sel.detail = fmt::format("taxonomy {}, count {}..{}, tiers near {} mid {} far {}, walk {} prefer {}", r.taxonomy,
                             as.min_count, as.max_count, fmt_num(as.near), fmt_num(as.mid), fmt_num(as.far), as.walk,
                             as.prefer);
    if (as.filters.empty()) sel.detail += ", include *";
    for (const auto& f : as.filters) {
      sel.detail += std::string(", ") + (f.include ? "include " : "exclude ") + "\"" + f.glob + "\"";
      if (f.when) sel.detail += " when " + cond::to_string(*f.when);
    }
  }
  const auto vsel = add(std::move(sel));
  for (auto v : anchors) boost::add_edge(v, vsel, g);
  for (auto v : story) boost::add_edge(v, vsel, g);
  // K fill batches.
  std::vector<PlanGraph::vertex_descriptor> fills;
  const int maxc = std::max(0, r.attributes.max_count);
  for (int k = 0; k < est.fill_calls; ++k) {
    PlanStep s;
    s.kind = PlanStep::Kind::fill;
    s.name = fmt::format("fill batch {}", k + 1);
    const int lo = k * p.batch + 1, hi = std::min(maxc, (k + 1) * p.batch);
    s.detail = fmt::format("attributes {}..{} ({} slots, context {} tokens)", lo, hi, hi - lo + 1,
                           r.attributes.context_tokens);
    s.llm_calls = 1;
    const CallTokens t = estimate_call(40, r.attributes.context_tokens, hi - lo + 1, 0);
    s.prompt_tokens = t.prompt;
    s.completion_tokens = t.completion;
    const auto v = add(std::move(s));
    boost::add_edge(vsel, v, g);
    fills.push_back(v);
  }
  PlanStep nar;
  nar.kind = PlanStep::Kind::narrative;
  nar.name = "narrative";
  nar.detail = r.narrative.voice == "none"
                   ? std::string("none")
                   : fmt::format("{} {}..{} words", r.narrative.voice, r.narrative.min_words, r.narrative.max_words);
  if (r.narrative.voice != "none") {
    nar.llm_calls = 1;
    const CallTokens t = estimate_call(40, r.attributes.context_tokens + 60 * static_cast<std::int64_t>(r.story.size()),
                                       0, static_cast<std::int64_t>(std::ceil(r.narrative.max_words * 1.35)));
    nar.prompt_tokens = t.prompt;
    nar.completion_tokens = t.completion;
  }
  const auto vnar = add(std::move(nar));
  if (fills.empty()) boost::add_edge(vsel, vnar, g);
  for (auto v : fills) boost::add_edge(v, vnar, g);
  PlanStep wr;
  wr.kind = PlanStep::Kind::write;
  wr.name = "write";
  wr.detail = "one JSONL line per persona + manifest";
  if (auto it = r.output.find("path"); it != r.output.end())
    if (const auto* s = std::get_if<std::string>(&it->second)) wr.detail += " (" + *s + ")";
  const auto vwr = add(std::move(wr));
  boost::add_edge(vnar, vwr, g);

  // Topological order (Kahn), smallest vertex first among the ready ones: declaration order where
  // the dependencies leave a choice. boost::topological_sort checks the graph is a DAG.
  {
    std::vector<PlanGraph::vertex_descriptor> rev;
    boost::topological_sort(g, std::back_inserter(rev));
  }
  std::vector<std::size_t> indeg(boost::num_vertices(g), 0);
  for (auto [e, end] = boost::edges(g); e != end; ++e) ++indeg[boost::target(*e, g)];
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t v = 0; v < indeg.size(); ++v)
    if (indeg[v] == 0) ready.push(v);
  while (!ready.empty()) {
    const std::size_t v = ready.top();
    ready.pop();
    p.order.push_back(v);
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e)
      if (--indeg[boost::target(*e, g)] == 0) ready.push(boost::target(*e, g));
  }
  return p;
}

std::string to_text(const Plan& p) {
  std::string out = fmt::format("plan for recipe \"{}\" ({} steps)\n", p.recipe_name, boost::num_vertices(p.graph));
  int i = 0;
  for (auto v : p.order) {
    const PlanStep& s = p.graph[v];
    std::string deps;
    for (auto [e, end] = boost::in_edges(v, p.graph); e != end; ++e) {
      if (!deps.empty()) deps += ", ";
      deps += p.graph[boost::source(*e, p.graph)].name;
    }
    out += fmt::format("{:3}. {:<22} {}", ++i, s.name, s.detail);
    if (s.llm_calls > 0)
      out += fmt::format("  [{} call, ~{} prompt + ~{} completion tokens]", s.llm_calls, s.prompt_tokens,
                         s.completion_tokens);
    if (!deps.empty()) out += "\n       after: " + deps;
    out += '\n';
  }
  const Estimate& e = p.estimate;
  out += fmt::format(
      "per persona (up to {} attributes, batch {}): {} LLM calls ({} story + {} fill + {} narrative), "
      "~{} prompt tokens, ~{} completion tokens\n",
      p.max_count, p.batch, e.calls, e.story_calls, e.fill_calls, e.narrative_calls, e.prompt_tokens,
      e.completion_tokens);
  if (p.backend == "offline")
    out += "backend offline: 0 calls offline (values from the taxonomy's options, lexicons and templates)\n";
  else
    out += fmt::format("backend {}: the estimate above applies\n", p.backend);
  return out;
}

namespace {

struct StepWriter {
  const PlanGraph* g;
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
    switch (s.kind) {
      case PlanStep::Kind::anchor: shape = "ellipse"; color = "darkgreen"; break;
      case PlanStep::Kind::story: shape = "box"; color = "blue"; break;
      case PlanStep::Kind::select: shape = "diamond"; break;
      case PlanStep::Kind::fill: shape = "box"; color = "blue"; break;
      case PlanStep::Kind::narrative: shape = "box"; color = "blue"; break;
      case PlanStep::Kind::write: shape = "folder"; break;
    }
    os << "[label=\"" << esc(s.name) << "\\n" << esc(s.detail) << "\", shape=" << shape << ", color=" << color << "]";
  }
};

}  // namespace

std::string to_dot(const Plan& p) {
  std::ostringstream os;
  boost::write_graphviz(os, p.graph, StepWriter{&p.graph});
  return os.str();
}

}  // namespace persona::engine
