#include "llm/embeddings.hpp"

#include <algorithm>

namespace persona::llm {

Embeddings embed(Client& client, const std::vector<std::string>& texts, std::size_t batch) {
  Embeddings out;
  out.vectors.resize(texts.size());
  batch = std::max<std::size_t>(1, batch);
  std::size_t answered = 0;
  for (std::size_t first = 0; first < texts.size(); first += batch) {
    const std::size_t last = std::min(texts.size(), first + batch);
    const std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(first),
                                        texts.begin() + static_cast<std::ptrdiff_t>(last));
    Request req;
    req.body = embeddings_body(client.provider(), part);
    req.endpoint = Endpoint::embeddings;
    req.tag = "embeddings:" + std::to_string(first);
    client.submit(std::move(req), [&, first, last](Response r) {
      if (!out.error.empty()) return;
      if (!r.ok()) {
        out.error = "embeddings request failed: " + r.error;
        out.http_status = r.http_status;
        return;
      }
      if (r.embeddings.size() != last - first) {
        out.error = "the embeddings endpoint returned " + std::to_string(r.embeddings.size()) + " vectors for " +
                    std::to_string(last - first) + " texts";
        return;
      }
      for (std::size_t i = first; i < last; ++i) out.vectors[i] = std::move(r.embeddings[i - first]);
      answered += last - first;
    });
  }
  while (answered < texts.size() && out.error.empty() && client.poll(100)) {
  }
  if (out.error.empty() && answered < texts.size()) out.error = "the embeddings requests did not complete";
  if (out.error.empty() && !out.vectors.empty()) {
    const std::size_t dim = out.vectors.front().size();
    for (std::size_t i = 0; i < out.vectors.size(); ++i)
      if (out.vectors[i].size() != dim || dim == 0) {
        out.error = "embedding " + std::to_string(i + 1) + " has " + std::to_string(out.vectors[i].size()) +
                    " dimensions where the first has " + std::to_string(dim);
        break;
      }
  }
  if (!out.error.empty()) out.vectors.clear();
  return out;
}

}  // namespace persona::llm
