// The small language bugs of issue 12 and the parser limits of the hardening issue: numeric
// labels, a syntax error counted once, carets in characters, clipped excerpts, the nesting limit,
// imports (depth, diamonds, non-recipe paths) and files read with limits.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "check/checker.hpp"
#include "diag/source.hpp"
#include "fake_environment.hpp"
#include "format/formatter.hpp"
#include "syntax/parser.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  static const fs::path dir = [] {
    auto d = fs::temp_directory_path() / ("persona-lang-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

struct Result {
  std::optional<lang::Recipe> recipe;
  DiagnosticList diags;
  SourceFiles sources;
  [[nodiscard]] std::string rendered() const {
    std::string s;
    for (const auto& d : diags.all()) s += render(d, &sources);
    return s;
  }
};

std::unique_ptr<Result> check_path(const fs::path& p) {
  auto r = std::make_unique<Result>();
  test::FakeEnvironment env;
  r->recipe = lang::check_file(p.string(), r->sources, env, r->diags);
  return r;
}

std::unique_ptr<Result> check_text(const std::string& text) {
  auto r = std::make_unique<Result>();
  test::FakeEnvironment env;
  r->recipe = lang::check_text(text, "t.persona", r->sources, env, r->diags);
  return r;
}

}  // namespace

TEST_CASE("numeric labels need no quotes, and fmt keeps them as written") {
  DiagnosticList d;
  auto r = lang::parse_recipe("anchor household ~ { 1: 0.28, 2: 0.34, \"5+\": 0.38 }\n", "t.persona", d);
  REQUIRE(r.recipe);
  const auto& c = std::get<ast::Categorical>(r.recipe->anchors.at(0).draw->form);
  CHECK(c.choices.at(0).label == "1");
  CHECK(c.choices.at(0).number);
  CHECK(c.choices.at(2).quoted);
  CHECK(lang::format_recipe(*r.recipe) == "anchor household ~ { 1: 0.28, 2: 0.34, \"5+\": 0.38 }\n");
}

TEST_CASE("a categorical syntax error is reported and counted once") {
  DiagnosticList d;
  auto r = lang::parse_recipe("recipe \"c\"\nanchor g ~ { a: 1, b 2 }\nanchor h = 1\n", "t.persona", d);
  CHECK_FALSE(r.recipe);
  REQUIRE(d.error_count() == 1);
  CHECK(to_string(d.all()[0].where) == "t.persona:2:22");
  // An error at the first token of a statement line still resumes there ("anchor age ~" then a new line).
  DiagnosticList d2;
  CHECK_FALSE(lang::parse_recipe("anchor a ~\nanchor b = \nanchor c = 1\n", "t.persona", d2).recipe);
  CHECK(d2.error_count() == 2);
}

TEST_CASE("an unquoted non-ASCII label: a message that says so, the caret on the character, columns in characters") {
  auto r = check_text("recipe \"u\"\nanchor g ~ { Zürich: 1, Köln: 1 }\n");
  CHECK_FALSE(r->recipe);
  REQUIRE(r->diags.error_count() == 1);
  const auto& d = r->diags.all()[0];
  CHECK(d.message ==
        "unexpected non-ASCII character in 'Zürich': names and bare labels are ASCII (letters, digits, '_', '-'); "
        "quote a label: \"Zürich\"");
  CHECK(r->rendered().find("t.persona:2:15: error:") == 0);
  CHECK(r->rendered().find(" 2 | anchor g ~ { Zürich: 1, Köln: 1 }\n   |               ^~~~~\n") != std::string::npos);
  // After a multi-byte character the column counts characters too.
  auto after = check_text("recipe \"u\"\nanchor g ~ { \"Zürich\": 1, b 2 }\n");
  CHECK(after->rendered().find("t.persona:2:29: error: expected ':'") == 0);
  CHECK(after->rendered().find("\n   |                             ^\n") != std::string::npos);
}

TEST_CASE("a very long source line is clipped to a window around the caret") {
  std::string labels;
  for (int i = 0; i < 400; ++i) labels += "l" + std::to_string(i) + ": 1, ";
  auto r = check_text("recipe \"l\"\nanchor g ~ { " + labels + "bad 2 }\n");
  const std::string shown = r->rendered();
  INFO(shown);
  const auto bar = shown.find(" | ");
  const auto eol = shown.find('\n', bar);
  REQUIRE(bar != std::string::npos);
  const std::string excerpt = shown.substr(bar + 3, eol - bar - 3);
  CHECK(excerpt.size() <= 126);  // 120 characters and the two "..."
  CHECK(excerpt.rfind("...", 0) == 0);
  CHECK(excerpt.find("bad 2 }") != std::string::npos);
  // The caret is under the '2' after "bad" (both lines have the same gutter).
  const auto line_start = shown.rfind('\n', bar) + 1;
  const std::string source_line = shown.substr(line_start, eol - line_start);
  const std::string caret_line = shown.substr(eol + 1, shown.find('\n', eol + 1) - eol - 1);
  const auto caret = caret_line.find('^');
  REQUIRE(caret != std::string::npos);
  REQUIRE(caret < source_line.size());
  CHECK(source_line[caret] == '2');
}

TEST_CASE("10,000 '(' or 50,000 'not' in a `when` are a positioned \"nested too deeply\" error") {
  const std::string head = "recipe \"d\"\nanchor age = 3\nattributes {\n  exclude \"X/**\" when ";
  std::string nots;
  for (int i = 0; i < 50000; ++i) nots += "not ";
  for (const std::string& cond : {std::string(10000, '(') + "age > 1" + std::string(10000, ')'), nots + "age > 1"}) {
    DiagnosticList d;
    CHECK_FALSE(lang::parse_recipe(head + cond + "\n}\n", "t.persona", d).recipe);
    REQUIRE(d.error_count() == 1);
    CHECK(d.all()[0].message == "nested too deeply: more than 100 levels of parentheses and 'not'");
    CHECK(d.all()[0].where.line == 4);
    CHECK(d.all()[0].where.column == (cond[0] == '(' ? 23u + 100u : 23u + 400u));
  }
}

TEST_CASE("imports: a non-recipe path is refused by name, never shown - a missing one says why") {
  const auto dir = scratch() / "imports";
  fs::create_directories(dir);
  write(dir / "secret.txt", "root:x:0:0:root:/root:/bin/bash\n");
  write(dir / "a.persona", "recipe \"a\"\nimport \"secret.txt\"\nimport \"nope.persona\"\nimport \"sub.persona\"\n");
  fs::create_directories(dir / "sub.persona");
  auto r = check_path(dir / "a.persona");
  CHECK_FALSE(r->recipe);
  const std::string shown = r->rendered();
  INFO(shown);
  CHECK(shown.find("root:") == std::string::npos);
  CHECK(shown.find("error: 'secret.txt' is not a recipe file: import names a .persona file") != std::string::npos);
  CHECK(shown.find("error: cannot read 'nope.persona' (resolved to " + (dir / "nope.persona").string() +
                   "): No such file or directory") != std::string::npos);
  CHECK(shown.find("error: cannot read 'sub.persona' (resolved to " + (dir / "sub.persona").string() +
                   "): it is a directory") != std::string::npos);
}

TEST_CASE("imports: a diamond 20 levels deep is read once per file, fast - a chain over 32 files is an error") {
  const auto dir = scratch() / "diamond";
  fs::create_directories(dir);
  write(dir / "root.persona", "recipe \"root\"\nimport \"a1.persona\"\nimport \"b1.persona\"\nanchor x ~ d20\n");
  for (int i = 1; i <= 20; ++i) {
    for (const char* n : {"a", "b"}) {
      const std::string next = i < 20 ? "import \"a" + std::to_string(i + 1) + ".persona\"\nimport \"b" +
                                            std::to_string(i + 1) + ".persona\"\n"
                                      : "import \"leaf.persona\"\n";
      write(dir / (n + std::to_string(i) + ".persona"),
            next + "distribution d" + std::to_string(i) + " = uniform(" + std::to_string(i) + ", 99)\n");
    }
  }
  write(dir / "leaf.persona", "distribution leaf = uniform(0, 1)\n");
  const auto start = std::chrono::steady_clock::now();
  auto r = check_path(dir / "root.persona");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(r->rendered());
  REQUIRE(r->recipe);
  CHECK(r->recipe->files.size() == 42);  // each file once
  CHECK(seconds < 2.0);                  // 2^20 paths when every path was re-read

  for (int i = 0; i < 40; ++i)
    write(dir / ("c" + std::to_string(i) + ".persona"),
          (i < 39 ? "import \"c" + std::to_string(i + 1) + ".persona\"\n" : std::string()) + "distribution c" +
              std::to_string(i) + " = uniform(0, 1)\n");
  auto chain = check_path(dir / "c0.persona");
  CHECK_FALSE(chain->recipe);
  bool found = false;
  for (const auto& d : chain->diags.all()) {
    if (d.code != "import-depth") continue;
    found = true;
    CHECK(d.message == "imports nested too deeply: more than 32 files in a chain");
    CHECK(d.where.file == (dir / "c31.persona").string());
    CHECK(d.where.line == 1);
  }
  CHECK(found);
}

TEST_CASE("a diamond of `extends` keeps the overrides of the first branch") {
  const auto dir = scratch() / "extends";
  fs::create_directories(dir);
  write(dir / "base.persona", "anchor a = 1\nanchor b = 1\n");
  write(dir / "left.persona", "extends \"base.persona\"\nanchor a = 2\n");
  write(dir / "right.persona", "extends \"base.persona\"\nanchor b = 3\n");
  write(dir / "top.persona", "recipe \"top\"\nextends \"left.persona\"\nextends \"right.persona\"\n");
  auto r = check_path(dir / "top.persona");
  REQUIRE(r->recipe);
  CHECK(std::get<double>(r->recipe->anchor("a")->source.fixed) == 2);  // base is not merged again after left
  CHECK(std::get<double>(r->recipe->anchor("b")->source.fixed) == 3);
}

TEST_CASE("a recipe file is read with limits: a directory, a FIFO and bad UTF-8 are precise errors") {
  const auto dir = scratch() / "files";
  fs::create_directories(dir / "folder.persona");
  auto folder = check_path(dir / "folder.persona");
  REQUIRE(folder->diags.error_count() == 1);
  CHECK(to_string(folder->diags.all()[0].where) == (dir / "folder.persona").string());
  CHECK(folder->diags.all()[0].message == "cannot read the file: it is a directory");
  const auto fifo = dir / "fifo.persona";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto pipe = check_path(fifo);  // must not hang
  REQUIRE(pipe->diags.error_count() == 1);
  CHECK(pipe->diags.all()[0].message.find("not a regular file") != std::string::npos);
  write(dir / "latin1.persona", "recipe \"ok\"\nanchor city = \"Z\xFCrich\"\n");
  auto latin = check_path(dir / "latin1.persona");
  REQUIRE(latin->diags.error_count() == 1);
  const auto& d = latin->diags.all()[0];
  CHECK(d.where.line == 2);
  CHECK(d.where.column == 17);
  CHECK(d.message.rfind("not valid UTF-8 (byte 0xFC)", 0) == 0);
}
