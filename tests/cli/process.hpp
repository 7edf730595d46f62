// Runs the persona binary and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace persona::test {

struct Outcome {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::filesystem::path scratch_dir() {
  auto d = std::filesystem::temp_directory_path() / ("persona-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

// `args` is appended to the binary's path as is (quote it yourself).
inline Outcome run_persona(const std::string& args, const std::string& stdin_text = "") {
  const auto dir = scratch_dir();
  static int n = 0;
  const auto base = dir / ("run" + std::to_string(++n));
  const std::string in_file = base.string() + ".in", out_file = base.string() + ".out",
                    err_file = base.string() + ".err";
  std::ofstream(in_file) << stdin_text;
  const std::string cmd = std::string("cd '") + PERSONA_SOURCE_DIR + "' && '" + PERSONA_BIN + "' " + args + " <'" +
                          in_file + "' >'" + out_file + "' 2>'" + err_file + "'";
  const int status = std::system(cmd.c_str());
  Outcome o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = slurp(out_file);
  o.err = slurp(err_file);
  return o;
}

}  // namespace persona::test
