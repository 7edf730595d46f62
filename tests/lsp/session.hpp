// An in-process client of lsp::Server for the tests: numbered requests, documents by path.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "files.hpp"
#include "lsp/document.hpp"
#include "lsp/server.hpp"

namespace persona::test {

using lsp::json;

inline std::string read_text(const std::filesystem::path& p) { return persona::test::read_file(p); }

inline std::string example(const std::string& name) {
  return (std::filesystem::path(PERSONA_SOURCE_DIR) / "examples" / name).lexically_normal().string();
}

struct LspSession {
  lsp::Server server;
  int next_id = 0;
  std::vector<json> notes;  // notifications from the last call

  explicit LspSession(lsp::ServerOptions o = {}, json init = json::object()) : server(o) {
    const json r = request("initialize", std::move(init));
    REQUIRE(r.contains("result"));
    notify("initialized", json::object());
  }

  json request(const std::string& method, json params) {
    const int id = ++next_id;
    notes.clear();
    json found;
    for (auto& m : server.handle({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}})) {
      if (m.contains("id") && m["id"] == id)
        found = m;
      else
        notes.push_back(m);
    }
    REQUIRE(found.is_object());
    return found;
  }
  std::vector<json> notify(const std::string& method, json params) {
    notes = server.handle({{"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}});
    return notes;
  }

  // didOpen; returns the published diagnostics.
  json open(const std::string& path, const std::string& text) {
    auto out = notify("textDocument/didOpen",
                      {{"textDocument",
                        {{"uri", lsp::path_to_uri(path)}, {"languageId", "persona"}, {"version", 1}, {"text", text}}}});
    for (auto& m : out)
      if (m.value("method", "") == "textDocument/publishDiagnostics") return m["params"]["diagnostics"];
    FAIL("no publishDiagnostics after didOpen");
    return json();
  }
  json at(const std::string& method, const std::string& path, std::uint32_t line, std::uint32_t ch) {
    return request(method, {{"textDocument", {{"uri", lsp::path_to_uri(path)}}},
                            {"position", {{"line", line}, {"character", ch}}}});
  }
};

// The 0-based line and the column of the first `needle` (plus `after` characters) in `text`.
inline std::pair<std::uint32_t, std::uint32_t> where(const std::string& text, const std::string& needle,
                                                     std::size_t after = 0) {
  const auto off = text.find(needle);
  REQUIRE(off != std::string::npos);
  const lsp::Text t(text);
  const auto p = t.position(off + after, lsp::Encoding::utf16);
  return {p.line, p.character};
}

inline std::vector<std::string> labels(const json& completion) {
  std::vector<std::string> out;
  for (const auto& i : completion["result"]["items"]) out.push_back(i["label"].get<std::string>());
  return out;
}

inline bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace persona::test
