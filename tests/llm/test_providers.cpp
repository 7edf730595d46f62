#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "llm/providers.hpp"

using namespace persona;
using namespace persona::llm;

namespace {

const Diagnostic* find_code(const DiagnosticList& d, const std::string& code) {
  for (const auto& x : d.all()) {
    if (x.code == code) return &x;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("providers: full example parses", "[llm][providers]") {
  const char* text = R"(# persona.toml
[recipe]
seed = 7

[providers]
default = "local"

[providers.local]
base_url = "http://127.0.0.1:8080/v1/"
model = "qwen2.5-7b-instruct"
api_key_env = "LOCAL_LLM_KEY"
max_concurrency = 16
connect_timeout_ms = 2000
timeout_ms = 60000
max_retries = 3
price_input_per_mtok = 0.15
price_output_per_mtok = 0.6
price_cached_input_per_mtok = 0.075
json_schema = false
style = "openai"

[providers.ollama]
style = "ollama"
model = "llama3.1"
)";
  DiagnosticList diags;
  auto set = parse_providers(text, "persona.toml", diags);
  REQUIRE(set);
  CHECK_FALSE(diags.has_errors());
  REQUIRE(set->providers.size() == 2);
  const Provider* p = set->default_provider();
  REQUIRE(p != nullptr);
  CHECK(p->name == "local");
  CHECK(p->base_url == "http://127.0.0.1:8080/v1");
  CHECK(p->chat_url() == "http://127.0.0.1:8080/v1/chat/completions");
  CHECK(p->model == "qwen2.5-7b-instruct");
  CHECK(p->api_key_env == "LOCAL_LLM_KEY");
  CHECK(p->max_concurrency == 16);
  CHECK(p->connect_timeout_ms == 2000);
  CHECK(p->timeout_ms == 60000);
  CHECK(p->max_retries == 3);
  CHECK(p->json_schema == false);
  CHECK(p->style == Style::openai);
  CHECK(p->defined_at.line == 8);
  CHECK(p->cost(Usage{1'000'000, 1'000'000, 500'000}) == Approx(0.5 * 0.15 + 0.5 * 0.075 + 0.6));

  const Provider* o = set->find("ollama");
  REQUIRE(o != nullptr);
  CHECK(o->style == Style::ollama);
  CHECK(o->base_url == "http://localhost:11434");
  CHECK(o->chat_url() == "http://localhost:11434/api/chat");
}

TEST_CASE("providers: errors carry file:line:col", "[llm][providers]") {
  SECTION("wrong type") {
    DiagnosticList diags;
    auto set =
        parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\nmax_concurrency = \"four\"\n", "p.toml", diags);
    CHECK_FALSE(set);
    const auto* d = find_code(diags, "type-mismatch");
    REQUIRE(d != nullptr);
    CHECK(d->where.file == "p.toml");
    CHECK(d->where.line == 3);
    CHECK(d->where.column > 0);
  }
  SECTION("TOML syntax error") {
    DiagnosticList diags;
    auto set = parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\nmodel = = 3\n", "p.toml", diags);
    CHECK_FALSE(set);
    const auto* d = find_code(diags, "toml-syntax");
    REQUIRE(d != nullptr);
    CHECK(d->where.line == 3);
  }
  SECTION("unknown default, with a suggestion") {
    DiagnosticList diags;
    auto set = parse_providers("[providers]\ndefault = \"locl\"\n[providers.local]\nbase_url = \"http://h/v1\"\n",
                               "p.toml", diags);
    CHECK_FALSE(set);
    const auto* d = find_code(diags, "unknown-provider");
    REQUIRE(d != nullptr);
    CHECK(d->where.line == 2);
    REQUIRE(d->notes.size() == 1);
    CHECK(d->notes[0].find("local") != std::string::npos);
  }
  SECTION("unknown key is a warning with did-you-mean") {
    DiagnosticList diags;
    auto set = parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\nmax_concurency = 3\n", "p.toml", diags);
    REQUIRE(set);
    CHECK(diags.warning_count() == 1);
    const auto* d = find_code(diags, "unknown-key");
    REQUIRE(d != nullptr);
    CHECK(d->where.line == 3);
    REQUIRE_FALSE(d->notes.empty());
    CHECK(d->notes[0].find("max_concurrency") != std::string::npos);
  }
  SECTION("bad values") {
    DiagnosticList diags;
    auto set = parse_providers(
        "[providers.x]\nbase_url = \"ftp://h\"\nstyle = \"claude\"\nmax_concurrency = 0\nprice_input_per_mtok = "
        "-1\n",
        "p.toml", diags);
    CHECK_FALSE(set);
    CHECK(diags.error_count() == 4);
    CHECK(find_code(diags, "out-of-range") != nullptr);
    CHECK(find_code(diags, "bad-value") != nullptr);
  }
  SECTION("missing base_url") {
    DiagnosticList diags;
    CHECK_FALSE(parse_providers("[providers.x]\nmodel = \"m\"\n", "p.toml", diags));
    CHECK(find_code(diags, "missing-key") != nullptr);
  }
  SECTION("a key pasted into api_key_env is rejected without being echoed") {
    DiagnosticList diags;
    auto set = parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\napi_key_env = \"sk-test-SECRET-123\"\n",
                               "p.toml", diags);
    CHECK_FALSE(set);
    const auto* d = find_code(diags, "secret-in-config");
    REQUIRE(d != nullptr);
    CHECK(d->where.line == 3);
    CHECK(d->message.find("SECRET") == std::string::npos);
    for (const auto& n : d->notes) CHECK(n.find("SECRET") == std::string::npos);
  }
  SECTION("a key written in the file (api_key = ...) is an error that says to use api_key_env") {
    DiagnosticList diags;
    auto set = parse_providers("[providers.x]\nbase_url = \"http://h/v1\"\napi_key = \"sk-test-SECRET-456\"\n",
                               "p.toml", diags);
    CHECK_FALSE(set);
    const auto* d = find_code(diags, "secret-in-config");
    REQUIRE(d != nullptr);
    CHECK(d->severity == Severity::error);
    CHECK(d->where.line == 3);
    CHECK(d->message.find("SECRET") == std::string::npos);
    REQUIRE_FALSE(d->notes.empty());
    CHECK(d->notes.front().find("api_key_env") != std::string::npos);
  }
}

TEST_CASE("providers: built-in openai provider from the environment", "[llm][providers]") {
  ::setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/", 1);
  auto set = builtin_providers();
  ::unsetenv("OPENAI_BASE_URL");
  REQUIRE(set.default_provider() != nullptr);
  CHECK(set.default_provider()->name == "openai");
  CHECK(set.default_provider()->base_url == "http://127.0.0.1:9/v1");
  CHECK(set.default_provider()->api_key_env == "OPENAI_API_KEY");
  CHECK(builtin_providers().default_provider()->base_url == "https://api.openai.com/v1");

  DiagnosticList diags;
  auto none = parse_providers("[recipe]\nseed = 1\n", "p.toml", diags);
  REQUIRE(none);
  CHECK(none->default_name == "openai");
  auto missing = load_providers("/nonexistent/dir/persona.toml", diags);
  REQUIRE(missing);
  CHECK(missing->default_name == "openai");
  CHECK_FALSE(diags.has_errors());
}

TEST_CASE("providers: the key is read from the environment at request time", "[llm][providers]") {
  Provider p;
  p.api_key_env = "PERSONA_TEST_PROVIDER_KEY";
  ::unsetenv("PERSONA_TEST_PROVIDER_KEY");
  CHECK(p.api_key().empty());
  ::setenv("PERSONA_TEST_PROVIDER_KEY", "sk-test-SECRET-123", 1);
  CHECK(p.api_key() == "sk-test-SECRET-123");
  ::unsetenv("PERSONA_TEST_PROVIDER_KEY");
}

TEST_CASE("redact removes the key and key-shaped tokens", "[llm][providers]") {
  CHECK(redact("bad key sk-test-SECRET-123 given", "sk-test-SECRET-123") == "bad key *** given");
  CHECK(redact("Incorrect API key provided: sk-proj-abcd****************wxyz.", "") ==
        "Incorrect API key provided: sk-***");
  CHECK(redact("token mysecretvalue here", "mysecretvalue") == "token *** here");
  CHECK(redact("task-list ok", "") == "task-list ok");
}

TEST_CASE("redact removes a key of any shape, whole, masked or in pieces", "[llm][providers][secret]") {
  const std::string key = "gsk_LEAKabcdefXYZ";
  CHECK(redact("Incorrect API key provided: gsk_LEAK****fXYZ. See the docs.", key) ==
        "Incorrect API key provided: ***. See the docs.");
  CHECK(redact("key 'gsk_LEAKabcdefXYZ' refused", key) == "key '***' refused");
  CHECK(redact("ends in fXYZ, starts with gsk_LEAK", key) == "ends in ***, starts with ***");
  // Words that merely share a piece with the key stay when they are short and not a piece themselves.
  CHECK(redact("the latest answer", "sk-test-SECRET-123") == "the latest answer");
  CHECK(redact("no key here", "") == "no key here");
}

TEST_CASE("a provider's secrets include the credentials in its base_url", "[llm][providers][secret]") {
  ::setenv("PERSONA_TEST_SECRETS_KEY", "gsk_LEAKabcdefXYZ", 1);
  Provider p;
  p.api_key_env = "PERSONA_TEST_SECRETS_KEY";
  p.base_url = "http://alice:hunter2pass@proxy.example/v1?api_key=QUERYSECRET1&x=1";
  const auto s = p.secrets();
  CHECK(std::find(s.begin(), s.end(), "hunter2pass") != s.end());
  CHECK(std::find(s.begin(), s.end(), "QUERYSECRET1") != s.end());
  CHECK(std::find(s.begin(), s.end(), "gsk_LEAKabcdefXYZ") != s.end());
  const std::string said = p.redact(
      "could not reach http://alice:hunter2pass@proxy.example/v1?api_key=QUERYSECRET1 "
      "with gsk_LEAK****fXYZ");
  CHECK(said.find("hunter2") == std::string::npos);
  CHECK(said.find("QUERYSECRET") == std::string::npos);
  CHECK(said.find("LEAK") == std::string::npos);
  CHECK(redact_url(p.base_url) == "http://***@proxy.example/v1?api_key=***&x=1");
  ::unsetenv("PERSONA_TEST_SECRETS_KEY");
}

TEST_CASE("usage figures are clamped into range and sums saturate", "[llm][providers]") {
  Usage u{-5, 1'000'000'000'000'000L, 99};
  CHECK(clamp_usage(u));
  CHECK(u.prompt_tokens == 0);
  CHECK(u.completion_tokens == kMaxCallTokens);
  CHECK(u.cached_tokens == 0);
  Usage fine{100, 20, 10};
  CHECK_FALSE(clamp_usage(fine));
  Usage big{LONG_MAX - 1, 0, 0};
  big += Usage{10, 0, 0};
  CHECK(big.prompt_tokens == LONG_MAX);
  Provider p;
  p.price_input_per_mtok = 2.0;
  CHECK(p.cost(Usage{-1'000'000'000'000'000L, 0, 0}) == 0.0);
}

TEST_CASE("providers: base_url as an array lists replicas of one served model", "[llm][providers][replicas]") {
  DiagnosticList diags;
  auto set = parse_providers(
      "[providers.vllm]\nbase_url = [\"http://gpu-1:8000/v1/\", \"http://gpu-2:8000/v1\",\n"
      "            \"http://gpu-3:8000/v1\"]\nmodel = \"m\"\n",
      "p.toml", diags);
  REQUIRE(set);
  CHECK_FALSE(diags.has_errors());
  const Provider* p = set->find("vllm");
  REQUIRE(p != nullptr);
  CHECK(p->base_url == "http://gpu-1:8000/v1");
  CHECK(p->more_base_urls == std::vector<std::string>{"http://gpu-2:8000/v1", "http://gpu-3:8000/v1"});
  CHECK(p->base_urls().size() == 3);
  CHECK(p->replica(2).base_url == "http://gpu-3:8000/v1");
  CHECK(p->replica(2).more_base_urls.empty());
  CHECK(p->chat_url() == "http://gpu-1:8000/v1/chat/completions");
  CHECK(p->shown_base_urls() == "http://gpu-1:8000/v1, http://gpu-2:8000/v1, http://gpu-3:8000/v1 (3 replicas)");
  // One URL in an array is one URL.
  auto one = parse_providers("[providers.x]\nbase_url = [\"http://h/v1\"]\n", "p.toml", diags);
  REQUIRE(one);
  CHECK(one->find("x")->more_base_urls.empty());
  CHECK(one->find("x")->shown_base_urls() == "http://h/v1");
}

TEST_CASE("providers: bad replica lists are errors naming the file, the setting and the element",
          "[llm][providers][replicas]") {
  auto only_error = [](const std::string& toml, const std::string& code) {
    DiagnosticList diags;
    CHECK_FALSE(parse_providers(toml, "persona.toml", diags));
    CHECK(diags.error_count() == 1);
    const Diagnostic* d = find_code(diags, code);
    REQUIRE(d != nullptr);
    CHECK(d->where.file == "persona.toml");
    return *d;
  };
  SECTION("an empty array") {
    const auto d = only_error("[providers.v]\nbase_url = []\n", "bad-value");
    CHECK(d.where.line == 2);
    CHECK(d.message == "[providers.v] base_url is an empty array: list at least one URL");
  }
  SECTION("an element that is not a string, at its own position") {
    const auto d = only_error("[providers.v]\nbase_url = [\"http://a/v1\",\n  8000]\n", "type-mismatch");
    CHECK(d.where.line == 3);
    CHECK(d.where.column == 3);
    CHECK(d.message.find("[providers.v] base_url[2] must be a string") != std::string::npos);
  }
  SECTION("a URL listed twice, trailing slash or not") {
    const auto d = only_error(
        "[providers.v]\nbase_url = [\"http://a:8000/v1\",\n \"http://b:8000/v1\",\n \"http://a:8000/v1/\"]\n",
        "duplicate-url");
    CHECK(d.where.line == 4);
    CHECK(d.message.find("[providers.v] base_url[3] repeats \"http://a:8000/v1\" (already element 1, line 2)") !=
          std::string::npos);
  }
  SECTION("a URL without http(s), redacted in the message") {
    const auto d =
        only_error("[providers.v]\nbase_url = [\"http://a/v1\", \"ftp://bob:pw-SECRET-9@b/v1\"]\n", "bad-value");
    CHECK(d.message.find("base_url[2]") != std::string::npos);
    CHECK(d.message.find("must start with http:// or https://") != std::string::npos);
    CHECK(d.message.find("pw-SECRET-9") == std::string::npos);
  }
  SECTION("a URL without a host") {
    const auto d = only_error("[providers.v]\nbase_url = [\"http:///v1\"]\n", "bad-value");
    CHECK(d.message.find("has no host") != std::string::npos);
  }
  SECTION("neither a string nor an array") {
    const auto d = only_error("[providers.v]\nbase_url = 8000\n", "type-mismatch");
    CHECK(d.message.find("a string (one URL) or an array of strings") != std::string::npos);
  }
}

TEST_CASE("providers: every replica's credentials are secrets and shown redacted",
          "[llm][providers][replicas][secret]") {
  Provider p;
  p.api_key_env = "";
  p.base_url = "http://a.example/v1";
  p.more_base_urls = {"http://bob:replicaPASS1@b.example/v1", "http://c.example/v1?token=REPLICATOKEN2"};
  const auto s = p.secrets();
  CHECK(std::find(s.begin(), s.end(), "replicaPASS1") != s.end());
  CHECK(std::find(s.begin(), s.end(), "REPLICATOKEN2") != s.end());
  const std::string shown = p.shown_base_urls();
  CHECK(shown.find("replicaPASS1") == std::string::npos);
  CHECK(shown.find("REPLICATOKEN2") == std::string::npos);
  CHECK(shown.find("http://***@b.example/v1") != std::string::npos);
  CHECK(p.redact("failed at http://bob:replicaPASS1@b.example/v1").find("replicaPASS1") == std::string::npos);
}

TEST_CASE("providers: OPENAI_BASE_URL still sets the openai provider's one URL", "[llm][providers][replicas]") {
  ::setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/", 1);
  DiagnosticList diags;
  auto set = parse_providers("[providers.openai]\nmodel = \"m\"\n", "p.toml", diags);
  ::unsetenv("OPENAI_BASE_URL");
  REQUIRE(set);
  CHECK(set->find("openai")->base_url == "http://127.0.0.1:9/v1");
  CHECK(set->find("openai")->more_base_urls.empty());
}

TEST_CASE("providers: the persona.toml reference in docs/llm.md parses, its vllm provider with 3 replicas",
          "[llm][providers][replicas]") {
  std::ifstream in(std::string(PERSONA_SOURCE_DIR) + "/docs/llm.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const auto start = doc.find("```toml\n");
  REQUIRE(start != std::string::npos);
  const auto end = doc.find("```", start + 8);
  REQUIRE(end != std::string::npos);
  DiagnosticList diags;
  auto set = parse_providers(doc.substr(start + 8, end - start - 8), "docs/llm.md", diags);
  REQUIRE(set);
  CHECK_FALSE(diags.has_errors());
  const Provider* p = set->find("vllm");
  REQUIRE(p != nullptr);
  CHECK(p->base_urls() ==
        std::vector<std::string>{"http://gpu-1:8000/v1", "http://gpu-2:8000/v1", "http://gpu-3:8000/v1"});
  CHECK(p->max_concurrency == 96);
}
