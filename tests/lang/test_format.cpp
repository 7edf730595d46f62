#include <catch2/catch.hpp>

#include "format/formatter.hpp"
#include "syntax/parser.hpp"

using namespace persona;

namespace {
std::string fmt(std::string_view text) {
  DiagnosticList d;
  auto r = lang::parse_recipe(text, "t", d);
  REQUIRE(r.recipe);
  return lang::format_recipe(*r.recipe);
}
}  // namespace

TEST_CASE("fmt normalises spacing and aligns anchors") {
  CHECK(fmt("recipe   \"a\"   version \"1\"\nanchor x=1\nanchor longer~{a:1,b:2}\n") ==
        "recipe \"a\" version \"1\"\n\nanchor x      = 1\nanchor longer ~ { a: 1, b: 2 }\n");
}

TEST_CASE("fmt keeps own-line and trailing comments in place") {
  const std::string src =
      "# top\nrecipe \"a\"\n\n# about x\nanchor x = 1  # one\nstory {\n  # inside\n  a <- llm \"v\"  # t\n  # end of "
      "story\n}\n# tail\n";
  const std::string out = fmt(src);
  CHECK(out ==
        "# top\nrecipe \"a\"\n\n# about x\nanchor x = 1  # one\n\nstory {\n  # inside\n  a <- llm \"v\"  # t\n  # end "
        "of story\n}\n\n# tail\n");
  CHECK(fmt(out) == out);
}

TEST_CASE("fmt quotes labels only when needed and keeps numbers as written") {
  CHECK(fmt("anchor g ~ { \"female\": 0.50, \"non binary\": 1e-2 }\n") ==
        "anchor g ~ { \"female\": 0.50, \"non binary\": 1e-2 }\n");
  CHECK(fmt("anchor g ~ { female: 0.50 }\n") == "anchor g ~ { female: 0.50 }\n");
}

TEST_CASE("fmt writes conditions and filters canonically") {
  CHECK(fmt("attributes {\n include *\n exclude \"A/**\" when age<16 or (x in (a,b) and not y=c)\n}\n") ==
        "attributes {\n  include *\n  exclude \"A/**\" when age < 16 or x in (a, b) and not y = c\n}\n");
}

TEST_CASE("fmt writes a step's tone after its inputs and before its prompt") {
  const std::string once =
      fmt("story {\nv <- llm \"values\"   x 2  from a  prompt \"P\"   tone random( positive ,negative )\n}\n");
  CHECK(once.find("v <- llm \"values\" x 2 from a tone random(positive, negative) prompt \"P\"") != std::string::npos);
  CHECK(fmt(once) == once);
}

TEST_CASE("fmt writes always lines in place with their comments and is a fixed point") {
  const std::string src =
      "attributes {\n  count   10..20\n  # the panel\n  always   \"Lifestyle and Daily Routine/**\"  # shared\n"
      "include *\n  always \"Career and Work Identity/Job/*\"\n}\n";
  const std::string out = fmt(src);
  CHECK(out ==
        "attributes {\n  count 10..20\n  # the panel\n  always \"Lifestyle and Daily Routine/**\"  # shared\n"
        "  include *\n  always \"Career and Work Identity/Job/*\"\n}\n");
  CHECK(fmt(out) == out);
}
