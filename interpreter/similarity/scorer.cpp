// The scorer interface, the WordNet location and the factory by name.
#include "similarity/scorer.hpp"

#include <cstdlib>
#include <deque>
#include <mutex>

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

bool wordnet_present(const std::filesystem::path& dir, DiagnosticSink& sink) {
  for (const char* pos : {"noun", "verb", "adj", "adv"})
    for (const std::string& name :
         {std::string("index.") + pos, std::string("data.") + pos, std::string(pos) + ".exc"}) {
      std::error_code ec;
      const auto file = dir / name;
      if (std::filesystem::is_regular_file(file, ec)) continue;
      SourceRange where;
      where.file = file.string();
      sink.warning(where, "wordnet-unavailable",
                   "WordNet cannot be used: the file is missing; semantic similarity falls back to tfidf (word "
                   "overlap)",
                   {"install the Debian package wordnet-base (bash .ci/setup does) or set WNSEARCHDIR to its "
                    "dict folder"});
      return false;
    }
  return true;
}

namespace {

struct Shared {
  std::string key;
  std::shared_ptr<const tax::Taxonomy> taxonomy;
  std::shared_ptr<const Scorer> scorer;
  DiagnosticList diags;
};

// Holds the taxonomy a shared scorer refers to for as long as anyone holds the scorer.
struct Holder {
  std::shared_ptr<const tax::Taxonomy> taxonomy;
  std::unique_ptr<Scorer> scorer;
};

}  // namespace

std::shared_ptr<const Scorer> shared_scorer(std::string_view name, std::shared_ptr<const tax::Taxonomy> t,
                                            DiagnosticSink& sink, const Options& options) {
  if (!t) return nullptr;
  static std::mutex mu;
  static std::deque<Shared> memo;  // a few entries: one per taxonomy a process uses
  const auto dir = options.wordnet_dir.empty() ? default_wordnet_dir() : options.wordnet_dir;
  const std::string key =
      std::string(name) + '\n' + dir.string() + '\n' + t->content_hash() + '\n' + std::to_string(t->size());
  std::lock_guard lock(mu);
  for (const auto& e : memo)
    if (e.key == key) {
      for (const auto& d : e.diags.all()) sink.report(d);
      return e.scorer;
    }
  Shared e;
  e.key = key;
  e.taxonomy = t;
  Options o = options;
  o.wordnet_dir = dir;
  auto holder = std::make_shared<Holder>();
  holder->taxonomy = t;
  holder->scorer = make_scorer(name, *t, e.diags, o);
  for (const auto& d : e.diags.all()) sink.report(d);
  if (!holder->scorer) return nullptr;
  e.scorer = std::shared_ptr<const Scorer>(holder, holder->scorer.get());
  if (memo.size() >= 4) memo.pop_front();
  memo.push_back(std::move(e));
  return memo.back().scorer;
}

}  // namespace persona::sim
