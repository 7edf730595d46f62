// Dense embeddings through the one LLM client (same transport, retries, key handling and response
// cache as chat calls): texts in, one vector per text out, batched.
#pragma once

#include <string>
#include <vector>

#include "llm/client.hpp"

namespace persona::llm {

struct Embeddings {
  std::vector<std::vector<float>> vectors;  // parallel to the texts when ok()
  std::string error;                        // why not (a failed call, a wrong count or dimension)
  long http_status = 0;                     // of the failed call, when one failed
  [[nodiscard]] bool ok() const { return error.empty(); }
};

// Embeds `texts` in batches of `batch` on `client` (which may be busy with other work: this drives it
// until the batches are answered). Every vector must have the same dimension.
Embeddings embed(Client& client, const std::vector<std::string>& texts, std::size_t batch = 64);

}  // namespace persona::llm
