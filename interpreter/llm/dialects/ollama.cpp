// Ollama's native API (/api/chat, /api/embed).
#include "llm/dialect.hpp"

namespace persona::llm {

namespace {

class Ollama final : public Dialect {
 public:
  [[nodiscard]] std::string_view name() const override { return "ollama"; }

  [[nodiscard]] std::string url(const Provider& p, Endpoint e) const override {
    return p.base_url + (e == Endpoint::embeddings ? "/api/embed" : "/api/chat");
  }

  void headers(const Provider&, const std::string& key, std::vector<std::string>& out) const override {
    if (!key.empty()) out.push_back("Authorization: Bearer " + key);
  }

  [[nodiscard]] nlohmann::json chat_body(const Provider& p, const std::vector<Message>& messages,
                                         const ChatOptions& o) const override {
    nlohmann::json msgs = nlohmann::json::array();
    for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    nlohmann::json body = {{"model", p.model}, {"messages", std::move(msgs)}, {"stream", false}};
    nlohmann::json opt = {{"temperature", o.temperature}};
    if (o.seed) opt["seed"] = *o.seed;
    if (o.max_tokens > 0) opt["num_predict"] = o.max_tokens;
    body["options"] = std::move(opt);
    if (o.schema != nullptr) body["format"] = *o.schema;
    return body;
  }

  [[nodiscard]] nlohmann::json embeddings_body(const Provider& p,
                                               const std::vector<std::string>& inputs) const override {
    return {{"model", p.embedding_model}, {"input", inputs}};
  }

  std::string parse(const nlohmann::json& j, Endpoint e, Response& r) const override {
    if (j.contains("prompt_eval_count") && j["prompt_eval_count"].is_number())
      r.usage.prompt_tokens = j["prompt_eval_count"].get<long>();
    if (j.contains("eval_count") && j["eval_count"].is_number())
      r.usage.completion_tokens = j["eval_count"].get<long>();
    if (e == Endpoint::embeddings) {
      if (!j.contains("embeddings") || !j["embeddings"].is_array()) return "response has no 'embeddings' array";
      return read_vectors(j["embeddings"], r);
    }
    if (j.contains("done_reason") && j["done_reason"].is_string())
      r.finish_reason = j["done_reason"].get<std::string>();
    if (!j.contains("message") || !j["message"].is_object()) return "response has no message";
    const auto& msg = j["message"];
    if (!msg.contains("content") || !msg["content"].is_string()) return "response message has no content";
    r.content = msg["content"].get<std::string>();
    return {};
  }
};

}  // namespace

const Dialect& ollama_dialect() {
  static const Ollama d;
  return d;
}

}  // namespace persona::llm
