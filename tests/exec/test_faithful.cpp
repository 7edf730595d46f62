// Faithful LLM filling, checked on what the server received: every call after the first shows the
// answers that came before it, the narrative shows all of them, each call's profile is a prefix of
// the next call's, and a careless model's lists, texts and filler never pass as filled values.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using persona::llm::fake::Server;

namespace {

fs::path setup(const std::string& name, const Server& server, const std::string& output_block) {
  const auto dir = persona::test::scratch_dir(name);
  std::string recipe = persona::test::read_file(fs::path(PERSONA_SOURCE_DIR) / "examples" / "quickstart.persona");
  recipe += output_block;
  persona::test::write_file(dir / "q.persona", recipe);
  ::setenv("PERSONA_FAITHFUL_KEY", "k", 1);
  persona::test::write_file(
      dir / "persona.toml",
      persona::test::fake_provider_toml(server.base_url(), "PERSONA_FAITHFUL_KEY", "max_concurrency = 8\n"));
  return dir;
}

std::string leaf_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// The profile part of a call's user text: everything before the blank line that starts the task.
std::string profile_of(const std::string& user) {
  const auto cut = user.find("\n\n");
  return cut == std::string::npos ? user : user.substr(0, cut + 1);
}

bool filler(const std::string& v) {
  std::string low;
  for (char c : v.substr(0, 24)) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : {"no ", "none", "n/a", "not applicable", "nothing", "does not ", "not currently "})
    if (low.rfind(w, 0) == 0) return true;
  return low == "no";
}

}  // namespace

TEST_CASE("every call after the first sees at least 95% of the earlier answers, the narrative all of them") {
  Server server;
  REQUIRE(server.start());
  const auto dir = setup("faithful-sees", server, "output {\n  prompts on\n}\n");
  const auto r = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run q.persona -n 3 -o out.jsonl --llm fake --no-cache -q", "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = persona::test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) {
    const auto j = json::parse(line);
    // "Leaf = value" for every attribute that got an answer, as the profile writes it.
    std::vector<std::string> shown_as;
    for (const auto& a : j["attributes"])
      shown_as.push_back(leaf_of(a["path"].get<std::string>()) + " = " +
                         (a["status"] == "filled" ? a["value"].get<std::string>() : std::string("n/a")) + "\n");
    REQUIRE(shown_as.size() >= 200);
    const auto& calls = j["prompts"];
    REQUIRE(calls.size() >= 4);
    CHECK(calls.size() <= 10);
    std::size_t fills_after_first = 0;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      const std::string user = calls[k]["user"].get<std::string>();
      const std::string step = calls[k]["step"].get<std::string>();
      std::size_t visible = 0;
      for (const auto& s : shown_as) visible += user.find(s) != std::string::npos ? 1 : 0;
      const auto before = calls[k]["answers_before"].get<std::size_t>();
      INFO("persona " << j["id"] << ", call " << k << " (" << step << "): " << visible << " answers visible, " << before
                      << " came before");
      if (step == "narrative") {
        CHECK(visible == shown_as.size());
      } else if (before > 0) {
        ++fills_after_first;
        CHECK(static_cast<double>(visible) >= 0.95 * static_cast<double>(before));
      }
      // Append-only: the next call starts with this call's profile, so a prefix cache serves it.
      if (k + 1 < calls.size()) {
        const std::string next = calls[k + 1]["user"].get<std::string>();
        CHECK(next.rfind(profile_of(user), 0) == 0);
      }
    }
    CHECK(fills_after_first >= 2);
  }
}

TEST_CASE(
    "against a careless model, lists and texts end within their bounds or with a problem, and no filler is "
    "stored as a value") {
  persona::llm::fake::Config cfg;
  cfg.careless = true;
  Server server(cfg);
  REQUIRE(server.start());
  const auto dir = setup("faithful-careless", server, "");
  // Most of a careless model's fill answers are missing: the run would fail on --max-failed-share,
  // which is not what this test is about.
  const auto r = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run q.persona -n 4 -o out.jsonl --llm fake --no-cache --max-failed-share 1",
      "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = persona::test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 4);
  // quickstart: values x 3..5, vignettes x 1..3, interests x 2..4; narrative 150..400 words.
  const std::vector<std::tuple<std::string, std::size_t, std::size_t>> lists = {
      {"values", 3, 5}, {"vignettes", 1, 3}, {"interests", 2, 4}};
  std::size_t not_applicable = 0, short_lists = 0;
  for (const auto& line : lines) {
    const auto j = json::parse(line);
    const std::string problems = j.contains("problems") ? j["problems"].dump() : std::string();
    INFO(j["id"] << " problems: " << problems);
    for (const auto& [name, lo, hi] : lists) {
      const auto n = j["core"][name].size();
      if (n < lo || n > hi) {
        ++short_lists;
        CHECK(problems.find("'" + name + "' has " + std::to_string(n) + " item") != std::string::npos);
      }
    }
    const std::string narrative = j["narrative"].get<std::string>();
    std::size_t words = 0;
    bool in_word = false;
    for (char c : narrative) {
      const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
      if (!space && !in_word) ++words;
      in_word = !space;
    }
    if (words < 150 || words > 400)
      CHECK(problems.find("narrative: " + std::to_string(words) + " words") != std::string::npos);
    for (const auto& a : j["attributes"]) {
      const std::string status = a["status"].get<std::string>();
      if (status == "not_applicable") ++not_applicable;
      if (status == "filled" && a["source"] == "llm") {
        INFO(a["path"] << " = " << a["value"]);
        CHECK_FALSE(filler(a["value"].get<std::string>()));
      }
      if (status != "filled") CHECK(a["value"].is_null());
    }
  }
  // The careless server did give short lists and filler: the checks above were exercised.
  CHECK(short_lists > 0);
  CHECK(not_applicable > 0);
  // The summary counts what was not filled.
  CHECK(r.err.find("problems") != std::string::npos);
}

TEST_CASE("a story step's random tone is drawn per persona, said in its call, and the same on every run") {
  Server server;
  REQUIRE(server.start());
  const auto dir = persona::test::scratch_dir("faithful-tone");
  ::setenv("PERSONA_FAITHFUL_KEY", "k", 1);
  persona::test::write_file(dir / "t.persona", R"(recipe "tone" version "1"
seed 4
anchor country ~ table stdlib.countries
anchor age     ~ uniform(20, 70) round
anchor employment = "employed"
story {
  values <- llm "core values" x 2..3 from age, country tone random(positive, negative, neutral)
}
attributes {
  count 5..6
}
narrative none
output {
  prompts on
}
)");
  persona::test::write_file(dir / "persona.toml",
                            persona::test::fake_provider_toml(server.base_url(), "PERSONA_FAITHFUL_KEY"));
  auto tones_of_run = [&](const std::string& out) {
    const auto r = persona::test::run_command(
        "'" + std::string(PERSONA_BIN) + "' run t.persona -n 60 -o " + out + " --llm fake --no-cache -q -c 7", "",
        dir.string());
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::vector<std::string> tones;
    for (const auto& line : persona::test::read_lines(dir / out)) {
      const auto j = json::parse(line);
      const std::string user = j["prompts"][0]["user"].get<std::string>();
      const auto at = user.find("; tone: ");
      REQUIRE(at != std::string::npos);
      tones.push_back(user.substr(at + 8, user.find(' ', at + 8) - at - 8));
    }
    return tones;
  };
  const auto first = tones_of_run("a.jsonl");
  REQUIRE(first.size() == 60);
  std::map<std::string, int> counts;
  for (const auto& t : first) ++counts[t];
  CHECK(counts.size() == 3);
  for (const auto& [t, n] : counts) {
    INFO(t << ": " << n << " of 60");
    CHECK(n >= 10);  // about 20 each
  }
  CHECK(tones_of_run("b.jsonl") == first);
}

TEST_CASE(
    "a quickstart persona costs at most 12,000 prompt tokens in at most 10 calls, at most 6,000 of them not a "
    "prefix of an earlier call") {
  Server server;  // usage.prompt_tokens = request characters / 4
  REQUIRE(server.start());
  const auto dir = setup("faithful-tokens", server, "output {\n  prompts on\n}\n");
  const auto r = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run q.persona -n 8 -o out.jsonl --llm fake --no-cache -q", "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = persona::test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 8);
  double sum_prompt = 0, sum_fresh = 0, sum_overhead = 0, sum_calls = 0, sum_attributes = 0;
  for (const auto& line : lines) {
    const auto j = json::parse(line);
    const auto& calls = j["prompts"];
    // What a prefix cache can serve: each call's longest common prefix (system, then user text) with
    // an earlier call of the same persona. The rest of its text is new. Tokens: characters / 4, as
    // the fake server counts; its usage also counts the JSON around the text and the schema (said
    // apart below: the schema is the same for every fill call, and providers cache it with the rest).
    std::vector<std::string> texts;
    std::size_t text_chars = 0, fresh_chars = 0;
    for (const auto& c : calls) {
      std::string t = c["system"].get<std::string>() + "\n" + c["user"].get<std::string>();
      std::size_t best = 0;
      for (const auto& e : texts) {
        std::size_t k = 0;
        while (k < t.size() && k < e.size() && t[k] == e[k]) ++k;
        best = std::max(best, k);
      }
      text_chars += t.size();
      fresh_chars += t.size() - best;
      texts.push_back(std::move(t));
    }
    const double prompt = j["usage"]["prompt_tokens"].get<double>();
    const double fresh = static_cast<double>(fresh_chars) / 4.0;
    INFO(j["id"] << ": " << calls.size() << " calls, " << prompt << " prompt tokens, " << fresh
                 << " of the text's not a prefix of an earlier call");
    CHECK(j["attributes"].size() >= 200);
    CHECK(calls.size() <= 10);
    CHECK(prompt <= 12000);
    CHECK(fresh <= 6000);
    sum_prompt += prompt;
    sum_fresh += fresh;
    sum_overhead += prompt - static_cast<double>(text_chars) / 4.0;
    sum_calls += static_cast<double>(calls.size());
    sum_attributes += static_cast<double>(j["attributes"].size());
  }
  const double n = static_cast<double>(lines.size());
  std::cout << "quickstart, " << lines.size()
            << " personas (fake server, tokens = request chars / 4): " << sum_attributes / n << " attributes, "
            << sum_calls / n << " calls, " << sum_prompt / n << " prompt tokens (JSON around the text and schema "
            << sum_overhead / n << "), " << sum_fresh / n
            << " of the prompt text not a prefix of an earlier call (per persona)\n";
}

TEST_CASE("a provider's context_window cuts the least related earlier answers and the persona says so") {
  Server server;
  REQUIRE(server.start());
  const auto dir = setup("faithful-window", server, "output {\n  prompts on\n}\n");
  persona::test::write_file(dir / "persona.toml",
                            persona::test::read_file(dir / "persona.toml") + "context_window = 3000\n");
  const auto r = persona::test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run q.persona -n 2 -o out.jsonl --llm fake --no-cache -q", "", dir.string());
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = persona::test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    const auto j = json::parse(line);
    std::size_t cut_calls = 0;
    for (const auto& c : j["prompts"]) {
      const auto before = c["answers_before"].get<std::size_t>(), shown = c["answers_shown"].get<std::size_t>();
      CHECK(shown <= before);
      if (shown < before) {
        ++cut_calls;
        // Each cut call is said in the persona's problems, with how many and why.
        const std::string said = c["step"].get<std::string>() + ": the profile left out " +
                                 std::to_string(before - shown) + " of " + std::to_string(before) +
                                 " earlier answers, the least related first, to fit the provider's context_window "
                                 "(3000 tokens)";
        CHECK(j["problems"].dump().find(said) != std::string::npos);
      }
      // The profile (system and user text, characters / 4) fits the window with the answer's room.
      CHECK((c["system"].get<std::string>().size() + c["user"].get<std::string>().size()) / 4 < 3000);
    }
    CHECK(cut_calls >= 2);
  }
}
