// `persona taxonomy mine` and `merge` as a user runs them: the built binary against the loopback
// fake server (keyword model), a SIGKILL in the middle and --resume, the dry run, bad input, and a
// recipe that runs on the mined taxonomy.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "fake_miner.hpp"
#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(PERSONA_SOURCE_DIR) / "tests" / "data" / "mine";

struct Server {
  llm::fake::Server server;
  mine::fake::Miner miner;
  fs::path config;
  explicit Server(const fs::path& dir, int latency_ms = 0)
      : server({.latency_ms = latency_ms}), miner(*mine::fake::Miner::load(kData / "lexicon.json")) {
    server.set_script(miner.script());
    REQUIRE(server.start());
    ::setenv("PERSONA_MINE_TEST_KEY", "sk-mine", 1);
    config = dir / "persona.toml";
    write_file(config, fake_provider_toml(server.base_url(), "PERSONA_MINE_TEST_KEY",
                                          "max_concurrency = 4\nmax_retries = 1\n"));
  }
};

std::vector<std::string> mine_args(const fs::path& config, const fs::path& out) {
  return {"taxonomy",
          "mine",
          (kData / "openai.jsonl").string(),
          (kData / "sharegpt.jsonl.gz").string(),
          (kData / "qa.jsonl").string(),
          "-o",
          out.string(),
          "--config",
          config.string(),
          "--no-cache",
          "-q"};
}

std::string quoted(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += " '" + a + "'";
  return s;
}

}  // namespace

TEST_CASE("a mining run killed with SIGKILL resumes from its journal to the same taxonomy byte for byte") {
  const auto root = scratch_dir("mine-cli") / "kill";
  fs::remove_all(root);
  fs::create_directories(root);
  Server s(root, 15);
  // The uninterrupted run.
  const auto clean = run_persona(quoted(mine_args(s.config, root / "clean.tax")));
  INFO(clean.err);
  REQUIRE(clean.code == 0);
  const long clean_requests = s.server.requests();
  // The killed run: SIGKILL once the journal holds 100 answers.
  const auto out = root / "killed.tax";
  const pid_t pid =
      spawn_process(PERSONA_BIN, mine_args(s.config, out), (root / "o.txt").string(), (root / "e.txt").string());
  const auto journal = fs::path(out.string() + ".journal");
  for (int k = 0; k < 3000; ++k) {
    if (fs::exists(journal) && read_lines(journal).size() >= 100) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  CHECK(wait_exit_code(pid) == 128 + SIGKILL);
  REQUIRE(fs::exists(journal));
  CHECK_FALSE(fs::exists(out));
  const auto kept = read_lines(journal).size();
  CHECK(kept >= 100);
  // Without --resume the journal is not overwritten: the command says what to do.
  const auto refused = run_persona(quoted(mine_args(s.config, out)));
  CHECK(refused.code == 3);
  CHECK(refused.err.find("--resume") != std::string::npos);
  // The resume sends only what the journal lacks and writes the same bytes.
  s.server.reset_counters();
  auto args = mine_args(s.config, out);
  args.push_back("--resume");
  const auto resumed = run_persona(quoted(args));
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(read_file(out) == read_file(root / "clean.tax"));
  CHECK(s.server.requests() <= clean_requests - static_cast<long>(kept) + 8);
  CHECK(resumed.out.find("from the journal") != std::string::npos);
}

TEST_CASE("the mined taxonomy passes the taxonomy checks and a recipe runs on it") {
  const auto root = scratch_dir("mine-cli") / "recipe";
  fs::remove_all(root);
  fs::create_directories(root);
  Server s(root);
  const auto o = run_persona(quoted(mine_args(s.config, root / "mined.tax")));
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("classify") != std::string::npos);
  CHECK(o.out.find("Wrote") != std::string::npos);
  const auto stats = run_persona("taxonomy stats '" + (root / "mined.tax").string() + "'");
  CHECK(stats.code == 0);
  write_file(root / "mined.persona",
             "recipe \"mined\" version \"1.0\"\ntaxonomy \"mined.tax\"\nseed 7\n\n"
             "anchor age ~ uniform(18, 80) round\n\nattributes {\n  count 10..20\n  include *\n}\n");
  const auto check = run_persona("check '" + (root / "mined.persona").string() + "'");
  INFO(check.err);
  CHECK(check.code == 0);
  const auto run = run_persona("run '" + (root / "mined.persona").string() + "' --count 5 --out '" +
                               (root / "people.jsonl").string() + "'");
  INFO(run.err);
  REQUIRE(run.code == 0);
  CHECK(read_lines(root / "people.jsonl").size() == 5);
}

TEST_CASE("the dry run prints the calls and tokens it would spend and sends nothing") {
  const auto root = scratch_dir("mine-cli") / "dry";
  fs::remove_all(root);
  fs::create_directories(root);
  Server s(root);
  auto args = mine_args(s.config, root / "mined.tax");
  args.push_back("--dry-run");
  const auto o = run_persona(quoted(args));
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("334 exchanges to mine") != std::string::npos);
  CHECK(o.out.find("classify  334 calls") != std::string::npos);
  CHECK(s.server.requests() == 0);
  CHECK_FALSE(fs::exists(root / "mined.tax"));
  // Settings that only mean something with another one are refused alone, not ignored.
  auto alone = mine_args(s.config, root / "mined.tax");
  alone.push_back("--assume-personalizable");
  alone.push_back("0.5");
  const auto a1 = run_persona(quoted(alone));
  CHECK(a1.code == 2);
  CHECK(a1.err.find("--dry-run") != std::string::npos);
  alone = mine_args(s.config, root / "mined.tax");
  alone.push_back("--embedding-threshold");
  alone.push_back("0.5");
  const auto a2 = run_persona(quoted(alone));
  CHECK(a2.code == 2);
  CHECK(a2.err.find("--embeddings") != std::string::npos);
  CHECK(s.server.requests() == 0);
}

TEST_CASE("bad corpora: malformed lines are warned with file and line, an empty corpus is an error") {
  const auto root = scratch_dir("mine-cli") / "bad";
  fs::remove_all(root);
  fs::create_directories(root);
  Server s(root);
  auto args = mine_args(s.config, root / "mined.tax");
  args[2] = (kData / "bad.jsonl").string();
  args.erase(args.begin() + 3, args.begin() + 5);
  const auto o = run_persona(quoted(args));
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.err.find("bad.jsonl:2:1: warning") != std::string::npos);
  CHECK(o.err.find("not valid JSON") != std::string::npos);
  CHECK(o.out.find("12 malformed lines skipped") != std::string::npos);
  CHECK(o.out.find("1 messages truncated") != std::string::npos);
  write_file(root / "empty.jsonl", "\n\n");
  args[2] = (root / "empty.jsonl").string();
  const auto e = run_persona(quoted(args));
  CHECK(e.code == 1);
  CHECK(e.err.find("empty.jsonl") != std::string::npos);
  CHECK(e.err.find("no exchange to mine") != std::string::npos);
  // An output that is an input is refused before anything is read or sent.
  fs::copy_file(kData / "qa.jsonl", root / "qa.jsonl", fs::copy_options::overwrite_existing);
  const auto same = run_persona("taxonomy mine '" + (root / "qa.jsonl").string() + "' -o '" +
                                (root / "qa.jsonl").string() + "' --config '" + s.config.string() + "'");
  CHECK(same.code == 2);
  CHECK(same.err.find("is one of the conversation files") != std::string::npos);
  CHECK(read_file(root / "qa.jsonl") == read_file(kData / "qa.jsonl"));
  const auto none = run_persona("taxonomy mine '" + (root / "missing.jsonl").string() + "' -o '" +
                                (root / "x.tax").string() + "' --config '" + s.config.string() + "'");
  CHECK(none.code == 1);
  CHECK(none.err.find("missing.jsonl") != std::string::npos);
}

TEST_CASE("the documented settings of taxonomy mine change what they say and persona report draws the mining report") {
  const auto root = scratch_dir("mine-cli") / "settings";
  fs::remove_all(root);
  fs::create_directories(root);
  Server s(root);
  write_file(root / "top.tax",
             "Everyday Life | Habits, food, home and leisure\nWork and Money | Jobs, income and skills\n");
  auto args = mine_args(s.config, root / "mined.tax");
  args.erase(std::find(args.begin(), args.end(), "--no-cache"));
  const std::vector<std::string> more = {"--top",       (root / "top.tax").string(),
                                         "--json",      "--max-candidates",
                                         "1",           "--max-message-chars",
                                         "60",          "--no-scrub",
                                         "--cache",     (root / "answers.sqlite").string(),
                                         "--seed",      "5",
                                         "--threshold", "0.9"};
  args.insert(args.end(), more.begin(), more.end());
  const auto o = run_persona(quoted(args));
  INFO(o.err);
  REQUIRE(o.code == 0);
  const auto j = nlohmann::json::parse(o.out);      // --json: the report on stdout
  CHECK(j["candidates"]["capped"].get<int>() > 0);  // --max-candidates 1
  CHECK(j["corpus"]["truncated"].get<int>() > 0);   // --max-message-chars 60
  CHECK(j["corpus"]["scrubbed"].empty());           // --no-scrub
  CHECK(fs::exists(root / "answers.sqlite"));       // --cache
  bool top_listed = false;                          // --top: the categories offered to the map step
  for (const auto& b : s.server.bodies()) {
    CHECK(b.value("seed", -1) == 5);  // --seed
    if (b.dump().find("Work and Money") != std::string::npos) top_listed = true;
  }
  CHECK(top_listed);
  CHECK(j == nlohmann::json::parse(read_file(root / "mined.tax.report.json")));
  // The HTML report's mining section.
  const auto html = root / "report.html";
  const auto r =
      run_persona("report --mining '" + (root / "mined.tax.report.json").string() + "' -o '" + html.string() + "'");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string page = read_file(html);
  CHECK(page.find("Taxonomy mining") != std::string::npos);
  CHECK(page.find("Personalizable exchanges") != std::string::npos);
  CHECK(page.find("merge decisions") != std::string::npos);
  // A file that is not a mining report is refused.
  const auto bad = run_persona("report --mining '" + (root / "top.tax").string() + "' -o '" + html.string() + "'");
  CHECK(bad.code == 1);
  CHECK(bad.err.find("--mining takes") != std::string::npos);
}
