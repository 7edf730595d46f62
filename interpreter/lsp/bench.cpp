// persona-bench-lsp: diagnostics latency after a change, for every recipe in examples/.
// For each example: didOpen, then N didChange edits (a digit typed into the seed line or a comment
// appended, and undone), timing handle() from the change to the publishDiagnostics it returns.
// Prints the median, the 95th percentile and the maximum per example; target < 100 ms.
//
//   persona-bench-lsp [--rounds N] [DIR]    (default: 50 rounds, the source tree's examples/)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/files.hpp"
#include "lsp/document.hpp"
#include "lsp/server.hpp"

namespace fs = std::filesystem;
using persona::lsp::json;

int main(int argc, char** argv) {
  int rounds = 50;
  fs::path dir = fs::path(PERSONA_SOURCE_DIR) / "examples";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      dir = a;
    }
  }
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".persona") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "persona-bench-lsp: no .persona files in %s\n", dir.c_str());
    return 1;
  }
  persona::lsp::Server server;
  server.handle({{"jsonrpc", "2.0"}, {"id", 0}, {"method", "initialize"}, {"params", json::object()}});
  std::printf("diagnostics latency after a change (%d changes per example; target < 100 ms)\n", rounds);
  std::printf("%-28s %8s %10s %10s %10s %8s\n", "example", "bytes", "median ms", "p95 ms", "max ms", "diags");
  bool ok = true;
  int id = 1;
  for (const auto& f : files) {
    auto r = persona::files::read(f);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error.c_str());
      return 1;
    }
    const std::string text = *r.text;
    const std::string uri = persona::lsp::path_to_uri(fs::absolute(f).lexically_normal().string());
    server.handle(
        {{"jsonrpc", "2.0"},
         {"method", "textDocument/didOpen"},
         {"params", {{"textDocument", {{"uri", uri}, {"languageId", "persona"}, {"version", 1}, {"text", text}}}}}});
    const persona::lsp::Text t(text);
    const auto last = static_cast<std::uint32_t>(t.line_count() - 1);
    std::vector<double> ms;
    std::size_t diag_count = 0;
    for (int k = 0; k < rounds; ++k) {
      // Alternately append a comment line at the end and remove it: an incremental edit each time.
      const bool add = k % 2 == 0;
      const std::uint32_t end_char = static_cast<std::uint32_t>(t.line_text(last).size());
      json change;
      if (add) {
        change = {{"range",
                   {{"start", {{"line", last}, {"character", end_char}}},
                    {"end", {{"line", last}, {"character", end_char}}}}},
                  {"text", "\n# edit"}};
      } else {
        change = {
            {"range",
             {{"start", {{"line", last}, {"character", end_char}}}, {"end", {{"line", last + 1}, {"character", 6}}}}},
            {"text", ""}};
      }
      const json msg{
          {"jsonrpc", "2.0"},
          {"method", "textDocument/didChange"},
          {"params", {{"textDocument", {{"uri", uri}, {"version", ++id}}}, {"contentChanges", json::array({change})}}}};
      const auto t0 = std::chrono::steady_clock::now();
      const auto out = server.handle(msg);
      const auto t1 = std::chrono::steady_clock::now();
      if (out.empty() || out.back().value("method", "") != "textDocument/publishDiagnostics") {
        std::fprintf(stderr, "%s: no diagnostics after a change\n", f.filename().c_str());
        return 1;
      }
      diag_count = out.back()["params"]["diagnostics"].size();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const double p95 = ms[std::min(ms.size() - 1, ms.size() * 95 / 100)];
    const double max = ms.back();
    if (max >= 100) ok = false;
    std::printf("%-28s %8zu %10.2f %10.2f %10.2f %8zu\n", f.filename().c_str(), text.size(), median, p95, max,
                diag_count);
  }
  std::printf("%s\n", ok ? "every change under 100 ms" : "SOME CHANGES TOOK 100 ms OR MORE");

  // Completion inside a glob: the first one loads the taxonomy, later ones reuse it.
  const fs::path quick = dir / "quickstart.persona";
  if (fs::exists(quick)) {
    const std::string uri = persona::lsp::path_to_uri(fs::absolute(quick).lexically_normal().string());
    const std::string text = *persona::files::read(quick).text;
    const persona::lsp::Text t(text);
    const auto off = text.find("\"Career and Work Identity/") + 26;
    const auto pos = t.position(off, persona::lsp::Encoding::utf16);
    auto time_completion = [&] {
      const json msg{
          {"jsonrpc", "2.0"},
          {"id", ++id},
          {"method", "textDocument/completion"},
          {"params",
           {{"textDocument", {{"uri", uri}}}, {"position", {{"line", pos.line}, {"character", pos.character}}}}}};
      const auto t0 = std::chrono::steady_clock::now();
      const auto out = server.handle(msg);
      const auto t1 = std::chrono::steady_clock::now();
      return std::make_pair(std::chrono::duration<double, std::milli>(t1 - t0).count(),
                            out.empty() ? std::size_t{0} : out.back()["result"]["items"].size());
    };
    const auto [cold, n] = time_completion();
    std::vector<double> warm;
    for (int k = 0; k < rounds; ++k) warm.push_back(time_completion().first);
    std::sort(warm.begin(), warm.end());
    std::printf(
        "completion in a glob (%zu items): first %.2f ms (loads stdlib.core), then median %.2f ms, max %.2f ms\n", n,
        cold, warm[warm.size() / 2], warm.back());
  }
  return ok ? 0 : 1;
}
