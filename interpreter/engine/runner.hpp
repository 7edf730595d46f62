// The streaming runner: personas [0, count) of a shard, built by N worker threads, written in
// index order as JSONL through a small reorder buffer, plus the run's manifest.
//
// Output durability: lines go to `<out>.part` in whole lines (a line is appended to the buffer
// only when its persona is complete; the buffer is flushed every ~1 MiB and at the end) and the
// file is renamed to `<out>` when the run succeeds. So `<out>` only ever holds complete runs, and a
// killed run leaves `<out>.part` with whole lines except possibly a torn last line (no '\n').
#pragma once

#include <cstdint>
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
  double seconds = 0;
};

struct RunResult {
  bool ok = false;
  std::string error;  // runtime failure (unwritable output, ...)
  RunTotals totals;
  std::string manifest_path;
};

// The persona indices of a shard, in order: K-1, K-1+N, K-1+2N, ... below count.
std::uint64_t shard_size(std::uint64_t count, unsigned k, unsigned n);

RunResult run(const Model& m, const RunOptions& opts);

// The manifest as JSON text (used by run(); exposed for tests).
std::string manifest_json(const Model& m, const RunOptions& opts, const RunTotals& t, const std::string& started,
                          const std::string& finished);

}  // namespace persona::engine
