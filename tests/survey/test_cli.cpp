// `persona survey` end to end: the example runs offline with --mode random and prints the metrics
// table; bad input is an error with its position; the LLM modes give a dry-run estimate (and run
// against the loopback server in test_llm.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace persona::test;
namespace fs = std::filesystem;
using Catch::Detail::Approx;

namespace {

// Personas of the example recipe, generated once per test program.
std::string example_personas() {
  static const std::string path = [] {
    const auto file = scratch_dir("survey") / "uk-adults.jsonl";
    const auto o = run_persona("run examples/survey/uk-adults.persona --count 120 --out '" + file.string() + "'");
    INFO(o.err);
    REQUIRE(o.code == 0);
    return file.string();
  }();
  return path;
}

const std::string kExample = " --questions examples/survey/questionnaire.toml --targets examples/survey/targets.csv";

}  // namespace

TEST_CASE("the survey example runs offline in random mode and prints the metrics table") {
  const auto out = scratch_dir("survey") / "survey-example";
  const auto o = run_persona("survey '" + example_personas() + "'" + kExample + " --mode random --seed 7 -o '" +
                             out.string() + "'");
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.err.find("warning") == std::string::npos);
  CHECK(o.out.find("ghq_happy        United Kingdom  120") != std::string::npos);
  CHECK(o.out.find("ghq_concentrate  United Kingdom  120") != std::string::npos);
  CHECK(o.out.find("average          all") != std::string::npos);
  CHECK(o.out.find("noise floor") != std::string::npos);
  const std::string answers = read_file(out / "answers.csv");
  CHECK(answers.rfind("persona,item,repeat,code,mode,status\nuk-adults-000000,ghq_happy,0,", 0) == 0);
  CHECK(std::count(answers.begin(), answers.end(), '\n') == 1 + 120 * 2);
  const auto j = nlohmann::json::parse(read_file(out / "metrics.json"));
  REQUIRE(j["cells"].size() == 2);
  CHECK(j["cells"][0]["target_n"] == 33572);  // 36,055 minus proxy, not applicable and missing by error
  CHECK(j["cells"][0]["missing_target"].get<double>() == Approx(108.0 / 33572).epsilon(1e-4));
  // Uniform random answers are far from the published distribution, as far as the uniform baseline.
  const auto& ks = j["averages"][0]["metrics"]["ks"];
  CHECK(ks["value"].get<double>() > 5 * ks["floor"].get<double>());
  CHECK(ks["value"].get<double>() == Approx(ks["uniform"].get<double>()).margin(0.1));
  // The same command gives the same files.
  const auto out2 = scratch_dir("survey") / "survey-example-2";
  const auto o2 = run_persona("survey '" + example_personas() + "'" + kExample + " --mode random --seed 7 -o '" +
                              out2.string() + "' --quiet");
  REQUIRE(o2.code == 0);
  CHECK(o2.out == o.out);
  CHECK(read_file(out2 / "answers.csv") == answers);
  CHECK(read_file(out2 / "metrics.csv") == read_file(out / "metrics.csv"));
}

TEST_CASE("metrics can be recomputed from an answers file, with the reference conventions") {
  const auto out = scratch_dir("survey") / "survey-answers";
  REQUIRE(run_persona("survey '" + example_personas() + "'" + kExample + " --repeats 3 -o '" + out.string() + "' -q")
              .code == 0);
  const auto again = scratch_dir("survey") / "survey-answers-ref";
  const auto o =
      run_persona("survey '" + example_personas() + "'" + kExample + " --answers '" + (out / "answers.csv").string() +
                  "' --reference --bootstrap 0 -o '" + again.string() + "'");
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("W1 (raw)") != std::string::npos);
  CHECK(o.out.find("JS dist (ln, 19 bins)") != std::string::npos);
  CHECK(o.out.find("[") == std::string::npos);  // no intervals without bootstrap
  CHECK_FALSE(fs::exists(again / "answers.csv"));
  const auto j = nlohmann::json::parse(read_file(again / "metrics.json"));
  CHECK(j["conventions"]["name"] == "reference");
}

TEST_CASE("a bad questionnaire or target file is a user error with file, line and column") {
  const auto dir = scratch_dir("survey");
  std::ofstream(dir / "bad.toml") << "[[item]]\nid = \"x\"\ntext = \"t\"\nform = \"slider\"\n";
  auto o = run_persona("survey '" + example_personas() + "' --questions '" + (dir / "bad.toml").string() + "' -o '" +
                       (dir / "bad-out").string() + "'");
  CHECK(o.code == 1);
  CHECK(o.err.find("bad.toml:4:") != std::string::npos);
  CHECK(o.err.find("error: unknown form `slider`") != std::string::npos);
  std::ofstream(dir / "bad.csv") << "item,group,code,share\nghq_happy,United Kingdom,9,0.5\n";
  o = run_persona("survey '" + example_personas() + "' --questions examples/survey/questionnaire.toml --targets '" +
                  (dir / "bad.csv").string() + "' -o '" + (dir / "bad-out").string() + "'");
  CHECK(o.code == 1);
  CHECK(o.err.find("bad.csv:2:") != std::string::npos);
  CHECK(o.err.find("code 9 is not an answer of item `ghq_happy`") != std::string::npos);
  std::ofstream(dir / "bad.jsonl") << "{\"id\":\"a\"}\nnot json\n{\"id\":\"b\"}\n";
  o = run_persona("survey '" + (dir / "bad.jsonl").string() + "'" + kExample + " -o '" + (dir / "bad-out").string() +
                  "'");
  CHECK(o.code == 1);
  CHECK(o.err.find("bad.jsonl:2:1: error: line 2 is not valid JSON") != std::string::npos);
}

TEST_CASE("the LLM modes estimate calls and tokens with --dry-run and need the provider's key to run") {
  const auto o =
      run_persona("survey '" + example_personas() + "'" + kExample + " --mode deep --repeats 3 --dry-run --llm openai");
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("mode deep: 360 calls (120 personas x 1 item groups x 3 repeats)") != std::string::npos);
  const auto c = run_persona("survey '" + example_personas() + "'" + kExample +
                             " --mode cultural --repeats 3 --dry-run --llm openai");
  REQUIRE(c.code == 0);
  CHECK(c.out.find("mode cultural: 360 calls") != std::string::npos);
  // Without the key nothing is sent: a usage error naming the variable.
  const auto r =
      run_command("env -u OPENAI_API_KEY '" + std::string(PERSONA_BIN) + "' survey '" + example_personas() + "'" +
                  kExample + " --mode deep --llm openai -o '" + (scratch_dir("survey") / "deep").string() + "'");
  CHECK(r.code == 2);
  CHECK(r.err.find("OPENAI_API_KEY") != std::string::npos);
}
