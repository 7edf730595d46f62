#include "llm/client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>

#include "base/rng.hpp"
#include "base/text.hpp"
#include "llm/cache.hpp"
#include "llm/client_internal.hpp"
#include "llm/dialect.hpp"
#include "llm/structured.hpp"

namespace persona::llm {

using namespace detail;

// One base URL of the provider, with its own health.
struct Replica {
  std::string chat_url, embeddings_url;
  int in_flight = 0;
  bool down = false;          // set aside after a failure on the wire, 408, 429 or 5xx
  int streak = 0;             // consecutive failed attempts (from attempts sent since it was last set aside)
  Clock::time_point until{};  // down: not used before this, then by one probe request at a time
  Clock::time_point marked{};
  ReplicaStats st;
};

struct Client::Impl {
  Provider provider;
  const Dialect& dialect;
  Options opt;
  int max_conc = 1;
  int max_retries = 0;
  long connect_timeout_ms = 0;
  long timeout_ms = 0;
  Rng rng;
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;
  std::deque<std::unique_ptr<Job>> ready;
  std::multimap<Clock::time_point, std::unique_ptr<Job>> delayed;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active;
  std::deque<std::pair<std::function<void(Response)>, Response>> done;
  Stats stats;
  // AIMD
  int limit = 1;
  int burst_429 = 0;
  int successes = 0;
  Clock::time_point last_decrease{};
  // Circuit breaker
  int consecutive_failures = 0;
  bool breaker = false;
  bool dispatching = false;
  std::vector<Replica> replicas;  // Provider::base_urls() order
  std::size_t turn = 0;           // round robin among equally loaded replicas

  Impl(Provider p, Options o) : provider(std::move(p)), dialect(dialect_for(provider.style)), opt(o), rng(o.seed) {
    global_init();
    const auto urls = provider.base_urls();
    replicas.resize(urls.size());
    for (std::size_t i = 0; i < urls.size(); ++i) {
      const Provider one = provider.replica(i);
      replicas[i].chat_url = dialect.url(one, Endpoint::chat);
      replicas[i].embeddings_url = dialect.url(one, Endpoint::embeddings);
      replicas[i].st.url = redact_url(urls[i]);
    }
    max_conc = std::max(1, opt.max_concurrency > 0 ? opt.max_concurrency : provider.max_concurrency);
    max_retries = std::max(0, opt.max_retries >= 0 ? opt.max_retries : provider.max_retries);
    connect_timeout_ms = opt.connect_timeout_ms > 0 ? opt.connect_timeout_ms : provider.connect_timeout_ms;
    timeout_ms = opt.timeout_ms > 0 ? opt.timeout_ms : provider.timeout_ms;
    limit = opt.initial_concurrency > 0 ? std::min(opt.initial_concurrency, max_conc) : max_conc;
    stats.concurrency_limit = limit;
    stats.concurrency_min = limit;
    multi = curl_multi_init();
    if (multi != nullptr) {
      curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(max_conc + 4));
      curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    }
  }

  ~Impl() {
    for (auto& [easy, t] : active) {
      curl_multi_remove_handle(multi, easy);
      curl_slist_free_all(t->headers);
      curl_easy_cleanup(easy);
    }
    active.clear();
    for (CURL* e : idle) curl_easy_cleanup(e);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  std::size_t pending() const { return ready.size() + delayed.size() + active.size() + done.size(); }

  void complete(std::unique_ptr<Job> job, Response r) {
    r.tag = job->req.tag;
    switch (r.status) {
      case Response::Status::ok:
        ++stats.succeeded;
        break;
      case Response::Status::failed:
        ++stats.failed;
        break;
      case Response::Status::circuit_open:
        ++stats.failed_fast;
        break;
      case Response::Status::cancelled:
        ++stats.cancelled;
        break;
    }
    done.emplace_back(std::move(job->done), std::move(r));
  }

  Response status_only(const Job& job, Response::Status s, std::string error) {
    Response r;
    r.status = s;
    r.attempts = job.attempts;
    r.http_status = job.http_status;
    r.replica = job.replica;
    r.error = provider.redact(std::move(error));
    return r;
  }

  void submit(Request req, std::function<void(Response)> cb) {
    ++stats.requests;
    auto job = std::make_unique<Job>();
    job->req = std::move(req);
    job->done = std::move(cb);
    // The first base URL's endpoint: the cache key must not depend on the replica that answers.
    job->url = dialect.url(provider, job->req.endpoint);
    job->failed_on.assign(replicas.size(), 0);
    job->why.assign(replicas.size(), std::string());
    if (job->url.empty()) {
      complete(std::move(job),
               status_only(Job{}, Response::Status::failed,
                           "the " + std::string(dialect.name()) + " style has no " +
                               (job->req.endpoint == Endpoint::embeddings ? "embeddings" : "chat") + " endpoint"));
      return;
    }
    try {
      job->body_text = job->req.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const std::exception& e) {
      complete(std::move(job),
               status_only(Job{}, Response::Status::failed, std::string("bad request body: ") + e.what()));
      return;
    }
    if (opt.cache != nullptr && job->req.use_cache) {
      job->key = cache_key(job->req.body, job->url);
      if (auto hit = opt.cache->get(job->key)) {
        Response r;
        r.status = Response::Status::ok;
        r.http_status = 200;
        r.content = std::move(hit->content);
        r.usage = hit->usage;
        r.usage_clamped = clamp_usage(r.usage);
        r.from_cache = true;
        if (job->req.endpoint == Endpoint::embeddings) {
          auto j = nlohmann::json::parse(r.content, nullptr, false);
          if (j.is_array()) {
            for (const auto& v : j) {
              if (v.is_array()) r.embeddings.push_back(v.get<std::vector<float>>());
            }
          }
        }
        ++stats.cache_hits;
        complete(std::move(job), std::move(r));
        return;
      }
    }
    if (breaker) {
      complete(std::move(job), status_only(Job{}, Response::Status::circuit_open, breaker_message()));
      return;
    }
    if (multi == nullptr) {
      complete(std::move(job), status_only(Job{}, Response::Status::failed, "curl_multi_init failed"));
      return;
    }
    ready.push_back(std::move(job));
  }

  std::string breaker_message() const {
    std::string msg = "circuit breaker open after " + std::to_string(opt.breaker_threshold) +
                      " consecutive failed attempts against provider '" + provider.name + "'";
    if (replicas.size() > 1) msg += " (every replica failing: " + replica_errors(nullptr) + ")";
    return msg;
  }

  // "URL: last error; URL: last error" for every replica: the call's own errors where it met the
  // replica, else the replica's last one.
  std::string replica_errors(const Job* job) const {
    std::string out;
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      const auto& r = replicas[i];
      std::string why = job != nullptr && i < job->why.size() ? job->why[i] : std::string();
      if (why.empty()) why = r.st.last_error.empty() ? std::string("no failure") : r.st.last_error;
      if (!out.empty()) out += "; ";
      out += r.st.url + ": " + why;
    }
    return out;
  }

  // Whether a replica other than `except` is up (not set aside).
  bool another_up(int except) const {
    for (std::size_t i = 0; i < replicas.size(); ++i)
      if (static_cast<int>(i) != except && !replicas[i].down) return true;
    return false;
  }

  // The replica for the job's next attempt: among those up (or down with the wait over and no probe in
  // flight), one this call has not failed on, with the fewest requests in flight, ties in turn. With
  // none available (every replica down), the same choice among all: the call's own backoff paces it.
  int pick(const Job& job) {
    const std::size_t n = replicas.size();
    if (n == 1) return 0;
    const auto now = Clock::now();
    auto usable = [&](const Replica& r) { return !r.down || (now >= r.until && r.in_flight == 0); };
    int best = -1;
    for (int pass = 0; pass < 2 && best < 0; ++pass) {
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (turn + k) % n;
        if (pass == 0 && !usable(replicas[i])) continue;
        if (best < 0) {
          best = static_cast<int>(i);
          continue;
        }
        const auto b = static_cast<std::size_t>(best);
        const bool tried_i = job.failed_on[i] != 0, tried_b = job.failed_on[b] != 0;
        if (tried_i != tried_b ? !tried_i : replicas[i].in_flight < replicas[b].in_flight) best = static_cast<int>(i);
      }
    }
    turn = (static_cast<std::size_t>(best) + 1) % n;
    return best;
  }

  // A failure on the wire, 408, 429 or 5xx at replica i: it is set aside (the Retry-After it sent, else
  // a backoff doubling per consecutive failure), unless the attempt predates its last setting aside.
  void replica_failed(int i, const Transfer& t) {
    Replica& r = replicas[static_cast<std::size_t>(i)];
    const auto now = Clock::now();
    if (r.down && t.started < r.marked) return;  // sent before it was set aside: says nothing new
    ++r.streak;
    long wait = 0;
    if (t.retry_after_ms >= 0) {
      wait = std::min(t.retry_after_ms, opt.retry_after_max_ms);
    } else {
      double cap = static_cast<double>(opt.backoff_base_ms);
      for (int k = 1; k < r.streak && cap < static_cast<double>(opt.backoff_max_ms); ++k) cap *= 2;
      wait = static_cast<long>(std::min(cap, static_cast<double>(opt.backoff_max_ms)));
    }
    if (!r.down) ++r.st.set_aside;
    r.down = true;
    r.marked = now;
    r.until = now + Ms(wait);
  }

  // An attempt leaves the wire (answered, failed, cancelled).
  void left(const Transfer& t) {
    if (t.job && t.job->replica >= 0 && static_cast<std::size_t>(t.job->replica) < replicas.size())
      --replicas[static_cast<std::size_t>(t.job->replica)].in_flight;
  }

  void open_breaker() {
    breaker = true;
    stats.circuit_open = true;
    const std::string msg = breaker_message();
    for (auto& [easy, t] : active) {
      left(*t);
      curl_multi_remove_handle(multi, easy);
      curl_slist_free_all(t->headers);
      t->headers = nullptr;
      idle.push_back(easy);
      const std::string why = t->job->last_error.empty() ? msg : msg + "; last error: " + t->job->last_error;
      Response r = status_only(*t->job, Response::Status::circuit_open, why);
      complete(std::move(t->job), std::move(r));
    }
    active.clear();
    fail_queued(Response::Status::circuit_open, msg);
  }

  void fail_queued(Response::Status s, const std::string& msg) {
    while (!ready.empty()) {
      auto job = std::move(ready.front());
      ready.pop_front();
      std::string why = msg;
      if (!job->last_error.empty()) why += "; last error: " + job->last_error;
      Response r = status_only(*job, s, why);
      complete(std::move(job), std::move(r));
    }
    for (auto& [when, job] : delayed) {
      std::string why = msg;
      if (!job->last_error.empty()) why += "; last error: " + job->last_error;
      Response r = status_only(*job, s, why);
      complete(std::move(job), std::move(r));
    }
    delayed.clear();
  }

  void cancel_all() {
    for (auto& [easy, t] : active) {
      left(*t);
      curl_multi_remove_handle(multi, easy);
      curl_slist_free_all(t->headers);
      t->headers = nullptr;
      idle.push_back(easy);
      Response r = status_only(*t->job, Response::Status::cancelled, "cancelled");
      complete(std::move(t->job), std::move(r));
    }
    active.clear();
    fail_queued(Response::Status::cancelled, "cancelled");
    dispatch();
  }

  bool start(std::unique_ptr<Job> job) {
    CURL* easy = nullptr;
    if (!idle.empty()) {
      easy = idle.back();
      idle.pop_back();
      curl_easy_reset(easy);  // keeps live connections, DNS and TLS session caches
    } else {
      easy = curl_easy_init();
    }
    if (easy == nullptr) {
      complete(std::move(job), status_only(Job{}, Response::Status::failed, "curl_easy_init failed"));
      return false;
    }
    auto t = std::make_unique<Transfer>();
    t->easy = easy;
    t->job = std::move(job);
    t->started = Clock::now();
    const int ri = pick(*t->job);
    Replica& rep = replicas[static_cast<std::size_t>(ri)];
    t->job->replica = ri;
    t->url = t->job->req.endpoint == Endpoint::embeddings ? rep.embeddings_url : rep.chat_url;
    t->max_bytes = static_cast<std::size_t>(std::max(1L, provider.max_response_bytes));
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "Accept: application/json");
    t->headers = curl_slist_append(t->headers, "Expect:");
    {
      // The key is read from the environment now; it lives only in this header list, freed after
      // the transfer.
      std::vector<std::string> lines;
      std::string key = provider.api_key();
      dialect.headers(provider, key, lines);
      for (auto& line : lines) {
        t->headers = curl_slist_append(t->headers, line.c_str());
        std::fill(line.begin(), line.end(), '\0');
      }
      std::fill(key.begin(), key.end(), '\0');
    }
    curl_easy_setopt(easy, CURLOPT_URL, t->url.c_str());
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->job->body_text.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->job->body_text.size()));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
      curl_slist_free_all(t->headers);
      idle.push_back(easy);
      complete(std::move(t->job), status_only(Job{}, Response::Status::failed, "curl_multi_add_handle failed"));
      return false;
    }
    ++t->job->attempts;
    ++stats.attempts;
    if (t->job->attempts > 1) ++stats.retries;
    ++rep.in_flight;
    ++rep.st.attempts;
    active.emplace(easy, std::move(t));
    stats.in_flight_peak = std::max(stats.in_flight_peak, static_cast<int>(active.size()));
    return true;
  }

  void fill() {
    const auto now = Clock::now();
    while (!delayed.empty() && delayed.begin()->first <= now) {
      ready.push_front(std::move(delayed.begin()->second));  // retries go first
      delayed.erase(delayed.begin());
    }
    while (!breaker && !ready.empty() && static_cast<int>(active.size()) < limit) {
      auto job = std::move(ready.front());
      ready.pop_front();
      start(std::move(job));
    }
  }

  void set_limit(int l) {
    limit = std::clamp(l, 1, max_conc);
    stats.concurrency_limit = limit;
    stats.concurrency_min = std::min(stats.concurrency_min, limit);
  }

  // A 429; `provider_wide`: it lowers the provider's AIMD limit (false while another replica is up:
  // the replica is set aside instead).
  void on_rate_limited(const Transfer& t, bool provider_wide) {
    ++stats.rate_limited;
    if (!provider_wide) return;
    successes = 0;
    // One decrease per "round trip": answers to requests sent before the last decrease don't count.
    if (t.started < last_decrease) return;
    if (++burst_429 >= std::max(1, opt.aimd_burst)) {
      set_limit(limit / 2);
      burst_429 = 0;
      last_decrease = Clock::now();
    }
  }

  void on_success() {
    consecutive_failures = 0;
    burst_429 = 0;
    if (++successes >= std::max(1, opt.aimd_increase_after)) {
      successes = 0;
      if (limit < max_conc) set_limit(limit + 1);
    }
  }

  // Counts a failed attempt towards the breaker; returns whether it opened.
  bool breaker_failure() {
    ++consecutive_failures;
    if (opt.breaker_threshold > 0 && consecutive_failures >= opt.breaker_threshold) {
      open_breaker();
      return true;
    }
    return false;
  }

  long backoff_ms(int retry_number, long retry_after) {
    if (retry_after >= 0) {
      // Server asked for a wait: honour it, with a little jitter so a herd does not return at once.
      const long base = std::min(retry_after, opt.retry_after_max_ms);
      return base + static_cast<long>(rng.uniform() * static_cast<double>(std::min(base / 10 + 1, 1000L)));
    }
    double cap = static_cast<double>(opt.backoff_base_ms);
    for (int i = 1; i < retry_number && cap < static_cast<double>(opt.backoff_max_ms); ++i) cap *= 2;
    cap = std::min(cap, static_cast<double>(opt.backoff_max_ms));
    return static_cast<long>(rng.uniform() * cap);  // full jitter
  }

  // Parses a 2xx body into r; returns an error message (empty when fine).
  std::string parse_body(const Transfer& t, Response& r) {
    auto j = nlohmann::json::parse(t.body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return "unparsable response body (" + std::to_string(t.body.size()) + " bytes)";
    std::string error = dialect.parse(j, t.job->req.endpoint, r);
    if (!error.empty()) {
      if (!error.starts_with("refusal: ") && !dialect.error_message(j).empty())
        return "error in a 2xx response: " + excerpt(t.body, provider);
      return error;
    }
    if (t.job->req.endpoint == Endpoint::chat && t.job->req.expect_json && !extract_json(r.content).value) {
      return std::string("content holds no JSON object") +
             (r.finish_reason == "length" ? " (truncated at max_tokens)" : "");
    }
    return {};
  }

  void finish(CURL* easy, CURLcode code) {
    auto it = active.find(easy);
    if (it == active.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    active.erase(it);
    curl_multi_remove_handle(multi, easy);
    curl_slist_free_all(t->headers);
    t->headers = nullptr;
    idle.push_back(easy);
    left(*t);
    Job& job = *t->job;
    const int ri = job.replica;
    Replica& rep = replicas[static_cast<std::size_t>(ri)];
    const bool several = replicas.size() > 1;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    long connects = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    stats.connections += connects;
    job.http_status = status;
    Outcome outcome = Outcome::fail;
    bool counts_for_breaker = true;
    bool replica_fault = false;  // the replica did not serve (wire failure, 408, 429, 5xx): set it aside
    Response r;
    std::string error;
    if (t->too_large) {
      // A larger answer than any chat or embeddings reply (an endless stream, a compressed bomb):
      // asking again would only repeat it.
      error = "the response from provider '" + provider.name + "' passed max_response_bytes (" +
              std::to_string(provider.max_response_bytes) +
              " bytes, counted after decompression) and was cut off; raise max_response_bytes in [providers." +
              provider.name + "] if such answers are expected";
      outcome = Outcome::fail;
    } else if (code != CURLE_OK) {
      error = std::string("transport error: ") + curl_easy_strerror(code);
      if (t->errbuf[0] != '\0') error += std::string(" (") + t->errbuf + ")";
      switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
          outcome = Outcome::fail;
          break;
        default:
          outcome = Outcome::retry;  // timeouts, refused/reset connections, truncated bodies, ...
          replica_fault = true;
      }
    } else if (status >= 200 && status < 300) {
      try {
        error = parse_body(*t, r);
      } catch (const std::exception& e) {
        error = std::string("unparsable response body: ") + e.what();
      }
      if (error.empty()) {
        outcome = Outcome::ok;
      } else if (error.starts_with("refusal: ")) {
        outcome = Outcome::fail;
        counts_for_breaker = false;
      } else {
        outcome = Outcome::retry;
      }
    } else {
      error = "HTTP " + std::to_string(status) + ": " + excerpt(t->body, provider);
      if (status == 408 || status == 409 || status == 429 || status >= 500) {
        outcome = Outcome::retry;
        replica_fault = status != 409;
      } else {
        outcome = Outcome::fail;
        // A bad key, a missing model or a wrong URL fail everything: count them. Other 4xx are
        // about this request only.
        counts_for_breaker = status == 401 || status == 403 || status == 404;
      }
    }
    error = provider.redact(error);
    // With several replicas every error names the one it came from.
    job.last_error = several ? rep.st.url + ": " + error : error;

    if (outcome == Outcome::ok) {
      on_success();
      // An answer to a request sent before the replica was set aside does not bring it back (its
      // Retry-After stands); one sent since (the probe) does.
      if (!rep.down || t->started >= rep.marked) {
        rep.streak = 0;
        rep.down = false;
      }
      ++rep.st.succeeded;
      r.replica = ri;
      if (clamp_usage(r.usage)) {
        r.usage_clamped = true;
        ++stats.usage_clamped;
      }
      stats.usage += r.usage;
      stats.cost += provider.cost(r.usage);
      r.status = Response::Status::ok;
      r.http_status = status;
      r.attempts = job.attempts;
      if (opt.cache != nullptr && job.req.use_cache && !job.key.empty()) {
        opt.cache->put(job.key, CachedResponse{r.content, r.usage});
      }
      complete(std::move(t->job), std::move(r));
      return;
    }
    ++rep.st.failed;
    rep.st.last_error = error;
    job.why[static_cast<std::size_t>(ri)] = error;
    const bool rate_limited = code == CURLE_OK && status == 429;
    if (rate_limited) ++rep.st.rate_limited;
    if (replica_fault) replica_failed(ri, *t);
    // While another replica is up, this one's trouble is its own: not the provider's AIMD limit or
    // breaker, and not the call's retries the first time the call meets it.
    const bool others_up = several && another_up(ri);
    if (rate_limited) on_rate_limited(*t, !others_up);
    if (outcome == Outcome::retry && replica_fault && several) {
      const bool first_here = job.failed_on[static_cast<std::size_t>(ri)] == 0;
      job.failed_on[static_cast<std::size_t>(ri)] = 1;
      const bool elsewhere = std::find(job.failed_on.begin(), job.failed_on.end(), 0) != job.failed_on.end();
      if (first_here && elsewhere) {
        ++job.free_failovers;
        if (!others_up && !rate_limited && breaker_failure()) {
          complete(std::move(t->job), status_only(job, Response::Status::circuit_open,
                                                  breaker_message() + "; last error: " + job.last_error));
          return;
        }
        ready.push_front(std::move(t->job));  // at once, to another replica
        return;
      }
    }
    const bool exhausted = job.attempts - job.free_failovers > max_retries;
    if (outcome == Outcome::retry && !exhausted) {
      // 429 is back-pressure handled by AIMD; only other failures move the breaker.
      if (!rate_limited && !(replica_fault && others_up) && breaker_failure()) {
        complete(std::move(t->job), status_only(job, Response::Status::circuit_open,
                                                breaker_message() + "; last error: " + job.last_error));
        return;
      }
      // A replica's Retry-After is that replica's: the call waits for it only when no other is up.
      const long wait = backoff_ms(job.attempts - job.free_failovers, others_up ? -1 : t->retry_after_ms);
      job.due = Clock::now() + Ms(wait);
      delayed.emplace(job.due, std::move(t->job));
      return;
    }
    std::string why = job.last_error;
    if (outcome == Outcome::retry) {
      why = "gave up after " + std::to_string(job.attempts) +
            " attempts: " + (several ? "replicas " + replica_errors(&job) : why);
    }
    complete(std::move(t->job), status_only(job, Response::Status::failed, why));
    if (counts_for_breaker && !(replica_fault && others_up)) breaker_failure();
  }

  void dispatch() {
    if (dispatching) return;  // a callback called poll()/run(): the outer loop dispatches
    dispatching = true;
    while (!done.empty()) {
      auto [cb, r] = std::move(done.front());
      done.pop_front();
      if (cb) {
        try {
          cb(std::move(r));
        } catch (...) {
          // A throwing callback must not corrupt the client; the exception is dropped.
        }
      }
    }
    dispatching = false;
  }

  bool poll(int max_wait_ms) {
    if (dispatching) return pending() > 0;  // nested in a callback
    if (breaker) fail_queued(Response::Status::circuit_open, breaker_message());
    fill();
    dispatch();
    fill();
    if (!active.empty()) {
      int running = 0;
      curl_multi_perform(multi, &running);
      drain();
      if (done.empty() && !active.empty()) {
        curl_multi_poll(multi, nullptr, 0, std::max(0, std::min(max_wait_ms, wait_for_delayed())), nullptr);
        curl_multi_perform(multi, &running);
        drain();
      }
    } else if (done.empty() && !delayed.empty() && ready.empty()) {
      const int wait = std::max(0, std::min(max_wait_ms, wait_for_delayed()));
      if (wait > 0 && multi != nullptr) curl_multi_poll(multi, nullptr, 0, wait, nullptr);
    }
    fill();
    dispatch();
    fill();
    return pending() > 0;
  }

  int wait_for_delayed() const {
    if (delayed.empty()) return 1000;
    const auto d = std::chrono::duration_cast<Ms>(delayed.begin()->first - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(d + 1, 0, 1000));
  }

  void drain() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg == CURLMSG_DONE) finish(m->easy_handle, m->data.result);
    }
  }
};

Client::Client(Provider provider, Options options) : impl_(std::make_unique<Impl>(std::move(provider), options)) {}

Client::~Client() = default;

void Client::submit(Request request, std::function<void(Response)> done) {
  try {
    impl_->submit(std::move(request), std::move(done));
  } catch (...) {
    // Allocation failure: nothing sensible to report beyond dropping the request.
  }
}

void Client::run() {
  if (impl_->dispatching) return;  // nested in a callback: the outer run() carries on
  try {
    while (impl_->poll(1000)) {
    }
  } catch (...) {
  }
}

bool Client::poll(int max_wait_ms) {
  try {
    return impl_->poll(max_wait_ms);
  } catch (...) {
    return impl_->pending() > 0;
  }
}

void Client::cancel_all() {
  try {
    impl_->cancel_all();
  } catch (...) {
  }
}

std::size_t Client::pending() const { return impl_->pending(); }
bool Client::circuit_open() const { return impl_->breaker; }

void Client::reset_circuit() {
  impl_->breaker = false;
  impl_->consecutive_failures = 0;
  impl_->stats.circuit_open = false;
}

Stats Client::stats() const {
  Stats s = impl_->stats;
  s.in_flight = static_cast<int>(impl_->active.size());
  for (const auto& r : impl_->replicas) {
    s.replicas.push_back(r.st);
    s.replicas.back().down = r.down;
  }
  return s;
}
const Provider& Client::provider() const { return impl_->provider; }

nlohmann::json chat_body(const Provider& provider, const std::vector<Message>& messages, const ChatOptions& options) {
  return dialect_for(provider.style).chat_body(provider, messages, options);
}

nlohmann::json embeddings_body(const Provider& provider, const std::vector<std::string>& inputs) {
  return dialect_for(provider.style).embeddings_body(provider, inputs);
}

}  // namespace persona::llm
