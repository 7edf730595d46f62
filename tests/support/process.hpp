// The one way the tests run programs: the built `persona` binary (PERSONA_BIN) or any command,
// capturing the exit code, stdout and stderr.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "files.hpp"

namespace persona::test {

struct Outcome {
  int code = -1;
  std::string out, err;
};

// Runs a shell command line in `dir` with `stdin_text` as its input.
inline Outcome run_command(const std::string& command, const std::string& stdin_text = "",
                           const std::string& dir = PERSONA_SOURCE_DIR) {
  static int n = 0;
  const auto base = scratch_dir("process") / ("run" + std::to_string(++n));
  const std::string in_file = base.string() + ".in", out_file = base.string() + ".out",
                    err_file = base.string() + ".err";
  write_file(in_file, stdin_text);
  const std::string cmd =
      "cd '" + dir + "' && " + command + " <'" + in_file + "' >'" + out_file + "' 2>'" + err_file + "'";
  const int status = std::system(cmd.c_str());
  Outcome o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = read_file(out_file);
  o.err = read_file(err_file);
  return o;
}

// Starts `program args...` as a child (stdout and stderr appended to out_file and err_file) and
// returns its pid. With block_stop_signals the child starts with SIGINT and SIGTERM blocked: a signal
// sent before the program installs its handlers waits, pending, until it unblocks them (`persona
// run` does as it starts), so a test can signal at any moment after the spawn.
inline pid_t spawn_process(const std::string& program, const std::vector<std::string>& args,
                           const std::string& out_file, const std::string& err_file, bool block_stop_signals = false) {
  std::fflush(nullptr);  // else the child's freopen writes the parent's buffered output once more
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (block_stop_signals) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      sigprocmask(SIG_BLOCK, &set, nullptr);
    }
    if (!std::freopen(out_file.c_str(), "ab", stdout) || !std::freopen(err_file.c_str(), "ab", stderr)) ::_exit(127);
    std::vector<std::string> copy = args;
    std::string bin = program;
    std::vector<char*> argv{bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for a spawned child: its exit code, or 128 + the signal that ended it.
inline int wait_exit_code(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#ifdef PERSONA_BIN
// `args` is appended to the binary's path as is (quote it yourself); runs in the source tree.
inline Outcome run_persona(const std::string& args, const std::string& stdin_text = "") {
  return run_command(std::string("'") + PERSONA_BIN + "' " + args, stdin_text);
}
#endif

}  // namespace persona::test
