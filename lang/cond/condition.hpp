// Conditions: the small boolean language shared by recipe `when` clauses and taxonomy
// applicability rules.
//
//   age >= 16
//   employment in (employed, unemployed) and age < 70
//   not gender = male or country = "Kenya"
//
// Operators: = != < <= > >= in, `not in`; combinators: and, or, not, parentheses.
// Values: numbers, bare words or quoted strings. A condition on a fact the persona does not have
// is treated as satisfied (it cannot rule the attribute out).
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
  enum class Kind { compare, all, any, negate };
  Kind kind = Kind::compare;
  // compare
  std::string var;
  Op op = Op::eq;
  std::vector<Value> values;  // one value, or the list of `in`
  // all / any / negate
  std::vector<Condition> kids;
  SourceRange where;
};

// The facts a condition is evaluated against: anchor names to values.
using Facts = std::map<std::string, Value, std::less<>>;

bool evaluate(const Condition& c, const Facts& facts);

// Parses a whole condition. Errors go to the sink with positions offset by `origin` (the place
// of the condition's first character in its file); nullopt on error.
std::optional<Condition> parse(std::string_view text, const SourceRange& origin, DiagnosticSink& sink);

// Canonical text, e.g. "age >= 16 and employment in (employed, student)".
std::string to_string(const Condition& c);

// Every variable the condition reads.
void collect_vars(const Condition& c, std::vector<std::string>& out);

}  // namespace persona::cond
