// The OpenAI-compatible embeddings provider against a real HTTP server on loopback.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.hpp"

using namespace persona;

namespace {

struct FakeServer {
  httplib::Server svr;
  std::thread thread;
  int port = 0;
  std::atomic<int> requests{0};
  std::atomic<int> authorized{0};
  std::string last_model;

  FakeServer() {
    svr.Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      if (req.get_header_value("Authorization") == "Bearer sk-test-secret") ++authorized;
      const auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.contains("input")) {
        res.status = 400;
        return;
      }
      last_model = body.value("model", "");
      nlohmann::json out;
      out["object"] = "list";
      out["data"] = nlohmann::json::array();
      std::size_t i = 0;
      for (const auto& text : body["input"]) {
        const auto s = text.get<std::string>();
        out["data"].push_back(
            {{"object", "embedding"}, {"index", i++}, {"embedding", {static_cast<double>(s.size()), 0.5, -1.0}}});
      }
      res.set_content(out.dump(), "application/json");
    });
    svr.Post("/fail/v1/embeddings", [this](const httplib::Request&, httplib::Response& res) {
      ++requests;
      res.status = 401;
      res.set_content("{\"error\": \"invalid key sk-test-secret\"}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { svr.listen_after_bind(); });
    while (!svr.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() {
    svr.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

}  // namespace

TEST_CASE("embeddings come from /v1/embeddings and are cached on disk", "[taxonomy][embeddings]") {
  FakeServer server;
  REQUIRE(server.port > 0);
  ::setenv("PERSONA_TEST_EMBED_KEY", "sk-test-secret", 1);
  const auto cache = std::filesystem::temp_directory_path() / "persona-embed-cache-test";
  std::filesystem::remove_all(cache);

  tax::EmbeddingConfig cfg;
  cfg.base_url = server.url();
  cfg.model = "test-model";
  cfg.api_key_env = "PERSONA_TEST_EMBED_KEY";
  cfg.cache_dir = cache;
  cfg.batch = 2;
  tax::EmbeddingProvider p(cfg);
  const std::vector<std::string> texts = {"sleep", "night shift", "chronotype"};
  DiagnosticList diags;
  auto v = p.embed(texts, diags);
  INFO(tax_test::dump(diags));
  REQUIRE(v);
  REQUIRE(v->size() == 3);
  CHECK((*v)[1] == std::vector<float>{11.0f, 0.5f, -1.0f});
  CHECK(server.requests == 2);  // batches of 2
  CHECK(server.authorized == 2);
  CHECK(server.last_model == "test-model");
  CHECK(p.requests() == 2);

  // Second round: everything from the disk cache, no request.
  tax::EmbeddingProvider p2(cfg);
  auto again = p2.embed(texts, diags);
  REQUIRE(again);
  CHECK(*again == *v);
  CHECK(p2.cache_hits() == 3);
  CHECK(server.requests == 2);

  // A new text only asks for the missing one; another model misses the cache.
  const std::vector<std::string> more = {"sleep", "commute"};
  auto third = p2.embed(more, diags);
  REQUIRE(third);
  CHECK(server.requests == 3);
  CHECK(tax::EmbeddingProvider::cache_key("m1", "x") != tax::EmbeddingProvider::cache_key("m2", "x"));
  CHECK(tax::EmbeddingProvider::cache_key("m1", "x") == tax::EmbeddingProvider::cache_key("m1", "x"));
  CHECK(tax::EmbeddingProvider::cache_key("m1", "x").size() == 32);

  // Failures are diagnostics that never show the key.
  cfg.base_url = server.url() + "/fail";
  cfg.cache_dir.clear();
  tax::EmbeddingProvider bad(cfg);
  DiagnosticList errs;
  CHECK_FALSE(bad.embed(texts, errs));
  REQUIRE(errs.has_errors());
  for (const auto& d : errs.all()) {
    CHECK(d.message.find("sk-test-secret") == std::string::npos);
    CHECK(d.message.find("401") != std::string::npos);
  }

  // Nothing listening.
  cfg.base_url = "http://127.0.0.1:1";
  cfg.timeout_ms = 2000;
  tax::EmbeddingProvider down(cfg);
  errs.clear();
  CHECK_FALSE(down.embed(texts, errs));
  CHECK(tax_test::has(errs, "embeddings-failed"));
  std::filesystem::remove_all(cache);
}

TEST_CASE("node text for embeddings", "[taxonomy][embeddings]") {
  DiagnosticList diags;
  auto t = tax::load(tax_test::data("small.tax"), diags);
  REQUIRE(t);
  CHECK(tax::node_text(*t, *t->find("Lifestyle and Daily Routine/Sleep/Chronotype")) ==
        "Lifestyle and Daily Routine / Sleep / Chronotype: Natural preference for mornings or evenings "
        "(morning person, evening person, no strong preference)");
}
