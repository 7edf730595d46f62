// The LLM modes as sans-IO pieces: request bodies, the cache-friendly prefix, seeds, reply
// validation with one re-ask, and the dry-run estimate.
#include <catch2/catch.hpp>
#include <string>

#include "survey/survey.hpp"

using namespace persona;
using namespace persona::survey;

namespace {

Questionnaire questionnaire() {
  DiagnosticList d;
  auto q = parse_questionnaire(R"([survey]
items_per_call = 2
missing = { -1 = "don't know" }

[[item]]
id = "happy"
text = "How happy are you?"
labels = { 1 = "very", 2 = "rather", 3 = "not very", 4 = "not at all" }

[[item]]
id = "trust"
text = "Can most people be trusted?"
form = "options"
options = { 1 = "yes", 2 = "careful" }

[[item]]
id = "just"
text = "Is it justifiable?"
scale = [1, 10]
labels = { 1 = "never", 10 = "always" }

[[item]]
id = "tv"
text = "Hours of television a day?"
form = "numeric"
range = [0, 24]
)",
                               "q.toml", d);
  REQUIRE(q);
  return *q;
}

PersonaRecord make_persona(std::size_t index, const std::string& country) {
  PersonaRecord p;
  p.index = index;
  p.id = "p" + std::to_string(index);
  p.data = nlohmann::json::parse(R"({"id":"x","anchors":{"country":"","age":34,"gender":"female"},
    "core":{"values":["honesty","family"]},
    "attributes":[{"path":"Lifestyle/Food Preference/Vegan","value":"mostly plant-based","tier":"near"},
                  {"path":"Hobbies/Music/Instrument","value":null,"status":"not_applicable"}],
    "narrative":"I grew up by the lake."})");
  p.data["id"] = p.id;
  p.data["anchors"]["country"] = country;
  return p;
}

Templates templates() {
  std::string err;
  auto t = load_templates(default_prompts_dir(), err);
  INFO(err);
  REQUIRE(t);
  return *t;
}

std::string user_of(const SurveyCall& c) { return c.body["messages"].back()["content"].get<std::string>(); }
std::string system_of(const SurveyCall& c) { return c.body["messages"].front()["content"].get<std::string>(); }

}  // namespace

TEST_CASE("the answer schema constrains every item to its codes and requires them all") {
  const Questionnaire q = questionnaire();
  const auto s = answer_schema(q, {0, 1, 3});
  CHECK(s["required"] == nlohmann::json::array({"happy", "trust", "tv"}));
  CHECK(s["additionalProperties"] == false);
  CHECK(s["properties"]["happy"]["enum"] == nlohmann::json::array({1, 2, 3, 4}));
  CHECK(s["properties"]["trust"]["enum"] == nlohmann::json::array({1, 2}));
  CHECK(s["properties"]["tv"]["type"] == "number");
  CHECK(s["properties"]["tv"]["maximum"] == 24);
  // Missing codes are offered only when the questionnaire says so.
  Questionnaire q2 = q;
  q2.offer_missing = true;
  CHECK(answer_schema(q2, {0})["properties"]["happy"]["enum"] == nlohmann::json::array({1, 2, 3, 4, -1}));
}

TEST_CASE("items are grouped per call within items_per_call") {
  const Questionnaire q = questionnaire();
  const auto g = item_groups(q);
  REQUIRE(g.size() == 2);
  CHECK(g[0] == std::vector<std::size_t>{0, 1});
  CHECK(g[1] == std::vector<std::size_t>{2, 3});
}

TEST_CASE("a deep call puts the whole persona before the items, so every call of the persona shares a prefix") {
  const Questionnaire q = questionnaire();
  const Templates t = templates();
  const llm::Provider provider;
  const PersonaRecord p = make_persona(3, "Kenya");
  const CallOptions o{.mode = Mode::deep, .seed = 42, .temperature = 0.9};
  const SurveyCall a = survey_call(q, p, {0, 1}, 0, t, provider, o);
  const SurveyCall b = survey_call(q, p, {2, 3}, 2, t, provider, o);
  const std::string ua = user_of(a), ub = user_of(b);
  CHECK(ua.find("country: Kenya") != std::string::npos);
  CHECK(ua.find("values: honesty; family") != std::string::npos);
  CHECK(ua.find("Food Preference/Vegan: mostly plant-based") != std::string::npos);
  CHECK(ua.find("Instrument") == std::string::npos);  // attributes without a value are left out
  CHECK(ua.find("I grew up by the lake.") != std::string::npos);
  CHECK(ua.find("happy: How happy are you? Answer with one code: 1 = very, 2 = rather, 3 = not very, 4 = not at "
                "all.") != std::string::npos);
  CHECK(ub.find("just: Is it justifiable? Answer with a whole number from 1 (never) to 10 (always).") !=
        std::string::npos);
  CHECK(ub.find("tv: Hours of television a day? Answer with a number from 0 to 24.") != std::string::npos);
  // The prefix (system + persona) is identical across item groups and repeats.
  REQUIRE(a.prefix_chars > 0);
  CHECK(a.prefix_chars == b.prefix_chars);
  const std::string pa = system_of(a) + ua, pb = system_of(b) + ub;
  CHECK(pa.substr(0, a.prefix_chars - 1) == pb.substr(0, b.prefix_chars - 1));
  // Another persona, another prefix.
  const SurveyCall c = survey_call(q, make_persona(4, "India"), {0, 1}, 0, t, provider, o);
  CHECK(user_of(c).substr(0, 40) != ua.substr(0, 40));
  CHECK(a.body["temperature"] == 0.9);
  CHECK(a.body["response_format"]["json_schema"]["schema"]["required"] == nlohmann::json::array({"happy", "trust"}));
}

TEST_CASE("demographics mode shows the anchors only, cultural mode the country only") {
  const Questionnaire q = questionnaire();
  const Templates t = templates();
  const llm::Provider provider;
  const PersonaRecord p = make_persona(0, "Chile");
  const std::string dem = user_of(survey_call(q, p, {0}, 0, t, provider, {.mode = Mode::demographics}));
  CHECK(dem.find("gender: female") != std::string::npos);
  CHECK(dem.find("honesty") == std::string::npos);
  CHECK(dem.find("lake") == std::string::npos);
  const std::string cul = user_of(survey_call(q, p, {0}, 0, t, provider, {.mode = Mode::cultural}));
  CHECK(cul.find("Chile") != std::string::npos);
  CHECK(cul.find("female") == std::string::npos);
  CHECK(cul.find("34") == std::string::npos);
}

TEST_CASE("request seeds derive from seed, persona, items and repeat") {
  const Questionnaire q = questionnaire();
  const Templates t = templates();
  const llm::Provider provider;
  const CallOptions o{.mode = Mode::deep, .seed = 7};
  auto seed = [&](std::size_t persona_index, int repeat, std::uint64_t s) {
    CallOptions oo = o;
    oo.seed = s;
    return survey_call(q, make_persona(persona_index, "Kenya"), {0, 1}, repeat, t, provider, oo).body["seed"];
  };
  CHECK(seed(1, 0, 7) == seed(1, 0, 7));
  CHECK(seed(1, 0, 7) != seed(1, 1, 7));
  CHECK(seed(1, 0, 7) != seed(2, 0, 7));
  CHECK(seed(1, 0, 7) != seed(1, 0, 8));
  CHECK(survey_call(q, make_persona(1, "Kenya"), {0, 1}, 1, t, provider, o).step == "survey:deep:happy:r1");
}

TEST_CASE("a reply outside the codes is re-asked once for those items only, then recorded as invalid") {
  const Questionnaire q = questionnaire();
  const Templates t = templates();
  const llm::Provider provider;
  const PersonaRecord p = make_persona(5, "Kenya");
  const std::vector<std::size_t> items = {0, 1, 2, 3};
  const Parsed first =
      parse_reply(q, p, items, 1, Mode::deep, "Sure! ```json\n{\"happy\": 7, \"trust\": \"2\", \"just\": -1}\n```");
  REQUIRE(first.answers.size() == 2);
  CHECK(first.answers[0].item == 1);
  CHECK(first.answers[0].code == 2);  // a numeric string is accepted
  CHECK(first.answers[0].status == AnswerStatus::ok);
  CHECK(first.answers[1].item == 2);
  CHECK(first.answers[1].status == AnswerStatus::missing);  // -1 = don't know
  CHECK(first.answers[1].repeat == 1);
  REQUIRE(first.invalid == std::vector<std::size_t>{0, 3});
  CHECK(first.why[0] == "happy: 7 is not one of the codes");
  CHECK(first.why[1] == "tv: no answer");
  const SurveyCall again = reask_call(q, p, first, 1, t, provider, {.mode = Mode::deep, .seed = 1});
  CHECK(again.items == std::vector<std::size_t>{0, 3});
  CHECK(again.step == "survey:deep:happy:r1:again");
  const std::string u = user_of(again);
  CHECK(u.find("Your answers to happy, tv were not usable") != std::string::npos);
  CHECK(u.find("trust:") == std::string::npos);
  CHECK(again.body["response_format"]["json_schema"]["schema"]["required"] == nlohmann::json::array({"happy", "tv"}));
  const Parsed second = parse_reply(q, p, again.items, 1, Mode::deep, "{\"happy\": 2, \"tv\": 99}");
  CHECK(second.answers.size() == 1);
  REQUIRE(second.invalid == std::vector<std::size_t>{3});
  const auto bad = invalid_answers(p, second.invalid, 1, Mode::deep);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].status == AnswerStatus::invalid);
  CHECK(parse_reply(q, p, items, 0, Mode::deep, "no idea").invalid.size() == 4);
}

TEST_CASE("the dry-run estimate counts calls and the prompt tokens a prefix cache can serve") {
  const Questionnaire q = questionnaire();
  const Templates t = templates();
  llm::Provider provider;
  provider.price_input_per_mtok = 1.0;
  provider.price_cached_input_per_mtok = 0.1;
  provider.price_output_per_mtok = 2.0;
  const std::vector<PersonaRecord> ps = {make_persona(0, "Kenya"), make_persona(1, "India"), make_persona(2, "Chile")};
  const auto e1 = estimate(q, ps, 1, t, provider, {.mode = Mode::deep});
  CHECK(e1.calls == 3 * 2);
  const auto e3 = estimate(q, ps, 3, t, provider, {.mode = Mode::deep});
  CHECK(e3.calls == 3 * 2 * 3);
  CHECK(e3.prompt_tokens == 3 * e1.prompt_tokens);
  CHECK(e3.cacheable_tokens > e1.cacheable_tokens);
  CHECK(e3.cacheable_tokens < e3.prompt_tokens);
  CHECK(e3.cost > 0);
  // The deep persona costs more than the country alone.
  const auto ec = estimate(q, ps, 3, t, provider, {.mode = Mode::cultural});
  CHECK(ec.prompt_tokens < e3.prompt_tokens);
  // The estimate counts the same text the call sends.
  const SurveyCall c = survey_call(q, ps[0], {0, 1}, 0, t, provider, {.mode = Mode::deep});
  CHECK(c.prompt_chars == system_of(c).size() + user_of(c).size());
}
