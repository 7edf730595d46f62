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

namespace {

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
  for (int i = 0; i < 3; ++i) into.tier[i] += t.tier[i];
  for (int i = 0; i < 4; ++i) into.source[i] += t.source[i];
  into.with_problems += t.with_problems;
  into.min_attributes = std::min(into.min_attributes, t.min_attributes);
  into.max_attributes = std::max(into.max_attributes, t.max_attributes);
  into.usage += t.usage;
}

// Buffered output of whole lines.
class Output {
 public:
  bool open(const std::string& path, std::string& error) {
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
    f_ = std::fopen(part_.c_str(), "wb");
    if (f_ == nullptr) {
      error = "cannot write " + part_ + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
  bool write(const std::string& lines, std::string& error) {
    if (lines.empty()) return true;
    if (std::fwrite(lines.data(), 1, lines.size(), f_) != lines.size()) {
      error = "cannot write " + (part_.empty() ? (special_ ? path_ : std::string("stdout")) : part_) + ": " + std::strerror(errno);
      return false;
    }
    bytes_ += lines.size();
    return true;
  }
  bool finish(std::string& error) {
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
  void abandon() {
    if (f_ != nullptr && f_ != stdout) std::fclose(f_);
    f_ = nullptr;
  }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  // A regular file (or one to create): gets a `.part`, a rename and a manifest.
  [[nodiscard]] bool regular() const { return f_ != stdout && !special_; }

 private:
  bool special_ = false;
  std::FILE* f_ = nullptr;
  std::string path_, part_;
  std::uint64_t bytes_ = 0;
};

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

  Output out;
  if (!out.open(opts.out, res.error)) return res;
  std::string buffer;
  buffer.reserve(kFlushBytes + (64 << 10));
  RunTotals totals;
  bool failed = false;

  const unsigned threads = std::max(1u, opts.threads);
  if (threads == 1 || total <= 1) {
    auto backend = make_backend();
    Scratch scratch;
    Persona p;
    for (std::uint64_t pos = 0; pos < total && !failed; ++pos) {
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
    std::uint64_t next_write = 0;
    std::atomic<std::uint64_t> next_pos{0};
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
    for (std::uint64_t pos = 0; pos < total; ++pos) {
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
  totals.bytes = out.bytes();
  if (totals.personas == 0) totals.min_attributes = 0;
  totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.totals = totals;
  if (opts.manifest && regular) {
    res.manifest_path = opts.out + ".manifest.json";
    const std::string text = manifest_json(m, opts, totals, started, now_iso());
    const std::string tmp = res.manifest_path + ".part";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (f != nullptr) ok = (std::fclose(f) == 0) && ok;
    std::error_code ec;
    if (ok) std::filesystem::rename(tmp, res.manifest_path, ec);
    if (!ok || ec) {
      res.error = "cannot write " + res.manifest_path + (ec ? ": " + ec.message() : std::string(": ") + std::strerror(errno));
      return res;
    }
  }
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
  j["model"] = {{"backend", opts.backend}, {"provider", r.model.provider}, {"params", params}};
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
                 {"personas_with_problems", t.with_problems}};
  j["totals"] = {{"calls", t.usage.calls},
                 {"prompt_tokens", t.usage.prompt_tokens},
                 {"completion_tokens", t.usage.completion_tokens},
                 {"cached_tokens", t.usage.cached_tokens},
                 {"estimate_per_persona",
                  {{"calls", opts.backend == "offline" ? 0 : e.calls},
                   {"prompt_tokens", opts.backend == "offline" ? 0 : e.prompt_tokens},
                   {"completion_tokens", opts.backend == "offline" ? 0 : e.completion_tokens}}}};
  j["timestamps"] = {{"started", started}, {"finished", finished}, {"seconds", t.seconds}};
  return j.dump(2) + "\n";
}

}  // namespace persona::engine
