// The tfidf and semantic scorers on stdlib.core: quality on the labelled set, meaning over spelling,
// the taxonomy neighbourhood, determinism, odd inputs, the factory.
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "support.hpp"

using namespace sim_test;

// The gain the semantic scorer must keep over word overlap, in ROC AUC on all 540 labelled pairs.
// Measured (persona-bench-similarity): 0.839 vs 0.777 pooled (+0.061; a 90% paired bootstrap interval
// over cores of [+0.029, +0.095]), 0.840 vs 0.781 per core. 0.04 is two thirds of the measured gain:
// a change that loses a third of it fails here, and no resampling of the cores made the gain vanish.
constexpr double kRequiredGain = 0.04;

TEST_CASE("the semantic scorer beats word overlap on the labelled set by at least 0.04 AUC") {
  const auto sem = sim::evaluate(semantic(), labelled());
  const auto tf = sim::evaluate(tfidf(), labelled());
  INFO("semantic " << sem.auc << " / " << sem.mean_core_auc << ", tfidf " << tf.auc << " / " << tf.mean_core_auc);
  CHECK(sem.pairs == 540);
  CHECK(sem.auc >= 0.80);
  CHECK(sem.auc - tf.auc >= kRequiredGain);
  CHECK(sem.mean_core_auc - tf.mean_core_auc >= kRequiredGain);
  // And on the cores labelled after the method was frozen (c31-c45).
  auto final_cores = [](std::size_t c) { return c >= 30; };
  const auto sem_final = sim::evaluate(semantic(), labelled(), final_cores);
  const auto tf_final = sim::evaluate(tfidf(), labelled(), final_cores);
  INFO("final cores: semantic " << sem_final.auc << ", tfidf " << tf_final.auc);
  CHECK(sem_final.auc - tf_final.auc >= kRequiredGain);
}

TEST_CASE("words meet by meaning: church and worship, chef and cooking, hypertension and blood pressure") {
  const auto& t = core_taxonomy();
  auto cache = semantic().cache();
  auto tcache = tfidf().cache();
  std::vector<float> scores, overlap;
  struct Case {
    std::string word, attribute;
  };
  const std::vector<Case> cases = {
      {"church", "Core Values, Beliefs and Philosophy/Religious Practice/Devotional Practice/Worship Attendance"},
      {"chef", "Lifestyle and Daily Routine/Meals and Eating/Household Cooking/Main Cook in Household"},
      {"hypertension",
       "Physical and Health Characteristics/Chronic and Long-Term Conditions/Cardiometabolic Health/Blood Pressure "
       "Status"},
      {"nurse", "Relationships and Social Networks/Social Support and Care/Care Roles/Person Cared For"},
  };
  const std::size_t top = t.leaves().size() / 100;  // the best 1% of stdlib.core's leaves
  for (const auto& c : cases) {
    INFO(c.word << " -> " << c.attribute);
    const std::vector<std::string> core = {c.word};
    semantic().score_all(core, *cache, scores);
    REQUIRE(scores.size() == t.size());
    CHECK(leaf_rank(t, scores, path(c.attribute)) <= top);
    // Word overlap cannot see these: the attribute shares no word or trigram with the core.
    tfidf().score_all(core, *tcache, overlap);
    CHECK(overlap[path(c.attribute)] == 0.0f);
  }
  // A word WordNet does not know scores nothing rather than something arbitrary.
  const std::vector<std::string> unknown = {"hagwon"};
  semantic().score_all(unknown, *cache, scores);
  CHECK(std::all_of(scores.begin(), scores.end(), [](float x) { return x == 0.0f; }));
}

TEST_CASE("attributes beside a matching one move up with it (taxonomy neighbourhood)") {
  const auto& t = core_taxonomy();
  auto cache = semantic().cache();
  std::vector<float> scores;
  const std::vector<std::string> core = {"prays five times a day"};
  semantic().score_all(core, *cache, scores);
  // A sibling under Devotional Practice that shares no word with the core ranks high because of it.
  const auto sibling =
      path("Core Values, Beliefs and Philosophy/Religious Practice/Devotional Practice/Home Shrine or Altar");
  CHECK(leaf_rank(t, scores, sibling) <= t.leaves().size() / 10);
}

TEST_CASE("scores are deterministic, independent of the cache and of what it scored before") {
  const auto& set = labelled();
  for (const sim::Scorer* s : {&semantic(), &tfidf()}) {
    INFO(s->name());
    auto warm = s->cache();
    std::vector<float> first, again, fresh_scores;
    s->score_all(set.cores[0].texts, *warm, first);
    for (const auto& c : set.cores) s->score_all(c.texts, *warm, again);  // fill the cache with other words
    s->score_all(set.cores[0].texts, *warm, again);
    auto fresh = s->cache();
    s->score_all(set.cores[0].texts, *fresh, fresh_scores);
    CHECK(first == again);
    CHECK(first == fresh_scores);
    // Higher is closer, and something is close.
    CHECK(*std::max_element(first.begin(), first.end()) > 0.0f);
  }
}

TEST_CASE("an empty core, or one without a known word, scores every node zero") {
  const auto& t = core_taxonomy();
  const std::vector<std::vector<std::string>> cores = {
      {}, {""}, {"   ", "!!!", "the and of"}, {std::string(10000, 'x')}, {"\xff\xfe\x80 caf\xc3\xa9", "Krak\xc3\xb3w"}};
  for (const sim::Scorer* s : {&semantic(), &tfidf()}) {
    auto cache = s->cache();
    for (std::size_t i = 0; i < cores.size(); ++i) {
      INFO(s->name() << " core " << i);
      std::vector<float> scores = {1.0f, 2.0f};  // stale content must not survive
      s->score_all(cores[i], *cache, scores);
      REQUIRE(scores.size() == t.size());
      if (i < 4) {
        CHECK(std::all_of(scores.begin(), scores.end(), [](float x) { return x == 0.0f; }));
      } else {
        CHECK(std::all_of(scores.begin(), scores.end(), [](float x) { return std::isfinite(x) && x >= 0.0f; }));
      }
    }
  }
}

TEST_CASE("make_scorer builds by name, and semantic without WordNet warns once and falls back to tfidf") {
  const auto& t = core_taxonomy();
  persona::DiagnosticList diags;
  auto tf = sim::make_scorer("tfidf", t, diags);
  REQUIRE(tf);
  CHECK(tf->name() == "tfidf");
  CHECK(diags.all().empty());

  const auto empty_dir = persona::test::scratch_dir("no-wordnet");
  sim::Options opts;
  opts.wordnet_dir = empty_dir;
  auto fallback = sim::make_scorer("semantic", t, diags, opts);
  REQUIRE(fallback);
  CHECK(fallback->name() == "tfidf");
  INFO(dump(diags));
  REQUIRE(diags.all().size() == 1);
  const auto& d = diags.all()[0];
  CHECK(d.severity == persona::Severity::warning);
  CHECK(d.code == "wordnet-unavailable");
  CHECK(d.where.file == (empty_dir / "index.noun").string());
  CHECK(d.message.find("falls back to tfidf") != std::string::npos);

  diags.clear();
  CHECK_FALSE(sim::make_scorer("embeddings", t, diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].code == "embeddings-need-provider");

  diags.clear();
  CHECK_FALSE(sim::make_scorer("semantc", t, diags));
  REQUIRE(diags.error_count() == 1);
  CHECK(diags.all()[0].code == "unknown-scorer");
  REQUIRE_FALSE(diags.all()[0].notes.empty());
  CHECK(diags.all()[0].notes[0] == "did you mean 'semantic'?");
}

TEST_CASE("WordNet is looked for in $WNSEARCHDIR, else /usr/share/wordnet") {
  const char* saved = std::getenv("WNSEARCHDIR");
  const std::string keep = saved ? saved : "";
  ::setenv("WNSEARCHDIR", "/opt/wn/dict", 1);
  CHECK(sim::default_wordnet_dir() == "/opt/wn/dict");
  ::unsetenv("WNSEARCHDIR");
  CHECK(sim::default_wordnet_dir() == "/usr/share/wordnet");
  if (saved) ::setenv("WNSEARCHDIR", keep.c_str(), 1);
}
