// Every recipe in the documentation checks as the documentation says. A fenced block in docs/*.md
// tagged
//   ```persona                   must check without error
//   ```persona warning NAME      must check, with warning NAME
//   ```persona error NAME        must fail, with error NAME
//   ```persona-fragment          a piece of a recipe: must parse
// is checked against the real stdlib, named after its file and line, in docs/ (so relative table
// paths resolve there). An untagged block that looks like a recipe is a failure: tag it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diag/source.hpp"
#include "frontend/frontend.hpp"
#include "syntax/parser.hpp"

namespace fs = std::filesystem;
using namespace persona;

namespace {

struct Block {
  std::string file;  // docs/NAME.md
  std::uint32_t line = 0;
  std::string info;  // the info string after ```
  std::string text;
};

std::vector<Block> blocks() {
  std::vector<Block> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(PERSONA_SOURCE_DIR) / "docs"))
    if (e.path().extension() == ".md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    std::uint32_t n = 0;
    Block* open = nullptr;
    while (std::getline(in, line)) {
      ++n;
      if (line.rfind("```", 0) != 0) {
        if (open != nullptr) open->text += line + "\n";
        continue;
      }
      if (open != nullptr) {
        open = nullptr;
        continue;
      }
      out.push_back(Block{"docs/" + f.filename().string(), n, line.substr(3), {}});
      open = &out.back();
    }
  }
  return out;
}

bool looks_like_recipe(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    for (const char* start : {"recipe \"", "anchor ", "attributes {", "story {"})
      if (line.rfind(start, 0) == 0) return true;
  return false;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("docs: every recipe block checks with the outcome its tag states") {
  std::size_t checked = 0;
  for (const auto& b : blocks()) {
    const auto tag = words(b.info);
    const std::string where = b.file + ":" + std::to_string(b.line);
    if (tag.empty()) {
      INFO(where << ": a recipe block without a tag; tag it ```persona (or persona-fragment, ...)\n" << b.text);
      CHECK_FALSE(looks_like_recipe(b.text));
      continue;
    }
    if (tag[0] != "persona" && tag[0] != "persona-fragment") continue;
    ++checked;
    SourceFiles sources;
    DiagnosticList diags;
    const std::string name = (fs::path(PERSONA_SOURCE_DIR) / "docs" /
                              (fs::path(b.file).stem().string() + "-line" + std::to_string(b.line) + ".persona"))
                                 .string();
    std::string shown;
    if (tag[0] == "persona-fragment") {
      const auto r = lang::parse_recipe(b.text, name, diags);
      for (const auto& d : diags.all()) shown += render(d, &sources);
      INFO(where << "\n" << shown);
      CHECK(r.recipe);
      continue;
    }
    const auto loaded = frontend::load_recipe_text(b.text, name, sources, diags);
    for (const auto& d : diags.all()) shown += render(d, &sources);
    INFO(where << " (```" << b.info << ")\n" << shown);
    auto has = [&](Severity s, const std::string& code) {
      for (const auto& d : diags.all())
        if (d.severity == s && d.code == code) return true;
      return false;
    };
    if (tag.size() == 1) {
      CHECK(loaded);
    } else if (tag.size() == 3 && tag[1] == "warning") {
      CHECK(loaded);
      CHECK(has(Severity::warning, tag[2]));
    } else if (tag.size() == 3 && tag[1] == "error") {
      CHECK_FALSE(loaded);
      CHECK(has(Severity::error, tag[2]));
    } else {
      FAIL(where << ": unknown tag ```" << b.info << " (persona, persona warning NAME, persona error NAME)");
    }
  }
  CHECK(checked >= 5);
}
