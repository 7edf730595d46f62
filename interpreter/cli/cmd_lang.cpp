// persona check FILE...   and   persona fmt FILE [--check] [--write]
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "format/formatter.hpp"
#include "frontend/frontend.hpp"
#include "syntax/parser.hpp"

namespace persona::cli {

namespace {

int run_check(const std::vector<std::string>& files, bool quiet) {
  int rc = Exit::ok;
  for (const auto& f : files) {
    SourceFiles sources;
    DiagnosticList diags;
    auto loaded = frontend::load_recipe(f, sources, diags);
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
  auto text = sources.load(file);
  if (!text) {
    std::cerr << file << ": error: cannot read the file\n";
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
    const std::string tmp = file + ".fmt-tmp";
    {
      std::ofstream out(tmp, std::ios::binary);
      out << formatted;
      if (!out) {
        std::cerr << file << ": error: cannot write " << tmp << "\n";
        return Exit::runtime_error;
      }
    }
    if (std::rename(tmp.c_str(), file.c_str()) != 0) {
      std::cerr << file << ": error: cannot replace the file\n";
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
  static bool quiet = false;
  check->add_option("files", check_files, "Recipe files (.persona)")->required();
  check->add_flag("-q,--quiet", quiet, "Print only diagnostics");
  check->callback([&code] { code = run_check(check_files, quiet); });

  auto* fmt = root.add_subcommand("fmt", "Format a recipe in the canonical layout (comments kept)");
  static std::string fmt_file;
  static bool fmt_check = false, fmt_write = false;
  fmt->add_option("file", fmt_file, "Recipe file (.persona)")->required();
  fmt->add_flag("--check", fmt_check, "Exit 1 when the file is not formatted; change nothing");
  fmt->add_flag("-w,--write", fmt_write, "Rewrite the file in place instead of printing");
  fmt->callback([&code] { code = run_fmt(fmt_file, fmt_check, fmt_write); });
}

}  // namespace persona::cli
