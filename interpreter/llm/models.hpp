#pragma once
// Provider failures that stop a run, said in the user's terms: the key, the model, the context.
#include <optional>
#include <string>
#include <vector>

#include "llm/providers.hpp"

namespace persona::llm {

// GET the provider's model list (blocking, at most 15 s per replica): the model ids, or nullopt with
// `error`. With several base URLs the replicas are asked in order and the first answer is used;
// `error` then names each replica that failed and why.
std::optional<std::vector<std::string>> list_models(const Provider& p, std::string& error);
std::string models_url(const Provider& p);  // of base_url (the first replica)

// "" when the provider's key variable is set (or it names none); otherwise what to do about it.
// Checked before the first request, so a missing key never reaches the server.
std::string key_problem(const Provider& p);

// True for the HTTP answers that fail every later request as well (a rejected key, a missing model).
bool stops_the_run(long http_status);

// One sentence for a failed request: the key's variable for 401/403, the model and the server's
// model list for 404, the context for context-length errors; otherwise `error` unchanged. `replica`
// (Response::replica) is the replica that answered, whose URL and model list a 404 names; -1: the
// first.
std::string describe_failure(const Provider& p, long http_status, const std::string& error, int replica = -1);

}  // namespace persona::llm
