// Every sink writes the same records: the CSV pair holds every field of the JSONL line, a resumed CSV
// run equals an uninterrupted one, and the recipe's output switches do what the docs say.
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "exec/exec.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

std::unique_ptr<engine::Program> program_from(const std::string& text, const std::string& name) {
  const auto dir = test::scratch_dir("exec-recipes");
  const auto file = dir / name;
  test::write_file(file, text);
  SourceFiles sources;
  DiagnosticList diags;
  auto p = engine::load_program(file.string(), sources, diags);
  for (const auto& d : diags.all()) INFO(render(d, &sources));
  REQUIRE(p != nullptr);
  return p;
}

std::unique_ptr<engine::Program> quickstart() {
  return program_from(test::read_file(kQuickstart), "quickstart.persona");
}

exec::RunResult run(const engine::Program& p, const std::string& out, record::Format f, std::uint64_t count,
                    const std::atomic<bool>* stop = nullptr, bool resume = false) {
  exec::RunOptions o;
  o.count = count;
  o.seed = 7;
  o.out = out;
  o.format = f;
  o.stop = stop;
  o.resume = resume;
  o.threads = 2;
  return exec::run(p, o);
}

}  // namespace

TEST_CASE("the CSV pair loads in Python's csv module and holds every field of the JSONL personas") {
  auto prog = quickstart();
  const auto dir = test::scratch_dir("exec-csv");
  const std::string jsonl = (dir / "q.jsonl").string(), csv = (dir / "q.csv").string();
  REQUIRE(run(*prog, jsonl, record::Format::jsonl, 40).ok);
  const auto res = run(*prog, csv, record::Format::csv, 40);
  REQUIRE(res.ok);
  REQUIRE(fs::exists(dir / "q.personas.csv"));
  REQUIRE(fs::exists(dir / "q.attributes.csv"));
  CHECK(fs::exists(csv + ".manifest.json"));
  // An independent reader: Python's csv and json modules rebuild each persona from the two files and
  // compare it with the JSONL line, field by field.
  const auto script = dir / "compare.py";
  test::write_file(script, R"(import csv, json, sys
jsonl, personas, attributes = sys.argv[1:4]
want = [json.loads(l) for l in open(jsonl, encoding='utf-8')]
rows = list(csv.reader(open(personas, newline='', encoding='utf-8')))
head, rows = rows[0], rows[1:]
attrs = list(csv.DictReader(open(attributes, newline='', encoding='utf-8')))
assert len(rows) == len(want), (len(rows), len(want))
k = 0
for row, w in zip(rows, want):
    r = dict(zip(head, row))
    assert r['id'] == w['id'] and int(r['seed']) == w['seed']
    for name, value in w['anchors'].items():
        got = r['anchor.' + name]
        if value is None: assert got == '', name
        elif isinstance(value, (int, float)): assert float(got) == value, (name, got, value)
        else: assert got == value, (name, got, value)
    for name, value in w['core'].items():
        if ('core.' + name + '.json') in r:
            assert json.loads(r['core.' + name + '.json']) == value, name
        else:
            assert r['core.' + name] == value, name
    assert r['narrative'] == w['narrative']
    for u in ('calls', 'prompt_tokens', 'completion_tokens', 'cached_tokens'):
        assert int(r[u]) == w['usage'][u]
    assert int(r['attribute_count']) == len(w['attributes'])
    assert (r['problems'] == '' and 'problems' not in w) or json.loads(r['problems']) == w['problems']
    for a in w['attributes']:
        got = attrs[k]; k += 1
        assert got['id'] == w['id'] and got['path'] == a['path'], (got, a)
        assert got['tier'] == a['tier'] and got['source'] == a['source'] and got['status'] == a['status']
        assert got['value'] == (a['value'] if a['value'] is not None else '')
assert k == len(attrs)
print('ok', len(rows), k)
)");
  const auto py =
      test::run_command("python3 '" + script.string() + "' '" + jsonl + "' '" + (dir / "q.personas.csv").string() +
                        "' '" + (dir / "q.attributes.csv").string() + "'");
  INFO(py.out + py.err);
  CHECK(py.code == 0);
  CHECK(py.out.rfind("ok 40 ", 0) == 0);

  // The product's own reader gives back the JSONL bytes from the CSV pair.
  record::Reader in;
  REQUIRE(in.open((dir / "q.personas.csv").string()));
  record::PersonaRecord r;
  std::string again;
  while (in.next(r) == record::ReadStatus::ok) record::write_jsonl(r, again);
  const std::string want = test::read_file(jsonl);
  std::size_t diff = 0;
  while (diff < again.size() && diff < want.size() && again[diff] == want[diff]) ++diff;
  INFO("first difference at byte " << diff << ": csv gives '" << again.substr(diff > 40 ? diff - 40 : 0, 80)
                                   << "', jsonl has '" << want.substr(diff > 40 ? diff - 40 : 0, 80) << "'");
  CHECK(again == want);
}

TEST_CASE("a CSV run stopped, then torn mid-persona, resumes to the same files as an uninterrupted run") {
  auto prog = quickstart();
  const auto dir = test::scratch_dir("exec-csv-resume");
  const std::string ref = (dir / "ref.csv").string(), out = (dir / "out.csv").string();
  REQUIRE(run(*prog, ref, record::Format::csv, 600).ok);
  // Stop after the first progress report (256 personas), as SIGINT would.
  std::atomic<bool> stop{false};
  exec::RunOptions o;
  o.count = 600;
  o.seed = 7;
  o.out = out;
  o.format = record::Format::csv;
  o.progress = [&](const exec::Progress&) { stop = true; };
  o.stop = &stop;
  const auto first = exec::run(*prog, o);
  REQUIRE(first.interrupted);
  CHECK_FALSE(first.ok);
  const auto p_part = dir / "out.personas.csv.part", a_part = dir / "out.attributes.csv.part";
  REQUIRE(fs::exists(p_part));
  REQUIRE(fs::exists(a_part));
  CHECK_FALSE(fs::exists(dir / "out.personas.csv"));
  // A kill in the middle of a write: the attributes file ends inside a persona's rows.
  fs::resize_file(a_part, fs::file_size(a_part) - 700);
  const auto resumed = run(*prog, out, record::Format::csv, 600, nullptr, true);
  REQUIRE(resumed.ok);
  CHECK(resumed.totals.resumed > 0);
  CHECK(resumed.totals.resumed < 600);
  CHECK(test::read_file(dir / "out.personas.csv") == test::read_file(dir / "ref.personas.csv"));
  CHECK(test::read_file(dir / "out.attributes.csv") == test::read_file(dir / "ref.attributes.csv"));
  CHECK_FALSE(fs::exists(p_part));
  // The manifest counts every persona once, kept or new.
  const auto m = nlohmann::json::parse(test::read_file(out + ".manifest.json"));
  CHECK(m["counts"]["personas"] == 600);
  CHECK(m["counts"]["resumed"] == resumed.totals.resumed);
}

TEST_CASE("a resume refuses a changed recipe and names the statement that changed") {
  auto prog = quickstart();
  const auto dir = test::scratch_dir("exec-refuse");
  const std::string out = (dir / "out.jsonl").string();
  std::atomic<bool> stop{false};
  exec::RunOptions o;
  o.count = 600;
  o.seed = 7;
  o.out = out;
  o.progress = [&](const exec::Progress&) { stop = true; };
  o.stop = &stop;
  REQUIRE(exec::run(*prog, o).interrupted);
  std::string text = test::read_file(kQuickstart);
  const auto at = text.find("count 200..250");
  REQUIRE(at != std::string::npos);
  text.replace(at, 14, "count 150..250");
  auto changed = program_from(text, "quickstart.persona");
  const auto res = run(*changed, out, record::Format::jsonl, 600, nullptr, true);
  CHECK_FALSE(res.ok);
  CHECK(res.error.find("the recipe changed: select attributes was") != std::string::npos);
  CHECK(res.error.find("count 150..250") != std::string::npos);
  // A comment-only edit resumes: the recipe's meaning did not change.
  auto commented = program_from("# a new comment\n" + test::read_file(kQuickstart), "quickstart.persona");
  CHECK(run(*commented, out, record::Format::jsonl, 600, nullptr, true).ok);
}

TEST_CASE("output switches: narrative, core and usage off leave their keys out - prompts on keeps what each call saw") {
  std::string text = test::read_file(kQuickstart);
  text += "\noutput {\n  narrative off\n  core off\n  usage off\n}\n";
  auto prog = program_from(text, "switches.persona");
  for (std::size_t i = 0; i < prog->size(); ++i) CHECK(prog->step(i).kind() != engine::Step::Kind::narrative);
  const auto dir = test::scratch_dir("exec-switches");
  const std::string out = (dir / "s.jsonl").string();
  REQUIRE(run(*prog, out, record::Format::jsonl, 5).ok);
  for (const auto& line : test::read_lines(out)) {
    const auto j = nlohmann::json::parse(line);
    CHECK_FALSE(j.contains("narrative"));
    CHECK_FALSE(j.contains("core"));
    CHECK_FALSE(j.contains("usage"));
    CHECK(j.contains("anchors"));
    CHECK(j["attributes"].size() >= 200);
  }
  // The CSV form drops the same columns.
  REQUIRE(run(*prog, (dir / "s.csv").string(), record::Format::csv, 5).ok);
  const std::string header = test::read_lines(dir / "s.personas.csv").at(0);
  CHECK(header.find("narrative") == std::string::npos);
  CHECK(header.find("core.") == std::string::npos);
  CHECK(header.find("prompt_tokens") == std::string::npos);
  CHECK(header.find("attribute_count") != std::string::npos);
}
