// libFuzzer target: any byte string as a CSV table and as a TOML table (strict and not).
// Properties: no crash, no hang; a rejection reports at least one error; an accepted table has
// probabilities that are finite and sum to 1 in every distribution.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "diag/source.hpp"
#include "tables/tables.hpp"

namespace {

void expect_consistent(const std::optional<persona::tables::Table>& t, const persona::DiagnosticList& diags) {
  if (!t) {
    if (!diags.has_errors()) std::abort();  // refused without saying why
    return;
  }
  for (const auto& e : t->entries()) {
    if (e.dist == nullptr) continue;
    double sum = 0;
    for (double p : e.dist->probabilities()) {
      if (!std::isfinite(p) || p < 0) std::abort();
      sum += p;
    }
    if (!e.dist->probabilities().empty() && std::fabs(sum - 1.0) > 1e-6) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace persona;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  {
    DiagnosticList diags;
    expect_consistent(tables::parse_csv(text, "fuzz.csv", "fuzz", diags), diags);
  }
  for (const bool strict : {false, true}) {
    DiagnosticList diags;
    expect_consistent(tables::parse_toml(text, "fuzz.toml", "fuzz", "fuzz", strict, diags), diags);
  }
  return 0;
}
