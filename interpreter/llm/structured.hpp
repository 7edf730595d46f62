// Structured output: JSON schemas for a batch of attribute slots, tolerant extraction of a JSON
// object from model text, and validation of the keys that came back.
//
//   auto schema = slots_schema({"occupation", "hobby"});
//   auto body = chat_body(provider, msgs, {.schema = &schema});
//   ... response.content ...
//   auto got = extract_json(response.content);
//   auto v = validate(*got.value, {"occupation", "hobby"});   // v.missing -> ask again for those
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace persona::llm {

struct SlotSpec {
  std::string key;
  std::string description;           // optional; becomes the property's "description"
  std::vector<std::string> choices;  // optional; becomes "enum" (null always allowed)
};

// A strict schema: {"type":"object","properties":{key:{"type":["string","null"]}...},
//                   "required":[keys...],"additionalProperties":false}
// A slot irrelevant to the persona is expected back as null.
nlohmann::json slots_schema(const std::vector<std::string>& keys);
nlohmann::json slot_specs_schema(const std::vector<SlotSpec>& slots);

struct Extracted {
  std::optional<nlohmann::json> value;  // always an object when set
  bool repaired = false;                // text needed more than locating the object
  std::string error;                    // why nothing could be extracted
};

// Walks JSON text from `from` (usually a '{'), outside strings (escapes honoured), and calls
// on(ch, depth, i) for each '{', '[', '}', ']' and ',' at index i; depth is the nesting after the
// character ('{' at the start: 1; its closing '}': 0). The walk stops when `on` returns false.
// One scanner for every place that needs the structure of a possibly cut answer.
template <typename On>
void walk_json_structure(std::string_view text, std::size_t from, On&& on) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = from; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    else if (c != ',')
      continue;
    if (!on(c, depth, i)) return;
  }
}

// Finds a JSON object in free text (code fences, prose around it), repairs common faults
// (trailing commas, single quotes, smart quotes, unquoted keys, comments, unclosed strings/braces
// at the end of a truncated answer) and parses it. Never throws.
Extracted extract_json(std::string_view text);

struct Validation {
  std::vector<std::string> present;  // a non-empty value (string, number or bool)
  std::vector<std::string> nulls;    // null or empty string: "not applicable"
  std::vector<std::string> missing;  // absent or of an unusable type (array, object)
  std::vector<std::string> extra;    // keys that were not asked for
  [[nodiscard]] bool complete() const { return missing.empty(); }
};

// Sorts the asked keys of `obj` into present / nulls / missing (in the order of `keys`).
Validation validate(const nlohmann::json& obj, const std::vector<std::string>& keys);

// The value of a present key as a string (numbers and bools converted); nullopt otherwise.
std::optional<std::string> slot_value(const nlohmann::json& obj, const std::string& key);

}  // namespace persona::llm
