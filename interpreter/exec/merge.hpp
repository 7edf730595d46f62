// Runs split across machines: the shard a scheduler assigns (`--shard auto`) and `persona merge`,
// which joins the shards' outputs into the file and manifest an unsharded run writes.
//
//   unsigned k, n;  std::string why;
//   if (!exec::shard_from_environment(std::getenv, std::nullopt, k, n, why)) fail(why);
//
//   exec::MergeOptions m;  m.out = "people.jsonl";  m.shards = {"p.1.jsonl", "p.2.jsonl"};
//   DiagnosticList diags;
//   auto res = exec::merge(m, diags);      // !res.ok: diags name the refused shard; nothing written
//
// Shard K of N holds the personas i with i % N == K-1, in index order; the merge interleaves them
// back (persona i is line i / N of shard i % N + 1) and copies each persona's bytes unchanged, so the
// merged file equals the unsharded run's byte for byte, in JSONL or in the CSV pair.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "diag/diagnostic.hpp"

namespace persona::exec {

// ---- the shard from the scheduler ----

// `--shard auto`: K and N from a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT,
// SLURM_ARRAY_TASK_MIN; SLURM_ARRAY_TASK_MAX and SLURM_ARRAY_TASK_STEP checked when set) or a
// Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based, with `shards` or PERSONA_SHARDS for N).
// `env` reads a variable (nullptr when unset). False with `error` naming the variable that is
// missing or inconsistent.
bool shard_from_environment(const std::function<const char*(const char*)>& env, std::optional<unsigned> shards,
                            unsigned& k, unsigned& n, std::string& error);

// ---- merging shards ----

struct MergeOptions {
  // Each shard's output path as given to `persona run --out` (its manifest is PATH.manifest.json);
  // a manifest path (PATH.manifest.json) names the same shard.
  std::vector<std::string> shards;
  std::string out;           // the merged output path (the CSV pair is derived from it as for run)
  std::string command_line;  // the merge's command line, recorded in the merged manifest
};

struct MergeResult {
  bool ok = false;
  std::uint64_t personas = 0;
  std::uint64_t bytes = 0;
  unsigned shards = 0;
  std::vector<std::string> files;  // the output files written
  std::string manifest_path;
};

// Checks every shard (a finished run's manifest; the same fingerprint but for the shard; the same N;
// every K of 1..N exactly once; every persona index of the shard once, in order, and nothing else),
// then writes the merged output through `.part` files renamed into place only when everything
// checked, and the merged manifest. Problems go to `diags` (errors naming the shard file, codes
// "shard-unreadable", "shard-unfinished", "shard-foreign", "shard-duplicate", "shard-missing",
// "shard-overlap", "shard-damaged", "shard-unmergeable" (csv-wide shards), "merge-write"); on any
// error nothing is left at `out`.
MergeResult merge(const MergeOptions& opts, DiagnosticSink& diags);

// The manifest of the whole run from the shards' manifests (in shard order, 1..N): counts, usage,
// tokens and cost summed; the fingerprint's shard 1/1. What legitimately differs from an unsharded
// run's manifest is listed in docs/scaling.md.
nlohmann::ordered_json merged_manifest(const std::vector<nlohmann::ordered_json>& shards,
                                       const std::vector<std::string>& paths, const std::string& out,
                                       std::uint64_t bytes, const std::string& command_line);

}  // namespace persona::exec
