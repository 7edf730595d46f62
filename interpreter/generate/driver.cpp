// The asynchronous driver: many personas in flight on one llm::Client, each advancing stage by
// stage (story chain -> selection -> fill batches -> narrative), written in index order.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>

#include "generate/generate.hpp"
#include "llm/cache.hpp"

namespace persona::generate {

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  engine::Persona p;
  std::uint64_t pos = 0;
  std::size_t group = 0;  // story group
  std::size_t batch = 0;  // fill batch
  int asks = 0;           // re-asks in the current step
  bool done = false, aborted = false;
  std::string line;
};

constexpr int kMaxReasks = 2;

class Driver {
 public:
  Driver(const engine::Model& m, const engine::RunOptions& o, const Setup& s, const DriverOptions& d,
         llm::Client& client, engine::OutputFile& out)
      : m_(m), o_(o), s_(s), d_(d), client_(client), out_(out), groups_(story_groups(m.recipe())) {
    total_ = engine::shard_size(o.count, o.shard_k, o.shard_n);
    est_cost_ = dry_run(m.recipe(), s.provider, 1).cost_per_persona;
    const int c = std::max(1, d.concurrency > 0 ? d.concurrency : s.provider.max_concurrency);
    max_active_ = static_cast<std::size_t>(c) + static_cast<std::size_t>(c) / 2 + 2;
    max_jobs_ = 4 * max_active_;
  }

  DriverResult go(std::uint64_t skip, engine::RunTotals totals) {
    DriverResult res;
    totals_ = totals;
    next_pos_ = skip;
    written_ = skip;
    started_ = skip;
    const auto t0 = Clock::now();
    auto last_progress = t0;
    fill();
    while ((!jobs_.empty() || (next_pos_ < total_ && !interrupted_)) && !failed_) {
      client_.poll(50);
      if (d_.stop != nullptr && d_.stop->load() && !interrupted_) {
        interrupted_ = true;
        reason_ = "interrupted";
        client_.cancel_all();
      }
      drain();
      if (!interrupted_) fill();
      if (interrupted_ && client_.pending() == 0) break;
      const auto now = Clock::now();
      if (d_.progress && now - last_progress >= std::chrono::milliseconds(200)) {
        last_progress = now;
        report(t0, now);
      }
    }
    drain();
    if (d_.progress) report(t0, Clock::now());
    res.run.totals = totals_;
    res.run.error = error_;
    res.interrupted = interrupted_ || written_ < total_;
    if (res.interrupted && reason_.empty() && !failed_) reason_ = "stopped";
    res.reason = reason_;
    res.stats = client_.stats();
    res.run.ok = !failed_;
    return res;
  }

 private:
  void report(Clock::time_point t0, Clock::time_point now) {
    Progress pr;
    pr.done = written_;
    pr.total = total_;
    const auto st = client_.stats();
    pr.in_flight = static_cast<int>(client_.pending());
    pr.prompt_tokens = st.usage.prompt_tokens;
    pr.completion_tokens = st.usage.completion_tokens;
    pr.cost = st.cost;
    pr.seconds = std::chrono::duration<double>(now - t0).count();
    const std::uint64_t new_done = written_ - started_;
    if (new_done > 0 && written_ < total_)
      pr.eta_seconds = pr.seconds / static_cast<double>(new_done) * static_cast<double>(total_ - written_);
    else if (written_ >= total_)
      pr.eta_seconds = 0;
    d_.progress(pr);
  }

  std::size_t active() const {
    std::size_t n = 0;
    for (const auto& j : jobs_)
      if (!j->done && !j->aborted) ++n;
    return n;
  }

  // Starts personas while there is room (and budget).
  void fill() {
    while (next_pos_ < total_ && !interrupted_ && jobs_.size() < max_jobs_ && active() < max_active_) {
      if (d_.budget_usd >= 0) {
        const double projected = client_.stats().cost + static_cast<double>(active() + 1) * est_cost_;
        if (projected > d_.budget_usd) {
          if (active() == 0) {
            interrupted_ = true;
            reason_ = "budget";
          }
          return;
        }
      }
      auto job = std::make_unique<Job>();
      job->pos = next_pos_++;
      Job& j = *job;
      jobs_.push_back(std::move(job));
      const std::uint64_t index = (o_.shard_k - 1) + j.pos * o_.shard_n;
      engine::begin(m_, o_.seed, index, j.p);
      engine::draw_anchors(m_, j.p);
      next_story(j);
    }
  }

  // Writes finished personas at the head, in order.
  void drain() {
    std::string buf;
    while (!jobs_.empty() && jobs_.front()->done) {
      buf += jobs_.front()->line;
      jobs_.pop_front();
      ++written_;
    }
    if (!buf.empty() && !failed_) {
      if (!out_.write(buf, error_) || !out_.flush(error_)) {
        failed_ = true;
        interrupted_ = true;
        client_.cancel_all();
      }
    }
    // With an interruption, the unfinished head blocks the rest: drop what cannot be written.
    if (interrupted_ && client_.pending() == 0) {
      while (!jobs_.empty() && !jobs_.front()->done) jobs_.pop_front();
      if (!jobs_.empty()) drain();
    }
  }

  void finish(Job& j) {
    j.line.clear();
    engine::serialise(m_, j.p, j.line);
    engine::account(j.p, totals_);
    j.done = true;
  }

  // Records a response's usage; false (and the job aborted) when the run must stop.
  bool accept(Job& j, const llm::Response& r) {
    ++j.p.usage.calls;
    j.p.usage.prompt_tokens += static_cast<std::uint64_t>(std::max(0L, r.usage.prompt_tokens));
    j.p.usage.completion_tokens += static_cast<std::uint64_t>(std::max(0L, r.usage.completion_tokens));
    j.p.usage.cached_tokens += static_cast<std::uint64_t>(std::max(0L, r.usage.cached_tokens));
    if (r.status == llm::Response::Status::circuit_open || r.status == llm::Response::Status::cancelled) {
      j.aborted = true;
      if (!interrupted_) {
        interrupted_ = true;
        reason_ = r.status == llm::Response::Status::circuit_open
                      ? "the provider keeps failing (circuit breaker open): " + r.error
                      : std::string("interrupted");
      }
      return false;
    }
    return true;
  }

  void send(Job& j, Call c, std::function<void(Job&, const llm::Response&)> then) {
    llm::Request req;
    req.body = std::move(c.body);
    req.tag = j.p.id + ":" + c.step;
    req.expect_json = req.body.contains("response_format") || req.body.contains("format");
    Job* jp = &j;
    client_.submit(std::move(req), [this, jp, then = std::move(then)](llm::Response r) {
      if (!accept(*jp, r)) return;
      then(*jp, r);
    });
  }

  // ---- story ----
  void next_story(Job& j, const std::vector<std::size_t>* only = nullptr) {
    if (j.group >= groups_.size()) {
      engine::select_attributes(m_, j.p, scratch_);
      j.batch = 0;
      j.asks = 0;
      next_fill(j);
      return;
    }
    const std::vector<std::size_t> steps = only != nullptr ? *only : groups_[j.group];
    send(j, story_call(m_, j.p, s_, steps), [this, steps](Job& job, const llm::Response& r) {
      if (!r.ok()) {
        job.p.problems.push_back("story: llm: " + r.error);
        ++job.group;
        job.asks = 0;
        next_story(job);
        return;
      }
      const auto missing = apply_story(m_, job.p, steps, r.content);
      if (!missing.empty() && job.asks < kMaxReasks) {
        ++job.asks;
        std::vector<std::size_t> again;
        for (std::size_t k : steps)
          if (std::find(missing.begin(), missing.end(), m_.recipe().story[k].output) != missing.end()) again.push_back(k);
        next_story(job, &again);
        return;
      }
      for (const auto& k : missing) job.p.problems.push_back("story: llm gave no value for " + k);
      ++job.group;
      job.asks = 0;
      next_story(job);
    });
  }

  // ---- fill ----
  void next_fill(Job& j, const std::vector<std::size_t>* only = nullptr) {
    if (j.batch >= engine::batch_count(m_, j.p)) {
      next_narrative(j);
      return;
    }
    const auto [first, last] = engine::batch_range(m_, j.p, j.batch);
    std::vector<std::size_t> slots;
    if (only != nullptr) {
      slots = *only;
    } else {
      for (std::size_t i = first; i < last; ++i) slots.push_back(i);
    }
    const bool repair = only != nullptr && !s_.provider.json_schema;
    Call c = fill_call(m_, j.p, s_, first, last, only, repair);
    send(j, std::move(c), [this, slots](Job& job, const llm::Response& r) {
      if (!r.ok()) {
        for (std::size_t i : slots) {
          auto& sl = job.p.attributes[i];
          sl.source = engine::Source::llm;
          sl.status = engine::SlotStatus::failed;
          sl.value.clear();
          sl.reason = "llm: " + r.error;
        }
      } else {
        const auto missing = apply_fill(m_, job.p, slots, r.content);
        if (!missing.empty() && job.asks < kMaxReasks) {
          ++job.asks;
          next_fill(job, &missing);
          return;
        }
        for (std::size_t i : missing) {
          auto& sl = job.p.attributes[i];
          sl.status = engine::SlotStatus::failed;
          sl.value.clear();
          sl.reason = "llm: no value returned";
        }
      }
      ++job.batch;
      job.asks = 0;
      next_fill(job);
    });
  }

  // ---- narrative ----
  void next_narrative(Job& j) {
    if (m_.recipe().narrative.voice == "none") {
      j.p.narrative.clear();
      finish(j);
      return;
    }
    send(j, narrative_call(m_, j.p, s_), [this](Job& job, const llm::Response& r) {
      if (r.ok()) {
        std::string t = r.content;
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(t.begin());
        job.p.narrative = std::move(t);
      } else {
        job.p.narrative.clear();
        job.p.problems.push_back("narrative: llm: " + r.error);
      }
      finish(job);
    });
  }

  const engine::Model& m_;
  const engine::RunOptions& o_;
  const Setup& s_;
  const DriverOptions& d_;
  llm::Client& client_;
  engine::OutputFile& out_;
  std::vector<std::vector<std::size_t>> groups_;
  engine::Scratch scratch_;
  std::deque<std::unique_ptr<Job>> jobs_;
  std::uint64_t total_ = 0, next_pos_ = 0, written_ = 0, started_ = 0;
  std::size_t max_active_ = 1, max_jobs_ = 4;
  double est_cost_ = 0;
  engine::RunTotals totals_;
  bool interrupted_ = false, failed_ = false;
  std::string reason_, error_;
};

}  // namespace

DriverResult run(const engine::Model& m, engine::RunOptions opts, const Setup& s, const DriverOptions& d) {
  DriverResult res;
  const std::string started = engine::now_iso();
  const auto t0 = Clock::now();
  if (opts.shard_n == 0 || opts.shard_k == 0 || opts.shard_k > opts.shard_n) {
    res.run.error = "bad shard";
    return res;
  }
  opts.threads = 1;
  if (opts.backend.empty() || opts.backend == "offline") opts.backend = "llm";
  if (opts.provider.empty()) opts.provider = s.provider.name;
  if (opts.model_name.empty()) opts.model_name = s.provider.model;
  opts.price_input_per_mtok = s.provider.price_input_per_mtok;
  opts.price_output_per_mtok = s.provider.price_output_per_mtok;
  opts.price_cached_input_per_mtok = s.provider.price_cached_input_per_mtok;

  engine::ResumeState resumed;
  if (opts.resume && opts.out != "-") {
    if (!engine::check_run_key(m, opts, res.run.error) || !engine::scan_part(m, opts, resumed, res.run.error))
      return res;
  }
  std::unique_ptr<llm::Cache> cache;
  if (!d.cache_path.empty()) {
    std::string err;
    cache = llm::Cache::open(d.cache_path, &err);
    if (!cache) {
      res.run.error = "cannot open the cache " + d.cache_path + ": " + err;
      return res;
    }
  }
  engine::OutputFile out;
  if (!out.open(opts.out, res.run.error, resumed.done > 0)) return res;
  if (out.regular() && opts.manifest && !engine::write_run_key(m, opts, res.run.error)) {
    out.abandon();
    return res;
  }
  llm::Options co = d.client;
  if (d.concurrency > 0) co.max_concurrency = d.concurrency;
  co.cache = cache.get();
  co.seed = opts.seed ^ 0x5eed;
  llm::Client client(s.provider, co);

  engine::RunTotals totals = resumed.totals;
  totals.resumed = resumed.done;
  Driver driver(m, opts, s, d, client, out);
  res = driver.go(resumed.done, totals);
  if (!res.run.ok || res.interrupted) {
    out.abandon();  // keep `<out>.part` and the run record for --resume
    return res;
  }
  auto& t = res.run.totals;
  const bool regular = out.regular();
  if (!out.finish(res.run.error)) {
    res.run.ok = false;
    return res;
  }
  t.bytes = out.bytes() + resumed.bytes;
  if (t.personas == 0) t.min_attributes = 0;
  t.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  opts.llm_stats_json = res.stats.to_json().dump();
  if (opts.manifest && regular &&
      !engine::write_manifest(m, opts, t, started, res.run.manifest_path, res.run.error)) {
    res.run.ok = false;
    return res;
  }
  return res;
}

// ---------------------------------------------------------------------------------------------
// Synchronous backend: one request at a time (the REPL's :run).

namespace {

class SyncBackend final : public engine::Backend {
 public:
  SyncBackend(const Setup& s, llm::Cache* cache) : s_(s), client_(s.provider, options(cache)) {}
  [[nodiscard]] std::string_view name() const override { return "llm"; }

  void story_step(const engine::Model& m, engine::Persona& p, std::size_t step) override {
    // Steps without their own prompt are asked together with the rest of their group, once.
    const auto groups = story_groups(m.recipe());
    for (const auto& g : groups) {
      if (g.front() != step) continue;
      auto r = ask(p, story_call(m, p, s_, g));
      if (!r.ok()) {
        p.problems.push_back("story: llm: " + r.error);
        return;
      }
      auto missing = apply_story(m, p, g, r.content);
      if (!missing.empty()) {
        std::vector<std::size_t> again;
        for (std::size_t k : g)
          if (std::find(missing.begin(), missing.end(), m.recipe().story[k].output) != missing.end()) again.push_back(k);
        auto r2 = ask(p, story_call(m, p, s_, again));
        if (r2.ok()) missing = apply_story(m, p, again, r2.content);
        for (const auto& k : missing) p.problems.push_back("story: llm gave no value for " + k);
      }
    }
  }

  void fill_batch(const engine::Model& m, engine::Persona& p, std::size_t first, std::size_t last) override {
    std::vector<std::size_t> slots;
    for (std::size_t i = first; i < last; ++i) slots.push_back(i);
    auto r = ask(p, fill_call(m, p, s_, first, last));
    std::vector<std::size_t> missing = slots;
    if (r.ok()) missing = apply_fill(m, p, slots, r.content);
    for (int a = 0; r.ok() && !missing.empty() && a < kMaxReasks; ++a) {
      auto r2 = ask(p, fill_call(m, p, s_, first, last, &missing, !s_.provider.json_schema));
      if (!r2.ok()) break;
      missing = apply_fill(m, p, missing, r2.content);
    }
    for (std::size_t i : missing) {
      auto& sl = p.attributes[i];
      sl.source = engine::Source::llm;
      sl.status = engine::SlotStatus::failed;
      sl.value.clear();
      sl.reason = r.ok() ? "llm: no value returned" : "llm: " + r.error;
    }
  }

  void narrative(const engine::Model& m, engine::Persona& p) override {
    if (m.recipe().narrative.voice == "none") {
      p.narrative.clear();
      return;
    }
    auto r = ask(p, narrative_call(m, p, s_));
    if (r.ok()) p.narrative = r.content;
    else p.problems.push_back("narrative: llm: " + r.error);
  }

 private:
  static llm::Options options(llm::Cache* cache) {
    llm::Options o;
    o.cache = cache;
    return o;
  }
  llm::Response ask(engine::Persona& p, Call c) {
    llm::Response out;
    llm::Request req;
    req.body = std::move(c.body);
    req.expect_json = req.body.contains("response_format") || req.body.contains("format");
    client_.submit(std::move(req), [&](llm::Response r) { out = std::move(r); });
    client_.run();
    ++p.usage.calls;
    p.usage.prompt_tokens += static_cast<std::uint64_t>(std::max(0L, out.usage.prompt_tokens));
    p.usage.completion_tokens += static_cast<std::uint64_t>(std::max(0L, out.usage.completion_tokens));
    p.usage.cached_tokens += static_cast<std::uint64_t>(std::max(0L, out.usage.cached_tokens));
    return out;
  }
  Setup s_;
  llm::Client client_;
};

}  // namespace

std::unique_ptr<engine::Backend> make_backend(const Setup& s, llm::Cache* cache) {
  return std::make_unique<SyncBackend>(s, cache);
}

}  // namespace persona::generate
