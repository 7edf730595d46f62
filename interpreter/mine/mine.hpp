// Stage 1 of the method: mining an attribute taxonomy from user-assistant conversations
// (`persona taxonomy mine`, docs/mining.md).
//
//   auto corpus = mine::read_corpus({"chats.jsonl.gz"}, {.max_message_chars = 4000}, sink);
//   auto tpl = mine::load_templates(mine::default_prompts_dir(), error);
//   mine::Options o;  o.out = "mined.tax";  o.concurrency = 32;
//   auto res = mine::run(*corpus, provider, *tpl, o, sink);     // classify .. write
//
// The steps (classify, extract, validate, merge, map, links, write) are one pipeline on one
// llm::Client; every answer is appended to a journal (OUT.journal) before it is used, so a killed
// run resumes where it stopped and writes the same bytes. The reading, scrubbing, prompts and
// answer checks are sans-IO pieces; only read_corpus, the journal and the output files touch disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"
#include "llm/providers.hpp"
#include "merge.hpp"

namespace persona::mine {

// ---- corpus ----

struct Exchange {
  std::uint32_t id = 0;  // position in the corpus (0-based), the evidence id of the taxonomy
  std::string file;
  std::uint32_t line = 0;       // 1-based line of the record
  std::uint32_t turn = 0;       // 0-based exchange within the record
  std::string user, assistant;  // scrubbed and truncated
};

struct CorpusOptions {
  std::size_t max_message_chars = 4000;  // longer messages are cut (whole UTF-8 characters) and counted
  bool scrub = true;                     // mask e-mail addresses, phone numbers, card and account numbers, IPs
};

struct CorpusStats {
  std::size_t files = 0, lines = 0, records = 0;
  std::size_t exchanges = 0;  // kept (non-empty user text)
  std::size_t empty = 0;      // exchanges or records without user text: skipped
  std::size_t malformed = 0;  // lines that are not a record of a known format: skipped
  std::size_t truncated = 0, truncated_chars = 0;
  std::map<std::string, std::size_t> formats;   // "openai", "sharegpt", "qa" -> records
  std::map<std::string, std::size_t> scrubbed;  // "email", "phone", ... -> masks
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct Corpus {
  std::vector<Exchange> exchanges;
  CorpusStats stats;
  std::string hash;  // SHA-256 of the exchanges as sent (after scrubbing and truncation)
};

// JSONL files (gzip when the file starts with the gzip magic), streamed. Formats per line: OpenAI
// {"messages":[{role, content}]}, ShareGPT {"conversations":[{from, value}]}, QA {"question",
// "answer"}; an exchange is a user message and the assistant reply that follows. A malformed line is
// a warning `malformed-line` at FILE:LINE (the first 20; all are counted) and skipped; an unreadable
// file is an error. No exchange at all is the error `empty-corpus`.
std::optional<Corpus> read_corpus(const std::vector<std::filesystem::path>& files, const CorpusOptions& o,
                                  DiagnosticSink& sink);
// Parses one line (exposed for tests and the fuzzer): the exchanges, or the reason it is malformed.
struct ParsedLine {
  std::vector<std::pair<std::string, std::string>> exchanges;  // (user, assistant), unscrubbed
  std::string format;                                          // "openai", "sharegpt", "qa"
  std::string error;                                           // set when malformed
  std::size_t empty = 0;
};
ParsedLine parse_line(std::string_view line);

// Masks identifiers: "[email]", "[iban]", "[card]", "[ip]", "[address]" (house number and street),
// "[postcode]" (UK style), "[phone]" (7 digits or more); counts by kind go to `counts`.
std::string scrub(std::string_view text, std::map<std::string, std::size_t>& counts);

// ---- names ----

// Synonymous words by WordNet (`dir`, default: the similarity stage's /usr/share/wordnet): a shared
// synset among the two commonest senses, or a derivation or pertainym link. Empty (stems only) with
// a warning `wordnet-unavailable` when the files are missing.
tax::WordOracle wordnet_oracle(const std::filesystem::path& dir, DiagnosticSink& sink);
// The merge settings of `taxonomy mine` and `taxonomy merge`: threshold 0.8, WordNet synonyms.
tax::MergeOptions default_merge_options(DiagnosticSink& sink);

// ---- prompts and answers (sans-IO) ----

struct Template {
  std::string system, user;
};
struct Templates {
  Template classify, extract, validate, map, links, repair;
  std::string hash;  // of every file, for the journal's fingerprint
};
std::filesystem::path default_prompts_dir();  // stdlib/prompts
std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error);

enum class Label { non, partial, full };
const char* to_string(Label l);

struct Candidate {
  std::vector<std::string> path;
  std::string value, evidence, description;
  bool evidence_found = false;  // the evidence occurs in the exchange (case-insensitive)
};

struct Category {
  std::string name, description;
};

// Each step's request: messages and strict schema (schema name "mine_<step>").
// `seed` (not 0) is sent as the request seed.
nlohmann::json classify_body(const llm::Provider& p, const Templates& t, const Exchange& e, std::uint64_t seed = 0);
nlohmann::json extract_body(const llm::Provider& p, const Templates& t, const Exchange& e, std::uint64_t seed = 0);
nlohmann::json validate_body(const llm::Provider& p, const Templates& t, const Exchange& e,
                             const std::vector<Candidate>& c, std::uint64_t seed = 0);
nlohmann::json map_body(const llm::Provider& p, const Templates& t, const std::string& top,
                        const std::vector<std::string>& children, const std::vector<Category>& cats,
                        std::uint64_t seed = 0);
nlohmann::json links_body(const llm::Provider& p, const Templates& t, const std::string& parent_path,
                          const std::vector<std::string>& children, const std::vector<std::string>& parents,
                          std::uint64_t seed = 0);
// The same request asked again after an answer that did not follow the schema.
nlohmann::json reask_body(const llm::Provider& p, const Templates& t, nlohmann::json body, const std::string& content,
                          const std::string& why);

// Answer checks: the parsed value in `out` (a normalised JSON, what the journal keeps), or the reason.
std::string check_classify(const std::string& content, nlohmann::json& out);
std::string check_extract(const std::string& content, const Exchange& e, nlohmann::json& out);
std::string check_validate(const std::string& content, std::size_t candidates, nlohmann::json& out);
std::string check_map(const std::string& content, const std::vector<Category>& cats, nlohmann::json& out);
std::string check_links(const std::string& content, const std::vector<std::string>& children,
                        const std::vector<std::string>& parents, nlohmann::json& out);

// ---- the pipeline ----

struct Progress {
  std::string step;
  std::size_t done = 0, total = 0;
  long prompt_tokens = 0, completion_tokens = 0;
  double cost = 0;
};

struct Options {
  std::string out;                   // the .tax written; OUT.provenance.json, OUT.report.json, OUT.journal beside it
  tax::MergeOptions merge;           // threshold 0.8, name similarity
  bool embeddings = false;           // compare sibling names by the provider's /v1/embeddings
  double embedding_threshold = 0.9;  // cosine at or above which siblings merge (embeddings)
  std::vector<Category> categories;  // the top level to map onto (stdlib.core's 12, or --top)
  int concurrency = 0;               // 0: the provider's max_concurrency
  std::string cache_path;            // "" = no response cache
  double budget_usd = -1;            // < 0: none
  bool resume = false;               // continue OUT.journal
  std::uint64_t seed = 0;            // sent as the request seed (providers that honour one)
  std::size_t max_candidates = 12;   // attributes kept per exchange
  bool classify_only = false;        // stop after classification: the report only, nothing written
  std::function<void(const Progress&)> progress;
  const std::atomic<bool>* stop = nullptr;  // SIGINT/SIGTERM: stop sending, keep the journal (resumable)
  std::string command_line;
};

struct StepCounts {
  std::size_t calls = 0, from_journal = 0, reasks = 0, off_schema = 0, failed = 0;
  llm::Usage usage;  // of the step's answers used (journal included)
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct Report {
  CorpusStats corpus;
  std::map<std::string, StepCounts> steps;  // classify, extract, validate, map, links, embeddings
  std::size_t label[3] = {0, 0, 0};         // non, partial, full
  std::size_t candidates = 0, evidence_unmatched = 0, kept = 0, dropped = 0, capped = 0;
  std::vector<std::string> drop_reasons;  // the first few
  tax::MergeReport merge;
  std::vector<std::pair<std::string, std::string>> top_mapping;  // mined top -> category (or "NEW: name")
  std::size_t links_checked = 0, links_moved = 0;
  std::size_t nodes = 0, leaves = 0;
  std::vector<std::pair<std::string, std::size_t>> categories;  // top-level node -> support
  llm::Usage usage;                                             // every answer used (journal and cache included)
  llm::Usage sent_usage;                                        // answers the provider sent in this run
  double cost_usd = 0;                                          // of `usage` at the provider's prices
  double seconds = 0;
  std::string provider, model;
  [[nodiscard]] std::string to_text() const;
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct Result {
  bool ok = false;
  bool interrupted = false;  // stopped by a signal or the budget; OUT.journal resumes
  std::string reason, error;
  Report report;
  std::string taxonomy_text;  // the .tax written
};

// The dry run: the calls and tokens the pipeline would spend (classification exact from the
// requests; later steps at `personalizable` of the exchanges).
struct Estimate {
  std::size_t calls = 0;
  long prompt_tokens = 0, completion_tokens = 0;
  double cost_usd = 0;
  std::map<std::string, std::size_t> calls_by_step;
  [[nodiscard]] std::string to_text() const;
};
Estimate estimate(const Corpus& c, const llm::Provider& p, const Templates& t, const Options& o,
                  double personalizable = 0.6);

Result run(const Corpus& c, const llm::Provider& p, const Templates& t, const Options& o, DiagnosticSink& sink);

}  // namespace persona::mine
