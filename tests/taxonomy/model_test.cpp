// The model: loading a small fixture, navigation, conditions, hash, stats, directories.
#include <catch2/catch.hpp>

#include "test_support.hpp"

using namespace persona;
using tax_test::data;

TEST_CASE("a small .tax fixture loads with its structure", "[taxonomy]") {
  DiagnosticList diags;
  auto t = tax::load(data("small.tax"), diags);
  INFO(tax_test::dump(diags));
  REQUIRE(t);
  REQUIRE_FALSE(diags.has_errors());

  const auto s = t->stats();
  CHECK(s.top_level == 3);
  CHECK(s.nodes == 20);
  CHECK(s.leaves == 10);
  CHECK(s.max_depth == 5);
  CHECK(s.leaves_with_values == 9);  // Job Title has none

  REQUIRE(t->roots().size() == 3);
  CHECK((*t)[t->roots()[0]].name == "Lifestyle and Daily Routine");
  CHECK((*t)[t->roots()[0]].depth == 1);

  auto chrono = t->find("Lifestyle and Daily Routine/Sleep/Chronotype");
  REQUIRE(chrono);
  const auto& n = (*t)[*chrono];
  CHECK(n.name == "Chronotype");
  CHECK(n.depth == 3);
  CHECK(n.description == "Natural preference for mornings or evenings");
  CHECK(n.where.line == 4);
  CHECK(n.where.column == 5);
  REQUIRE(n.values.size() == 3);
  CHECK(n.values[0].label == "morning person");
  CHECK(n.values[0].weight == Approx(0.25));
  CHECK(n.values[2].weight == Approx(0.45));
  CHECK(t->is_leaf(*chrono));

  auto bed = t->find("Lifestyle and Daily Routine/Sleep/Usual Bedtime");
  REQUIRE(bed);
  CHECK((*t)[*bed].values.size() == 4);
  CHECK((*t)[*bed].values[1].weight == 1.0);  // unspecified weight
  REQUIRE((*t)[*bed].conditions.size() == 1);
  CHECK((*t)[*bed].conditions[0].text == "age >= 12");

  auto sleep = t->find("Lifestyle and Daily Routine/Sleep");
  REQUIRE(sleep);
  CHECK(t->parent(*chrono) == sleep);
  CHECK_FALSE(t->parent(t->roots()[0]));
  CHECK(t->children(*sleep).size() == 3);
  CHECK(t->subtree(*sleep).size() == 4);
  CHECK(t->subtree(*sleep).front() == *sleep);
  CHECK(t->leaf_count(*sleep) == 3);
  CHECK_FALSE(t->find("Lifestyle and Daily Routine/sleep"));  // case-sensitive
  CHECK_FALSE(t->find("Nope"));

  for (tax::Vertex v : t->leaves()) CHECK(t->is_leaf(v));
  // Inner node with values and a child.
  auto sports = t->find("Physical and Health Characteristics/Fitness/Sports Played");
  REQUIRE(sports);
  CHECK_FALSE(t->is_leaf(*sports));
  CHECK((*t)[*sports].values.size() == 4);
}

TEST_CASE("applicability inherits the conditions of ancestors", "[taxonomy]") {
  DiagnosticList diags;
  auto t = tax::load(data("small.tax"), diags);
  REQUIRE(t);
  auto mode = *t->find("Lifestyle and Daily Routine/Commute/Commute Mode");
  auto bed = *t->find("Lifestyle and Daily Routine/Sleep/Usual Bedtime");
  CHECK(t->inherited_conditions(mode).size() == 1);
  CHECK(t->inherited_conditions(bed).size() == 1);

  cond::Facts retired{{"employment", std::string("retired")}, {"age", 70.0}};
  cond::Facts student{{"employment", std::string("student")}, {"age", 10.0}};
  cond::Facts unknown;
  CHECK_FALSE(t->applicable(mode, retired));
  CHECK(t->applicable(mode, student));
  CHECK_FALSE(t->applicable(mode, unknown));  // a condition on a missing fact is unknown: not applicable
  CHECK(t->applicable(bed, retired));
  CHECK_FALSE(t->applicable(bed, student));
}

TEST_CASE("the content hash is stable and content-sensitive", "[taxonomy]") {
  const std::string text = "A | first\n  B | leaf\n    = x @2 | y\n";
  DiagnosticList diags;
  auto a = tax::load_tax_text(text, "a.tax", diags);
  auto b = tax::load_tax_text(text, "other-name.tax", diags);
  auto c = tax::load_tax_text("A | first\n  B | leaf\n    = x @3 | y\n", "a.tax", diags);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->content_hash().size() == 16);
  CHECK(a->content_hash() == b->content_hash());
  CHECK(a->content_hash() != c->content_hash());
  // Copies keep everything working (indexes point into the copy).
  tax::Taxonomy copy = *a;
  CHECK(copy.content_hash() == a->content_hash());
  REQUIRE(copy.find("A/B"));
  CHECK(copy.cosine(*copy.find("A/B"), *copy.find("A/B")) == Approx(1.0f));
}

TEST_CASE("a directory loads its .tax files in file-name order", "[taxonomy]") {
  DiagnosticList diags;
  auto t = tax::load(data("dir"), diags);
  INFO(tax_test::dump(diags));
  REQUIRE(t);
  REQUIRE(t->roots().size() == 2);
  CHECK((*t)[t->roots()[0]].name == "Demographic Information");
  CHECK((*t)[t->roots()[1]].name == "Education and Learning");
  CHECK((*t)[t->roots()[1]].where.file.find("02-second.tax") != std::string::npos);
}

TEST_CASE("the graph is a Boost.Graph with parent->child edges", "[taxonomy]") {
  DiagnosticList diags;
  auto t = tax::load(data("small.tax"), diags);
  REQUIRE(t);
  const auto& g = t->graph();
  CHECK(boost::num_vertices(g) == t->size());
  CHECK(boost::num_edges(g) == t->size() - t->roots().size());
  for (tax::Vertex v = 0; v < t->size(); ++v) CHECK(boost::in_degree(v, g) == (t->parent(v) ? 1u : 0u));
  CHECK(tax::validate(*t, diags) == 0);
}
