#include "llm/structured.hpp"

#include <cctype>

namespace persona::llm {

nlohmann::json slots_schema(const std::vector<std::string>& keys) {
  std::vector<SlotSpec> slots;
  slots.reserve(keys.size());
  for (const auto& k : keys) slots.push_back(SlotSpec{k, {}, {}});
  return slot_specs_schema(slots);
}

nlohmann::json slot_specs_schema(const std::vector<SlotSpec>& slots) {
  nlohmann::json props = nlohmann::json::object();
  nlohmann::json required = nlohmann::json::array();
  for (const auto& s : slots) {
    nlohmann::json p = {{"type", {"string", "null"}}};
    if (!s.description.empty()) p["description"] = s.description;
    if (!s.choices.empty()) {
      nlohmann::json e = nlohmann::json::array();
      for (const auto& c : s.choices) e.push_back(c);
      e.push_back(nullptr);
      p["enum"] = std::move(e);
    }
    props[s.key] = std::move(p);
    required.push_back(s.key);
  }
  return {{"type", "object"},
          {"properties", std::move(props)},
          {"required", std::move(required)},
          {"additionalProperties", false}};
}

namespace {

std::optional<nlohmann::json> parse_object(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// Matches the brace opened at text[open]; returns the index one past the closing brace, or npos.
std::size_t balanced_end(std::string_view text, std::size_t open) {
  std::size_t end = std::string_view::npos;
  walk_json_structure(text, open, [&](char c, int depth, std::size_t i) {
    if ((c == '}' || c == ']') && depth == 0) {
      end = i + 1;
      return false;
    }
    return true;
  });
  return end;
}

// UTF-8 smart quotes: U+201C/U+201D (double), U+2018/U+2019 (single).
int smart_quote(std::string_view t, std::size_t i) {
  if (i + 2 < t.size() && static_cast<unsigned char>(t[i]) == 0xE2 && static_cast<unsigned char>(t[i + 1]) == 0x80) {
    const auto c = static_cast<unsigned char>(t[i + 2]);
    if (c == 0x9C || c == 0x9D) return 2;
    if (c == 0x98 || c == 0x99) return 1;
  }
  return 0;
}

std::size_t skip_ws(std::string_view t, std::size_t i) {
  while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i])) != 0) ++i;
  return i;
}

bool closes_here(std::string_view t, std::size_t after) {
  const std::size_t j = skip_ws(t, after);
  return j >= t.size() || t[j] == ',' || t[j] == '}' || t[j] == ']' || t[j] == ':';
}

void strip_trailing_ws(std::string& s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.pop_back();
}

struct Cut {
  std::size_t pos;
  std::vector<char> stack;
};

std::string close_up(std::string s, const std::vector<char>& stack, bool in_string) {
  if (in_string) {
    if (!s.empty() && s.back() == '\\') s.pop_back();
    s += '"';
  }
  strip_trailing_ws(s);
  if (!s.empty() && s.back() == ':') s += " null";
  if (!s.empty() && s.back() == ',') s.pop_back();
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) s += (*it == '{') ? '}' : ']';
  return s;
}

// Rewrites almost-JSON into JSON; returns the parsed object or nullopt.
std::optional<nlohmann::json> repair(std::string_view t) {
  std::string out;
  out.reserve(t.size() + 16);
  std::vector<char> stack;
  std::vector<Cut> cuts;
  bool in_str = false;
  int closer = 0;  // 0 '"', 1 '\'', 2 smart double, 3 smart single
  std::size_t i = 0;
  bool finished = false;
  while (i < t.size() && !finished) {
    const char c = t[i];
    if (in_str) {
      const int sq = smart_quote(t, i);
      bool is_close = false;
      std::size_t width = 1;
      if (closer == 0 && c == '"') {
        is_close = closes_here(t, i + 1);
      } else if (closer == 1 && c == '\'') {
        is_close = closes_here(t, i + 1);
      } else if (closer == 2 && (sq == 2 || c == '"')) {
        width = sq == 2 ? 3 : 1;
        is_close = true;
      } else if (closer == 3 && (sq == 1 || c == '\'')) {
        width = sq == 1 ? 3 : 1;
        is_close = closes_here(t, i + width);
      }
      if (is_close) {
        out += '"';
        in_str = false;
        i += width;
        continue;
      }
      if (c == '\\' && i + 1 < t.size()) {
        const char n = t[i + 1];
        if (n == '\'') {
          out += '\'';
        } else if (std::string_view("\"\\/bfnrtu").find(n) != std::string_view::npos) {
          out += c;
          out += n;
        } else {
          out += "\\\\";
          out += n;
        }
        i += 2;
        continue;
      }
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (static_cast<unsigned char>(c) < 0x20) {
        out += ' ';
      } else {
        out += c;
      }
      ++i;
      continue;
    }
    // Outside strings.
    if (const int sq = smart_quote(t, i); sq != 0) {
      out += '"';
      in_str = true;
      closer = sq == 2 ? 2 : 3;
      i += 3;
      continue;
    }
    if (c == '"' || c == '\'') {
      out += '"';
      in_str = true;
      closer = c == '"' ? 0 : 1;
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
      while (i < t.size() && t[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
      const auto e = t.find("*/", i + 2);
      i = e == std::string_view::npos ? t.size() : e + 2;
      continue;
    }
    if (c == '{' || c == '[') {
      stack.push_back(c);
      out += c;
      ++i;
      continue;
    }
    if (c == '}' || c == ']') {
      strip_trailing_ws(out);
      if (!out.empty() && out.back() == ',') out.pop_back();
      if (!out.empty() && out.back() == ':') out += " null";
      if (!stack.empty()) {
        out += stack.back() == '{' ? '}' : ']';
        stack.pop_back();
      }
      ++i;
      if (stack.empty()) finished = true;
      continue;
    }
    if (c == ',') {
      strip_trailing_ws(out);
      if (!out.empty() && (out.back() == ',' || out.back() == '{' || out.back() == '[')) {
        ++i;  // doubled or leading comma
        continue;
      }
      cuts.push_back(Cut{out.size(), stack});
      out += c;
      ++i;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      std::size_t e = i;
      while (e < t.size() && (std::isalnum(static_cast<unsigned char>(t[e])) != 0 || t[e] == '_' || t[e] == '-')) ++e;
      const std::string word(t.substr(i, e - i));
      const std::size_t after = skip_ws(t, e);
      if (after < t.size() && t[after] == ':' && !stack.empty() && stack.back() == '{') {
        out += '"' + word + '"';
      } else if (word == "True" || word == "true") {
        out += "true";
      } else if (word == "False" || word == "false") {
        out += "false";
      } else if (word == "None" || word == "null" || word == "NULL" || word == "undefined") {
        out += "null";
      } else {
        out += word;  // a bare word: leave it, parsing will tell
      }
      i = e;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      ++i;
      continue;
    }
    out += c;
    ++i;
  }

  if (auto j = parse_object(close_up(out, stack, in_str))) return j;
  // Truncated in the middle of an element: drop elements from the end until it parses.
  for (auto it = cuts.rbegin(); it != cuts.rend() && it - cuts.rbegin() < 64; ++it) {
    if (auto j = parse_object(close_up(out.substr(0, it->pos), it->stack, false))) return j;
  }
  return std::nullopt;
}

std::string_view fenced(std::string_view text) {
  const auto f = text.find("```");
  if (f == std::string_view::npos) return text;
  std::size_t start = text.find('\n', f);
  if (start == std::string_view::npos) return text;
  ++start;
  const auto end = text.find("```", start);
  const std::string_view inner =
      text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  return inner.find('{') != std::string_view::npos ? inner : text;
}

Extracted extract_impl(std::string_view text, int depth) {
  Extracted r;
  if (auto j = parse_object(text)) {
    r.value = std::move(j);
    return r;
  }
  // A JSON string holding the object (double-encoded).
  if (depth == 0) {
    auto s = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!s.is_discarded() && s.is_string()) {
      auto inner = extract_impl(s.get_ref<const std::string&>(), 1);
      inner.repaired = true;
      if (inner.value) return inner;
    }
  }
  const std::string_view body = fenced(text);
  std::vector<std::size_t> opens;
  for (std::size_t i = 0; i < body.size() && opens.size() < 32; ++i) {
    if (body[i] == '{') opens.push_back(i);
  }
  if (opens.empty()) {
    // Perhaps only the opening brace is missing ("key": "value", ...)?
    if (body.find(':') != std::string_view::npos && body.find('"') != std::string_view::npos) {
      const std::string wrapped = "{" + std::string(body) + "}";
      if (auto j = repair(wrapped)) {
        r.value = std::move(j);
        r.repaired = true;
        return r;
      }
    }
    r.error = "no JSON object in the answer";
    return r;
  }
  // The outermost object wins: an object nested in a span that fails to parse strictly is not the
  // answer (`{"answers": [{"n": 1, ...},],}` is one almost-JSON object, not `{"n": 1, ...}`), so such
  // spans go to the repair pass whole.
  std::size_t skip_until = 0;
  for (const std::size_t o : opens) {
    if (o < skip_until) continue;
    const std::size_t e = balanced_end(body, o);
    if (e == std::string_view::npos) continue;
    if (auto j = parse_object(body.substr(o, e - o))) {
      r.value = std::move(j);
      return r;
    }
    skip_until = e;
  }
  for (const std::size_t o : opens) {
    if (auto j = repair(body.substr(o))) {
      r.value = std::move(j);
      r.repaired = true;
      return r;
    }
  }
  r.error = "could not parse or repair the JSON object in the answer";
  return r;
}

}  // namespace

Extracted extract_json(std::string_view text) {
  try {
    return extract_impl(text, 0);
  } catch (const std::exception& e) {
    Extracted r;
    r.error = std::string("JSON extraction failed: ") + e.what();
    return r;
  }
}

Validation validate(const nlohmann::json& obj, const std::vector<std::string>& keys) {
  Validation v;
  if (!obj.is_object()) {
    v.missing = keys;
    return v;
  }
  for (const auto& k : keys) {
    const auto it = obj.find(k);
    if (it == obj.end()) {
      v.missing.push_back(k);
      continue;
    }
    const auto& val = *it;
    if (val.is_null()) {
      v.nulls.push_back(k);
    } else if (val.is_string()) {
      const auto& s = val.get_ref<const std::string&>();
      bool blank = true;
      for (char c : s) blank = blank && std::isspace(static_cast<unsigned char>(c)) != 0;
      (blank ? v.nulls : v.present).push_back(k);
    } else if (val.is_number() || val.is_boolean()) {
      v.present.push_back(k);
    } else {
      v.missing.push_back(k);
    }
  }
  for (const auto& [k, _] : obj.items()) {
    bool asked = false;
    for (const auto& a : keys) asked = asked || a == k;
    if (!asked) v.extra.push_back(k);
  }
  return v;
}

std::optional<std::string> slot_value(const nlohmann::json& obj, const std::string& key) {
  if (!obj.is_object()) return std::nullopt;
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    for (char c : s) {
      if (std::isspace(static_cast<unsigned char>(c)) == 0) return s;
    }
    return std::nullopt;
  }
  if (it->is_boolean()) return it->get<bool>() ? std::string("true") : std::string("false");
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  if (it->is_number()) return it->dump();
  return std::nullopt;
}

}  // namespace persona::llm
