// The labelled set (tests/similarity/data) and the AUC it is measured with.
#include <cmath>
#include <map>

#include "files.hpp"
#include "support.hpp"

using namespace sim_test;

TEST_CASE("the labelled set holds 540 pairs of 45 cores, balanced over the 12 categories") {
  const auto& set = labelled();
  const auto& t = core_taxonomy();
  CHECK(set.cores.size() == 45);
  CHECK(set.pairs.size() == 540);
  std::map<std::string, std::pair<int, int>> by_category;  // related, unrelated
  std::map<std::size_t, std::pair<int, int>> by_core;
  for (const auto& p : set.pairs) {
    const std::string& path = t[p.attribute].path;
    auto& c = by_category[path.substr(0, path.find('/'))];
    (p.related ? c.first : c.second) += 1;
    auto& k = by_core[p.core];
    (p.related ? k.first : k.second) += 1;
    CHECK(t.is_leaf(p.attribute));
    if (p.related) CHECK(p.reason != "-");  // every related pair says why
  }
  REQUIRE(by_category.size() == 12);
  for (const auto& [category, counts] : by_category) {
    INFO(category);
    CHECK(counts.first + counts.second == 45);
    CHECK(std::abs(counts.first - counts.second) <= 1);
  }
  for (const auto& [core, counts] : by_core) {
    CHECK(counts.first == 6);
    CHECK(counts.second == 6);
  }
}

TEST_CASE("roc_auc counts related above unrelated, ties as one half, and is NaN without both labels") {
  const std::vector<float> s = {0.9f, 0.8f, 0.1f, 0.2f};
  const std::vector<std::uint8_t> good = {1, 1, 0, 0}, bad = {0, 0, 1, 1}, mixed = {1, 0, 1, 0};
  CHECK(sim::roc_auc(s, good) == Approx(1.0));
  CHECK(sim::roc_auc(s, bad) == Approx(0.0));
  CHECK(sim::roc_auc(s, mixed) == Approx(0.5));  // 0.9>0.8, 0.9>0.2, 0.1<0.8, 0.1<0.2
  const std::vector<float> tied = {0.5f, 0.5f, 0.5f};
  const std::vector<std::uint8_t> one_two = {1, 0, 0};
  CHECK(sim::roc_auc(tied, one_two) == Approx(0.5));
  const std::vector<std::uint8_t> all_related = {1, 1, 1};
  CHECK(std::isnan(sim::roc_auc(tied, all_related)));
  CHECK(std::isnan(sim::roc_auc({}, {})));
}

TEST_CASE("a malformed labelled set is an error naming the file and line of each bad row") {
  const auto dir = persona::test::scratch_dir("labelled-bad");
  persona::test::write_file(dir / "cores.tsv",
                            "id\tcountry\tage\tgender\toccupation\tvalues\thobbies\tstory\n"
                            "x1\tKenya\t30\tfemale\tnurse\tfaith\tsinging\tA story.\n"
                            "x2\tonly three\tfields\n");
  persona::test::write_file(dir / "pairs.tsv",
                            "core\tlabel\tpath\treason\n"
                            "x1\trelated\tPhysical and Health Characteristics/Senses/Hearing/Tinnitus\tok\n"
                            "x9\trelated\tPhysical and Health Characteristics/Senses/Hearing/Tinnitus\tunknown core\n"
                            "x1\tmaybe\tPhysical and Health Characteristics/Senses/Hearing/Tinnitus\tbad label\n"
                            "x1\tunrelated\tNo/Such/Attribute\tmissing\n"
                            "x1\tunrelated\tPhysical and Health Characteristics/Senses\tnot a leaf\n");
  persona::DiagnosticList diags;
  CHECK_FALSE(sim::load_labelled(dir, core_taxonomy(), diags));
  INFO(dump(diags));
  // The cores file is checked first and stops the load: its bad row is line 3.
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].where.line == 3);
  CHECK(diags.all()[0].where.file.ends_with("cores.tsv"));

  persona::test::write_file(dir / "cores.tsv", "x1\tKenya\t30\tfemale\tnurse\tfaith\tsinging\tA story.\n");
  diags.clear();
  CHECK_FALSE(sim::load_labelled(dir, core_taxonomy(), diags));
  std::vector<std::uint32_t> lines;
  for (const auto& d : diags.all()) {
    CHECK(d.where.file.ends_with("pairs.tsv"));
    lines.push_back(d.where.line);
  }
  CHECK(lines == std::vector<std::uint32_t>{3, 4, 5, 6});
  CHECK(diags.all()[0].message.find("unknown core 'x9'") != std::string::npos);
  CHECK(diags.all()[3].message.find("not a leaf") != std::string::npos);

  diags.clear();
  CHECK_FALSE(sim::load_labelled(dir / "missing", core_taxonomy(), diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].where.file.ends_with("cores.tsv"));
}
