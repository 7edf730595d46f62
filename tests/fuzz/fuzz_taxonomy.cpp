// libFuzzer target: any byte string as a `.tax` file, as reference JSON and as a rules file over a
// small taxonomy. Properties: no crash, no hang, no stack overflow from nesting (depth limits); a
// rejection reports at least one error; an accepted taxonomy has at least one node.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "diag/source.hpp"
#include "taxonomy/rules.hpp"
#include "taxonomy/taxonomy.hpp"

namespace {

void expect_consistent(const std::optional<persona::tax::Taxonomy>& t, const persona::DiagnosticList& diags) {
  if (!t && !diags.has_errors()) std::abort();  // refused without saying why
  if (t && t->size() == 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace persona;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    DiagnosticList diags;
    expect_consistent(tax::load_tax_text(text, "fuzz.tax", diags), diags);
  }
  {
    DiagnosticList diags;
    expect_consistent(tax::load_json_text(text, "fuzz.json", diags), diags);
  }
  {
    DiagnosticList diags;
    auto t = tax::load_tax_text(
        "Demographic Information | d\n  Age | age in years\n  Country | c\n    = Kenya | Japan\n"
        "Lifestyle | l\n  Sleep | s\n    Bedtime | b\n      = early @1 | late @2\n",
        "base.tax", diags);
    if (!t) std::abort();
    DiagnosticList rule_diags;
    const bool ok = tax::load_rules(*t, {{"fuzz.rules", std::string(text)}}, rule_diags);
    if (!ok && !rule_diags.has_errors()) std::abort();
  }
  return 0;
}
