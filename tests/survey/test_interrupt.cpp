// SIGINT / SIGTERM sent to a running `persona survey` (a child process, real signals): it stops
// cleanly with exit 4, keeps the whole answers it got (response cache, answers.csv.part), writes no
// answers.csv or metrics, and the same command resumes to the files of an uninterrupted run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;

namespace {

const std::string kSource = PERSONA_SOURCE_DIR;

std::string twenty_personas() {
  static const std::string path = [] {
    const auto file = scratch_dir("survey-interrupt") / "uk-adults-20.jsonl";
    const auto o = run_persona("run examples/survey/uk-adults.persona --count 20 --out '" + file.string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
    return file.string();
  }();
  return path;
}

std::vector<std::string> survey_args(const fs::path& config, const fs::path& out, bool cache = true) {
  std::vector<std::string> a = {"survey",
                                twenty_personas(),
                                "--questions",
                                kSource + "/examples/survey/questionnaire.toml",
                                "--targets",
                                kSource + "/examples/survey/targets.csv",
                                "--mode",
                                "deep",
                                "--repeats",
                                "2",
                                "--concurrency",
                                "2",
                                "--bootstrap",
                                "20",
                                "--config",
                                config.string(),
                                "-o",
                                out.string()};
  if (!cache) a.emplace_back("--no-cache");
  return a;
}

// Runs the binary to its end.
int run_to_end(const std::vector<std::string>& args, const fs::path& dir) {
  return wait_exit_code(
      spawn_process(PERSONA_BIN, args, (dir / "stdout.txt").string(), (dir / "stderr.txt").string(), false));
}

std::vector<std::string> data_lines(const std::string& csv) {
  std::vector<std::string> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Waits until the spawned child has SIGINT and SIGTERM blocked (spawn_process blocks them in the
// child after the fork, so a signal sent before that would find the default action).
void wait_until_blocked(pid_t pid) {
  const std::string status = "/proc/" + std::to_string(pid) + "/status";
  for (int k = 0; k < 20000; ++k) {
    std::istringstream in(read_file(status));
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("SigBlk:", 0) == 0) {
        const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        const unsigned long long want = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
        if ((mask & want) == want) return;
      }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  FAIL("the child never blocked SIGINT and SIGTERM");
}

long number_before(const std::string& text, const std::string& what) {
  const std::regex re("([0-9]+) " + what);
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stol(m[1].str());
}

}  // namespace

TEST_CASE(
    "a survey stopped by SIGINT or SIGTERM exits 4 with its whole answers kept and resumes to the results of "
    "an uninterrupted run") {
  llm::fake::Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_SURVEY_INTERRUPT_KEY", "sk-interrupt", 1);
  const auto root = scratch_dir("survey-interrupt");
  const auto config = root / "persona.toml";
  write_file(config, fake_provider_toml(server.base_url(), "PERSONA_SURVEY_INTERRUPT_KEY",
                                        "max_retries = 0\nmax_concurrency = 8\n"));
  // The uninterrupted run.
  const auto clean = root / "clean";
  fs::remove_all(clean);
  fs::create_directories(clean);
  REQUIRE(run_to_end(survey_args(config, clean / "out", false), clean) == 0);
  const std::string want_answers = read_file(clean / "out" / "answers.csv");
  const std::string want_metrics = read_file(clean / "out" / "metrics.csv");
  const auto want_lines = data_lines(want_answers);
  REQUIRE(want_lines.size() == 20 * 2 * 2);
  const std::set<std::string> want_set(want_lines.begin(), want_lines.end());

  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string name = sig == SIGINT ? "sigint" : "sigterm";
    INFO(name);
    const auto dir = root / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto out = dir / "out";
    server.set_latency_ms(150);
    server.reset_counters();
    const pid_t pid = spawn_process(PERSONA_BIN, survey_args(config, out), (dir / "stdout.txt").string(),
                                    (dir / "stderr.txt").string(), true);
    // Signal once a few requests were answered (40 in all, 2 in flight, 150 ms each).
    int code = -1;
    while (server.requests() < 6) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(code == -1);  // still running
    ::kill(pid, sig);
    code = wait_exit_code(pid);
    const std::string err = read_file(dir / "stderr.txt");
    INFO(err);
    REQUIRE(code == 4);
    CHECK(err.find("stopped by a signal") != std::string::npos);
    CHECK(err.find("resume with the same command") != std::string::npos);
    CHECK_FALSE(fs::exists(out / "answers.csv"));
    CHECK_FALSE(fs::exists(out / "metrics.json"));
    CHECK(server.requests() < 40);  // nothing was sent after the signal
    // Whole answers only: both items of each persona and repeat, each the uninterrupted run's answer.
    REQUIRE(fs::exists(out / "answers.csv.part"));
    const auto part = data_lines(read_file(out / "answers.csv.part"));
    CHECK(part.size() >= 2);
    CHECK(part.size() % 2 == 0);
    CHECK(part.size() < want_lines.size());
    for (const auto& l : part) CHECK(want_set.count(l) == 1);
    CHECK(err.find(std::to_string(part.size() / 2) + " of 40 requests (persona x item group x repeat) were "
                                                     "answered whole") != std::string::npos);

    // The same command resumes: what was answered comes from the cache, the rest is sent.
    server.set_latency_ms(0);
    server.reset_counters();
    fs::remove(dir / "stderr.txt");
    REQUIRE(run_to_end(survey_args(config, out), dir) == 0);
    const std::string again = read_file(dir / "stderr.txt");
    INFO(again);
    const long sent = number_before(again, "sent");
    const long cached = number_before(again, "from the cache");
    CHECK(sent == server.requests());
    CHECK(sent + cached == 40);
    CHECK(cached >= static_cast<long>(part.size() / 2));
    CHECK(read_file(out / "answers.csv") == want_answers);
    CHECK(read_file(out / "metrics.csv") == want_metrics);
    CHECK_FALSE(fs::exists(out / "answers.csv.part"));
  }
}

TEST_CASE("a signal that arrives as persona survey starts stops it before any answer with exit 4 and nothing written") {
  const auto dir = scratch_dir("survey-interrupt-early");
  fs::remove_all(dir / "out");
  const std::vector<std::string> args = {"survey",      twenty_personas(),
                                         "--questions", kSource + "/examples/survey/questionnaire.toml",
                                         "--targets",   kSource + "/examples/survey/targets.csv",
                                         "--mode",      "random",
                                         "-o",          (dir / "out").string()};
  fs::remove(dir / "stderr.txt");
  // The child starts with the signals blocked: SIGTERM waits until the survey installs its handlers.
  const pid_t pid =
      spawn_process(PERSONA_BIN, args, (dir / "stdout.txt").string(), (dir / "stderr.txt").string(), true);
  wait_until_blocked(pid);
  ::kill(pid, SIGTERM);
  const int code = wait_exit_code(pid);
  const std::string err = read_file(dir / "stderr.txt");
  INFO(err);
  CHECK(code == 4);
  CHECK(err.find("stopped by a signal before any answer; nothing was written") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "out" / "answers.csv"));
  CHECK_FALSE(fs::exists(dir / "out" / "metrics.json"));
  // Without a signal the same command writes everything.
  CHECK(run_to_end(args, dir) == 0);
  CHECK(fs::exists(dir / "out" / "metrics.json"));
}
