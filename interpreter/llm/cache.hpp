// Content-addressed response cache in SQLite (WAL mode; one writer process, any number of readers).
//
// Key: SHA-256 hex of the canonical request body (nlohmann::json dump, keys sorted) plus the
// endpoint URL. The body never contains the API key (it travels in a header), so neither the key
// nor anything derived from it is ever written. Value: response content + usage.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "llm/providers.hpp"

namespace persona::llm {

// The cache key of a request body sent to `url`.
std::string cache_key(const nlohmann::json& body, std::string_view url);

struct CachedResponse {
  std::string content;
  Usage usage;
};

class Cache {
 public:
  // Opens (creating when needed) the database; nullptr and *error set on failure: a file that is not
  // a SQLite database, one whose `responses` table has another schema, or one that cannot be written.
  static std::unique_ptr<Cache> open(const std::filesystem::path& file, std::string* error = nullptr);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  [[nodiscard]] std::optional<CachedResponse> get(const std::string& key);
  bool put(const std::string& key, const CachedResponse& value);
  [[nodiscard]] long size();  // number of entries
  [[nodiscard]] const std::string& last_error() const { return error_; }
  // Reads and writes that failed since open (the database went away, the disk filled, ...), and the
  // first one's message.
  [[nodiscard]] long failures() const { return failures_; }
  [[nodiscard]] const std::string& first_error() const { return first_error_; }

 private:
  explicit Cache(void* db);
  void failed(const char* what);
  void* db_;  // sqlite3*
  std::string error_, first_error_;
  long failures_ = 0;
};

}  // namespace persona::llm
