// The one way the tests read and write files and make scratch folders.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace persona::test {

// The whole file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// The file's lines without their newlines.
inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::istringstream in(read_file(p));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// A folder under the temp directory, unique to this process and `name` (created when missing).
inline std::filesystem::path scratch_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("persona-test-" + std::to_string(::getpid())) / name;
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace persona::test
