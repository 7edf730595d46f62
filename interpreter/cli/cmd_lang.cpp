// persona check FILE... [--no-warn NAME] [--Werror] [--list-warnings]   and   persona fmt FILE [--check] [--write]
#include <algorithm>
#include <iostream>

#include "base/files.hpp"
#include "check/warnings.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "format/formatter.hpp"
#include "frontend/frontend.hpp"
#include "syntax/parser.hpp"

namespace persona::cli {

namespace {

int list_warnings() {
  std::size_t width = 0;
  for (const auto& w : lang::warnings()) width = std::max(width, w.name.size());
  for (const auto& w : lang::warnings())
    std::cout << w.name << std::string(width + 2 - w.name.size(), ' ') << w.summary << "\n";
  return Exit::ok;
}

int run_check(const std::vector<std::string>& files, bool quiet, const lang::CheckOptions& options) {
  for (const auto& name : options.no_warn) {
    if (lang::is_warning_name(name)) continue;
    std::cerr << "persona check: error: --no-warn: unknown warning '" << name << "'";
    const std::string best = closest_match(name, lang::warning_names());
    if (!best.empty()) std::cerr << "; did you mean '" << best << "'?";
    std::cerr << " (persona check --list-warnings lists them)\n";
    return Exit::usage_error;
  }
  if (files.empty()) {
    std::cerr << "persona check: error: no recipe file given\n";
    return Exit::usage_error;
  }
  int rc = Exit::ok;
  for (const auto& f : files) {
    SourceFiles sources;
    DiagnosticList diags;
    auto loaded = frontend::load_recipe(f, sources, diags, options);
    print_diagnostics(diags, sources);
    if (!loaded) {
      rc = Exit::user_error;
      std::cerr << f << ": " << diags.error_count() << " error(s)\n";
    } else if (!quiet) {
      std::cout << f << ": ok (" << loaded->recipe.anchors.size() << " anchors, " << loaded->recipe.story.size()
                << " story steps, " << loaded->recipe.attributes.min_count << ".."
                << loaded->recipe.attributes.max_count << " attributes";
      if (diags.warning_count() > 0) std::cout << ", " << diags.warning_count() << " warning(s)";
      std::cout << ")\n";
    }
  }
  return rc;
}

int run_fmt(const std::string& file, bool check_only, bool write) {
  SourceFiles sources;
  DiagnosticList diags;
  SourceFiles::LoadError why;
  auto text = sources.load(file, &why);
  if (!text) {
    std::cerr << file;
    if (why.line > 0) std::cerr << ":" << why.line << ":" << why.column;
    std::cerr << ": error: " << why.message << "\n";
    return Exit::user_error;
  }
  auto parsed = lang::parse_recipe(*text, file, diags);
  if (!parsed.recipe) {
    print_diagnostics(diags, sources);
    return Exit::user_error;
  }
  const std::string formatted = lang::format_recipe(*parsed.recipe);
  if (check_only) {
    if (formatted != *text) {
      std::cerr << file << ": not formatted (run: persona fmt --write " << file << ")\n";
      return Exit::user_error;
    }
    return Exit::ok;
  }
  if (write) {
    if (formatted == *text) return Exit::ok;
    std::string error;
    if (!files::write_atomic(file, formatted, error)) {
      std::cerr << file << ": error: " << error << "\n";
      return Exit::runtime_error;
    }
    return Exit::ok;
  }
  std::cout << formatted;
  return Exit::ok;
}

}  // namespace

void add_lang_commands(CLI::App& root, int& code) {
  auto* check = root.add_subcommand("check", "Check recipes: report every error as FILE:LINE:COL (exit 1 on errors)");
  static std::vector<std::string> check_files;
  static bool quiet = false, list = false;
  static lang::CheckOptions options;
  check->add_option("files", check_files, "Recipe files (.persona)");
  check->add_flag("-q,--quiet", quiet, "Print only diagnostics");
  check
      ->add_option("--no-warn", options.no_warn,
                   "Do not report this warning (repeatable, or NAME,NAME; see --list-warnings)")
      ->type_size(1)
      ->allow_extra_args(false)
      ->delimiter(',');
  check->add_flag("--Werror", options.warnings_as_errors, "Report warnings as errors (exit 1)");
  check->add_flag("--list-warnings", list, "List the warnings by name, with what each means, and exit");
  check->footer(
      "A recipe silences warnings in its own file with a comment:  # persona: allow NAME, NAME\n"
      "Exit codes: 0 no error (warnings allowed), 1 errors, 2 usage error.");
  check->callback([&code] { code = list ? list_warnings() : run_check(check_files, quiet, options); });

  auto* fmt = root.add_subcommand("fmt", "Format a recipe in the canonical layout (comments kept)");
  static std::string fmt_file;
  static bool fmt_check = false, fmt_write = false;
  fmt->add_option("file", fmt_file, "Recipe file (.persona)")->required();
  fmt->add_flag("--check", fmt_check, "Exit 1 when the file is not formatted; change nothing");
  fmt->add_flag("-w,--write", fmt_write, "Rewrite the file in place instead of printing");
  fmt->callback([&code] { code = run_fmt(fmt_file, fmt_check, fmt_write); });
}

}  // namespace persona::cli
