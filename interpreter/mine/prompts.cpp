// The mining steps' requests and answer checks (sans-IO): templates from stdlib/prompts/mine-*.txt,
// strict schemas named "mine_<step>", and checks that turn an answer into the normalised JSON the
// journal keeps, or say why it is off-schema.
#include <algorithm>
#include <set>

#include "base/files.hpp"
#include "base/text.hpp"
#include "llm/client.hpp"
#include "llm/structured.hpp"
#include "mine.hpp"
#include "util/stdlib_path.hpp"

namespace persona::mine {

using text::trim;

namespace {

using json = nlohmann::json;

std::string render(std::string_view tpl, const std::vector<std::pair<std::string_view, std::string>>& vars) {
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

json object(json properties, const std::vector<std::string>& required) {
  return {{"type", "object"},
          {"properties", std::move(properties)},
          {"required", required},
          {"additionalProperties", false}};
}

json body(const llm::Provider& p, const Template& t, std::string user, const json& schema, const std::string& name,
          std::uint64_t seed = 0) {
  std::vector<llm::Message> msgs;
  if (!t.system.empty()) msgs.push_back({"system", t.system});
  msgs.push_back({"user", std::move(user)});
  llm::ChatOptions co;
  co.temperature = 0;
  co.schema = &schema;
  co.schema_name = name;
  if (seed != 0) co.seed = static_cast<std::int64_t>(seed & 0x7fffffffffffffffULL);
  return llm::chat_body(p, msgs, co);
}

std::string exchange_text(const Exchange& e) {
  std::string s = "User: " + e.user;
  if (!e.assistant.empty()) s += "\nAssistant: " + e.assistant;
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The answer's JSON object, or the reason there is none.
std::optional<json> object_of(const std::string& content, std::string& why) {
  auto got = llm::extract_json(content);
  if (!got.value) {
    why = "no JSON object in the answer" + (got.error.empty() ? std::string() : " (" + got.error + ")");
    return std::nullopt;
  }
  return std::move(*got.value);
}

std::string clean_name(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return std::string(trim(s));
}

}  // namespace

std::filesystem::path default_prompts_dir() { return persona::stdlib_dir() / "prompts"; }

const char* to_string(Label l) {
  switch (l) {
    case Label::non:
      return "non";
    case Label::partial:
      return "partial";
    case Label::full:
      return "full";
  }
  return "?";
}

std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error) {
  Templates t;
  std::string all;
  auto load = [&](const char* name, Template& out) {
    const auto rd = files::read(dir / name, {.max_bytes = 1u << 20, .require_utf8 = true});
    if (!rd.ok()) {
      error = rd.error;
      return false;
    }
    const std::string& text = *rd.text;
    all += text;
    all += '\0';
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
  if (!load("mine-classify.txt", t.classify) || !load("mine-extract.txt", t.extract) ||
      !load("mine-validate.txt", t.validate) || !load("mine-map.txt", t.map) || !load("mine-links.txt", t.links) ||
      !load("mine-repair.txt", t.repair))
    return std::nullopt;
  t.hash = files::sha256_hex(all).substr(0, 16);
  return t;
}

// ---- requests ----

json classify_body(const llm::Provider& p, const Templates& t, const Exchange& e, std::uint64_t seed) {
  static const json schema =
      object({{"label", {{"type", "string"}, {"enum", {"non", "partial", "full"}}}}, {"reason", {{"type", "string"}}}},
             {"label", "reason"});
  return body(p, t.classify, render(t.classify.user, {{"exchange", exchange_text(e)}}), schema, "mine_classify", seed);
}

json extract_body(const llm::Provider& p, const Templates& t, const Exchange& e, std::uint64_t seed) {
  static const json item =
      object({{"path", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 2}, {"maxItems", 5}}},
              {"value", {{"type", "string"}}},
              {"evidence", {{"type", "string"}}},
              {"description", {{"type", "string"}}}},
             {"path", "value", "evidence", "description"});
  static const json schema = object({{"attributes", {{"type", "array"}, {"items", item}}}}, {"attributes"});
  return body(p, t.extract, render(t.extract.user, {{"exchange", exchange_text(e)}, {"max", "12"}}), schema,
              "mine_extract", seed);
}

json validate_body(const llm::Provider& p, const Templates& t, const Exchange& e, const std::vector<Candidate>& c,
                   std::uint64_t seed) {
  static const json item =
      object({{"index", {{"type", "integer"}}}, {"keep", {{"type", "boolean"}}}, {"reason", {{"type", "string"}}}},
             {"index", "keep", "reason"});
  static const json schema = object({{"verdicts", {{"type", "array"}, {"items", item}}}}, {"verdicts"});
  std::string list;
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::string path;
    for (const auto& s : c[i].path) path += (path.empty() ? "" : " > ") + s;
    list += std::to_string(i) + ". " + path + (c[i].value.empty() ? "" : " = " + c[i].value) + "\n";
  }
  if (!list.empty()) list.pop_back();
  return body(p, t.validate, render(t.validate.user, {{"exchange", exchange_text(e)}, {"candidates", list}}), schema,
              "mine_validate", seed);
}

json map_body(const llm::Provider& p, const Templates& t, const std::string& top,
              const std::vector<std::string>& children, const std::vector<Category>& cats, std::uint64_t seed) {
  json names = json::array();
  std::string list;
  for (const auto& c : cats) {
    names.push_back(c.name);
    list += "- " + c.name + (c.description.empty() ? "" : ": " + c.description) + "\n";
  }
  names.push_back("NEW");
  if (!list.empty()) list.pop_back();
  const json schema = object({{"category", {{"type", "string"}, {"enum", names}}}, {"new_name", {{"type", "string"}}}},
                             {"category", "new_name"});
  std::string kids;
  for (std::size_t i = 0; i < children.size() && i < 12; ++i) kids += (i ? "; " : "") + children[i];
  return body(p, t.map, render(t.map.user, {{"categories", list}, {"node", top}, {"children", kids}}), schema,
              "mine_map", seed);
}

json links_body(const llm::Provider& p, const Templates& t, const std::string& parent_path,
                const std::vector<std::string>& children, const std::vector<std::string>& parents, std::uint64_t seed) {
  static const json item = object(
      {{"child", {{"type", "string"}}}, {"fits", {{"type", "boolean"}}}, {"better_parent", {{"type", "string"}}}},
      {"child", "fits", "better_parent"});
  static const json schema = object({{"links", {{"type", "array"}, {"items", item}}}}, {"links"});
  std::string kids, ps;
  for (const auto& c : children) kids += "- " + c + "\n";
  for (const auto& c : parents) ps += "- " + c + "\n";
  if (!kids.empty()) kids.pop_back();
  if (!ps.empty()) ps.pop_back();
  return body(p, t.links, render(t.links.user, {{"node", parent_path}, {"children", kids}, {"parents", ps}}), schema,
              "mine_links", seed);
}

json reask_body(const llm::Provider& p, const Templates& t, json b, const std::string& content,
                const std::string& why) {
  (void)p;
  const std::string repair = render(t.repair.user, {{"why", why}});
  // Every dialect keeps the conversation in "messages" (Anthropic's system prompt sits apart).
  if (b.contains("messages") && b["messages"].is_array()) {
    b["messages"].push_back({{"role", "assistant"}, {"content", content.empty() ? std::string("(empty)") : content}});
    b["messages"].push_back({{"role", "user"}, {"content", repair}});
  }
  return b;
}

// ---- answers ----

std::string check_classify(const std::string& content, json& out) {
  std::string why;
  auto j = object_of(content, why);
  if (!j) return why;
  if (!j->contains("label") || !(*j)["label"].is_string()) return "\"label\" is missing or not a string";
  const std::string l = lower(trim((*j)["label"].get<std::string>()));
  if (l != "non" && l != "partial" && l != "full") return "\"label\" is \"" + l + "\", not one of non, partial, full";
  out = {{"label", l}};
  return {};
}

std::string check_extract(const std::string& content, const Exchange& e, json& out) {
  std::string why;
  auto j = object_of(content, why);
  if (!j) return why;
  if (!j->contains("attributes") || !(*j)["attributes"].is_array()) return "\"attributes\" is missing or not an array";
  out = {{"attributes", json::array()}};
  const std::string hay = lower(e.user + "\n" + e.assistant);
  for (std::size_t i = 0; i < (*j)["attributes"].size(); ++i) {
    const json& a = (*j)["attributes"][i];
    const std::string at = "attribute " + std::to_string(i + 1);
    if (!a.is_object()) return at + " is not an object";
    if (!a.contains("path") || !a["path"].is_array()) return at + ": \"path\" is missing or not an array";
    json path = json::array();
    for (const auto& s : a["path"]) {
      if (!s.is_string()) return at + ": a path level is not a string";
      std::string n = clean_name(s.get<std::string>());
      if (n.empty()) return at + ": an empty path level";
      if (n.size() > 200) return at + ": a path level longer than 200 bytes";
      path.push_back(n);
    }
    if (path.size() < 2 || path.size() > 5)
      return at + ": the path has " + std::to_string(path.size()) + " levels, not 2 to 5";
    auto str = [&](const char* key) {
      return a.contains(key) && a[key].is_string() ? clean_name(a[key].get<std::string>()) : std::string();
    };
    const std::string evidence = str("evidence");
    out["attributes"].push_back({{"path", path},
                                 {"value", str("value")},
                                 {"evidence", evidence},
                                 {"description", str("description")},
                                 {"found", !evidence.empty() && hay.find(lower(evidence)) != std::string::npos}});
  }
  return {};
}

std::string check_validate(const std::string& content, std::size_t candidates, json& out) {
  std::string why;
  auto j = object_of(content, why);
  if (!j) return why;
  if (!j->contains("verdicts") || !(*j)["verdicts"].is_array()) return "\"verdicts\" is missing or not an array";
  std::vector<int> keep(candidates, -1);
  for (const auto& v : (*j)["verdicts"]) {
    if (!v.is_object() || !v.contains("index") || !v["index"].is_number_integer() || !v.contains("keep") ||
        !v["keep"].is_boolean())
      return "a verdict without an integer \"index\" and a boolean \"keep\"";
    const auto i = v["index"].get<long long>();
    if (i < 0 || static_cast<std::size_t>(i) >= candidates)
      return "verdict index " + std::to_string(i) + " is not a candidate (0.." + std::to_string(candidates - 1) + ")";
    keep[static_cast<std::size_t>(i)] = v["keep"].get<bool>() ? 1 : 0;
  }
  for (std::size_t i = 0; i < candidates; ++i)
    if (keep[i] < 0) return "no verdict for candidate " + std::to_string(i);
  out = {{"keep", keep}};
  return {};
}

std::string check_map(const std::string& content, const std::vector<Category>& cats, json& out) {
  std::string why;
  auto j = object_of(content, why);
  if (!j) return why;
  if (!j->contains("category") || !(*j)["category"].is_string()) return "\"category\" is missing or not a string";
  const std::string c = clean_name((*j)["category"].get<std::string>());
  if (c == "NEW") {
    const std::string n = j->contains("new_name") && (*j)["new_name"].is_string()
                              ? clean_name((*j)["new_name"].get<std::string>())
                              : std::string();
    if (n.empty()) return "\"NEW\" without a \"new_name\"";
    out = {{"category", "NEW"}, {"new_name", n}};
    return {};
  }
  for (const auto& cat : cats)
    if (cat.name == c) {
      out = {{"category", c}};
      return {};
    }
  return "\"category\" \"" + c + "\" is not one of the listed categories or NEW";
}

std::string check_links(const std::string& content, const std::vector<std::string>& children,
                        const std::vector<std::string>& parents, json& out) {
  std::string why;
  auto j = object_of(content, why);
  if (!j) return why;
  if (!j->contains("links") || !(*j)["links"].is_array()) return "\"links\" is missing or not an array";
  std::set<std::string> kids(children.begin(), children.end()), ps(parents.begin(), parents.end());
  out = {{"moves", json::array()}};
  for (const auto& l : (*j)["links"]) {
    if (!l.is_object() || !l.contains("child") || !l["child"].is_string() || !l.contains("fits") ||
        !l["fits"].is_boolean())
      return "a link without a string \"child\" and a boolean \"fits\"";
    const std::string c = clean_name(l["child"].get<std::string>());
    if (!kids.contains(c)) return "\"" + c + "\" is not one of the children";
    if (l["fits"].get<bool>()) continue;
    const std::string to = l.contains("better_parent") && l["better_parent"].is_string()
                               ? clean_name(l["better_parent"].get<std::string>())
                               : "";
    if (to.empty()) continue;  // misplaced, but nowhere better: kept where it is
    if (!ps.contains(to)) return "better_parent \"" + to + "\" is not one of the existing nodes";
    out["moves"].push_back({{"child", c}, {"to", to}});
  }
  return {};
}

}  // namespace persona::mine
