// The DeepPersona reference taxonomy (../shared/interop, outside the repository) imports onto the 12
// categories. Its own program: when the files are absent it exits with 77, which CTest reports as a
// visible skip, never as a pass.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <set>

#include "test_support.hpp"

using namespace persona;

namespace {

std::set<std::string> all_paths(const tax::Taxonomy& t) {
  std::set<std::string> out;
  for (tax::Vertex v = 0; v < t.size(); ++v) out.insert(t[v].path);
  return out;
}

}  // namespace

TEST_CASE("the reference DeepPersona file imports onto exactly 12 categories", "[taxonomy][import][reference]") {
  const std::string file = PERSONA_SHARED_DIR "/interop/deeppersona-attributes-merged.json";
  DiagnosticList diags;
  auto res = tax::import_reference(file, diags);
  INFO(tax_test::dump(diags));
  REQUIRE(res.taxonomy);
  CHECK_FALSE(diags.has_errors());
  const auto& t = *res.taxonomy;
  CHECK(res.report.input_nodes == 6121);
  CHECK(res.report.input_top_level == 19);
  CHECK(res.report.mappings.size() == 19);
  CHECK(res.report.dropped.empty());
  CHECK(t.size() >= 4500);
  CHECK(res.report.output_nodes == t.size());
  REQUIRE(t.roots().size() == 12);
  std::set<std::string> roots;
  for (auto r : t.roots()) roots.insert(t[r].name);
  CHECK(roots == std::set<std::string>(tax::categories().begin(), tax::categories().end()));
  CHECK_FALSE(res.report.merges.empty());
  CHECK(res.report.renamed.size() >= 2);
  CHECK(tax::validate(t, diags) == 0);
  // No duplicate siblings remain.
  for (const auto& d : diags.all()) CHECK(d.code != "duplicate-sibling");

  // Round trips: .tax keeps everything; JSON keeps the structure.
  DiagnosticList d2;
  auto again = tax::load_tax_text(tax::to_tax(t), "reimport.tax", d2);
  INFO(tax_test::dump(d2));
  REQUIRE(again);
  CHECK(again->content_hash() == t.content_hash());
  auto json_again = tax::load_json_text(tax::to_json(t), "reimport.json", d2);
  REQUIRE(json_again);
  CHECK(all_paths(*json_again) == all_paths(t));

  // The second reference file imports too.
  const std::string large = PERSONA_SHARED_DIR "/interop/deeppersona-large-attributes.json";
  REQUIRE(std::filesystem::exists(large));
  DiagnosticList d3;
  auto res2 = tax::import_reference(large, d3);
  REQUIRE(res2.taxonomy);
  CHECK(res2.taxonomy->roots().size() == 12);
}

int main(int argc, char** argv) {
  for (const char* f : {PERSONA_SHARED_DIR "/interop/deeppersona-attributes-merged.json",
                        PERSONA_SHARED_DIR "/interop/deeppersona-large-attributes.json"})
    if (!std::filesystem::exists(f)) {
      std::printf("SKIPPED: %s is missing (the steering repo's shared/ folder is not beside the checkout)\n", f);
      return 77;
    }
  return Catch::Session().run(argc, argv);
}
