// SIGINT / SIGTERM at random moments (seeded) on offline and LLM runs of the built binary: every
// trial ends with exit 0 (the run finished first) or 4 (stopped), the `.part` of a stopped run holds
// exactly the first personas of the clean run, in index order, and `--resume` finishes a file equal
// byte for byte to the clean run's. The hidden case [.interrupt-trials] runs 100 trials of each and
// prints how many resumed byte-identical (a figure, not an assertion).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";
constexpr const char* kKeyVar = "PERSONA_TEST_INTERRUPT_KEY";

struct Trials {
  int trials = 0, stopped = 0, finished = 0, identical = 0;
  std::vector<std::string> failures;  // one line per trial that went wrong, with why
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto nl = text.find('\n', at);
    out.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  return out;
}

// The lines of `part` are a prefix of `want`'s lines (whole lines only, no torn tail).
std::string prefix_problem(const std::string& part, const std::string& want) {
  if (!part.empty() && part.back() != '\n') return "the .part ends in a torn line";
  if (part.size() > want.size() || want.compare(0, part.size(), part) != 0) {
    const auto got = lines(part), all = lines(want);
    for (std::size_t i = 0; i < got.size(); ++i)
      if (i >= all.size() || got[i] != all[i])
        return "line " + std::to_string(i + 1) + " of the .part is not the clean run's line " + std::to_string(i + 1) +
               " (" + got[i].substr(0, 40) + "...)";
    return "the .part is not a prefix of the clean run";
  }
  return {};
}

// Runs `base` (without --out) to a reference file, then `n` trials: start, wait a seeded random
// delay below max_delay_ms (from the moment the output is open; a fifth of it from the start for
// every fourth trial), send SIGINT or SIGTERM, wait; resume when stopped; compare.
Trials run_trials(const std::string& name, const std::vector<std::string>& base, int n, int max_delay_ms,
                  std::uint64_t seed, bool llm) {
  Trials t;
  const auto root = test::scratch_dir("interrupts-" + name);
  auto args_for = [&](const fs::path& dir, const std::string& out, bool resume) {
    std::vector<std::string> a = base;
    a.insert(a.end(), {"--out", out, "--quiet"});
    if (llm) a.insert(a.end(), {"--cache", (dir / "cache.sqlite").string()});
    if (resume) a.emplace_back("--resume");
    return a;
  };
  auto run = [&](const fs::path& dir, const std::vector<std::string>& a, bool block) {
    return test::spawn_process(PERSONA_BIN, a, (dir / "stdout.txt").string(), (dir / "stderr.txt").string(), block);
  };
  const auto refdir = root / "reference";
  fs::create_directories(refdir);
  const std::string ref = (refdir / "out.jsonl").string();
  REQUIRE(test::wait_exit_code(run(refdir, args_for(refdir, ref, false), false)) == 0);
  const std::string want = test::read_file(ref);
  REQUIRE(!want.empty());

  std::mt19937_64 rng(seed);
  for (int i = 0; i < n; ++i) {
    ++t.trials;
    const auto dir = root / ("trial-" + std::to_string(i));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string out = (dir / "out.jsonl").string();
    const int delay_us = static_cast<int>(rng() % (static_cast<std::uint64_t>(max_delay_ms) * 1000 + 1));
    const int sig = rng() % 2 == 0 ? SIGINT : SIGTERM;
    const std::string what = "trial " + std::to_string(i) + " (" + (sig == SIGINT ? "SIGINT" : "SIGTERM") + " after " +
                             std::to_string(delay_us / 1000) + " ms): ";
    const pid_t pid = run(dir, args_for(dir, out, false), true);
    // One trial in four signals while the program starts and loads the recipe; the others once the
    // run has opened its output, a random moment into the writing.
    const bool early = i % 4 == 0;
    int code = -1;
    if (!early) {
      int status = 0;
      while (!fs::exists(out + ".part"))
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          break;
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
    if (code < 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(early ? delay_us / 5 : delay_us));
      ::kill(pid, sig);
      code = test::wait_exit_code(pid);
    }
    if (code == 4) {
      ++t.stopped;
      if (!fs::exists(out + ".part")) {
        t.failures.push_back(what + "exit 4 without " + out + ".part");
        continue;
      }
      if (const std::string why = prefix_problem(test::read_file(out + ".part"), want); !why.empty()) {
        t.failures.push_back(what + why);
        continue;
      }
      const int again = test::wait_exit_code(run(dir, args_for(dir, out, true), false));
      if (again != 0) {
        t.failures.push_back(what + "--resume exited " + std::to_string(again) + ": " +
                             test::read_file(dir / "stderr.txt"));
        continue;
      }
    } else if (code == 0) {
      ++t.finished;
    } else {
      t.failures.push_back(what + "exit " + std::to_string(code) +
                           " (0 or 4 expected): " + test::read_file(dir / "stderr.txt"));
      continue;
    }
    if (test::read_file(out) != want) {
      t.failures.push_back(what + "the finished file differs from the clean run");
      continue;
    }
    if (!fs::exists(out + ".manifest.json") || fs::exists(out + ".part") || fs::exists(out + ".lock")) {
      t.failures.push_back(what + "a manifest is missing or a .part / .lock was left behind");
      continue;
    }
    ++t.identical;
    fs::remove_all(dir);
  }
  return t;
}

std::vector<std::string> offline_args() {
  return {"run", kQuickstart, "--count", "800", "--llm", "offline", "--threads", "2"};
}

struct FakeLlm {
  llm::fake::Server server;
  std::string config;
  explicit FakeLlm(const std::string& name) : server(make_config()) {
    ::setenv(kKeyVar, "sk-test-interrupts", 1);
    REQUIRE(server.start());
    const auto dir = test::scratch_dir("interrupts-" + name);
    config = (dir / "persona.toml").string();
    test::write_file(config, test::fake_provider_toml(server.base_url(), kKeyVar, "max_concurrency = 4\n"));
  }
  static llm::fake::Config make_config() {
    llm::fake::Config c;
    c.latency_ms = 10;
    return c;
  }
  std::vector<std::string> args() const {
    return {"run", kQuickstart, "--count", "8", "--llm", "fake", "--config", config, "--concurrency", "4"};
  }
};

void report(const std::string& name, const Trials& t) {
  std::cout << name << ": " << t.identical << " of " << t.trials << " trials resumed byte-identical (" << t.stopped
            << " stopped with exit 4, " << t.finished << " finished first)\n";
  for (const auto& f : t.failures) std::cout << "  " << f << "\n";
}

}  // namespace

TEST_CASE("offline runs stopped by SIGINT or SIGTERM at random moments exit 4 and resume byte-identical",
          "[interrupt]") {
  const Trials t = run_trials("offline", offline_args(), 12, 700, 20261202, false);
  report("offline", t);
  for (const auto& f : t.failures) FAIL_CHECK(f);
  CHECK(t.identical == t.trials);
  CHECK(t.stopped >= 3);  // most moments fall inside the run
}

TEST_CASE("LLM runs stopped by SIGINT or SIGTERM at random moments exit 4 and resume byte-identical", "[interrupt]") {
  FakeLlm fake("llm");
  const Trials t = run_trials("llm", fake.args(), 10, 1500, 7, true);
  report("llm", t);
  for (const auto& f : t.failures) FAIL_CHECK(f);
  CHECK(t.identical == t.trials);
  CHECK(t.stopped >= 3);
}

// persona-tests-exec "[.interrupt-trials]": 100 trials offline and 100 with the loopback LLM.
TEST_CASE("interrupt trials at scale print how many resumed byte-identical", "[.interrupt-trials]") {
  const char* env = std::getenv("PERSONA_INTERRUPT_TRIALS");
  const int n = env != nullptr ? std::atoi(env) : 100;
  const Trials off = run_trials("bench-offline", offline_args(), n, 700, 1, false);
  report("offline", off);
  FakeLlm fake("bench-llm");
  const Trials on = run_trials("bench-llm", fake.args(), n, 1500, 2, true);
  report("llm", on);
  CHECK(off.trials == n);
}
