// The session's API (continuation, completion, end of input) and `persona repl` as a program.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

TEST_CASE("a triple-quoted text pasted over 40,000 lines is one statement with every line, and a quote line ends it") {
  // Lines inside an open """ string are not parsed again one by one (that was quadratic: a pasted
  // 40,000-line text took 29 s); the statement still ends at the closing """.
  Fixture f;
  f.session.feed("anchor note = \"\"\"");
  for (int i = 0; i < 40000; ++i) {
    f.session.feed("line " + std::to_string(i) + " of a pasted text, with \"quotes\" and { braces");
    if (i % 10000 == 0) CHECK(f.session.pending());
  }
  CHECK(f.session.pending());
  f.session.feed("\"\"\"");
  CHECK_FALSE(f.session.pending());
  const std::string text = f.session.recipe_text();
  CHECK(text.find("line 0 of a pasted text") != std::string::npos);
  CHECK(text.find("line 39999 of a pasted text") != std::string::npos);
  f.session.feed("anchor age = 30");
  const std::string out = f.out.str();
  INFO(out.substr(out.size() > 3000 ? out.size() - 3000 : 0));
  CHECK(f.session.recipe_text().find("anchor age") != std::string::npos);  // aligned by the formatter
}

TEST_CASE("10,000 parentheses typed in a condition are a positioned error and the session goes on") {
  Fixture f;
  f.session.feed("attributes {");
  f.session.feed("  exclude \"Lifestyle/**\" when " + std::string(10000, '(') + "age < 3" + std::string(10000, ')'));
  f.session.feed("}");
  CHECK(f.out.str().find("<repl>:2:") != std::string::npos);
  CHECK(f.out.str().find("nested too deeply") != std::string::npos);
  f.session.feed("anchor age = 30");
  CHECK(f.session.recipe_text().find("anchor age") != std::string::npos);
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
                                            ":help\n:plan\nBAD LINE\n:sample 2 --json\n:quit\n");
  CHECK(o.code == 0);
  CHECK(o.err.find("<repl>:3:1: error: unknown statement 'BAD'") != std::string::npos);
  CHECK(o.err.find(" 3 | BAD LINE") != std::string::npos);
  CHECK(o.out.find(":sample [N] [--json]") != std::string::npos);  // :help
  CHECK(o.out.find("select attributes") != std::string::npos);     // :plan
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
      ":sample 3 --json\n";
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

namespace {

// A reader that plays a script: a line, a recalled entry of several lines, or Ctrl-C (nullopt).
struct ScriptReader final : persona::repl::LineReader {
  std::vector<std::optional<std::string>> script;
  std::size_t next = 0;
  bool cancel = false;
  std::vector<std::string> remembered;
  std::optional<std::string> read_line(const std::string& /*prompt*/) override {
    cancel = false;
    if (next >= script.size()) return std::nullopt;
    auto l = script[next++];
    cancel = !l.has_value();
    return l;
  }
  void remember(const std::string& entry) override { remembered.push_back(entry); }
  [[nodiscard]] bool cancelled() const override { return cancel; }
};

std::size_t width_of(const std::string& s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

}  // namespace

TEST_CASE("a statement typed over several lines is one history entry, and a recalled entry is fed line by line") {
  std::ostringstream out;
  Session s(to(out));
  ScriptReader r;
  r.script = {"attributes {", "  count 5", "}", ":show", "attributes {\n  count 7\n}", "# a comment", "   "};
  CHECK(s.run(r) == 0);
  CHECK(r.remembered ==
        std::vector<std::string>{"attributes {\n  count 5\n}", ":show", "attributes {\n  count 7\n}", "# a comment"});
  CHECK(s.recipe_text() == "attributes {\n  count 7\n}\n");
  CHECK(out.str().find("replaced attributes") != std::string::npos);
}

TEST_CASE("Ctrl-C drops the statement being typed and the session goes on") {
  std::ostringstream out;
  Session s(to(out));
  ScriptReader r;
  r.script = {"story {", "  values <- llm \"v\"", std::nullopt, "anchor age = 30", std::nullopt, ":show"};
  CHECK(s.run(r) == 0);
  CHECK(out.str().find("the unfinished statement from line 1 was discarded") != std::string::npos);
  CHECK(s.recipe_text() == "anchor age = 30\n");
  CHECK(std::find(r.remembered.begin(), r.remembered.end(), "story {\n  values <- llm \"v\"") == r.remembered.end());
}

TEST_CASE("an interrupt stops a long :sample after whole personas, and they can be shown") {
  std::ostringstream out;
  std::atomic<bool> flag{false};
  auto o = to(out);
  o.interrupt = &flag;
  Session s(o);
  REQUIRE(s.load(kQuickstart));
  // Ctrl-C, pressed again and again until the command returns (the flag is cleared when it starts).
  std::atomic<bool> done{false};
  std::thread presser([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      flag.store(true);
    }
  });
  s.feed(":sample 100000");
  done.store(true);
  presser.join();
  const std::string text = out.str();
  const auto at = text.find("interrupted: ");
  REQUIRE(at != std::string::npos);
  std::uint64_t built = std::stoull(text.substr(at + 13));
  CHECK(built < 100000);
  CHECK(text.find(" of 100000 personas built") != std::string::npos);
  flag.store(false);
  if (built > 0) {
    out.str("");
    s.feed(":show persona 0");
    CHECK(out.str().find("quickstart-000000  persona 0 of " + std::to_string(built)) != std::string::npos);
  }
}

TEST_CASE("a persona view keeps every line within the output's width") {
  for (std::size_t w : {40, 80, 132}) {
    std::ostringstream out;
    auto o = to(out);
    o.columns = [w] { return w; };
    Session s(o);
    REQUIRE(s.load(kQuickstart));
    s.feed(":sample 2");
    out.str("");
    s.feed(":show persona 1");
    const std::string view = out.str();
    INFO("width " << w);
    REQUIRE(view.find("Narrative") != std::string::npos);
    for (const auto& l : lines_of(view)) {
      INFO(l);
      CHECK(width_of(l) < w);
    }
  }
}

TEST_CASE("a long view goes through the pager, and :sample lines do not") {
  std::ostringstream out;
  std::vector<std::string> paged;
  auto o = to(out);
  o.pager = [&](const std::string& text) { paged.push_back(text); };
  Session s(o);
  REQUIRE(s.load(kQuickstart));
  s.feed(":sample 1");
  CHECK(paged.empty());
  s.feed(":show persona 0");
  REQUIRE(paged.size() == 1);
  CHECK(paged[0].starts_with("quickstart-000000  persona 0 of 1"));
  CHECK(out.str().find("quickstart-000000  persona 0") == std::string::npos);
}

TEST_CASE(":reload reads the file and its imports again") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("persona-repl-reload-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "lib.persona") << "distribution pick = { alpha: 1 }\n";
  std::ofstream(dir / "main.persona") << "recipe \"r\" version \"1\"\nimport \"lib.persona\"\nanchor x ~ pick\n"
                                         "attributes { count 2 }\nnarrative none\n";
  std::ostringstream out;
  Session s(to(out));
  REQUIRE(s.load((dir / "main.persona").string()));
  s.feed(":sample 1 --json");
  CHECK(out.str().find("\"x\":\"alpha\"") != std::string::npos);
  std::ofstream(dir / "lib.persona") << "distribution pick = { beta: 1 }\n";
  std::ofstream(dir / "main.persona", std::ios::app) << "anchor y = 3\n";
  out.str("");
  s.feed(":sample 1 --json");
  CHECK(out.str().find("\"x\":\"alpha\"") != std::string::npos);  // not read again until :reload
  out.str("");
  s.feed(":reload");
  s.feed(":sample 1 --json");
  CHECK(out.str().find("reloaded " + (dir / "main.persona").string() + ": 6 statements") != std::string::npos);
  CHECK(out.str().find("\"x\":\"beta\",\"y\":3") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("persona repl: in a script :edit needs an editor set with :set editor, and never reads the script") {
  const auto o = persona::test::run_persona("repl --echo examples/quickstart.persona",
                                            ":edit attributes\n:set editor sed -i -e s/200..250/20..30/\n"
                                            ":edit attributes\n:show attributes\n");
  CHECK(o.code == 0);
  CHECK(o.err.find("<repl>:1:7: error: ':edit' needs a terminal, or an editor command set with ':set editor CMD'") !=
        std::string::npos);
  CHECK(o.err.find("replaced attributes") != std::string::npos);
  CHECK(o.out.find("  count 20..30\n") != std::string::npos);
}
