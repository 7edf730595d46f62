// Anthropic Messages (POST {base_url}/messages). Structured output through a forced tool call whose
// input_schema is the answer's schema; usage from the `usage` object (cache reads count as cached
// prompt tokens).
#include "llm/dialect.hpp"

namespace persona::llm {

namespace {

constexpr const char* kVersion = "2023-06-01";
constexpr int kDefaultMaxTokens = 4096;  // the API requires max_tokens

class Anthropic final : public Dialect {
 public:
  [[nodiscard]] std::string_view name() const override { return "anthropic"; }

  [[nodiscard]] std::string url(const Provider& p, Endpoint e) const override {
    return e == Endpoint::embeddings ? std::string() : p.base_url + "/messages";
  }

  void headers(const Provider&, const std::string& key, std::vector<std::string>& out) const override {
    if (!key.empty()) out.push_back("x-api-key: " + key);
    out.push_back(std::string("anthropic-version: ") + kVersion);
  }

  [[nodiscard]] nlohmann::json chat_body(const Provider& p, const std::vector<Message>& messages,
                                         const ChatOptions& o) const override {
    std::string system;
    nlohmann::json msgs = nlohmann::json::array();
    for (const auto& m : messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n") + m.content;
        continue;
      }
      msgs.push_back({{"role", m.role}, {"content", m.content}});
    }
    nlohmann::json body = {{"model", p.model},
                           {"messages", std::move(msgs)},
                           {"max_tokens", o.max_tokens > 0 ? o.max_tokens : kDefaultMaxTokens},
                           {"temperature", std::min(1.0, o.temperature)}};
    if (!system.empty()) body["system"] = system;
    if (o.schema != nullptr) {
      body["tools"] = nlohmann::json::array(
          {{{"name", o.schema_name}, {"description", "Record the answer."}, {"input_schema", *o.schema}}});
      body["tool_choice"] = {{"type", "tool"}, {"name", o.schema_name}};
    }
    return body;
  }

  [[nodiscard]] nlohmann::json embeddings_body(const Provider&, const std::vector<std::string>&) const override {
    return nlohmann::json::object();
  }

  std::string parse(const nlohmann::json& j, Endpoint e, Response& r) const override {
    if (e == Endpoint::embeddings) return "the anthropic style has no embeddings endpoint";
    if (j.contains("usage") && j["usage"].is_object()) {
      const auto& u = j["usage"];
      const long input = u.value("input_tokens", 0L), read = u.value("cache_read_input_tokens", 0L),
                 created = u.value("cache_creation_input_tokens", 0L);
      r.usage.prompt_tokens = input + read + created;
      r.usage.cached_tokens = read;
      r.usage.completion_tokens = u.value("output_tokens", 0L);
    }
    if (j.contains("stop_reason") && j["stop_reason"].is_string()) {
      const std::string s = j["stop_reason"].get<std::string>();
      r.finish_reason = s == "max_tokens" ? "length" : s == "end_turn" || s == "tool_use" ? "stop" : s;
    }
    if (!j.contains("content") || !j["content"].is_array()) return "response has no content array";
    std::string text;
    for (const auto& block : j["content"]) {
      if (!block.is_object()) continue;
      const std::string type = block.value("type", "");
      if (type == "tool_use" && block.contains("input")) {
        r.content = block["input"].dump();
        return {};
      }
      if (type == "text" && block.contains("text") && block["text"].is_string())
        text += block["text"].get<std::string>();
    }
    if (text.empty()) return "response content has no text or tool_use block";
    r.content = std::move(text);
    return {};
  }
};

}  // namespace

const Dialect& anthropic_dialect() {
  static const Anthropic d;
  return d;
}

}  // namespace persona::llm
