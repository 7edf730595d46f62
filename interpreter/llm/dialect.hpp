// Provider dialects: one class per wire style, one file each (dialects/*.cpp). The client does the
// transport (connections, retries, rate limits, cache); a dialect says where a request goes, which
// headers carry the key, how a request body is written and how an answer body is read.
//
//   openai     POST {base_url}/chat/completions, /embeddings; Authorization: Bearer; response_format json_schema
//   ollama     POST {base_url}/api/chat, /api/embed; stream false; `format: <schema>`
//   anthropic  POST {base_url}/messages; x-api-key + anthropic-version; schema through a forced tool call
//
// A new provider style is one more file here and one line in dialect_for().
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "llm/client.hpp"
#include "llm/providers.hpp"

namespace persona::llm {

class Dialect {
 public:
  virtual ~Dialect() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The endpoint URL; empty when the style has no such endpoint.
  [[nodiscard]] virtual std::string url(const Provider& p, Endpoint e) const = 0;
  // Header lines ("Name: value") carrying the key and the protocol version. `key` may be empty.
  virtual void headers(const Provider& p, const std::string& key, std::vector<std::string>& out) const = 0;
  [[nodiscard]] virtual nlohmann::json chat_body(const Provider& p, const std::vector<Message>& messages,
                                                 const ChatOptions& o) const = 0;
  [[nodiscard]] virtual nlohmann::json embeddings_body(const Provider& p,
                                                       const std::vector<std::string>& inputs) const = 0;
  // Reads a 2xx body into r (content, finish_reason normalised to "stop"/"length"/..., usage,
  // embeddings). Returns an error message, empty when the body is usable.
  virtual std::string parse(const nlohmann::json& body, Endpoint e, Response& r) const = 0;
  // The human message inside an error body ({"error":{"message":...}} and the like); empty if none.
  [[nodiscard]] virtual std::string error_message(const nlohmann::json& body) const;
};

const Dialect& dialect_for(Style s);

// Shared by the dialects: embeddings as a JSON array of number arrays -> r.embeddings (and r.content).
std::string read_vectors(const nlohmann::json& vectors, Response& r);

}  // namespace persona::llm
