// The dry run's cost estimate against what a run then spends, on every example, with the loopback
// server counting tokens as OpenAI does on average (a token per 4 bytes of request): within 15%.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
namespace test = persona::test;

TEST_CASE("the dry run's estimate is within 15% of the measured spend on every example") {
  persona::llm::fake::Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_ESTIMATE_KEY", "k", 1);
  const fs::path examples = fs::path(PERSONA_SOURCE_DIR) / "examples";
  std::size_t checked = 0;
  for (const auto& e : fs::directory_iterator(examples)) {
    if (e.path().extension() != ".persona") continue;
    const std::string name = e.path().stem().string();
    const auto dir = test::scratch_dir("estimate-" + name);
    fs::copy(examples, dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    test::write_file(
        dir / "persona.toml",
        test::fake_provider_toml(server.base_url(), "PERSONA_ESTIMATE_KEY",
                                 "max_concurrency = 8\nprice_input_per_mtok = 1\nprice_output_per_mtok = 4\n"));
    const std::string cmd = "'" + std::string(PERSONA_BIN) + "' run " + e.path().filename().string() +
                            " -n 8 -o out.jsonl --llm fake --no-cache -q";
    const auto dry = test::run_command(cmd + " --dry-run", "", dir.string());
    INFO(name << ": " << dry.out << dry.err);
    REQUIRE(dry.code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(
        dry.out, m, std::regex(R"(8 personas: \d+ calls, \d+ prompt \+ \d+ completion tokens, \$([0-9.]+))")));
    const double estimate = std::stod(m[1].str());
    const auto real = test::run_command(cmd, "", dir.string());
    INFO(real.err);
    REQUIRE(real.code == 0);
    const auto manifest = nlohmann::json::parse(test::read_file(dir / "out.jsonl.manifest.json"));
    const double spent = manifest["totals"]["cost_usd"].get<double>();
    const double calls = manifest["totals"]["calls"].get<double>() / 8.0;
    const double est_calls = manifest["totals"]["estimate_per_persona"]["calls"].get<double>();
    WARN(name << ": estimate $" << estimate << ", spent $" << spent << " (" << (estimate / spent - 1) * 100
              << "%); calls per persona " << calls << " vs " << est_calls << " estimated");
    CHECK(estimate == Approx(spent).epsilon(0.15));
    ++checked;
  }
  CHECK(checked >= 6);
}
