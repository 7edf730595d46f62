// The LLM modes as sans-IO pieces: prompt text, request bodies, reply validation, re-ask and the
// dry-run estimate. Nothing here sends a request.
#include <algorithm>
#include <cmath>

#include "base/files.hpp"
#include "base/rng.hpp"
#include "base/text.hpp"
#include "llm/client.hpp"
#include "llm/structured.hpp"
#include "survey/survey.hpp"
#include "util/stdlib_path.hpp"

namespace persona::survey {

using nlohmann::json;

std::filesystem::path default_prompts_dir() { return persona::stdlib_dir() / "prompts"; }

std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error) {
  Templates t;
  auto load = [&](const char* name, Template& out) {
    const auto rd = files::read(dir / name, {.max_bytes = 1u << 20, .require_utf8 = true});
    if (!rd.ok()) {
      error = rd.error;
      return false;
    }
    const std::string& text = *rd.text;
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
  if (!load("survey-deep.txt", t.deep) || !load("survey-demographics.txt", t.demographics) ||
      !load("survey-cultural.txt", t.cultural) || !load("survey-repair.txt", t.repair))
    return std::nullopt;
  return t;
}

namespace {

// `{name}` replaced by vars[name]; other braces are kept.
std::string render(std::string_view tpl, const std::vector<std::pair<std::string_view, std::string_view>>& vars) {
  std::string out;
  std::size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] == '{') {
      const auto close = tpl.find('}', i + 1);
      if (close != std::string_view::npos) {
        const auto name = tpl.substr(i + 1, close - i - 1);
        const auto it = std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += tpl[i++];
  }
  return out;
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return text::format_number(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) {
      const std::string t = scalar_text(x);
      if (!t.empty()) s += (s.empty() ? "" : "; ") + t;
    }
    return s;
  }
  if (v.is_object()) {
    std::string s;
    for (const auto& [k, x] : v.items()) {
      const std::string t = scalar_text(x);
      if (!t.empty()) s += (s.empty() ? "" : "; ") + k + "=" + t;
    }
    return s;
  }
  return {};
}

// The last two segments of a taxonomy path ("Food Preference/Vegan").
std::string_view short_path(std::string_view path) {
  const auto last = path.rfind('/');
  if (last == std::string_view::npos || last == 0) return path;
  const auto prev = path.rfind('/', last - 1);
  return prev == std::string_view::npos ? path : path.substr(prev + 1);
}

std::string anchors_text(const json& d) {
  std::string out;
  if (d.contains("anchors") && d["anchors"].is_object())
    for (const auto& [k, v] : d["anchors"].items()) {
      const std::string t = scalar_text(v);
      if (!t.empty()) out += k + ": " + t + "\n";
    }
  return out;
}

std::string answer_line(const Questionnaire& q, const Item& it) {
  std::string s = it.id + ": " + it.text + " Answer ";
  if (it.form == Form::numeric) {
    s += "with a number from " + text::format_number(it.min) + " to " + text::format_number(it.max);
  } else {
    const bool all_labelled =
        std::all_of(it.codes.begin(), it.codes.end(), [](const Code& c) { return !c.label.empty(); });
    if (it.form == Form::scale && !all_labelled) {
      s += "with a whole number from " + text::format_number(it.min);
      if (!it.codes.front().label.empty()) s += " (" + it.codes.front().label + ")";
      s += " to " + text::format_number(it.max);
      if (!it.codes.back().label.empty()) s += " (" + it.codes.back().label + ")";
    } else {
      s += "with one code:";
      for (std::size_t k = 0; k < it.codes.size(); ++k)
        s += std::string(k ? "," : "") + " " + text::format_number(it.codes[k].value) + " = " + it.codes[k].label;
    }
  }
  if (q.offer_missing)
    for (const auto& m : it.missing) s += ", or " + text::format_number(m.value) + " = " + m.label;
  return s + ".";
}

const Template& template_of(const Templates& t, Mode m) {
  switch (m) {
    case Mode::demographics:
      return t.demographics;
    case Mode::cultural:
      return t.cultural;
    default:
      return t.deep;
  }
}

struct Text {
  std::string system, user;
  std::size_t prefix_chars = 0;
};

// The messages of one call; `extra` (the re-ask note) goes at the very end.
Text call_text(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items, Mode mode,
               const Templates& t, const std::string& extra) {
  const Template& tpl = template_of(t, mode);
  std::string questions;
  for (std::size_t i : items) questions += answer_line(q, q.items[i]) + "\n";
  if (!questions.empty()) questions.pop_back();
  const std::string persona = persona_text(p, mode);
  std::string country = "unknown";
  if (p.data.contains("anchors") && p.data["anchors"].is_object() && p.data["anchors"].contains("country"))
    if (auto c = scalar_text(p.data["anchors"]["country"]); !c.empty()) country = c;
  const std::vector<std::pair<std::string_view, std::string_view>> vars = {{"persona", persona}, {"country", country}};
  // Everything before {questions} is the stable prefix of this persona.
  const auto qpos = tpl.user.find("{questions}");
  Text out;
  out.system = tpl.system;
  const std::string head = render(std::string_view(tpl.user).substr(0, qpos), vars);
  out.user = head;
  if (qpos != std::string::npos) {
    out.user += questions;
    out.user += render(std::string_view(tpl.user).substr(qpos + 11), vars);
  } else {
    out.user += "\n" + questions;
  }
  if (!extra.empty()) out.user += "\n" + extra;
  out.prefix_chars = out.system.size() + head.size();
  return out;
}

std::string step_name(const Questionnaire& q, const std::vector<std::size_t>& items, Mode mode, int repeat) {
  return std::string("survey:") + to_string(mode) + ":" + (items.empty() ? std::string() : q.items[items[0]].id) +
         ":r" + std::to_string(repeat);
}

int completion_tokens(std::size_t items) { return static_cast<int>(8 + 8 * items); }

SurveyCall make_call(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items, int repeat,
                     const Text& tx, std::string step, const llm::Provider& provider, const CallOptions& o) {
  SurveyCall c;
  c.items = items;
  c.repeat = repeat;
  c.step = std::move(step);
  c.prefix_chars = tx.prefix_chars;
  c.prompt_chars = tx.system.size() + tx.user.size();
  const json schema = answer_schema(q, items);
  llm::ChatOptions co;
  co.temperature = o.temperature;
  co.max_tokens = o.max_tokens > 0 ? o.max_tokens : 3 * completion_tokens(items.size()) + 32;
  co.seed = static_cast<std::int64_t>(Rng::derive(o.seed, p.index, c.step)() & 0x7fffffffULL);
  co.schema = &schema;
  co.schema_name = "survey";
  std::vector<llm::Message> msgs;
  if (!tx.system.empty()) msgs.push_back({"system", tx.system});
  std::string user = tx.user;
  if (!provider.json_schema) {
    user += "\nAnswer with one JSON object whose keys are the item ids";
    for (std::size_t k = 0; k < items.size(); ++k) user += std::string(k ? ", " : " ") + q.items[items[k]].id;
    user += " and whose values are the codes.";
  }
  msgs.push_back({"user", user});
  c.body = llm::chat_body(provider, msgs, co);
  return c;
}

}  // namespace

std::string persona_text(const PersonaRecord& p, Mode m) {
  const json& d = p.data;
  if (m == Mode::cultural) {
    std::string country = "unknown";
    if (d.contains("anchors") && d["anchors"].is_object() && d["anchors"].contains("country"))
      if (auto c = scalar_text(d["anchors"]["country"]); !c.empty()) country = c;
    return "country: " + country + "\n";
  }
  std::string out = anchors_text(d);
  if (m == Mode::demographics) return out;
  if (d.contains("core") && d["core"].is_object())
    for (const auto& [k, v] : d["core"].items()) {
      const std::string t = scalar_text(v);
      if (!t.empty()) out += k + ": " + t + "\n";
    }
  if (d.contains("attributes") && d["attributes"].is_array())
    for (const auto& a : d["attributes"]) {
      if (!a.is_object() || !a.contains("path") || !a["path"].is_string() || !a.contains("value") ||
          !a["value"].is_string())
        continue;
      out += std::string(short_path(a["path"].get<std::string>())) + ": " + a["value"].get<std::string>() + "\n";
    }
  if (d.contains("narrative") && d["narrative"].is_string() && !d["narrative"].get<std::string>().empty())
    out += "\n" + d["narrative"].get<std::string>() + "\n";
  return out;
}

std::vector<std::vector<std::size_t>> item_groups(const Questionnaire& q) {
  std::vector<std::vector<std::size_t>> out;
  const auto cap = static_cast<std::size_t>(std::max(1, q.items_per_call));
  for (std::size_t i = 0; i < q.items.size(); ++i) {
    const Item& it = q.items[i];
    const bool same_block = !out.empty() && !it.block.empty() && q.items[out.back().back()].block == it.block;
    const bool fits = !out.empty() && out.back().size() < cap;
    // A block stays in one call; an item outside a block joins the previous call while it fits
    // and that call is not a block.
    const bool prev_block = !out.empty() && !q.items[out.back().back()].block.empty();
    if (same_block || (fits && it.block.empty() && !prev_block)) {
      out.back().push_back(i);
    } else {
      out.push_back({i});
    }
  }
  return out;
}

json answer_schema(const Questionnaire& q, const std::vector<std::size_t>& items) {
  json props = json::object(), req = json::array();
  for (std::size_t i : items) {
    const Item& it = q.items[i];
    json p;
    if (it.form == Form::numeric) {
      p = {{"type", "number"}, {"minimum", it.min}, {"maximum", it.max}};
    } else {
      json codes = json::array();
      for (const auto& c : it.codes) codes.push_back(static_cast<long long>(c.value));
      if (q.offer_missing)
        for (const auto& c : it.missing) codes.push_back(static_cast<long long>(c.value));
      p = {{"type", "integer"}, {"enum", codes}};
    }
    props[it.id] = p;
    req.push_back(it.id);
  }
  return {{"type", "object"}, {"properties", props}, {"required", req}, {"additionalProperties", false}};
}

SurveyCall survey_call(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items,
                       int repeat, const Templates& t, const llm::Provider& provider, const CallOptions& o) {
  const Text tx = call_text(q, p, items, o.mode, t, {});
  return make_call(q, p, items, repeat, tx, step_name(q, items, o.mode, repeat), provider, o);
}

Parsed parse_reply(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items, int repeat,
                   Mode mode, std::string_view content) {
  Parsed out;
  const auto got = llm::extract_json(content);
  for (std::size_t i : items) {
    const Item& it = q.items[i];
    auto invalid = [&](std::string why) {
      out.invalid.push_back(i);
      out.why.push_back(it.id + ": " + std::move(why));
    };
    if (!got.value) {
      invalid("no JSON object in the reply");
      continue;
    }
    if (!got.value->contains(it.id) || (*got.value)[it.id].is_null()) {
      invalid("no answer");
      continue;
    }
    const json& v = (*got.value)[it.id];
    std::optional<double> x;
    if (v.is_number()) {
      x = v.get<double>();
    } else if (v.is_string()) {
      const std::string s(text::trim(v.get<std::string>()));
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d)) x = d;
    }
    if (!x) {
      invalid("`" + v.dump() + "` is not a code");
      continue;
    }
    const bool missing = it.is_missing(*x);
    if (!it.is_code(*x) && !missing) {
      invalid(text::format_number(*x) + " is not one of the codes");
      continue;
    }
    Answer a;
    a.persona = p.index;
    a.item = i;
    a.repeat = repeat;
    a.code = *x;
    a.mode = mode;
    a.status = missing ? AnswerStatus::missing : AnswerStatus::ok;
    out.answers.push_back(a);
  }
  return out;
}

SurveyCall reask_call(const Questionnaire& q, const PersonaRecord& p, const Parsed& first, int repeat,
                      const Templates& t, const llm::Provider& provider, const CallOptions& o) {
  std::string ids, why;
  for (std::size_t k = 0; k < first.invalid.size(); ++k) {
    ids += (k ? ", " : "") + q.items[first.invalid[k]].id;
    why += (k ? "; " : "") + first.why[k];
  }
  const std::vector<std::pair<std::string_view, std::string_view>> vars = {{"items", ids}, {"why", why}};
  const std::string note = render(t.repair.user, vars);
  const Text tx = call_text(q, p, first.invalid, o.mode, t, note);
  return make_call(q, p, first.invalid, repeat, tx, step_name(q, first.invalid, o.mode, repeat) + ":again", provider,
                   o);
}

std::vector<Answer> invalid_answers(const PersonaRecord& p, const std::vector<std::size_t>& items, int repeat,
                                    Mode mode) {
  std::vector<Answer> out;
  for (std::size_t i : items) {
    Answer a;
    a.persona = p.index;
    a.item = i;
    a.repeat = repeat;
    a.mode = mode;
    a.status = AnswerStatus::invalid;
    out.push_back(a);
  }
  return out;
}

Estimate estimate(const Questionnaire& q, const std::vector<PersonaRecord>& people, int repeats, const Templates& t,
                  const llm::Provider& provider, const CallOptions& o) {
  Estimate e;
  const auto groups = item_groups(q);
  const auto tokens = [](std::size_t chars) { return static_cast<std::uint64_t>((chars + 3) / 4); };
  for (const auto& p : people) {
    bool first = true;
    for (const auto& g : groups) {
      const Text tx = call_text(q, p, g, o.mode, t, {});
      // The request as sent: the messages, the answer schema and the framing (a provider counts the
      // schema of a structured answer as prompt tokens too). Repeats differ only in the seed.
      const SurveyCall c = make_call(q, p, g, 0, tx, step_name(q, g, o.mode, 0), provider, o);
      const std::uint64_t prompt = tokens(c.body.dump().size());
      const std::uint64_t prefix = tokens(tx.prefix_chars);
      for (int r = 0; r < std::max(1, repeats); ++r) {
        ++e.calls;
        e.prompt_tokens += prompt;
        if (!first) e.cacheable_tokens += std::min(prefix, prompt);
        first = false;
        e.completion_tokens += static_cast<std::uint64_t>(completion_tokens(g.size()));
      }
    }
  }
  llm::Usage u;
  u.prompt_tokens = static_cast<long>(e.prompt_tokens);
  u.cached_tokens = static_cast<long>(e.cacheable_tokens);
  u.completion_tokens = static_cast<long>(e.completion_tokens);
  e.cost = provider.cost(u);
  return e;
}

}  // namespace persona::survey
