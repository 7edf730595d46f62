// persona run with an LLM, against the fake OpenAI server on 127.0.0.1 (never the network).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "exec/exec.hpp"
#include "files.hpp"
#include "frontend/frontend.hpp"
#include "llm/fake/fake_server.hpp"
#include "llm/structured.hpp"

using namespace persona;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";
constexpr const char* kKeyVar = "PERSONA_TEST_GEN_KEY";
constexpr const char* kSentinel = "sk-SENTINEL-persona-generate-0123456789abcdef";

std::unique_ptr<engine::Program> quickstart() {
  SourceFiles sources;
  DiagnosticList diags;
  auto loaded = frontend::load_recipe(kQuickstart, sources, diags);
  REQUIRE(loaded.has_value());
  DiagnosticList t;
  auto tax = engine::load_taxonomy(loaded->recipe, t);
  REQUIRE(tax != nullptr);
  auto m = engine::Program::compile(std::move(loaded->recipe), loaded->tables, std::move(tax), t);
  REQUIRE(m != nullptr);
  return m;
}

const engine::Program& model() {
  static auto m = quickstart();
  return *m;
}

backend::Setup setup_for(const llm::fake::Server& server) {
  backend::Setup s;
  s.provider.name = "fake";
  s.provider.base_url = server.base_url();
  s.provider.api_key_env = kKeyVar;
  if (std::getenv(kKeyVar) == nullptr) ::setenv(kKeyVar, kSentinel, 1);
  s.provider.max_concurrency = 16;
  s.provider.timeout_ms = 2000;
  std::string err;
  auto t = backend::load_templates(backend::default_prompts_dir(), err);
  REQUIRE(t.has_value());
  s.templates = *t;
  return s;
}

fs::path scratch(const std::string& name) {
  auto d = fs::temp_directory_path() / ("persona-gen-" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// An LLM run on the executor with the backend for `s`.
exec::RunResult run_llm(const engine::Program& prog, exec::RunOptions o, const backend::Setup& s) {
  const backend::Llm llm(s);
  o.llm = &llm;
  return exec::run(prog, o);
}

using persona::test::read_file;

std::vector<json> lines_of(const fs::path& p) {
  std::vector<json> out;
  std::istringstream in(read_file(p));
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

int llm_filled(const json& persona) {
  int n = 0;
  for (const auto& a : persona["attributes"])
    if (a["status"] == "filled" && a["source"] == "llm") ++n;
  return n;
}

// Every attribute filled, or carrying a status that says why not.
void check_statuses(const json& persona) {
  for (const auto& a : persona["attributes"]) {
    const std::string st = a["status"].get<std::string>();
    if (st == "filled") {
      CHECK(a["value"].is_string());
    } else {
      CHECK(a["value"].is_null());
      CHECK(!st.empty());
      CHECK(st != "pending");
    }
  }
}

}  // namespace

TEST_CASE("a run with strict json_schema answers meets the quickstart target", "[generate]") {
  ::setenv(kKeyVar, kSentinel, 1);
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto s = setup_for(server);
  const auto dir = scratch("schema");
  exec::RunOptions o;
  o.count = 6;
  o.seed = 7;
  o.out = (dir / "out.jsonl").string();
  o.concurrency = 8;
  o.cache_path = (dir / "cache.sqlite").string();
  const auto res = run_llm(model(), o, s);
  REQUIRE(res.error.empty());
  REQUIRE(!res.interrupted);
  const auto personas = lines_of(o.out);
  REQUIRE(personas.size() == 6);
  long server_prompt = 0;
  for (std::size_t i = 0; i < personas.size(); ++i) {
    const auto& p = personas[i];
    CHECK(p["id"] == "quickstart-00000" + std::to_string(i));
    CHECK(llm_filled(p) >= 200);
    CHECK(p["usage"]["calls"].get<int>() <= 10);
    CHECK(p["usage"]["prompt_tokens"].get<int>() <= 12000);
    CHECK(!p["narrative"].get<std::string>().empty());
    CHECK(p["core"]["values"].is_array());
    server_prompt += p["usage"]["prompt_tokens"].get<long>();
    check_statuses(p);
  }
  // The client's Stats agree with the personas' usage (all from the network: a fresh cache).
  CHECK(res.stats.usage.prompt_tokens == server_prompt);
  CHECK(res.stats.requests == server.requests());
  CHECK(static_cast<double>(res.stats.requests) / 6.0 <= 10.0);
  CHECK(static_cast<double>(res.stats.usage.prompt_tokens) / 6.0 <= 12000.0);
  // Every batch request: a strict schema asking for one {n, v} entry per listed number.
  int batches = 0;
  int narratives = 0;
  for (const auto& b : server.bodies()) {
    if (!b.contains("response_format")) {  // the narrative: plain text
      ++narratives;
      continue;
    }
    const auto& rf = b["response_format"];
    REQUIRE(rf["type"] == "json_schema");
    CHECK(rf["json_schema"]["strict"] == true);
    const auto& sch = rf["json_schema"]["schema"];
    CHECK(sch["additionalProperties"] == false);
    if (!sch["properties"].contains("answers")) continue;
    ++batches;
    const auto& answers = sch["properties"]["answers"];
    CHECK(answers["type"] == "array");
    CHECK(answers["minItems"] == answers["maxItems"]);
    CHECK(answers["items"]["properties"]["v"]["type"] == json::array({"string", "null"}));
    CHECK(answers["items"]["required"] == json::array({"n", "v"}));
  }
  CHECK(batches >= 6 * 3);
  CHECK(narratives == 6);
  // The manifest has usage totals and the client's stats, and no key.
  const std::string manifest = read_file(o.out + ".manifest.json");
  const auto mj = json::parse(manifest);
  CHECK(mj["totals"]["calls"].get<long>() == res.stats.requests);
  CHECK(mj["llm"]["requests"].get<long>() == res.stats.requests);
  CHECK(mj["model"]["backend"] == "llm");
  CHECK(!fs::exists(o.out + ".part"));
  CHECK(!fs::exists(o.out + ".manifest.json.part"));

  // A rerun is answered from the cache: no request, identical output.
  const std::string first = read_file(o.out);
  server.reset_counters();
  const auto again = run_llm(model(), o, s);
  REQUIRE(again.error.empty());
  CHECK(server.requests() == 0);
  CHECK(again.stats.cache_hits == again.stats.requests);
  CHECK(again.stats.cost == 0.0);
  CHECK(read_file(o.out) == first);
}

TEST_CASE("the output does not depend on the concurrency", "[generate]") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto s = setup_for(server);
  const auto dir = scratch("concurrency");
  std::string outs[2];
  int i = 0;
  for (int c : {1, 12}) {
    exec::RunOptions o;
    o.count = 5;
    o.seed = 3;
    o.out = (dir / ("c" + std::to_string(c) + ".jsonl")).string();
    o.concurrency = c;
    REQUIRE(run_llm(model(), o, s).ok);
    outs[i++] = read_file(o.out);
  }
  CHECK(outs[0] == outs[1]);
}

TEST_CASE("a provider without schema support: extract, repair, ask again for the missing keys", "[generate]") {
  llm::fake::Server server;
  REQUIRE(server.start());
  // Answers in a fenced block with a trailing comma; the first answer to a batch lacks its last
  // three keys, so the driver must ask again for exactly those.
  server.set_script([](const json& req) -> std::optional<std::string> {
    const std::string user = req["messages"].back()["content"].get<std::string>();
    // The numbered attributes: lines "N Leaf ..." after the task's first line.
    const auto task = user.find("Give this person's value");
    if (task == std::string::npos) {  // story or narrative
      if (user.find("Write the core of this person's life") != std::string::npos)
        return std::string(
            "Sure! ```json\n{\"values\": [\"thrift\", \"faith\", \"patience\"], \"attitude\": 'steady', "
            "\"vignettes\": [\"a flood\"], \"interests\": [\"chess\", \"walks\"],}\n```");
      return std::nullopt;
    }
    std::vector<int> numbers;
    std::istringstream lines(user.substr(task));
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])))
        numbers.push_back(std::atoi(line.c_str()));
    const bool again = user.find("previous answer") != std::string::npos;
    std::string out = "Here you go:\n```json\n{\"answers\": [";
    const std::size_t n = again ? numbers.size() : numbers.size() - std::min<std::size_t>(3, numbers.size() - 1);
    for (std::size_t i = 0; i < n; ++i)
      out += "{\"n\": " + std::to_string(numbers[i]) + ", \"v\": \"value " + std::to_string(numbers[i]) + "\"},";
    out += "],}\n```";
    return out;
  });
  auto s = setup_for(server);
  s.provider.json_schema = false;
  const auto dir = scratch("noschema");
  exec::RunOptions o;
  o.count = 2;
  o.seed = 7;
  o.out = (dir / "out.jsonl").string();
  o.concurrency = 4;
  const auto res = run_llm(model(), o, s);
  REQUIRE(res.error.empty());
  const auto personas = lines_of(o.out);
  REQUIRE(personas.size() == 2);
  for (const auto& p : personas) {
    CHECK(llm_filled(p) == static_cast<int>(p["attributes"].size()));
    CHECK(p["core"]["attitude"] == "steady");
    CHECK(p["core"]["interests"] == json::array({"chess", "walks"}));
  }
  int json_object = 0, repairs = 0;
  for (const auto& b : server.bodies()) {
    if (b.contains("response_format") && b["response_format"]["type"] == "json_object") ++json_object;
    const std::string user = b["messages"].back()["content"].get<std::string>();
    if (user.find("previous answer") != std::string::npos) {
      ++repairs;
      // Only the missing attributes are asked again (renumbered 1..3).
      CHECK(user.find("\n3 ") != std::string::npos);
      CHECK(user.find("\n4 ") == std::string::npos);
    }
  }
  CHECK(json_object > 0);
  CHECK(repairs >= 2 * 3);  // every fill batch (3 per persona) asked again once
}

TEST_CASE("20% of calls failing in every fault kind: every persona written, every attribute explained",
          "[generate][faults]") {
  llm::fake::Config fc;
  fc.p_rate_limit = 0.04;
  fc.p_server_error = 0.03;
  fc.p_hang = 0.02;
  fc.p_truncated = 0.03;
  fc.p_malformed = 0.03;
  fc.p_missing_keys = 0.03;
  fc.p_not_json = 0.02;
  fc.hang_ms = 1500;
  fc.retry_after_s = 1;
  fc.seed = 11;
  llm::fake::Server server(fc);
  REQUIRE(server.start());
  auto s = setup_for(server);
  s.provider.timeout_ms = 400;
  s.provider.max_retries = 2;  // few retries: some calls fail for good and must be marked
  const auto dir = scratch("faults");
  exec::RunOptions o;
  o.count = 8;
  o.seed = 5;
  o.out = (dir / "out.jsonl").string();
  o.concurrency = 16;
  o.client.backoff_base_ms = 5;
  o.client.backoff_max_ms = 40;
  o.client.retry_after_max_ms = 60;
  o.client.breaker_threshold = 0;
  const auto res = run_llm(model(), o, s);
  REQUIRE(res.error.empty());
  REQUIRE(!res.interrupted);
  const auto personas = lines_of(o.out);
  REQUIRE(personas.size() == 8);
  for (const auto& p : personas) {
    check_statuses(p);
    CHECK(p["attributes"].size() >= 200);
  }
  CHECK(res.stats.retries > 0);
  CHECK(res.stats.rate_limited > 0);
}

TEST_CASE("the circuit breaker stops the run cleanly and --resume finishes it", "[generate][faults]") {
  llm::fake::Server server;
  REQUIRE(server.start());
  auto s = setup_for(server);
  const auto dir = scratch("breaker");
  exec::RunOptions o;
  o.count = 6;
  o.seed = 9;
  o.out = (dir / "out.jsonl").string();
  o.concurrency = 2;
  o.cache_path = (dir / "cache.sqlite").string();
  o.client.backoff_base_ms = 1;
  o.client.backoff_max_ms = 5;
  o.client.breaker_threshold = 4;
  std::vector<llm::fake::Fault> faults(20, llm::fake::Fault::none);
  faults.resize(20 + 200, llm::fake::Fault::server_error);
  server.push_faults(faults);
  const auto res = run_llm(model(), o, s);
  REQUIRE(res.error.empty());
  REQUIRE(res.interrupted);
  CHECK(res.reason.find("circuit") != std::string::npos);
  CHECK(fs::exists(o.out + ".part"));
  CHECK(!fs::exists(o.out));
  // The provider recovers (a healthy server); the resume keeps what was written and finishes.
  llm::fake::Server healthy;
  REQUIRE(healthy.start());
  s.provider.base_url = healthy.base_url();
  o.resume = true;
  const auto res2 = run_llm(model(), o, s);
  REQUIRE(res2.error.empty());
  REQUIRE(!res2.interrupted);
  const auto personas = lines_of(o.out);
  REQUIRE(personas.size() == 6);
  for (std::size_t i = 0; i < personas.size(); ++i) CHECK(personas[i]["id"] == "quickstart-00000" + std::to_string(i));
}

TEST_CASE("the budget (--budget) stops before exceeding the budget, resumably", "[generate]") {
  llm::fake::Server server;
  REQUIRE(server.start());
  auto s = setup_for(server);
  s.provider.price_input_per_mtok = 100.0;  // ~$0.75 per persona
  s.provider.price_output_per_mtok = 100.0;
  const auto dir = scratch("budget");
  exec::RunOptions o;
  o.count = 10;
  o.seed = 7;
  o.out = (dir / "out.jsonl").string();
  o.concurrency = 2;
  o.cache_path = (dir / "cache.sqlite").string();
  o.budget_usd = 3.0;
  const auto res = run_llm(model(), o, s);
  REQUIRE(res.error.empty());
  REQUIRE(res.interrupted);
  CHECK(res.reason == "budget");
  CHECK(res.stats.cost <= 3.0);
  const auto kept = lines_of(o.out + ".part");
  CHECK(kept.size() >= 1);
  CHECK(kept.size() < 10);
  o.budget_usd = 100.0;
  o.resume = true;
  const auto res2 = run_llm(model(), o, s);
  REQUIRE(res2.error.empty());
  REQUIRE(!res2.interrupted);
  CHECK(lines_of(o.out).size() == 10);
  CHECK(res2.totals.resumed == kept.size());
}

#ifdef PERSONA_BIN
namespace {

std::string write_config(const fs::path& dir, const llm::fake::Server& server) {
  const auto path = dir / "persona.toml";
  std::ofstream(path) << "[providers]\ndefault = \"fake\"\n[providers.fake]\nbase_url = \"" << server.base_url()
                      << "\"\nmodel = \"fake-model\"\napi_key_env = \"" << kKeyVar
                      << "\"\nmax_concurrency = 4\nprice_input_per_mtok = 0.15\nprice_output_per_mtok = 0.6\n";
  return path.string();
}

// Starts `persona run ...` as a child process (stdout/stderr to files in dir).
pid_t spawn(const std::vector<std::string>& args, const fs::path& dir) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
    if (!std::freopen(out.c_str(), "ab", stdout) || !std::freopen(err.c_str(), "ab", stderr)) ::_exit(127);
    std::vector<char*> argv;
    std::string bin = PERSONA_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(PERSONA_BIN, argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("SIGKILL at random moments then --resume: each persona exactly once, equal to an uninterrupted run",
          "[generate][resume]") {
  ::setenv(kKeyVar, kSentinel, 1);
  llm::fake::Config fc;
  fc.latency_ms = 15;
  llm::fake::Server server(fc);
  REQUIRE(server.start());
  const auto dir = scratch("kill");
  const std::string config = write_config(dir, server);
  const std::string cache = (dir / "cache.sqlite").string();
  const std::string out = (dir / "out.jsonl").string(), ref = (dir / "ref.jsonl").string();
  auto args = [&](const std::string& o, bool resume, const std::string& cache_file) {
    std::vector<std::string> a = {"run",     kQuickstart, "--count",       "10",       "--out",
                                  o,         "--llm",     "fake",          "--config", config,
                                  "--cache", cache_file,  "--concurrency", "2",        "--quiet"};
    if (resume) a.push_back("--resume");
    return a;
  };
  // Kill points are counted in requests the server received, not in sleeps: the first run dies after
  // its 4th request, each resume after a few more; progress is made every round whatever the timing.
  int kills = 0;
  long target = 4;
  for (int round = 0; round < 4; ++round) {
    const pid_t pid = spawn(args(out, round > 0, cache), dir);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    bool exited = false;
    while (server.requests() < target && std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      const int code = wait_code(pid);
      if (code == 128 + SIGKILL) ++kills;
      if (code == 0) break;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      break;
    }
    target = server.requests() + 7;
  }
  CHECK(kills >= 1);
  if (!fs::exists(out)) CHECK(wait_code(spawn(args(out, true, cache), dir)) == 0);
  REQUIRE(fs::exists(out));
  // The reference: an uninterrupted run with a fresh cache (answers depend only on the request).
  REQUIRE(wait_code(spawn(args(ref, false, (dir / "ref-cache.sqlite").string()), dir)) == 0);
  const std::string got = read_file(out), want = read_file(ref);
  std::set<std::string> ids;
  for (const auto& p : lines_of(out)) CHECK(ids.insert(p["id"].get<std::string>()).second);
  CHECK(ids.size() == 10);
  CHECK(got == want);

  // The key appears in no file the runs wrote (output, .part leftovers, manifest, caches, logs).
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    INFO(e.path());
    CHECK(read_file(e.path()).find(kSentinel) == std::string::npos);
  }
  CHECK(server.last_authorization() == std::string("Bearer ") + kSentinel);  // it was sent, in the header
}

TEST_CASE("a dry run (--dry-run) sends nothing and prints calls, tokens and cost", "[generate]") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = scratch("dry");
  const std::string config = write_config(dir, server);
  const std::string out = (dir / "out.jsonl").string();
  const pid_t pid = spawn(
      {"run", kQuickstart, "--count", "100", "--out", out, "--llm", "fake", "--config", config, "--dry-run"}, dir);
  CHECK(wait_code(pid) == 0);
  CHECK(server.requests() == 0);
  CHECK(!fs::exists(out));
  CHECK(!fs::exists(out + ".part"));
  const std::string text = read_file(dir / "stdout.txt");
  CHECK(text.find("no request sent") != std::string::npos);
  CHECK(text.find("100 personas") != std::string::npos);
  CHECK(text.find("$") != std::string::npos);
}

TEST_CASE("persona run --llm: unknown provider is a usage error - --help lists every flag", "[generate]") {
  const auto dir = scratch("usage");
  CHECK(wait_code(spawn({"run", kQuickstart, "--count", "1", "--out", (dir / "x.jsonl").string(), "--llm", "nope"},
                        dir)) == 2);
  CHECK(wait_code(spawn({"run", "--help"}, dir)) == 0);
  const std::string help = read_file(dir / "stdout.txt");
  for (const char* flag : {"--count", "--seed", "--out", "--threads", "--shard", "--llm", "--config", "--model",
                           "--concurrency", "--cache", "--no-cache", "--resume", "--dry-run", "--budget", "--quiet"})
    CHECK(help.find(flag) != std::string::npos);
}
#endif
