#include "llm/cache.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "base/files.hpp"

namespace persona::llm {
namespace {

sqlite3* as_db(void* p) { return static_cast<sqlite3*>(p); }

}  // namespace

std::string cache_key(const nlohmann::json& body, std::string_view url) {
  // nlohmann::json objects are std::map-backed: dump() is canonical (sorted keys, no spaces).
  std::string text(url);
  text += '\n';
  text += body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return files::sha256_hex(text);
}

std::unique_ptr<Cache> Cache::open(const std::filesystem::path& file, std::string* error) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(file.string().c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    if (error != nullptr) *error = "cannot open cache " + file.string() + ": " + sqlite3_errstr(rc);
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 10'000);
  const char* setup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=NORMAL;"
      "CREATE TABLE IF NOT EXISTS responses ("
      "  key TEXT PRIMARY KEY,"
      "  content TEXT NOT NULL,"
      "  prompt_tokens INTEGER NOT NULL,"
      "  completion_tokens INTEGER NOT NULL,"
      "  cached_tokens INTEGER NOT NULL,"
      "  created INTEGER NOT NULL DEFAULT (strftime('%s','now')));";
  char* msg = nullptr;
  if (sqlite3_exec(db, setup, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (error != nullptr) *error = "cannot initialise cache " + file.string() + ": " + (msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return nullptr;
  }
  // The statements the cache runs must compile (a `responses` table of another schema fails here),
  // and the file must take writes.
  for (const char* sql : {"SELECT content, prompt_tokens, completion_tokens, cached_tokens FROM responses WHERE key=?1",
                          "INSERT OR REPLACE INTO responses(key, content, prompt_tokens, completion_tokens, "
                          "cached_tokens) VALUES (?1, ?2, ?3, ?4, ?5)"}) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      if (error != nullptr)
        *error = file.string() + " holds a table 'responses' of another layout (" + sqlite3_errmsg(db) + ")";
      sqlite3_finalize(st);
      sqlite3_close(db);
      return nullptr;
    }
    sqlite3_finalize(st);
  }
  if (sqlite3_db_readonly(db, "main") == 1 ||
      sqlite3_exec(db, "BEGIN IMMEDIATE; COMMIT;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    if (error != nullptr) *error = file.string() + " cannot be written: " + sqlite3_errmsg(db);
    sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return nullptr;
  }
  return std::unique_ptr<Cache>(new Cache(db));
}

Cache::Cache(void* db) : db_(db) {}

void Cache::failed(const char* what) {
  error_ = std::string(what) + ": " + sqlite3_errmsg(as_db(db_));
  if (failures_++ == 0) first_error_ = error_;
}

Cache::~Cache() { sqlite3_close(as_db(db_)); }

std::optional<CachedResponse> Cache::get(const std::string& key) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(as_db(db_),
                         "SELECT content, prompt_tokens, completion_tokens, cached_tokens FROM responses WHERE key=?1",
                         -1, &st, nullptr) != SQLITE_OK) {
    failed("read");
    return std::nullopt;
  }
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  std::optional<CachedResponse> out;
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) failed("read");
  if (rc == SQLITE_ROW) {
    CachedResponse r;
    const auto* text = sqlite3_column_text(st, 0);
    const int len = sqlite3_column_bytes(st, 0);
    if (text != nullptr) r.content.assign(reinterpret_cast<const char*>(text), static_cast<std::size_t>(len));
    r.usage.prompt_tokens = static_cast<long>(sqlite3_column_int64(st, 1));
    r.usage.completion_tokens = static_cast<long>(sqlite3_column_int64(st, 2));
    r.usage.cached_tokens = static_cast<long>(sqlite3_column_int64(st, 3));
    out = std::move(r);
  }
  sqlite3_finalize(st);
  return out;
}

bool Cache::put(const std::string& key, const CachedResponse& value) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(as_db(db_),
                         "INSERT OR REPLACE INTO responses(key, content, prompt_tokens, completion_tokens, "
                         "cached_tokens) VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st, nullptr) != SQLITE_OK) {
    failed("write");
    return false;
  }
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value.content.data(), static_cast<int>(value.content.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, value.usage.prompt_tokens);
  sqlite3_bind_int64(st, 4, value.usage.completion_tokens);
  sqlite3_bind_int64(st, 5, value.usage.cached_tokens);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) failed("write");
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return false;
  return true;
}

long Cache::size() {
  sqlite3_stmt* st = nullptr;
  long n = 0;
  if (sqlite3_prepare_v2(as_db(db_), "SELECT COUNT(*) FROM responses", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = static_cast<long>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  return n;
}

}  // namespace persona::llm
