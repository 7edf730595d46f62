#include "cond/condition.hpp"

#include <cmath>
#include <cstdio>

namespace persona::cond {

namespace {

// Numbers compare numerically; a string that reads as a number compares as one.
std::optional<double> as_number(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  const auto& s = std::get<std::string>(v);
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

bool equal(const Value& a, const Value& b) {
  const auto na = as_number(a);
  const auto nb = as_number(b);
  if (na && nb) return *na == *nb;
  if (std::holds_alternative<std::string>(a) && std::holds_alternative<std::string>(b))
    return std::get<std::string>(a) == std::get<std::string>(b);
  return false;
}

bool compare(const Condition& c, const Value& fact) {
  switch (c.op) {
    case Op::eq:
      return !c.values.empty() && equal(fact, c.values.front());
    case Op::ne:
      return c.values.empty() || !equal(fact, c.values.front());
    case Op::in:
      for (const auto& v : c.values)
        if (equal(fact, v)) return true;
      return false;
    case Op::not_in:
      for (const auto& v : c.values)
        if (equal(fact, v)) return false;
      return true;
    case Op::lt:
    case Op::le:
    case Op::gt:
    case Op::ge: {
      if (c.values.empty()) return false;
      const auto a = as_number(fact);
      const auto b = as_number(c.values.front());
      if (!a || !b) return false;
      if (c.op == Op::lt) return *a < *b;
      if (c.op == Op::le) return *a <= *b;
      if (c.op == Op::gt) return *a > *b;
      return *a >= *b;
    }
  }
  return false;
}

std::string value_text(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", *d);
    return buf;
  }
  const auto& s = std::get<std::string>(v);
  bool bare = !s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
      bare = false;
  static const char* const reserved[] = {"and", "or", "not", "in"};
  for (const char* r : reserved)
    if (s == r) bare = false;
  if (bare) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

const char* op_text(Op op) {
  switch (op) {
    case Op::eq:
      return "=";
    case Op::ne:
      return "!=";
    case Op::lt:
      return "<";
    case Op::le:
      return "<=";
    case Op::gt:
      return ">";
    case Op::ge:
      return ">=";
    case Op::in:
      return "in";
    case Op::not_in:
      return "not in";
  }
  return "=";
}

std::string to_string_prec(const Condition& c, int parent) {
  // precedence: any 1, all 2, negate/compare 3
  switch (c.kind) {
    case Condition::Kind::has:
      return "has " + c.var;
    case Condition::Kind::compare: {
      std::string s = c.var + (c.absent_ok ? "? " : " ") + op_text(c.op) + " ";
      if (c.op == Op::in || c.op == Op::not_in) {
        s += "(";
        for (std::size_t i = 0; i < c.values.size(); ++i) s += (i ? ", " : "") + value_text(c.values[i]);
        s += ")";
      } else if (!c.values.empty()) {
        s += value_text(c.values.front());
      }
      return s;
    }
    case Condition::Kind::negate:
      return "not " + to_string_prec(c.kids.front(), 3);
    case Condition::Kind::all:
    case Condition::Kind::any: {
      const int mine = c.kind == Condition::Kind::any ? 1 : 2;
      std::string s;
      for (std::size_t i = 0; i < c.kids.size(); ++i) {
        if (i) s += mine == 1 ? " or " : " and ";
        s += to_string_prec(c.kids[i], mine);
      }
      return mine < parent ? "(" + s + ")" : s;
    }
  }
  return {};
}

}  // namespace

namespace {

// Kleene's three-valued logic: a comparison on an absent fact is unknown.
enum class Truth { no, yes, unknown };

Truth truth(const Condition& c, const Facts& facts) {
  switch (c.kind) {
    case Condition::Kind::compare: {
      auto it = facts.find(c.var);
      if (it == facts.end()) return c.absent_ok ? Truth::yes : Truth::unknown;
      return compare(c, it->second) ? Truth::yes : Truth::no;
    }
    case Condition::Kind::has:
      return facts.find(c.var) != facts.end() ? Truth::yes : Truth::no;
    case Condition::Kind::all: {
      Truth out = Truth::yes;
      for (const auto& k : c.kids) {
        const Truth t = truth(k, facts);
        if (t == Truth::no) return Truth::no;
        if (t == Truth::unknown) out = Truth::unknown;
      }
      return out;
    }
    case Condition::Kind::any: {
      Truth out = Truth::no;
      for (const auto& k : c.kids) {
        const Truth t = truth(k, facts);
        if (t == Truth::yes) return Truth::yes;
        if (t == Truth::unknown) out = Truth::unknown;
      }
      return out;
    }
    case Condition::Kind::negate: {
      const Truth t = truth(c.kids.front(), facts);
      return t == Truth::unknown ? t : (t == Truth::yes ? Truth::no : Truth::yes);
    }
  }
  return Truth::unknown;
}

}  // namespace

bool evaluate(const Condition& c, const Facts& facts) { return truth(c, facts) == Truth::yes; }

std::string to_string(const Condition& c) { return to_string_prec(c, 0); }

void collect_vars(const Condition& c, std::vector<std::string>& out) {
  if (c.kind == Condition::Kind::compare || c.kind == Condition::Kind::has) {
    out.push_back(c.var);
    return;
  }
  for (const auto& k : c.kids) collect_vars(k, out);
}

}  // namespace persona::cond
