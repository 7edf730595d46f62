// The JSONL form of a persona record: writer (the output contract, byte for byte) and reader.
#include <cerrno>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/files.hpp"
#include "base/text.hpp"
#include "record/record.hpp"

namespace persona::record {

// ---------------------------------------------------------------------------------------------
// Value and record helpers

std::string Value::to_text() const {
  switch (kind) {
    case Kind::null:
      return {};
    case Kind::number:
      return text::format_number(number);
    case Kind::string:
      return text;
    case Kind::list:
      return text::join(items, "; ");
    case Kind::object: {
      std::string out;
      for (const auto& [k, v] : fields) {
        if (!out.empty()) out += "; ";
        out += k + "=" + (v.kind == Kind::list ? text::join(v.items, ", ") : v.to_text());
      }
      return out;
    }
  }
  return {};
}

bool Value::operator==(const Value& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::null:
      return true;
    case Kind::number:
      return number == o.number;
    case Kind::string:
      return text == o.text;
    case Kind::list:
      return items == o.items;
    case Kind::object:
      return fields == o.fields;
  }
  return false;
}

void PersonaRecord::clear() {
  id.clear();
  seed = 0;
  weight.reset();
  anchors.clear();
  core.clear();
  attributes.clear();
  narrative.clear();
  usage = {};
  problems.clear();
  extra.clear();
  has_core = has_narrative = has_usage = true;
}

const Value* PersonaRecord::anchor(std::string_view name) const {
  for (const auto& [k, v] : anchors)
    if (k == name) return &v;
  return nullptr;
}

const Value* PersonaRecord::core_value(std::string_view name) const {
  for (const auto& [k, v] : core)
    if (k == name) return &v;
  return nullptr;
}

bool PersonaRecord::operator==(const PersonaRecord& o) const {
  return id == o.id && seed == o.seed && weight == o.weight && anchors == o.anchors && core == o.core &&
         attributes == o.attributes && narrative == o.narrative && usage == o.usage && problems == o.problems &&
         extra == o.extra;
}

// ---------------------------------------------------------------------------------------------
// Writer

namespace {

// Every string written is valid UTF-8: an invalid sequence (a table label, an answer cut by a
// careless provider) becomes U+FFFD rather than a line no JSON reader accepts.
void put_string(std::string& out, std::string_view s) {
  out += '"';
  if (text::utf8_valid(s))
    text::json_escape(s, out);
  else
    text::json_escape(text::utf8_sanitize(s), out);
  out += '"';
}

void put_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_value(std::string& out, const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      out += "null";
      break;
    case Value::Kind::number:
      text::append_number(out, v.number);
      break;
    case Value::Kind::string:
      put_string(out, v.text);
      break;
    case Value::Kind::list:
      out += '[';
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) out += ',';
        put_string(out, v.items[i]);
      }
      out += ']';
      break;
    case Value::Kind::object:
      out += '{';
      for (std::size_t i = 0; i < v.fields.size(); ++i) {
        if (i > 0) out += ',';
        put_string(out, v.fields[i].first);
        out += ':';
        put_value(out, v.fields[i].second);
      }
      out += '}';
      break;
  }
}

void put_members(std::string& out, const std::vector<std::pair<std::string, Value>>& members) {
  out += '{';
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) out += ',';
    put_string(out, members[i].first);
    out += ':';
    put_value(out, members[i].second);
  }
  out += '}';
}

}  // namespace

void write_jsonl(const PersonaRecord& r, std::string& out) {
  out += "{\"id\":";
  put_string(out, r.id);
  out += ",\"seed\":";
  put_u64(out, r.seed);
  if (r.weight) {
    out += ",\"weight\":";
    text::append_number(out, *r.weight);
  }
  out += ",\"anchors\":";
  put_members(out, r.anchors);
  if (r.has_core) {
    out += ",\"core\":";
    put_members(out, r.core);
  }
  out += ",\"attributes\":[";
  for (std::size_t i = 0; i < r.attributes.size(); ++i) {
    const Attribute& a = r.attributes[i];
    if (i > 0) out += ',';
    out += "{\"path\":";
    put_string(out, a.path);
    out += ",\"value\":";
    if (a.value)
      put_string(out, *a.value);
    else
      out += "null";
    out += ",\"tier\":";
    put_string(out, a.tier);
    out += ",\"source\":";
    put_string(out, a.source);
    out += ",\"status\":";
    put_string(out, a.status);
    out += '}';
  }
  out += ']';
  if (r.has_narrative) {
    out += ",\"narrative\":";
    put_string(out, r.narrative);
  }
  if (r.has_usage) {
    out += ",\"usage\":{\"calls\":";
    put_u64(out, r.usage.calls);
    out += ",\"prompt_tokens\":";
    put_u64(out, r.usage.prompt_tokens);
    out += ",\"completion_tokens\":";
    put_u64(out, r.usage.completion_tokens);
    out += ",\"cached_tokens\":";
    put_u64(out, r.usage.cached_tokens);
    out += '}';
  }
  if (!r.problems.empty()) {
    out += ",\"problems\":[";
    for (std::size_t i = 0; i < r.problems.size(); ++i) {
      if (i > 0) out += ',';
      put_string(out, r.problems[i]);
    }
    out += ']';
  }
  for (const auto& [k, v] : r.extra) {
    out += ',';
    put_string(out, k);
    out += ':';
    out += v;
  }
  out += "}\n";
}

// ---------------------------------------------------------------------------------------------
// Parser

namespace {

using json = nlohmann::ordered_json;

bool to_value(const json& j, Value& v, std::string& error, std::string_view where) {
  v = Value{};
  if (j.is_null()) return true;
  if (j.is_number()) {
    v.kind = Value::Kind::number;
    v.number = j.get<double>();
    return true;
  }
  if (j.is_string()) {
    v.kind = Value::Kind::string;
    v.text = j.get<std::string>();
    return true;
  }
  if (j.is_boolean()) {
    v.kind = Value::Kind::string;
    v.text = j.get<bool>() ? "true" : "false";
    return true;
  }
  if (j.is_array()) {
    v.kind = Value::Kind::list;
    for (const auto& x : j) v.items.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    return true;
  }
  if (j.is_object()) {
    v.kind = Value::Kind::object;
    for (const auto& [k, x] : j.items()) {
      Value f;
      if (!to_value(x, f, error, where)) return false;
      v.fields.emplace_back(k, std::move(f));
    }
    return true;
  }
  error = std::string(where) + " has an unusable value";
  return false;
}

bool members(const json& j, const char* key, std::vector<std::pair<std::string, Value>>& out, std::string& error) {
  out.clear();
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_object()) {
    error = std::string("not a persona: '") + key + "' is not an object";
    return false;
  }
  for (const auto& [k, x] : it->items()) {
    Value v;
    if (!to_value(x, v, error, std::string(key) + "." + k)) return false;
    out.emplace_back(k, std::move(v));
  }
  return true;
}

std::uint64_t u64(const json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    return v < 0 ? 0 : static_cast<std::uint64_t>(v);
  }
  if (j.is_number_float()) {
    const double d = j.get<double>();
    return d > 0 && d < 1.8e19 ? static_cast<std::uint64_t>(d) : 0;
  }
  return 0;
}

}  // namespace

bool parse_jsonl(std::string_view line, PersonaRecord& r, std::string& error) {
  r.clear();
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) {
    error = "not JSON";
    return false;
  }
  if (!j.is_object()) {
    error = "not a persona: a JSON " + std::string(j.type_name()) + ", not an object";
    return false;
  }
  const auto id = j.find("id");
  if (id == j.end() || !id->is_string()) {
    error = "not a persona: 'id' is missing or not a string";
    return false;
  }
  const auto attrs = j.find("attributes");
  if (attrs == j.end() || !attrs->is_array()) {
    error = "not a persona: 'attributes' is missing or not an array";
    return false;
  }
  r.id = id->get<std::string>();
  if (auto s = j.find("seed"); s != j.end()) r.seed = u64(*s);
  if (auto w = j.find("weight"); w != j.end() && w->is_number()) r.weight = w->get<double>();
  if (!members(j, "anchors", r.anchors, error) || !members(j, "core", r.core, error)) return false;
  r.has_core = j.contains("core");
  r.has_narrative = j.contains("narrative");
  r.has_usage = j.contains("usage");
  r.attributes.reserve(attrs->size());
  std::size_t n = 0;
  for (const auto& a : *attrs) {
    ++n;
    if (!a.is_object() || !a.contains("path") || !a["path"].is_string()) {
      error = "not a persona: attribute " + std::to_string(n) + " has no 'path'";
      return false;
    }
    Attribute at;
    at.path = a["path"].get<std::string>();
    if (auto v = a.find("value"); v != a.end() && !v->is_null())
      at.value = v->is_string() ? v->get<std::string>() : v->dump();
    at.tier = a.value("tier", "");
    at.source = a.value("source", "");
    if (auto s = a.find("status"); s != a.end() && s->is_string())
      at.status = s->get<std::string>();
    else
      at.status = at.value ? "filled" : "";
    r.attributes.push_back(std::move(at));
  }
  if (auto nv = j.find("narrative"); nv != j.end() && nv->is_string()) r.narrative = nv->get<std::string>();
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    if (u->contains("calls")) r.usage.calls = u64((*u)["calls"]);
    if (u->contains("prompt_tokens")) r.usage.prompt_tokens = u64((*u)["prompt_tokens"]);
    if (u->contains("completion_tokens")) r.usage.completion_tokens = u64((*u)["completion_tokens"]);
    if (u->contains("cached_tokens")) r.usage.cached_tokens = u64((*u)["cached_tokens"]);
  }
  if (auto p = j.find("problems"); p != j.end() && p->is_array())
    for (const auto& x : *p) r.problems.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  static const char* known[] = {"id",         "seed",      "weight", "anchors", "core",
                                "attributes", "narrative", "usage",  "problems"};
  for (const auto& [k, v] : j.items()) {
    bool is_known = false;
    for (const char* kn : known) is_known = is_known || k == kn;
    if (!is_known) r.extra.emplace_back(k, v.dump());
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reader

JsonlReader::JsonlReader() = default;
JsonlReader::~JsonlReader() {
  if (f_ != nullptr && owned_) std::fclose(f_);
}

bool JsonlReader::open(const std::string& path) {
  if (path == "-") {
    f_ = stdin;
    owned_ = false;
    return true;
  }
  f_ = files::open_stream(path, error_);
  owned_ = true;
  return f_ != nullptr;
}

ReadStatus JsonlReader::next(PersonaRecord& r) {
  if (f_ == nullptr) return ReadStatus::io;
  for (;;) {
    buf_.clear();
    bool newline = false, too_long = false;
    std::size_t bytes = 0;
    int c;
    while ((c = getc_unlocked(f_)) != EOF) {
      ++bytes;
      if (c == '\n') {
        newline = true;
        break;
      }
      if (buf_.size() < max_line_)
        buf_.push_back(static_cast<char>(c));
      else
        too_long = true;
    }
    if (bytes == 0) {
      if (std::ferror(f_)) {
        error_ = std::string("read error: ") + std::strerror(errno);
        return ReadStatus::io;
      }
      return ReadStatus::end;
    }
    const std::uint64_t start = offset_;
    offset_ += bytes;
    ++line_;
    if (!newline) {
      error_ = "line " + std::to_string(line_) + " is incomplete (no final newline): a torn last line";
      good_ = start;
      return ReadStatus::torn;
    }
    good_ = offset_;
    if (text::trim(buf_).empty()) continue;  // blank lines are not records
    if (too_long) {
      error_ = "line " + std::to_string(line_) + " is longer than " + std::to_string(max_line_) + " bytes";
      return ReadStatus::bad;
    }
    std::string why;
    if (!parse_jsonl(buf_, r, why)) {
      error_ = "line " + std::to_string(line_) + ": " + why;
      return ReadStatus::bad;
    }
    return ReadStatus::ok;
  }
}

}  // namespace persona::record
