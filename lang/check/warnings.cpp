#include "check/warnings.hpp"

#include <algorithm>

#include "base/text.hpp"

namespace persona::lang {

namespace {

// clang-format off
constexpr WarningInfo kWarnings[] = {
    {"impossible-value", "a condition compares a fact with a value it never takes, so the comparison is never true"},
    {"key-fallback", "a label is not a key of one of the tables drawn by it, so that table's '*' row is used"},
    {"missing-fact", "the taxonomy's conditions read a fact no anchor gives: the attributes that need it are never selected"},
    {"missing-header", "no 'recipe \"NAME\" version \"V\"' header: the recipe is named after its file"},
    {"redundant-filter", "an include/exclude has no effect: a later filter of the same kind matches everything it does"},
    {"shadowed-filter", "an include/exclude is undone by a later filter of the other kind (the last matching filter wins)"},
    {"table-coverage", "a table has no row (and no '*') for some values of a fact it is drawn by: the anchor is missing for those personas"},
    {"table-derive-label", "a table's [derive.FACT] names a label the table does not have"},
    {"table-unknown-field", "an unknown field in a TOML table"},
    {"unknown-setting", "an unknown model setting (passed to the provider as is)"},
    {"unknown-warning", "a '# persona: allow' comment names no known warning"},
    {"weights-not-normalised", "categorical weights do not sum to 1; they are normalised"},
};
// clang-format on

const std::string kPragma = "persona:";

}  // namespace

std::span<const WarningInfo> warnings() { return kWarnings; }

bool is_warning_name(std::string_view name) {
  return std::any_of(std::begin(kWarnings), std::end(kWarnings), [&](const WarningInfo& w) { return w.name == name; });
}

std::vector<std::string> warning_names() {
  std::vector<std::string> out;
  for (const auto& w : kWarnings) out.emplace_back(w.name);
  return out;
}

std::set<std::string> allowed_in(const ast::Recipe& recipe, const std::string& file, DiagnosticSink& sink) {
  std::set<std::string> out;
  for (const auto& c : recipe.comments) {
    // "# persona: allow a, b"
    std::string_view body = c.text;
    if (!body.empty() && body.front() == '#') body.remove_prefix(1);
    body = text::trim(body);
    if (body.substr(0, kPragma.size()) != kPragma) continue;
    body = text::trim(body.substr(kPragma.size()));
    if (body.substr(0, 5) != "allow" || (body.size() > 5 && body[5] != ' ' && body[5] != '\t')) {
      sink.warning(SourceRange{file, c.line, c.column, static_cast<std::uint32_t>(c.text.size())}, "unknown-warning",
                   "unknown pragma: '# persona:' is followed by 'allow NAME, NAME'");
      continue;
    }
    body.remove_prefix(5);
    for (const auto& part : text::split(body, ',')) {
      const std::string name(text::trim(part));
      if (name.empty()) continue;
      if (!is_warning_name(name)) {
        std::vector<std::string> notes;
        const std::string best = closest_match(name, warning_names());
        notes.push_back(best.empty() ? "persona check --list-warnings lists them" : "did you mean '" + best + "'?");
        const std::size_t at = c.text.find(name);
        sink.warning(SourceRange{file, c.line, c.column + static_cast<std::uint32_t>(at == std::string::npos ? 0 : at),
                                 static_cast<std::uint32_t>(name.size())},
                     "unknown-warning", "unknown warning '" + name + "'", notes);
        continue;
      }
      out.insert(name);
    }
  }
  return out;
}

std::size_t apply_warning_policy(const DiagnosticList& in, const std::vector<std::string>& no_warn,
                                 const std::map<std::string, std::set<std::string>>& allowed, bool as_errors,
                                 DiagnosticSink& out) {
  std::size_t errors = 0;
  for (const auto& d : in.all()) {
    if (d.severity == Severity::warning) {
      if (std::find(no_warn.begin(), no_warn.end(), d.code) != no_warn.end()) continue;
      if (auto it = allowed.find(d.where.file); it != allowed.end() && it->second.count(d.code) != 0) continue;
      if (as_errors) {
        Diagnostic e = d;
        e.severity = Severity::error;
        e.notes.push_back("warning '" + d.code + "' is an error with --Werror");
        ++errors;
        out.report(std::move(e));
        continue;
      }
    }
    if (d.severity == Severity::error) ++errors;
    out.report(d);
  }
  return errors;
}

}  // namespace persona::lang
