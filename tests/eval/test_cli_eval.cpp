// `persona eval` and `persona report` end to end: exit codes, messages, files.
#include <nlohmann/json.hpp>

#include "eval_support.hpp"
#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace eval_test;
using persona::test::run_persona;

namespace {

const std::string kFixture = std::string(PERSONA_TESTS_DIR) + "/eval/data/v0.1.0-quickstart.jsonl";

std::string q(const std::string& s) { return "'" + s + "'"; }

// Quickstart personas made by this build from this checkout's recipe (the tests that pass --recipe
// use them, so a change to examples/quickstart.persona keeps file and targets together).
const std::string& fresh_quickstart() {
  static const std::string path = [] {
    const auto p = (temp_dir() / "fresh-quickstart.jsonl").string();
    const auto o = run_persona("run examples/quickstart.persona -n 3 -q -o " + q(p));
    REQUIRE(o.code == 0);
    return p;
  }();
  return path;
}

}  // namespace

TEST_CASE("persona eval prints one column per file and writes JSON for scripts", "[eval][cli]") {
  const auto json = (temp_dir() / "eval.json").string();
  const auto other = write_file("other.jsonl", jsonl({make_persona("x", {{"A/b", "None"}})}));
  const auto o = run_persona("eval " + q(kFixture) + " " + q(other) + " --json " + q(json));
  INFO(o.err);
  CHECK(o.code == 0);
  const auto header = o.out.substr(0, o.out.find('\n'));
  CHECK(header.find("v0.1.0-quickstart.jsonl") != std::string::npos);
  CHECK(header.find("other.jsonl") != std::string::npos);
  const auto j = nlohmann::json::parse(persona::test::read_file(json));
  REQUIRE(j["files"].size() == 2);
  CHECK(j["files"][0]["personas"] == 2);
  CHECK(j["files"][1]["metrics"]["filler"] == 1.0);
}

TEST_CASE("persona eval --recipe compares anchors with their tables and tiers with the recipe", "[eval][cli]") {
  const auto o = run_persona("eval " + q(fresh_quickstart()) + " --recipe examples/quickstart.persona --json -");
  INFO(o.err);
  CHECK(o.code == 0);
  const auto j = nlohmann::json::parse(o.out);
  const auto& m = j["files"][0]["metrics"];
  CHECK(m.contains("anchor_js.country"));
  CHECK(m.contains("anchor_js.age"));
  CHECK(m.contains("tier_distance"));
  CHECK(m["in_count_range"] == 1.0);
  CHECK(j["files"][0]["recipe"].get<std::string>().rfind("quickstart", 0) == 0);
  CHECK(j["files"][0]["category_targets"].size() == 12);
  CHECK(o.err.find("metric") != std::string::npos);  // the table went to stderr
}

TEST_CASE("persona eval --fail-on exits 5 when a threshold is crossed and 0 when it is not", "[eval][cli]") {
  auto o = run_persona("eval " + q(kFixture) + " -q --fail-on 'filler>0.0001' --fail-on 'attributes_min<100'");
  CHECK(o.code == 5);
  CHECK(o.err.find("--fail-on filler>0.0001 crossed: filler = ") != std::string::npos);
  CHECK(o.err.find("attributes_min<100") == std::string::npos);
  o = run_persona("eval -q --fail-on 'repeated_names > 0.5' " + q(kFixture));  // the file after the gate
  INFO(o.err);
  CHECK(o.code == 0);
}

TEST_CASE("persona eval --fail-on with an unknown metric is a usage error with a suggestion", "[eval][cli]") {
  auto o = run_persona("eval " + q(kFixture) + " --fail-on 'filer>0.1'");
  CHECK(o.code == 2);
  CHECK(o.err.find("unknown metric 'filer' (did you mean 'filler'?)") != std::string::npos);
  o = run_persona("eval " + q(kFixture) + " --fail-on 'filler>>x'");
  CHECK(o.code == 2);
  // A metric that was not computed cannot pass a gate silently (anchor fidelity needs --recipe).
  o = run_persona("eval " + q(kFixture) + " -q --fail-on 'anchor_js.age>0.5'");
  CHECK(o.code == 2);
  CHECK(o.err.find("was not computed") != std::string::npos);
}

TEST_CASE("persona eval counts contradictions with the coherence rules of stdlib.core", "[eval][cli]") {
  // The fixture was drawn by v0.1.0, before the coherence rules: every persona breaks some.
  const auto o = run_persona("eval " + q(kFixture) + " -q --fail-on 'contradictions>0.01'");
  CHECK(o.code == 5);
  CHECK(o.err.find("contradictions>0.01 crossed") != std::string::npos);
}

TEST_CASE("persona eval on damaged input names each bad line, evaluates the rest and exits 6", "[eval][cli]") {
  std::string text = persona::test::read_file(kFixture);
  const auto first_end = text.find('\n') + 1;
  text.insert(first_end, "{\"event\":\"progress\",\"done\":1}\n");
  text += "{\"id\":\"quickstart-000009\",\"attributes\":[{\"pa";  // torn
  const auto path = write_file("damaged.jsonl", text);
  const auto o = run_persona("eval " + q(path) + " --json -");
  CHECK(o.code == 6);
  CHECK(o.err.find(path + ":2:1: error: not a persona") != std::string::npos);
  CHECK(o.err.find(path + ":4:1: error: the last line is torn") != std::string::npos);
  CHECK(o.err.find("the other 2 personas were evaluated") != std::string::npos);
  CHECK(nlohmann::json::parse(o.out)["files"][0]["personas"] == 2);
}

TEST_CASE("persona eval on a file from another tool says no line is a persona and exits 6", "[eval][cli]") {
  const auto path = write_file("events.jsonl", "{\"level\":\"info\"}\n[1,2,3]\nhello\n");
  const auto o = run_persona("eval " + q(path));
  CHECK(o.code == 6);
  CHECK(o.err.find(path + ":1:1: error:") != std::string::npos);
  CHECK(o.err.find(path + ":3:1: error: not JSON") != std::string::npos);
  CHECK(o.err.find("no line is a persona record") != std::string::npos);
}

TEST_CASE("persona eval on a missing or empty file exits 1 naming it", "[eval][cli]") {
  auto o = run_persona("eval " + q((temp_dir() / "nope.jsonl").string()));
  CHECK(o.code == 1);
  CHECK(o.err.find("nope.jsonl") != std::string::npos);
  const auto empty = write_file("empty.jsonl", "");
  o = run_persona("eval " + q(empty));
  CHECK(o.code == 1);
  CHECK(o.err.find("no persona records") != std::string::npos);
  o = run_persona("eval " + q(kFixture) + " --recipe " + q((temp_dir() / "missing.persona").string()));
  CHECK(o.code == 1);
}

TEST_CASE("persona eval --judge-preview writes the judge's requests for a deterministic sample", "[eval][cli]") {
  const auto out = (temp_dir() / "judge.jsonl").string();
  auto o = run_persona("eval " + q(kFixture) + " -q --judge-sample 1 --judge-preview " + q(out));
  INFO(o.err);
  CHECK(o.code == 0);
  const auto text = persona::test::read_file(out);
  std::vector<nlohmann::json> lines;
  for (std::size_t a = 0, z; (z = text.find('\n', a)) != std::string::npos; a = z + 1)
    lines.push_back(nlohmann::json::parse(text.substr(a, z - a)));
  REQUIRE(lines.size() == 2);  // one rating and one recovery request
  CHECK(lines[0]["kind"] == "rating");
  CHECK(lines[1]["kind"] == "recovery");
  CHECK(lines[0]["persona"] == lines[1]["persona"]);
  CHECK(lines[0]["estimate"]["prompt_tokens"].get<int>() > 1000);
  CHECK(o.err.find("nothing was sent") != std::string::npos);
  const auto again = (temp_dir() / "judge2.jsonl").string();
  run_persona("eval " + q(kFixture) + " -q --judge-sample 1 --judge-preview " + q(again));
  CHECK(persona::test::read_file(again) == text);
  ::unsetenv("OPENAI_API_KEY");
  o = run_persona("eval " + q(kFixture) + " --llm openai --judge-sample 5");
  CHECK(o.code == 2);
  CHECK(o.err.find("OPENAI_API_KEY, which is not set") != std::string::npos);
}

TEST_CASE("persona eval --llm rates a deterministic sample through the judge and counts bad answers",
          "[eval][cli][judge]") {
  persona::llm::fake::Server server;
  REQUIRE(server.start());
  int calls = 0;
  server.set_script([&calls](const nlohmann::json& req) -> std::optional<std::string> {
    const std::string name = req["response_format"]["json_schema"]["name"].get<std::string>();
    if (name == "rating")
      return ++calls == 1 ? std::string(R"({"uniqueness": 9, "actionability": 3, "reason": "out of range"})")
                          : std::string(R"({"uniqueness": 4, "actionability": 3, "reason": "r"})");
    return std::string(R"({"attributes": [{"attribute": "country", "value": "nowhere"}]})");
  });
  const auto dir = temp_dir() / "judge-run";
  std::filesystem::create_directories(dir);
  ::setenv("PERSONA_JUDGE_KEY", "k", 1);
  persona::test::write_file(dir / "persona.toml",
                            persona::test::fake_provider_toml(server.base_url(), "PERSONA_JUDGE_KEY"));
  const auto o = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' eval " + q(kFixture) + " --llm fake --judge-sample 2 --json - -q", "",
      dir.string());
  INFO(o.err);
  REQUIRE(o.code == 0);
  CHECK(server.requests() == 4);  // a rating and a recovery call for each of the fixture's 2 personas
  const auto j = nlohmann::json::parse(o.out);
  const auto& m = j["files"][0]["metrics"];
  INFO(m.dump());
  CHECK(m["judge_sample"] == 2);
  CHECK(m["judge_failures"] == 1);  // the rating out of 1..5, named on stderr
  CHECK(m["judge_uniqueness"].get<double>() == Approx(4.0));
  CHECK(m["judge_actionability"].get<double>() == Approx(3.0));
  CHECK(o.err.find("judge:") != std::string::npos);
}

TEST_CASE("persona report writes one HTML page with the manifest beside the file", "[eval][cli][report]") {
  const auto html = (temp_dir() / "report.html").string();
  auto o = run_persona("report " + q(fresh_quickstart()) + " --recipe examples/quickstart.persona -o " + q(html));
  INFO(o.err);
  CHECK(o.code == 0);
  const auto page = persona::test::read_file(html);
  CHECK(page.find("<h2 id=\"manifest\">Manifest</h2>") != std::string::npos);
  CHECK(page.find("<td class=\"l\">recipe hash</td>") != std::string::npos);
  CHECK(page.find("<td class=\"l\">backend</td><td class=\"l\">offline</td>") != std::string::npos);
  CHECK(page.find("country — Jensen-Shannon") != std::string::npos);
  o = run_persona("report " + q(kFixture));
  CHECK(o.code == 2);  // -o is required
}

TEST_CASE("persona eval --recipe warns when the file's manifest names another recipe text", "[eval][cli]") {
  auto o = run_persona("eval -q " + q(fresh_quickstart()) + " --recipe examples/quickstart.persona");
  CHECK(o.code == 0);
  CHECK(o.err.find("warning") == std::string::npos);  // made from this very recipe
  const auto copy = write_file("other-recipe.jsonl", persona::test::read_file(fresh_quickstart()));
  auto manifest = nlohmann::json::parse(persona::test::read_file(fresh_quickstart() + ".manifest.json"));
  manifest["recipe"]["text_hash"] = "0123456789abcdef";
  write_file("other-recipe.jsonl.manifest.json", manifest.dump());
  o = run_persona("eval -q " + q(copy) + " --recipe examples/quickstart.persona");
  CHECK(o.code == 0);
  CHECK(o.err.find("warning: " + copy + " was made from recipe text 0123456789abcdef") != std::string::npos);
}

TEST_CASE("persona eval gives a CSV pair written by persona run the figures of the same run's JSONL",
          "[eval][cli][csv]") {
  const auto dir = temp_dir();
  const auto jsonl_path = (dir / "same.jsonl").string(), csv_base = (dir / "same").string();
  REQUIRE(run_persona("run examples/quickstart.persona -n 4 -q -o " + q(jsonl_path)).code == 0);
  const auto made = run_persona("run examples/quickstart.persona -n 4 -q --format csv -o " + q(csv_base));
  INFO(made.err);
  REQUIRE(made.code == 0);
  const auto a = run_persona("eval -q --json - " + q(jsonl_path));
  const auto b = run_persona("eval -q --json - " + q(csv_base + ".personas.csv"));
  INFO(b.err);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  const auto ma = nlohmann::json::parse(a.out)["files"][0]["metrics"];
  const auto mb = nlohmann::json::parse(b.out)["files"][0]["metrics"];
  CHECK(mb["personas"] == 4);
  for (const auto& [k, v] : ma.items()) {
    INFO(k);
    CHECK(mb[k].get<double>() == Approx(v.get<double>()));
  }
}
