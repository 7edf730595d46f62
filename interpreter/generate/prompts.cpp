// Prompt templates, provider resolution, request building and answer application.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/plan.hpp"
#include "generate/generate.hpp"
#include "llm/structured.hpp"
#include "base/rng.hpp"
#include "util/stdlib_path.hpp"

namespace persona::generate {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Templates

std::filesystem::path default_prompts_dir() { return persona::stdlib_dir() / "prompts"; }

std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error) {
  Templates t;
  auto load = [&](const char* file, Template& out) {
    std::ifstream in(dir / file, std::ios::binary);
    if (!in) {
      error = "cannot read prompt template " + (dir / file).string();
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    const auto sep = text.find("\n---\n");
    if (sep == std::string::npos) {
      out.user = text;
    } else {
      out.system = text.substr(0, sep);
      out.user = text.substr(sep + 5);
    }
    while (!out.user.empty() && (out.user.back() == '\n' || out.user.back() == ' ')) out.user.pop_back();
    return true;
  };
  if (!load("story.txt", t.story) || !load("batch.txt", t.batch) || !load("narrative.txt", t.narrative) ||
      !load("repair.txt", t.repair))
    return std::nullopt;
  return t;
}

std::string render(std::string_view tpl, const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  out.reserve(tpl.size() + 256);
  std::size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] == '{') {
      const auto close = tpl.find('}', i + 1);
      if (close != std::string_view::npos && close - i - 1 <= 64) {
        const std::string_view name = tpl.substr(i + 1, close - i - 1);
        const bool ident = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
        });
        if (ident) {
          if (auto v = lookup(name)) {
            out += *v;
            i = close + 1;
            continue;
          }
        }
      }
    }
    out += tpl[i++];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Provider resolution

std::optional<Setup> resolve(const lang::Recipe& r, const ResolveOptions& o, DiagnosticSink& sink, bool& offline) {
  offline = false;
  if (o.llm == "offline") {
    offline = true;
    return std::nullopt;
  }
  std::filesystem::path config = o.config;
  bool have_file = false;
  std::error_code ec;
  if (config.empty()) {
    if (std::filesystem::exists("persona.toml", ec)) config = "persona.toml";
  }
  if (!config.empty()) {
    if (!std::filesystem::exists(config, ec)) {
      sink.error(SourceRange{config.string(), 0, 0, 0}, "no-config", "cannot read " + config.string() + ": no such file");
      return std::nullopt;
    }
    have_file = true;
  }
  std::optional<llm::ProviderSet> set;
  bool configured = false;
  if (have_file) {
    set = llm::load_providers(config, sink);
    if (!set) return std::nullopt;
    // A file with a [providers] table configures providers; the built-in set is only `openai`
    // with no definition site.
    configured = !set->providers.empty() && set->providers.front().defined_at.line != 0;
  } else {
    set = llm::builtin_providers();
  }
  std::string name = o.llm;
  if (name.empty()) {
    if (!configured) {
      offline = true;  // nothing configured: the embedded backend
      return std::nullopt;
    }
    name = r.model.provider == "default" ? set->default_name : r.model.provider;
  }
  if (name == "default") name = set->default_name;
  const llm::Provider* p = set->find(name);
  if (p == nullptr && name == "openai") {
    const auto builtin = llm::builtin_providers();
    set->providers.push_back(builtin.providers.front());
    p = &set->providers.back();
  }
  if (p == nullptr) {
    std::string known;
    for (const auto& q : set->providers) known += (known.empty() ? "" : ", ") + q.name;
    sink.error(SourceRange{have_file ? config.string() : std::string("--llm"), 0, 0, 0}, "unknown-provider",
               "no provider '" + name + "'" + (have_file ? " in " + config.string() : std::string()) + " (known: " +
                   (known.empty() ? std::string("none") : known) + ", offline)");
    return std::nullopt;
  }
  Setup s;
  s.provider = *p;
  for (const auto& [k, v] : r.model.params) {
    if (k == "temperature" && std::holds_alternative<double>(v)) s.temperature = std::get<double>(v);
    else if (k == "max_tokens" && std::holds_alternative<double>(v)) s.max_tokens = static_cast<int>(std::get<double>(v));
    else if (k == "model" && std::holds_alternative<std::string>(v)) s.provider.model = std::get<std::string>(v);
  }
  if (!o.model.empty()) s.provider.model = o.model;
  std::string err;
  auto t = load_templates(o.prompts_dir.empty() ? default_prompts_dir() : std::filesystem::path(o.prompts_dir), err);
  if (!t) {
    sink.error(SourceRange{}, "no-prompts", err);
    return std::nullopt;
  }
  s.templates = std::move(*t);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Profile text

namespace {

std::string value_text(const cond::Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    if (std::floor(*d) == *d && std::fabs(*d) < 1e15) return std::to_string(static_cast<long long>(*d));
    std::ostringstream ss;
    ss << *d;
    return ss.str();
  }
  return std::get<std::string>(v);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string core_text(const engine::CoreValue& cv) {
  switch (cv.kind) {
    case lang::StoryShape::Kind::text: return cv.text;
    case lang::StoryShape::Kind::list: return join(cv.items, "; ");
    case lang::StoryShape::Kind::object: {
      std::string out;
      for (const auto& f : cv.fields) {
        if (!out.empty()) out += "; ";
        out += f.name + "=";
        if (f.type == "number") out += value_text(f.number);
        else if (f.type == "list") out += join(f.items, ", ");
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

json chat(const Setup& s, const std::string& system, const std::string& user, const json* schema,
          std::string_view step, const engine::Persona& p, int max_tokens) {
  llm::ChatOptions co;
  co.temperature = s.temperature;
  co.max_tokens = s.max_tokens > 0 ? s.max_tokens : max_tokens;
  co.seed = static_cast<std::int64_t>(call_seed(p, step));
  co.schema = schema;
  co.schema_name = "persona";
  std::vector<llm::Message> msgs;
  if (!system.empty()) msgs.push_back({"system", system});
  msgs.push_back({"user", user});
  return llm::chat_body(s.provider, msgs, co);
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

std::vector<std::vector<std::size_t>> story_groups(const lang::Recipe& r) {
  // One rule for the plan's estimate and for the calls actually sent.
  return engine::story_call_groups(r);
}

namespace {

json step_schema(const lang::StoryStep& st) {
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text: return {{"type", "string"}};
    case K::list: return {{"type", "array"}, {"items", {{"type", "string"}}}};
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
    line += " {" + join(f, ", ") + "}";
  } else {
    line += " (1-2 sentences, first person)";
  }
  if (!st.inputs.empty()) line += "; from " + join(st.inputs, ", ");
  return line;
}

// `{name}` in a recipe prompt: an anchor, a derived fact or an earlier step's value.
std::optional<std::string> lookup_value(const engine::Model& m, const engine::Persona& p, std::string_view name) {
  const auto& r = m.recipe();
  for (std::size_t i = 0; i < r.anchors.size() && i < p.anchors.size(); ++i)
    if (r.anchors[i].name == name) return p.anchors[i] ? value_text(*p.anchors[i]) : std::string("unknown");
  for (const auto& [k, v] : p.derived)
    if (k == name) return v;
  for (std::size_t k = 0; k < r.story.size() && k < p.core.size(); ++k)
    if (r.story[k].output == name) return p.core[k].done ? core_text(p.core[k]) : std::string("unknown");
  return std::nullopt;
}

}  // namespace

Call story_call(const engine::Model& m, const engine::Persona& p, const Setup& s, const std::vector<std::size_t>& steps) {
  const auto& r = m.recipe();
  Call c;
  json props = json::object(), req = json::array();
  std::string lines;
  for (std::size_t k : steps) {
    const auto& st = r.story[k];
    props[st.output] = step_schema(st);
    req.push_back(st.output);
    c.keys.push_back(st.output);
    lines += step_line(st) + "\n";
  }
  if (!lines.empty()) lines.pop_back();
  const json schema = {{"type", "object"}, {"properties", props}, {"required", req}, {"additionalProperties", false}};
  std::string user;
  const std::string profile = profile_text(m, p, 0, 0, r.attributes.context_tokens);
  if (steps.size() == 1 && r.story[steps[0]].prompt) {
    user = render(*r.story[steps[0]].prompt, [&](std::string_view n) -> std::optional<std::string> {
      if (n == "profile") return profile;
      return lookup_value(m, p, n);
    });
    if (!s.provider.json_schema) user += "\nAnswer as JSON with the key \"" + r.story[steps[0]].output + "\".";
    c.step = "story:" + r.story[steps[0]].output;
  } else {
    user = render(s.templates.story.user, [&](std::string_view n) -> std::optional<std::string> {
      if (n == "profile") return profile;
      if (n == "steps") return lines;
      return lookup_value(m, p, n);
    });
    c.step = "story";
  }
  std::int64_t completion = 0;
  for (std::size_t k : steps) {
    using K = lang::StoryShape::Kind;
    const auto& st = r.story[k];
    completion += st.shape.kind == K::list ? 8 + 40 * std::max(1, st.shape.max_items)
                  : st.shape.kind == K::object ? 8 + 30 * static_cast<int>(std::max<std::size_t>(1, st.shape.fields.size()))
                                               : 60;
  }
  c.body = chat(s, s.templates.story.system, user, &schema, c.step, p, static_cast<int>(completion * 3));
  return c;
}

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
    while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front()))) x.erase(x.begin());
    while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back()))) x.pop_back();
    if (!x.empty()) kept.push_back(x);
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

}  // namespace

std::vector<std::string> apply_story(const engine::Model& m, engine::Persona& p, const std::vector<std::size_t>& steps,
                                     const std::string& content) {
  using K = lang::StoryShape::Kind;
  const auto& r = m.recipe();
  std::vector<std::string> missing;
  const auto got = llm::extract_json(content);
  for (std::size_t k : steps) {
    const auto& st = r.story[k];
    if (!got.value || !got.value->contains(st.output) || (*got.value)[st.output].is_null()) {
      missing.push_back(st.output);
      continue;
    }
    const json& v = (*got.value)[st.output];
    engine::CoreValue& cv = p.core[k];
    cv.kind = st.shape.kind;
    cv.text.clear();
    cv.items.clear();
    cv.fields.clear();
    if (st.shape.kind == K::text) {
      cv.text = v.is_string() ? v.get<std::string>() : join(items_of(v), "; ");
      if (v.is_object()) cv.text = v.dump();
    } else if (st.shape.kind == K::list) {
      cv.items = items_of(v);
      if (cv.items.size() > static_cast<std::size_t>(std::max(1, st.shape.max_items)))
        cv.items.resize(static_cast<std::size_t>(std::max(1, st.shape.max_items)));
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
    const bool empty = (st.shape.kind == K::text && cv.text.empty()) || (st.shape.kind == K::list && cv.items.empty());
    if (empty) {
      missing.push_back(st.output);
      continue;
    }
    cv.done = true;
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Fill

Call fill_call(const engine::Model& m, const engine::Persona& p, const Setup& s, std::size_t first, std::size_t last,
               const std::vector<std::size_t>* only, bool repair) {
  const auto& r = m.recipe();
  Call c;
  // Slots are in taxonomy order: consecutive slots under the same parent share one line,
  // "Parent: a1 Leaf; a2 Leaf" (the compact path is parent + leaf).
  std::string lines;
  std::size_t n = 0;
  std::string last_parent;
  auto add = [&](std::size_t i) {
    const std::string key = "a" + std::to_string(++n);
    c.keys.push_back(key);
    const std::string cp = compact_path(path_of(m, p.attributes[i].leaf));
    const auto slash = cp.find('/');
    const std::string parent = slash == std::string::npos ? std::string() : cp.substr(0, slash);
    const std::string leaf = slash == std::string::npos ? cp : cp.substr(slash + 1);
    if (n > 1 && parent == last_parent && !parent.empty()) {
      lines += "; " + key + " " + leaf;
    } else {
      if (n > 1) lines += "\n";
      lines += (parent.empty() ? std::string() : parent + ": ") + key + " " + leaf;
    }
    last_parent = parent;
  };
  if (only != nullptr) {
    for (std::size_t i : *only) add(i);
  } else {
    for (std::size_t i = first; i < last; ++i) add(i);
  }
  const json schema = llm::slots_schema(c.keys);
  const std::string profile = profile_text(m, p, first, last, r.attributes.context_tokens);
  std::string user = render(s.templates.batch.user, [&](std::string_view name) -> std::optional<std::string> {
    if (name == "profile") return profile;
    if (name == "slots") return lines;
    return std::nullopt;
  });
  if (repair) {
    user += "\n" + render(s.templates.repair.user, [&](std::string_view name) -> std::optional<std::string> {
      if (name == "slots") return join(c.keys, ", ");
      return std::nullopt;
    });
  } else if (!s.provider.json_schema) {
    user += "\nAnswer with one JSON object with the keys " + c.keys.front() + ".." + c.keys.back() + ".";
  }
  c.step = "fill:" + std::to_string(first) + (only != nullptr ? ":again" + std::to_string(only->front()) : "");
  c.body = chat(s, s.templates.batch.system, user, &schema, c.step, p,
                static_cast<int>(c.keys.size() * engine::kSlotCompletionTokens * 3 + 50));
  return c;
}

namespace {

// "No ...", "None", "N/A": negative filler is "not applicable", never a value.
bool negative_filler(std::string_view v) {
  std::string low;
  for (char ch : v.substr(0, 20)) low += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* w : {"no ", "none", "n/a", "not applicable", "nothing", "no.", "null"})
    if (low.rfind(w, 0) == 0) return true;
  return low == "no";
}

}  // namespace

std::vector<std::size_t> apply_fill(const engine::Model& m, engine::Persona& p, const std::vector<std::size_t>& slots,
                                    const std::string& content) {
  std::vector<std::size_t> missing;
  const auto got = llm::extract_json(content);
  for (std::size_t j = 0; j < slots.size(); ++j) {
    const std::string key = "a" + std::to_string(j + 1);
    engine::Slot& sl = p.attributes[slots[j]];
    sl.source = engine::Source::llm;
    sl.option = -1;
    if (!got.value || !got.value->contains(key)) {
      missing.push_back(slots[j]);
      continue;
    }
    const json& v = (*got.value)[key];
    std::string text = v.is_null() ? std::string() : scalar(v);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(text.begin());
    if (!v.is_null() && text.empty() && (v.is_array() || v.is_object())) {
      missing.push_back(slots[j]);
      continue;
    }
    if (text.empty() || negative_filler(text)) {
      sl.status = engine::SlotStatus::failed;
      sl.value.clear();
      sl.reason = "not_applicable";
      continue;
    }
    if (text.size() > 300) text.resize(300);
    // A value that is one of the leaf's options must be one the coherence rules allow this persona.
    const tax::Vertex leaf = m.leaf(sl.leaf).vertex;
    if (const auto k = m.rules().option_of(leaf, text); k && !m.rules().allowed(p.coherence, leaf, *k)) {
      sl.status = engine::SlotStatus::failed;
      sl.value.clear();
      sl.reason = "rejected: contradicts the persona's facts";
      continue;
    }
    sl.value = std::move(text);
    sl.status = engine::SlotStatus::filled;
    sl.reason.clear();
  }
  return missing;
}

// ---------------------------------------------------------------------------------------------
// Narrative

Call narrative_call(const engine::Model& m, const engine::Persona& p, const Setup& s) {
  const auto& r = m.recipe();
  Call c;
  c.step = "narrative";
  const std::string profile = profile_text(m, p, 0, 0, r.attributes.context_tokens);
  std::string name = "this person";
  if (auto v = lookup_value(m, p, "name")) name = *v;
  const std::string user = render(s.templates.narrative.user, [&](std::string_view n) -> std::optional<std::string> {
    if (n == "profile") return profile;
    if (n == "voice") return r.narrative.voice;
    if (n == "min_words") return std::to_string(r.narrative.min_words);
    if (n == "max_words") return std::to_string(r.narrative.max_words);
    if (n == "name") return name;
    return lookup_value(m, p, n);
  });
  const std::string tpl_user = r.narrative.prompt
                                   ? render(*r.narrative.prompt, [&](std::string_view n) -> std::optional<std::string> {
                                       if (n == "profile") return profile;
                                       return lookup_value(m, p, n);
                                     })
                                   : user;
  c.body = chat(s, s.templates.narrative.system, tpl_user, nullptr, c.step, p,
                static_cast<int>(std::ceil(r.narrative.max_words * 1.35 * 1.5)));
  return c;
}

// ---------------------------------------------------------------------------------------------
// Dry run

DryRun dry_run(const lang::Recipe& r, const llm::Provider& p, std::uint64_t personas) {
  DryRun d;
  d.personas = personas;
  d.per_persona = engine::estimate(r);
  llm::Usage u;
  u.prompt_tokens = static_cast<long>(d.per_persona.prompt_tokens);
  u.completion_tokens = static_cast<long>(d.per_persona.completion_tokens);
  d.cost_per_persona = p.cost(u);
  d.cost = d.cost_per_persona * static_cast<double>(personas);
  return d;
}

}  // namespace persona::generate
