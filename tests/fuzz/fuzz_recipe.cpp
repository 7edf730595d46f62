// libFuzzer target: any byte string through the parser, the checker and the formatter.
// Properties: no crash, no hang; a rejection reports at least one positioned error; an accepted
// recipe formats to text that parses again and formats to itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "check/checker.hpp"
#include "diag/source.hpp"
#include "fake_environment.hpp"
#include "format/formatter.hpp"
#include "syntax/parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace persona;
  const std::string text(reinterpret_cast<const char*>(data), size);
  SourceFiles sources;
  DiagnosticList diags;
  test::FakeEnvironment env(/*with_taxonomy=*/true);
  auto checked = lang::check_text(text, "fuzz.persona", sources, env, diags);
  if (!checked) {
    bool positioned = false;
    for (const auto& d : diags.all())
      if (d.severity == Severity::error && d.where.line > 0) positioned = true;
    if (!positioned) std::abort();
  }
  DiagnosticList d1;
  auto parsed = lang::parse_recipe(text, "fuzz.persona", d1);
  if (parsed.recipe) {
    const std::string once = lang::format_recipe(*parsed.recipe);
    DiagnosticList d2;
    auto again = lang::parse_recipe(once, "formatted", d2);
    if (!again.recipe) std::abort();
    if (lang::format_recipe(*again.recipe) != once) std::abort();
  }
  return 0;
}
