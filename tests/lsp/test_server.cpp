// The language server core, in-process: one message in, the messages to send out.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "diag/source.hpp"
#include "frontend/frontend.hpp"
#include "repl/repl.hpp"
#include "session.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;

namespace {

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto p = s.find(from);
  REQUIRE(p != std::string::npos);
  s.replace(p, from.size(), to);
  return s;
}

fs::path scratch(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("persona-lsp-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

// The error diagnostics (severity 1) of a publication, leaving out the checker's warnings.
json errors_only(const json& diags) {
  json out = json::array();
  for (const auto& d : diags)
    if (d.value("severity", 0) == 1) out.push_back(d);
  return out;
}

}  // namespace

TEST_CASE("initialize announces every feature and agrees to UTF-8 positions only when the client offers them") {
  lsp::Server server;
  auto out = server.handle({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", json::object()}});
  REQUIRE(out.size() == 1);
  const json caps = out[0]["result"]["capabilities"];
  CHECK(caps["positionEncoding"] == "utf-16");
  CHECK(caps["textDocumentSync"]["change"] == 2);
  CHECK(caps["hoverProvider"] == true);
  CHECK(caps["definitionProvider"] == true);
  CHECK(caps["documentFormattingProvider"] == true);
  CHECK(caps["documentSymbolProvider"] == true);
  CHECK(caps["completionProvider"]["triggerCharacters"].size() == 3);
  CHECK(out[0]["result"]["serverInfo"]["name"] == "persona");

  LspSession s({}, {{"capabilities", {{"general", {{"positionEncodings", {"utf-8", "utf-16"}}}}}}});
  lsp::Server again;
  auto r = again.handle({{"jsonrpc", "2.0"},
                         {"id", 1},
                         {"method", "initialize"},
                         {"params", {{"capabilities", {{"general", {{"positionEncodings", {"utf-8"}}}}}}}}});
  CHECK(r[0]["result"]["capabilities"]["positionEncoding"] == "utf-8");
}

TEST_CASE("a request before initialize is refused with ServerNotInitialized, and a second initialize is refused") {
  lsp::Server server;
  auto out =
      server.handle({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "textDocument/hover"}, {"params", json::object()}});
  REQUIRE(out.size() == 1);
  CHECK(out[0]["id"] == 7);
  CHECK(out[0]["error"]["code"] == lsp::server_not_initialized);
  LspSession s;
  const json again = s.request("initialize", json::object());
  CHECK(again["error"]["code"] == lsp::invalid_request);
}

TEST_CASE("didOpen of a recipe with an error publishes the checker's message and range, as persona check prints it") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string bad = replace_once(read_text(path), "by country, gender truncate", "by countyr, gender truncate");
  const json diags = s.open(path, bad);
  REQUIRE(diags.size() == 1);
  const json& d = diags[0];
  CHECK(d["severity"] == 1);
  CHECK(d["code"] == "undefined-name");
  CHECK(d["source"] == "persona");
  const auto [line, col] = where(bad, "countyr");
  CHECK(d["range"]["start"]["line"] == line);
  CHECK(d["range"]["start"]["character"] == col);
  CHECK(d["range"]["end"]["character"] == col + 7);

  // The same text as the CLI: its first line's message, then each note.
  SourceFiles sources;
  DiagnosticList cli;
  (void)frontend::load_recipe_text(bad, path, sources, cli);
  REQUIRE(cli.all().size() == 1);
  const std::string rendered = render(cli.all()[0], &sources, false);
  const std::string first = d["message"].get<std::string>().substr(0, d["message"].get<std::string>().find('\n'));
  CHECK(rendered.find(": error: " + first + "\n") != std::string::npos);
  CHECK(d["message"].get<std::string>().find("note: did you mean 'country'?") != std::string::npos);
  CHECK(rendered.find("note: did you mean 'country'?") != std::string::npos);
}

TEST_CASE("an incremental didChange that fixes the error clears the diagnostics, and a full change brings them back") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string bad = replace_once(read_text(path), "by country, gender truncate", "by countyr, gender truncate");
  REQUIRE(s.open(path, bad).size() == 1);
  const auto [line, col] = where(bad, "countyr");
  auto out = s.notify(
      "textDocument/didChange",
      {{"textDocument", {{"uri", lsp::path_to_uri(path)}, {"version", 2}}},
       {"contentChanges",
        {{{"range",
           {{"start", {{"line", line}, {"character", col + 5}}}, {"end", {{"line", line}, {"character", col + 7}}}}},
          {"text", "ry"}}}}});
  REQUIRE(out.size() == 1);
  CHECK(out[0]["method"] == "textDocument/publishDiagnostics");
  CHECK(out[0]["params"]["version"] == 2);
  CHECK(out[0]["params"]["diagnostics"].empty());

  out = s.notify("textDocument/didChange", {{"textDocument", {{"uri", lsp::path_to_uri(path)}, {"version", 3}}},
                                            {"contentChanges", {{{"text", "anchor x ~ table stdlib.nope\n"}}}}});
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0]["params"]["diagnostics"].empty());
}

TEST_CASE("positions count UTF-16 code units: an error after non-ASCII text is placed under the right characters") {
  LspSession s;
  const fs::path p = scratch("utf16.persona");
  // "é" is one UTF-16 unit (two bytes), "😀" two units (four bytes).
  const std::string text = "recipe \"x\" version \"1\"\nanchor a = \"é😀\"  anchor b ~ table stdlib.nope\n";
  const json diags = errors_only(s.open(p.string(), text));
  REQUIRE_FALSE(diags.empty());
  const json& d = diags[0];
  const std::size_t bytes = text.find("stdlib.nope") - text.find("anchor a");
  CHECK(d["range"]["start"]["line"] == 1);
  CHECK(d["range"]["start"]["character"] == bytes - 1 - 2);  // é: 2 bytes -> 1 unit; 😀: 4 bytes -> 2 units
}

TEST_CASE("an unknown request gets MethodNotFound, an unknown notification is logged, a response is ignored") {
  LspSession s;
  const json r = s.request("textDocument/rename", json::object());
  CHECK(r["error"]["code"] == lsp::method_not_found);
  const auto out = s.notify("custom/thing", json::object());
  REQUIRE(out.size() == 1);
  CHECK(out[0]["method"] == "window/logMessage");
  CHECK(s.server.handle({{"jsonrpc", "2.0"}, {"id", 99}, {"result", nullptr}}).empty());
  CHECK(s.notify("$/cancelRequest", {{"id", 1}}).empty());
}

TEST_CASE("requests with missing or mistyped parameters get InvalidParams, naming the parameter") {
  LspSession s;
  json r = s.request("textDocument/hover", {{"textDocument", {{"uri", "file:///nowhere.persona"}}},
                                            {"position", {{"line", 0}, {"character", 0}}}});
  CHECK(r["error"]["code"] == lsp::invalid_params);
  CHECK(r["error"]["message"].get<std::string>().find("not open") != std::string::npos);
  s.open(example("quickstart.persona"), read_text(example("quickstart.persona")));
  r = s.request("textDocument/hover", {{"textDocument", {{"uri", lsp::path_to_uri(example("quickstart.persona"))}}},
                                       {"position", {{"line", -1}, {"character", "x"}}}});
  CHECK(r["error"]["code"] == lsp::invalid_params);
  CHECK(r["error"]["message"].get<std::string>().find("position.line") != std::string::npos);
  // A bad notification is logged, never answered.
  const auto out = s.notify("textDocument/didChange", {{"textDocument", 3}});
  REQUIRE(out.size() == 1);
  CHECK(out[0]["method"] == "window/logMessage");
  // Not an object, a non-string method, an id of the wrong type.
  auto bad = s.server.handle(json::array({1, 2}));
  REQUIRE(bad.size() == 1);
  CHECK(bad[0]["error"]["code"] == lsp::invalid_request);
  bad = s.server.handle({{"jsonrpc", "2.0"}, {"id", {1}}, {"method", "shutdown"}});
  CHECK(bad[0]["error"]["code"] == lsp::invalid_request);
}

TEST_CASE("text that is not JSON gets a ParseError response with a null id") {
  LspSession s;
  auto out = s.server.handle_text("{\"jsonrpc\": \"2.0\", \"id\": 1, ");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["error"]["code"] == lsp::parse_error);
  CHECK(out[0]["id"].is_null());
  out = s.server.handle_text("{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"\xff\xfe\"}");
  REQUIRE(out.size() == 1);
  CHECK(out[0]["error"]["code"] == lsp::parse_error);
}

TEST_CASE("completion at the start of a line offers the statement keywords with their :doc text") {
  LspSession s;
  const fs::path p = scratch("start.persona");
  const std::string text = "recipe \"x\"\nan\n";
  s.open(p.string(), text);
  const json r = s.at("textDocument/completion", p.string(), 1, 2);
  const auto l = labels(r);
  CHECK(has(l, "anchor"));
  CHECK(has(l, "story"));
  CHECK(has(l, "attributes"));
  CHECK_FALSE(has(l, "uniform"));
  for (const auto& item : r["result"]["items"])
    if (item["label"] == "anchor") {
      CHECK(item["documentation"]["value"] == std::string(repl::find_doc("anchor")->text));
      CHECK(item["textEdit"]["range"]["start"]["character"] == 0);
      CHECK(item["textEdit"]["range"]["end"]["character"] == 2);
    }
}

TEST_CASE("completion after ~ offers the distribution families and table, after `table` the stdlib and recipe tables") {
  LspSession s;
  const fs::path p = scratch("tables.persona");
  const std::string text =
      "table regions = \"regions.csv\"\ndistribution adult = uniform(18, 90)\nanchor a ~ \nanchor b ~ table \n";
  s.open(p.string(), text);
  auto l = labels(s.at("textDocument/completion", p.string(), 2, 11));
  CHECK(has(l, "uniform"));
  CHECK(has(l, "normal"));
  CHECK(has(l, "lognormal"));
  CHECK(has(l, "table"));
  CHECK(has(l, "adult"));
  l = labels(s.at("textDocument/completion", p.string(), 3, 17));
  CHECK(has(l, "stdlib.countries"));
  CHECK(has(l, "stdlib.age_structure"));
  CHECK(has(l, "regions"));
  CHECK_FALSE(has(l, "uniform"));
}

TEST_CASE("completion after `by` offers the anchors and the facts their tables derive") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path) + "anchor extra ~ table stdlib.cities by \n";
  s.open(path, text);
  const lsp::Text t(text);
  const auto last = static_cast<std::uint32_t>(t.line_count() - 2);
  const auto l =
      labels(s.at("textDocument/completion", path, last, static_cast<std::uint32_t>(t.line_text(last).size())));
  CHECK(has(l, "country"));
  CHECK(has(l, "age"));
  CHECK(has(l, "employment"));    // derived by stdlib.occupations
  CHECK_FALSE(has(l, "values"));  // a story step is not a fact
}

TEST_CASE("completion inside an include glob offers the taxonomy paths below the typed parent") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  // Top level: the categories.
  auto [line, col] = where(text, "\"Career and Work Identity/**\"", 1);
  auto r = s.at("textDocument/completion", path, line, col);
  auto l = labels(r);
  CHECK(l.size() == 12);
  CHECK(has(l, "Career and Work Identity/"));
  // Below a category: its children, inserted as full paths.
  std::tie(line, col) =
      where(text, "\"Career and Work Identity/**\"", 1 + std::string("Career and Work Identity/").size());
  r = s.at("textDocument/completion", path, line, col);
  l = labels(r);
  REQUIRE_FALSE(l.empty());
  CHECK(has(l, "Current Occupation/"));
  for (const auto& item : r["result"]["items"]) {
    CHECK(item["textEdit"]["newText"].get<std::string>().starts_with("Career and Work Identity/"));
    CHECK(item["textEdit"]["range"]["start"]["character"] == col - 25);
  }
}

TEST_CASE("completion in a comment offers nothing, in a story's from list it offers anchors and steps") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  auto [line, col] = where(text, "Quickstart: adults", 3);
  CHECK(labels(s.at("textDocument/completion", path, line, col)).empty());
  std::tie(line, col) = where(text, "from values, attitude", 5);
  const auto l = labels(s.at("textDocument/completion", path, line, col));
  CHECK(has(l, "values"));
  CHECK(has(l, "age"));
  CHECK(has(l, "employment"));
}

TEST_CASE("hover on a keyword shows the REPL's :doc text, on a name its declaration") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  auto [line, col] = where(text, "truncate 18..90", 2);
  json r = s.at("textDocument/hover", path, line, col);
  const std::string doc = r["result"]["contents"]["value"];
  CHECK(doc.find(std::string(repl::find_doc("truncate")->text)) != std::string::npos);
  CHECK(doc.find("(keyword)") != std::string::npos);
  std::tie(line, col) = where(text, "from values, attitude", 6);
  r = s.at("textDocument/hover", path, line, col);
  CHECK(r["result"]["contents"]["value"].get<std::string>().find("values    <- llm \"core values\"") !=
        std::string::npos);
  std::tie(line, col) = where(text, "stdlib.countries", 3);
  r = s.at("textDocument/hover", path, line, col);
  CHECK(r["result"]["contents"]["value"].get<std::string>().find(
            std::string(repl::find_doc("stdlib.countries")->text)) != std::string::npos);
  // Nothing to say about a number.
  std::tie(line, col) = where(text, "seed 7", 5);
  CHECK(s.at("textDocument/hover", path, line, col)["result"].is_null());
}

TEST_CASE("hover inside a glob shows the taxonomy node's path, description, children and what the glob matches") {
  LspSession s;
  const fs::path p = scratch("hover-glob.persona");
  const std::string text =
      "attributes {\n  include \"Lifestyle and Daily Routine/Sleep/Sleep Timing/Chronotype\"\n  exclude "
      "\"Lifestyle and Daily Routine/**\"\n}\n";
  s.open(p.string(), text);
  auto [line, col] = where(text, "Chronotype\"", 2);
  json r = s.at("textDocument/hover", p.string(), line, col);
  std::string md = r["result"]["contents"]["value"];
  CHECK(md.find("**Lifestyle and Daily Routine/Sleep/Sleep Timing/Chronotype** (attribute)") != std::string::npos);
  CHECK(md.find("Natural preference for mornings or evenings") != std::string::npos);
  CHECK(md.find("morning person (25%)") != std::string::npos);
  // The segment under the cursor: "Sleep" of the first glob.
  std::tie(line, col) = where(text, "Sleep/Sleep Timing", 1);
  md = s.at("textDocument/hover", p.string(), line, col)["result"]["contents"]["value"];
  CHECK(md.find("**Lifestyle and Daily Routine/Sleep**") != std::string::npos);
  CHECK(md.find("Children: Sleep Timing") != std::string::npos);
  std::tie(line, col) = where(text, "Routine/**", 9);
  md = s.at("textDocument/hover", p.string(), line, col)["result"]["contents"]["value"];
  CHECK(md.find("`Lifestyle and Daily Routine/**` matches") != std::string::npos);
}

TEST_CASE("go to definition: a story input to its step, a `by` name to its anchor, a derived fact to its anchor") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  auto [line, col] = where(text, "from values, attitude", 6);
  json r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(path));
  CHECK(r["range"]["start"] == json{{"line", where(text, "values    <-").first}, {"character", 2}});
  std::tie(line, col) = where(text, "by country, gender truncate", 4);
  r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["range"]["start"]["line"] == where(text, "anchor country").first);
  CHECK(r["range"]["start"]["character"] == 7);
  std::tie(line, col) = where(text, "when employment", 6);
  r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["range"]["start"]["line"] == where(text, "anchor occupation").first);
}

TEST_CASE("go to definition crosses files: an imported distribution, the extended recipe and a stdlib table") {
  LspSession s;
  const std::string base = example("survey-base.persona");
  const std::string text = read_text(base);
  s.open(base, text);
  auto [line, col] = where(text, "~ adult_age", 3);
  json r = s.at("textDocument/definition", base, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(example("lib/common.persona")));
  const std::string lib = read_text(example("lib/common.persona"));
  CHECK(r["range"]["start"]["line"] == where(lib, "adult_age").first);

  std::tie(line, col) = where(text, "\"lib/common.persona\"", 3);
  r = s.at("textDocument/definition", base, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(example("lib/common.persona")));

  const std::string india = example("survey-india.persona");
  const std::string itext = read_text(india);
  s.open(india, itext);
  std::tie(line, col) = where(itext, "\"survey-base.persona\"", 2);
  r = s.at("textDocument/definition", india, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(base));
  std::tie(line, col) = where(itext, "by country", 4);  // `country` is declared in both: this file's wins
  r = s.at("textDocument/definition", india, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(india));

  std::tie(line, col) = where(text, "stdlib.sex_ratio", 8);
  r = s.at("textDocument/definition", base, line, col)["result"];
  CHECK(r["uri"].get<std::string>().ends_with("/stdlib/tables/sex_ratio.toml"));
}

TEST_CASE("go to definition inside a glob goes to the taxonomy node's line in its .tax file") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  const auto [line, col] = where(text, "\"Career and Work Identity/**\"", 3);
  const json r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["uri"].get<std::string>().ends_with("/stdlib/taxonomy/core/02-career-and-work-identity.tax"));
  CHECK(r["range"]["start"]["line"] == 1);
}

TEST_CASE("formatting returns persona fmt's text as one edit, a recipe that does not parse gets null and a warning") {
  LspSession s;
  const fs::path p = scratch("fmt.persona");
  const std::string messy = "recipe   \"x\" version \"1\"\nanchor   age ~ uniform( 18,90 )  round\n";
  s.open(p.string(), messy);
  json r = s.request("textDocument/formatting", {{"textDocument", {{"uri", lsp::path_to_uri(p.string())}}},
                                                 {"options", {{"tabSize", 2}, {"insertSpaces", true}}}});
  REQUIRE(r["result"].size() == 1);
  const std::string formatted = r["result"][0]["newText"];
  CHECK(formatted.find("anchor age ~ uniform(18, 90) round") != std::string::npos);
  CHECK(r["result"][0]["range"]["start"] == json{{"line", 0}, {"character", 0}});
  CHECK(r["result"][0]["range"]["end"] == json{{"line", 2}, {"character", 0}});

  // Already formatted: no edits.
  const std::string path = example("quickstart.persona");
  s.open(path, read_text(path));
  r = s.request("textDocument/formatting",
                {{"textDocument", {{"uri", lsp::path_to_uri(path)}}}, {"options", json::object()}});
  CHECK(r["result"] == json::array());

  s.open(p.string(), "anchor age ~ uniform(18,\n");
  r = s.request("textDocument/formatting",
                {{"textDocument", {{"uri", lsp::path_to_uri(p.string())}}}, {"options", json::object()}});
  CHECK(r["result"].is_null());
  REQUIRE(s.notes.size() == 1);
  CHECK(s.notes[0]["method"] == "window/logMessage");
  CHECK(s.notes[0]["params"]["message"].get<std::string>().find("syntax error") != std::string::npos);
}

TEST_CASE("document symbols list every statement, with story steps and attribute settings as children") {
  LspSession s;
  const std::string path = example("kenya-adults.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  const json r =
      s.request("textDocument/documentSymbol", {{"textDocument", {{"uri", lsp::path_to_uri(path)}}}})["result"];
  std::vector<std::string> names;
  for (const auto& sym : r) names.push_back(sym["name"]);
  CHECK(names == std::vector<std::string>{"kenya-adults", "stdlib.core", "seed", "country", "gender", "age",
                                          "occupation", "settlement", "city", "name", "story", "attributes",
                                          "narrative", "model", "output"});
  const json& story = r[10];
  REQUIRE(story["children"].size() == 5);
  CHECK(story["children"][3]["name"] == "profile");
  CHECK(story["children"][3]["kind"] == 6);
  // The profile step spans its triple-quoted prompt.
  CHECK(story["children"][3]["range"]["end"]["line"] == where(text, "Keep the motto").first + 1);
  CHECK(r[11]["children"].size() == 7);
  CHECK(r[3]["kind"] == 13);
  CHECK(r[3]["detail"] == "anchor = \"Kenya\"");
}

TEST_CASE("a document over the size limit gets one diagnostic and no analysis, the server keeps serving") {
  lsp::ServerOptions o;
  o.max_document_bytes = 1000;
  LspSession s(o);
  const fs::path p = scratch("huge.persona");
  const std::string text = "# " + std::string(5000, 'x') + "\nanchor a ~ table stdlib.nope\n";
  const json diags = s.open(p.string(), text);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0]["code"] == "too-large");
  CHECK(diags[0]["message"].get<std::string>().find("at most 1000 bytes") != std::string::npos);
  CHECK(s.at("textDocument/completion", p.string(), 1, 3)["result"].empty());
  CHECK(s.request("textDocument/documentSymbol", {{"textDocument", {{"uri", lsp::path_to_uri(p.string())}}}})["result"]
            .empty());
  CHECK(s.request("shutdown", nullptr)["result"].is_null());
}

TEST_CASE("a document whose text is not UTF-8 is one diagnostic naming the line, not a crash") {
  LspSession s;
  const fs::path p = scratch("latin1.persona");
  json diags = s.open(p.string(), "recipe \"x\"\n# caf\xe9\n");
  REQUIRE(diags.size() == 1);
  CHECK(diags[0]["code"] == "invalid-utf8");
  CHECK(diags[0]["message"].get<std::string>().find("line 2") != std::string::npos);
  // The published notification still serialises (the bad byte is never echoed raw).
  for (const auto& m : s.notes) CHECK_NOTHROW(m.dump(-1, ' ', false, json::error_handler_t::strict));
}

TEST_CASE("an error inside an imported file is reported at the import, with the CLI's text and a link to its line") {
  LspSession s;
  const fs::path lib = scratch("broken-lib.persona");
  { std::ofstream(lib) << "distribution d = uniform(5)\n"; }
  const fs::path p = scratch("uses-lib.persona");
  const std::string text = "recipe \"x\" version \"1\"\nimport \"broken-lib.persona\"\nanchor a ~ d\n";
  const json diags = errors_only(s.open(p.string(), text));
  REQUIRE(diags.size() == 1);
  const json& d = diags[0];
  CHECK(d["range"]["start"] == json{{"line", 1}, {"character", 7}});
  CHECK(d["message"] == lib.string() + ":1:18: uniform takes 2 arguments, got 1");
  REQUIRE(d.contains("relatedInformation"));
  const json& rel = d["relatedInformation"][0];
  CHECK(rel["location"]["uri"] == lsp::path_to_uri(lib.string()));
  CHECK(rel["location"]["range"]["start"] == json{{"line", 0}, {"character", 17}});
}

TEST_CASE("closing a document clears its diagnostics, saving any file checks the open documents again") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  s.open(path, read_text(path));
  auto out = s.notify("textDocument/didSave", {{"textDocument", {{"uri", lsp::path_to_uri(path)}}}});
  REQUIRE(out.size() == 1);
  CHECK(out[0]["method"] == "textDocument/publishDiagnostics");
  out = s.notify("textDocument/didClose", {{"textDocument", {{"uri", lsp::path_to_uri(path)}}}});
  REQUIRE(out.size() == 1);
  CHECK(out[0]["params"]["diagnostics"].empty());
  const json r = s.at("textDocument/hover", path, 0, 0);
  CHECK(r["error"]["code"] == lsp::invalid_params);
}

TEST_CASE("shutdown then exit ends with code 0, requests after shutdown are refused, exit alone ends with 1") {
  {
    LspSession s;
    CHECK(s.request("shutdown", nullptr)["result"].is_null());
    CHECK(s.request("textDocument/hover", json::object())["error"]["code"] == lsp::invalid_request);
    CHECK_FALSE(s.server.exited());
    s.notify("exit", nullptr);
    CHECK(s.server.exited());
    CHECK(s.server.exit_code() == 0);
  }
  LspSession s;
  s.notify("exit", nullptr);
  CHECK(s.server.exited());
  CHECK(s.server.exit_code() == 1);
}

TEST_CASE("URIs convert to paths and back, with percent escapes, other schemes are not files") {
  CHECK(lsp::uri_to_path("file:///a/b%20c.persona") == "/a/b c.persona");
  CHECK(lsp::uri_to_path("file://localhost/x.persona") == "/x.persona");
  CHECK_FALSE(lsp::uri_to_path("untitled:Untitled-1").has_value());
  CHECK_FALSE(lsp::uri_to_path("file:///a%2").has_value());
  CHECK_FALSE(lsp::uri_to_path("file:///a%00b").has_value());
  CHECK(lsp::path_to_uri("/a/b c/é.persona") == "file:///a/b%20c/%C3%A9.persona");
  CHECK(lsp::uri_to_path(lsp::path_to_uri("/a/b c/é#1.persona")) == "/a/b c/é#1.persona");
}

TEST_CASE("an untitled document is checked too, and completion works in it") {
  LspSession s;
  auto out = s.notify("textDocument/didOpen", {{"textDocument",
                                                {{"uri", "untitled:Untitled-1"},
                                                 {"languageId", "persona"},
                                                 {"version", 1},
                                                 {"text", "anchor a ~ uniform(2, 1)\n"}}}});
  REQUIRE(out.size() == 1);
  CHECK_FALSE(out[0]["params"]["diagnostics"].empty());
  const json r = s.request("textDocument/completion", {{"textDocument", {{"uri", "untitled:Untitled-1"}}},
                                                       {"position", {{"line", 1}, {"character", 0}}}});
  CHECK(has(labels(r), "story"));
}

TEST_CASE("go to definition of a user table: the name to its declaration, the declaration's path to the file") {
  LspSession s;
  const std::string path = example("custom-tables.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  auto [line, col] = where(text, "table regions by", 8);
  json r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(path));
  CHECK(r["range"]["start"] == json{{"line", where(text, "table regions =").first}, {"character", 6}});
  std::tie(line, col) = where(text, "\"data/regions.csv\"", 3);
  r = s.at("textDocument/definition", path, line, col)["result"];
  CHECK(r["uri"] == lsp::path_to_uri(example("data/regions.csv")));
}

TEST_CASE("completion inside an import string lists the recipes and folders next to the recipe") {
  LspSession s;
  const std::string path = example("survey-base.persona");
  const std::string text = read_text(path);
  s.open(path, text);
  auto [line, col] = where(text, "\"lib/common.persona\"", 1);
  auto l = labels(s.at("textDocument/completion", path, line, col));
  CHECK(has(l, "lib/"));
  CHECK(has(l, "quickstart.persona"));
  std::tie(line, col) = where(text, "\"lib/common.persona\"", 5);
  const json r = s.at("textDocument/completion", path, line, col);
  l = labels(r);
  CHECK(has(l, "common.persona"));
  CHECK(r["result"]["items"][0]["textEdit"]["newText"] == "lib/common.persona");
}

TEST_CASE("completion inside the attributes block offers its settings, and after walk the walk kinds") {
  LspSession s;
  const fs::path p = scratch("attrs.persona");
  const std::string text = "attributes {\n  co\n  walk \n}\n";
  s.open(p.string(), text);
  auto l = labels(s.at("textDocument/completion", p.string(), 1, 4));
  CHECK(has(l, "count"));
  CHECK(has(l, "context"));
  CHECK_FALSE(has(l, "anchor"));
  l = labels(s.at("textDocument/completion", p.string(), 2, 7));
  CHECK(l == std::vector<std::string>{"random-bfs", "bfs", "dfs"});
}

TEST_CASE("every feature answers at every position of every example, and of its prefixes as they are typed") {
  LspSession s;
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(PERSONA_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".persona") files.push_back(e.path().lexically_normal().string());
  REQUIRE(files.size() >= 6);
  std::size_t answered = 0;
  for (const auto& path : files) {
    const std::string text = read_text(path);
    s.open(path, text);
    const lsp::Text t(text);
    for (std::uint32_t line = 0; line < t.line_count(); ++line) {
      const auto width = static_cast<std::uint32_t>(t.line_text(line).size());
      for (std::uint32_t ch = 0; ch <= width + 1; ++ch)
        for (const char* m : {"textDocument/completion", "textDocument/hover", "textDocument/definition"}) {
          const json r = s.at(m, path, line, ch);
          INFO(path << ":" << line + 1 << ":" << ch + 1 << " " << m);
          REQUIRE(r.contains("result"));
          ++answered;
        }
    }
    // Typing the file from the start: every prefix is checked, outlined and completed at its end.
    const std::string scratch_path = path + ".typing";
    for (std::size_t n = 0; n <= text.size(); n += 5) {
      const std::string prefix = text.substr(0, n);
      const json diags = s.open(scratch_path, prefix);
      CHECK(diags.is_array());
      const lsp::Text pt(prefix);
      const auto end = pt.position(prefix.size(), lsp::Encoding::utf16);
      REQUIRE(s.at("textDocument/completion", scratch_path, end.line, end.character).contains("result"));
      REQUIRE(s.request("textDocument/documentSymbol", {{"textDocument", {{"uri", lsp::path_to_uri(scratch_path)}}}})
                  .contains("result"));
    }
  }
  CHECK(answered > 10000);
}

TEST_CASE("completion inside an always glob offers the taxonomy paths, and always is an attributes setting") {
  LspSession s;
  const std::string path = example("quickstart.persona");
  const std::string text =
      replace_once(read_text(path), "  batch 84\n", "  always \"Lifestyle and Daily Routine/**\"\n  batch 84\n");
  s.open(path, text);
  auto [line, col] =
      where(text, "\"Lifestyle and Daily Routine/**\"", 1 + std::string("Lifestyle and Daily Routine/").size());
  const auto r = s.at("textDocument/completion", path, line, col);
  const auto l = labels(r);
  REQUIRE_FALSE(l.empty());
  CHECK(has(l, "Money Habits/"));
  for (const auto& item : r["result"]["items"])
    CHECK(item["textEdit"]["newText"].get<std::string>().starts_with("Lifestyle and Daily Routine/"));
  const fs::path p = scratch("always.persona");
  s.open(p.string(), "attributes {\n  al\n}\n");
  CHECK(has(labels(s.at("textDocument/completion", p.string(), 1, 4)), "always"));
}
