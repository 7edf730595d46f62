// OpenAI chat completions (also vLLM, SGLang, llama.cpp server, LM Studio, OpenRouter, ...).
#include "llm/dialect.hpp"

namespace persona::llm {

namespace {

class OpenAi final : public Dialect {
 public:
  [[nodiscard]] std::string_view name() const override { return "openai"; }

  [[nodiscard]] std::string url(const Provider& p, Endpoint e) const override {
    return p.base_url + (e == Endpoint::embeddings ? "/embeddings" : "/chat/completions");
  }

  void headers(const Provider&, const std::string& key, std::vector<std::string>& out) const override {
    if (!key.empty()) out.push_back("Authorization: Bearer " + key);
  }

  [[nodiscard]] nlohmann::json chat_body(const Provider& p, const std::vector<Message>& messages,
                                         const ChatOptions& o) const override {
    nlohmann::json msgs = nlohmann::json::array();
    for (const auto& m : messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
    nlohmann::json body = {{"model", p.model}, {"messages", std::move(msgs)}};
    body["temperature"] = o.temperature;
    if (o.max_tokens > 0) body["max_tokens"] = o.max_tokens;
    if (o.seed) body["seed"] = *o.seed;
    if (o.schema != nullptr) {
      if (p.json_schema) {
        body["response_format"] = {{"type", "json_schema"},
                                   {"json_schema", {{"name", o.schema_name}, {"strict", true}, {"schema", *o.schema}}}};
      } else {
        body["response_format"] = {{"type", "json_object"}};
      }
    }
    return body;
  }

  [[nodiscard]] nlohmann::json embeddings_body(const Provider& p,
                                               const std::vector<std::string>& inputs) const override {
    return {{"model", p.embedding_model}, {"input", inputs}};
  }

  std::string parse(const nlohmann::json& j, Endpoint e, Response& r) const override {
    if (j.contains("usage") && j["usage"].is_object()) {
      const auto& u = j["usage"];
      r.usage.prompt_tokens = u.value("prompt_tokens", 0L);
      r.usage.completion_tokens = u.value("completion_tokens", 0L);
      if (u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object()) {
        const auto& d = u["prompt_tokens_details"];
        if (d.contains("cached_tokens") && d["cached_tokens"].is_number())
          r.usage.cached_tokens = d["cached_tokens"].get<long>();
      }
    }
    if (e == Endpoint::embeddings) {
      if (!j.contains("data") || !j["data"].is_array()) return "response has no embeddings (no 'data' array)";
      nlohmann::json vectors = nlohmann::json::array();
      for (const auto& d : j["data"]) {
        if (!d.is_object() || !d.contains("embedding") || !d["embedding"].is_array()) return "embedding missing";
        vectors.push_back(d["embedding"]);
      }
      return read_vectors(vectors, r);
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() || !j["choices"][0].is_object())
      return "response has no choices[0].message";
    const auto& c0 = j["choices"][0];
    if (c0.contains("finish_reason") && c0["finish_reason"].is_string())
      r.finish_reason = c0["finish_reason"].get<std::string>();
    if (!c0.contains("message") || !c0["message"].is_object()) return "response has no choices[0].message";
    const auto& msg = c0["message"];
    if (msg.contains("content") && msg["content"].is_string()) {
      r.content = msg["content"].get<std::string>();
      return {};
    }
    if (msg.contains("refusal") && msg["refusal"].is_string()) return "refusal: " + msg["refusal"].get<std::string>();
    return "response message has no content";
  }
};

}  // namespace

const Dialect& openai_dialect() {
  static const OpenAi d;
  return d;
}

}  // namespace persona::llm
