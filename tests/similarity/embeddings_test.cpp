// The embeddings scorer on loopback: the fake OpenAI-compatible server (random vectors: plumbing
// only) and a scripted server that answers wrong counts and dimensions or fails.
#include "llm/embeddings.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "llm/fake/fake_server.hpp"
#include "similarity/embedding_scorer.hpp"
#include "support.hpp"

using namespace sim_test;
using persona::sim::EmbeddingScorer;

namespace {

const persona::tax::Taxonomy& small() {
  static const persona::tax::Taxonomy t = [] {
    persona::DiagnosticList diags;
    auto loaded = persona::tax::load(std::string(PERSONA_TESTS_DIR) + "/taxonomy/data/small.tax", diags);
    REQUIRE(loaded);
    return std::move(*loaded);
  }();
  return t;
}

persona::llm::Provider provider(const std::string& base_url) {
  persona::llm::Provider p;
  p.base_url = base_url;
  p.api_key_env = "PERSONA_TEST_NO_KEY";
  p.max_retries = 1;
  p.timeout_ms = 5000;
  return p;
}

persona::llm::Options fast() {
  persona::llm::Options o;
  o.backoff_base_ms = 1;
  o.backoff_max_ms = 5;
  return o;
}

// A loopback server whose /v1/embeddings answers with `answer(inputs)` (a JSON body) or an HTTP error.
class Scripted {
 public:
  using Answer = std::function<std::pair<int, nlohmann::json>(const std::vector<std::string>&)>;
  explicit Scripted(Answer answer) : answer_(std::move(answer)) {
    svr_.Post("/v1/embeddings", [this](const httplib::Request& rq, httplib::Response& rs) {
      ++requests;
      const auto body = nlohmann::json::parse(rq.body, nullptr, false);
      std::vector<std::string> inputs;
      if (body.is_object() && body.contains("input") && body["input"].is_array())
        for (const auto& x : body["input"]) inputs.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      auto [status, out] = answer_(inputs);
      rs.status = status;
      rs.set_content(out.dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Scripted() {
    svr_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::atomic<int> requests{0};

 private:
  Answer answer_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

nlohmann::json vectors_body(const std::vector<std::vector<float>>& vs) {
  nlohmann::json data = nlohmann::json::array();
  for (std::size_t i = 0; i < vs.size(); ++i)
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vs[i]}});
  return {{"object", "list"}, {"data", data}, {"model", "scripted"}};
}

}  // namespace

TEST_CASE("embeddings: node vectors come from the endpoint in batches, scores are cosines with the core vector") {
  persona::llm::fake::Server server;
  REQUIRE(server.start());
  persona::llm::Client client(provider(server.base_url()), fast());
  const auto& t = small();
  auto built = EmbeddingScorer::build(t, client, nullptr, 4);
  INFO(built.error);
  REQUIRE(built.ok());
  const auto& s = *built.scorer;
  CHECK(s.name() == "embeddings");
  CHECK(s.dimensions() == 64);
  CHECK(server.requests() == static_cast<long>((t.size() + 3) / 4));

  // The core whose text is exactly a node's text scores 1 on that node (same fake vector), and every
  // score is a cosine.
  const tax::Vertex v = *t.find("Lifestyle and Daily Routine/Sleep/Chronotype");
  const auto q = persona::llm::fake::fake_embedding(tax::node_text(t, v));
  std::vector<float> scores;
  CHECK(s.score_vector(q, scores).empty());
  REQUIRE(scores.size() == t.size());
  CHECK(scores[v] == Approx(1.0f).epsilon(1e-4));
  for (float x : scores) CHECK(std::abs(x) <= 1.0001f);

  // Through the Scorer interface: set the vector, score once; the next call without one falls back.
  auto cache = s.cache();
  CHECK(s.set_core_vector(*cache, q).empty());
  std::vector<float> via_interface;
  const std::vector<std::string> core = {"anything"};
  s.score_all(core, *cache, via_interface);
  CHECK(via_interface == scores);
  CHECK(EmbeddingScorer::fallbacks(*cache) == 0);
  s.score_all(core, *cache, via_interface);  // no vector set, no fallback scorer: zeros
  CHECK(EmbeddingScorer::fallbacks(*cache) == 1);
  CHECK(std::all_of(via_interface.begin(), via_interface.end(), [](float x) { return x == 0.0f; }));

  // A rerun with the client's response cache would be free; here: the same texts give the same matrix.
  CHECK(EmbeddingScorer::core_text(std::vector<std::string>{"Kenya", "", "nurse"}) == "Kenya; nurse");
}

TEST_CASE("embeddings: without a core vector the fallback scorer answers, and it is counted") {
  const auto& t = core_taxonomy();
  std::vector<std::vector<float>> vectors(t.size(), std::vector<float>(3, 1.0f));
  auto built = EmbeddingScorer::from_vectors(t, vectors, sim::make_tfidf(t));
  REQUIRE(built.ok());
  auto cache = built.scorer->cache();
  const std::vector<std::string> core = {"night shift nurse"};
  std::vector<float> got, want;
  built.scorer->score_all(core, *cache, got);
  auto tcache = tfidf().cache();
  tfidf().score_all(core, *tcache, want);
  CHECK(got == want);
  CHECK(EmbeddingScorer::fallbacks(*cache) == 1);
}

TEST_CASE("embeddings: an endpoint that fails is an error for the caller, not a crash or a partial matrix") {
  const auto& t = small();
  {
    Scripted failing([](const std::vector<std::string>&) {
      return std::pair{500, nlohmann::json{{"error", {{"message", "boom"}}}}};
    });
    persona::llm::Client client(provider(failing.base_url()), fast());
    auto built = EmbeddingScorer::build(t, client, sim::make_tfidf(t));
    CHECK_FALSE(built.ok());
    CHECK(built.error.find("taxonomy embeddings: embeddings request failed") != std::string::npos);
    CHECK(failing.requests >= 1);
  }
  {
    // Nothing listens there any more.
    std::string url;
    {
      persona::llm::fake::Server gone;
      REQUIRE(gone.start());
      url = gone.base_url();
    }
    persona::llm::Client client(provider(url), fast());
    auto built = EmbeddingScorer::build(t, client, nullptr);
    CHECK_FALSE(built.ok());
    CHECK_FALSE(built.error.empty());
  }
}

TEST_CASE("embeddings: wrong counts or dimensions from the endpoint are errors naming what is wrong") {
  const auto& t = small();
  {
    Scripted mixed([](const std::vector<std::string>& in) {
      std::vector<std::vector<float>> vs;
      for (std::size_t i = 0; i < in.size(); ++i) vs.push_back(std::vector<float>(i % 2 == 0 ? 8 : 5, 0.5f));
      return std::pair{200, vectors_body(vs)};
    });
    persona::llm::Client client(provider(mixed.base_url()), fast());
    auto built = EmbeddingScorer::build(t, client, nullptr);
    CHECK_FALSE(built.ok());
    CHECK(built.error.find("dimensions") != std::string::npos);
  }
  {
    Scripted short_answer([](const std::vector<std::string>& in) {
      return std::pair{200, vectors_body(std::vector<std::vector<float>>(in.size() > 1 ? in.size() - 1 : 0,
                                                                         std::vector<float>(8, 0.5f)))};
    });
    persona::llm::Client client(provider(short_answer.base_url()), fast());
    auto built = EmbeddingScorer::build(t, client, nullptr);
    CHECK_FALSE(built.ok());
    CHECK(built.error.find("vectors for") != std::string::npos);
  }
  // Vectors at hand: wrong count, mixed or zero dimensions, not finite.
  auto many = std::vector<std::vector<float>>(t.size(), std::vector<float>(4, 1.0f));
  CHECK(EmbeddingScorer::from_vectors(t, std::vector<std::vector<float>>(2, {1.0f}), nullptr)
            .error.find("one embedding per taxonomy node") != std::string::npos);
  auto bad = many;
  bad[3].push_back(1.0f);
  CHECK(EmbeddingScorer::from_vectors(t, bad, nullptr).error.find("has 5 dimensions where the first has 4") !=
        std::string::npos);
  bad = many;
  bad[2][1] = std::nanf("");
  CHECK(EmbeddingScorer::from_vectors(t, bad, nullptr).error.find("not finite") != std::string::npos);
  CHECK_FALSE(EmbeddingScorer::from_vectors(t, std::vector<std::vector<float>>(t.size()), nullptr).ok());

  // A core vector of the wrong dimension (a different embedding model), all zeros or NaN: an error,
  // and the scores are zeros rather than garbage.
  auto built = EmbeddingScorer::from_vectors(t, many, nullptr);
  REQUIRE(built.ok());
  std::vector<float> scores;
  const std::vector<float> wrong(5, 1.0f), zero(4, 0.0f), nan_vec = {1.0f, std::nanf(""), 0.0f, 0.0f};
  CHECK(built.scorer->score_vector(wrong, scores) == "the core embedding has 5 dimensions where the taxonomy's have 4");
  REQUIRE(scores.size() == t.size());
  CHECK(std::all_of(scores.begin(), scores.end(), [](float x) { return x == 0.0f; }));
  CHECK(built.scorer->score_vector(zero, scores) == "the core embedding is all zeros");
  CHECK(built.scorer->score_vector(nan_vec, scores) == "the core embedding is not finite");
  auto cache = built.scorer->cache();
  CHECK_FALSE(built.scorer->set_core_vector(*cache, wrong).empty());
  const std::vector<std::string> empty_core;
  built.scorer->score_all(empty_core, *cache, scores);  // the bad vector was not kept
  CHECK(EmbeddingScorer::fallbacks(*cache) == 1);
}
