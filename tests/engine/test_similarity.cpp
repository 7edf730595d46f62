// The selection ranks by the program's similarity scorer (interpreter/similarity): semantic by
// default, any scorer given through Program::use_scorer (embeddings), and its tiers are that
// scorer's thirds.
#include <algorithm>
#include <cmath>

#include "engine_support.hpp"
#include "frontend/frontend.hpp"
#include "similarity/embedding_scorer.hpp"

using namespace engine_test;
using namespace persona;

namespace {

std::shared_ptr<const tax::Taxonomy> core_taxonomy() {
  static const std::shared_ptr<const tax::Taxonomy> t = [] {
    DiagnosticList d;
    auto loaded = tax::load_stdlib("core", d);
    INFO(dump(d));
    REQUIRE(loaded);
    return std::make_shared<const tax::Taxonomy>(std::move(*loaded));
  }();
  return t;
}

// The stdlib tables: the taxonomy's coherence rules draw religion and languages from them.
std::shared_ptr<const tables::Library> stdlib_library() {
  DiagnosticList d;
  auto lib = frontend::stdlib_tables(d);
  INFO(dump(d));
  REQUIRE(lib != nullptr);
  return lib;
}

lang::Recipe nurse_recipe() {
  auto r = base_recipe(60, 60);
  r.taxonomy = "stdlib.core";
  r.anchors.push_back(fixed_anchor("occupation", std::string("night shift nurse")));
  r.anchors.push_back(fixed_anchor("hobby", std::string("gospel choir")));
  return r;
}

// Every near slot scores at least as high as every mid slot, and every mid slot as every far slot.
void check_tiers_follow(const engine::Program& prog, const engine::Persona& p, const std::vector<float>& scores) {
  float lowest[3] = {1e30f, 1e30f, 1e30f}, highest[3] = {-1e30f, -1e30f, -1e30f};
  for (const auto& s : p.attributes) {
    const float sc = scores[prog.model().leaf(s.leaf).vertex];
    const auto k = static_cast<std::size_t>(s.tier);
    lowest[k] = std::min(lowest[k], sc);
    highest[k] = std::max(highest[k], sc);
  }
  CHECK(lowest[0] >= highest[1]);
  CHECK(lowest[1] >= highest[2]);
  CHECK(highest[0] > highest[2]);  // the ranking is not one big tie
}

}  // namespace

TEST_CASE("by default the tiers are the semantic scorer's thirds, and the plan says so", "[engine][similarity]") {
  auto prog = make_model(nurse_recipe(), stdlib_library(), core_taxonomy());
  CHECK(prog->model().similarity() == "semantic");
  CHECK(prog->model().scorer().name() == "semantic");
  CHECK(prog->to_text().find("by semantic") != std::string::npos);
  const auto p = build(*prog, 3, 0);
  REQUIRE(p.attributes.size() == 60);
  std::vector<std::string> core;
  engine::core_texts(p, core);
  CHECK(std::find(core.begin(), core.end(), "night shift nurse") != core.end());
  std::vector<float> scores;
  const auto& scorer = prog->model().scorer();
  scorer.score_all(core, *scorer.cache(), scores);
  check_tiers_follow(*prog, p, scores);
}

TEST_CASE("programs over the same taxonomy share one semantic scorer", "[engine][similarity]") {
  auto a = make_model(nurse_recipe(), stdlib_library(), core_taxonomy());
  auto b = make_model(nurse_recipe(), stdlib_library(), core_taxonomy());
  CHECK(&a->model().scorer() == &b->model().scorer());
}

TEST_CASE("a scorer given to the program ranks the tiers, and an embeddings scorer asks for the core's vector",
          "[engine][similarity]") {
  const auto t = core_taxonomy();
  auto prog = make_model(nurse_recipe(), stdlib_library(), t);
  // Node vectors with distinct cosines to any core vector.
  std::vector<std::vector<float>> vectors(t->size(), std::vector<float>(16, 0.0f));
  for (tax::Vertex v = 0; v < t->size(); ++v)
    for (std::size_t k = 0; k < 16; ++k) vectors[v][k] = static_cast<float>(std::sin(0.37 * (v + 1) * (k + 1)));
  auto built = sim::EmbeddingScorer::from_vectors(*t, vectors, nullptr);
  REQUIRE(built.ok());
  prog->use_scorer(std::shared_ptr<const sim::Scorer>(std::move(built.scorer)), "embeddings test-model");
  CHECK(prog->model().embeds_core());
  CHECK(prog->to_text().find("by embeddings test-model") != std::string::npos);

  engine::Persona p;
  engine::Scratch s;
  prog->begin(5, 0, p);
  std::size_t pc = 0;
  for (; prog->step(pc).kind() != engine::Step::Kind::select; ++pc) {
    auto ask = prog->step(pc).run(p, s);
    const backend::Offline off;
    while (ask) {
      auto a = off.answer(*prog, p, *ask);
      ask = prog->step(pc).apply(p, s, *ask, a);
    }
  }
  auto ask = prog->step(pc).run(p, s);
  REQUIRE(ask);
  CHECK(ask->kind == engine::Ask::Kind::embed);
  CHECK(p.attributes.empty());
  engine::Answer a;
  for (std::size_t k = 0; k < 16; ++k) a.embedding.push_back(static_cast<float>(std::cos(1.3 * (k + 1))));
  const auto& es = dynamic_cast<const sim::EmbeddingScorer&>(prog->model().scorer());
  std::vector<float> scores;
  REQUIRE(es.score_vector(a.embedding, scores).empty());
  CHECK_FALSE(prog->step(pc).apply(p, s, *ask, a));
  REQUIRE(p.attributes.size() == 60);
  CHECK(p.problems.empty());
  check_tiers_follow(*prog, p, scores);

  // A vector the nodes cannot be compared with is said in the persona's problems, never ignored.
  prog->begin(5, 1, p);
  engine::Answer bad;
  bad.embedding.assign(3, 1.0f);
  CHECK_FALSE(prog->step(pc).apply(p, s, *ask, bad));
  REQUIRE(p.problems.size() == 1);
  CHECK(p.problems[0] ==
        "similarity: the core embedding has 3 dimensions where the taxonomy's have 16; this persona's tiers are "
        "ranked by the offline similarity (semantic)");
}
