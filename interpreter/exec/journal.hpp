// The run journal (internal to exec): the output files of a run, written whole personas at a time
// to `.part` files that are renamed into place only when the run succeeds; the run record that a
// resume checks; the resume scan (torn tail dropped, kept personas read back as records and
// accounted); the manifest. One module for every run, offline or LLM.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exec/exec.hpp"

namespace persona::exec {

class Journal {
 public:
  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens the output: a fresh `.part` per file (or the stream for "-"), or with opts.resume the
  // interrupted run's `.part` files after checking the run record against `fp`.
  bool open(const engine::Program& prog, const RunOptions& opts, const nlohmann::ordered_json& fp, std::string& error);
  [[nodiscard]] std::uint64_t done() const { return done_; }
  [[nodiscard]] const RunTotals& resumed() const { return resumed_; }
  [[nodiscard]] std::size_t files() const { return files_.size(); }
  // Whether a manifest is written (a regular output path).
  [[nodiscard]] bool regular() const { return regular_; }

  // Formats one persona into per-file buffers (bufs.size() == files()). Thread-safe.
  void format(const record::PersonaRecord& r, std::vector<std::string>& bufs) const;
  // Appends formatted personas; flushes about every MiB.
  bool write(std::vector<std::string>& bufs, std::string& error);
  bool flush(std::string& error);
  // Flushes and closes every `.part` (nothing is renamed yet).
  bool close(std::string& error);
  // Renames every `.part` into place: after the manifest is written, so an output in place always
  // has its manifest beside it.
  bool commit(std::string& error);
  // Closes and keeps the `.part` files and the run record (for --resume).
  void abandon();
  // Writes `<out>.manifest.json` (through `.part` + rename) and removes the run record.
  bool write_manifest(const nlohmann::ordered_json& m, std::string& path, std::string& error);
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }

 private:
  struct File {
    std::string path, part;
    std::FILE* f = nullptr;
    std::string pending;
  };
  bool scan(const engine::Program& prog, const RunOptions& opts, std::string& error);
  // `<out>.lock`, held (flock) from open to the end of the run: a second run on the same output is
  // refused, naming the first one's pid.
  bool lock(std::string& error);
  void unlock();
  std::vector<File> files_;
  RunOptions opts_;
  record::CsvColumns columns_;
  bool stream_ = false, special_ = false, regular_ = false;
  std::uint64_t done_ = 0, bytes_ = 0;
  RunTotals resumed_;
  std::string record_path_;
  std::string lock_path_;
  int lock_fd_ = -1;
};

// The run's input files (recipe and imports, user tables, a taxonomy file, the provider's
// persona.toml) that are one of its output files (PATH, its `.part`, the CSV pair, the manifest,
// the run record, the lock, the response cache), compared by std::filesystem::equivalent: a message
// naming both, or "" when none is.
std::string output_overwrites_input(const engine::Program& prog, const RunOptions& opts);

}  // namespace persona::exec
