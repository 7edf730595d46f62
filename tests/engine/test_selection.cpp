// Attribute selection: filters with `when`, restated anchors, tiers and their quotas, fallback to a
// neighbouring tier, deduplication by folded name and by TF-IDF near-duplicates.
#include <map>
#include <set>

#include "engine_support.hpp"

using namespace engine_test;
using namespace persona;

namespace {

std::map<std::string, int> tier_counts(const engine::Persona& p) {
  std::map<std::string, int> c;
  for (const auto& s : p.attributes) ++c[std::string(engine::to_string(s.tier))];
  return c;
}

std::string path_of(const engine::Program& m, const engine::Slot& s) {
  return m.model().taxonomy()[m.model().leaf(s.leaf).vertex].path;
}

}  // namespace

TEST_CASE("count is drawn in [min, max] and tiers follow the 5:3:2 quotas", "[engine][selection]") {
  auto t = make_taxonomy(generated_tax(6, 5, 12));  // 360 distinct leaves
  auto r = base_recipe(40, 60);
  auto m = make_model(r, nullptr, t);
  std::set<int> counts;
  for (std::uint64_t i = 0; i < 50; ++i) {
    const auto p = build(*m, 5, i);
    const int n = static_cast<int>(p.attributes.size());
    CHECK(n == p.target_count);
    CHECK(n >= 40);
    CHECK(n <= 60);
    counts.insert(n);
    auto c = tier_counts(p);
    CHECK(c["near"] == static_cast<int>(std::lround(n * 5 / 10.0)));
    CHECK(c["mid"] == static_cast<int>(std::lround(n * 3 / 10.0)));
    CHECK(c["near"] + c["mid"] + c["far"] == n);
    // Output in taxonomy preorder, no leaf twice.
    for (std::size_t k = 1; k < p.attributes.size(); ++k) CHECK(p.attributes[k - 1].leaf < p.attributes[k].leaf);
  }
  CHECK(counts.size() > 5);  // the count varies between personas
}

TEST_CASE("near attributes are more similar to the core than far ones", "[engine][selection]") {
  auto t = make_taxonomy(generated_tax(6, 5, 12));
  auto r = base_recipe(60, 60);
  const std::string focus = t->node(t->leaves()[3]).name + " " + t->node(t->leaves()[150]).name;
  r.anchors.push_back(fixed_anchor("focus", focus));
  auto m = make_model(r, nullptr, t);
  const auto p = build(*m, 1, 0);
  const auto q = t->query_vector(std::string_view(focus));
  std::vector<float> scores;
  t->score_all(q, scores);
  double near = 0, far = 0;
  int nn = 0, nf = 0;
  for (const auto& s : p.attributes) {
    const double sc = scores[m->model().leaf(s.leaf).vertex];
    if (s.tier == engine::Tier::near) near += sc, ++nn;
    if (s.tier == engine::Tier::far) far += sc, ++nf;
  }
  REQUIRE(nn > 0);
  REQUIRE(nf > 0);
  CHECK(near / nn > far / nf);
}

TEST_CASE("a short tier is made up from its neighbour so the count is met", "[engine][selection]") {
  auto t = make_taxonomy(generated_tax(3, 3, 10));  // 90 leaves: 30 per tier
  auto r = base_recipe(60, 60);
  r.attributes.near = 8;
  r.attributes.mid = 1;
  r.attributes.far = 1;
  auto m = make_model(r, nullptr, t);
  const auto p = build(*m, 2, 3);
  REQUIRE(p.attributes.size() == 60);
  auto c = tier_counts(p);
  CHECK(c["near"] == 30);  // quota 48, only 30 exist
  CHECK(c["mid"] == 24);   // quota 6 + the 18 near could not supply
  CHECK(c["far"] == 6);
  CHECK(p.problems.empty());
}

TEST_CASE("filters: globs in order, `when` conditions on facts", "[engine][selection]") {
  auto t = make_taxonomy(generated_tax(4, 3, 10));
  const std::string cat0 = t->node(t->roots()[0]).name;
  const std::string cat1 = t->node(t->roots()[1]).name;
  SECTION("exclude when") {
    auto r = base_recipe(60, 60);
    r.anchors.push_back(fixed_anchor("age", 10.0));
    lang::Filter f;
    f.include = false;
    f.glob = cat0 + "/**";
    f.when = parse_cond("age < 16");
    r.attributes.filters.push_back(f);
    auto m = make_model(r, nullptr, t);
    for (std::uint64_t i = 0; i < 10; ++i)
      for (const auto& s : build(*m, 1, i).attributes) CHECK_FALSE(path_of(*m, s).starts_with(cat0 + "/"));
    // The same filter does nothing for an adult.
    r.anchors[0] = fixed_anchor("age", 30.0);
    auto m2 = make_model(r, nullptr, t);
    int under = 0;
    for (std::uint64_t i = 0; i < 10; ++i)
      for (const auto& s : build(*m2, 1, i).attributes) under += path_of(*m2, s).starts_with(cat0 + "/");
    CHECK(under > 0);
  }
  SECTION("include only some subtrees; later filters win") {
    auto r = base_recipe(20, 20);
    lang::Filter inc;
    inc.glob = cat1;  // a node selects its whole subtree
    r.attributes.filters.push_back(inc);
    lang::Filter exc;
    exc.include = false;
    exc.glob = cat1 + "/" + t->node(t->children(t->roots()[1])[0]).name + "/**";
    r.attributes.filters.push_back(exc);
    auto m = make_model(r, nullptr, t);
    const auto p = build(*m, 1, 0);
    CHECK(p.attributes.size() == 20);
    const std::string excluded = cat1 + "/" + t->node(t->children(t->roots()[1])[0]).name + "/";
    for (const auto& s : p.attributes) {
      CHECK(path_of(*m, s).starts_with(cat1 + "/"));
      CHECK_FALSE(path_of(*m, s).starts_with(excluded));
    }
  }
}

TEST_CASE("taxonomy applicability conditions use the facts", "[engine][selection]") {
  const char* text =
      "Life | Life\n"
      "  Work | Work\n"
      "    ? employment = employed\n"
      "    Commute Mode | How the person gets to work\n"
      "      = bus | car | bicycle\n"
      "  Play | Play\n"
      "    Favourite Game | A game\n"
      "      = chess | go\n"
      "    Night Out Style | Going out\n"
      "      ? age >= 18\n"
      "      = dancing | dinner\n";
  auto t = make_taxonomy(text);
  auto r = base_recipe(1, 3);
  r.anchors.push_back(fixed_anchor("age", 12.0));
  r.anchors.push_back(fixed_anchor("employment", std::string("student")));
  auto m = make_model(r, nullptr, t);
  for (std::uint64_t i = 0; i < 20; ++i) {
    const auto p = build(*m, 1, i);
    for (const auto& s : p.attributes) CHECK(m->model().leaf(s.leaf).name == "Favourite Game");
  }
}

TEST_CASE("leaves that restate an anchor are never selected", "[engine][selection]") {
  std::string text =
      "Demographic Information | Facts\n"
      "  Age and Life Stage | Age\n"
      "    Age Bracket | The age bracket\n"
      "      = young | old\n"
      "    Feeling About Own Age | How the person feels about their age\n"
      "      = fine | not fine\n"
      "  Place | Place\n"
      "    Country | The country\n"
      "      = Kenya | Peru\n";
  text += generated_tax(2, 2, 10);
  auto t = make_taxonomy(text);
  auto r = base_recipe(42, 42);  // every remaining leaf
  r.anchors.push_back(fixed_anchor("age", 30.0));
  r.anchors.push_back(fixed_anchor("country", std::string("Kenya")));
  auto m = make_model(r, nullptr, t);
  CHECK(m->model().restating_leaves() == 2);
  const auto p = build(*m, 1, 0);
  std::set<std::string> names;
  for (const auto& s : p.attributes) names.insert(m->model().leaf(s.leaf).name);
  CHECK(names.count("Age Bracket") == 0);
  CHECK(names.count("Country") == 0);
  CHECK(names.count("Feeling About Own Age") == 1);
  CHECK(p.attributes.size() == 41);  // only 41 candidates: the shortfall is reported
  CHECK(p.problems.size() == 1);
}

TEST_CASE("never two attributes with the same meaning", "[engine][selection][dedup]") {
  // The same leaf name under many parents, and near-identical leaves with different names.
  std::string text = "Habits | Habits\n";
  for (int i = 0; i < 30; ++i) {
    text += "  Routine Group " + std::to_string(i) + " | Group\n";
    text += "    Sleep Quality | How well the person sleeps\n      = good | poor\n";
    const std::string w = nonsense(static_cast<unsigned>(i) * 7919u % 10000u);
    text += "    " + w + " Trait | The " + w + " of this person\n      = a | b\n";
  }
  text += "Drinks | Drinks\n";
  text +=
      "  Coffee | Coffee\n    Morning Coffee Habit | Whether the person drinks coffee each morning\n"
      "      = daily espresso | filter coffee\n";
  text += "Food | Food\n";
  text +=
      "  Coffee | Coffee\n    Coffee Morning Habit | Whether the person drinks coffee each morning\n"
      "      = daily espresso | filter coffee\n";
  auto t = make_taxonomy(text);
  auto r = base_recipe(32, 32);
  auto m = make_model(r, nullptr, t);
  // The two coffee leaves are near-duplicates by TF-IDF cosine.
  bool found = false;
  const auto a = t->find("Drinks/Coffee/Morning Coffee Habit"), b = t->find("Food/Coffee/Coffee Morning Habit");
  REQUIRE(a);
  REQUIRE(b);
  for (const auto& li : m->model().leaves())
    if (li.name == "Morning Coffee Habit") found = !li.near_dups.empty();
  CHECK(found == (t->cosine(*a, *b) >= 0.9f));
  CHECK(found);
  for (std::uint64_t i = 0; i < 30; ++i) {
    const auto p = build(*m, 4, i);
    std::map<std::string, int> names;
    for (const auto& s : p.attributes) ++names[tax::fold_name(m->model().leaf(s.leaf).name)];
    CHECK(names["sleep quality"] <= 1);
    CHECK(names["morning coffee habit"] + names["coffee morning habit"] <= 1);
    // 30 unique + 1 sleep + 1 coffee = 32: the count is still met.
    CHECK(p.attributes.size() == 32);
  }
}
