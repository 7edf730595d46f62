// The streaming runner and the manifest.
#include "engine/runner.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/plan.hpp"

#ifndef PERSONA_VERSION
#define PERSONA_VERSION "0.0.0"
#endif

namespace persona::engine {

std::uint64_t shard_size(std::uint64_t count, unsigned k, unsigned n) {
  if (n == 0 || k == 0 || k > n) return 0;
  const std::uint64_t first = k - 1;
  if (first >= count) return 0;
  return (count - first + n - 1) / n;
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void account(const Persona& p, RunTotals& t) {
  ++t.personas;
  const std::uint64_t n = p.attributes.size();
  t.attributes += n;
  t.min_attributes = std::min(t.min_attributes, n);
  t.max_attributes = std::max(t.max_attributes, n);
  for (const Slot& s : p.attributes) {
    ++t.tier[static_cast<int>(s.tier)];
    if (s.status == SlotStatus::filled) {
      ++t.filled;
      ++t.source[static_cast<int>(s.source)];
    } else {
      ++t.failed;
      if (s.reason == "not_applicable") ++t.not_applicable;
    }
  }
  if (!p.problems.empty()) ++t.with_problems;
  t.usage += p.usage;
}

void merge(RunTotals& into, const RunTotals& t) {
  into.personas += t.personas;
  into.attributes += t.attributes;
  into.filled += t.filled;
  into.failed += t.failed;
  into.not_applicable += t.not_applicable;
  for (int i = 0; i < 3; ++i) into.tier[i] += t.tier[i];
  for (int i = 0; i < 4; ++i) into.source[i] += t.source[i];
  into.with_problems += t.with_problems;
  into.min_attributes = std::min(into.min_attributes, t.min_attributes);
  into.max_attributes = std::max(into.max_attributes, t.max_attributes);
  into.usage += t.usage;
}

double cost_usd(const RunOptions& o, const Usage& u) {
  const double cached = static_cast<double>(u.cached_tokens);
  const double uncached = static_cast<double>(u.prompt_tokens) - cached;
  return (std::max(0.0, uncached) * o.price_input_per_mtok + cached * o.price_cached_input_per_mtok +
          static_cast<double>(u.completion_tokens) * o.price_output_per_mtok) /
         1e6;
}

bool OutputFile::open(const std::string& path, std::string& error, bool append) {
  path_ = path;
  if (path == "-") {
    f_ = stdout;
    return true;
  }
  // Special files (/dev/null, a FIFO, a terminal) are written in place: never create a
  // `.part` beside them or rename over them.
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    special_ = true;
    f_ = std::fopen(path.c_str(), "wb");
    if (f_ == nullptr) {
      error = "cannot write " + path + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  part_ = path + ".part";
  f_ = std::fopen(part_.c_str(), append ? "ab" : "wb");
  if (f_ == nullptr) {
    error = "cannot write " + part_ + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool OutputFile::write(const std::string& lines, std::string& error) {
  if (lines.empty()) return true;
  if (std::fwrite(lines.data(), 1, lines.size(), f_) != lines.size()) {
    error = "cannot write " + (part_.empty() ? (special_ ? path_ : std::string("stdout")) : part_) + ": " +
            std::strerror(errno);
    return false;
  }
  bytes_ += lines.size();
  return true;
}

bool OutputFile::flush(std::string& error) {
  if (f_ == nullptr) return false;
  if (std::fflush(f_) != 0) {
    error = "cannot write " + (part_.empty() ? path_ : part_) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool OutputFile::finish(std::string& error) {
  if (f_ == nullptr) return false;
  if (f_ == stdout) {
    if (std::fflush(stdout) != 0) {
      error = std::string("cannot write stdout: ") + std::strerror(errno);
      return false;
    }
    return true;
  }
  const bool flushed = std::fflush(f_) == 0;
  const int e = errno;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!flushed || !closed) {
    error = "cannot write " + (special_ ? path_ : part_) + ": " + std::strerror(flushed ? errno : e);
    return false;
  }
  if (special_) return true;
  std::error_code ec;
  std::filesystem::rename(part_, path_, ec);
  if (ec) {
    error = "cannot rename " + part_ + " to " + path_ + ": " + ec.message();
    return false;
  }
  return true;
}

void OutputFile::abandon() {
  if (f_ != nullptr && f_ != stdout) std::fclose(f_);
  f_ = nullptr;
}

namespace {

// A persona line of a previous run, accounted like account() does.
void account_json(const nlohmann::json& j, RunTotals& t) {
  ++t.personas;
  const auto& attrs = j.at("attributes");
  const std::uint64_t n = attrs.size();
  t.attributes += n;
  t.min_attributes = std::min(t.min_attributes, n);
  t.max_attributes = std::max(t.max_attributes, n);
  for (const auto& a : attrs) {
    const std::string tier = a.value("tier", "near");
    ++t.tier[tier == "near" ? 0 : tier == "mid" ? 1 : 2];
    const std::string status = a.value("status", "");
    if (status == "filled") {
      ++t.filled;
      const std::string src = a.value("source", "options");
      ++t.source[src == "options" ? 0 : src == "lexicon" ? 1 : src == "llm" ? 2 : 3];
    } else {
      ++t.failed;
      if (status == "not_applicable") ++t.not_applicable;
    }
  }
  if (j.contains("problems")) ++t.with_problems;
  if (j.contains("usage")) {
    const auto& u = j["usage"];
    t.usage.calls += u.value("calls", std::uint64_t{0});
    t.usage.prompt_tokens += u.value("prompt_tokens", std::uint64_t{0});
    t.usage.completion_tokens += u.value("completion_tokens", std::uint64_t{0});
    t.usage.cached_tokens += u.value("cached_tokens", std::uint64_t{0});
  }
}

std::string persona_id(const Model& m, std::uint64_t index) {
  Persona p;
  begin(m, 0, index, p);
  return p.id;
}

}  // namespace

bool scan_part(const Model& m, const RunOptions& opts, ResumeState& state, std::string& error) {
  state = {};
  const std::string part = opts.out + ".part";
  std::FILE* f = std::fopen(part.c_str(), "rb");
  if (f == nullptr) return true;  // nothing yet: start from 0
  std::string data;
  char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  std::fclose(f);
  const std::size_t keep = data.rfind('\n') == std::string::npos ? 0 : data.rfind('\n') + 1;
  std::size_t pos = 0;
  const std::uint64_t total = shard_size(opts.count, opts.shard_k, opts.shard_n);
  while (pos < keep) {
    const std::size_t nl = data.find('\n', pos);
    const std::string_view line(data.data() + pos, nl - pos);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    const std::uint64_t index = (opts.shard_k - 1) + state.done * opts.shard_n;
    if (j.is_discarded() || !j.is_object() || !j.contains("attributes") || state.done >= total ||
        j.value("id", "") != persona_id(m, index)) {
      error = part + ": line " + std::to_string(state.done + 1) + " is not persona " + persona_id(m, index) +
              " of this run; remove it or run without --resume";
      return false;
    }
    account_json(j, state.totals);
    ++state.done;
    pos = nl + 1;
  }
  if (keep < data.size()) {
    std::error_code ec;
    std::filesystem::resize_file(part, keep, ec);
    if (ec) {
      error = "cannot truncate " + part + ": " + ec.message();
      return false;
    }
  }
  state.bytes = keep;
  return true;
}

std::string run_key(const Model& m, const RunOptions& opts) {
  nlohmann::json k = {{"recipe_hash", m.recipe().text_hash},
                      {"taxonomy_hash", m.taxonomy().content_hash()},
                      {"seed", opts.seed},
                      {"count", opts.count},
                      {"shard", std::to_string(opts.shard_k) + "/" + std::to_string(opts.shard_n)},
                      {"backend", opts.backend},
                      {"model", opts.model_name}};
  return k.dump();
}

bool write_run_key(const Model& m, const RunOptions& opts, std::string& error) {
  const std::string path = opts.out + ".manifest.json.part";
  nlohmann::json j = {{"status", "running"}, {"resume_key", nlohmann::json::parse(run_key(m, opts))},
                      {"command_line", opts.command_line}, {"started", now_iso()}};
  const std::string text = j.dump(2) + "\n";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f != nullptr) ok = (std::fclose(f) == 0) && ok;
  if (!ok) error = "cannot write " + path + ": " + std::strerror(errno);
  return ok;
}

bool check_run_key(const Model& m, const RunOptions& opts, std::string& error) {
  const std::string path = opts.out + ".manifest.json.part";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::error_code ec;
    if (!std::filesystem::exists(opts.out + ".part", ec)) return true;  // nothing to resume: a fresh run
    error = "cannot resume: " + path + " is missing (it records the interrupted run's parameters)";
    return false;
  }
  std::string data;
  char buf[4096];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, got);
  std::fclose(f);
  const auto j = nlohmann::json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.contains("resume_key")) {
    error = "cannot resume: " + path + " is not a run record";
    return false;
  }
  const auto want = nlohmann::json::parse(run_key(m, opts));
  for (const auto& [k, v] : want.items()) {
    if (!j["resume_key"].contains(k) || j["resume_key"][k] != v) {
      error = "cannot resume: the interrupted run had " + k + " = " +
              (j["resume_key"].contains(k) ? j["resume_key"][k].dump() : std::string("?")) + ", this one " +
              v.dump();
      return false;
    }
  }
  return true;
}

bool write_manifest(const Model& m, const RunOptions& opts, const RunTotals& t, const std::string& started,
                    std::string& path, std::string& error) {
  path = opts.out + ".manifest.json";
  const std::string text = manifest_json(m, opts, t, started, now_iso());
  const std::string tmp = path + ".part";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f != nullptr) ok = (std::fclose(f) == 0) && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    error = "cannot write " + path + (ec ? ": " + ec.message() : std::string(": ") + std::strerror(errno));
    return false;
  }
  return true;
}

namespace {

constexpr std::size_t kFlushBytes = 1 << 20;

}  // namespace

RunResult run(const Model& m, const RunOptions& opts) {
  RunResult res;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = now_iso();
  if (opts.shard_n == 0 || opts.shard_k == 0 || opts.shard_k > opts.shard_n) {
    res.error = "bad shard";
    return res;
  }
  const std::uint64_t total = shard_size(opts.count, opts.shard_k, opts.shard_n);
  const std::uint64_t first = opts.shard_k - 1, stride = opts.shard_n;
  auto make_backend = [&]() -> std::unique_ptr<Backend> {
    if (opts.make_backend) return opts.make_backend();
    return std::make_unique<OfflineBackend>();
  };

  ResumeState resumed;
  if (opts.resume && opts.out != "-") {
    if (!check_run_key(m, opts, res.error) || !scan_part(m, opts, resumed, res.error)) return res;
  }
  OutputFile out;
  if (!out.open(opts.out, res.error, resumed.done > 0)) return res;
  if (out.regular() && opts.manifest && !write_run_key(m, opts, res.error)) {
    out.abandon();
    return res;
  }
  std::string buffer;
  buffer.reserve(kFlushBytes + (64 << 10));
  RunTotals totals = resumed.totals;
  totals.resumed = resumed.done;
  bool failed = false;
  const std::uint64_t skip = resumed.done;

  const unsigned threads = std::max(1u, opts.threads);
  if (threads == 1 || total <= 1) {
    auto backend = make_backend();
    Scratch scratch;
    Persona p;
    for (std::uint64_t pos = skip; pos < total && !failed; ++pos) {
      build_persona(m, *backend, scratch, opts.seed, first + pos * stride, p);
      account(p, totals);
      serialise(m, p, buffer);
      if (buffer.size() >= kFlushBytes) {
        failed = !out.write(buffer, res.error);
        buffer.clear();
      }
      if (opts.progress && ((pos + 1) % 256 == 0 || pos + 1 == total)) opts.progress(pos + 1, total);
    }
  } else {
    const std::size_t window = opts.window > 0 ? opts.window : 4 * threads + 4;
    std::mutex mu;
    std::condition_variable cv_ready, cv_space;
    std::vector<std::string> slots(window);
    std::vector<char> ready(window, 0);
    std::uint64_t next_write = skip;
    std::atomic<std::uint64_t> next_pos{skip};
    std::atomic<bool> stop{false};
    std::vector<RunTotals> per_thread(threads);
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (unsigned w = 0; w < threads; ++w) {
      workers.emplace_back([&, w] {
        auto backend = make_backend();
        Scratch scratch;
        Persona p;
        std::string line;
        for (;;) {
          const std::uint64_t pos = next_pos.fetch_add(1);
          if (pos >= total || stop.load()) break;
          build_persona(m, *backend, scratch, opts.seed, first + pos * stride, p);
          account(p, per_thread[w]);
          line.clear();
          serialise(m, p, line);
          std::unique_lock lk(mu);
          cv_space.wait(lk, [&] { return pos < next_write + window || stop.load(); });
          if (stop.load()) break;
          slots[pos % window].swap(line);
          ready[pos % window] = 1;
          cv_ready.notify_all();
        }
      });
    }
    std::string line;
    for (std::uint64_t pos = skip; pos < total; ++pos) {
      {
        std::unique_lock lk(mu);
        cv_ready.wait(lk, [&] { return ready[pos % window] != 0; });
        line.swap(slots[pos % window]);
        ready[pos % window] = 0;
        next_write = pos + 1;
      }
      cv_space.notify_all();
      buffer += line;
      if (buffer.size() >= kFlushBytes) {
        if (!out.write(buffer, res.error)) {
          failed = true;
          break;
        }
        buffer.clear();
      }
      if (opts.progress && ((pos + 1) % 256 == 0 || pos + 1 == total)) opts.progress(pos + 1, total);
    }
    {
      std::lock_guard lk(mu);
      stop.store(true);
    }
    cv_space.notify_all();
    for (auto& t : workers) t.join();
    for (const auto& t : per_thread) merge(totals, t);
  }
  if (!failed) failed = !out.write(buffer, res.error);
  if (failed) {
    out.abandon();
    return res;
  }
  const bool regular = out.regular();
  if (!out.finish(res.error)) return res;
  totals.bytes = out.bytes() + resumed.bytes;
  if (totals.personas == 0) totals.min_attributes = 0;
  totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.totals = totals;
  if (opts.manifest && regular && !write_manifest(m, opts, totals, started, res.manifest_path, res.error)) return res;
  res.ok = true;
  return res;
}

std::string manifest_json(const Model& m, const RunOptions& opts, const RunTotals& t, const std::string& started,
                          const std::string& finished) {
  using nlohmann::json;
  const auto& r = m.recipe();
  json j;
  j["engine"] = {{"name", "persona"}, {"version", PERSONA_VERSION}};
  j["recipe"] = {{"name", r.name}, {"version", r.version}, {"file", r.file}, {"files", r.files},
                 {"text_hash", r.text_hash}};
  const auto st = m.taxonomy().stats();
  j["taxonomy"] = {{"name", r.taxonomy},
                   {"content_hash", m.taxonomy().content_hash()},
                   {"nodes", st.nodes},
                   {"leaves", st.leaves},
                   {"leaves_restating_anchors", m.restating_leaves()}};
  json tables = json::array();
  for (const auto& a : m.anchors())
    if (a.table != nullptr)
      tables.push_back({{"anchor", a.anchor->name}, {"table", a.table->name}, {"source", a.table->source},
                        {"year", a.table->year}});
  j["tables"] = tables;
  json params = json::object();
  for (const auto& [k, v] : r.model.params) {
    if (const double* d = std::get_if<double>(&v)) params[k] = *d;
    else params[k] = std::get<std::string>(v);
  }
  j["model"] = {{"backend", opts.backend},
                {"provider", opts.provider.empty() ? r.model.provider : opts.provider},
                {"params", params}};
  if (!opts.model_name.empty()) j["model"]["name"] = opts.model_name;
  j["seed"] = opts.seed;
  const Estimate e = estimate(r);
  j["parameters"] = {{"count", opts.count},
                     {"threads", std::max(1u, opts.threads)},
                     {"shard", std::to_string(opts.shard_k) + "/" + std::to_string(opts.shard_n)},
                     {"attributes", {{"min_count", r.attributes.min_count},
                                     {"max_count", r.attributes.max_count},
                                     {"tiers", {r.attributes.near, r.attributes.mid, r.attributes.far}},
                                     {"walk", r.attributes.walk},
                                     {"prefer", r.attributes.prefer},
                                     {"batch", r.attributes.batch},
                                     {"context_tokens", r.attributes.context_tokens}}},
                     {"narrative", {{"voice", r.narrative.voice},
                                    {"min_words", r.narrative.min_words},
                                    {"max_words", r.narrative.max_words}}},
                     {"command_line", opts.command_line}};
  j["output"] = {{"path", opts.out}, {"bytes", t.bytes}, {"format", "jsonl"}};
  j["counts"] = {{"personas", t.personas},
                 {"attributes", t.attributes},
                 {"filled", t.filled},
                 {"not_filled", t.failed},
                 {"attributes_min", t.min_attributes},
                 {"attributes_max", t.max_attributes},
                 {"tiers", {{"near", t.tier[0]}, {"mid", t.tier[1]}, {"far", t.tier[2]}}},
                 {"sources",
                  {{"options", t.source[0]}, {"lexicon", t.source[1]}, {"llm", t.source[2]}, {"table", t.source[3]}}},
                 {"not_applicable", t.not_applicable},
                 {"resumed", t.resumed},
                 {"personas_with_problems", t.with_problems}};
  j["totals"] = {{"calls", t.usage.calls},
                 {"prompt_tokens", t.usage.prompt_tokens},
                 {"completion_tokens", t.usage.completion_tokens},
                 {"cached_tokens", t.usage.cached_tokens},
                 {"cost_usd", cost_usd(opts, t.usage)},
                 {"estimate_per_persona",
                  {{"calls", opts.backend == "offline" ? 0 : e.calls},
                   {"prompt_tokens", opts.backend == "offline" ? 0 : e.prompt_tokens},
                   {"completion_tokens", opts.backend == "offline" ? 0 : e.completion_tokens}}}};
  if (!opts.llm_stats_json.empty()) {
    auto llm_stats = json::parse(opts.llm_stats_json, nullptr, false);
    if (!llm_stats.is_discarded()) j["llm"] = llm_stats;
  }
  j["timestamps"] = {{"started", started}, {"finished", finished}, {"seconds", t.seconds}};
  return j.dump(2) + "\n";
}

}  // namespace persona::engine
