#include <catch2/catch.hpp>

#include "llm/client.hpp"
#include "llm/structured.hpp"

using namespace persona::llm;
using nlohmann::json;

TEST_CASE("slots_schema is strict and nullable", "[llm][structured]") {
  const auto s = slots_schema({"occupation", "hobby"});
  CHECK(s["type"] == "object");
  CHECK(s["additionalProperties"] == false);
  CHECK(s["required"] == json({"occupation", "hobby"}));
  CHECK(s["properties"]["occupation"]["type"] == json({"string", "null"}));
  CHECK(s["properties"].size() == 2);

  const auto e = slot_specs_schema({{"diet", "what they eat", {"vegan", "omnivore"}}});
  CHECK(e["properties"]["diet"]["description"] == "what they eat");
  CHECK(e["properties"]["diet"]["enum"] == json({"vegan", "omnivore", nullptr}));
}

TEST_CASE("chat_body for openai and ollama styles", "[llm][structured]") {
  Provider p;
  p.model = "m1";
  const auto schema = slots_schema({"a"});
  ChatOptions o;
  o.schema = &schema;
  o.seed = 42;
  o.max_tokens = 100;
  o.temperature = 0.5;
  auto b = chat_body(p, {{"system", "sys"}, {"user", "hi"}}, o);
  CHECK(b["model"] == "m1");
  CHECK(b["messages"].size() == 2);
  CHECK(b["messages"][1]["content"] == "hi");
  CHECK(b["seed"] == 42);
  CHECK(b["max_tokens"] == 100);
  CHECK(b["response_format"]["type"] == "json_schema");
  CHECK(b["response_format"]["json_schema"]["strict"] == true);
  CHECK(b["response_format"]["json_schema"]["name"] == "slots");
  CHECK(b["response_format"]["json_schema"]["schema"] == schema);

  p.json_schema = false;
  CHECK(chat_body(p, {{"user", "x"}}, o)["response_format"] == json{{"type", "json_object"}});

  p.style = Style::ollama;
  auto ob = chat_body(p, {{"user", "x"}}, o);
  CHECK(ob["format"] == schema);
  CHECK(ob["stream"] == false);
  CHECK(ob["options"]["seed"] == 42);
  CHECK(ob["options"]["num_predict"] == 100);
  CHECK_FALSE(ob.contains("response_format"));

  ChatOptions plain;
  auto pb = chat_body(Provider{}, {{"user", "x"}}, plain);
  CHECK_FALSE(pb.contains("seed"));
  CHECK_FALSE(pb.contains("max_tokens"));
  CHECK_FALSE(pb.contains("response_format"));
}

TEST_CASE("extract_json: clean, fenced and surrounded by prose", "[llm][structured]") {
  auto a = extract_json(R"({"a": "x", "b": null})");
  REQUIRE(a.value);
  CHECK_FALSE(a.repaired);
  CHECK((*a.value)["a"] == "x");

  auto f = extract_json("Sure! Here it is:\n```json\n{\"a\": \"x\"}\n```\nAnything else?");
  REQUIRE(f.value);
  CHECK((*f.value)["a"] == "x");

  auto p = extract_json("The persona {as requested} is: {\"job\": \"baker\", \"age\": \"41\"} -- hope it helps");
  REQUIRE(p.value);
  CHECK((*p.value)["job"] == "baker");

  auto d = extract_json(R"("{\"a\": \"x\"}")");  // double-encoded
  REQUIRE(d.value);
  CHECK((*d.value)["a"] == "x");
}

TEST_CASE("extract_json repairs common faults", "[llm][structured]") {
  SECTION("trailing commas") {
    auto r = extract_json(R"({"a": "x", "b": ["1", "2",],})");
    REQUIRE(r.value);
    CHECK(r.repaired);
    CHECK((*r.value)["b"].size() == 2);
  }
  SECTION("single quotes with an apostrophe inside") {
    auto r = extract_json(R"({'name': 'Ann O'Brien', 'city': 'Cork'})");
    REQUIRE(r.value);
    CHECK((*r.value)["name"] == "Ann O'Brien");
    CHECK((*r.value)["city"] == "Cork");
  }
  SECTION("smart quotes") {
    auto r = extract_json(
        "{\xE2\x80\x9C"
        "job\xE2\x80\x9D: \xE2\x80\x9C"
        "teacher\xE2\x80\x9D}");
    REQUIRE(r.value);
    CHECK((*r.value)["job"] == "teacher");
  }
  SECTION("truncated answer: unclosed string and braces") {
    auto r = extract_json(R"({"a": "x", "b": {"c": "long text that got cu)");
    REQUIRE(r.value);
    CHECK((*r.value)["a"] == "x");
    CHECK((*r.value)["b"]["c"] == "long text that got cu");
  }
  SECTION("truncated after a key") {
    auto r = extract_json(R"({"a": "x", "b")");
    REQUIRE(r.value);
    CHECK((*r.value)["a"] == "x");
    CHECK_FALSE(r.value->contains("b"));
  }
  SECTION("truncated after a colon") {
    auto r = extract_json(R"({"a": "x", "b":)");
    REQUIRE(r.value);
    CHECK((*r.value)["b"].is_null());
  }
  SECTION("unquoted keys, comments, Python literals, raw newlines") {
    auto r = extract_json("{job: \"nurse\", // a comment\n married: True, pet: None, bio: \"line1\nline2\"}");
    REQUIRE(r.value);
    CHECK((*r.value)["job"] == "nurse");
    CHECK((*r.value)["married"] == true);
    CHECK((*r.value)["pet"].is_null());
    CHECK((*r.value)["bio"] == "line1\nline2");
  }
  SECTION("unescaped inner quotes") {
    auto r = extract_json(R"({"quote": "she said "hello" twice", "b": "y"})");
    REQUIRE(r.value);
    CHECK((*r.value)["quote"] == "she said \"hello\" twice");
    CHECK((*r.value)["b"] == "y");
  }
  SECTION("nothing to find") {
    auto r = extract_json("I'm sorry, I can't help with that.");
    CHECK_FALSE(r.value);
    CHECK_FALSE(r.error.empty());
    CHECK_FALSE(extract_json("").value);
    CHECK_FALSE(extract_json("[1, 2, 3]").value);
  }
}

TEST_CASE("validate sorts keys into present, null and missing", "[llm][structured]") {
  const json obj = {{"a", "x"}, {"b", nullptr}, {"c", "  "}, {"d", 3}, {"e", json::array()}, {"z", "extra"}};
  const auto v = validate(obj, {"a", "b", "c", "d", "e", "f"});
  CHECK(v.present == std::vector<std::string>{"a", "d"});
  CHECK(v.nulls == std::vector<std::string>{"b", "c"});
  CHECK(v.missing == std::vector<std::string>{"e", "f"});
  CHECK(v.extra == std::vector<std::string>{"z"});
  CHECK_FALSE(v.complete());
  CHECK(validate(json{{"a", "x"}}, {"a"}).complete());
  CHECK(slot_value(obj, "a") == std::optional<std::string>("x"));
  CHECK(slot_value(obj, "d") == std::optional<std::string>("3"));
  CHECK_FALSE(slot_value(obj, "b"));
  CHECK_FALSE(slot_value(obj, "c"));
  CHECK(validate(json::array(), {"a"}).missing.size() == 1);
}
