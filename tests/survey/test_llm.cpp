// `persona survey` in the LLM modes against the loopback OpenAI server: every persona x item x repeat
// is asked and answered with a valid code; the response cache makes a rerun send nothing and a
// resumed run equal an uninterrupted one; an answer outside the codes is re-asked once, then
// recorded invalid; the dry-run estimate is close to the measured prompt tokens; a missing key and
// a rejected key stop the run in the user's terms.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;

namespace {

// Twenty personas of the example recipe, generated offline once per test program.
std::string twenty_personas() {
  static const std::string path = [] {
    const auto file = scratch_dir("survey-llm") / "uk-adults-20.jsonl";
    const auto o = run_persona("run examples/survey/uk-adults.persona --count 20 --out '" + file.string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
    return file.string();
  }();
  return path;
}

// A persona.toml naming the loopback server as provider `fake`.
fs::path config_for(const std::string& name, const llm::fake::Server& server,
                    const std::string& key_env = "PERSONA_SURVEY_KEY") {
  ::setenv("PERSONA_SURVEY_KEY", "sk-survey-secret", 1);
  const auto dir = scratch_dir(name);
  fs::remove_all(dir / "out");
  write_file(dir / "persona.toml",
             fake_provider_toml(server.base_url(), key_env, "max_retries = 0\nmax_concurrency = 8\n"));
  return dir;
}

const std::string kQuestions = " --questions examples/survey/questionnaire.toml";

Outcome survey(const std::string& personas, const fs::path& dir, const std::string& args) {
  return run_persona("survey '" + personas + "'" + kQuestions + " --config '" + (dir / "persona.toml").string() + "' " +
                     args);
}

std::vector<std::vector<std::string>> rows(const std::string& csv) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::string cell;
    std::istringstream l(line);
    while (std::getline(l, cell, ',')) f.push_back(cell);
    if (!line.empty() && line.back() == ',') f.push_back("");
    out.push_back(f);
  }
  return out;
}

long number_before(const std::string& text, const std::string& what) {
  const std::regex re("([0-9]+) " + what);
  std::smatch m;
  if (!std::regex_search(text, m, re)) return -1;
  return std::stol(m[1].str());
}

}  // namespace

TEST_CASE("the deep, demographics and cultural modes answer every persona, item and repeat with a valid code") {
  llm::fake::Server server;
  REQUIRE(server.start());
  for (const std::string mode : {"deep", "demographics", "cultural"}) {
    const auto dir = config_for("survey-llm-" + mode, server);
    server.reset_counters();
    const auto o = survey(twenty_personas(), dir,
                          "--mode " + mode + " --repeats 2 --targets examples/survey/targets.csv --bootstrap 20 -o '" +
                              (dir / "out").string() + "'");
    INFO(mode << "\n" << o.err);
    REQUIRE(o.code == 0);
    // Both items are one block: one call per persona and repeat.
    CHECK(server.requests() == 20 * 2);
    const std::string csv = read_file(dir / "out" / "answers.csv");
    CHECK(csv.rfind("persona,item,repeat,code,mode,status\n", 0) == 0);
    const auto r = rows(csv);
    REQUIRE(r.size() == 20 * 2 * 2);
    std::set<std::string> seen;
    for (std::size_t k = 0; k < r.size(); ++k) {
      REQUIRE(r[k].size() == 6);
      CHECK(std::set<std::string>{"1", "2", "3", "4"}.count(r[k][3]) == 1);
      CHECK(r[k][4] == mode);
      CHECK(r[k][5] == "ok");
      seen.insert(r[k][0] + "/" + r[k][1] + "/" + r[k][2]);
      // Ordered by persona, item, repeat.
      if (k > 0 && r[k][0] == r[k - 1][0] && r[k][1] == r[k - 1][1]) CHECK(r[k][2] > r[k - 1][2]);
    }
    CHECK(seen.size() == r.size());
    CHECK(r[0][0] == "uk-adults-000000");
    CHECK(r[0][1] == "ghq_happy");
    CHECK(r[2][1] == "ghq_concentrate");
    // The metrics as in random mode, with what the calls cost.
    CHECK(o.out.find("ghq_happy        United Kingdom  20") != std::string::npos);
    const auto j = nlohmann::json::parse(read_file(dir / "out" / "metrics.json"));
    CHECK(j["llm"]["calls"] == 40);
    CHECK(j["llm"]["sent"] == 40);
    CHECK(j["llm"]["answered"] == 80);
    CHECK(j["llm"]["invalid"] == 0);
    CHECK(j["llm"]["prompt_tokens"].get<long>() > 0);
    CHECK(o.err.find("prompt tokens") != std::string::npos);
    CHECK(o.err.find("per answered item") != std::string::npos);
    CHECK(fs::exists(dir / "out" / "cache.sqlite"));
  }
}

TEST_CASE("a rerun with the same cache sends nothing and writes a byte-identical answers file") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = config_for("survey-llm-rerun", server);
  const std::string args = "--mode deep --repeats 2 -o '" + (dir / "out").string() + "'";
  const auto first = survey(twenty_personas(), dir, args);
  INFO(first.err);
  REQUIRE(first.code == 0);
  CHECK(server.requests() == 40);
  const std::string answers = read_file(dir / "out" / "answers.csv");
  server.reset_counters();
  const auto again = survey(twenty_personas(), dir, args);
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK(server.requests() == 0);
  CHECK(read_file(dir / "out" / "answers.csv") == answers);
  CHECK(again.err.find("40 calls (0 sent, 40 from the cache") != std::string::npos);
  // --no-cache sends everything again (and the loopback server answers the same).
  server.reset_counters();
  const auto fresh = survey(twenty_personas(), dir, args + " --no-cache");
  REQUIRE(fresh.code == 0);
  CHECK(server.requests() == 40);
  CHECK(read_file(dir / "out" / "answers.csv") == answers);
}

TEST_CASE("a run whose requests failed is resumed by the same command, which sends only those") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = config_for("survey-llm-resume", server);
  const std::string args = "--mode deep --repeats 2 --concurrency 2 -o '" + (dir / "out").string() + "'";
  server.push_faults({llm::fake::Fault::server_error, llm::fake::Fault::server_error, llm::fake::Fault::server_error});
  const auto broken = survey(twenty_personas(), dir, args);
  INFO(broken.err);
  CHECK(broken.code == 3);
  CHECK(broken.err.find("3 requests to provider 'fake' failed") != std::string::npos);
  CHECK(rows(read_file(dir / "out" / "answers.csv")).size() == 80);
  server.reset_counters();
  const auto resumed = survey(twenty_personas(), dir, args);
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(server.requests() == 3);
  const std::string answers = read_file(dir / "out" / "answers.csv");
  // The same answers as an uninterrupted run.
  const auto clean =
      survey(twenty_personas(), dir, "--mode deep --repeats 2 --no-cache -o '" + (dir / "clean").string() + "'");
  REQUIRE(clean.code == 0);
  CHECK(read_file(dir / "clean" / "answers.csv") == answers);
}

TEST_CASE("a run killed midway is resumed by the same command and gives the answers of an uninterrupted run") {
  llm::fake::Server server;
  REQUIRE(server.start());
  server.set_latency_ms(100);
  const auto dir = config_for("survey-llm-kill", server);
  const std::string args = "--mode deep --repeats 2 --concurrency 2 -o '" + (dir / "out").string() + "'";
  const auto killed = run_command("timeout -s KILL 1 '" + std::string(PERSONA_BIN) + "' survey '" + twenty_personas() +
                                  "'" + kQuestions + " --config '" + (dir / "persona.toml").string() + "' " + args);
  CHECK(killed.code != 0);
  CHECK_FALSE(fs::exists(dir / "out" / "answers.csv"));
  server.set_latency_ms(0);
  server.reset_counters();
  const auto resumed = survey(twenty_personas(), dir, args);
  INFO(resumed.err);
  REQUIRE(resumed.code == 0);
  // What the killed run got answered comes from the cache; only the rest is sent.
  const auto j = rows(read_file(dir / "out" / "answers.csv"));
  CHECK(j.size() == 80);
  const long sent = number_before(resumed.err, "sent");
  const long cached = number_before(resumed.err, "from the cache");
  CHECK(sent == server.requests());
  CHECK(sent + cached == 40);
  const auto clean =
      survey(twenty_personas(), dir, "--mode deep --repeats 2 --no-cache -o '" + (dir / "clean").string() + "'");
  REQUIRE(clean.code == 0);
  CHECK(read_file(dir / "clean" / "answers.csv") == read_file(dir / "out" / "answers.csv"));
}

TEST_CASE("an answer outside the codes is re-asked once, then recorded invalid and counted") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = config_for("survey-llm-invalid", server);
  const auto one = dir / "one.jsonl";
  write_file(one, read_lines(twenty_personas()).at(0) + "\n");
  const std::string args = "--mode deep --no-cache -o '" + (dir / "out").string() + "'";

  // Still outside the codes after the re-ask: invalid.
  server.push_contents({R"({"ghq_happy": 9, "ghq_concentrate": 2})", R"({"ghq_happy": 7})"});
  const auto o = survey(one.string(), dir, args);
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(server.requests() == 2);
  const auto bodies = server.bodies();
  REQUIRE(bodies.size() == 2);
  const std::string reask = bodies[1].dump();
  CHECK(reask.find("ghq_happy") != std::string::npos);
  CHECK(reask.find("ghq_concentrate") == std::string::npos);  // only the invalid item is asked again
  const auto r = rows(read_file(dir / "out" / "answers.csv"));
  REQUIRE(r.size() == 2);
  CHECK(r[0][1] == "ghq_happy");
  CHECK(r[0][3].empty());
  CHECK(r[0][5] == "invalid");
  CHECK(r[1][3] == "2");
  CHECK(r[1][5] == "ok");
  CHECK(o.err.find("1 re-asks") != std::string::npos);
  CHECK(o.err.find("1 items answered, 1 invalid") != std::string::npos);
  CHECK(o.err.find("7 is not one of the codes") != std::string::npos);

  // A valid code on the re-ask is kept.
  server.reset_counters();
  server.push_contents({R"({"ghq_happy": 9, "ghq_concentrate": 2})", R"({"ghq_happy": 3})"});
  const auto fixed = survey(one.string(), dir, args);
  INFO(fixed.err);
  REQUIRE(fixed.code == 0);
  CHECK(server.requests() == 2);
  const auto r2 = rows(read_file(dir / "out" / "answers.csv"));
  REQUIRE(r2.size() == 2);
  CHECK(r2[0][3] == "3");
  CHECK(r2[0][5] == "ok");
  CHECK(fixed.err.find("2 items answered, 0 invalid") != std::string::npos);
}

TEST_CASE("the dry-run estimate is within 15 percent of the prompt tokens measured") {
  llm::fake::Server server;
  REQUIRE(server.start());
  for (const std::string mode : {"deep", "cultural"}) {
    const auto dir = config_for("survey-llm-estimate-" + mode, server);
    const auto dry = survey(twenty_personas(), dir, "--mode " + mode + " --repeats 2 --dry-run");
    INFO(dry.out << dry.err);
    REQUIRE(dry.code == 0);
    server.reset_counters();
    const auto o = survey(twenty_personas(), dir,
                          "--mode " + mode + " --repeats 2 --no-cache -o '" + (dir / "out").string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
    CHECK(server.requests() == 40);
    const long estimated = number_before(dry.out, "prompt tokens");
    const long measured = number_before(o.err, "prompt tokens");
    INFO(mode << ": estimated " << estimated << ", measured " << measured);
    REQUIRE(estimated > 0);
    REQUIRE(measured > 0);
    CHECK(std::abs(static_cast<double>(estimated - measured)) <= 0.15 * static_cast<double>(measured));
  }
}

TEST_CASE("a missing API key stops the LLM modes before any request") {
  llm::fake::Server server;
  REQUIRE(server.start());
  ::unsetenv("PERSONA_SURVEY_NO_SUCH_KEY");
  const auto dir = config_for("survey-llm-nokey", server, "PERSONA_SURVEY_NO_SUCH_KEY");
  const auto o = survey(twenty_personas(), dir, "--mode deep -o '" + (dir / "out").string() + "'");
  CHECK(o.code == 2);
  CHECK(o.err.find("PERSONA_SURVEY_NO_SUCH_KEY") != std::string::npos);
  CHECK(server.requests() == 0);
  CHECK_FALSE(fs::exists(dir / "out" / "answers.csv"));
}

TEST_CASE("a rejected key stops the run with exit 3 naming the provider") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = config_for("survey-llm-401", server);
  server.push_faults({llm::fake::Fault::unauthorized});
  const auto o = survey(twenty_personas(), dir, "--mode deep --concurrency 1 -o '" + (dir / "out").string() + "'");
  INFO(o.err);
  CHECK(o.code == 3);
  CHECK(o.err.find("provider 'fake'") != std::string::npos);
  CHECK(o.err.find("PERSONA_SURVEY_KEY") != std::string::npos);
  CHECK(o.err.find("sk-survey-secret") == std::string::npos);  // the key itself is never said
  CHECK(server.requests() < 20);
  CHECK_FALSE(fs::exists(dir / "out" / "answers.csv"));
}

// The issue's scale, end to end on loopback: 200 personas x 10 items x 3 repeats x 3 modes, every
// answer a valid code, the dry run within 15% of the measured prompt tokens, and the tokens per
// answered item printed for each mode.
TEST_CASE("200 personas answer 10 items 3 times in each of the 3 LLM modes, as the dry run estimated") {
  const auto dir0 = scratch_dir("survey-llm-scale");
  const auto personas = dir0 / "uk-adults-200.jsonl";
  {
    const auto o = run_persona("run examples/survey/uk-adults.persona --count 200 --out '" + personas.string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
  }
  // Ten items in this project's own words: two blocks of ordinal scales and an unordered one.
  std::string q =
      "[survey]\nid = \"scale-test\"\ntitle = \"Ten items\"\ngroup_by = [\"country\"]\nitems_per_call = 8\n"
      "missing = { -1 = \"don't know\" }\n";
  const char* texts[] = {"How satisfied are you with your life as a whole these days?",
                         "How much do you trust most people you meet for the first time?",
                         "How important is religion in your daily life?",
                         "How often do you talk with your neighbours?",
                         "How interested are you in politics?",
                         "How safe do you feel walking alone in your area after dark?",
                         "How often do you do unpaid voluntary work?",
                         "How proud are you of your country?",
                         "How worried are you about losing your income in the next year?"};
  for (int k = 0; k < 9; ++k)
    q += "\n[[item]]\nid = \"q" + std::to_string(k + 1) + "\"\nblock = \"b" + std::to_string(k / 5) + "\"\ntext = \"" +
         texts[k] +
         "\"\nform = \"scale\"\nlabels = { 1 = \"not at all\", 2 = \"a little\", 3 = \"somewhat\", 4 = \"very\" }\n";
  q += "\n[[item]]\nid = \"q10\"\ntext = \"Which of these do you most often use to follow the news?\"\nform = "
       "\"options\"\noptions = { 1 = \"television\", 2 = \"radio\", 3 = \"newspapers\", 4 = \"websites or apps\", 5 = "
       "\"social media\" }\n";
  write_file(dir0 / "ten.toml", q);
  llm::fake::Server server;
  REQUIRE(server.start());
  for (const std::string mode : {"deep", "demographics", "cultural"}) {
    const auto dir = config_for("survey-llm-scale-" + mode, server);
    const std::string base = "survey '" + personas.string() + "' --questions '" + (dir0 / "ten.toml").string() +
                             "' --config '" + (dir / "persona.toml").string() + "' --mode " + mode + " --repeats 3";
    const auto dry = run_persona(base + " --dry-run");
    INFO(dry.out << dry.err);
    REQUIRE(dry.code == 0);
    server.reset_counters();
    const auto o = run_persona(base + " -o '" + (dir / "out").string() + "'");
    INFO(mode << "\n" << o.err);
    REQUIRE(o.code == 0);
    const auto r = rows(read_file(dir / "out" / "answers.csv"));
    REQUIRE(r.size() == 200 * 10 * 3);
    std::size_t valid = 0;
    for (const auto& row : r) {
      const bool is_q10 = row[1] == "q10";
      if (row[5] == "ok" && !row[3].empty() && row[3][0] >= '1' && row[3][0] <= (is_q10 ? '5' : '4')) ++valid;
    }
    CHECK(valid == r.size());
    const long estimated = number_before(dry.out, "prompt tokens");
    const long measured = number_before(o.err, "prompt tokens");
    REQUIRE(estimated > 0);
    REQUIRE(measured > 0);
    CHECK(std::abs(static_cast<double>(estimated - measured)) <= 0.15 * static_cast<double>(measured));
    std::cout << "survey " << mode << ": 200 personas x 10 items x 3 repeats, " << server.requests()
              << " requests, prompt tokens measured " << measured << " (dry run " << estimated << "), "
              << static_cast<double>(measured) / static_cast<double>(r.size()) << " per answered item\n";
  }
}
