// The scorer interface, the WordNet location and the factory by name.
#include "similarity/scorer.hpp"

#include <cstdlib>

#include "similarity/wordnet.hpp"

namespace persona::sim {

Cache::~Cache() = default;
Scorer::~Scorer() = default;

const std::vector<std::string>& scorer_names() {
  static const std::vector<std::string> names = {"tfidf", "semantic", "embeddings"};
  return names;
}

std::filesystem::path default_wordnet_dir() {
  if (const char* env = std::getenv("WNSEARCHDIR"); env != nullptr && *env != '\0') return env;
  return "/usr/share/wordnet";
}

std::unique_ptr<Scorer> make_scorer(std::string_view name, const tax::Taxonomy& t, DiagnosticSink& sink,
                                    const Options& options) {
  if (name == "tfidf") return make_tfidf(t);
  if (name == "semantic") {
    const auto dir = options.wordnet_dir.empty() ? default_wordnet_dir() : options.wordnet_dir;
    DiagnosticList why;
    std::shared_ptr<const WordNet> wn = WordNet::open(dir, why);
    if (!wn) {
      // One warning: where and why, and what is used instead.
      for (Diagnostic d : why.all()) {
        d.message += "; semantic similarity falls back to tfidf (word overlap)";
        sink.report(std::move(d));
      }
      return make_tfidf(t);
    }
    return make_semantic(t, std::move(wn));
  }
  if (name == "embeddings") {
    sink.error({}, "embeddings-need-provider",
               "the embeddings scorer needs an LLM provider with an embeddings endpoint (EmbeddingScorer::build)");
    return nullptr;
  }
  std::vector<std::string> notes;
  if (auto near = closest_match(name, scorer_names()); !near.empty()) notes.push_back("did you mean '" + near + "'?");
  notes.push_back("scorers: tfidf, semantic, embeddings");
  sink.error({}, "unknown-scorer", "unknown similarity scorer '" + std::string(name) + "'", std::move(notes));
  return nullptr;
}

}  // namespace persona::sim
