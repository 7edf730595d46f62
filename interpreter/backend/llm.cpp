// The LLM backend: prompt templates, provider resolution, requests for Asks and Answers from responses.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "backend/backend.hpp"
#include "base/files.hpp"
#include "base/rng.hpp"
#include "base/text.hpp"
#include "llm/structured.hpp"
#include "util/stdlib_path.hpp"

namespace persona::backend {

using engine::Answer;
using engine::Ask;
using engine::CoreValue;
using engine::Persona;
using engine::SlotAnswer;

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Profile text

namespace {

std::string value_text(const cond::Value& v) {
  if (const double* d = std::get_if<double>(&v)) return text::format_number(*d);
  return std::get<std::string>(v);
}

std::string core_text(const engine::CoreValue& cv) {
  switch (cv.kind) {
    case lang::StoryShape::Kind::text: return cv.text;
    case lang::StoryShape::Kind::list: return text::join(cv.items, "; ");
    case lang::StoryShape::Kind::object: {
      std::string out;
      for (const auto& f : cv.fields) {
        if (!out.empty()) out += "; ";
        out += f.name + "=";
        if (f.type == "number") out += value_text(f.number);
        else if (f.type == "list") out += text::join(f.items, ", ");
        else out += f.text;
      }
      return out;
    }
  }
  return cv.text;
}

std::int64_t tokens_of(std::size_t chars) { return static_cast<std::int64_t>((chars + 3) / 4); }

std::string_view first_segment(std::string_view path) { return path.substr(0, path.find('/')); }
std::string_view parent_of(std::string_view path) {
  const auto s = path.rfind('/');
  return s == std::string_view::npos ? std::string_view() : path.substr(0, s);
}

const std::string& path_of(const engine::Model& m, std::uint32_t leaf) {
  return m.taxonomy().node(m.leaf(leaf).vertex).path;
}

std::uint64_t call_seed(const engine::Persona& p, std::string_view step) {
  return Rng::derive(p.run_seed, p.index, std::string("llm:") + std::string(step))() & 0x7fffffffULL;
}

}  // namespace

std::string compact_path(std::string_view path) {
  const auto last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) return std::string(path);
  const auto prev = path.rfind('/', last - 1);
  return std::string(prev == std::string_view::npos ? path : path.substr(prev + 1));
}

std::string profile_text(const engine::Model& m, const engine::Persona& p, std::size_t first, std::size_t last,
                         std::int64_t budget_tokens) {
  const auto& r = m.recipe();
  std::string out;
  // Stable part: anchors, derived facts, the story (the same for every call of this persona).
  for (std::size_t i = 0; i < r.anchors.size() && i < p.anchors.size(); ++i) {
    if (!p.anchors[i]) continue;
    out += r.anchors[i].name + ": " + value_text(*p.anchors[i]) + "\n";
  }
  for (const auto& [k, v] : p.derived) {
    if (r.anchor(k) != nullptr) continue;
    out += k + ": " + v + "\n";
  }
  for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k) {
    if (!p.core[k].done) continue;
    out += r.story[k].output + ": " + core_text(p.core[k]) + "\n";
  }
  // The most relevant filled attributes within the budget.
  const std::int64_t left = budget_tokens - tokens_of(out.size());
  if (left <= 0 || p.attributes.empty()) return out;
  std::vector<std::string_view> parents, cats;
  for (std::size_t i = first; i < last && i < p.attributes.size(); ++i) {
    const auto& path = path_of(m, p.attributes[i].leaf);
    parents.push_back(parent_of(path));
    cats.push_back(first_segment(path));
  }
  struct Cand {
    double score;
    std::size_t i;
  };
  std::vector<Cand> cands;
  for (std::size_t i = 0; i < p.attributes.size(); ++i) {
    const auto& sl = p.attributes[i];
    if (sl.status != engine::SlotStatus::filled || (i >= first && i < last)) continue;
    const auto& path = path_of(m, sl.leaf);
    double score = sl.tier == engine::Tier::near ? 0.6 : sl.tier == engine::Tier::mid ? 0.3 : 0.0;
    const auto par = parent_of(path);
    const auto cat = first_segment(path);
    if (std::find(parents.begin(), parents.end(), par) != parents.end()) score += 2;
    else if (std::find(cats.begin(), cats.end(), cat) != cats.end()) score += 1;
    // Nearer in taxonomy order = more related.
    const double dist = i < first ? static_cast<double>(first - i) : static_cast<double>(i - last + 1);
    score += 0.5 / (1.0 + dist / 8.0);
    cands.push_back({score, i});
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
  std::int64_t used = 0;
  std::vector<std::size_t> chosen;
  for (const auto& c : cands) {
    const auto& sl = p.attributes[c.i];
    const std::int64_t t = tokens_of(compact_path(path_of(m, sl.leaf)).size() + sl.value.size() + 3);
    if (used + t > left) continue;
    used += t;
    chosen.push_back(c.i);
  }
  std::sort(chosen.begin(), chosen.end());  // taxonomy order: stable across batches
  for (std::size_t i : chosen)
    out += compact_path(path_of(m, p.attributes[i].leaf)) + ": " + p.attributes[i].value + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// Story

// ---------------------------------------------------------------------------------------------
// Requests

namespace {

json step_schema(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text: return {{"type", "string"}};
    case K::list:
      return {{"type", "array"},
              {"items", {{"type", "string"}}},
              {"minItems", std::max(0, st.shape.min_items)},
              {"maxItems", std::max(1, std::max(st.shape.min_items, st.shape.max_items))}};
    case K::object: {
      json props = json::object(), req = json::array();
      for (const auto& [name, type] : st.shape.fields) {
        props[name] = type == "number" ? json{{"type", "number"}}
                      : type == "list" ? json{{"type", "array"}, {"items", {{"type", "string"}}}}
                                       : json{{"type", "string"}};
        req.push_back(name);
      }
      return {{"type", "object"}, {"properties", props}, {"required", req}, {"additionalProperties", false}};
    }
  }
  return {{"type", "string"}};
}

std::string step_line(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  std::string line = st.output + ": " + st.instruction;
  if (st.shape.kind == K::list) {
    line += " (list of " + std::to_string(st.shape.min_items);
    if (st.shape.max_items != st.shape.min_items) line += "-" + std::to_string(st.shape.max_items);
    line += ")";
  } else if (st.shape.kind == K::object) {
    std::vector<std::string> f;
    for (const auto& [n, t] : st.shape.fields) f.push_back(n + ":" + t);
    line += " {" + text::join(f, ", ") + "}";
  } else {
    line += " (1-2 sentences, first person)";
  }
  if (!st.inputs.empty()) line += "; from " + text::join(st.inputs, ", ");
  return line;
}

// `{name}` in a recipe prompt: an anchor, a derived fact or an earlier step's value.
std::optional<std::string> lookup_value(const engine::Model& m, const Persona& p, std::string_view name) {
  const auto& r = m.recipe();
  for (std::size_t i = 0; i < r.anchors.size() && i < p.anchors.size(); ++i)
    if (r.anchors[i].name == name) return p.anchors[i] ? value_text(*p.anchors[i]) : std::string("unknown");
  for (const auto& [k, v] : p.derived)
    if (k == name) return v;
  for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k)
    if (r.story[k].output == name) return p.core[k].done ? core_text(p.core[k]) : std::string("unknown");
  return std::nullopt;
}

struct Prompt {
  std::string system, user;
  json schema;  // null: plain text
  std::string schema_name = "persona";
  int max_tokens = 0;
};

Prompt story_prompt(const engine::Model& m, const Persona& p, const Setup& s, const Ask& ask) {
  const auto& r = m.recipe();
  Prompt pr;
  json props = json::object(), req = json::array();
  std::string lines;
  for (std::uint32_t k : ask.items) {
    const auto& st = r.story[k];
    props[st.output] = step_schema(st);
    req.push_back(st.output);
    lines += step_line(st) + "\n";
  }
  if (!lines.empty()) lines.pop_back();
  pr.schema = {{"type", "object"}, {"properties", props}, {"required", req}, {"additionalProperties", false}};
  const std::string profile = profile_text(m, p, 0, 0, r.attributes.context_tokens);
  if (ask.items.size() == 1 && r.story[ask.items[0]].prompt) {
    pr.user = render(*r.story[ask.items[0]].prompt, [&](std::string_view n) -> std::optional<std::string> {
      if (n == "profile") return profile;
      return lookup_value(m, p, n);
    });
    if (!s.provider.json_schema) pr.user += "\nAnswer as JSON with the key \"" + r.story[ask.items[0]].output + "\".";
  } else {
    pr.user = render(s.templates.story.user, [&](std::string_view n) -> std::optional<std::string> {
      if (n == "profile") return profile;
      if (n == "steps") return lines;
      return lookup_value(m, p, n);
    });
  }
  pr.system = s.templates.story.system;
  std::int64_t completion = 0;
  for (std::uint32_t k : ask.items) {
    using K = lang::StoryShape::Kind;
    const auto& st = r.story[k];
    completion += st.shape.kind == K::list ? 8 + 40 * std::max(1, st.shape.max_items)
                  : st.shape.kind == K::object ? 8 + 30 * static_cast<int>(std::max<std::size_t>(1, st.shape.fields.size()))
                                               : 60;
  }
  pr.max_tokens = static_cast<int>(completion * 3);
  return pr;
}

Prompt fill_prompt(const engine::Model& m, const Persona& p, const Setup& s, const Ask& ask) {
  const auto& r = m.recipe();
  Prompt pr;
  // Slots are in taxonomy order: consecutive slots under the same parent share one line,
  // "Parent: a1 Leaf; a2 Leaf" (the compact path is parent + leaf).
  std::string lines;
  std::vector<std::string> keys;
  std::string last_parent;
  for (std::uint32_t i : ask.items) {
    const std::string key = "a" + std::to_string(keys.size() + 1);
    keys.push_back(key);
    const std::string cp = compact_path(path_of(m, p.attributes[i].leaf));
    const auto slash = cp.find('/');
    const std::string parent = slash == std::string::npos ? std::string() : cp.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? cp : cp.substr(slash + 1);
    if (keys.size() > 1 && parent == last_parent && !parent.empty()) {
      lines += "; " + key + " " + leaf;
    } else {
      if (keys.size() > 1) lines += "\n";
      lines += (parent.empty() ? std::string() : parent + ": ") + key + " " + leaf;
    }
    last_parent = parent;
  }
  pr.schema = llm::slots_schema(keys);
  pr.schema_name = "persona";
  const std::size_t first = ask.items.empty() ? 0 : ask.items.front();
  const std::size_t last = ask.items.empty() ? 0 : ask.items.back() + 1;
  const std::string profile = profile_text(m, p, first, last, r.attributes.context_tokens);
  pr.user = render(s.templates.batch.user, [&](std::string_view name) -> std::optional<std::string> {
    if (name == "profile") return profile;
    if (name == "slots") return lines;
    return std::nullopt;
  });
  if (ask.attempt > 0 && !s.provider.json_schema) {
    pr.user += "\n" + render(s.templates.repair.user, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "slots") return text::join(keys, ", ");
      return std::nullopt;
    });
  } else if (!s.provider.json_schema && !keys.empty()) {
    pr.user += "\nAnswer with one JSON object with the keys " + keys.front() + ".." + keys.back() + ".";
  }
  pr.system = s.templates.batch.system;
  pr.max_tokens = static_cast<int>(keys.size() * engine::kSlotCompletionTokens * 3 + 50);
  return pr;
}

Prompt narrative_prompt(const engine::Model& m, const Persona& p, const Setup& s) {
  const auto& r = m.recipe();
  Prompt pr;
  const std::string profile = profile_text(m, p, 0, 0, r.attributes.context_tokens);
  std::string name = "this person";
  if (auto v = lookup_value(m, p, "name")) name = *v;
  auto lookup = [&](std::string_view n) -> std::optional<std::string> {
    if (n == "profile") return profile;
    if (n == "voice") return r.narrative.voice;
    if (n == "min_words") return std::to_string(r.narrative.min_words);
    if (n == "max_words") return std::to_string(r.narrative.max_words);
    if (n == "name") return name;
    return lookup_value(m, p, n);
  };
  pr.user = render(r.narrative.prompt ? *r.narrative.prompt : s.templates.narrative.user, lookup);
  pr.system = s.templates.narrative.system;
  pr.max_tokens = static_cast<int>(std::ceil(r.narrative.max_words * 1.35 * 1.5));
  return pr;
}

}  // namespace

llm::Request Llm::request(const engine::Program& prog, const Persona& p, const Ask& ask, engine::CallLog* log) const {
  const engine::Model& m = prog.model();
  Prompt pr;
  switch (ask.kind) {
    case Ask::Kind::story: pr = story_prompt(m, p, s_, ask); break;
    case Ask::Kind::fill: pr = fill_prompt(m, p, s_, ask); break;
    case Ask::Kind::narrative: pr = narrative_prompt(m, p, s_); break;
  }
  if (!ask.feedback.empty()) pr.user += "\n" + ask.feedback;
  // A re-ask gets its own seed (and so its own cache entry): the same request would get the same answer.
  const std::string seed_step = ask.attempt == 0 ? ask.tag : ask.tag + ":again" + std::to_string(ask.attempt);
  llm::ChatOptions co;
  co.temperature = s_.temperature;
  co.max_tokens = s_.max_tokens > 0 ? s_.max_tokens : pr.max_tokens;
  co.seed = static_cast<std::int64_t>(call_seed(p, seed_step));
  co.schema = pr.schema.is_null() ? nullptr : &pr.schema;
  co.schema_name = pr.schema_name;
  std::vector<llm::Message> msgs;
  if (!pr.system.empty()) msgs.push_back({"system", pr.system});
  msgs.push_back({"user", pr.user});
  llm::Request req;
  req.body = llm::chat_body(s_.provider, msgs, co);
  req.tag = p.id + ":" + seed_step;
  req.expect_json = co.schema != nullptr;
  if (log != nullptr) {
    log->step = ask.tag;
    log->attempt = ask.attempt;
    log->system = pr.system;
    log->user = pr.user;
  }
  return req;
}

// ---------------------------------------------------------------------------------------------
// Answers

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ';' || ch == '\n' || ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  out.push_back(cur);
  std::vector<std::string> kept;
  for (auto& x : out) {
    const auto t = text::trim(x);
    if (!t.empty()) kept.emplace_back(t);
  }
  return kept;
}

std::string scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return {};
}

std::vector<std::string> items_of(const json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& x : v)
      if (auto s = scalar(x); !s.empty()) out.push_back(s);
  } else if (auto s = scalar(v); !s.empty()) {
    out = split_list(s);
  }
  return out;
}

std::optional<CoreValue> story_answer(const lang::StoryStep& st, const json& v) {
  using K = lang::StoryShape::Kind;
  if (v.is_null()) return std::nullopt;
  CoreValue cv;
  cv.kind = st.shape.kind;
  if (st.shape.kind == K::text) {
    cv.text = v.is_string() ? v.get<std::string>() : v.is_object() ? v.dump() : text::join(items_of(v), "; ");
  } else if (st.shape.kind == K::list) {
    cv.items = items_of(v);
  } else {
    for (const auto& [name, type] : st.shape.fields) {
      engine::CoreField f;
      f.name = name;
      f.type = type;
      const json* fv = v.is_object() && v.contains(name) ? &v[name] : nullptr;
      if (fv == nullptr) {
        if (type == "text" && v.is_string()) f.text = v.get<std::string>();
      } else if (type == "number") {
        f.number = fv->is_number() ? fv->get<double>() : std::strtod(scalar(*fv).c_str(), nullptr);
      } else if (type == "list") {
        f.items = items_of(*fv);
      } else {
        f.text = scalar(*fv);
      }
      cv.fields.push_back(std::move(f));
    }
  }
  return cv;
}

}  // namespace

Answer Llm::parse(const engine::Program& prog, const Persona& p, const Ask& ask, const llm::Response& r) const {
  (void)p;
  Answer a;
  a.usage.calls = 1;
  a.usage.prompt_tokens = static_cast<std::uint64_t>(std::max(0L, r.usage.prompt_tokens));
  a.usage.completion_tokens = static_cast<std::uint64_t>(std::max(0L, r.usage.completion_tokens));
  a.usage.cached_tokens = static_cast<std::uint64_t>(std::max(0L, r.usage.cached_tokens));
  if (r.status == llm::Response::Status::circuit_open || r.status == llm::Response::Status::cancelled) {
    a.ok = false;
    a.fatal = true;
    a.error = r.error;
    return a;
  }
  if (!r.ok()) {
    a.ok = false;
    a.error = r.error;
    return a;
  }
  a.truncated = r.finish_reason == "length";
  const auto& rec = prog.recipe();
  switch (ask.kind) {
    case Ask::Kind::narrative: a.text = r.content; break;
    case Ask::Kind::story: {
      const auto got = llm::extract_json(r.content);
      for (std::uint32_t k : ask.items) {
        const auto& st = rec.story[k];
        if (!got.value || !got.value->contains(st.output)) a.story.emplace_back(std::nullopt);
        else a.story.push_back(story_answer(st, (*got.value)[st.output]));
      }
      break;
    }
    case Ask::Kind::fill: {
      const auto got = llm::extract_json(r.content);
      a.slots.resize(ask.items.size());
      for (std::size_t j = 0; j < ask.items.size(); ++j) {
        const std::string key = "a" + std::to_string(j + 1);
        SlotAnswer& s = a.slots[j];
        s.source = engine::Source::llm;
        if (!got.value || !got.value->contains(key)) continue;  // missing
        const json& v = (*got.value)[key];
        if (v.is_null()) {
          s.state = SlotAnswer::State::null;
          continue;
        }
        if (v.is_array() || v.is_object()) continue;  // unusable: ask again
        s.state = SlotAnswer::State::value;
        s.value = scalar(v);
      }
      break;
    }
  }
  return a;
}

}  // namespace persona::backend
