// Panels (`always` in the attributes block) and the wide CSV: every persona carries every panel
// attribute, a panel attribute that does not apply keeps its slot and says why, the filters do not
// touch the panel, and the wide file loads in Python's csv module with one row per persona.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "exec/exec.hpp"
#include "exec/merge.hpp"
#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

// The quickstart with a panel: money habits (every adult), and the former career of retired people,
// which the quickstart's `exclude "Career and Work Identity/**" when employment in (student, retired)`
// would remove: the panel bypasses the filters, and gives non-retired personas a not-applicable slot.
std::string panel_recipe() {
  std::string text = test::read_file(kQuickstart);
  const std::string anchor = "  batch 84\n";
  const auto at = text.find(anchor);
  REQUIRE(at != std::string::npos);
  text.insert(at,
              "  always \"Lifestyle and Daily Routine/Money Habits/**\"\n"
              "  always \"Career and Work Identity/Retired Working Life/Former Career/*\"\n");
  return text;
}

std::unique_ptr<engine::Program> program_from(const std::string& text, const std::string& name) {
  const auto dir = test::scratch_dir("exec-panels");
  const auto file = dir / name;
  test::write_file(file, text);
  SourceFiles sources;
  DiagnosticList diags;
  auto p = engine::load_program(file.string(), sources, diags);
  for (const auto& d : diags.all()) INFO(render(d, &sources));
  REQUIRE(p != nullptr);
  return p;
}

exec::RunResult run(const engine::Program& p, const std::string& out, record::Format f, std::uint64_t count) {
  exec::RunOptions o;
  o.count = count;
  o.seed = 7;
  o.out = out;
  o.format = f;
  o.threads = 2;
  return exec::run(p, o);
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::read_file(path));
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

TEST_CASE("every persona of a panel run carries every panel attribute, whatever the filters") {
  auto prog = program_from(panel_recipe(), "panel.persona");
  const auto columns = prog->csv_columns();
  REQUIRE(columns.panel.size() >= 10);
  const std::set<std::string> panel(columns.panel.begin(), columns.panel.end());
  const auto dir = test::scratch_dir("exec-panels");
  const std::string out = (dir / "panel.jsonl").string();
  REQUIRE(run(*prog, out, record::Format::jsonl, 100).ok);
  const auto people = read_jsonl(out);
  REQUIRE(people.size() == 100);
  std::size_t retired = 0, not_applicable = 0;
  for (const auto& p : people) {
    INFO(p["id"].get<std::string>());
    std::map<std::string, const nlohmann::json*> got;
    for (const auto& a : p["attributes"])
      if (a["tier"] == "panel") got[a["path"].get<std::string>()] = &a;
    // Exactly the panel, each once, inside the persona's count.
    CHECK(got.size() == panel.size());
    for (const auto& path : panel) CHECK(got.count(path) == 1);
    CHECK(p["attributes"].size() >= 200);
    CHECK(p["attributes"].size() <= 250);
    std::set<std::string> paths;
    for (const auto& a : p["attributes"]) CHECK(paths.insert(a["path"].get<std::string>()).second);
    const bool is_retired = p["anchors"].value("employment", "") == "retired";
    retired += is_retired ? 1 : 0;
    for (const auto& [path, a] : got) {
      const bool former_career = path.find("Retired Working Life") != std::string::npos;
      if (!former_career || is_retired) {
        CHECK((*a)["status"] == "filled");
        CHECK((*a)["value"].is_string());
      } else {
        // Not applicable: the slot stays, with a null value and a status that says why.
        CHECK((*a)["value"].is_null());
        CHECK((*a)["status"] == "not_applicable: the taxonomy's condition is false for this persona");
        ++not_applicable;
      }
    }
  }
  // Both cases occur in 100 quickstart personas.
  CHECK(retired > 0);
  CHECK(not_applicable > 0);
  // The manifest counts the panel tier.
  const auto m = nlohmann::json::parse(test::read_file(out + ".manifest.json"));
  CHECK(m["counts"]["tiers"]["panel"].get<std::uint64_t>() == 100 * panel.size());
  CHECK(m["parameters"]["attributes"]["panel"].size() == 2);
}

TEST_CASE("the wide CSV of a panel run loads in Python's csv module with one row per persona and every panel column") {
  auto prog = program_from(panel_recipe(), "panel.persona");
  const auto dir = test::scratch_dir("exec-panels-wide");
  const std::string jsonl = (dir / "p.jsonl").string(), wide = (dir / "p.csv").string();
  REQUIRE(run(*prog, jsonl, record::Format::jsonl, 60).ok);
  REQUIRE(run(*prog, wide, record::Format::csv_wide, 60).ok);
  CHECK(fs::exists(wide + ".manifest.json"));
  CHECK_FALSE(fs::exists(wide + ".part"));
  const auto script = dir / "compare.py";
  test::write_file(script, R"(import csv, json, sys
jsonl, wide = sys.argv[1:3]
want = [json.loads(l) for l in open(jsonl, encoding='utf-8')]
rows = list(csv.reader(open(wide, newline='', encoding='utf-8')))
head, rows = rows[0], rows[1:]
assert len(rows) == len(want), (len(rows), len(want))
panel = [h for h in head if '/' in h]
assert head[:2] == ['id', 'seed'], head
assert len(panel) >= 10 and panel == sorted(panel, key=head.index)
assert not any(h in ('narrative', 'attribute_count') for h in head), head
filled = empty = 0
for row, w in zip(rows, want):
    assert len(row) == len(head)
    r = dict(zip(head, row))
    assert r['id'] == w['id'] and int(r['seed']) == w['seed']
    for name, value in w['anchors'].items():
        got = r['anchor.' + name]
        if value is None: assert got == '', name
        elif isinstance(value, (int, float)): assert float(got) == value, (name, got, value)
        else: assert got == value, (name, got, value)
    for name, value in w['core'].items():
        if ('core.' + name + '.json') in r: assert json.loads(r['core.' + name + '.json']) == value, name
        else: assert r['core.' + name] == value, name
    attrs = {a['path']: a for a in w['attributes'] if a['tier'] == 'panel'}
    assert set(attrs) == set(panel), set(attrs) ^ set(panel)
    for path in panel:
        a = attrs[path]
        if a['status'] == 'filled':
            assert r[path] == a['value'] and r[path] != '', (path, r[path], a)
            filled += 1
        else:
            assert r[path] == '', (path, r[path])
            empty += 1
print('ok', len(rows), filled, empty)
)");
  const auto py = test::run_command("python3 '" + script.string() + "' '" + jsonl + "' '" + wide + "'");
  INFO(py.out + py.err);
  CHECK(py.code == 0);
  CHECK(py.out.rfind("ok 60 ", 0) == 0);
  // The product's reader reads the wide file back: one record per persona, the panel as attributes.
  record::Reader in;
  REQUIRE(in.open(wide));
  CHECK(in.format() == record::Format::csv_wide);
  record::PersonaRecord r;
  std::size_t n = 0;
  while (in.next(r) == record::ReadStatus::ok) {
    ++n;
    CHECK(r.attributes.size() == prog->csv_columns().panel.size());
  }
  CHECK(n == 60);
}

TEST_CASE("a csv-wide run stopped part-way resumes to the same file as an uninterrupted run") {
  auto prog = program_from(panel_recipe(), "panel.persona");
  const auto dir = test::scratch_dir("exec-panels-resume");
  const std::string ref = (dir / "ref.csv").string(), out = (dir / "out.csv").string();
  REQUIRE(run(*prog, ref, record::Format::csv_wide, 600).ok);
  std::atomic<bool> stop{false};
  exec::RunOptions o;
  o.count = 600;
  o.seed = 7;
  o.out = out;
  o.format = record::Format::csv_wide;
  o.progress = [&](const exec::Progress&) { stop = true; };
  o.stop = &stop;
  const auto first = exec::run(*prog, o);
  REQUIRE(first.interrupted);
  REQUIRE(fs::exists(out + ".part"));
  o.resume = true;
  o.stop = nullptr;
  o.progress = nullptr;
  const auto second = exec::run(*prog, o);
  REQUIRE(second.ok);
  CHECK(second.totals.resumed > 0);
  CHECK(test::read_file(out) == test::read_file(ref));
}

TEST_CASE("a recipe without a panel writes a wide file with the persona columns only") {
  auto prog = program_from(test::read_file(kQuickstart), "quickstart.persona");
  CHECK(prog->csv_columns().panel.empty());
  const auto dir = test::scratch_dir("exec-panels-none");
  const std::string wide = (dir / "q.csv").string();
  REQUIRE(run(*prog, wide, record::Format::csv_wide, 5).ok);
  const std::string text = test::read_file(wide);
  const std::string header = text.substr(0, text.find('\n'));
  CHECK(header.rfind("\"id\",\"seed\",\"anchor.country\"", 0) == 0);
  CHECK(header.find('/') == std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 6);
}

TEST_CASE("persona merge refuses csv-wide shards and says what to do instead") {
  auto prog = program_from(panel_recipe(), "panel.persona");
  const auto dir = test::scratch_dir("exec-panels-merge");
  std::vector<std::string> shards;
  for (unsigned k = 1; k <= 2; ++k) {
    exec::RunOptions o;
    o.count = 6;
    o.seed = 7;
    o.shard_k = k;
    o.shard_n = 2;
    o.out = (dir / ("s" + std::to_string(k) + ".csv")).string();
    o.format = record::Format::csv_wide;
    REQUIRE(exec::run(*prog, o).ok);
    shards.push_back(o.out);
  }
  exec::MergeOptions m;
  m.shards = shards;
  m.out = (dir / "all.csv").string();
  DiagnosticList diags;
  const auto res = exec::merge(m, diags);
  CHECK_FALSE(res.ok);
  REQUIRE_FALSE(diags.all().empty());
  CHECK(diags.all().front().code == "shard-unmergeable");
  CHECK(diags.all().front().message.find("does not merge csv-wide shards") != std::string::npos);
  CHECK_FALSE(fs::exists(m.out));
}

TEST_CASE(
    "with an LLM the panel slots are filled like the others and a panel slot that does not apply is never asked") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = test::scratch_dir("exec-panels-llm");
  ::setenv("PERSONA_PANEL_KEY", "test-key", 1);
  test::write_file(dir / "panel.persona", R"(recipe "panel-llm" version "1.0"
taxonomy stdlib.core
seed 11
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ uniform(20, 40) round
anchor employment = "employed"
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 30..40
  batch 12
  always "Lifestyle and Daily Routine/Money Habits/**"
  always "Career and Work Identity/Retired Working Life/Former Career/*"
}
narrative none
output {
  prompts on
}
)");
  test::write_file(dir / "persona.toml",
                   test::fake_provider_toml(server.base_url(), "PERSONA_PANEL_KEY", "max_concurrency = 4\n"));
  const auto cli = test::run_command(
      "'" + std::string(PERSONA_BIN) + "' run panel.persona -n 4 -o out.jsonl --llm fake --no-cache -q", "",
      (dir).string());
  INFO(cli.err);
  REQUIRE(cli.code == 0);
  const auto people = read_jsonl((dir / "out.jsonl").string());
  REQUIRE(people.size() == 4);
  for (const auto& p : people) {
    std::size_t money = 0, former = 0;
    for (const auto& a : p["attributes"]) {
      if (a["tier"] != "panel") continue;
      const std::string path = a["path"];
      if (path.find("Money Habits") != std::string::npos) {
        ++money;
        CHECK(a["status"] == "filled");
        CHECK(a["source"] == "llm");
      } else {
        ++former;
        CHECK(a["status"] == "not_applicable: the taxonomy's condition is false for this persona");
        CHECK(a["value"].is_null());
      }
    }
    CHECK(money >= 10);
    CHECK(former >= 2);
    // The fill calls asked the money habits and never the former career (employed personas).
    std::string asked;
    for (const auto& c : p["prompts"])
      if (c["step"].get<std::string>().rfind("fill", 0) == 0) asked += c["user"].get<std::string>();
    CHECK(asked.find("Saving Habit") != std::string::npos);
    CHECK(asked.find("Former Occupation Group") == std::string::npos);
  }
}
