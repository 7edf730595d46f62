// Conditions: the small boolean language shared by recipe `when` clauses and taxonomy
// applicability rules.
//
//   age >= 16
//   employment in (employed, unemployed) and age < 70
//   not gender = male or country = "Kenya"
//
// Operators: = != < <= > >= in, `not in`; combinators: and, or, not, parentheses.
// Values: numbers, bare words or quoted strings.
//
// Absent facts. A comparison on a fact the persona does not have is *unknown*: `not` keeps it
// unknown, `and` is false when any side is false, `or` is true when any side is true, and a
// condition that ends unknown counts as false. Two forms say what absence means:
//
//   has employment                     true when the persona has the fact
//   employment? in (student, retired)  true when the fact is absent, else the comparison
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "diag/diagnostic.hpp"

namespace persona::cond {

using Value = std::variant<double, std::string>;

enum class Op { eq, ne, lt, le, gt, ge, in, not_in };

struct Condition {
  enum class Kind { compare, all, any, negate, has };
  Kind kind = Kind::compare;
  // compare (and has: var only)
  std::string var;
  bool absent_ok = false;  // written `var?`: the comparison holds when the fact is absent
  Op op = Op::eq;
  std::vector<Value> values;  // one value, or the list of `in`
  // all / any / negate
  std::vector<Condition> kids;
  SourceRange where;
};

// The facts a condition is evaluated against: anchor names to values.
using Facts = std::map<std::string, Value, std::less<>>;

// True when the condition holds (an unknown outcome, from absent facts, is false).
bool evaluate(const Condition& c, const Facts& facts);

// The nesting limit of parentheses and `not` (the parser reports "nested too deeply" past it).
inline constexpr int max_nesting = 100;

// Parses a whole condition. Errors go to the sink with positions offset by `origin` (the place
// of the condition's first character in its file); nullopt on error.
std::optional<Condition> parse(std::string_view text, const SourceRange& origin, DiagnosticSink& sink);

// Canonical text, e.g. "age >= 16 and employment in (employed, student)".
std::string to_string(const Condition& c);

// Every variable the condition reads (`has` tests included).
void collect_vars(const Condition& c, std::vector<std::string>& out);

}  // namespace persona::cond
