// Error messages for the grammar's must<> points, one per rule (PEGTL's must_if). The parser's
// control class uses must_if<error, normal, true>: a must<> point without a message here is a
// compile-time error (static_assert in must_if::raise), so every syntax error has a written message.
#pragma once

#include "syntax/grammar.hpp"

namespace persona::lang::grammar {

template <typename>
inline constexpr const char* error_message = nullptr;

// clang-format off
template <> inline constexpr auto error_message<escape_code> = "unknown escape sequence; use \\n \\t \\r \\\" \\\\ \\0 \\{ \\} or \\uXXXX (not \\uD800..\\uDFFF, UTF-16 surrogates that are no character: write the character itself)";
template <> inline constexpr auto error_message<dq_body> = "unterminated string: expected '\"' before the end of the line";
template <> inline constexpr auto error_message<tq_body> = "unterminated triple-quoted string: expected '\"\"\"'";
template <> inline constexpr auto error_message<string_lit> = "expected a quoted string";
template <> inline constexpr auto error_message<number> = "expected a number";
template <> inline constexpr auto error_message<name> = "expected a name (letters, digits, '_' or '-'; not a keyword)";
template <> inline constexpr auto error_message<dotted> = "expected a name such as stdlib.age_structure";
template <> inline constexpr auto error_message<range> = "expected a range such as 18..90";
template <> inline constexpr auto error_message<range_or_number> = "expected a number or a range such as 200..250";
template <> inline constexpr auto error_message<pegtl::one<')'>> = "expected ')'";
template <> inline constexpr auto error_message<pegtl::one<'('>> = "expected '('";
template <> inline constexpr auto error_message<pegtl::one<'{'>> = "expected '{'";
template <> inline constexpr auto error_message<pegtl::one<'}'>> = "expected '}'";
template <> inline constexpr auto error_message<pegtl::one<'='>> = "expected '='";
template <> inline constexpr auto error_message<pegtl::one<':'>> = "expected ':' between the label and its weight";
template <> inline constexpr auto error_message<cond_value> = "expected a value: a number, a word or a quoted string";
template <> inline constexpr auto error_message<cond_rhs> = "expected a comparison: = != < <= > >= in (...) or not in (...)";
template <> inline constexpr auto error_message<condition> = "expected a condition such as age >= 16";
template <> inline constexpr auto error_message<not_expr> = "expected a condition such as age >= 16";
template <> inline constexpr auto error_message<and_expr> = "expected a condition after 'or'";
template <> inline constexpr auto error_message<cond_end> = "unexpected text after the condition";
template <> inline constexpr auto error_message<choice_list> = "expected a choice 'label: weight'";
template <> inline constexpr auto error_message<distribution> = "expected a distribution: { a: 0.5, b: 0.5 }, table NAME, uniform(a, b), normal(mean, sd) or a distribution name";
template <> inline constexpr auto error_message<anchor_def> = "expected '=' (a fixed value) or '~' (a distribution) after the anchor name";
template <> inline constexpr auto error_message<fixed_value> = "expected a fixed value: a quoted string or a number";
template <> inline constexpr auto error_message<taxonomy_ref> = "expected a taxonomy: a stdlib name such as stdlib.core or a quoted file path";
template <> inline constexpr auto error_message<kw_llm> = "expected 'llm' after '<-'";
template <> inline constexpr auto error_message<story_close> = "expected a story step 'NAME <- llm \"instruction\"' or '}'";
template <> inline constexpr auto error_message<attributes_close> = "expected an attributes setting (count, tiers, walk, include, exclude, always, batch, context) or '}'";
template <> inline constexpr auto error_message<population_close> = "expected a population setting (calibrate ANCHORS [to table NAME], oversample CONDITION x FACTOR) or '}'";
template <> inline constexpr auto error_message<kw_table> = "expected 'table' after 'to' (calibrate ANCHORS to table NAME)";
template <> inline constexpr auto error_message<oversample_factor> = "expected 'x FACTOR' after the oversample condition (oversample region = Wales x 3)";
template <> inline constexpr auto error_message<output_close> = "expected an output setting 'KEY VALUE' or '}'";
template <> inline constexpr auto error_message<kw_near> = "expected 'near' (tiers near N, mid N, far N)";
template <> inline constexpr auto error_message<kw_mid> = "expected 'mid' (tiers near N, mid N, far N)";
template <> inline constexpr auto error_message<kw_far> = "expected 'far' (tiers near N, mid N, far N)";
template <> inline constexpr auto error_message<walk_kind> = "expected a walk strategy: random-bfs, bfs or dfs";
template <> inline constexpr auto error_message<prefer_kind> = "expected a preference: long-tail or none";
template <> inline constexpr auto error_message<filter_glob> = "expected a quoted path glob such as \"Lifestyle and Daily Routine/**\" or *";
template <> inline constexpr auto error_message<panel_glob> = "expected a quoted path glob such as \"Lifestyle and Daily Routine/Money Habits/**\" after 'always'";
template <> inline constexpr auto error_message<narrative_voice> = "expected a narrative voice: first-person, third-person or none";
template <> inline constexpr auto error_message<kw_words> = "expected 'words' after the word count";
template <> inline constexpr auto error_message<param_value> = "expected a value: a number, a word or a quoted string";
template <> inline constexpr auto error_message<param_gap> = "expected a value after the setting name";
template <> inline constexpr auto error_message<field> = "expected a field name";
template <> inline constexpr auto error_message<tone_value> = "expected a tone such as negative, or random(positive, negative, neutral)";
template <> inline constexpr auto error_message<end_of_recipe> = "expected a statement: recipe, import, extends, taxonomy, seed, table, distribution, anchor, story, attributes, population, narrative, model or output";
// clang-format on

// opt<> and star<> (and ws, tier_sep, built on them) always succeed, so must<> can never raise on
// them; it still instantiates their raise(), so they need an entry, which can never be shown.
inline constexpr const char* cannot_fail = "internal error: a rule that cannot fail failed";
template <typename... R>
inline constexpr const char* error_message<pegtl::opt<R...>> = cannot_fail;
template <typename... R>
inline constexpr const char* error_message<pegtl::star<R...>> = cannot_fail;
template <>
inline constexpr const char* error_message<ws> = cannot_fail;
template <>
inline constexpr const char* error_message<tier_sep> = cannot_fail;

struct error {
  template <typename Rule>
  static constexpr auto message = error_message<Rule>;
  // Messages apply only where the grammar says must<>; elsewhere a rule may fail and backtrack.
  template <typename Rule>
  static constexpr bool raise_on_failure = false;
};

}  // namespace persona::lang::grammar
