// Rules files (`*.rules`: facts and option links) and `twins.toml` (classes of leaves with one
// meaning), parsed and checked against a loaded taxonomy. Format: docs/taxonomy-format.md.
#include "rules.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "base/text.hpp"
#include "detail.hpp"

namespace persona::tax {

namespace {

using detail::trim;

std::uint32_t col_of(std::string_view line, std::string_view part) {
  return static_cast<std::uint32_t>(part.data() - line.data()) + 1;
}

SourceRange at(const std::string& file, std::uint32_t lineno, std::string_view line, std::string_view part) {
  return SourceRange{file, lineno, col_of(line, part),
                     static_cast<std::uint32_t>(std::max<std::size_t>(part.size(), 1))};
}

std::optional<double> parse_double(std::string_view s) {
  s = trim(s);
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

// The position of the first ':' outside double quotes, or npos.
std::size_t colon_outside_quotes(std::string_view s) {
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == '\\' && quoted)
      ++i;
    else if (s[i] == ':' && !quoted)
      return i;
  }
  return std::string_view::npos;
}

std::optional<cond::Condition> parse_cond(std::string_view line, std::string_view text, std::uint32_t lineno,
                                          const std::string& file, DiagnosticSink& sink) {
  text = trim(text);
  const SourceRange origin = at(file, lineno, line, text);
  if (text.empty()) {
    sink.error(origin, "bad-condition", "an empty condition");
    return std::nullopt;
  }
  detail::CountingSink counting(sink);
  std::optional<cond::Condition> c;
  try {
    c = cond::parse(text, origin, counting);
  } catch (const std::exception& e) {
    counting.error(origin, "bad-condition", std::string("cannot parse the condition: ") + e.what());
  }
  if (!c && counting.errors == 0)
    sink.error(origin, "bad-condition", "cannot parse the condition '" + std::string(text) + "'");
  return c;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// `~` lines

std::optional<Weighting> parse_weighting(std::string_view line, std::string_view rest, std::uint32_t lineno,
                                         const std::string& file, const std::vector<ValueOption>& options,
                                         DiagnosticSink& sink) {
  Weighting w;
  const std::string_view body = trim(rest);
  w.text = std::string(body);
  w.where = at(file, lineno, line, body);
  auto starts = [&](std::string_view kw) {
    return body.size() >= kw.size() && body.substr(0, kw.size()) == kw &&
           (body.size() == kw.size() || body[kw.size()] == ' ' || body[kw.size()] == ':');
  };
  if (options.empty()) {
    sink.error(w.where, "orphan-weighting", "a '~' line must follow the '=' line that gives the options it weighs");
    return std::nullopt;
  }
  if (starts("uniform")) {
    w.kind = Weighting::Kind::uniform;
    const std::string_view after = trim(body.substr(7));
    if (after.empty() || after.front() != ':' || trim(after.substr(1)).empty()) {
      sink.error(w.where, "bad-weighting", "write '~ uniform: REASON' (why equal weights are right for this leaf)");
      return std::nullopt;
    }
    w.reason = std::string(trim(after.substr(1)));
    return w;
  }
  if (starts("table")) {
    w.kind = Weighting::Kind::table;
    std::string_view after = trim(body.substr(5));
    const std::size_t by = after.find(" by ");
    const std::string_view name = trim(after.substr(0, by));
    if (name.empty() || name.find(' ') != std::string_view::npos) {
      sink.error(w.where, "bad-weighting", "write '~ table NAME' or '~ table NAME by FACT, FACT'");
      return std::nullopt;
    }
    w.table = std::string(name);
    if (by != std::string_view::npos) {
      for (auto part : detail::split(after.substr(by + 4), ",")) {
        const auto f = trim(part);
        if (!is_identifier(f)) {
          sink.error(at(file, lineno, line, part.empty() ? after : part), "bad-weighting",
                     "'" + std::string(f) + "' is not a fact name");
          return std::nullopt;
        }
        w.by.emplace_back(f);
      }
    }
    return w;
  }
  if (!starts("when")) {
    sink.error(
        w.where, "bad-weighting",
        "a '~' line is '~ when CONDITION: OPTION @WEIGHT | ...', '~ table NAME by FACTS' or '~ uniform: REASON'");
    return std::nullopt;
  }
  w.kind = Weighting::Kind::when;
  const std::string_view after = body.substr(4);
  const std::size_t colon = colon_outside_quotes(after);
  if (colon == std::string_view::npos) {
    sink.error(w.where, "bad-weighting", "a '~ when' line needs ':' between the condition and the weights");
    return std::nullopt;
  }
  const std::string_view ctext = trim(after.substr(0, colon));
  auto c = parse_cond(line, ctext, lineno, file, sink);
  if (!c) return std::nullopt;
  w.condition = std::move(*c);
  w.condition_text = std::string(ctext);
  w.weights.assign(options.size(), 0.0);
  std::vector<bool> seen(options.size(), false);
  bool ok = true;
  double total = 0;
  for (std::string_view opt : detail::split(after.substr(colon + 1), "|")) {
    const std::string_view t = trim(opt);
    if (t.empty()) {
      sink.error(at(file, lineno, line, opt), "empty-option", "an empty option in a '~ when' line");
      ok = false;
      continue;
    }
    std::string_view label = t;
    double weight = 1.0;
    if (const auto a = t.rfind('@'); a != std::string_view::npos) {
      label = trim(t.substr(0, a));
      const auto wv = parse_double(t.substr(a + 1));
      if (!wv || *wv < 0) {
        sink.error(at(file, lineno, line, t.substr(a)), "bad-weight",
                   "bad weight '" + std::string(t.substr(a)) + "': expected '@' and a non-negative number");
        ok = false;
        continue;
      }
      weight = *wv;
    }
    std::optional<std::size_t> k;
    for (std::size_t i = 0; i < options.size(); ++i)
      if (options[i].label == label) k = i;
    if (!k) {
      std::vector<std::string> labels;
      for (const auto& o : options) labels.push_back(o.label);
      std::vector<std::string> notes;
      if (auto near = closest_match(label, labels); !near.empty()) notes.push_back("did you mean '" + near + "'?");
      sink.error(at(file, lineno, line, label), "unknown-option",
                 "'" + std::string(label) + "' is not one of the options of this line's node", std::move(notes));
      ok = false;
      continue;
    }
    if (seen[*k]) {
      sink.error(at(file, lineno, line, label), "duplicate-option", "'" + std::string(label) + "' is weighted twice");
      ok = false;
      continue;
    }
    seen[*k] = true;
    w.weights[*k] = weight;
    total += weight;
  }
  if (ok && total <= 0) {
    sink.error(w.where, "zero-weights", "the weights of a '~ when' line do not form a distribution (they sum to 0)");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return w;
}

// ---------------------------------------------------------------------------------------------
// Books

std::optional<std::size_t> FactDecl::label_index(std::string_view text) const {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].label == text) return i;
  const std::string f = text::fold(text);
  if (f.empty()) return std::nullopt;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (text::fold(values[i].label) == f) return i;
  for (std::size_t i = 0; i < aliases.size(); ++i)
    for (const auto& a : aliases[i])
      if (text::fold(a) == f) return i;
  return std::nullopt;
}

const FactDecl* RuleBook::fact(std::string_view name) const {
  for (const auto& f : facts)
    if (f.name == name) return &f;
  return nullptr;
}

std::optional<std::size_t> RuleBook::fact_index(std::string_view name) const {
  for (std::size_t i = 0; i < facts.size(); ++i)
    if (facts[i].name == name) return i;
  return std::nullopt;
}

const LeafRules* RuleBook::leaf(Vertex v) const {
  for (const auto& l : leaves)
    if (l.leaf == v) return &l;
  return nullptr;
}

namespace {

const RuleBook& empty_rules() {
  static const RuleBook b;
  return b;
}
const TwinBook& empty_twins() {
  static const TwinBook b;
  return b;
}

}  // namespace

const RuleBook& Taxonomy::rules() const { return rules_ ? *rules_ : empty_rules(); }
const TwinBook& Taxonomy::twins() const { return twins_ ? *twins_ : empty_twins(); }
void Taxonomy::set_rules(std::shared_ptr<const RuleBook> rules) { rules_ = std::move(rules); }
void Taxonomy::set_twins(std::shared_ptr<const TwinBook> twins) {
  twins_ = std::move(twins);
  assign_meanings();
}

void Taxonomy::assign_meanings() {
  const std::size_t n = size();
  meaning_.assign(n, 0);
  std::unordered_map<std::string, std::uint32_t> ids;
  std::vector<std::int64_t> cls(n, -1);
  if (twins_)
    for (std::size_t c = 0; c < twins_->classes.size(); ++c)
      for (Vertex v : twins_->classes[c].leaves)
        if (v < n) cls[v] = static_cast<std::int64_t>(c);
  for (Vertex v : preorder_) {
    // A class takes the id of its first member's folded name, so every member shares it.
    std::string key = cls[v] >= 0
                          ? fold_name((*g_)[twins_->classes[static_cast<std::size_t>(cls[v])].leaves.front()].name)
                          : fold_name((*g_)[v].name);
    meaning_[v] = ids.emplace(std::move(key), static_cast<std::uint32_t>(ids.size())).first->second;
  }
  meaning_count_ = ids.size();
}

// ---------------------------------------------------------------------------------------------
// Rules files

namespace {

struct RawLeaf {
  std::string pattern;
  SourceRange where;
  std::string family;
  std::string statement;
  struct Link {
    std::vector<std::pair<std::string, SourceRange>> labels;
    cond::Condition condition;
    std::string text;
    SourceRange where;
  };
  std::vector<Link> links;
};

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

struct RulesParser {
  DiagnosticSink& sink;
  RuleBook& book;
  std::vector<RawLeaf>& leaves;
  std::size_t errors = 0;

  void error(SourceRange where, const std::string& code, const std::string& msg, std::vector<std::string> notes = {}) {
    sink.error(std::move(where), code, msg, std::move(notes));
    ++errors;
  }

  void parse(std::string_view text, const std::string& file) {
    if (!detail::check_text(text, file, sink)) {
      ++errors;
      return;
    }
    std::string family = std::filesystem::path(file).stem().string();
    // Indices, not pointers: the vectors grow while parsing.
    std::size_t fact = kNone, leaf = kNone;
    std::uint32_t lineno = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const std::string_view content = trim(line);
      if (content.empty() || content.front() == '#') continue;
      std::size_t ws = 0;
      while (ws < line.size() && (line[ws] == ' ' || line[ws] == '\t')) ++ws;
      if (line.substr(0, ws).find('\t') != std::string_view::npos) {
        error({file, lineno, 1, 1}, "tab-indent", "indentation uses a tab; indent with 2 spaces");
        continue;
      }
      if (ws != 0 && ws != 2) {
        error({file, lineno, 1, static_cast<std::uint32_t>(ws)}, "bad-indent",
              "a rules file has two levels: declarations at the margin, their lines indented by 2 spaces");
        continue;
      }
      if (ws == 0) {
        fact = kNone;
        leaf = kNone;
        top_line(line, content, lineno, file, family, fact, leaf);
      } else if (fact != kNone) {
        fact_line(line, content, lineno, file, book.facts[fact]);
      } else if (leaf != kNone) {
        leaf_line(line, content, lineno, file, leaves[leaf]);
      } else {
        error(at(file, lineno, line, content), "orphan-line", "an indented line must follow a 'fact' or 'leaf' line");
      }
    }
  }

  void top_line(std::string_view line, std::string_view content, std::uint32_t lineno, const std::string& file,
                std::string& family, std::size_t& fact, std::size_t& leaf) {
    const std::size_t sp = content.find(' ');
    const std::string_view kw = content.substr(0, sp);
    const std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(content.substr(sp + 1));
    if (kw == "family") {
      if (!is_identifier(rest)) {
        error(at(file, lineno, line, rest.empty() ? content : rest), "bad-name", "write 'family NAME' (a word)");
        return;
      }
      family = std::string(rest);
    } else if (kw == "fact") {
      const std::size_t bar = rest.find('|');
      const std::string_view name = trim(rest.substr(0, bar));
      if (!is_identifier(name)) {
        error(at(file, lineno, line, name.empty() ? content : name), "bad-name",
              "a fact name is a word of letters, digits and '_' (it is used in conditions)");
        return;
      }
      if (const FactDecl* old = book.fact(name)) {
        error(at(file, lineno, line, name), "duplicate-fact", "fact '" + std::string(name) + "' is declared twice",
              {"first declared at " + to_string(old->where)});
        return;
      }
      FactDecl f;
      f.name = std::string(name);
      if (bar != std::string_view::npos) f.description = std::string(trim(rest.substr(bar + 1)));
      f.where = at(file, lineno, line, name);
      f.bindings.push_back({f.name, std::nullopt, f.where});
      book.facts.push_back(std::move(f));
      fact = book.facts.size() - 1;
    } else if (kw == "leaf") {
      if (rest.empty()) {
        error(at(file, lineno, line, content), "bad-leaf", "write 'leaf PATH' (a full path or a glob such as **/Name)");
        return;
      }
      RawLeaf l;
      l.pattern = std::string(rest);
      l.where = at(file, lineno, line, rest);
      l.family = family;
      leaves.push_back(std::move(l));
      leaf = leaves.size() - 1;
    } else {
      error(at(file, lineno, line, kw), "unknown-keyword",
            "'" + std::string(kw) + "' is not a rules-file declaration (expected fact, leaf or family)");
    }
  }

  void fact_line(std::string_view line, std::string_view content, std::uint32_t lineno, const std::string& file,
                 FactDecl& f) {
    if (content.front() == '=') {
      for (std::string_view opt : detail::split(content.substr(1), "|")) {
        const std::string_view t = trim(opt);
        if (t.empty()) {
          error(at(file, lineno, line, opt), "empty-option", "an empty value");
          continue;
        }
        ValueOption o;
        std::string_view label = t;
        if (const auto a = t.rfind('@'); a != std::string_view::npos) {
          label = trim(t.substr(0, a));
          const auto wv = parse_double(t.substr(a + 1));
          if (!wv || *wv < 0) {
            error(at(file, lineno, line, t.substr(a)), "bad-weight",
                  "bad weight '" + std::string(t.substr(a)) + "': expected '@' and a non-negative number");
            continue;
          }
          o.weight = *wv;
          o.weighted = true;
        }
        if (label.empty() || label.find(':') != std::string_view::npos) {
          error(at(file, lineno, line, t), "bad-label", "a fact value is a non-empty label without ':'");
          continue;
        }
        o.label = std::string(label);
        for (const auto& old : f.values)
          if (text::fold(old.label) == text::fold(o.label))
            error(at(file, lineno, line, label), "duplicate-option", "'" + o.label + "' is a value of this fact twice");
        f.values.push_back(std::move(o));
        f.aliases.emplace_back();
      }
      return;
    }
    if (content.front() == '~') {
      detail::CountingSink counting(sink);
      auto w = parse_weighting(line, content.substr(1), lineno, file, f.values, counting);
      errors += counting.errors;
      if (w && w->kind == Weighting::Kind::uniform) {
        error(w->where, "bad-weighting", "'~ uniform' documents a leaf; a fact's weights come from '=' and '~' lines");
        return;
      }
      if (w) f.weightings.push_back(std::move(*w));
      return;
    }
    const std::size_t sp = content.find(' ');
    const std::string_view kw = content.substr(0, sp);
    const std::string_view rest = sp == std::string_view::npos ? std::string_view() : trim(content.substr(sp + 1));
    if (kw == "type") {
      if (rest == "number")
        f.type = FactDecl::Type::number;
      else if (rest == "category")
        f.type = FactDecl::Type::category;
      else
        error(at(file, lineno, line, rest.empty() ? content : rest), "bad-type",
              "write 'type number' or 'type category'");
    } else if (kw == "absent") {
      if (rest == "draw")
        f.absent = FactDecl::Absent::draw;
      else if (rest == "skip")
        f.absent = FactDecl::Absent::skip;
      else {
        error(at(file, lineno, line, rest.empty() ? content : rest), "bad-absent",
              "write 'absent draw' (drawn from the weights when no anchor gives it) or 'absent skip' (unknown: rules "
              "reading it are skipped and counted)");
        return;
      }
      absent_seen.insert(f.name);
    } else if (kw == "anchor") {
      const std::size_t arrow = rest.find("=>");
      const std::string_view name = trim(rest.substr(0, arrow));
      if (!is_identifier(name)) {
        error(at(file, lineno, line, name.empty() ? content : name), "bad-name",
              "write 'anchor NAME' or 'anchor NAME => VALUE'");
        return;
      }
      FactDecl::Binding b{std::string(name), std::nullopt, at(file, lineno, line, name)};
      if (arrow != std::string_view::npos) {
        const std::string_view label = trim(rest.substr(arrow + 2));
        b.value = f.label_index(label);
        if (!b.value) {
          error(at(file, lineno, line, label.empty() ? rest : label), "unknown-value",
                "fact '" + f.name + "' has no value '" + std::string(label) + "' (declare the '=' line first)");
          return;
        }
      }
      if (name == f.name)
        f.bindings.front() = b;
      else
        f.bindings.push_back(std::move(b));
    } else if (kw == "alias") {
      const std::size_t colon = rest.find(':');
      const std::string_view label = trim(rest.substr(0, colon));
      const auto k = f.label_index(label);
      if (colon == std::string_view::npos || !k) {
        error(at(file, lineno, line, label.empty() ? content : label), "unknown-value",
              "write 'alias VALUE: OTHER | OTHER' for a value of fact '" + f.name + "'");
        return;
      }
      for (auto a : detail::split(rest.substr(colon + 1), "|"))
        if (!trim(a).empty()) f.aliases[*k].emplace_back(trim(a));
    } else if (kw == "derive") {
      // derive N - FACT
      const std::size_t minus = rest.find(" - ");
      const auto n = minus == std::string_view::npos ? std::nullopt : parse_double(rest.substr(0, minus));
      const std::string_view src = minus == std::string_view::npos ? std::string_view() : trim(rest.substr(minus + 3));
      if (!n || !is_identifier(src)) {
        error(at(file, lineno, line, rest.empty() ? content : rest), "bad-derive",
              "write 'derive NUMBER - FACT' (e.g. 'derive 2025 - age')");
        return;
      }
      f.derive = FactDecl::Derive{*n, std::string(src), at(file, lineno, line, src)};
    } else {
      error(at(file, lineno, line, kw), "unknown-keyword",
            "'" + std::string(kw) + "' is not a fact line (expected '=', '~', type, anchor, alias, derive or absent)");
    }
  }

  void leaf_line(std::string_view line, std::string_view content, std::uint32_t lineno, const std::string& file,
                 RawLeaf& l) {
    if (content.substr(0, 4) == "say " || content == "say") {
      const std::string_view s = trim(content.substr(3));
      if (s.empty()) {
        error(at(file, lineno, line, content), "bad-say", "write 'say TEXT' (the rule in words)");
        return;
      }
      l.statement = std::string(s);
      return;
    }
    const std::size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
      error(at(file, lineno, line, content), "bad-link", "write 'OPTION | OPTION: CONDITION' or 'say TEXT'");
      return;
    }
    RawLeaf::Link link;
    for (auto part : detail::split(content.substr(0, colon), "|")) {
      const auto t = trim(part);
      if (t.empty()) {
        error(at(file, lineno, line, part.empty() ? content : part), "empty-option", "an empty option");
        continue;
      }
      link.labels.emplace_back(std::string(t), at(file, lineno, line, t));
    }
    const std::string_view ctext = trim(content.substr(colon + 1));
    auto c = parse_cond(line, ctext, lineno, file, sink);
    if (!c) {
      ++errors;
      return;
    }
    link.condition = std::move(*c);
    link.text = std::string(ctext);
    link.where = at(file, lineno, line, content);
    l.links.push_back(std::move(link));
  }

  std::set<std::string> absent_seen;
};

// Checks every variable and value of a condition against the declared facts.
struct ConditionChecker {
  const RuleBook& book;
  DiagnosticSink& sink;
  std::size_t errors = 0;

  void check(const cond::Condition& c, const SourceRange& fallback) {
    if (c.kind != cond::Condition::Kind::compare) {
      for (const auto& k : c.kids) check(k, fallback);
      return;
    }
    const SourceRange& where = c.where.line != 0 ? c.where : fallback;
    const FactDecl* f = book.fact(c.var);
    if (f == nullptr) {
      std::vector<std::string> names;
      for (const auto& d : book.facts) names.push_back(d.name);
      std::vector<std::string> notes;
      if (auto near = closest_match(c.var, names); !near.empty()) notes.push_back("did you mean '" + near + "'?");
      notes.push_back("declare it with 'fact " + c.var + " | ...' in a rules file");
      sink.error(where, "unknown-fact", "'" + c.var + "' is not a declared fact", std::move(notes));
      ++errors;
      return;
    }
    const bool ordered = c.op == cond::Op::lt || c.op == cond::Op::le || c.op == cond::Op::gt || c.op == cond::Op::ge;
    if (f->type == FactDecl::Type::number) {
      for (const auto& v : c.values)
        if (!std::holds_alternative<double>(v)) {
          sink.error(where, "bad-value", "fact '" + f->name + "' is a number; compare it with numbers");
          ++errors;
        }
      return;
    }
    if (f->values.empty()) {
      if (ordered) {
        sink.error(where, "bad-value", "fact '" + f->name + "' is a text; it cannot be compared with <, <=, > or >=");
        ++errors;
      }
      return;  // open text fact: any value may be compared
    }
    if (ordered) {
      for (const auto& o : f->values)
        if (!parse_double(o.label)) {
          sink.error(where, "bad-value",
                     "fact '" + f->name + "' has a value that is not a number ('" + o.label + "'); use = or in");
          ++errors;
          return;
        }
      return;
    }
    for (const auto& v : c.values) {
      std::string text;
      if (const auto* s = std::get_if<std::string>(&v))
        text = *s;
      else
        text = text::format_number(std::get<double>(v));
      bool found = f->label_index(text).has_value();
      if (!found && std::holds_alternative<double>(v))
        for (const auto& o : f->values)
          if (auto d = parse_double(o.label); d && *d == std::get<double>(v)) found = true;
      if (!found) {
        std::vector<std::string> labels;
        for (const auto& o : f->values) labels.push_back(o.label);
        std::vector<std::string> notes{"its values: " + text::join(labels, ", ")};
        if (auto near = closest_match(text, labels); !near.empty())
          notes.insert(notes.begin(), "did you mean '" + near + "'?");
        sink.error(where, "unknown-value", "fact '" + f->name + "' has no value '" + text + "'", std::move(notes));
        ++errors;
      }
    }
  }
};

}  // namespace

bool load_rules(Taxonomy& t, const std::vector<std::pair<std::string, std::string>>& files, DiagnosticSink& sink) {
  try {
    auto book = std::make_shared<RuleBook>();
    std::vector<RawLeaf> raw;
    RulesParser p{sink, *book, raw, 0, {}};
    for (const auto& [name, text] : files) {
      book->files.push_back(name);
      p.parse(text, name);
    }
    std::size_t errors = p.errors;
    // ---- facts ----
    for (auto& f : book->facts) {
      if (!p.absent_seen.count(f.name)) {
        sink.error(f.where, "missing-absent",
                   "say what fact '" + f.name + "' is when no anchor gives it: 'absent draw' or 'absent skip'");
        ++errors;
      }
      if (f.type == FactDecl::Type::number) {
        if (!f.values.empty() || !f.weightings.empty()) {
          sink.error(f.where, "bad-type",
                     "a number fact has no '=' or '~' lines (it comes from an anchor or 'derive')");
          ++errors;
        }
        if (f.absent == FactDecl::Absent::draw) {
          sink.error(f.where, "bad-absent", "a number fact cannot be drawn; write 'absent skip'");
          ++errors;
        }
      } else if (f.derive) {
        sink.error(f.derive->where, "bad-derive", "'derive' gives a number; add 'type number'");
        ++errors;
      }
      if (f.absent == FactDecl::Absent::draw && f.type == FactDecl::Type::category) {
        double total = 0;
        for (const auto& o : f.values) total += o.weight;
        if (f.values.empty() || total <= 0) {
          sink.error(f.where, "zero-weights",
                     "fact '" + f.name + "' is drawn ('absent draw') but its '=' weights do not form a distribution");
          ++errors;
        }
      }
      if (f.values.size() > 127) {  // coherence::kMaxLabels: a label set is one 128-bit mask
        sink.error(f.where, "too-many-values", "a fact has at most 127 values");
        ++errors;
      }
      if (f.derive) {
        const FactDecl* src = book->fact(f.derive->fact);
        if (src == nullptr || src->type != FactDecl::Type::number) {
          sink.error(f.derive->where, "unknown-fact",
                     "'derive' needs a number fact; '" + f.derive->fact + "' is not one");
          ++errors;
        }
      }
      for (const auto& w : f.weightings)
        if (w.kind == Weighting::Kind::table)
          for (const auto& b : w.by)
            if (!book->fact(b)) {
              sink.error(w.where, "unknown-fact", "the table is keyed by '" + b + "', which is not a declared fact");
              ++errors;
            }
    }
    ConditionChecker cc{*book, sink};
    for (const auto& f : book->facts)
      for (const auto& w : f.weightings)
        if (w.kind == Weighting::Kind::when) cc.check(w.condition, w.where);
    // ---- dependency order (Kahn, stable in file order) and cycles ----
    const std::size_t nf = book->facts.size();
    std::vector<std::vector<std::size_t>> deps(nf);
    for (std::size_t i = 0; i < nf; ++i) {
      const auto& f = book->facts[i];
      std::vector<std::string> vars;
      for (const auto& w : f.weightings) {
        if (w.kind == Weighting::Kind::when) cond::collect_vars(w.condition, vars);
        for (const auto& b : w.by) vars.push_back(b);
      }
      if (f.derive) vars.push_back(f.derive->fact);
      for (const auto& v : vars)
        if (auto k = book->fact_index(v); k && *k != i)
          deps[i].push_back(*k);
        else if (k && *k == i) {
          sink.error(f.where, "fact-cycle", "fact '" + f.name + "' is conditioned on itself");
          ++errors;
        }
    }
    std::vector<std::size_t> order;
    std::vector<bool> placed(nf, false);
    for (bool progress = true; progress && order.size() < nf;) {
      progress = false;
      for (std::size_t i = 0; i < nf; ++i) {
        if (placed[i]) continue;
        bool ready = true;
        for (auto d : deps[i]) ready = ready && placed[d];
        if (ready) {
          placed[i] = true;
          order.push_back(i);
          progress = true;
        }
      }
    }
    if (order.size() < nf) {
      for (std::size_t i = 0; i < nf; ++i) {
        if (placed[i]) continue;
        // Follow unplaced dependencies until one repeats: that is the cycle.
        std::vector<std::size_t> chain{i};
        std::size_t cur = i;
        for (std::size_t guard = 0; guard <= nf; ++guard) {
          std::size_t next = cur;
          for (auto d : deps[cur])
            if (!placed[d]) {
              next = d;
              break;
            }
          if (next == cur) break;
          const auto pos = std::find(chain.begin(), chain.end(), next) - chain.begin();
          const bool repeats = static_cast<std::size_t>(pos) < chain.size();
          chain.push_back(next);
          if (repeats) {
            chain.erase(chain.begin(), chain.begin() + pos);
            break;
          }
          cur = next;
        }
        std::string path;
        for (std::size_t k = 0; k < chain.size(); ++k) path += (k ? " -> " : "") + book->facts[chain[k]].name;
        sink.error(book->facts[chain.front()].where, "fact-cycle",
                   "the conditional weights of facts form a cycle: " + path,
                   {"a fact's '~ when' conditions and '~ table ... by' keys may only read facts drawn before it"});
        ++errors;
        for (auto c : chain) placed[c] = true;  // one report per cycle
      }
    } else {
      std::vector<FactDecl> sorted;
      sorted.reserve(nf);
      for (auto i : order) sorted.push_back(std::move(book->facts[i]));
      book->facts = std::move(sorted);
    }
    // ---- leaves ----
    std::map<Vertex, SourceRange> seen;
    // `**/Name` (the usual form) is looked up by leaf name instead of matching every path.
    std::unordered_map<std::string_view, std::vector<Vertex>> by_name;
    for (Vertex v = 0; v < t.size(); ++v)
      if (t.is_leaf(v)) by_name[t[v].name].push_back(v);
    for (auto& r : raw) {
      std::vector<Vertex> hits;
      const std::string_view tail = std::string_view(r.pattern).substr(std::min<std::size_t>(3, r.pattern.size()));
      if (auto v = t.find(r.pattern)) {
        hits.push_back(*v);
      } else if (r.pattern.starts_with("**/") && tail.find_first_of("*?/") == std::string_view::npos) {
        if (auto it = by_name.find(tail); it != by_name.end()) hits = it->second;
      } else {
        hits = t.glob(r.pattern);
      }
      std::erase_if(hits, [&](Vertex v) { return !t.is_leaf(v); });
      if (hits.size() != 1) {
        std::vector<std::string> notes;
        for (std::size_t k = 0; k < hits.size() && k < 5; ++k) notes.push_back("matches " + t[hits[k]].path);
        sink.error(r.where, hits.empty() ? "unknown-leaf" : "ambiguous-leaf",
                   hits.empty() ? "'" + r.pattern + "' names no leaf of the taxonomy"
                                : "'" + r.pattern + "' matches " + std::to_string(hits.size()) + " leaves; name one",
                   std::move(notes));
        ++errors;
        continue;
      }
      const Vertex v = hits.front();
      if (auto [it, fresh] = seen.emplace(v, r.where); !fresh) {
        sink.error(r.where, "duplicate-leaf", "the links of '" + t[v].path + "' are given twice",
                   {"first given at " + to_string(it->second)});
        ++errors;
        continue;
      }
      LeafRules lr;
      lr.leaf = v;
      lr.family = r.family;
      lr.statement = r.statement;
      lr.where = r.where;
      const auto& opts = t[v].values;
      for (auto& l : r.links) {
        OptionLink ol;
        for (const auto& [label, where] : l.labels) {
          std::optional<std::size_t> k;
          for (std::size_t i = 0; i < opts.size(); ++i)
            if (opts[i].label == label) k = i;
          if (!k) {
            std::vector<std::string> labels;
            for (const auto& o : opts) labels.push_back(o.label);
            std::vector<std::string> notes;
            if (auto near = closest_match(label, labels); !near.empty())
              notes.push_back("did you mean '" + near + "'?");
            notes.push_back("its options: " + text::join(labels, " | "));
            sink.error(where, "unknown-option", "'" + t[v].name + "' has no option '" + label + "'", std::move(notes));
            ++errors;
            continue;
          }
          ol.options.push_back(*k);
        }
        cc.check(l.condition, l.where);
        ol.condition = std::move(l.condition);
        ol.text = std::move(l.text);
        ol.where = l.where;
        lr.links.push_back(std::move(ol));
      }
      book->leaves.push_back(std::move(lr));
    }
    // ---- the taxonomy's own conditions read declared facts ----
    if (!book->facts.empty()) {
      for (Vertex v : t.preorder()) {
        for (const auto& c : t[v].conditions) cc.check(c.condition, t[v].where);
        for (const auto& w : t[v].weightings)
          if (w.kind == Weighting::Kind::when)
            cc.check(w.condition, w.where);
          else if (w.kind == Weighting::Kind::table)
            for (const auto& b : w.by)
              if (!book->fact(b)) {
                sink.error(w.where, "unknown-fact", "the table is keyed by '" + b + "', which is not a declared fact");
                ++errors;
              }
      }
    }
    errors += cc.errors;
    if (errors > 0) return false;
    t.set_rules(std::move(book));
    return true;
  } catch (const std::exception& e) {
    sink.error({files.empty() ? std::string() : files.front().first, 0, 0, 0}, "internal",
               std::string("cannot load the rules: ") + e.what());
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// twins.toml

namespace {

SourceRange toml_at(const std::string& file, const toml::node& n) {
  const auto& s = n.source();
  return SourceRange{file, s.begin.line, s.begin.column, 0};
}

}  // namespace

bool load_twins(Taxonomy& t, std::string_view text, const std::string& file, DiagnosticSink& sink) {
  try {
    if (!detail::check_text(text, file, sink)) return false;
    toml::table root;
    try {
      root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
      const auto& s = e.source();
      sink.error({file, s.begin.line, s.begin.column, 1}, "twins-syntax", std::string(e.description()));
      return false;
    }
    auto book = std::make_shared<TwinBook>();
    book->file = file;
    std::size_t errors = 0;
    auto err = [&](SourceRange where, const std::string& code, const std::string& msg) {
      sink.error(std::move(where), code, msg);
      ++errors;
    };
    for (auto&& [k, node] : root) {
      const std::string key(k.str());
      if (key != "classes" && key != "merged")
        err(toml_at(file, node), "twins-field", "unknown field '" + key + "' (expected classes, merged)");
    }
    std::map<Vertex, SourceRange> owner;
    if (const auto* arr = root["classes"].as_array()) {
      for (auto& item : *arr) {
        const auto* tbl = item.as_table();
        const SourceRange where = toml_at(file, item);
        if (tbl == nullptr) {
          err(where, "twins-field", "each class is a table: { reason = \"...\", leaves = [\"PATH\", ...] }");
          continue;
        }
        TwinBook::Class c;
        c.where = where;
        if (auto r = (*tbl)["reason"].value<std::string>()) c.reason = *r;
        if (c.reason.empty()) err(where, "twins-field", "a class needs a non-empty 'reason'");
        const auto* leaves = (*tbl)["leaves"].as_array();
        if (leaves == nullptr) {
          err(where, "twins-field", "a class needs 'leaves = [\"PATH\", ...]'");
          continue;
        }
        for (auto& p : *leaves) {
          const auto path = p.value<std::string>();
          const SourceRange pw = toml_at(file, p).line ? toml_at(file, p) : where;
          if (!path) {
            err(pw, "twins-field", "a leaf path is a string");
            continue;
          }
          const auto v = t.find(*path);
          if (!v || !t.is_leaf(*v)) {
            err(pw, "unknown-leaf", "'" + *path + "' is not a leaf of the taxonomy");
            continue;
          }
          if (auto [it, fresh] = owner.emplace(*v, pw); !fresh) {
            err(pw, "twins-duplicate",
                "'" + *path + "' is already in the class at line " + std::to_string(it->second.line));
            continue;
          }
          c.leaves.push_back(*v);
          c.paths.push_back(*path);
        }
        if (c.leaves.size() < 2 && c.paths.size() == leaves->size())
          err(where, "twins-field", "a class has at least two leaves");
        book->classes.push_back(std::move(c));
      }
    } else if (root.contains("classes")) {
      err(toml_at(file, *root.get("classes")), "twins-field", "'classes' is an array of tables");
    }
    if (const auto* arr = root["merged"].as_array()) {
      for (auto& item : *arr) {
        const auto* tbl = item.as_table();
        const SourceRange where = toml_at(file, item);
        if (tbl == nullptr) {
          err(where, "twins-field", "each merge is a table: { from = \"PATH\", into = \"PATH\", reason = \"...\" }");
          continue;
        }
        TwinBook::Merge m;
        m.where = where;
        m.from = (*tbl)["from"].value_or(std::string());
        m.into = (*tbl)["into"].value_or(std::string());
        m.reason = (*tbl)["reason"].value_or(std::string());
        if (m.from.empty() || m.into.empty() || m.reason.empty()) {
          err(where, "twins-field", "a merge needs 'from', 'into' and 'reason'");
          continue;
        }
        if (t.find(m.from))
          err(where, "twins-merged-back",
              "'" + m.from + "' was merged into '" + m.into + "' but is back in the taxonomy");
        if (!t.find(m.into)) err(where, "unknown-leaf", "'" + m.into + "' (the kept twin) is not in the taxonomy");
        book->merges.push_back(std::move(m));
      }
    } else if (root.contains("merged")) {
      err(toml_at(file, *root.get("merged")), "twins-field", "'merged' is an array of tables");
    }
    if (errors > 0) return false;
    t.set_twins(std::move(book));
    return true;
  } catch (const std::exception& e) {
    sink.error({file, 0, 0, 0}, "internal", std::string("cannot load the twins: ") + e.what());
    return false;
  }
}

}  // namespace persona::tax
