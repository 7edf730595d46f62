// What the dialects share: the registry and error-body reading.
#include "llm/dialect.hpp"

namespace persona::llm {

const Dialect& openai_dialect();
const Dialect& ollama_dialect();
const Dialect& anthropic_dialect();

const Dialect& dialect_for(Style s) {
  switch (s) {
    case Style::openai:
      return openai_dialect();
    case Style::ollama:
      return ollama_dialect();
    case Style::anthropic:
      return anthropic_dialect();
  }
  return openai_dialect();
}

std::string Dialect::error_message(const nlohmann::json& j) const {
  if (!j.is_object() || !j.contains("error")) return {};
  const auto& e = j["error"];
  if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  if (e.is_string()) return e.get<std::string>();
  return {};
}

std::string read_vectors(const nlohmann::json& vectors, Response& r) {
  for (const auto& v : vectors) {
    if (!v.is_array()) return "embedding is not an array";
    std::vector<float> f;
    f.reserve(v.size());
    for (const auto& x : v) {
      if (!x.is_number()) return "embedding holds a non-number";
      f.push_back(x.get<float>());
    }
    r.embeddings.push_back(std::move(f));
  }
  r.content = vectors.dump();
  return {};
}

}  // namespace persona::llm
