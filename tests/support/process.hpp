// The one way the tests run programs: the built `persona` binary (PERSONA_BIN) or any command,
// capturing the exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

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

#ifdef PERSONA_BIN
// `args` is appended to the binary's path as is (quote it yourself); runs in the source tree.
inline Outcome run_persona(const std::string& args, const std::string& stdin_text = "") {
  return run_command(std::string("'") + PERSONA_BIN + "' " + args, stdin_text);
}
#endif

}  // namespace persona::test
