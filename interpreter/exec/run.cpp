// The two schedulers behind exec::run: a thread pool with a reorder window for offline runs (work
// that never waits), and the libcurl event loop for LLM runs (many personas in flight).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "exec/exec.hpp"
#include "exec/journal.hpp"
#include "llm/cache.hpp"
#include "llm/models.hpp"

namespace persona::exec {

namespace {

using Clock = std::chrono::steady_clock;

bool stop_requested(const RunOptions& o) { return o.stop != nullptr && o.stop->load(); }

// ---------------------------------------------------------------------------------------------
// Offline: worker threads build personas; the caller's thread writes them in index order.

struct PoolResult {
  bool failed = false;
  bool stopped = false;
};

PoolResult run_pool(const engine::Program& prog, const RunOptions& o, Journal& journal, RunTotals& totals,
                    std::string& error) {
  PoolResult res;
  const std::uint64_t total = shard_size(o.count, o.shard_k, o.shard_n);
  const std::uint64_t first = o.shard_k - 1, stride = o.shard_n;
  const std::uint64_t skip = journal.done();
  const backend::Offline offline;
  const unsigned threads = std::max(1u, o.threads);
  auto report = [&](std::uint64_t pos, Clock::time_point t0) {
    if (!o.progress || ((pos + 1) % 256 != 0 && pos + 1 != total)) return;
    Progress p;
    p.done = pos + 1;
    p.total = total;
    p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    o.progress(p);
  };
  const auto t0 = Clock::now();
  if (threads == 1 || total - skip <= 1) {
    engine::Scratch scratch;
    Job job;
    job.population = o.population.get();
    record::PersonaRecord rec;
    std::vector<std::string> bufs;
    for (std::uint64_t pos = skip; pos < total; ++pos) {
      if (stop_requested(o)) {
        res.stopped = true;
        break;
      }
      build_offline(prog, offline, scratch, o.seed, first + pos * stride, job);
      prog.to_record(job.p, rec);
      account(rec, totals);
      totals.reasks += job.reasks;
      journal.format(rec, bufs);
      if (!journal.write(bufs, error)) {
        res.failed = true;
        break;
      }
      report(pos, t0);
    }
    return res;
  }
  const std::size_t window = o.window > 0 ? o.window : 4 * threads + 4;
  std::mutex mu;
  std::condition_variable cv_ready, cv_space;
  std::vector<std::vector<std::string>> slots(window);
  std::vector<char> ready(window, 0);
  std::uint64_t next_write = skip;
  std::atomic<std::uint64_t> next_pos{skip};
  std::atomic<bool> stop{false};
  std::vector<RunTotals> per_thread(threads);
  std::vector<std::thread> workers;
  workers.reserve(threads);
  for (unsigned w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      engine::Scratch scratch;
      Job job;
      job.population = o.population.get();
      job.population = o.population.get();
      record::PersonaRecord rec;
      std::vector<std::string> bufs;
      for (;;) {
        const std::uint64_t pos = next_pos.fetch_add(1);
        if (pos >= total || stop.load()) break;
        build_offline(prog, offline, scratch, o.seed, first + pos * stride, job);
        prog.to_record(job.p, rec);
        account(rec, per_thread[w]);
        per_thread[w].reasks += job.reasks;
        for (auto& b : bufs) b.clear();
        journal.format(rec, bufs);
        std::unique_lock lk(mu);
        cv_space.wait(lk, [&] { return pos < next_write + window || stop.load(); });
        if (stop.load()) break;
        slots[pos % window].swap(bufs);
        ready[pos % window] = 1;
        cv_ready.notify_all();
      }
    });
  }
  std::vector<std::string> bufs;
  for (std::uint64_t pos = skip; pos < total; ++pos) {
    {
      std::unique_lock lk(mu);
      // Wake up now and then to notice a stop request.
      while (ready[pos % window] == 0)
        if (cv_ready.wait_for(lk, std::chrono::milliseconds(50), [&] { return ready[pos % window] != 0; }))
          break;
        else if (stop_requested(o))
          break;
      if (ready[pos % window] == 0) {
        res.stopped = true;
        break;
      }
      bufs.swap(slots[pos % window]);
      ready[pos % window] = 0;
      next_write = pos + 1;
    }
    cv_space.notify_all();
    if (!journal.write(bufs, error)) {
      res.failed = true;
      break;
    }
    report(pos, t0);
    if (stop_requested(o) && pos + 1 < total) {
      res.stopped = true;
      break;
    }
  }
  {
    std::lock_guard lk(mu);
    stop.store(true);
  }
  cv_space.notify_all();
  for (auto& t : workers) t.join();
  // Totals of the personas actually written: workers may have built a few more than were written.
  for (const auto& t : per_thread) totals.add(t);
  return res;
}

// ---------------------------------------------------------------------------------------------
// LLM: the event loop. Each job advances until it asks; the ask becomes a request on the client;
// its callback applies the answer and advances the job again. Finished personas are written in
// index order from the head of the queue.

class Loop {
 public:
  Loop(const engine::Program& prog, const RunOptions& o, Journal& journal, llm::Client& client, RunTotals& totals,
       double spent_before)
      : prog_(prog), o_(o), journal_(journal), client_(client), totals_(totals), spent_before_(spent_before) {
    total_ = shard_size(o.count, o.shard_k, o.shard_n);
    const auto e = prog.estimate();
    engine::Usage u;
    u.prompt_tokens = static_cast<std::uint64_t>(e.prompt_tokens);
    u.completion_tokens = static_cast<std::uint64_t>(e.completion_tokens);
    est_cost_ = cost_usd(o.llm->setup().provider, u);
    max_in_flight_ = std::max(1, o.concurrency > 0 ? o.concurrency : o.llm->setup().provider.max_concurrency);
    // Enough personas in flight to keep every connection busy while some wait between steps.
    max_active_ = static_cast<std::size_t>(max_in_flight_) + static_cast<std::size_t>(max_in_flight_) / 2 + 2;
    max_jobs_ = 4 * max_active_;
  }

  void go(RunResult& res) {
    next_pos_ = written_ = started_ = journal_.done();
    const auto t0 = Clock::now();
    auto last_progress = t0;
    fill();
    last_answer_ = t0;
    while ((!jobs_.empty() || (next_pos_ < total_ && !interrupted_)) && !failed_) {
      client_.poll(50);
      if (stop_requested(o_) && !interrupted_) {
        interrupted_ = true;
        reason_ = "interrupted";
        client_.cancel_all();
      }
      check_stall();
      drain();
      if (!interrupted_) fill();
      if (interrupted_ && client_.pending() == 0) break;
      const auto now = Clock::now();
      if (o_.progress && now - last_progress >= std::chrono::milliseconds(200)) {
        last_progress = now;
        report(t0, now);
      }
    }
    if (failed_) client_.cancel_all();
    drain();
    if (o_.progress) report(t0, Clock::now());
    res.interrupted = !failed_ && (interrupted_ || written_ < total_);
    if (res.interrupted && reason_.empty()) reason_ = "stopped";
    res.reason = reason_;
    res.error = error_;
    res.ok = !failed_ && !res.interrupted;
  }

 private:
  struct Slot {
    Job job;
    std::uint64_t pos = 0;
    std::vector<std::string> bufs;
    bool done = false;
  };

  double spent() const { return spent_before_ + client_.stats().cost; }

  // Stops the run when calls are pending and nothing came back from the server (an answer, or a
  // 429 telling it to wait) for stall_seconds.
  void check_stall() {
    if (o_.stall_seconds <= 0 || interrupted_) return;
    const auto now = Clock::now();
    const long mark = answers_ + client_.stats().rate_limited;
    if (mark != last_mark_ || client_.pending() == 0) {
      last_mark_ = mark;
      last_answer_ = now;
      return;
    }
    if (std::chrono::duration<double>(now - last_answer_).count() < o_.stall_seconds) return;
    interrupted_ = true;
    const double s = o_.stall_seconds;
    char buf[64];
    std::snprintf(buf, sizeof buf, s == static_cast<double>(static_cast<long>(s)) ? "%.0f" : "%.1f", s);
    reason_ = std::string("no answer from the server in ") + buf + " s";
    client_.cancel_all();
  }

  void report(Clock::time_point t0, Clock::time_point now) {
    Progress pr;
    pr.done = written_;
    pr.total = total_;
    const auto st = client_.stats();
    pr.in_flight = st.in_flight;
    pr.max_in_flight = max_in_flight_;
    pr.prompt_tokens = static_cast<std::uint64_t>(std::max(0L, st.usage.prompt_tokens));
    pr.completion_tokens = static_cast<std::uint64_t>(std::max(0L, st.usage.completion_tokens));
    pr.cost = spent();
    pr.seconds = std::chrono::duration<double>(now - t0).count();
    const std::uint64_t new_done = written_ - started_;
    if (new_done > 0 && written_ < total_)
      pr.eta_seconds = pr.seconds / static_cast<double>(new_done) * static_cast<double>(total_ - written_);
    else if (written_ >= total_)
      pr.eta_seconds = 0;
    o_.progress(pr);
  }

  std::size_t active() const {
    std::size_t n = 0;
    for (const auto& s : jobs_)
      if (!s->done && !s->job.aborted) ++n;
    return n;
  }

  // Starts personas while there is room (and budget).
  void fill() {
    while (next_pos_ < total_ && !interrupted_ && jobs_.size() < max_jobs_ && active() < max_active_) {
      if (o_.budget_usd >= 0) {
        const double projected = spent() + static_cast<double>(active() + 1) * est_cost_;
        if (projected > o_.budget_usd) {
          if (active() == 0) {
            interrupted_ = true;
            reason_ = "budget";
          }
          return;
        }
      }
      auto slot = std::make_unique<Slot>();
      slot->pos = next_pos_++;
      Slot& s = *slot;
      jobs_.push_back(std::move(slot));
      s.job.population = o_.population.get();
      start(prog_, scratch_, o_.seed, (o_.shard_k - 1) + s.pos * o_.shard_n, s.job);
      next(s);
    }
  }

  // Sends the job's pending ask, or finishes it.
  void next(Slot& s) {
    if (s.job.aborted) {
      if (!interrupted_) {
        interrupted_ = true;
        reason_ = fatal_reason_.empty() ? std::string("interrupted") : fatal_reason_;
      }
      return;
    }
    if (!s.job.ask) {
      finish(s);
      return;
    }
    engine::CallLog log;
    const bool keep_log = keep_prompts_;
    backend::ProfileStats shown;
    llm::Request req = o_.llm->request(prog_, s.job.p, *s.job.ask, keep_log ? &log : nullptr, &shown);
    if (shown.shown < shown.answers) {  // the context budget has no room for all of them: say so
      const long window = o_.llm->setup().provider.context_window;
      s.job.p.problems.push_back(
          s.job.ask->tag + ": the profile left out " + std::to_string(shown.answers - shown.shown) + " of " +
          std::to_string(shown.answers) + " earlier answers, the least related first, to fit " +
          (window > 0 ? "the provider's context_window (" + std::to_string(window) + " tokens)"
                      : "the recipe's context budget (" + std::to_string(prog_.recipe().attributes.context_tokens) +
                            " tokens)"));
    }
    if (keep_log) s.job.p.calls.push_back(std::move(log));
    Slot* sp = &s;
    client_.submit(std::move(req), [this, sp](llm::Response r) {
      if (r.status != llm::Response::Status::cancelled) ++answers_;
      engine::Answer a = o_.llm->parse(prog_, sp->job.p, *sp->job.ask, r);
      if (a.fatal && fatal_reason_.empty()) {
        if (r.status == llm::Response::Status::circuit_open) {
          fatal_reason_ = "the provider keeps failing (circuit breaker open): " + r.error;
        } else if (r.status == llm::Response::Status::cancelled) {
          fatal_reason_ = "interrupted";
        } else {
          // A rejected key, an unknown model, a failed core embedding: stop now, an error rather
          // than an interruption (a resume would fail the same way); what was written stays in `.part`.
          fatal_reason_ = llm::stops_the_run(r.http_status)
                              ? llm::describe_failure(o_.llm->setup().provider, r.http_status, r.error, r.replica)
                              : (a.error.empty() ? r.error : a.error);
          error_ = fatal_reason_;
          failed_ = true;
          interrupted_ = true;
        }
      }
      deliver(prog_, scratch_, sp->job, a);
      next(*sp);
    });
  }

  void finish(Slot& s) {
    prog_.to_record(s.job.p, rec_);
    account(rec_, totals_);
    totals_.reasks += s.job.reasks;
    for (auto& b : s.bufs) b.clear();
    journal_.format(rec_, s.bufs);
    s.done = true;
  }

  // Writes finished personas at the head, in order.
  void drain() {
    while (!jobs_.empty() && jobs_.front()->done && !failed_) {
      if (!journal_.write(jobs_.front()->bufs, error_) || !journal_.flush(error_)) {
        failed_ = true;
        interrupted_ = true;
        client_.cancel_all();
        break;
      }
      jobs_.pop_front();
      ++written_;
    }
    // Interrupted: the unfinished head blocks the rest; what cannot be written in order is dropped.
    if (interrupted_ && client_.pending() == 0) jobs_.clear();
  }

  const engine::Program& prog_;
  const RunOptions& o_;
  Journal& journal_;
  llm::Client& client_;
  RunTotals& totals_;
  double spent_before_ = 0;
  engine::Scratch scratch_;
  record::PersonaRecord rec_;
  std::deque<std::unique_ptr<Slot>> jobs_;
  std::uint64_t total_ = 0, next_pos_ = 0, written_ = 0, started_ = 0;
  int max_in_flight_ = 1;
  std::size_t max_active_ = 1, max_jobs_ = 4;
  double est_cost_ = 0;
  bool interrupted_ = false, failed_ = false;
  bool keep_prompts_ = false;
  std::string reason_, error_, fatal_reason_;
  long answers_ = 0, last_mark_ = 0;
  Clock::time_point last_answer_{};

 public:
  void keep_prompts(bool on) { keep_prompts_ = on; }
};

// Why a finished LLM run counts as failed ("" when it does not): no call succeeded, or more than
// `max_share` of its attributes failed. Names the most common failure.
std::string failed_run(const RunTotals& t, const llm::Stats& st, double max_share) {
  std::uint64_t failed = 0, top_n = 0;
  std::string top;
  for (const auto& [status, n] : t.statuses) {
    if (!status.starts_with("llm") && status != "truncated") continue;
    failed += n;
    if (n > top_n) {
      top_n = n;
      top = status;
    }
  }
  const bool none_ok = st.requests > 0 && st.succeeded == 0;
  const double share = t.attributes > 0 ? static_cast<double>(failed) / static_cast<double>(t.attributes) : 0.0;
  if (!none_ok && share <= max_share) return {};
  std::string why;
  char buf[160];
  if (none_ok) {
    why = "no LLM call succeeded (" + std::to_string(st.requests) + " requests, " + std::to_string(st.attempts) +
          " attempts)";
  } else {
    std::snprintf(buf, sizeof buf, "%llu of %llu attributes (%.0f%%) failed, more than --max-failed-share %g",
                  static_cast<unsigned long long>(failed), static_cast<unsigned long long>(t.attributes), 100.0 * share,
                  max_share);
    why = buf;
  }
  if (!top.empty())
    why += "; the most common cause (" + std::to_string(top_n) + " attribute" + (top_n == 1 ? "" : "s") + "): " + top;
  else
    why += "; the personas' problems say why";
  return why;
}

bool prompts_on(const lang::Recipe& r) {
  const auto it = r.output.find("prompts");
  if (it == r.output.end()) return false;
  const auto* s = std::get_if<std::string>(&it->second);
  return s != nullptr && (*s == "on" || *s == "true");
}

}  // namespace

RunResult run(const engine::Program& prog, const RunOptions& given) {
  RunResult res;
  // The calibrated population, for the whole run's count (every shard builds the same one).
  RunOptions with_population;
  const RunOptions* chosen = &given;
  if (prog.recipe().population.present() && !given.population) {
    with_population = given;
    DiagnosticList diags;
    with_population.population = engine::Population::build(prog.model(), given.seed, given.count, diags);
    for (const auto& d : diags.all()) {
      if (d.severity == Severity::error && res.error.empty()) res.error = d.message;
      if (d.severity == Severity::warning) res.warnings.push_back(d.message);
    }
    if (!with_population.population) {
      if (res.error.empty()) res.error = "the population could not be calibrated";
      return res;
    }
    chosen = &with_population;
  }
  const RunOptions& opts = *chosen;
  const std::string started = now_iso();
  const auto t0 = Clock::now();
  if (opts.shard_n == 0 || opts.shard_k == 0 || opts.shard_k > opts.shard_n) {
    res.error = "bad shard " + std::to_string(opts.shard_k) + "/" + std::to_string(opts.shard_n);
    return res;
  }
  if (opts.llm != nullptr) {
    // A missing key is said before anything is sent or written.
    if (std::string why = llm::key_problem(opts.llm->setup().provider); !why.empty()) {
      res.error = why;
      return res;
    }
  }
  const auto fp = fingerprint(prog, opts);
  Journal journal;
  if (!journal.open(prog, opts, fp, res.error)) {
    journal.abandon();
    return res;
  }
  RunTotals totals = journal.resumed();
  if (opts.llm == nullptr) {
    const PoolResult pr = run_pool(prog, opts, journal, totals, res.error);
    if (pr.failed) {
      journal.abandon();
      res.totals = totals;
      return res;
    }
    if (pr.stopped) {
      std::string err;
      (void)journal.flush(err);
      journal.abandon();
      res.interrupted = true;
      res.reason = "interrupted";
      res.totals = totals;
      return res;
    }
  } else {
    const auto& provider = opts.llm->setup().provider;
    std::unique_ptr<llm::Cache> cache;
    if (!opts.cache_path.empty()) {
      // An unusable cache (corrupt, another schema, read-only) costs the reuse of answers, not the
      // run: said once, and the run goes on without it.
      std::string err;
      cache = llm::Cache::open(opts.cache_path, &err);
      if (!cache)
        res.warnings.push_back("the response cache " + opts.cache_path + " cannot be used (" + err +
                               "); this run reads and stores no cached answers (--no-cache says so quietly; "
                               "delete the file, or point --cache elsewhere, to have a fresh one)");
    }
    llm::Options co = opts.client;
    if (opts.concurrency > 0) co.max_concurrency = opts.concurrency;
    co.cache = cache.get();
    co.seed = opts.seed ^ 0x5eed;
    llm::Client client(provider, co);
    const double before = cost_usd(provider, totals.usage);
    Loop loop(prog, opts, journal, client, totals, before);
    loop.keep_prompts(prompts_on(prog.recipe()));
    loop.go(res);
    res.stats = client.stats();
    res.spent_usd = before + res.stats.cost;
    if (cache && cache->failures() > 0)
      res.warnings.push_back("the response cache " + opts.cache_path + " failed " + std::to_string(cache->failures()) +
                             " time" + (cache->failures() == 1 ? "" : "s") + " (" + cache->first_error() +
                             "); the answers concerned were not read from or stored in it");
    if (!res.ok) {
      std::string err;
      (void)journal.flush(err);
      journal.abandon();  // keep `.part` and the run record for --resume
      res.totals = totals;
      return res;
    }
  }
  if (!journal.close(res.error)) {
    res.ok = false;
    res.totals = totals;
    return res;
  }
  totals.bytes = journal.bytes();
  if (totals.personas == 0) totals.min_attributes = 0;
  totals.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  res.totals = totals;
  res.ok = true;
  // The manifest first, then the output renamed into place: PATH never stands without its manifest.
  if (opts.manifest && journal.regular()) {
    const auto m = manifest(prog, opts, res, started, now_iso());
    if (!journal.write_manifest(m, res.manifest_path, res.error)) {
      res.ok = false;
      return res;
    }
  }
  if (!journal.commit(res.error)) {
    res.ok = false;
    return res;
  }
  if (opts.llm != nullptr) {
    if (std::string why = failed_run(totals, res.stats, opts.max_failed_share); !why.empty()) {
      res.ok = false;
      res.output_written = true;
      res.error = std::move(why);
    }
  }
  return res;
}

}  // namespace persona::exec
