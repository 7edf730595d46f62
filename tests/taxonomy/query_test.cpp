// Queries: glob, long tail, random breadth-first walk, TF-IDF similarity.
#include <catch2/catch.hpp>
#include <set>

#include "base/rng.hpp"
#include "test_support.hpp"

using namespace persona;
using tax_test::data;

namespace {

const tax::Taxonomy& small() {
  static const tax::Taxonomy t = [] {
    DiagnosticList diags;
    auto loaded = tax::load(data("small.tax"), diags);
    REQUIRE(loaded);
    return std::move(*loaded);
  }();
  return t;
}

std::vector<std::string> names(const tax::Taxonomy& t, const std::vector<tax::Vertex>& vs) {
  std::vector<std::string> out;
  for (auto v : vs) out.push_back(t[v].name);
  return out;
}

}  // namespace

TEST_CASE("glob over paths", "[taxonomy][query]") {
  const auto& t = small();
  CHECK(t.glob("Lifestyle and Daily Routine/**").size() == 8);  // the category and its 7 descendants
  CHECK(t.glob("Lifestyle and Daily Routine/*").size() == 2);
  CHECK(names(t, t.glob("*/Sleep*")) == std::vector<std::string>{"Sleep"});
  CHECK(names(t, t.glob("**/Sleep*")) == std::vector<std::string>{"Sleep", "Sleep Duration"});
  CHECK(names(t, t.glob("**/Chronotype")) == std::vector<std::string>{"Chronotype"});
  CHECK(names(t, t.glob("**/Commute ????")) == std::vector<std::string>{"Commute Mode", "Commute Time"});
  CHECK(t.glob("**/chronotype").empty());  // case-sensitive
  CHECK(t.glob("*").size() == 3);
  CHECK(t.glob("**").size() == t.size());
  CHECK(names(t, t.glob("Physical*/**/Weekly*")) == std::vector<std::string>{"Weekly Running Distance"});
  CHECK(names(t, t.glob("*/*/Job Title")) == std::vector<std::string>{"Job Title"});
  CHECK(t.glob("*/Job Title").empty());
  CHECK(t.glob("").empty());
}

TEST_CASE("long-tail score is in 0..1 and favours deep nodes of small branches", "[taxonomy][query]") {
  const auto& t = small();
  for (tax::Vertex v = 0; v < t.size(); ++v) {
    CHECK(t.long_tail(v) >= 0.0);
    CHECK(t.long_tail(v) <= 1.0);
  }
  const auto deep =
      *t.find("Physical and Health Characteristics/Fitness/Sports Played/Running Details/Weekly Running Distance");
  const auto top = t.roots()[0];
  CHECK(t.long_tail(deep) > t.long_tail(top));
  CHECK(t.long_tail(deep) > t.long_tail(*t.find("Lifestyle and Daily Routine/Sleep/Chronotype")));
}

TEST_CASE("random breadth-first walk over leaves is deterministic", "[taxonomy][query]") {
  const auto& t = small();
  Rng a(42), b(42), c(7);
  const auto wa = t.random_bfs_leaves(a);
  const auto wb = t.random_bfs_leaves(b);
  CHECK(wa == wb);
  REQUIRE(wa.size() == t.leaves().size());
  std::set<tax::Vertex> seen(wa.begin(), wa.end());
  CHECK(seen.size() == wa.size());
  for (auto v : wa) CHECK(t.is_leaf(v));
  // Breadth-first: depths never decrease.
  for (std::size_t i = 1; i < wa.size(); ++i) CHECK(t[wa[i]].depth >= t[wa[i - 1]].depth);
  // Different seeds give different orders at least sometimes.
  bool differs = false;
  for (std::uint64_t s = 1; s < 20 && !differs; ++s) {
    Rng r(s);
    differs = t.random_bfs_leaves(r) != wa;
  }
  CHECK(differs);
  (void)c;

  // A start subtree and facts that rule out the commute branch.
  const auto life = *t.find("Lifestyle and Daily Routine");
  cond::Facts retired{{"employment", std::string("retired")}, {"age", 70.0}};
  Rng r(1);
  const tax::Vertex start[] = {life};
  const auto walk = t.random_bfs_leaves(r, start, &retired);
  CHECK(walk.size() == 3);  // Chronotype, Usual Bedtime, Sleep Duration
  for (auto v : walk) CHECK(t[v].path.find("Commute") == std::string::npos);
}

TEST_CASE("long-tail branches come earlier on average", "[taxonomy][query]") {
  const auto& t = small();
  const auto tail = *t.find("Career and Work Identity/Work Values/Job Security Importance");
  const auto common = *t.find("Career and Work Identity/Occupation/Job Title");
  REQUIRE(t.long_tail(tail) > t.long_tail(common));
  int earlier = 0;
  for (std::uint64_t s = 0; s < 400; ++s) {
    Rng r(s);
    const auto w = t.random_bfs_leaves(r);
    const auto pt = std::find(w.begin(), w.end(), tail) - w.begin();
    const auto pc = std::find(w.begin(), w.end(), common) - w.begin();
    earlier += pt < pc ? 1 : 0;
  }
  CHECK(earlier > 200);
}

TEST_CASE("TF-IDF similarity sanity", "[taxonomy][similarity]") {
  const auto& t = small();
  REQUIRE(t.has_vectors());
  CHECK(t.vocabulary_size() > 50);
  const auto chrono = *t.find("Lifestyle and Daily Routine/Sleep/Chronotype");
  const auto bedtime = *t.find("Lifestyle and Daily Routine/Sleep/Usual Bedtime");
  const auto job = *t.find("Career and Work Identity/Occupation/Job Title");
  const auto exercise = *t.find("Physical and Health Characteristics/Fitness/Exercise Frequency");
  CHECK(t.cosine(chrono, chrono) == Approx(1.0f));
  CHECK(t.cosine(chrono, bedtime) > t.cosine(chrono, job));
  CHECK(t.cosine(chrono, bedtime) > t.cosine(chrono, exercise));
  CHECK(t.cosine(chrono, job) == Approx(t.cosine(job, chrono)));

  // score_all through the inverted index equals pairwise cosine.
  std::vector<float> scores;
  t.score_all(t.vector(chrono), scores);
  REQUIRE(scores.size() == t.size());
  for (tax::Vertex v = 0; v < t.size(); ++v) CHECK(scores[v] == Approx(t.cosine(chrono, v)).margin(1e-5));

  // Free-text queries.
  const auto q = t.query_vector({"she works night shifts", "and sleeps in the afternoon"});
  CHECK_FALSE(q.empty());
  t.score_all(q, scores);
  for (tax::Vertex v = 0; v < t.size(); ++v)
    CHECK(scores[v] == Approx(tax::Taxonomy::cosine(q, t.vector(v))).margin(1e-5));
  const auto best = static_cast<tax::Vertex>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  const std::string best_path = t[best].path;
  INFO(best_path);
  CHECK((best_path.find("Sleep") != std::string::npos || best_path.find("Work Schedule") != std::string::npos));
  CHECK(scores[*t.find("Lifestyle and Daily Routine/Sleep")] > scores[*t.find("Physical and Health Characteristics")]);

  // Trigram sub-words match morphological variants ("commuting" ~ "Commute").
  t.score_all(t.query_vector("commuting"), scores);
  CHECK(scores[*t.find("Lifestyle and Daily Routine/Commute")] > 0.0f);
  CHECK(scores[job] == 0.0f);

  // Unknown words give an empty query and zero scores.
  t.score_all(t.query_vector("zzzzqqq"), scores);
  for (float s : scores) CHECK(s == 0.0f);
}

TEST_CASE("tokens", "[taxonomy][similarity]") {
  CHECK(tax::words("Work-Life Balance, PublicPolicy 2nd") ==
        std::vector<std::string>{"work", "life", "balance", "public", "policy", "2nd"});
  CHECK(tax::trigrams("sleep") == std::vector<std::string>{"<sl", "sle", "lee", "eep", "ep>"});
  CHECK(tax::trigrams("a") == std::vector<std::string>{"<a>"});
}

TEST_CASE("node text for embeddings", "[taxonomy][embeddings]") {
  DiagnosticList diags;
  auto t = tax::load(tax_test::data("small.tax"), diags);
  REQUIRE(t);
  CHECK(tax::node_text(*t, *t->find("Lifestyle and Daily Routine/Sleep/Chronotype")) ==
        "Lifestyle and Daily Routine / Sleep / Chronotype: Natural preference for mornings or evenings "
        "(morning person, evening person, no strong preference)");
}
