// persona merge OUT SHARD...: the shards of one run (persona run --shard K/N or --shard auto) joined
// into the output and manifest of the unsharded run.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/text.hpp"
#include "cli/commands.hpp"
#include "exec/merge.hpp"

namespace persona::cli {

namespace {

struct MergeArgs {
  std::string out;
  std::vector<std::string> shards;
  bool quiet = false;
};

int do_merge(const MergeArgs& a) {
  exec::MergeOptions o;
  o.out = a.out;
  o.shards = a.shards;
  o.command_line = invocation();
  DiagnosticList diags;
  const auto res = exec::merge(o, diags);
  for (const auto& d : diags.all()) {
    std::cerr << (d.where.file.empty() ? std::string("persona merge") : to_string(d.where)) << ": "
              << (d.severity == Severity::error ? "error" : "warning") << ": " << d.message << "\n";
    for (const auto& n : d.notes) std::cerr << "  note: " << n << "\n";
  }
  if (!res.ok) {
    bool write_failure = false;
    for (const auto& d : diags.all()) write_failure = write_failure || d.code == "merge-write";
    std::cerr << "persona merge: nothing written to " << a.out << "\n";
    return write_failure ? Exit::runtime_error : Exit::user_error;
  }
  if (!a.quiet)
    std::cerr << fmt::format("merged {} shards ({} personas, {} bytes) into {}; manifest {}\n", res.shards,
                             res.personas, res.bytes, text::join(res.files, " + "), res.manifest_path);
  return Exit::ok;
}

}  // namespace

void add_merge_command(CLI::App& root, int& code) {
  auto ma = std::make_shared<MergeArgs>();
  CLI::App* merge =
      root.add_subcommand("merge", "Join the shards of a run (--shard K/N, --shard auto) into the unsharded output");
  merge->add_option("out", ma->out, "The merged output path (the CSV pair is derived from it as for run)")->required();
  merge->add_option("shards", ma->shards, "Each shard's output path (its --out; the manifest is PATH.manifest.json)")
      ->required();
  merge->add_flag("--quiet,-q", ma->quiet, "No summary on stderr");
  merge->footer(
      "The shards must come from the same recipe, inputs, model, seed, count and format (their manifests' "
      "fingerprints), split the same N ways, every K of 1..N once. The output equals the unsharded run's byte "
      "for byte, with a manifest that sums the shards' counts, usage and cost. Exit status: 0 merged; 1 a "
      "missing, duplicate, overlapping, unfinished or foreign shard (nothing written); 3 the output could not "
      "be written.");
  merge->callback([ma, &code] { code = do_merge(*ma); });
}

}  // namespace persona::cli
