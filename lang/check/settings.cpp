// Settings: the narrative, the model line and the output block. Every output setting that
// docs/output.md lists is accepted and checked (path, count, format, narrative, core, usage,
// prompts); nothing else is.
#include <algorithm>
#include <cmath>

#include "check/checker_impl.hpp"

namespace persona::lang::checking {

namespace {

ParamValue param_value(const ast::Param& p) {
  if (const auto* n = std::get_if<ast::Number>(&p.value)) return n->value;
  if (const auto* s = std::get_if<ast::StringLit>(&p.value)) return s->value;
  return std::get<ast::Ident>(p.value).text;
}

}  // namespace

void Checker::check_narrative(const Scope& scope, Recipe& out) {
  if (!scope.narrative) return;
  const auto& n = *scope.narrative;
  static const std::vector<std::string> voices = {"first-person", "third-person", "none"};
  if (std::find(voices.begin(), voices.end(), n.voice.text) == voices.end())
    unknown_keyword(n.voice, "narrative voice", voices);
  out.narrative.voice = n.voice.text;
  if (n.words && check_range(*n.words, "a word count", true)) {
    out.narrative.min_words = static_cast<int>(n.words->lo->value);
    out.narrative.max_words = static_cast<int>(n.words->hi->value);
    if (out.narrative.min_words < 10 || out.narrative.max_words > 5000)
      error(n.words->where, "bad-count", "a narrative has between 10 and 5000 words");
  }
  if (n.prompt) out.narrative.prompt = n.prompt->value;
}

void Checker::check_model(const Scope& scope, Recipe& out) {
  if (!scope.model) return;
  const auto& m = *scope.model;
  out.model.provider = m.provider.value;
  out.model.where = m.where;
  if (out.model.provider.empty()) error(m.provider.where, "empty-name", "the provider name is empty");
  static const std::vector<std::string> known = {
      "temperature", "top_p", "max_tokens", "seed", "model", "presence_penalty", "frequency_penalty"};
  std::set<std::string> seen;
  for (const auto& p : m.params) {
    if (!seen.insert(p.key.text).second)
      error(p.key.where, "duplicate-setting", "duplicate model setting '" + p.key.text + "'");
    if (std::find(known.begin(), known.end(), p.key.text) == known.end()) {
      std::vector<std::string> notes;
      const std::string best = closest_match(p.key.text, known);
      if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
      warning(p.key.where, "unknown-setting",
              "unknown model setting '" + p.key.text + "' (passed to the provider as is)", notes);
    }
    const ParamValue v = param_value(p);
    const double* num = std::get_if<double>(&v);
    const bool numeric_key = p.key.text != "model";
    if (numeric_key && std::find(known.begin(), known.end(), p.key.text) != known.end() && num == nullptr) {
      error(p.where, "type-error", "model setting '" + p.key.text + "' needs a number");
    } else if (num != nullptr) {
      if (p.key.text == "temperature" && (*num < 0 || *num > 2))
        error(p.where, "bad-parameter", "temperature is between 0 and 2");
      if (p.key.text == "top_p" && (*num <= 0 || *num > 1)) error(p.where, "bad-parameter", "top_p is in (0, 1]");
      if (p.key.text == "max_tokens" && *num < 1) error(p.where, "bad-parameter", "max_tokens is at least 1");
    }
    out.model.params[p.key.text] = v;
  }
}

void Checker::check_output(const Scope& scope, Recipe& out) {
  if (!scope.output) return;
  static const std::vector<std::string> known = {"path", "count", "format", "narrative", "core", "usage", "prompts"};
  std::set<std::string> seen;
  for (const auto& p : scope.output->params) {
    const std::string& key = p.key.text;
    if (!seen.insert(key).second) error(p.key.where, "duplicate-setting", "duplicate output setting '" + key + "'");
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      unknown_keyword(p.key, "output setting", known);
      continue;
    }
    const ParamValue v = param_value(p);
    const std::string* s = std::get_if<std::string>(&v);
    const double* n = std::get_if<double>(&v);
    if (key == "path") {
      if (s == nullptr || std::holds_alternative<ast::Ident>(p.value))
        error(p.where, "type-error", "output path is a quoted string");
      else if (s->empty())
        error(p.where, "empty-name", "the output path is empty");
    } else if (key == "count") {
      if (n == nullptr || *n < 1 || *n != std::floor(*n) || *n > 1e12)
        error(p.where, "bad-count", "output count is a whole number of personas, at least 1");
    } else if (key == "format") {
      if (s == nullptr || (*s != "jsonl" && *s != "csv" && *s != "csv-wide"))
        error(p.where, "unknown-keyword", "output format is jsonl, csv or csv-wide");
    } else if (s == nullptr || (*s != "on" && *s != "off")) {
      error(p.where, "type-error", "output setting '" + key + "' is on or off");
    }
    out.output[key] = v;
  }
}

}  // namespace persona::lang::checking
