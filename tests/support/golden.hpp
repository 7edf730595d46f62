// Helpers for golden-file tests: read a file, and compare against an expectation or, with
// PERSONA_ACCEPT=1 in the environment, rewrite the expectation.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace persona::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool accept_mode() {
  const char* v = std::getenv("PERSONA_ACCEPT");
  return v != nullptr && std::string(v) == "1";
}

// CHECKs that `expected_file` holds `actual`; in accept mode writes it instead.
inline void compare_golden(const std::filesystem::path& expected_file, const std::string& actual) {
  if (accept_mode()) {
    std::ofstream(expected_file, std::ios::binary) << actual;
    return;
  }
  REQUIRE(std::filesystem::exists(expected_file));
  CHECK(read_file(expected_file) == actual);
}

}  // namespace persona::test
