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
#include "engine/steps.hpp"
#include "llm/models.hpp"
#include "llm/structured.hpp"
#include "similarity/embedding_scorer.hpp"
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
    case lang::StoryShape::Kind::text:
      return cv.text;
    case lang::StoryShape::Kind::list:
      return text::join(cv.items, "; ");
    case lang::StoryShape::Kind::object: {
      std::string out;
      for (const auto& f : cv.fields) {
        if (!out.empty()) out += "; ";
        out += f.name + "=";
        if (f.type == "number")
          out += value_text(f.number);
        else if (f.type == "list")
          out += text::join(f.items, ", ");
        else
          out += f.text;
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

std::string short_description(std::string_view description) {
  // "How much pride the person takes in their cultural heritage" -> "pride taken in cultural heritage"
  // would need a writer; this keeps the first clause without its question scaffolding and without
  // "the person", at most kWords words: "pride takes in their cultural or ethnic".
  constexpr std::size_t kWords = 4;
  std::string d(text::trim(description));
  for (const char* cut : {", ", "; ", " (", ": ", " - "})
    if (const auto at = d.find(cut); at != std::string::npos) d.resize(at);
  std::vector<std::string> w = text::split(d, ' ');
  std::erase_if(w, [](const std::string& x) { return x.empty(); });
  static const std::vector<std::string> lead = {"how", "whether", "what", "which", "when",  "where", "who",  "the",
                                                "a",   "an",      "much", "many",  "often", "well",  "kind", "of"};
  std::size_t i = 0;
  while (i < w.size() && std::find(lead.begin(), lead.end(), text::lower(w[i])) != lead.end()) ++i;
  std::vector<std::string> kept;
  for (; i < w.size() && kept.size() < kWords; ++i) {
    // "the person" / "this person" / "their" say nothing in a prompt about one person.
    const std::string l = text::lower(w[i]);
    if ((l == "the" || l == "this") && i + 1 < w.size() && text::lower(w[i + 1]).rfind("person", 0) == 0) {
      ++i;
      continue;
    }
    if (l == "person" || l == "person's") continue;
    kept.push_back(w[i]);
  }
  std::string out = text::join(kept, " ");
  while (!out.empty() && (out.back() == '.' || out.back() == ',')) out.pop_back();
  return out;
}

namespace {

// One earlier answer as the profile shows it; consecutive answers under one parent share a line:
// "Food Preference: Diet Type = vegetarian; Spice Tolerance = high".
void append_answers(const engine::Model& m, const Persona& p, std::span<const std::uint32_t> order,
                    const std::vector<char>* keep, std::string& out) {
  // One line per answer, "Leaf = value" ("n/a" when the attribute does not apply): leaf names stand on
  // their own, and the parent would cost as much again.
  for (std::uint32_t pos : order) {
    if (keep != nullptr && (*keep)[pos] == 0) continue;
    const engine::Slot& sl = p.attributes[pos];
    out += m.leaf(sl.leaf).name;
    out += " = ";
    out += sl.status == engine::SlotStatus::filled ? std::string_view(sl.value) : std::string_view("n/a");
    out += '\n';
  }
}

}  // namespace

std::string profile_text(const engine::Model& m, const engine::Persona& p, const ProfileOptions& o,
                         ProfileStats* stats) {
  const auto& r = m.recipe();
  std::string out = "About the person\n";
  // The stable part first: anchors, derived facts, the story; then every answer, in the order the
  // answers came, one block per call, so the profile of call k+1 starts with call k's profile.
  for (std::size_t i = 0; i < r.anchors.size() && i < p.anchors.size(); ++i) {
    if (!p.anchors[i]) continue;
    out += r.anchors[i].name + ": " + value_text(*p.anchors[i]) + "\n";
  }
  for (const auto& [k, v] : p.derived) {
    if (r.anchor(k) != nullptr) continue;
    out += k + ": " + v + "\n";
  }
  // The latent facts the coherence rules drew (partner, children, religion, ...): every answer must
  // agree with them, so the model is told them, as plain words.
  for (const auto& [k, v] : p.facts) {
    if (r.anchor(k) != nullptr) continue;
    if (std::any_of(p.derived.begin(), p.derived.end(), [&](const auto& d) { return d.first == k; })) continue;
    std::string shown = value_text(v);
    std::replace(shown.begin(), shown.end(), '_', ' ');
    out += k + ": " + shown + "\n";
  }
  for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k) {
    if (!p.core[k].done) continue;
    out += r.story[k].output + ": " + core_text(p.core[k]) + "\n";
  }
  if (stats != nullptr) {
    stats->answers = p.answered.size();
    stats->shown = p.answered.size();
  }
  if (p.answered.empty()) return out;
  // Within the budget (the recipe's `context N tokens`, else the provider's context window), the
  // least related earlier answers are left out first.
  std::string answers;
  std::size_t begin = 0;
  for (std::size_t b = 0; b <= p.answer_blocks.size(); ++b) {
    const std::size_t end = b < p.answer_blocks.size() ? p.answer_blocks[b] : p.answered.size();
    append_answers(m, p, std::span<const std::uint32_t>(p.answered).subspan(begin, end - begin), nullptr, answers);
    begin = end;
  }
  const std::int64_t budget = o.budget_tokens;
  if (budget <= 0 || tokens_of(out.size() + answers.size()) <= budget) return out + answers;
  // Relatedness to the call's slots: same parent, same category, nearer in taxonomy order, nearer tier.
  std::vector<std::string_view> parents, cats;
  for (std::uint32_t i : o.focus) {
    const auto& path = path_of(m, p.attributes[i].leaf);
    parents.push_back(parent_of(path));
    cats.push_back(first_segment(path));
  }
  struct Cand {
    double score;
    std::uint32_t pos;
    std::int64_t tokens;
  };
  std::vector<Cand> cands;
  std::int64_t total = tokens_of(out.size());
  for (std::uint32_t pos : p.answered) {
    const auto& sl = p.attributes[pos];
    const auto& path = path_of(m, sl.leaf);
    double score = sl.tier == engine::Tier::near ? 0.6 : sl.tier == engine::Tier::mid ? 0.3 : 0.0;
    if (std::find(parents.begin(), parents.end(), parent_of(path)) != parents.end())
      score += 2;
    else if (std::find(cats.begin(), cats.end(), first_segment(path)) != cats.end())
      score += 1;
    if (sl.status != engine::SlotStatus::filled) score -= 0.5;  // "n/a" says least
    const std::int64_t t = tokens_of(m.leaf(sl.leaf).name.size() + sl.value.size() + 4);
    cands.push_back({score, pos, t});
    total += t;
  }
  std::stable_sort(cands.begin(), cands.end(), [](const Cand& x, const Cand& y) { return x.score < y.score; });
  std::vector<char> keep(p.attributes.size(), 1);
  std::size_t dropped = 0;
  for (const auto& c : cands) {
    if (total <= budget) break;
    keep[c.pos] = 0;
    total -= c.tokens;
    ++dropped;
  }
  if (stats != nullptr) stats->shown = p.answered.size() - dropped;
  answers.clear();
  begin = 0;
  for (std::size_t b = 0; b <= p.answer_blocks.size(); ++b) {
    const std::size_t end = b < p.answer_blocks.size() ? p.answer_blocks[b] : p.answered.size();
    append_answers(m, p, std::span<const std::uint32_t>(p.answered).subspan(begin, end - begin), &keep, answers);
    begin = end;
  }
  return out + answers;
}

// ---------------------------------------------------------------------------------------------
// Story

// ---------------------------------------------------------------------------------------------
// Requests

namespace {

json step_schema(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text:
      return {{"type", "string"}};
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
  std::string task;  // after the profile
  json schema;       // null: plain text
  std::string schema_name = "persona";
  int max_tokens = 0;
};

// A user's `prompt` replaces a task; the profile always comes first, so `{profile}` there is empty.
std::string render_override(const engine::Model& m, const Persona& p, const std::string& tpl) {
  return render(tpl, [&](std::string_view n) -> std::optional<std::string> {
    if (n == "profile") return std::string();
    return lookup_value(m, p, n);
  });
}

Prompt story_prompt(const engine::Model& m, const Persona& p, const Setup& s, const Ask& ask) {
  const auto& r = m.recipe();
  Prompt pr;
  json props = json::object(), req = json::array();
  std::string lines;
  for (std::uint32_t k : ask.items) {
    const auto& st = r.story[k];
    props[st.output] = step_schema(st);
    req.push_back(st.output);
    lines += step_line(st);
    // A drawn tone counters the models' sunny default: the answer is written in it, as it is.
    if (const auto tone = engine::tone_of(st, p); !tone.empty())
      lines += "; tone: " + std::string(tone) + " (write it so, plainly; do not soften it)";
    lines += "\n";
  }
  if (!lines.empty()) lines.pop_back();
  pr.schema = {{"type", "object"}, {"properties", props}, {"required", req}, {"additionalProperties", false}};
  if (ask.items.size() == 1 && r.story[ask.items[0]].prompt) {
    pr.task = render_override(m, p, *r.story[ask.items[0]].prompt);
    if (const auto tone = engine::tone_of(r.story[ask.items[0]], p); !tone.empty())
      pr.task += "\nTone: " + std::string(tone) + " (write it so, plainly; do not soften it).";
    if (!s.provider.json_schema) pr.task += "\nAnswer as JSON with the key \"" + r.story[ask.items[0]].output + "\".";
  } else {
    pr.task = render(s.templates.story.user, [&](std::string_view n) -> std::optional<std::string> {
      if (n == "steps") return lines;
      return lookup_value(m, p, n);
    });
  }
  std::int64_t completion = 0;
  for (std::uint32_t k : ask.items) {
    using K = lang::StoryShape::Kind;
    const auto& st = r.story[k];
    completion += st.shape.kind == K::list ? 8 + 40 * std::max(1, st.shape.max_items)
                  : st.shape.kind == K::object
                      ? 8 + 30 * static_cast<int>(std::max<std::size_t>(1, st.shape.fields.size()))
                      : 60;
  }
  pr.max_tokens = static_cast<int>(completion * 3);
  return pr;
}

// The fill answer: {"answers": [{"n": 1, "v": "..."}, ...]}, one entry per listed number. One small
// schema whatever the batch size (a schema key per slot would cost more prompt than the slots).
json answers_schema(std::size_t n) {
  const json item = {{"type", "object"},
                     {"properties", {{"n", {{"type", "integer"}}}, {"v", {{"type", {"string", "null"}}}}}},
                     {"required", {"n", "v"}},
                     {"additionalProperties", false}};
  return {{"type", "object"},
          {"properties", {{"answers", {{"type", "array"}, {"items", item}, {"minItems", n}, {"maxItems", n}}}}},
          {"required", {"answers"}},
          {"additionalProperties", false}};
}

Prompt fill_prompt(const engine::Model& m, const Persona& p, const Setup& s, const Ask& ask) {
  Prompt pr;
  // Slots in taxonomy order, numbered: "12 Diet Type (foods eaten)".
  std::string lines;
  std::size_t n = 0;
  for (std::uint32_t i : ask.items) {
    const auto& leaf = m.leaf(p.attributes[i].leaf);
    if (n > 0) lines += '\n';
    lines += std::to_string(++n) + " " + leaf.name;
    // A name of one or two words ("Tempo", "Occupation Group") gets the gist of its description; longer
    // names say what they mean, and a hint for each would cost as much as the rest of the prompt.
    if (text::word_count(leaf.name) <= 2) {
      const std::string hint = short_description(m.taxonomy()[leaf.vertex].description);
      if (!hint.empty()) lines += " (" + hint + ")";
    }
  }
  pr.schema = answers_schema(ask.items.size());
  pr.task = render(s.templates.batch.user, [&](std::string_view name) -> std::optional<std::string> {
    if (name == "slots") return lines;
    if (name == "count") return std::to_string(ask.items.size());
    return std::nullopt;
  });
  if (ask.attempt > 0 && !s.provider.json_schema)
    pr.task += "\n" + render(s.templates.repair.user, [&](std::string_view name) -> std::optional<std::string> {
                 if (name == "count") return std::to_string(ask.items.size());
                 return std::nullopt;
               });
  pr.max_tokens = static_cast<int>(ask.items.size() * (engine::kSlotCompletionTokens + 8) * 3 + 50);
  return pr;
}

Prompt narrative_prompt(const engine::Model& m, const Persona& p, const Setup& s) {
  const auto& r = m.recipe();
  Prompt pr;
  std::string name = "this person";
  if (auto v = lookup_value(m, p, "name")) name = *v;
  auto lookup = [&](std::string_view n) -> std::optional<std::string> {
    if (n == "profile") return std::string();
    if (n == "voice") return r.narrative.voice;
    if (n == "min_words") return std::to_string(r.narrative.min_words);
    if (n == "max_words") return std::to_string(r.narrative.max_words);
    if (n == "name") return name;
    return lookup_value(m, p, n);
  };
  pr.task = render(r.narrative.prompt ? *r.narrative.prompt : s.templates.narrative.user, lookup);
  pr.max_tokens = static_cast<int>(std::ceil(r.narrative.max_words * 1.35 * 1.5));
  return pr;
}

}  // namespace

llm::Request Llm::request(const engine::Program& prog, const Persona& p, const Ask& ask, engine::CallLog* log,
                          ProfileStats* stats) const {
  const engine::Model& m = prog.model();
  if (ask.kind == Ask::Kind::embed) {  // the selection's core, for the embeddings scorer
    llm::Request req;
    const std::string text = engine::core_text(p);
    req.body = llm::embeddings_body(s_.provider, {text});
    req.endpoint = llm::Endpoint::embeddings;
    req.tag = p.id + ":" + ask.tag + ":embed";
    if (log != nullptr) {
      log->step = ask.tag + ":embed";
      log->attempt = ask.attempt;
      log->user = text;
    }
    return req;
  }
  Prompt pr;
  switch (ask.kind) {
    case Ask::Kind::story:
      pr = story_prompt(m, p, s_, ask);
      break;
    case Ask::Kind::fill:
      pr = fill_prompt(m, p, s_, ask);
      break;
    case Ask::Kind::narrative:
      pr = narrative_prompt(m, p, s_);
      break;
    case Ask::Kind::embed:
      break;
  }
  if (!ask.feedback.empty()) pr.task += "\n" + ask.feedback;
  // Every call of a persona: the same system message, then the profile so far (append-only), then the
  // task: call k+1 starts with the exact text call k started with.
  ProfileOptions po;
  const auto& r = m.recipe();
  std::int64_t budget = r.attributes.context_tokens;
  if (s_.provider.context_window > 0) {
    const std::int64_t room = s_.provider.context_window - pr.max_tokens - engine::estimate_tokens(pr.task) -
                              engine::estimate_tokens(s_.templates.system) - 200;
    budget = budget > 0 ? std::min(budget, room) : room;
  }
  po.budget_tokens = std::max<std::int64_t>(budget, budget == 0 ? 0 : 1);
  if (ask.kind == Ask::Kind::fill) po.focus = ask.items;
  ProfileStats ps;
  const std::string user = profile_text(m, p, po, &ps) + "\n" + pr.task;
  if (stats != nullptr) *stats = ps;
  // A re-ask gets its own seed (and so its own cache entry): the same request would get the same answer.
  const std::string seed_step = ask.attempt == 0 ? ask.tag : ask.tag + ":again" + std::to_string(ask.attempt);
  llm::ChatOptions co;
  co.temperature = s_.temperature;
  co.max_tokens = s_.max_tokens > 0 ? s_.max_tokens : pr.max_tokens;
  // A re-ask after an answer cut at the token limit gets more room (Ask::room doubles each time).
  if (co.max_tokens > 0 && ask.room > 1)
    co.max_tokens = static_cast<int>(std::min<std::int64_t>(std::int64_t{co.max_tokens} * ask.room, 1'000'000));
  co.seed = static_cast<std::int64_t>(call_seed(p, seed_step));
  co.schema = pr.schema.is_null() ? nullptr : &pr.schema;
  co.schema_name = pr.schema_name;
  std::vector<llm::Message> msgs;
  if (!s_.templates.system.empty()) msgs.push_back({"system", s_.templates.system});
  msgs.push_back({"user", user});
  llm::Request req;
  req.body = llm::chat_body(s_.provider, msgs, co);
  req.tag = p.id + ":" + seed_step;
  req.expect_json = co.schema != nullptr;
  if (log != nullptr) {
    log->step = ask.tag;
    log->attempt = ask.attempt;
    log->system = s_.templates.system;
    log->user = user;
    log->answers_shown = ps.shown;
    log->answers_before = ps.answers;
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

// An answer cut at the token limit (finish_reason "length"): how many of its parts were written out
// in full. `members`: members of the outermost object closed by a ',' or its '}'; `elements`:
// objects closed inside the first array (the "answers" list). What the repair of extract_json
// closed by itself is not counted: a value cut mid-string ("{\"a2\":\"val") is not an answer.
struct Complete {
  std::size_t members = 0, elements = 0;
};

Complete complete_parts(std::string_view text) {
  Complete c;
  const auto start = text.find('{');
  if (start == std::string_view::npos) return c;
  llm::walk_json_structure(text, start, [&](char ch, int depth, std::size_t) {
    if (ch == '}' && depth == 2) ++c.elements;
    if ((ch == '}' || ch == ']') && depth == 0) {
      ++c.members;
      return false;
    }
    if (ch == ',' && depth == 1) ++c.members;
    return true;
  });
  return c;
}

// Positions in `text` of the members of a parsed object, in the order they were written.
std::vector<std::string> keys_in_text_order(const json& obj, std::string_view text) {
  std::vector<std::pair<std::size_t, std::string>> at;
  for (const auto& [k, _] : obj.items()) {
    const auto pos = text.find("\"" + k + "\"");
    at.emplace_back(pos == std::string_view::npos ? text.size() : pos, k);
  }
  std::sort(at.begin(), at.end());
  std::vector<std::string> out;
  for (auto& [_, k] : at) out.push_back(std::move(k));
  return out;
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
  if (ask.kind == Ask::Kind::embed) {
    // The tiers rank by this vector. A rejected key or an unknown model stops the run; any other
    // failed call, or a vector the node embeddings cannot be compared with, ranks this persona by the
    // offline similarity (SelectStep::apply), and the persona's problems say why.
    const auto& pv = s_.provider;
    auto fail = [&](const std::string& why) {
      a.ok = false;
      a.fatal = !r.ok() && llm::stops_the_run(r.http_status);
      a.error = "the core embedding from provider '" + pv.name + "' (model " + pv.embedding_model + "): " + why;
      return a;
    };
    if (!r.ok())
      return fail(llm::stops_the_run(r.http_status) ? llm::describe_failure(pv, r.http_status, r.error, r.replica)
                  : r.error.empty()                 ? std::string("the request failed")
                                                    : r.error);
    if (r.embeddings.size() != 1) return fail("expected one vector, got " + std::to_string(r.embeddings.size()));
    a.embedding = r.embeddings.front();
    if (const auto* es = dynamic_cast<const sim::EmbeddingScorer*>(&prog.model().scorer()))
      if (std::string err = es->check_vector(a.embedding); !err.empty()) return fail(err);
    return a;
  }
  if (!r.ok()) {
    a.ok = false;
    // A rejected key or an unknown model fails every later call too: the run stops at once. (The
    // 404 text, which asks the server for its model list, is made once, by the scheduler.)
    a.fatal = llm::stops_the_run(r.http_status);
    a.error = r.http_status == 404 ? r.error : llm::describe_failure(s_.provider, r.http_status, r.error, r.replica);
    return a;
  }
  a.truncated = r.finish_reason == "length";
  const auto& rec = prog.recipe();
  switch (ask.kind) {
    case Ask::Kind::narrative:
      a.text = r.content;
      break;
    case Ask::Kind::embed:
      break;
    case Ask::Kind::story: {
      auto got = llm::extract_json(r.content);
      if (a.truncated && got.value) {
        // Only the members written out in full count; the one the limit cut is asked again.
        const auto order = keys_in_text_order(*got.value, r.content);
        const std::size_t whole = complete_parts(r.content).members;
        for (std::size_t i = whole; i < order.size(); ++i) got.value->erase(order[i]);
      }
      for (std::uint32_t k : ask.items) {
        const auto& st = rec.story[k];
        if (!got.value || !got.value->contains(st.output))
          a.story.emplace_back(std::nullopt);
        else
          a.story.push_back(story_answer(st, (*got.value)[st.output]));
      }
      break;
    }
    case Ask::Kind::fill: {
      const auto got = llm::extract_json(r.content);
      a.slots.assign(ask.items.size(), SlotAnswer{});
      if (!got.value) break;  // every slot missing: asked again
      auto put = [&](std::size_t j, const json& v) {
        SlotAnswer& s = a.slots[j];
        if (s.state != SlotAnswer::State::missing) return;  // the first answer for a number counts
        s.source = engine::Source::llm;
        if (v.is_null()) {
          s.state = SlotAnswer::State::null;
        } else if (!v.is_array() && !v.is_object()) {
          s.state = SlotAnswer::State::value;
          s.value = scalar(v);
        }
      };
      const json& obj = *got.value;
      // Cut at the token limit: only the parts written out in full count (the rest is asked again).
      const Complete whole = a.truncated ? complete_parts(r.content) : Complete{SIZE_MAX, SIZE_MAX};
      if (obj.contains("answers") && obj["answers"].is_array()) {
        std::size_t seen = 0;
        for (const auto& e : obj["answers"]) {
          if (seen++ >= whole.elements) break;
          if (!e.is_object() || !e.contains("n") || !e.contains("v")) continue;
          const json& nj = e["n"];
          long n = nj.is_number_integer() ? nj.get<long>()
                   : nj.is_string()       ? std::atol(nj.get<std::string>().c_str())
                                          : 0;
          if (n >= 1 && static_cast<std::size_t>(n) <= ask.items.size()) put(static_cast<std::size_t>(n - 1), e["v"]);
        }
      } else {
        // Tolerated: an object keyed by number ("1", "a1").
        json kept = obj;
        if (a.truncated) {
          const auto order = keys_in_text_order(obj, r.content);
          for (std::size_t i = whole.members; i < order.size(); ++i) kept.erase(order[i]);
        }
        for (std::size_t j = 0; j < ask.items.size(); ++j) {
          const std::string n = std::to_string(j + 1);
          if (kept.contains(n))
            put(j, kept[n]);
          else if (kept.contains("a" + n))
            put(j, kept["a" + n]);
        }
      }
      for (auto& s : a.slots) s.source = engine::Source::llm;
      break;
    }
  }
  return a;
}

}  // namespace persona::backend
