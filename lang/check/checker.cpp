// The checker's driver. Phase 1 (merge.cpp) merges `extends`/`import` files into one scope (later
// definitions override earlier ones by name); phase 2 resolves and checks every declaration,
// collecting all errors: anchors (anchors.cpp), facts and conditions (facts.cpp), story and
// attributes (attributes.cpp), settings (settings.cpp); anchors and story steps are ordered by
// their dependencies, and cycles are reported. The warning policy applies last (warnings.hpp).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/text.hpp"
#include "check/checker_impl.hpp"
#include "check/warnings.hpp"
#include "syntax/parser.hpp"

namespace persona::lang {

namespace checking {

namespace fs = std::filesystem;

namespace {

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string initials(std::string_view s) {
  std::string out;
  bool start = true;
  for (char c : s) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (alpha && start) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start = !alpha && c != '\'';
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  return ec ? path : p.string();
}

std::string resolve(const std::string& from_file, const std::string& rel) {
  fs::path p(rel);
  if (p.is_absolute()) return p.lexically_normal().string();
  fs::path base = fs::path(from_file).parent_path();
  return (base / p).lexically_normal().string();
}

std::string suggest_label(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.empty()) return {};
  const std::string folded = text::fold(word);
  for (const auto& c : candidates)
    if (c != word && text::fold(c) == folded) return c;  // case, spaces, punctuation
  const std::string up = upper(word);
  if (up.size() >= 2) {
    for (const auto& c : candidates) {
      const std::string ini = initials(c);  // "United States" -> "US", a prefix of "USA"
      if (ini.size() >= 2 && c.find(' ') != std::string::npos && up.rfind(ini, 0) == 0 && up.size() <= ini.size() + 1)
        return c;
    }
  }
  const std::string lw = text::lower(word);
  if (lw.size() >= 4) {
    for (const auto& c : candidates)
      if (text::contains_word(text::lower(c), lw)) return c;  // "Korea" -> "Republic of Korea"
    for (const auto& c : candidates) {
      const std::string lc = text::lower(c);
      if (lc.rfind(lw, 0) == 0 || (lc.size() >= 4 && lw.rfind(lc, 0) == 0)) return c;  // "Russia" -> "Russian ..."
    }
  }
  return closest_match(word, candidates);
}

std::string list_text(const std::vector<std::string>& items, std::size_t max) {
  std::string out;
  const std::size_t shown = std::min(items.size(), max);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && shown == items.size()) ? " and " : ", ";
    out += items[i];
  }
  if (shown < items.size()) out += " and " + std::to_string(items.size() - shown) + " more";
  return out;
}

std::string number_text(double v) { return text::format_number(v); }

// ---- reporting ----

void Checker::error(const SourceRange& where, const std::string& code, const std::string& msg,
                    std::vector<std::string> notes) {
  ++errors_;
  sink_.error(where, code, msg, std::move(notes));
}

void Checker::warning(const SourceRange& where, const std::string& code, const std::string& msg,
                      std::vector<std::string> notes) {
  sink_.warning(where, code, msg, std::move(notes));
}

void Checker::report_related(Severity severity, const SourceRange& where, const std::string& code,
                             const std::string& msg, Related related, std::vector<std::string> notes) {
  if (severity == Severity::error) ++errors_;
  Diagnostic d{severity, where, msg, code, std::move(notes), {}};
  d.related.push_back(std::move(related));
  sink_.report(std::move(d));
}

void Checker::unknown_name(const ast::Ident& id, const std::string& what, const std::vector<std::string>& candidates) {
  std::vector<std::string> notes;
  const std::string best = closest_match(id.text, candidates);
  if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
  error(id.where, "undefined-name", "undefined " + what + " '" + id.text + "'", notes);
}

void Checker::unknown_keyword(const ast::Ident& id, const std::string& what, const std::vector<std::string>& options) {
  std::vector<std::string> notes;
  const std::string best = closest_match(id.text, options);
  if (!best.empty()) {
    notes.push_back("did you mean '" + best + "'?");
  } else {
    std::string all;
    for (const auto& o : options) all += (all.empty() ? "" : ", ") + o;
    notes.push_back("expected one of: " + all);
  }
  error(id.where, "unknown-keyword", "unknown " + what + " '" + id.text + "'", notes);
}

bool Checker::check_range(const ast::Range& r, const std::string& what, bool need_both) {
  if (need_both && (!r.lo || !r.hi)) {
    error(r.where, "open-range", what + " needs both bounds (A..B)");
    return false;
  }
  if (r.lo && r.hi && r.lo->value > r.hi->value) {
    error(r.where, "inverted-range",
          "empty range " + r.lo->text + ".." + r.hi->text + ": the lower bound is above the upper bound");
    return false;
  }
  return true;
}

// ---- the driver ----

std::optional<Recipe> Checker::run(const ast::Recipe& root, const std::string& file) {
  Scope scope;
  stack_.push_back(canonical(file));
  merged_[canonical(file)] = true;
  merge_file(root, file, scope, /*everything=*/true);
  stack_.pop_back();

  Recipe out;
  out.file = file;
  out.files = scope.files;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& f : scope.files) {
    if (const std::string* t = sources_.text(f)) h = fnv1a(*t, h);
  }
  out.text_hash = hex64(h);

  check_header(file, scope, out);
  check_taxonomy(scope, file, out);
  check_seed(scope, out);
  check_tables(scope);
  check_anchors(scope, out);
  check_story(scope, out);
  check_attributes(scope, out);
  check_population(scope, out);
  check_taxonomy_facts(scope);
  check_narrative(scope, out);
  check_model(scope, out);
  check_output(scope, out);
  if (errors_ > 0) return std::nullopt;
  return out;
}

void Checker::check_header(const std::string& file, Scope& scope, Recipe& out) {
  if (scope.name) {
    out.name = scope.name->value;
    if (out.name.empty()) error(scope.name->where, "empty-name", "the recipe name is empty");
    for (char c : out.name) {
      if (c == '\n' || c == '/' || c == '\\' || c == '"') {
        error(scope.name->where, "bad-name", "a recipe name cannot contain newlines, slashes or quotes");
        break;
      }
    }
  } else {
    out.name = fs::path(file).stem().string();
    if (out.name.empty()) out.name = "recipe";
    warning(SourceRange{file, 1, 1, 0}, "missing-header",
            "no 'recipe \"NAME\" version \"V\"' header; the recipe is named '" + out.name + "'");
  }
  if (scope.version) out.version = scope.version->value;
}

void Checker::check_taxonomy(const Scope& scope, const std::string& file, Recipe& out) {
  bool usable = true;
  if (scope.taxonomy_name) {
    const std::string& n = scope.taxonomy_name->text;
    const auto names = env_.taxonomy_names();
    if (std::find(names.begin(), names.end(), n) == names.end()) {
      std::vector<std::string> notes;
      const std::string best = closest_match(n, names);
      if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
      error(scope.taxonomy_name->where, "unknown-taxonomy", "unknown taxonomy '" + n + "'", notes);
      usable = false;
    }
    out.taxonomy = n;
    out.taxonomy_is_file = false;
  } else if (scope.taxonomy_file) {
    const std::string path = resolve(scope.taxonomy_file->where.file.empty() ? file : scope.taxonomy_file->where.file,
                                     scope.taxonomy_file->value);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      error(scope.taxonomy_file->where, "taxonomy-not-found",
            "taxonomy file '" + scope.taxonomy_file->value + "' not found (resolved to " + path + ")");
      usable = false;
    }
    out.taxonomy = path;
    out.taxonomy_is_file = true;
  }
  taxonomy_ref_ = out.taxonomy;
  taxonomy_is_file_ = out.taxonomy_is_file;
  if (!usable) return;
  DiagnosticList local;
  taxonomy_ = env_.taxonomy(taxonomy_ref_, taxonomy_is_file_, local);
  for (const auto& d : local.all()) {
    if (d.severity == Severity::error) ++errors_;
    sink_.report(d);
  }
}

void Checker::check_seed(const Scope& scope, Recipe& out) {
  if (!scope.seed) return;
  const double v = scope.seed->value;
  if (v < 0 || v != std::floor(v) || v > 1.8e19) {
    error(scope.seed->where, "bad-seed", "a seed is a non-negative integer");
    return;
  }
  out.seed = static_cast<std::uint64_t>(v);
}

void Checker::check_tables(const Scope& scope) {
  for (const auto& [name, decl] : scope.tables) {
    if (name.rfind("stdlib", 0) == 0) {
      error(decl.name.where, "reserved-name", "table names starting with 'stdlib' are reserved");
    }
  }
}

}  // namespace checking

// ---- public functions ----

std::optional<Recipe> check(const ast::Recipe& recipe, const std::string& file, SourceFiles& sources,
                            const Environment& env, DiagnosticSink& sink, const CheckOptions& options) {
  DiagnosticList local;
  checking::Checker c(sources, env, local);
  auto out = c.run(recipe, file);
  const std::size_t errors =
      apply_warning_policy(local, options.no_warn, c.allowed(), options.warnings_as_errors, sink);
  if (errors > 0) return std::nullopt;
  return out;
}

std::optional<Recipe> check_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                 const Environment& env, DiagnosticSink& sink, const CheckOptions& options) {
  const std::string& stored = sources.add(name, std::string(text));
  DiagnosticList parse_diags;
  ParseResult parsed = parse_recipe(stored, name, parse_diags);
  for (const auto& d : parse_diags.all()) sink.report(d);
  if (!parsed.recipe) return std::nullopt;
  return check(*parsed.recipe, name, sources, env, sink, options);
}

std::optional<Recipe> check_file(const std::string& path, SourceFiles& sources, const Environment& env,
                                 DiagnosticSink& sink, const CheckOptions& options) {
  SourceFiles::LoadError why;
  auto text = sources.load(path, &why);
  if (!text) {
    // The location names the file; files::read's "cannot read PATH: why" need not repeat it.
    std::string message = why.message;
    const std::string prefix = "cannot read " + path + ": ";
    if (message.rfind(prefix, 0) == 0) message = "cannot read the file: " + message.substr(prefix.size());
    sink.error(SourceRange{path, why.line, why.column, why.line > 0 ? 1u : 0u}, "unreadable", message);
    return std::nullopt;
  }
  const std::string copy(*text);
  return check_text(copy, path, sources, env, sink, options);
}

}  // namespace persona::lang
