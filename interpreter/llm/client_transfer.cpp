// The client's transfer helpers: libcurl callbacks, error excerpts, status names and statistics.
#include <algorithm>
#include <csignal>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "llm/client_internal.hpp"
#include "llm/providers.hpp"

namespace persona::llm {
namespace detail {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    // A peer closing a socket mid-write must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
  });
}

// A short, redacted excerpt of a server body for error messages.
std::string excerpt(const std::string& body, const Provider& provider) {
  std::string msg;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      msg = e["message"].get<std::string>();
    } else if (e.is_string()) {
      msg = e.get<std::string>();
    }
  }
  if (msg.empty()) msg = body;
  // Redacted before the cut, on a bounded text (a key cut in two still goes).
  // Cuts fall on character boundaries and invalid bytes become U+FFFD: the excerpt lands in
  // statuses and messages, which must stay valid UTF-8.
  if (msg.size() > 4096) msg = std::string(text::utf8_prefix(msg, 4096));
  msg = provider.redact(text::utf8_sanitize(msg));
  if (msg.size() > 300) msg = std::string(text::utf8_prefix(msg, 300)) + "...";
  for (char& c : msg) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return msg;
}

std::size_t on_write(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  // libcurl hands over decompressed bytes (CURLOPT_ACCEPT_ENCODING ""): a gzip bomb counts at its
  // inflated size. Returning less than given aborts the transfer (CURLE_WRITE_ERROR).
  if (size * n > t->max_bytes - std::min(t->max_bytes, t->body.size())) {
    t->too_large = true;
    return 0;
  }
  t->body.append(ptr, size * n);
  return size * n;
}

std::size_t on_header(char* ptr, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->header_bytes += size * n;
  if (t->header_bytes > t->max_bytes) {
    t->too_large = true;
    return 0;
  }
  const std::string_view line(ptr, size * n);
  if (line.starts_with("HTTP/")) {
    t->retry_after_ms = -1;  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  const std::string name = text::lower(text::trim(line.substr(0, colon)));
  const std::string value(text::trim(line.substr(colon + 1)));
  try {
    if (name == "retry-after-ms") {
      const double ms = std::stod(value);
      if (ms >= 0) t->retry_after_ms = static_cast<long>(ms);
    } else if (name == "retry-after" && t->retry_after_ms < 0) {
      if (!value.empty() && std::isdigit(static_cast<unsigned char>(value[0])) != 0) {
        t->retry_after_ms = static_cast<long>(std::stod(value) * 1000.0);
      } else {
        const time_t when = curl_getdate(value.c_str(), nullptr);
        if (when > 0) {
          const time_t now = std::time(nullptr);
          t->retry_after_ms = when > now ? static_cast<long>(when - now) * 1000 : 0;
        }
      }
    }
  } catch (...) {
    // Ignore an unreadable header.
  }
  return size * n;
}

}  // namespace detail

const char* to_string(Response::Status s) {
  switch (s) {
    case Response::Status::ok:
      return "ok";
    case Response::Status::failed:
      return "failed";
    case Response::Status::circuit_open:
      return "circuit_open";
    case Response::Status::cancelled:
      return "cancelled";
  }
  return "?";
}

std::string Stats::to_string() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "requests=%ld ok=%ld failed=%ld failed_fast=%ld cancelled=%ld attempts=%ld retries=%ld "
                "rate_limited=%ld cache_hits=%ld connections=%ld in_flight_peak=%d concurrency=%d (min %d) circuit=%s "
                "tokens_in=%ld tokens_out=%ld tokens_cached=%ld cost=$%.4f",
                requests, succeeded, failed, failed_fast, cancelled, attempts, retries, rate_limited, cache_hits,
                connections, in_flight_peak, concurrency_limit, concurrency_min, circuit_open ? "open" : "closed",
                usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, cost);
  std::string out = buf;
  if (replicas.size() > 1) {
    out += " replicas=[";
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      const auto& r = replicas[i];
      if (i > 0) out += ", ";
      out += r.url + " attempts=" + std::to_string(r.attempts) + " ok=" + std::to_string(r.succeeded) +
             " failed=" + std::to_string(r.failed) + (r.down ? " down" : "");
    }
    out += "]";
  }
  return out;
}

nlohmann::json ReplicaStats::to_json() const {
  return {{"url", url},       {"attempts", attempts},         {"succeeded", succeeded},
          {"failed", failed}, {"rate_limited", rate_limited}, {"set_aside", set_aside},
          {"down", down},     {"last_error", last_error}};
}

nlohmann::json Stats::to_json() const {
  nlohmann::json j = {{"requests", requests},
                      {"succeeded", succeeded},
                      {"failed", failed},
                      {"failed_fast", failed_fast},
                      {"cancelled", cancelled},
                      {"attempts", attempts},
                      {"retries", retries},
                      {"rate_limited", rate_limited},
                      {"cache_hits", cache_hits},
                      {"connections", connections},
                      {"in_flight_peak", in_flight_peak},
                      {"concurrency_limit", concurrency_limit},
                      {"concurrency_min", concurrency_min},
                      {"circuit_open", circuit_open},
                      {"prompt_tokens", usage.prompt_tokens},
                      {"completion_tokens", usage.completion_tokens},
                      {"cached_tokens", usage.cached_tokens},
                      {"usage_clamped", usage_clamped},
                      {"cost", cost}};
  if (replicas.size() > 1) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : replicas) list.push_back(r.to_json());
    j["replicas"] = std::move(list);
  }
  return j;
}

}  // namespace persona::llm
