// The persona.toml text that names a loopback fake server (llm/fake) as provider `fake`, model
// `fake-model`, its key read from the environment variable `key_env`; `extra` holds further lines
// of the provider's table ("max_concurrency = 4\n...").
#pragma once

#include <string>
#include <vector>

namespace persona::test {

inline std::string fake_provider_toml(const std::string& base_url, const std::string& key_env,
                                      const std::string& extra = "") {
  return "[providers]\ndefault = \"fake\"\n[providers.fake]\nbase_url = \"" + base_url +
         "\"\nmodel = \"fake-model\"\napi_key_env = \"" + key_env + "\"\n" + extra;
}

// The same with several base URLs (replicas of one served model): base_url = ["URL", ...].
inline std::string fake_provider_toml(const std::vector<std::string>& base_urls, const std::string& key_env,
                                      const std::string& extra = "") {
  std::string list;
  for (const auto& u : base_urls) list += (list.empty() ? "\"" : ", \"") + u + "\"";
  return "[providers]\ndefault = \"fake\"\n[providers.fake]\nbase_url = [" + list +
         "]\nmodel = \"fake-model\"\napi_key_env = \"" + key_env + "\"\n" + extra;
}

}  // namespace persona::test
