// The standard library taxonomy stdlib.core (written progressively by the content helpers).
#include <catch2/catch.hpp>
#include <filesystem>

#include "test_support.hpp"

using namespace persona;

TEST_CASE("stdlib.core loads without errors and meets its targets", "[taxonomy][stdlib]") {
  const auto dir = tax::stdlib_taxonomy_dir("core");
  std::size_t files = 0;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec))
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".tax") ++files;
  INFO("stdlib.core folder: " << dir.string());
  REQUIRE(files == 12);
  DiagnosticList diags;
  auto t = tax::load_stdlib("core", diags);
  INFO(tax_test::dump(diags));
  REQUIRE(t);
  CHECK_FALSE(diags.has_errors());
  const auto s = t->stats();
  CHECK(s.top_level == files);
  CHECK(s.max_depth <= 4);
  CHECK_FALSE(tax_test::has(diags, "depth-limit"));
  for (auto r : t->roots()) {
    const auto& cats = tax::categories();
    CHECK(std::find(cats.begin(), cats.end(), (*t)[r].name) != cats.end());
  }
  CHECK(s.nodes >= 2500);
  CHECK(s.top_level == 12);
  CHECK(static_cast<double>(s.leaves_with_values) >= 0.6 * static_cast<double>(s.leaves));
}
