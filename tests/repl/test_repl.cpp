// The session's API (continuation, completion, end of input) and `persona repl` as a program.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "repl/repl.hpp"

using persona::repl::Session;

namespace {

persona::repl::Options to(std::ostream& out) {
  persona::repl::Options o;
  o.out = &out;
  o.err = &out;
  return o;
}

struct Fixture {
  std::ostringstream out;
  Session session{to(out)};
};

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

}  // namespace

TEST_CASE("a statement left open asks for more and then joins the recipe") {
  Fixture f;
  CHECK(f.session.prompt() == "persona> ");
  f.session.feed("story {");
  CHECK(f.session.pending());
  CHECK(f.session.prompt() == "     ...> ");
  f.session.feed("  values <- llm \"core values\" x 3");
  f.session.feed("");
  CHECK(f.session.pending());
  f.session.feed("}");
  CHECK_FALSE(f.session.pending());
  CHECK(f.session.recipe_text() == "story {\n  values <- llm \"core values\" x 3\n}\n");
}

TEST_CASE("a bad line gives a positioned error counted in session lines and changes nothing") {
  Fixture f;
  f.session.feed("anchor age = 30");
  f.session.feed("");
  f.session.feed("anchor gender ~ { male 0.5 }");
  CHECK(f.out.str().find("<repl>:3:") != std::string::npos);
  CHECK(f.session.recipe_text() == "anchor age = 30\n");
}

TEST_CASE("end of input inside a statement is reported and the exit code is 0") {
  std::ostringstream out;
  Session s(to(out));
  std::istringstream in("anchor age = 30\nattributes {\n  count 5\n");
  persona::repl::StreamReader reader(in);
  CHECK(s.run(reader) == 0);
  CHECK(out.str().find("<repl>:3:") != std::string::npos);
  CHECK(out.str().find("was discarded") != std::string::npos);
  CHECK(s.recipe_text() == "anchor age = 30\n");
}

TEST_CASE(":quit stops reading") {
  std::ostringstream out;
  Session s(to(out));
  std::istringstream in(":quit\n:help\n");
  persona::repl::StreamReader reader(in);
  CHECK(s.run(reader) == 0);
  CHECK(out.str().empty());
}

TEST_CASE("completion of commands, keywords, names, settings and taxonomy paths") {
  Fixture f;
  f.session.feed("anchor country = \"Kenya\"");
  f.session.feed("story {");
  f.session.feed("  values <- llm \"core values\" x 3 from country");
  f.session.feed("}");

  auto c = f.session.complete(":sa", 3);
  CHECK(c.start == 0);
  CHECK(c.candidates == std::vector<std::string>{":sample", ":save"});

  c = f.session.complete("anch", 4);
  CHECK(c.start == 0);
  CHECK(has(c.candidates, "anchor"));

  c = f.session.complete("  x <- llm \"y\" from val", 24);
  CHECK(c.start == 20);
  CHECK(has(c.candidates, "values"));

  c = f.session.complete("anchor age ~ table stdlib.ag", 28);
  CHECK(has(c.candidates, "stdlib.age_structure"));

  c = f.session.complete(":set c", 6);
  CHECK(c.candidates == std::vector<std::string>{"count"});

  c = f.session.complete(":tax ls Lifestyle and Daily Routine/Sl", 38);
  CHECK(c.start == 8);
  CHECK(has(c.candidates, "Lifestyle and Daily Routine/Sleep/"));

  c = f.session.complete(":why Lif", 8);
  CHECK(c.start == 5);
  CHECK(has(c.candidates, "Lifestyle and Daily Routine/"));

  c = f.session.complete("  exclude \"Career and Work Identity/Cur", 39);
  CHECK(c.start == 11);
  CHECK(has(c.candidates, "Career and Work Identity/Current Occupation/"));

  c = f.session.complete(":doc stdlib.c", 13);
  CHECK(has(c.candidates, "stdlib.cities"));
  CHECK(has(c.candidates, "stdlib.countries"));
}

TEST_CASE("persona repl FILE reads a script from a pipe") {
  const auto o = persona::test::run_persona("repl examples/quickstart.persona",
                                            ":help\n:plan\nBAD LINE\n:sample 2\n:quit\n");
  CHECK(o.code == 0);
  CHECK(o.err.find("<repl>:3:1: error: unknown statement 'BAD'") != std::string::npos);
  CHECK(o.err.find(" 3 | BAD LINE") != std::string::npos);
  CHECK(o.out.find(":sample [N]") != std::string::npos);  // :help
  CHECK(o.out.find("select attributes") != std::string::npos);  // :plan
  std::vector<nlohmann::json> personas;
  for (const auto& l : lines_of(o.out))
    if (!l.empty() && l.front() == '{') personas.push_back(nlohmann::json::parse(l));
  REQUIRE(personas.size() == 2);
  CHECK(personas[0]["id"] == "quickstart-000000");
  CHECK(personas[1]["id"] == "quickstart-000001");
  CHECK(personas[0]["attributes"].size() >= 200);

  // The same personas as `persona run` with the recipe's seed.
  const auto run = persona::test::run_persona("run examples/quickstart.persona --count 2 --out - --quiet");
  REQUIRE(run.code == 0);
  std::string sampled;
  for (const auto& l : lines_of(o.out))
    if (!l.empty() && l.front() == '{') sampled += l + "\n";
  CHECK(sampled == run.out);
}

TEST_CASE("persona repl: a recipe typed line by line, then :sample 3") {
  const std::string script =
      "recipe \"typed\" version \"1.0\"\n"
      "anchor country ~ table stdlib.countries\n"
      "anchor age ~ table stdlib.age_structure by country truncate 18..90\n"
      "anchor gender ~ table stdlib.sex_ratio by country\n"
      "story {\n"
      "  values <- llm \"core values\" x 3..5 from age, gender, country\n"
      "  attitude <- llm \"life attitude\" from values\n"
      "}\n"
      "attributes {\n"
      "  count 20..30\n"
      "  tiers near 5, mid 3, far 2\n"
      "}\n"
      ":sample 3\n";
  const auto o = persona::test::run_persona("repl --echo --seed 4", script);
  CHECK(o.code == 0);
  CHECK(o.err.find("error") == std::string::npos);
  CHECK(o.out.find("     ...>   attitude <- llm") != std::string::npos);  // the continuation prompt
  int n = 0;
  for (const auto& l : lines_of(o.out)) {
    const auto b = l.find('{');
    if (b == std::string::npos || l.find("\"id\":") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(l.substr(b));
    CHECK(j["id"] == "typed-00000" + std::to_string(n));
    CHECK(j["attributes"].size() >= 20);
    CHECK(j["core"]["values"].size() >= 3);
    ++n;
  }
  CHECK(n == 3);
}

TEST_CASE("persona repl: an unreadable FILE is reported, and the exit code says so") {
  const auto o = persona::test::run_persona("repl no-such-file.persona", ":quit\n");
  CHECK(o.code == 1);
  CHECK(o.err.find("no-such-file.persona: error: cannot read the file") != std::string::npos);
}
