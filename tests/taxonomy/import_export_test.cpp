// Reference import onto the 12 categories; export to JSON, .tax and DOT; round trips.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "test_support.hpp"

using namespace persona;
using tax_test::data;

namespace {

std::vector<std::string> all_paths(const tax::Taxonomy& t) {
  std::vector<std::string> out;
  for (auto v : t.preorder()) out.push_back(t[v].path);
  return out;
}

}  // namespace

TEST_CASE("category mapping and merge keys", "[taxonomy][import]") {
  CHECK(tax::categories().size() == 12);
  CHECK(tax::map_category("Lifestyle and Habits")->first == "Lifestyle and Daily Routine");
  CHECK(tax::map_category("Core Values, Beliefs, and Philosophy")->first == "Core Values, Beliefs and Philosophy");
  CHECK(tax::map_category("Psychological and Cognitive")->first == "Psychological and Cognitive Aspects");
  CHECK(tax::map_category("Hobbies, Interests, and Lifestyle")->first == "Hobbies, Interests and Lifestyle");
  CHECK(tax::map_category("Cultural & Social Contexts")->first == "Cultural and Social Context");
  // Similarity for keys not in the alias table.
  auto m = tax::map_category("Media Engagement");
  REQUIRE(m);
  CHECK(m->first == "Media Consumption and Engagement");
  CHECK(m->second < 1.0);
  CHECK_FALSE(tax::map_category("Completely Unrelated Thing"));

  CHECK(tax::merge_key("Work-Life Balance") == tax::merge_key("work life balances"));
  CHECK(tax::merge_key("Arts & Crafts") == tax::merge_key("Crafts and Arts"));
  CHECK(tax::merge_key("PublicPolicy") == tax::merge_key("Public Policy"));
  CHECK(tax::merge_key("Hobbies") == tax::merge_key("Hobby"));
  CHECK(tax::merge_key("Sleep") != tax::merge_key("Diet"));
}

TEST_CASE("a small reference file imports onto 12 categories with merges", "[taxonomy][import]") {
  DiagnosticList diags;
  auto res = tax::import_reference(data("small.json"), diags);
  INFO(tax_test::dump(diags));
  REQUIRE(res.taxonomy);
  const auto& t = *res.taxonomy;
  REQUIRE(t.roots().size() == 12);
  for (std::size_t i = 0; i < 12; ++i) CHECK(t[t.roots()[i]].name == tax::categories()[i]);
  CHECK(res.report.mappings.size() == 3);
  CHECK(res.report.input_top_level == 3);
  const auto sleep = t.find("Lifestyle and Daily Routine/Sleep");
  REQUIRE(sleep);
  CHECK(t.children(*sleep).size() == 3);  // Chronotype, Bedtime + Naps from "Sleeps"
  CHECK(t.find("Lifestyle and Daily Routine/Work-Life Balance"));
  CHECK(t.find("Hobbies, Interests and Lifestyle/Outdoor Activities/Hiking"));
  REQUIRE(res.report.merges.size() == 1);
  CHECK(res.report.merges[0].reason == "plural");
  CHECK(res.report.to_text().find("'Sleeps' into 'Sleep'") != std::string::npos);
}

TEST_CASE("export round trips of the small fixture", "[taxonomy][export]") {
  DiagnosticList diags;
  auto t = tax::load(data("small.tax"), diags);
  REQUIRE(t);
  const std::string text = tax::to_tax(*t);
  CHECK(text.find("    Chronotype | Natural preference for mornings or evenings\n      = morning person @0.25 |") !=
        std::string::npos);
  CHECK(text.find("      ? age >= 12\n") != std::string::npos);
  auto again = tax::load_tax_text(text, "again.tax", diags);
  INFO(tax_test::dump(diags));
  REQUIRE(again);
  CHECK(again->content_hash() == t->content_hash());
  CHECK(tax::to_tax(*again) == text);

  // Through a file on disk and the JSON format.
  const auto dir = std::filesystem::temp_directory_path() / "persona-tax-test";
  std::filesystem::create_directories(dir);
  REQUIRE(tax::write_text_file(dir / "out.json", tax::to_json(*t), diags));
  auto from_json = tax::load(dir / "out.json", diags);
  REQUIRE(from_json);
  CHECK(all_paths(*from_json) == all_paths(*t));
  CHECK_FALSE(tax::write_text_file("/nonexistent-dir/x.tax", "x", diags));
  CHECK(tax_test::has(diags, "write-failed"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("DOT export with a subtree root and a depth limit", "[taxonomy][export]") {
  DiagnosticList diags;
  auto t = tax::load(data("small.tax"), diags);
  REQUIRE(t);
  const std::string all = tax::to_dot(*t);
  CHECK(all.rfind("digraph G {", 0) == 0);
  CHECK(all.find("label=\"Weekly Running Distance\"") != std::string::npos);
  CHECK(std::count(all.begin(), all.end(), '>') == static_cast<long>(t->size() - 3));  // one "->" per edge

  tax::DotOptions opts;
  opts.root = *t->find("Lifestyle and Daily Routine");
  opts.max_depth = 1;
  const std::string part = tax::to_dot(*t, opts);
  CHECK(part.find("label=\"Sleep (+3)\"") != std::string::npos);
  CHECK(part.find("Chronotype") == std::string::npos);
  CHECK(part.find("Career") == std::string::npos);
}
