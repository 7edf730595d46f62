// Helpers for golden-file tests: read a file, and compare against an expectation or, with
// PERSONA_ACCEPT=1 in the environment, rewrite the expectation.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "files.hpp"

namespace persona::test {

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
