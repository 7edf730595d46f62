// persona diff A.manifest.json B.manifest.json: what differs between two runs' inputs (recipe
// statement by statement, file hashes, model and settings, parameters) and in their results.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/files.hpp"
#include "cli/commands.hpp"
#include "exec/exec.hpp"

namespace persona::cli {

namespace {

using json = nlohmann::ordered_json;

struct DiffArgs {
  std::string a, b;
};

// A manifest's JSON, or nullopt with the reason said on stderr.
std::optional<json> load_manifest(const std::string& path) {
  const auto r = files::read(path);
  if (!r.ok()) {
    std::cerr << "persona diff: " << r.error << "\n";
    return std::nullopt;
  }
  json j = json::parse(*r.text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::cerr << "persona diff: " << path << ": not a JSON object (is it a run's .manifest.json?)\n";
    return std::nullopt;
  }
  if (!j.contains("fingerprint") || !j["fingerprint"].is_object()) {
    std::cerr << "persona diff: " << path << ": no 'fingerprint' (a manifest written before persona 0.3?)\n";
    return std::nullopt;
  }
  return j;
}

const json* at(const json& j, std::initializer_list<const char*> keys) {
  const json* p = &j;
  for (const char* k : keys) {
    if (!p->is_object() || !p->contains(k)) return nullptr;
    p = &(*p)[k];
  }
  return p;
}

int do_diff(const DiffArgs& a) {
  const auto ma = load_manifest(a.a);
  const auto mb = load_manifest(a.b);
  if (!ma || !mb) return Exit::usage_error;
  const auto inputs = exec::fingerprint_differences((*ma)["fingerprint"], (*mb)["fingerprint"], a.a);
  std::cout << fmt::format(
      "inputs: {}\n", inputs.empty() ? std::string("the same")
                                     : fmt::format("{} difference{}", inputs.size(), inputs.size() == 1 ? "" : "s"));
  for (const auto& d : inputs) std::cout << "  " << d << "\n";
  // The results side by side, where they differ.
  std::vector<std::pair<std::string, std::initializer_list<const char*>>> figures = {
      {"personas", {"counts", "personas"}},
      {"attributes", {"counts", "attributes"}},
      {"filled", {"counts", "filled"}},
      {"not filled", {"counts", "not_filled"}},
      {"answers asked again", {"counts", "reasked"}},
      {"personas with problems", {"counts", "personas_with_problems"}},
      {"LLM calls", {"totals", "calls"}},
      {"prompt tokens", {"totals", "prompt_tokens"}},
      {"completion tokens", {"totals", "completion_tokens"}},
      {"cost (USD)", {"totals", "cost_usd"}},
      {"output bytes", {"output", "bytes"}},
  };
  std::size_t differing = 0;
  std::string table;
  for (const auto& [label, path] : figures) {
    const json* x = at(*ma, path);
    const json* y = at(*mb, path);
    if (x == nullptr && y == nullptr) continue;
    if (x != nullptr && y != nullptr && *x == *y) continue;
    ++differing;
    table +=
        fmt::format("  {:<24} {:>14} {:>14}\n", label, x != nullptr ? x->dump() : "-", y != nullptr ? y->dump() : "-");
  }
  std::cout << fmt::format("results: {}\n",
                           differing == 0 ? std::string("the same counts")
                                          : fmt::format("{} figure{} differ", differing, differing == 1 ? "" : "s"));
  if (differing > 0) std::cout << fmt::format("  {:<24} {:>14} {:>14}\n", "", "A", "B") << table;
  return inputs.empty() && differing == 0 ? Exit::ok : Exit::user_error;
}

}  // namespace

void add_diff_command(CLI::App& root, int& code) {
  auto da = std::make_shared<DiffArgs>();
  CLI::App* diff = root.add_subcommand("diff", "What differs between two runs: inputs and results of two manifests");
  diff->add_option("a", da->a, "The first run's .manifest.json")->required();
  diff->add_option("b", da->b, "The second run's .manifest.json")->required();
  diff->footer(
      "Exit status: 0 when the runs had the same inputs and counts, 1 when they differ, 2 on unreadable "
      "manifests.");
  diff->callback([da, &code] { code = do_diff(*da); });
}

}  // namespace persona::cli
