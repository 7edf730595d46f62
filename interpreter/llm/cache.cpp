#include "llm/cache.hpp"

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace persona::llm {
namespace {

constexpr std::array<std::uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void sha256_block(std::array<std::uint32_t, 8>& h, const unsigned char* p) {
  std::array<std::uint32_t, 64> w{};
  for (int i = 0; i < 16; ++i) {
    w[static_cast<std::size_t>(i)] = (std::uint32_t{p[i * 4]} << 24) | (std::uint32_t{p[i * 4 + 1]} << 16) |
                                     (std::uint32_t{p[i * 4 + 2]} << 8) | std::uint32_t{p[i * 4 + 3]};
  }
  for (std::size_t i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (std::size_t i = 0; i < 64; ++i) {
    const std::uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t ch = (e & f) ^ (~e & g);
    const std::uint32_t t1 = hh + S1 + ch + kK[i] + w[i];
    const std::uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = S0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

sqlite3* as_db(void* p) { return static_cast<sqlite3*>(p); }

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::size_t off = 0;
  for (; n - off >= 64; off += 64) sha256_block(h, bytes + off);
  std::array<unsigned char, 128> tail{};
  const std::size_t rest = n - off;
  if (rest > 0) std::memcpy(tail.data(), bytes + off, rest);
  tail[rest] = 0x80;
  const std::size_t total = rest + 9 <= 64 ? 64 : 128;
  const std::uint64_t bits = static_cast<std::uint64_t>(n) * 8;
  for (int i = 0; i < 8; ++i)
    tail[total - 1 - static_cast<std::size_t>(i)] = static_cast<unsigned char>(bits >> (8 * i));
  sha256_block(h, tail.data());
  if (total == 128) sha256_block(h, tail.data() + 64);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (const std::uint32_t v : h) {
    for (int s = 28; s >= 0; s -= 4) out += hex[(v >> s) & 0xF];
  }
  return out;
}

std::string cache_key(const nlohmann::json& body, std::string_view url) {
  // nlohmann::json objects are std::map-backed: dump() is canonical (sorted keys, no spaces).
  std::string text(url);
  text += '\n';
  text += body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return sha256_hex(text);
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
  return std::unique_ptr<Cache>(new Cache(db));
}

Cache::Cache(void* db) : db_(db) {}

Cache::~Cache() { sqlite3_close(as_db(db_)); }

std::optional<CachedResponse> Cache::get(const std::string& key) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(as_db(db_),
                         "SELECT content, prompt_tokens, completion_tokens, cached_tokens FROM responses WHERE key=?1",
                         -1, &st, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(as_db(db_));
    return std::nullopt;
  }
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  std::optional<CachedResponse> out;
  if (sqlite3_step(st) == SQLITE_ROW) {
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
    error_ = sqlite3_errmsg(as_db(db_));
    return false;
  }
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, value.content.data(), static_cast<int>(value.content.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, value.usage.prompt_tokens);
  sqlite3_bind_int64(st, 4, value.usage.completion_tokens);
  sqlite3_bind_int64(st, 5, value.usage.cached_tokens);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    error_ = sqlite3_errmsg(as_db(db_));
    return false;
  }
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
