// The real `persona lsp` binary over pipes, driven the way an editor drives it.
#include <catch2/catch.hpp>

#include "lsp_client.hpp"
#include "session.hpp"

using namespace persona;
using namespace persona::test;

namespace {

json req(int id, const std::string& method, json params) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}
json note(const std::string& method, json params) {
  return {{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}};
}
json at(const std::string& uri, std::pair<std::uint32_t, std::uint32_t> p) {
  return {{"textDocument", {{"uri", uri}}}, {"position", {{"line", p.first}, {"character", p.second}}}};
}

}  // namespace

TEST_CASE(
    "a scripted editor session against persona lsp: diagnostics, completion, hover, definition, formatting, "
    "symbols, shutdown and exit") {
  LspProcess lsp;
  lsp.send(req(1, "initialize", {{"processId", nullptr}, {"rootUri", nullptr}, {"capabilities", json::object()}}));
  auto r = lsp.response_to(1);
  REQUIRE(r);
  CHECK((*r)["result"]["capabilities"]["hoverProvider"] == true);
  lsp.send(note("initialized", json::object()));

  const std::string path = example("quickstart.persona");
  const std::string uri = lsp::path_to_uri(path);
  const std::string good = read_text(path);
  std::string bad = good;
  bad.replace(bad.find("stdlib.sex_ratio"), 16, "stdlib.sex_ratoi");
  lsp.send(note("textDocument/didOpen",
                {{"textDocument", {{"uri", uri}, {"languageId", "persona"}, {"version", 1}, {"text", bad}}}}));
  auto d = lsp.receive();
  REQUIRE(d);
  CHECK((*d)["method"] == "textDocument/publishDiagnostics");
  REQUIRE((*d)["params"]["diagnostics"].size() == 1);
  CHECK((*d)["params"]["diagnostics"][0]["message"].get<std::string>().find("stdlib.sex_ratoi") != std::string::npos);
  CHECK((*d)["params"]["diagnostics"][0]["range"]["start"]["line"] == where(bad, "stdlib.sex_ratoi").first);

  // Fix it with a full-text change: the diagnostics clear.
  lsp.send(note("textDocument/didChange",
                {{"textDocument", {{"uri", uri}, {"version", 2}}}, {"contentChanges", {{{"text", good}}}}}));
  d = lsp.receive();
  REQUIRE(d);
  CHECK((*d)["params"]["diagnostics"].empty());
  CHECK((*d)["params"]["version"] == 2);

  lsp.send(req(2, "textDocument/completion", at(uri, where(good, "\"Career and Work Identity/**\"", 26))));
  r = lsp.response_to(2);
  REQUIRE(r);
  REQUIRE_FALSE((*r)["result"]["items"].empty());
  CHECK((*r)["result"]["items"][0]["textEdit"]["newText"].get<std::string>().starts_with("Career and Work Identity/"));

  lsp.send(req(3, "textDocument/hover", at(uri, where(good, "narrative first-person", 2))));
  r = lsp.response_to(3);
  REQUIRE(r);
  CHECK((*r)["result"]["contents"]["value"].get<std::string>().find("**narrative** (statement)") != std::string::npos);

  lsp.send(req(4, "textDocument/definition", at(uri, where(good, "from vignettes", 6))));
  r = lsp.response_to(4);
  REQUIRE(r);
  CHECK((*r)["result"]["range"]["start"]["line"] == where(good, "vignettes <-").first);

  lsp.send(req(5, "textDocument/formatting",
               {{"textDocument", {{"uri", uri}}}, {"options", {{"tabSize", 2}, {"insertSpaces", true}}}}));
  r = lsp.response_to(5);
  REQUIRE(r);
  CHECK((*r)["result"] == json::array());  // the example is formatted already

  lsp.send(req(6, "textDocument/documentSymbol", {{"textDocument", {{"uri", uri}}}}));
  r = lsp.response_to(6);
  REQUIRE(r);
  CHECK((*r)["result"][0]["name"] == "quickstart");

  lsp.send(req(7, "shutdown", nullptr));
  r = lsp.response_to(7);
  REQUIRE(r);
  CHECK((*r)["result"].is_null());
  lsp.send(note("exit", nullptr));
  CHECK(lsp.wait_exit() == 0);
}

TEST_CASE(
    "persona lsp survives broken framing, invalid JSON, invalid UTF-8, deep nesting and unknown methods, and "
    "still answers") {
  LspProcess lsp;
  // A header with no length, then a body that is not JSON, then bytes that are not UTF-8.
  lsp.write_raw("X-Nonsense: 1\r\n\r\n");
  lsp.write_raw(lsp::frame("{\"jsonrpc\": \"2.0\", \"id\": "));
  lsp.write_raw(lsp::frame("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}"));
  lsp.write_raw(lsp::frame(std::string(100000, '[') + std::string(100000, ']')));
  lsp.send(req(2, "initialize", json::object()));
  std::vector<json> seen;
  auto r = lsp.response_to(2, &seen);
  REQUIRE(r);
  CHECK((*r)["result"].contains("capabilities"));
  REQUIRE(seen.size() >= 3);
  CHECK(seen[0]["method"] == "window/logMessage");
  CHECK(seen[1]["error"]["code"] == lsp::parse_error);
  CHECK(seen[2]["error"]["code"] == lsp::parse_error);

  lsp.send(req(3, "workspace/symbol", {{"query", "x"}}));
  r = lsp.response_to(3);
  REQUIRE(r);
  CHECK((*r)["error"]["code"] == lsp::method_not_found);

  // A 5 MiB document: one diagnostic, no analysis, and the server answers the next request.
  const std::string uri = lsp::path_to_uri(example("huge.persona"));
  lsp.send(note("textDocument/didOpen",
                {{"textDocument",
                  {{"uri", uri}, {"languageId", "persona"}, {"version", 1}, {"text", std::string(5u << 20, '#')}}}}));
  auto d = lsp.receive();
  REQUIRE(d);
  REQUIRE((*d)["params"]["diagnostics"].size() == 1);
  CHECK((*d)["params"]["diagnostics"][0]["code"] == "too-large");

  lsp.send(req(4, "shutdown", nullptr));
  REQUIRE(lsp.response_to(4));
  lsp.send(note("exit", nullptr));
  CHECK(lsp.wait_exit() == 0);
}

TEST_CASE("persona lsp exits with 1 when its input ends without shutdown and exit") {
  LspProcess lsp;
  lsp.send(req(1, "initialize", json::object()));
  REQUIRE(lsp.response_to(1));
  lsp.close_input();
  CHECK(lsp.wait_exit() == 1);
}
