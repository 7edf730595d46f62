// Optional dense embeddings from an OpenAI-compatible /v1/embeddings endpoint, cached on disk.
// The API key is read from an environment variable and never appears in diagnostics.
#include <curl/curl.h>

#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "detail.hpp"
#include "base/rng.hpp"

namespace persona::tax {

namespace fs = std::filesystem;

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

void curl_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string hex64(std::uint64_t h) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = digits[h & 0xF];
    h >>= 4;
  }
  return s;
}

constexpr char kMagic[4] = {'P', 'E', 'M', 'B'};

std::optional<std::vector<float>> read_cached(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  char magic[4];
  std::uint32_t dim = 0;
  in.read(magic, 4);
  in.read(reinterpret_cast<char*>(&dim), sizeof dim);
  if (!in || std::memcmp(magic, kMagic, 4) != 0 || dim == 0 || dim > (1u << 20)) return std::nullopt;
  std::vector<float> v(dim);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(dim * sizeof(float)));
  if (!in) return std::nullopt;
  return v;
}

void write_cached(const fs::path& file, const std::vector<float>& v) {
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    const auto dim = static_cast<std::uint32_t>(v.size());
    out.write(kMagic, 4);
    out.write(reinterpret_cast<const char*>(&dim), sizeof dim);
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    if (!out) return;
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
}

}  // namespace

EmbeddingProvider::EmbeddingProvider(EmbeddingConfig cfg) : cfg_(std::move(cfg)) {}

std::string EmbeddingProvider::cache_key(std::string_view model, std::string_view text) {
  std::uint64_t a = stable_hash(model);
  a = stable_hash(std::string_view("\0", 1), a);
  a = stable_hash(text, a);
  std::uint64_t b = stable_hash(model, 0x6c62272e07bb0142ULL);
  b = stable_hash(std::string_view("\0", 1), b);
  b = stable_hash(text, b);
  b = splitmix64(b ^ text.size());
  return hex64(a) + hex64(b);
}

std::optional<std::vector<std::vector<float>>> EmbeddingProvider::embed(std::span<const std::string> texts,
                                                                        DiagnosticSink& sink) {
  const std::string url = cfg_.base_url + "/v1/embeddings";
  const SourceRange where{url, 0, 0, 0};
  try {
    std::vector<std::vector<float>> out(texts.size());
    std::vector<std::size_t> missing;
    std::error_code ec;
    const bool cache = !cfg_.cache_dir.empty();
    if (cache) fs::create_directories(cfg_.cache_dir, ec);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (cache) {
        if (auto v = read_cached(cfg_.cache_dir / (cache_key(cfg_.model, texts[i]) + ".f32"))) {
          out[i] = std::move(*v);
          ++hits_;
          continue;
        }
      }
      missing.push_back(i);
    }
    if (missing.empty()) return out;

    std::string key;
    if (!cfg_.api_key_env.empty())
      if (const char* k = std::getenv(cfg_.api_key_env.c_str()); k != nullptr) key = k;
    curl_init_once();
    const std::size_t batch = std::max<std::size_t>(cfg_.batch, 1);
    for (std::size_t start = 0; start < missing.size(); start += batch) {
      const std::size_t end = std::min(missing.size(), start + batch);
      nlohmann::json req;
      req["model"] = cfg_.model;
      req["input"] = nlohmann::json::array();
      for (std::size_t k = start; k < end; ++k) req["input"].push_back(texts[missing[k]]);
      const std::string body = req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

      CURL* curl = curl_easy_init();
      if (curl == nullptr) {
        sink.error(where, "embeddings-failed", "cannot initialise libcurl");
        return std::nullopt;
      }
      std::string response;
      curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, "Content-Type: application/json");
      const std::string auth = "Authorization: Bearer " + key;
      if (!key.empty()) headers = curl_slist_append(headers, auth.c_str());
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, cfg_.timeout_ms);
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      const CURLcode rc = curl_easy_perform(curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
      ++requests_;
      if (rc != CURLE_OK) {
        sink.error(where, "embeddings-failed", std::string("embeddings request failed: ") + curl_easy_strerror(rc));
        return std::nullopt;
      }
      if (status != 200) {
        std::string snippet = response.substr(0, 200);
        if (!key.empty())
          for (std::size_t p; (p = snippet.find(key)) != std::string::npos;) snippet.replace(p, key.size(), "***");
        sink.error(where, "embeddings-failed",
                   "embeddings request failed with HTTP " + std::to_string(status) + ": " + snippet);
        return std::nullopt;
      }
      const auto doc = nlohmann::json::parse(response, nullptr, false);
      if (doc.is_discarded() || !doc.contains("data") || !doc["data"].is_array() || doc["data"].size() != end - start) {
        sink.error(where, "embeddings-failed", "unexpected embeddings response (no 'data' array of the right size)");
        return std::nullopt;
      }
      for (std::size_t k = 0; k < doc["data"].size(); ++k) {
        const auto& item = doc["data"][k];
        std::size_t idx = k;
        if (item.contains("index") && item["index"].is_number_unsigned()) idx = item["index"].get<std::size_t>();
        if (idx >= end - start || !item.contains("embedding") || !item["embedding"].is_array()) {
          sink.error(where, "embeddings-failed", "unexpected embeddings response item");
          return std::nullopt;
        }
        std::vector<float> v;
        v.reserve(item["embedding"].size());
        for (const auto& x : item["embedding"]) {
          if (!x.is_number()) {
            sink.error(where, "embeddings-failed", "an embedding holds a non-number");
            return std::nullopt;
          }
          v.push_back(x.get<float>());
        }
        const std::size_t target = missing[start + idx];
        if (cache) write_cached(cfg_.cache_dir / (cache_key(cfg_.model, texts[target]) + ".f32"), v);
        out[target] = std::move(v);
      }
    }
    return out;
  } catch (const std::exception& e) {
    sink.error(where, "embeddings-failed", std::string("embeddings failed: ") + e.what());
    return std::nullopt;
  }
}

std::string node_text(const Taxonomy& t, Vertex v) {
  if (v >= t.size()) return {};
  const Node& n = t[v];
  std::string s;
  for (char c : n.path) {
    if (c == '/')
      s += " / ";
    else
      s += c;
  }
  if (!n.description.empty()) s += ": " + n.description;
  if (!n.values.empty()) {
    s += " (";
    for (std::size_t i = 0; i < n.values.size(); ++i) {
      if (i > 0) s += ", ";
      s += n.values[i].label;
    }
    s += ")";
  }
  return s;
}

}  // namespace persona::tax
