// A scripted LSP client for the tests: runs the real `persona lsp` binary with its stdin and stdout
// on pipes, writes framed messages and reads framed messages back with a timeout.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lsp/protocol.hpp"

namespace persona::test {

class LspProcess {
 public:
  LspProcess() {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 2);
      ::close(in[0]);
      ::close(in[1]);
      ::close(out[0]);
      ::close(out[1]);
      if (::chdir(PERSONA_SOURCE_DIR) != 0) ::_exit(126);
      ::execl(PERSONA_BIN, PERSONA_BIN, "lsp", "--stdio", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    ::signal(SIGPIPE, SIG_IGN);
  }
  ~LspProcess() {
    close_input();
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  LspProcess(const LspProcess&) = delete;
  LspProcess& operator=(const LspProcess&) = delete;

  void write_raw(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(to_, bytes.data() + done, bytes.size() - done);
      if (n <= 0) throw std::runtime_error("the server closed its input");
      done += static_cast<std::size_t>(n);
    }
  }
  void send(const lsp::json& m) { write_raw(lsp::frame(m.dump())); }
  void close_input() {
    if (to_ >= 0) ::close(to_);
    to_ = -1;
  }

  // The next framed message, or nullopt after `timeout_ms` or at the end of the output.
  std::optional<lsp::json> receive(int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      const auto head_end = buf_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto pos = buf_.find("Content-Length: ");
        if (pos == std::string::npos || pos > head_end) throw std::runtime_error("a header without Content-Length");
        const std::size_t len = std::stoul(buf_.substr(pos + 16, head_end - pos - 16));
        if (buf_.size() >= head_end + 4 + len) {
          std::string body = buf_.substr(head_end + 4, len);
          buf_.erase(0, head_end + 4 + len);
          return lsp::json::parse(body);
        }
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char chunk[65536];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Messages up to and including the response to request `id` (notifications kept in `seen`).
  std::optional<lsp::json> response_to(int id, std::vector<lsp::json>* seen = nullptr) {
    while (auto m = receive()) {
      if (m->contains("id") && (*m)["id"] == id && !m->contains("method")) return m;
      if (seen != nullptr) seen->push_back(*m);
    }
    return std::nullopt;
  }

  // The exit status after the server ends (waits up to `timeout_ms`); -1 on timeout.
  int wait_exit(int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(10000);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  bool reaped_ = false;
  std::string buf_;
};

}  // namespace persona::test
