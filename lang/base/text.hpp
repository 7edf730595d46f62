// Text helpers used by every stage: case folding, trimming, word splitting, number formatting and
// UTF-8 checks. Written once here; nothing else in the project re-implements them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace persona::text {

// ASCII lower case (bytes >= 0x80 are kept as they are).
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::string join(const std::vector<std::string>& items, std::string_view sep);
std::vector<std::string> split(std::string_view s, char sep);

// Whether `word` (a word or phrase) occurs in `text` between non-alphanumeric boundaries. Exact
// bytes: lower-case both sides first for a case-insensitive match.
bool contains_word(std::string_view text, std::string_view word);

// A name folded for comparison: ASCII letters and digits lower-cased, other ASCII dropped, bytes >=
// 0x80 kept ("Punctuality at Work!" -> "punctualityatwork").
std::string fold(std::string_view name);

// Calls fn(word) for every word of `text`: runs of ASCII letters/digits and bytes >= 0x80, lower-cased,
// with a split at a lower->upper case change ("CamelCase" -> "camel", "case"). `cur` is a reusable
// buffer. The one tokeniser of the project (similarity, selection, eval).
template <typename Fn>
void for_each_word(std::string_view text, std::string& cur, Fn&& fn) {
  cur.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
      cur.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      if (!cur.empty() && i > 0 && text[i - 1] >= 'a' && text[i - 1] <= 'z') {
        fn(std::string_view(cur));
        cur.clear();
      }
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!cur.empty()) {
      fn(std::string_view(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) fn(std::string_view(cur));
  cur.clear();
}
std::vector<std::string> words(std::string_view text);
// Number of whitespace-separated words.
std::size_t word_count(std::string_view text);

// The one number format of the project (JSON, prompts, narratives, CSV): integers without a
// decimal point ("29"), other finite values in the shortest form that reads back exactly
// ("0.503"), non-finite as "null".
std::string format_number(double d);
void append_number(std::string& out, double d);

// UTF-8: the byte offset of the first invalid sequence, or nullopt when `s` is valid UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::optional<std::size_t> utf8_error(std::string_view s);
inline bool utf8_valid(std::string_view s) { return !utf8_error(s).has_value(); }
// `s` cut to at most max_bytes without splitting a character.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);
// Invalid sequences replaced by U+FFFD, so the result is always valid UTF-8.
std::string utf8_sanitize(std::string_view s);

// JSON string escaping (without the surrounding quotes), appended to out.
void json_escape(std::string_view s, std::string& out);

}  // namespace persona::text
