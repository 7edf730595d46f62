// What a provider's server says when a run cannot go on: the models it offers (GET /models,
// /api/tags for Ollama) and one readable sentence per kind of HTTP failure that stops a run.
#include "llm/models.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "llm/dialect.hpp"

namespace persona::llm {

namespace {

struct Capped {
  std::string body;
  std::size_t max = 0;  // the provider's max_response_bytes, for the body and for the headers
  std::size_t header_bytes = 0;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* c = static_cast<Capped*>(user);
  const std::size_t bytes = size * n;
  if (bytes > c->max - std::min(c->max, c->body.size())) {
    c->too_large = true;
    return 0;
  }
  c->body.append(data, bytes);
  return bytes;
}

std::size_t on_headers(char*, std::size_t size, std::size_t n, void* user) {
  auto* c = static_cast<Capped*>(user);
  c->header_bytes += size * n;
  if (c->header_bytes > c->max) {
    c->too_large = true;
    return 0;
  }
  return size * n;
}

}  // namespace

std::string models_url(const Provider& p) { return p.base_url + (p.style == Style::ollama ? "/api/tags" : "/models"); }

namespace {

std::optional<std::vector<std::string>> list_models_at(const Provider& p, std::string& error) {
  CURL* easy = curl_easy_init();
  if (easy == nullptr) {
    error = "cannot start a transfer";
    return std::nullopt;
  }
  Capped capped;
  capped.max = static_cast<std::size_t>(std::max(1L, p.max_response_bytes));
  std::string& body = capped.body;
  curl_slist* headers = nullptr;
  {
    std::vector<std::string> lines;
    std::string key = p.api_key();
    dialect_for(p.style).headers(p, key, lines);
    for (auto& line : lines) {
      headers = curl_slist_append(headers, line.c_str());
      std::fill(line.begin(), line.end(), '\0');
    }
    std::fill(key.begin(), key.end(), '\0');
  }
  const std::string url = models_url(p);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, p.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, std::min(p.timeout_ms, 15'000L));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &capped);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_headers);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &capped);
  const CURLcode code = curl_easy_perform(easy);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(easy);
  if (capped.too_large) {
    error = "the model list passed max_response_bytes (" + std::to_string(p.max_response_bytes) + " bytes)";
    return std::nullopt;
  }
  if (code != CURLE_OK) {
    error = std::string("transport error: ") + curl_easy_strerror(code);
    return std::nullopt;
  }
  if (status != 200) {
    error = "HTTP " + std::to_string(status);
    return std::nullopt;
  }
  const auto j = nlohmann::json::parse(body, nullptr, false);
  // OpenAI and Anthropic: {"data": [{"id": ...}]}; Ollama: {"models": [{"name": ...}]}.
  const char* list = p.style == Style::ollama ? "models" : "data";
  const char* key = p.style == Style::ollama ? "name" : "id";
  if (j.is_discarded() || !j.is_object() || !j.contains(list) || !j[list].is_array()) {
    error = std::string("the answer has no '") + list + "' list";
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& m : j[list])
    if (m.is_object() && m.contains(key) && m[key].is_string()) out.push_back(m[key].get<std::string>());
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> list_models(const Provider& p, std::string& error) {
  if (p.more_base_urls.empty()) return list_models_at(p, error);
  std::string errors;
  const std::size_t n = p.base_urls().size();
  for (std::size_t i = 0; i < n; ++i) {
    const Provider one = p.replica(i);
    std::string err;
    if (auto models = list_models_at(one, err)) return models;
    if (!errors.empty()) errors += "; ";
    errors += redact_url(one.base_url) + ": " + err;
  }
  error = "no replica answered (" + errors + ")";
  return std::nullopt;
}

std::string key_problem(const Provider& p) {
  if (p.api_key_env.empty() || !p.api_key().empty()) return {};
  return "provider '" + p.name + "' reads its API key from the environment variable " + p.api_key_env + ", which is " +
         (std::getenv(p.api_key_env.c_str()) == nullptr ? "not set" : "empty") + "; set it (export " + p.api_key_env +
         "=...) or, for a server without keys, write api_key_env = \"\" in persona.toml";
}

bool stops_the_run(long http_status) { return http_status == 401 || http_status == 403 || http_status == 404; }

std::string describe_failure(const Provider& provider, long http_status, const std::string& error, int replica) {
  // A 404 is about the replica that said it: its URL, its model list.
  const Provider p =
      replica >= 0 && static_cast<std::size_t>(replica) <= provider.more_base_urls.size() && http_status == 404
          ? provider.replica(static_cast<std::size_t>(replica))
          : provider;
  if (http_status == 401 || http_status == 403) {
    const std::string http = "(HTTP " + std::to_string(http_status) + ")";
    if (p.api_key_env.empty())
      return "the server rejected the request " + http + ": provider '" + p.name +
             "' sends no key; name the variable holding it with api_key_env in persona.toml";
    return "the server rejected the key " + http + " from variable " + p.api_key_env + " (provider '" + p.name + "')";
  }
  if (http_status == 404) {
    std::string out = "the server at " + redact_url(p.base_url) + " does not know the model '" + p.model +
                      "' or the endpoint (HTTP 404)";
    std::string err;
    if (const auto models = list_models(p, err)) {
      if (models->empty()) {
        out += "; its model list is empty";
      } else {
        const std::size_t n = std::min<std::size_t>(models->size(), 20);
        out += "; it offers: " +
               text::join(std::vector<std::string>(models->begin(), models->begin() + static_cast<std::ptrdiff_t>(n)),
                          ", ");
        if (models->size() > n) out += " and " + std::to_string(models->size() - n) + " more";
      }
    } else {
      out += "; its model list (" + redact_url(models_url(p)) + ") could not be read: " + err;
    }
    return out;
  }
  const std::string low = text::lower(error);
  if (low.find("context_length") != std::string::npos || low.find("context length") != std::string::npos ||
      low.find("maximum context") != std::string::npos || low.find("too many tokens") != std::string::npos)
    return "the prompt is longer than the model's context: " + error;
  return error;
}

}  // namespace persona::llm
