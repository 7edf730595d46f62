// What an LLM run talks to: prompt templates (stdlib/prompts or --prompts) and the provider, looked
// up in persona.toml next to the recipe, in the working directory or in the user's config folder.
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "backend/backend.hpp"
#include "base/files.hpp"
#include "llm/models.hpp"
#include "similarity/embedding_scorer.hpp"
#include "util/stdlib_path.hpp"

namespace persona::backend {

// ---------------------------------------------------------------------------------------------
// Templates

std::filesystem::path default_prompts_dir() { return persona::stdlib_dir() / "prompts"; }

std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error) {
  Templates t;
  std::string all;
  auto load = [&](const char* file, Template& out) {
    auto got = files::read(dir / file, {.max_bytes = 1u << 20, .require_utf8 = true});
    if (!got.ok()) {
      error = "cannot load prompt template: " + got.error;
      return false;
    }
    std::string text = std::move(*got.text);
    all += std::string(file) + '\0' + text + '\0';
    const auto sep = text.find("\n---\n");
    if (sep == std::string::npos) {
      out.user = text;
    } else {
      out.system = text.substr(0, sep);
      out.user = text.substr(sep + 5);
    }
    while (!out.user.empty() && (out.user.back() == '\n' || out.user.back() == ' ')) out.user.pop_back();
    return true;
  };
  Template system;
  if (!load("system.txt", system) || !load("story.txt", t.story) || !load("batch.txt", t.batch) ||
      !load("narrative.txt", t.narrative) || !load("repair.txt", t.repair))
    return std::nullopt;
  t.system = system.user;
  t.fingerprint = files::sha256_hex(all);
  return t;
}

std::string render(std::string_view tpl, const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  out.reserve(tpl.size() + 256);
  std::size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] == '{') {
      const auto close = tpl.find('}', i + 1);
      if (close != std::string_view::npos && close - i - 1 <= 64) {
        const std::string_view name = tpl.substr(i + 1, close - i - 1);
        const bool ident = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
        });
        if (ident) {
          if (auto v = lookup(name)) {
            out += *v;
            i = close + 1;
            continue;
          }
        }
      }
    }
    out += tpl[i++];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Provider resolution

std::optional<Setup> resolve(const lang::Recipe& r, const ResolveOptions& o, DiagnosticSink& sink, bool& offline) {
  offline = false;
  if (o.llm == "offline") {
    offline = true;
    return std::nullopt;
  }
  std::filesystem::path config = o.config;
  bool have_file = false;
  std::error_code ec;
  if (config.empty()) {
    // persona.toml next to the recipe, then in the working directory, then in the user's config
    // directory ($XDG_CONFIG_HOME/persona, else ~/.config/persona).
    std::vector<std::filesystem::path> places;
    if (!o.recipe_dir.empty()) places.push_back(std::filesystem::path(o.recipe_dir) / "persona.toml");
    places.emplace_back("persona.toml");
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0')
      places.push_back(std::filesystem::path(x) / "persona" / "persona.toml");
    else if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
      places.push_back(std::filesystem::path(h) / ".config" / "persona" / "persona.toml");
    for (const auto& c : places)
      if (std::filesystem::is_regular_file(c, ec)) {
        config = c;
        break;
      }
  }
  if (!config.empty()) {
    if (!std::filesystem::exists(config, ec)) {
      sink.error(SourceRange{config.string(), 0, 0, 0}, "no-config",
                 "cannot read " + config.string() + ": no such file");
      return std::nullopt;
    }
    have_file = true;
  }
  std::optional<llm::ProviderSet> set;
  bool configured = false;
  if (have_file) {
    set = llm::load_providers(config, sink);
    if (!set) return std::nullopt;
    // A file with a [providers] table configures providers; the built-in set is only `openai`
    // with no definition site.
    configured = !set->providers.empty() && set->providers.front().defined_at.line != 0;
  } else {
    set = llm::builtin_providers();
  }
  std::string name = o.llm;
  if (name.empty()) {
    if (!configured) {
      offline = true;  // nothing configured: the embedded backend
      return std::nullopt;
    }
    name = r.model.provider == "default" ? set->default_name : r.model.provider;
  }
  if (name == "default") name = set->default_name;
  const llm::Provider* p = set->find(name);
  if (p == nullptr && name == "openai") {
    const auto builtin = llm::builtin_providers();
    set->providers.push_back(builtin.providers.front());
    p = &set->providers.back();
  }
  if (p == nullptr) {
    std::string known;
    for (const auto& q : set->providers) known += (known.empty() ? "" : ", ") + q.name;
    sink.error(SourceRange{have_file ? config.string() : std::string("--llm"), 0, 0, 0}, "unknown-provider",
               "no provider '" + name + "'" + (have_file ? " in " + config.string() : std::string()) +
                   " (known: " + (known.empty() ? std::string("none") : known) + ", offline)");
    return std::nullopt;
  }
  Setup s;
  s.provider = *p;
  if (have_file && p->defined_at.line != 0) s.config_file = config.string();
  for (const auto& [k, v] : r.model.params) {
    if (k == "temperature" && std::holds_alternative<double>(v))
      s.temperature = std::get<double>(v);
    else if (k == "max_tokens" && std::holds_alternative<double>(v))
      s.max_tokens = static_cast<int>(std::get<double>(v));
    else if (k == "model" && std::holds_alternative<std::string>(v))
      s.provider.model = std::get<std::string>(v);
  }
  if (!o.model.empty()) s.provider.model = o.model;
  std::string err;
  auto t = load_templates(o.prompts_dir.empty() ? default_prompts_dir() : std::filesystem::path(o.prompts_dir), err);
  if (!t) {
    sink.error(SourceRange{}, "no-prompts", err);
    return std::nullopt;
  }
  s.templates = std::move(*t);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Embeddings for the selection

bool use_embeddings(engine::Program& prog, const Setup& s, const std::filesystem::path& cache_dir,
                    const llm::Options& client_options, DiagnosticSink& sink) {
  const llm::Provider& p = s.provider;
  if (!p.embedding_model_configured || prog.recipe().attributes.max_count <= 0) return true;
  llm::Options o = client_options;
  o.cache = nullptr;  // the node vectors have their own file
  llm::Client client(p, o);
  auto built = sim::EmbeddingScorer::build_cached(prog.model().taxonomy(), client, cache_dir, nullptr);
  if (!built.ok()) {
    // The node vectors cannot be had (the endpoint fails, answers the wrong shape or dimensions):
    // rank offline, say so here, in the plan and in the run fingerprint. A rejected key or unknown
    // model is the provider's problem for every call: an error.
    const bool stops = llm::stops_the_run(built.http_status);
    const std::string what = "provider '" + p.name + "' (embedding_model " + p.embedding_model + "): " + built.error;
    if (stops) {
      sink.error(p.defined_at, "embeddings-failed", what,
                 {"the selection ranks by this provider's embeddings because persona.toml names its embedding_model; "
                  "remove that key to rank offline (semantic)"});
      return false;
    }
    prog.fall_back_similarity(p.embedding_model);
    sink.warning(p.defined_at, "embeddings-fallback",
                 what + "; the tiers are ranked by the offline similarity (" +
                     std::string(prog.model().offline_scorer().name()) + ") instead",
                 {"fix the endpoint and run again to rank by embeddings (a resume keeps the offline ranking)"});
    return true;
  }
  prog.use_scorer(std::shared_ptr<const sim::Scorer>(std::move(built.scorer)), "embeddings " + p.embedding_model);
  return true;
}

}  // namespace persona::backend
