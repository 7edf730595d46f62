// "Allocation-free in the steady state": once a thread's cache has seen a core's words, scoring it
// again allocates nothing. Counted by replacing the global operator new in this test program.
#include <atomic>
#include <cstdlib>
#include <new>

#include "similarity/embedding_scorer.hpp"
#include "support.hpp"

// The replacement pairs malloc with free on purpose; GCC cannot see that operator new is replaced too.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace sim_test;

TEST_CASE("scoring allocates nothing once the thread's cache is warm") {
  const auto& set = labelled();
  const auto& t = core_taxonomy();
  auto embeddings = sim::EmbeddingScorer::from_vectors(
      t, std::vector<std::vector<float>>(t.size(), std::vector<float>(16, 0.25f)), nullptr);
  REQUIRE(embeddings.ok());
  const std::vector<float> core_vector(16, 0.5f);
  // The counter counts.
  counting = true;
  auto probe = std::make_unique<int>(1);
  counting = false;
  REQUIRE(allocations.load() == 1);
  for (const sim::Scorer* s : {&tfidf(), &semantic(), static_cast<const sim::Scorer*>(embeddings.scorer.get())}) {
    INFO(s->name());
    auto cache = s->cache();
    std::vector<float> scores;
    auto pass = [&] {
      for (const auto& c : set.cores) {
        if (s == embeddings.scorer.get()) embeddings.scorer->set_core_vector(*cache, core_vector);
        s->score_all(c.texts, *cache, scores);
      }
    };
    pass();  // warm-up: words seen, buffers sized
    allocations = 0;
    counting = true;
    pass();
    counting = false;
    CHECK(allocations.load() == 0);
  }
}
