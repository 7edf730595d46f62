// persona-bench-llm-limits: the client's peak memory against bodies no answer should have.
// For each hostile server mode (a 4 GiB body, a gzip bomb inflating to 1 GiB, an endless chunked
// stream) a child process sends one chat request through llm::Client and reports its peak
// resident set (getrusage ru_maxrss) and what the call came to. The fake server runs in the parent,
// so its memory is not counted. The client must stay far below the bodies' sizes (target 100 MB).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "llm/client.hpp"
#include "llm/fake/fake_server.hpp"

namespace {

using namespace persona::llm;

// In the child: one request against `base_url`; writes "<maxrss KiB> <status>|<error>" to fd.
int client_child(const std::string& base_url, long max_bytes, int fd) {
  ::setenv("PERSONA_BENCH_LIMITS_KEY", "k", 1);
  Provider p;
  p.name = "fake";
  p.base_url = base_url;
  p.model = "fake-model";
  p.api_key_env = "PERSONA_BENCH_LIMITS_KEY";
  p.timeout_ms = 60'000;
  p.max_response_bytes = max_bytes;
  Client client(p, {.max_retries = 0});
  std::string result;
  client.submit({chat_body(p, {{"user", "hello"}}), "bench"},
                [&](Response r) { result = std::string(to_string(r.status)) + " | " + r.error.substr(0, 160); });
  client.run();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const std::string line = std::to_string(ru.ru_maxrss) + " " + result;
  (void)!::write(fd, line.data(), line.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  long max_bytes = 8L << 20;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: persona-bench-llm-limits [--max-response-bytes N=8388608]\n");
      return 0;
    }
    if (a == "--max-response-bytes" && i + 1 < argc) max_bytes = std::atol(argv[++i]);
  }
  const fake::Fault modes[] = {fake::Fault::none, fake::Fault::huge_body, fake::Fault::gzip_bomb,
                               fake::Fault::endless_stream};
  std::printf("max_response_bytes %ld\n", max_bytes);
  int worst_kib = 0;
  for (const fake::Fault f : modes) {
    // The child is forked before the server starts any thread.
    int up[2], down[2];
    if (::pipe(up) != 0 || ::pipe(down) != 0) return 1;
    const pid_t pid = ::fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      ::close(up[0]);
      ::close(down[1]);
      char buf[256] = {};
      const ssize_t n = ::read(down[0], buf, sizeof buf - 1);
      if (n <= 0) ::_exit(1);
      ::_exit(client_child(std::string(buf, static_cast<std::size_t>(n)), max_bytes, up[1]));
    }
    ::close(up[1]);
    ::close(down[0]);
    fake::Server server;
    if (!server.start()) return 1;
    server.push_faults({f});
    const std::string url = server.base_url();
    (void)!::write(down[1], url.data(), url.size());
    ::close(down[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = ::read(up[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
    ::close(up[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    server.stop();
    const int kib = std::atoi(report.c_str());
    worst_kib = std::max(worst_kib, kib);
    const auto space = report.find(' ');
    std::printf("%-15s client peak RSS %6.1f MB  call: %s\n", fake::to_string(f), kib / 1024.0,
                space == std::string::npos ? "(no report)" : report.substr(space + 1).c_str());
    std::fflush(stdout);
  }
  std::printf("worst client peak RSS %.1f MB (target < 100 MB)\n", worst_kib / 1024.0);
  return 0;
}
