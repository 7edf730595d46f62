// The LLM judge of `persona eval --llm NAME --judge-sample N`, as sans-IO pieces: which personas are
// judged, the request for one persona, the parsing and validation of an answer, and the token
// estimate. The executor (cache, budget, dry-run, progress) sends the requests and feeds the answers
// back; nothing here does I/O except loading the rubric templates.
//
//   judge::Chooser pick(n, seed);                      // pass 1: offer every id
//   for (...) pick.offer(rec.id);
//   for (...) if (pick.chosen(rec.id)) {               // pass 2: build the requests
//     auto rq = judge::build_rating(rec, rubric);      // -> executor -> answer text
//     if (auto r = judge::parse_rating(answer, err)) summary.add_rating(*r); else summary.fail(err);
//   }
//   judge::apply(summary, report);                      // judge_uniqueness, ... in report.metrics
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"
#include "eval/eval.hpp"
#include "record/record.hpp"

namespace persona::eval::judge {

// A prompt template: the system message, then the user message (split at a line "---").
struct Template {
  std::string system, user;
};
struct Rubric {
  Template rating;    // stdlib/prompts/judge_rating.txt: {profile}, {narrative}
  Template recovery;  // stdlib/prompts/judge_recovery.txt: {narrative}
  std::string hash;   // SHA-256 of both files (cache keys, manifests)
};
std::filesystem::path default_rubric_dir();  // stdlib/prompts
std::optional<Rubric> load_rubric(const std::filesystem::path& dir, DiagnosticSink& sink);

enum class Kind { rating, recovery };

struct Request {
  Kind kind = Kind::rating;
  std::string persona_id;
  std::string system, user;
  std::string schema;                                     // JSON Schema of the answer (strict structured output)
  std::int64_t prompt_tokens = 0, completion_tokens = 0;  // estimates
  double temperature = 0;  // a judge should answer the same way twice (and hit the cache)
};

// The profile as the judge sees it: anchors, story, then filled attributes ("Parent > Leaf: value"),
// at most `max_attributes` of them.
std::string profile_text(const record::PersonaRecord& r, std::size_t max_attributes = 300);
Request build_rating(const record::PersonaRecord& r, const Rubric& rubric);
Request build_recovery(const record::PersonaRecord& r, const Rubric& rubric);

struct Rating {
  int uniqueness = 0, actionability = 0;  // 1..5
  std::string reason;
};
// Accepts the JSON object alone or inside a ```json fence; scores must be whole numbers 1..5
// (a whole number written as 4.0 is accepted). On failure `error` says why.
std::optional<Rating> parse_rating(std::string_view answer, std::string& error);

struct Fact {
  std::string attribute, value;
};
std::optional<std::vector<Fact>> parse_recovery(std::string_view answer, std::string& error);
// How many of the persona's facts (anchors, story, filled attributes) the listed facts recover: a
// listed fact recovers a persona fact when their names agree (folded equal, or word Jaccard >= 0.5
// with the leaf or anchor name) and their values agree (folded equal, one folded value containing
// the other, or word Jaccard >= 0.5). Each persona fact counts once.
struct Recovery {
  std::size_t listed = 0, recovered = 0;
};
Recovery score_recovery(const record::PersonaRecord& r, const std::vector<Fact>& facts);

// Which personas are judged: the `n` whose hash of (seed, id) is smallest, so the choice depends on
// neither the order nor the size of the file beyond those ids. Streaming, O(n) memory.
class Chooser {
 public:
  Chooser(std::size_t n, std::uint64_t seed);
  void offer(std::string_view id);
  [[nodiscard]] bool chosen(std::string_view id) const;  // after every offer
  [[nodiscard]] std::vector<std::string> ids() const;    // the chosen ids, in hash order
  [[nodiscard]] std::size_t size() const { return ids_.size(); }

 private:
  [[nodiscard]] std::uint64_t key(std::string_view id) const;
  std::size_t n_;
  std::uint64_t seed_;
  std::vector<std::pair<std::uint64_t, std::string>> ids_;  // a max-heap on the key
};

// The judge's figures for one file.
struct Summary {
  std::size_t rated = 0, recovered_personas = 0, failures = 0;
  double uniqueness = 0, actionability = 0, recovered = 0, listed = 0;  // sums
  std::vector<std::string> errors;                                      // the first 20
  void add(const Rating& r);
  void add(const Recovery& r);
  void fail(std::string error);
};
// Puts judge_uniqueness, judge_actionability, judge_recovered, judge_listed, judge_sample and
// judge_failures into report.metrics.
void apply(const Summary& s, FileReport& report);

}  // namespace persona::eval::judge
