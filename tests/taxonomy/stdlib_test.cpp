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

TEST_CASE("similar_nodes finds exactly the pairs that scoring every node finds, on stdlib.core",
          "[taxonomy][similarity]") {
  DiagnosticList diags;
  auto t = tax::load_stdlib("core", diags);
  REQUIRE(t);
  REQUIRE(t->has_vectors());
  std::vector<float> scores;
  for (const float threshold : {0.5f, 0.7f, 0.9f}) {
    const auto similar = t->similar_nodes(threshold);
    REQUIRE(similar.size() == t->size());
    std::size_t pairs = 0;
    for (tax::Vertex v = 0; v < t->size(); ++v) {
      t->score_all(t->vector(v), scores);
      std::vector<tax::Vertex> expected;
      for (tax::Vertex w = 0; w < t->size(); ++w)
        if (w != v && scores[w] >= threshold) expected.push_back(w);
      INFO("threshold " << threshold << ", node " << t->node(v).path);
      REQUIRE(similar[v] == expected);
      pairs += expected.size();
    }
    INFO("threshold " << threshold);
    if (threshold < 0.9f) CHECK(pairs > 0);  // the comparison compared something (stdlib.core has no pair >= 0.9)
  }
  // Two near-duplicates are found at a threshold just under their score, and nothing else is.
  DiagnosticList d;
  auto small = tax::load_tax_text(
      "Lifestyle | l\n  Sleep | s\n    Usual Bedtime | The clock time the person usually goes to sleep\n"
      "    Usual Sleeping Time | The clock time the person usually goes to sleep\n    Coffee | Cups of coffee a day\n",
      "t.tax", d);
  INFO(tax_test::dump(d));
  REQUIRE(small);
  const auto a = *small->find("Lifestyle/Sleep/Usual Bedtime");
  const auto b = *small->find("Lifestyle/Sleep/Usual Sleeping Time");
  const float ab = small->cosine(a, b);
  INFO("cosine " << ab);
  REQUIRE(ab > 0.3f);
  const auto similar = small->similar_nodes(ab - 1e-3f);
  CHECK(std::find(similar[a].begin(), similar[a].end(), b) != similar[a].end());
  CHECK(std::find(similar[b].begin(), similar[b].end(), a) != similar[b].end());
  CHECK(similar[*small->find("Lifestyle/Sleep/Coffee")].empty());
}
