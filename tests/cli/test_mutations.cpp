// Random mutations of the examples never crash or hang the checker, and every rejection carries at
// least one positioned error (rendered FILE:LINE:COL: error:).
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "diag/source.hpp"
#include "frontend/frontend.hpp"
#include "process.hpp"

namespace fs = std::filesystem;

TEST_CASE("mutated examples are rejected with positioned errors, never a crash") {
  static const char* const tokens[] = {"{",       "}",       "\"", "..", "~",      "=",   "#",     "\n",
                                       "anchor ", "story {", "<-", ",",  "table ", "by ", "when ", "(",
                                       ")",       "x ",      "-1", "0",  "\"\"\"", "\\",  "llm "};
  std::mt19937 rng(20261124);
  int rejected = 0, accepted = 0;
  for (const auto& e : fs::directory_iterator(fs::path(PERSONA_SOURCE_DIR) / "examples")) {
    if (e.path().extension() != ".persona") continue;
    const std::string original = persona::test::read_file(e.path());
    for (int i = 0; i < 250; ++i) {
      std::string text = original;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !text.empty(); ++k) {
        const std::size_t pos = rng() % text.size();
        switch (rng() % 4) {
          case 0:
            text.erase(pos, 1 + rng() % 8);
            break;
          case 1:
            text.insert(pos, tokens[rng() % (sizeof tokens / sizeof *tokens)]);
            break;
          case 2:
            text[pos] = static_cast<char>(rng() % 256);
            break;
          default:
            text.insert(pos, text.substr(rng() % text.size(), 1 + rng() % 20));
            break;
        }
      }
      persona::SourceFiles sources;
      persona::DiagnosticList diags;
      // Named inside examples/ so relative imports resolve as for the original.
      const std::string name = (e.path().parent_path() / ("mutant-" + e.path().filename().string())).string();
      auto loaded = persona::frontend::load_recipe_text(text, name, sources, diags);
      if (loaded) {
        ++accepted;
        continue;
      }
      ++rejected;
      bool positioned = false;
      for (const auto& d : diags.all()) {
        if (d.severity != persona::Severity::error) continue;
        const std::string shown = persona::render(d, &sources);
        if (d.where.line > 0 && shown.find(":" + std::to_string(d.where.line) + ":") != std::string::npos &&
            shown.find(": error: ") != std::string::npos)
          positioned = true;
      }
      INFO(text);
      REQUIRE(positioned);
    }
  }
  CHECK(rejected > 500);
  CHECK(accepted > 0);
}
