// The streaming runner: personas [0, count) of a shard, built by N worker threads, written in
// index order as JSONL through a small reorder buffer, plus the run's manifest.
//
// Output durability: lines go to `<out>.part` in whole lines (a line is appended to the buffer
// only when its persona is complete; the buffer is flushed every ~1 MiB and at the end) and the
// file is renamed to `<out>` when the run succeeds. So `<out>` only ever holds complete runs, and a
// killed run leaves `<out>.part` with whole lines except possibly a torn last line (no '\n').
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "engine/engine.hpp"

namespace persona::engine {

struct RunOptions {
  std::uint64_t count = 0;
  std::uint64_t seed = 0;
  unsigned threads = 1;
  unsigned shard_k = 1, shard_n = 1;  // shard K of N: indices i with i % N == K-1
  std::string out = "-";              // "-" = stdout (no manifest)
  bool manifest = true;               // write `<out>.manifest.json`
  std::string backend = "offline";
  std::string command_line;           // recorded in the manifest
  // Creates one backend per worker thread; default: OfflineBackend.
  std::function<std::unique_ptr<Backend>()> make_backend;
  // Called from the writer with the number of personas written so far (every 256 and at the end).
  std::function<void(std::uint64_t written, std::uint64_t total)> progress;
  std::size_t window = 0;  // reorder buffer slots; 0 = 4 * threads + 4
  // Continue an interrupted run: keep the whole lines of `<out>.part` (a torn last line is
  // dropped), check that they are this run's first personas, and append the rest.
  bool resume = false;
  // Recorded in the manifest's `model` (LLM runs): provider name and model name; never a key.
  std::string provider;
  std::string model_name;
  std::string llm_stats_json;  // the client's Stats (requests, retries, cache hits, cost), for the manifest
  double price_input_per_mtok = 0, price_output_per_mtok = 0, price_cached_input_per_mtok = 0;
};

struct RunTotals {
  std::uint64_t personas = 0;
  std::uint64_t attributes = 0;
  std::uint64_t filled = 0;
  std::uint64_t failed = 0;
  std::uint64_t tier[3] = {0, 0, 0};
  std::uint64_t source[4] = {0, 0, 0, 0};
  std::uint64_t with_problems = 0;
  std::uint64_t min_attributes = UINT64_MAX, max_attributes = 0;
  std::uint64_t bytes = 0;
  Usage usage;
  std::uint64_t not_applicable = 0;  // attributes the LLM answered null ("not applicable")
  std::uint64_t resumed = 0;         // personas kept from `<out>.part` by a resume
  double seconds = 0;
};

struct RunResult {
  bool ok = false;
  std::string error;  // runtime failure (unwritable output, ...)
  RunTotals totals;
  std::string manifest_path;
};

// Adds one persona to the totals.
void account(const Persona& p, RunTotals& t);
void merge(RunTotals& into, const RunTotals& t);
// Cost in USD of a usage at the options' prices (cached prompt tokens at the cached price).
double cost_usd(const RunOptions& opts, const Usage& u);

// Buffered output of whole lines to `<path>.part`, renamed to `<path>` by finish(). "-" is
// stdout; special files (/dev/null, FIFOs, terminals) are written in place, never renamed over.
class OutputFile {
 public:
  // append: keep what `<path>.part` holds (resume).
  bool open(const std::string& path, std::string& error, bool append = false);
  bool write(const std::string& lines, std::string& error);
  bool flush(std::string& error);  // fflush (a kill after this loses nothing written)
  bool finish(std::string& error);
  void abandon();  // closes, keeps `<path>.part`
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  [[nodiscard]] bool regular() const { return f_ != stdout && !special_; }

 private:
  bool special_ = false;
  std::FILE* f_ = nullptr;
  std::string path_, part_;
  std::uint64_t bytes_ = 0;
};

// What a resume keeps: the number of whole personas in `<out>.part` (checked to be positions
// 0..done-1 of this run's shard) and their totals. Truncates a torn last line away.
struct ResumeState {
  std::uint64_t done = 0;
  RunTotals totals;
  std::uint64_t bytes = 0;
};
bool scan_part(const Model& m, const RunOptions& opts, ResumeState& state, std::string& error);
// The run parameters a resume must match (recipe hash, seed, count, shard, backend), written to
// `<out>.run.json` when a run starts and removed when it succeeds.
std::string run_key(const Model& m, const RunOptions& opts);
bool write_run_key(const Model& m, const RunOptions& opts, std::string& error);
bool check_run_key(const Model& m, const RunOptions& opts, std::string& error);
// Writes `<out>.manifest.json` (through `.part` + rename); removes `<out>.run.json`.
bool write_manifest(const Model& m, const RunOptions& opts, const RunTotals& t, const std::string& started,
                    std::string& path, std::string& error);
std::string now_iso();

// The persona indices of a shard, in order: K-1, K-1+N, K-1+2N, ... below count.
std::uint64_t shard_size(std::uint64_t count, unsigned k, unsigned n);

RunResult run(const Model& m, const RunOptions& opts);

// The manifest as JSON text (used by run(); exposed for tests).
std::string manifest_json(const Model& m, const RunOptions& opts, const RunTotals& t, const std::string& started,
                          const std::string& finished);

}  // namespace persona::engine
