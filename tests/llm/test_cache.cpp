#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "base/files.hpp"
#include "llm/cache.hpp"

using namespace persona::llm;

TEST_CASE("sha256 matches known vectors", "[llm][cache]") {
  CHECK(persona::files::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(persona::files::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(persona::files::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(persona::files::sha256_hex(std::string(1000, 'a')) ==
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

TEST_CASE("cache_key is canonical", "[llm][cache]") {
  const auto a = nlohmann::json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"seed":1})");
  const auto b = nlohmann::json::parse(R"({"seed":1, "messages":[{"content":"x","role":"user"}], "model":"m"})");
  CHECK(cache_key(a, "u") == cache_key(b, "u"));
  CHECK(cache_key(a, "u") != cache_key(a, "v"));
  CHECK(cache_key(a, "u").size() == 64);
}

TEST_CASE("cache put/get round trip and persistence", "[llm][cache]") {
  const auto dir = std::filesystem::temp_directory_path() / ("persona-llm-cache-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto file = dir / "sub" / "cache.db";
  {
    std::string err;
    auto c = Cache::open(file, &err);
    REQUIRE(c);
    CHECK_FALSE(c->get("k1"));
    CHECK(c->put("k1", {"{\"a\":\"x\"}", {10, 5, 2}}));
    auto v = c->get("k1");
    REQUIRE(v);
    CHECK(v->content == "{\"a\":\"x\"}");
    CHECK(v->usage.prompt_tokens == 10);
    CHECK(v->usage.completion_tokens == 5);
    CHECK(v->usage.cached_tokens == 2);
    CHECK(c->size() == 1);
  }
  {
    auto c = Cache::open(file);
    REQUIRE(c);
    CHECK(c->get("k1"));
  }
  std::string err;
  CHECK_FALSE(Cache::open("/proc/definitely/not/here.db", &err));
  CHECK_FALSE(err.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("a cache file that cannot serve is refused at open with the reason", "[llm][cache]") {
  const auto dir = std::filesystem::temp_directory_path() / ("persona-cache-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string error;
  {
    std::ofstream(dir / "corrupt.sqlite") << std::string(8192, 'Z');
    CHECK(Cache::open(dir / "corrupt.sqlite", &error) == nullptr);
    CHECK(error.find("not a database") != std::string::npos);
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir / "other.sqlite").string().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE responses (id INTEGER, body BLOB);", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
    error.clear();
    CHECK(Cache::open(dir / "other.sqlite", &error) == nullptr);
    CHECK(error.find("holds a table 'responses' of another layout") != std::string::npos);
  }
  {
    auto good = Cache::open(dir / "good.sqlite", &error);
    REQUIRE(good);
    CHECK(good->put("k", CachedResponse{"v", {}}));
    CHECK(good->failures() == 0);
  }
  std::filesystem::remove_all(dir);
}
