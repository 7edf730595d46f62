// Running a program over many personas: one executor, two schedulers, one run journal.
//
//   exec::RunOptions o;  o.count = 1000;  o.out = "people.jsonl";  o.threads = 4;
//   auto res = exec::run(*program, o);                      // offline: a thread pool
//   o.llm = &llm_backend;  o.concurrency = 32;
//   auto res = exec::run(*program, o);                      // LLM: the libcurl event loop
//
// The executor advances a persona step by step (engine::Step::run / apply) and hands each Ask to a
// backend; the offline scheduler answers at once on worker threads and writes through a reorder
// window, the event-loop scheduler keeps many personas in flight on one llm::Client. Both write
// through the journal (shards, resume, `.part`, torn lines, totals, manifest), so every run, and the
// REPL's :run (the event loop with concurrency 1), produces the same bytes for the same answers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "engine/population.hpp"
#include "engine/program.hpp"
#include "llm/client.hpp"
#include "record/record.hpp"

namespace persona::exec {

// ---- one persona ----

// A persona in progress: its state, the step it is at and the ask it waits for.
struct Job {
  engine::Persona p;
  std::size_t pc = 0;
  std::optional<engine::Ask> ask;  // set while waiting for an answer
  bool finished = false;
  bool aborted = false;      // a fatal answer (circuit open, cancelled): the persona is not written
  std::uint32_t reasks = 0;  // answers this persona's steps asked again
  engine::Answer answer;     // reused by the offline scheduler
  const engine::Population* population = nullptr;  // the run's calibrated population (kept by start)
};

// Starts persona `index` of a run with `seed`: begin, then advance to the first ask or the end.
void start(const engine::Program& prog, engine::Scratch& s, std::uint64_t seed, std::uint64_t index, Job& job);
// Applies an answer to the pending ask, then advances to the next ask or the end.
void deliver(const engine::Program& prog, engine::Scratch& s, Job& job, engine::Answer& answer);
// A whole persona with the offline backend.
void build_offline(const engine::Program& prog, const backend::Offline& offline, engine::Scratch& s, std::uint64_t seed,
                   std::uint64_t index, Job& job);

// ---- totals ----

struct RunTotals {
  std::uint64_t personas = 0;
  std::uint64_t attributes = 0;
  std::uint64_t filled = 0;
  std::uint64_t not_filled = 0;
  std::uint64_t tier[4] = {0, 0, 0, 0};           // near, mid, far, panel
  std::uint64_t source[4] = {0, 0, 0, 0};         // options, lexicon, llm, table (filled attributes)
  std::map<std::string, std::uint64_t> statuses;  // not-filled attributes by status ("not_applicable", "llm: ...")
  std::uint64_t with_problems = 0;
  std::uint64_t problems = 0;
  std::uint64_t min_attributes = UINT64_MAX, max_attributes = 0;
  std::uint64_t bytes = 0;
  engine::Usage usage;
  std::uint64_t resumed = 0;  // personas kept from `.part` by a resume
  std::uint64_t reasks = 0;   // answers asked again (this invocation)
  double seconds = 0;
  void add(const RunTotals& t);
};
// Adds one persona (as written) to the totals: the one accounting of the project.
void account(const record::PersonaRecord& r, RunTotals& t);
// Status counts grouped by kind ("not_applicable", "llm", "rejected", "truncated", ...).
std::map<std::string, std::uint64_t> status_kinds(const RunTotals& t);

// ---- a run ----

struct Progress {
  std::uint64_t done = 0, total = 0;
  int in_flight = 0, max_in_flight = 0;
  std::uint64_t prompt_tokens = 0, completion_tokens = 0;
  double cost = 0, seconds = 0, eta_seconds = -1;
};

struct RunOptions {
  std::uint64_t count = 0;
  std::uint64_t seed = 0;
  unsigned threads = 1;               // offline workers (the output is the same for any value)
  unsigned shard_k = 1, shard_n = 1;  // indices i with i % N == K-1
  std::string out = "-";              // "-": `stream` below (or stdout), no manifest
  record::Format format = record::Format::jsonl;
  bool resume = false;
  bool manifest = true;
  std::string command_line;  // the full command line, recorded in the manifest
  // Inputs beyond the recipe that the run depends on, for the fingerprint: name -> content hash.
  std::vector<std::pair<std::string, std::string>> inputs;
  std::function<void(std::string_view)> stream;  // with out == "-": where lines go (default stdout)
  std::function<void(const Progress&)> progress;
  const std::atomic<bool>* stop = nullptr;  // set (SIGINT, SIGTERM) to stop cleanly, resumably
  std::size_t window = 0;                   // offline reorder window; 0 = 4 * threads + 4
  // LLM runs: the backend (nullptr = offline) and the event loop's settings.
  const backend::Llm* llm = nullptr;
  int concurrency = 0;     // 0: the provider's max_concurrency
  std::string cache_path;  // "" = no cache
  double budget_usd = -1;  // the whole run's spend (resumed personas count); < 0: none
  llm::Options client;     // timeouts, retries, breaker
  // A finished LLM run fails (RunResult::ok false, the output still written) when no call succeeded
  // or when more than this share of its attributes failed (status `llm: ...` or `truncated`).
  double max_failed_share = 0.5;
  // An LLM run with calls pending and no answer from the server for this long stops, resumable
  // (reason "no answer from the server in N s"); 0: never.
  double stall_seconds = 300;
  // The recipe's `population` block for this seed and count (engine::Population::build); run()
  // builds it when the recipe has one and this is null.
  std::shared_ptr<const engine::Population> population;
};

struct RunResult {
  bool ok = false;           // false: a runtime failure (`error`) or an interruption
  bool interrupted = false;  // stopped cleanly; `.part` resumes
  std::string reason;        // why interrupted (signal, budget, circuit open)
  std::string error;
  RunTotals totals;
  std::string manifest_path;
  llm::Stats stats;
  double spent_usd = 0;               // the whole run's cost, resumed personas included
  bool output_written = false;        // with ok false: the output is complete but too much of it failed
  std::vector<std::string> warnings;  // e.g. an unusable response cache: said once, the run goes on
};

RunResult run(const engine::Program& prog, const RunOptions& opts);

// The personas of a shard: K-1, K-1+N, ... below count.
std::uint64_t shard_size(std::uint64_t count, unsigned k, unsigned n);
// Cost in USD of a usage at a provider's prices (cached prompt tokens at the cached price).
double cost_usd(const llm::Provider& p, const engine::Usage& u);

// ---- fingerprints and manifests ----

// What a resume must match and what `persona diff` compares: the recipe's meaning (statement by
// statement; comments and layout do not count), the content hash of every file the run reads
// (recipe and imports, user tables, taxonomy, prompt templates), the provider, model and settings
// that change answers, the engine version, and the run parameters (seed, count, shard, format).
nlohmann::ordered_json fingerprint(const engine::Program& prog, const RunOptions& opts);
// "" when `was` and `now` agree; otherwise a message naming the first input that changed and how.
std::string fingerprint_difference(const nlohmann::ordered_json& was, const nlohmann::ordered_json& now);
// Every difference, in fingerprint order (`persona diff`); `earlier` names the run `was` comes from.
std::vector<std::string> fingerprint_differences(const nlohmann::ordered_json& was, const nlohmann::ordered_json& now,
                                                 const std::string& earlier);
nlohmann::ordered_json manifest(const engine::Program& prog, const RunOptions& opts, const RunResult& res,
                                const std::string& started, const std::string& finished);
std::string now_iso();

}  // namespace persona::exec
