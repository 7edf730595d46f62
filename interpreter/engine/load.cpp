#include "engine/program.hpp"
#include "frontend/frontend.hpp"

namespace persona::engine {

std::unique_ptr<Program> load_program(const std::string& file, SourceFiles& sources, DiagnosticList& diags,
                                      const ProgramOptions& opts) {
  auto loaded = frontend::load_recipe(file, sources, diags);
  if (!loaded) return nullptr;
  DiagnosticList tax_diags;
  auto taxonomy = load_taxonomy(loaded->recipe, tax_diags);
  for (const auto& d : tax_diags.all())
    if (d.severity == Severity::error) diags.report(d);
  if (!taxonomy) return nullptr;
  return Program::compile(std::move(loaded->recipe), loaded->tables, std::move(taxonomy), diags, opts);
}

}  // namespace persona::engine
