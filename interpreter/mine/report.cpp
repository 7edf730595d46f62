// The mining report (text for the terminal, JSON beside the taxonomy) and the dry run's estimate.
#include <fmt/format.h>

#include "mine.hpp"

namespace persona::mine {

nlohmann::ordered_json StepCounts::to_json() const {
  return {{"calls", calls},
          {"from_journal", from_journal},
          {"reasks", reasks},
          {"off_schema", off_schema},
          {"failed", failed}};
}

nlohmann::ordered_json Report::to_json() const {
  nlohmann::ordered_json j;
  j["provider"] = provider;
  j["model"] = model;
  j["corpus"] = corpus.to_json();
  auto steps_j = nlohmann::ordered_json::object();
  for (const char* s : {"classify", "extract", "validate", "embeddings", "map", "links"})
    if (auto it = steps.find(s); it != steps.end()) steps_j[s] = it->second.to_json();
  j["steps"] = steps_j;
  const double n = static_cast<double>(label[0] + label[1] + label[2]);
  j["personalizable"] = {{"non", label[0]},
                         {"partial", label[1]},
                         {"full", label[2]},
                         {"share_partial", n > 0 ? label[1] / n : 0.0},
                         {"share_full", n > 0 ? label[2] / n : 0.0}};
  j["candidates"] = {{"extracted", candidates}, {"evidence_unmatched", evidence_unmatched},
                     {"capped", capped},        {"kept", kept},
                     {"dropped", dropped},      {"why", drop_reasons}};
  auto tm = nlohmann::ordered_json::array();
  for (const auto& [from, to] : top_mapping) tm.push_back({{"mined", from}, {"category", to}});
  j["top_mapping"] = tm;
  j["merge"] = merge.to_json();
  j["links"] = {{"checked", links_checked}, {"moved", links_moved}};
  j["taxonomy"] = {{"nodes", nodes}, {"leaves", leaves}};
  auto cats = nlohmann::ordered_json::array();
  for (const auto& [name, support] : categories) cats.push_back({{"name", name}, {"support", support}});
  j["categories"] = cats;
  j["usage"] = {{"prompt_tokens", usage.prompt_tokens},
                {"completion_tokens", usage.completion_tokens},
                {"sent_prompt_tokens", sent_usage.prompt_tokens},
                {"sent_completion_tokens", sent_usage.completion_tokens},
                {"cost_usd", cost_usd}};
  j["seconds"] = seconds;
  return j;
}

std::string Report::to_text() const {
  std::string o;
  o += fmt::format(
      "corpus      {} files, {} lines, {} records, {} exchanges ({} empty, {} malformed lines skipped, {} "
      "messages truncated by {} bytes)\n",
      corpus.files, corpus.lines, corpus.records, corpus.exchanges, corpus.empty, corpus.malformed, corpus.truncated,
      corpus.truncated_chars);
  if (!corpus.scrubbed.empty()) {
    std::string s;
    for (const auto& [k, n] : corpus.scrubbed) s += (s.empty() ? "" : ", ") + fmt::format("{} {}", n, k);
    o += "scrubbed    " + s + "\n";
  }
  for (const char* s : {"classify", "extract", "validate", "embeddings", "map", "links"}) {
    auto it = steps.find(s);
    if (it == steps.end()) continue;
    const auto& c = it->second;
    o += fmt::format("{:<11} {} calls ({} from the journal), {} re-asked, {} off-schema, {} failed; {} + {} tokens\n",
                     s, c.calls + c.from_journal, c.from_journal, c.reasks, c.off_schema, c.failed,
                     c.usage.prompt_tokens, c.usage.completion_tokens);
  }
  const double n = static_cast<double>(label[0] + label[1] + label[2]);
  if (n > 0)
    o += fmt::format("personal    {} non ({:.0f}%), {} partial ({:.0f}%), {} full ({:.0f}%)\n", label[0],
                     100 * label[0] / n, label[1], 100 * label[1] / n, label[2], 100 * label[2] / n);
  o += fmt::format(
      "candidates  {} extracted ({} without their evidence in the exchange, {} over the cap), {} kept, {} "
      "dropped by validation\n",
      candidates, evidence_unmatched, capped, kept, dropped);
  for (const auto& [from, to] : top_mapping) o += "map         " + from + " -> " + to + "\n";
  o += fmt::format("merge       {} merges, {} link corrections of {} links checked, {} folded\n", merge.merges.size(),
                   links_moved, links_checked, merge.folded.size());
  o += fmt::format("taxonomy    {} nodes, {} leaves\n", nodes, leaves);
  for (const auto& [name, support] : categories) o += fmt::format("  {:<46} support {}\n", name, support);
  o += fmt::format("tokens      {} prompt + {} completion (sent in this run: {} + {}), ${:.4f}, {:.1f} s\n",
                   usage.prompt_tokens, usage.completion_tokens, sent_usage.prompt_tokens, sent_usage.completion_tokens,
                   cost_usd, seconds);
  return o;
}

std::string Estimate::to_text() const {
  std::string o = fmt::format("dry run: about {} calls, {} prompt + {} completion tokens, ${:.4f}\n", calls,
                              prompt_tokens, completion_tokens, cost_usd);
  for (const auto& [s, n] : calls_by_step) o += fmt::format("  {:<9} {} calls\n", s, n);
  return o;
}

}  // namespace persona::mine
