// docs/tutorial.md runs as written: every `<!-- file: NAME -->` block is written to a scratch
// folder, every `$ persona ...` line of a ```console block runs there (stdout, then stderr)
// and must exit 0 and print what the page shows. The model server of the page (127.0.0.1:8080) is a
// loopback fake server started by the test. What changes from run to run (seconds, personas per
// second, the server's port) is masked on both sides. PERSONA_ACCEPT=1 rewrites the page's outputs.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const fs::path kPage = fs::path(PERSONA_SOURCE_DIR) / "docs" / "tutorial.md";
constexpr const char* kPageServer = "127.0.0.1:8080";

std::string mask(std::string s) {
  static const std::regex seconds(R"([0-9]+(\.[0-9]+)? s\b)"), rate(R"([0-9]+ personas/s)"),
      port(R"(127\.0\.0\.1:[0-9]+)");
  s = std::regex_replace(s, seconds, "N s");
  s = std::regex_replace(s, rate, "N personas/s");
  s = std::regex_replace(s, port, "127.0.0.1:PORT");
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("docs/tutorial.md: every command of the tutorial prints what the page shows") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const std::string host = server.base_url().substr(std::string("http://").size(),
                                                    server.base_url().size() - std::string("http://").size() - 3);
  const auto dir = test::scratch_dir("tutorial");
  for (const auto& e : fs::directory_iterator(dir)) fs::remove_all(e.path());
  const bool accept = std::getenv("PERSONA_ACCEPT") != nullptr;

  const auto page = lines_of(test::read_file(kPage));
  std::vector<std::string> rewritten;
  int commands = 0, files = 0;
  for (std::size_t i = 0; i < page.size(); ++i) {
    const std::string& line = page[i];
    rewritten.push_back(line);
    if (line.rfind("<!-- file: ", 0) == 0) {
      const std::string name = line.substr(11, line.find(" -->") - 11);
      REQUIRE(i + 1 < page.size());
      REQUIRE(page[i + 1].rfind("```", 0) == 0);
      std::string body;
      std::size_t j = i + 2;
      for (; j < page.size() && page[j] != "```"; ++j) body += page[j] + "\n";
      for (std::size_t p; (p = body.find(kPageServer)) != std::string::npos;)
        body.replace(p, std::string(kPageServer).size(), host);
      test::write_file(dir / name, body);
      ++files;
      continue;
    }
    if (line != "```console") continue;
    // $ command, then its output, up to the next $ or the block's end.
    std::size_t j = i + 1;
    while (j < page.size() && page[j] != "```") {
      REQUIRE(page[j].rfind("$ ", 0) == 0);
      const std::string command = page[j].substr(2);
      std::string expected;
      std::size_t k = j + 1;
      for (; k < page.size() && page[k] != "```" && page[k].rfind("$ ", 0) != 0; ++k) expected += page[k] + "\n";
      std::string shell = command;
      if (shell.rfind("persona ", 0) == 0) shell = std::string("'") + PERSONA_BIN + "' " + shell.substr(8);
      auto r = test::run_command("env XDG_CONFIG_HOME=" + dir.string() + "/.config " + shell, "", dir);
      ++commands;
      // What the terminal shows: standard output, then the messages on standard error.
      std::string shown = r.out + r.err;
      for (std::size_t p; (p = shown.find(host)) != std::string::npos;) shown.replace(p, host.size(), kPageServer);
      INFO("$ " << command << "\n" << shown);
      CHECK(r.code == 0);
      if (accept) {
        rewritten.push_back(page[j]);
        for (const auto& l : lines_of(shown)) rewritten.push_back(l);
      } else {
        CHECK(mask(shown) == mask(expected));
      }
      j = k;
    }
    if (accept) {
      // The block's lines were re-emitted above; skip the originals.
      i = j - 1;
    }
  }
  CHECK(files >= 3);
  CHECK(commands >= 6);
  if (accept) {
    std::string text;
    for (const auto& l : rewritten) text += l + "\n";
    test::write_file(kPage, text);
  }
}
