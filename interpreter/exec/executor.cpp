// The executor (a persona advanced step by step) and the run totals.
#include <algorithm>
#include <ctime>

#include "exec/exec.hpp"

namespace persona::exec {

namespace {

// Runs steps from job.pc until one asks for an answer or the program ends.
void advance(const engine::Program& prog, engine::Scratch& s, Job& job) {
  while (job.pc < prog.size()) {
    job.ask = prog.step(job.pc).run(job.p, s);
    if (job.ask) return;
    ++job.pc;
  }
  job.finished = true;
}

}  // namespace

void start(const engine::Program& prog, engine::Scratch& s, std::uint64_t seed, std::uint64_t index, Job& job) {
  prog.begin(seed, index, job.p, job.population);
  job.pc = 0;
  job.ask.reset();
  job.finished = false;
  job.aborted = false;
  job.reasks = 0;
  advance(prog, s, job);
}

void deliver(const engine::Program& prog, engine::Scratch& s, Job& job, engine::Answer& answer) {
  job.p.usage += answer.usage;
  if (answer.fatal) {
    job.aborted = true;
    job.ask.reset();
    return;
  }
  const engine::Ask ask = std::move(*job.ask);
  job.ask = prog.step(job.pc).apply(job.p, s, ask, answer);
  if (job.ask) {
    ++job.reasks;
    return;
  }
  ++job.pc;
  advance(prog, s, job);
}

void build_offline(const engine::Program& prog, const backend::Offline& offline, engine::Scratch& s, std::uint64_t seed,
                   std::uint64_t index, Job& job) {
  start(prog, s, seed, index, job);
  while (job.ask) {
    offline.answer(prog, job.p, *job.ask, job.answer);
    deliver(prog, s, job, job.answer);
  }
}

// ---------------------------------------------------------------------------------------------
// Totals

void RunTotals::add(const RunTotals& t) {
  personas += t.personas;
  attributes += t.attributes;
  filled += t.filled;
  not_filled += t.not_filled;
  for (int i = 0; i < 4; ++i) tier[i] += t.tier[i];
  for (int i = 0; i < 4; ++i) source[i] += t.source[i];
  for (const auto& [k, v] : t.statuses) statuses[k] += v;
  with_problems += t.with_problems;
  problems += t.problems;
  min_attributes = std::min(min_attributes, t.min_attributes);
  max_attributes = std::max(max_attributes, t.max_attributes);
  usage += t.usage;
  reasks += t.reasks;
}

void account(const record::PersonaRecord& r, RunTotals& t) {
  ++t.personas;
  const std::uint64_t n = r.attributes.size();
  t.attributes += n;
  t.min_attributes = std::min(t.min_attributes, n);
  t.max_attributes = std::max(t.max_attributes, n);
  for (const auto& a : r.attributes) {
    ++t.tier[a.tier == "near" ? 0 : a.tier == "mid" ? 1 : a.tier == "panel" ? 3 : 2];
    if (a.status == "filled") {
      ++t.filled;
      ++t.source[a.source == "options" ? 0 : a.source == "lexicon" ? 1 : a.source == "llm" ? 2 : 3];
    } else {
      ++t.not_filled;
      ++t.statuses[a.status];
    }
  }
  if (!r.problems.empty()) ++t.with_problems;
  t.problems += r.problems.size();
  t.usage.calls += r.usage.calls;
  t.usage.prompt_tokens += r.usage.prompt_tokens;
  t.usage.completion_tokens += r.usage.completion_tokens;
  t.usage.cached_tokens += r.usage.cached_tokens;
}

std::map<std::string, std::uint64_t> status_kinds(const RunTotals& t) {
  std::map<std::string, std::uint64_t> out;
  for (const auto& [status, n] : t.statuses) {
    const auto colon = status.find(':');
    out[colon == std::string::npos ? status : status.substr(0, colon)] += n;
  }
  return out;
}

std::uint64_t shard_size(std::uint64_t count, unsigned k, unsigned n) {
  if (n == 0 || k == 0 || k > n) return 0;
  const std::uint64_t first = k - 1;
  if (first >= count) return 0;
  return (count - first + n - 1) / n;
}

double cost_usd(const llm::Provider& p, const engine::Usage& u) {
  const double cached = static_cast<double>(u.cached_tokens);
  const double uncached = std::max(0.0, static_cast<double>(u.prompt_tokens) - cached);
  return (uncached * p.price_input_per_mtok + cached * p.price_cached_input_per_mtok +
          static_cast<double>(u.completion_tokens) * p.price_output_per_mtok) /
         1e6;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace persona::exec
