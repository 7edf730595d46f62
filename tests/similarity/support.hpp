// Fixtures shared by the similarity tests: stdlib.core, WordNet and the labelled set, loaded once.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "files.hpp"
#include "similarity/evaluate.hpp"
#include "similarity/scorer.hpp"
#include "similarity/wordnet.hpp"

namespace sim_test {

using namespace persona;

inline std::string dump(const DiagnosticList& diags) {
  std::string s;
  for (const auto& d : diags.all()) s += to_string(d.where) + ": [" + d.code + "] " + d.message + "\n";
  return s;
}

inline const tax::Taxonomy& core_taxonomy() {
  static const tax::Taxonomy t = [] {
    DiagnosticList diags;
    auto loaded = tax::load_stdlib("core", diags);
    INFO(dump(diags));
    REQUIRE(loaded);
    return std::move(*loaded);
  }();
  return t;
}

// WordNet from default_wordnet_dir(); a failed REQUIRE (naming the fix) when it is not installed.
inline std::shared_ptr<const sim::WordNet> wordnet() {
  static const std::shared_ptr<const sim::WordNet> wn = [] {
    DiagnosticList diags;
    std::shared_ptr<const sim::WordNet> w = sim::WordNet::open(sim::default_wordnet_dir(), diags);
    INFO("WordNet is needed here: install the Debian package wordnet-base (bash .ci/setup does)\n" << dump(diags));
    REQUIRE(w);
    return w;
  }();
  return wn;
}

inline const sim::Scorer& semantic() {
  static const auto s = sim::make_semantic(core_taxonomy(), wordnet());
  return *s;
}

inline const sim::Scorer& tfidf() {
  static const auto s = sim::make_tfidf(core_taxonomy());
  return *s;
}

inline const sim::LabelledSet& labelled() {
  static const sim::LabelledSet set = [] {
    DiagnosticList diags;
    auto s = sim::load_labelled(std::string(PERSONA_TESTS_DIR) + "/similarity/data", core_taxonomy(), diags);
    INFO(dump(diags));
    REQUIRE(s);
    return std::move(*s);
  }();
  return set;
}

// Rank (1 = best) of vertex v among the taxonomy's leaves by `scores`.
inline std::size_t leaf_rank(const tax::Taxonomy& t, const std::vector<float>& scores, tax::Vertex v) {
  std::size_t above = 0;
  for (auto leaf : t.leaves()) above += scores[leaf] > scores[v] ? 1 : 0;
  return above + 1;
}

inline tax::Vertex path(const std::string& p) {
  auto v = core_taxonomy().find(p);
  INFO(p);
  REQUIRE(v);
  return *v;
}

}  // namespace sim_test
