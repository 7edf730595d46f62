// Every integrity error, with its file and line.
#include <catch2/catch.hpp>

#include "diag/source.hpp"
#include "test_support.hpp"

using namespace persona;
using tax_test::data;
using tax_test::has;

namespace {

DiagnosticList load_text(const std::string& text, tax::LoadOptions opts = {}) {
  DiagnosticList diags;
  auto t = tax::load_tax_text(text, "t.tax", diags, opts);
  if (diags.has_errors()) CHECK_FALSE(t);
  return diags;
}

DiagnosticList load_json(const std::string& text) {
  DiagnosticList diags;
  auto t = tax::load_json_text(text, "t.json", diags);
  if (diags.has_errors()) CHECK_FALSE(t);
  return diags;
}

}  // namespace

TEST_CASE(".tax indentation errors", "[taxonomy][errors]") {
  auto d = load_text("A | a\n   B | odd\n");
  INFO(tax_test::dump(d));
  CHECK(has(d, "bad-indent", 2));
  CHECK(d.all().front().where.file == "t.tax");

  d = load_text("A | a\n      B | jump\n");
  CHECK(has(d, "indent-jump", 2));

  d = load_text("A | a\n  B | ok\n\tC | tab\n");
  CHECK(has(d, "tab-indent", 3));

  DiagnosticList fd;
  CHECK_FALSE(tax::load(data("tabs.tax"), fd));
  CHECK(has(fd, "tab-indent", 2));
  CHECK(fd.all().front().where.file == data("tabs.tax"));

  // A value line at the wrong depth.
  d = load_text("A | a\n  B | b\n      = x | y\n");
  CHECK(has(d, "bad-indent", 3));
}

TEST_CASE(".tax name errors", "[taxonomy][errors]") {
  auto d = load_text("A | a\n  Sleep Quality | x\n  sleep-quality | y\n");
  INFO(tax_test::dump(d));
  REQUIRE(has(d, "duplicate-sibling", 3));
  CHECK_FALSE(d.all().front().notes.empty());

  // Same name under different parents is fine.
  d = load_text("A | a\n  X | x\nB | b\n  X | x\n");
  CHECK_FALSE(d.has_errors());

  d = load_text("A | a\n   | no name\n");
  CHECK(d.has_errors());
  d = load_text("A | a\n  | no name\n");
  CHECK(has(d, "empty-name", 2));

  d = load_text("A | a\n  Work/Life | slash\n");
  REQUIRE(has(d, "forbidden-character", 2));
  CHECK(d.all().front().where.column == 7);

  d = load_text("A | a\n  -Dash | x\n");
  CHECK(has(d, "bad-name", 2));

  d = load_text("A | a\n  " + std::string(81, 'x') + " | long\n");
  CHECK(has(d, "bad-name", 2));

  d = load_text("A | a | b\n");
  CHECK(has(d, "bad-description", 1));

  // Top-level duplicates across the files of a directory-like load are checked too.
  d = load_text("Alpha | a\nALPHA | b\n");
  CHECK(has(d, "duplicate-sibling", 2));
}

TEST_CASE(".tax value and condition lines", "[taxonomy][errors]") {
  auto d = load_text("= a | b\nA | a\n");
  INFO(tax_test::dump(d));
  CHECK(has(d, "orphan-value", 1));

  d = load_text("? age > 3\nA | a\n");
  CHECK(has(d, "orphan-condition", 1));

  d = load_text("A | a\n  B | b\n    = x @abc | y\n");
  REQUIRE(has(d, "bad-weight", 3));
  CHECK(d.all().front().where.column == 9);  // the "@"

  d = load_text("A | a\n  B | b\n    = x @-1 | y\n");
  CHECK(has(d, "bad-weight", 3));

  d = load_text("A | a\n  B | b\n    = x @ | y\n");
  CHECK(has(d, "bad-weight", 3));

  d = load_text("A | a\n  B | b\n    = x | | y\n");
  CHECK(has(d, "empty-option", 3));

  d = load_text("A | a\n  B | b\n    ? age >>= 3\n");
  CHECK(d.has_errors());
  bool on_line = false;
  for (const auto& x : d.all()) on_line |= (x.where.line == 3 && x.severity == Severity::error);
  CHECK(on_line);

  d = load_text("A | a\n  B | b\n    ?\n");
  CHECK(has(d, "bad-condition", 3));

  // Good conditions and several value lines add up.
  DiagnosticList ok;
  auto t = tax::load_tax_text("A | a\n  B | b\n    = x @2 | y\n    = z\n    ? age >= 3\n    ? not gender = male\n",
                              "ok.tax", ok);
  INFO(tax_test::dump(ok));
  REQUIRE(t);
  CHECK((*t)[*t->find("A/B")].values.size() == 3);
  CHECK((*t)[*t->find("A/B")].conditions.size() == 2);
}

TEST_CASE("empty, truncated and binary files", "[taxonomy][errors]") {
  DiagnosticList d;
  CHECK_FALSE(tax::load(data("empty.tax"), d));
  CHECK(has(d, "empty-file"));
  d.clear();
  CHECK_FALSE(tax::load(data("comments-only.tax"), d));
  CHECK(has(d, "empty-file"));
  d.clear();
  CHECK_FALSE(tax::load(data("binary.tax"), d));
  CHECK(has(d, "binary-file", 2));
  d.clear();
  CHECK_FALSE(tax::load_tax_text("A | caf\xC3 ok\n", "u.tax", d));
  CHECK(has(d, "invalid-utf8", 1));

  d.clear();
  auto t = tax::load_tax_text("A | a\n  B | b", "t.tax", d);
  CHECK(t);  // a warning only
  CHECK(has(d, "truncated", 2));

  d.clear();
  CHECK_FALSE(tax::load("/definitely/not/here.tax", d));
  REQUIRE(has(d, "file-not-found"));
  CHECK(d.all().front().message.find("/definitely/not/here.tax") != std::string::npos);
  CHECK(d.all().front().where.file == "/definitely/not/here.tax");
}

TEST_CASE("depth limit warning", "[taxonomy][errors]") {
  tax::LoadOptions opts;
  opts.warn_depth = 4;
  DiagnosticList d;
  auto t = tax::load(data("small.tax"), d, opts);
  REQUIRE(t);
  CHECK_FALSE(d.has_errors());
  CHECK(has(d, "depth-limit", 32));
  CHECK_FALSE(has(d, "depth-limit", 31));
}

TEST_CASE("JSON structure errors name the line", "[taxonomy][errors][json]") {
  DiagnosticList d;
  CHECK_FALSE(tax::load(data("wrong-types.json"), d));
  INFO(tax_test::dump(d));
  CHECK(has(d, "json-type", 3));  // array
  CHECK(has(d, "json-type", 4));  // string
  CHECK(has(d, "json-type", 5));  // number

  d.clear();
  CHECK_FALSE(tax::load(data("truncated.json"), d));
  CHECK(has(d, "truncated", 3));

  d = load_json("{\n  \"A\": {\n    \"B\": {},\n    \"C\": {} \"D\": {}\n  }\n}\n");
  REQUIRE(has(d, "json-syntax", 4));
  CHECK(d.all().front().where.column >= 13);  // at or just after the unexpected "D"
  CHECK(d.all().front().where.column <= 16);

  d = load_json("[1, 2]");
  CHECK(has(d, "json-type", 1));
  d = load_json("\"text\"");
  CHECK(has(d, "json-type", 1));
  d = load_json("   \n");
  CHECK(has(d, "empty-file"));
  d = load_json("{}");
  CHECK(has(d, "empty-file"));
  d = load_json("{\"A\": {\"\": {}}}");
  CHECK(has(d, "empty-name", 1));

  // Duplicates and sanitised names are warnings in the foreign format.
  d = load_json(
      "{\n  \"A\": {\n    \"Work Style\": {},\n    \"WorkStyle\": {},\n    \"Fraternity/Sorority\": {}\n  }\n}\n");
  CHECK_FALSE(d.has_errors());
  CHECK(has(d, "duplicate-sibling", 4));
  CHECK(has(d, "name-sanitized", 5));
  d = load_json("{\"A\": {\"B\": {}, \"B\": {}}}");
  CHECK(has(d, "duplicate-key", 1));
}

TEST_CASE("cycles and multiple parents in a raw graph are reported", "[taxonomy][errors]") {
  tax::Graph g;
  auto add = [&](const std::string& name, std::uint32_t line) {
    tax::Node n;
    n.name = name;
    n.where = SourceRange{"g.json", line, 1, 0};
    return boost::add_vertex(n, g);
  };
  const auto a = add("A", 1), b = add("B", 2), c = add("C", 3);
  boost::add_edge(a, b, g);
  boost::add_edge(b, c, g);
  boost::add_edge(c, b, g);  // cycle B -> C -> B (B also gets two parents)
  DiagnosticList d;
  CHECK_FALSE(tax::Taxonomy::from_graph(g, d));
  INFO(tax_test::dump(d));
  CHECK(has(d, "cycle"));
  CHECK(has(d, "multiple-parents", 2));

  tax::Graph ok;
  const auto x = boost::add_vertex(tax::Node{"X", "", "", 0, {}, {}, {}, {}}, ok);
  const auto y = boost::add_vertex(tax::Node{"Y", "", "", 0, {}, {}, {}, {}}, ok);
  boost::add_edge(x, y, ok);
  d.clear();
  auto t = tax::Taxonomy::from_graph(ok, d);
  REQUIRE(t);
  CHECK((*t)[y].path == "X/Y");
  CHECK((*t)[y].depth == 2);
}

TEST_CASE("diagnostics render as FILE:LINE:COL", "[taxonomy][errors]") {
  SourceFiles sources;
  tax::LoadOptions opts;
  opts.sources = &sources;
  DiagnosticList d;
  CHECK_FALSE(tax::load(data("tabs.tax"), d, opts));
  REQUIRE(d.has_errors());
  const std::string r = render(d.all().front(), &sources);
  CHECK(r.find(data("tabs.tax") + ":2:1: error:") != std::string::npos);
}

TEST_CASE("taxonomy nested deeper than the limit is an error at the first too-deep node, not a crash",
          "[taxonomy][errors][limits]") {
  // .tax: 30,000 levels would overflow recursive walks; the loader stops at the 65th level.
  std::string tax;
  for (int d = 0; d < 30000; ++d)
    tax += std::string(static_cast<std::size_t>(2 * d), ' ') + "N" + std::to_string(d) + " | n\n";
  auto d = load_text(tax);
  INFO(tax_test::dump(d));
  REQUIRE(has(d, "too-deep", 65));
  CHECK(d.all().front().message.find("nested too deeply") != std::string::npos);

  // JSON: {"a":{"a":...}} 30,000 deep (the nesting that crashed the loader with SIGSEGV).
  std::string json;
  for (int k = 0; k < 30000; ++k) json += "{\"a\":";
  json += "{}";
  json += std::string(30000, '}');
  d = load_json(json);
  INFO(tax_test::dump(d));
  REQUIRE(has(d, "too-deep", 1));
  CHECK(d.all().front().where.column > 64 * 5);

  // 64 levels load.
  tax.clear();
  for (int k = 0; k < 64; ++k)
    tax += std::string(static_cast<std::size_t>(2 * k), ' ') + "N" + std::to_string(k) + " | n\n";
  d = load_text(tax);
  CHECK_FALSE(d.has_errors());
}

TEST_CASE("20,000 parentheses in a .tax condition are a positioned nested-too-deeply error, not a crash",
          "[taxonomy][errors][limits]") {
  const std::string cond = std::string(20000, '(') + "age >= 12" + std::string(20000, ')');
  auto d = load_text("Lifestyle | l\n  Sleep | s\n    Chronotype | c\n      = a @1 | b @2\n      ? " + cond + "\n");
  INFO(tax_test::dump(d));
  REQUIRE(d.has_errors());
  bool found = false;
  for (const auto& x : d.all())
    if (x.where.line == 5 && x.message.find("nested too deeply") != std::string::npos) found = true;
  CHECK(found);
}
