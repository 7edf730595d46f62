// Internal to the client: one queued request (Job), one HTTP attempt (Transfer) and the libcurl
// callbacks and error-body helpers around them (client_transfer.cpp).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "llm/client.hpp"

namespace persona::llm::detail {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// What one HTTP attempt comes to.
enum class Outcome { ok, retry, fail };

struct Job {
  Request req;
  std::function<void(Response)> done;
  std::string url;
  std::string body_text;
  std::string key;  // cache key
  int attempts = 0;
  int free_failovers = 0;        // attempts that moved the call to another replica without costing a retry
  int replica = -1;              // replica of the current (or last) attempt
  std::vector<char> failed_on;   // per replica: an attempt of this call failed there
  std::vector<std::string> why;  // per replica: this call's last error there (redacted)
  long http_status = 0;
  std::string last_error;
  Clock::time_point due{};
};

struct Transfer {
  std::unique_ptr<Job> job;
  std::string url;  // the endpoint on the replica this attempt went to
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  long retry_after_ms = -1;
  std::size_t max_bytes = SIZE_MAX;  // body (decompressed) and headers each; past it the transfer aborts
  std::size_t header_bytes = 0;
  bool too_large = false;  // aborted by max_bytes
  Clock::time_point started{};
  char errbuf[CURL_ERROR_SIZE] = {};
};

// curl_global_init once per process, and SIGPIPE ignored.
void global_init();
// A short, redacted excerpt of a server body for error messages.
std::string excerpt(const std::string& body, const Provider& provider);
// libcurl callbacks: the body into Transfer::body, Retry-After headers into Transfer::retry_after_ms.
std::size_t on_write(char* ptr, std::size_t size, std::size_t n, void* user);
std::size_t on_header(char* ptr, std::size_t size, std::size_t n, void* user);

}  // namespace persona::llm::detail
