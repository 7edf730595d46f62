// The persona record: JSONL and CSV forms round-trip every field; readers report torn and foreign lines.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/text.hpp"
#include "process.hpp"
#include "record/record.hpp"

using namespace persona::record;

namespace {

PersonaRecord sample(int k) {
  PersonaRecord r;
  r.id = "quickstart-00000" + std::to_string(k);
  r.seed = 18446744073709551557ULL - static_cast<unsigned>(k);
  r.anchors = {{"country", Value::of(std::string("Côte d'Ivoire"))},
               {"age", Value::of(29.0)},
               {"label", Value::of(std::string("2024"))},
               {"missing", Value{}},
               {"employment", Value::of(std::string("employed"))}};
  Value values;
  values.kind = Value::Kind::list;
  values.items = {"family", "a \"quoted\", comma'd value", "line\nbreak"};
  Value obj;
  obj.kind = Value::Kind::object;
  obj.fields = {{"title", Value::of(std::string("First job"))}, {"year", Value::of(2011.5)}, {"tags", values}};
  r.core = {
      {"values", values}, {"attitude", Value::of(std::string("I keep going."))}, {"story", obj}, {"skipped", Value{}}};
  r.attributes = {{"A/B/C", std::string("daily"), "near", "options", "filled"},
                  {"A/B/D", std::nullopt, "far", "llm", "not_applicable"},
                  {"A/E", std::string(""), "mid", "llm", "filled"}};
  r.narrative = "My name is Anil.\nI live in Surat, \"the diamond city\".";
  r.usage = {3, 1200, 400, 800};
  if (k % 2 == 1) r.problems = {"story: llm gave no value for attitude"};
  if (k % 2 == 0) r.weight = 1.25;
  return r;
}

std::filesystem::path scratch(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("persona-record-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d / name;
}

}  // namespace

TEST_CASE("a JSONL line parses to a record that writes the same bytes") {
  for (int k = 0; k < 2; ++k) {
    const PersonaRecord r = sample(k);
    std::string line;
    write_jsonl(r, line);
    REQUIRE(line.back() == '\n');
    PersonaRecord back;
    std::string error;
    REQUIRE(parse_jsonl(std::string_view(line).substr(0, line.size() - 1), back, error));
    CHECK(back == r);
    std::string again;
    write_jsonl(back, again);
    CHECK(again == line);
  }
}

TEST_CASE("unknown top-level keys survive a JSONL round trip") {
  const std::string line =
      R"({"id":"x-000001","seed":5,"anchors":{},"core":{},"attributes":[],"narrative":"","usage":{"calls":0,"prompt_tokens":0,"completion_tokens":0,"cached_tokens":0},"future":{"a":[1,2]}})";
  PersonaRecord r;
  std::string error;
  REQUIRE(parse_jsonl(line, r, error));
  std::string out;
  write_jsonl(r, out);
  CHECK(out == line + "\n");
}

TEST_CASE("the JSONL reader reports foreign lines by number, keeps going, and flags a torn last line") {
  const auto path = scratch("mixed.jsonl");
  std::string good;
  write_jsonl(sample(0), good);
  {
    std::ofstream f(path, std::ios::binary);
    f << good << "{\"hello\":1}\n"
      << "not json\n"
      << "\n"
      << good << good.substr(0, 40);
  }
  JsonlReader in;
  REQUIRE(in.open(path.string()));
  PersonaRecord r;
  CHECK(in.next(r) == ReadStatus::ok);
  CHECK(in.next(r) == ReadStatus::bad);
  CHECK(in.error().find("line 2") != std::string::npos);
  CHECK(in.error().find("'id'") != std::string::npos);
  CHECK(in.next(r) == ReadStatus::bad);
  CHECK(in.error().find("line 3: not JSON") != std::string::npos);
  CHECK(in.next(r) == ReadStatus::ok);
  CHECK(in.line() == 5);
  const auto good_end = in.good_offset();
  CHECK(in.next(r) == ReadStatus::torn);
  CHECK(in.good_offset() == good_end);
  CHECK(in.next(r) == ReadStatus::end);
}

TEST_CASE("the long CSV pair reads back every field of the records") {
  const auto base = scratch("people.csv").string();
  const auto files = output_files(Format::csv, base);
  REQUIRE(files.size() == 2);
  CsvColumns cols;
  cols.weight = true;
  cols.anchors = {"country", "age", "label", "missing", "employment"};
  cols.core = {{"values", true}, {"attitude", false}, {"story", true}, {"skipped", false}};
  std::string p = csv_personas_header(cols), a = csv_attributes_header();
  std::vector<PersonaRecord> rs = {sample(0), sample(1)};
  for (const auto& r : rs) write_csv_long(r, cols, p, a);
  std::ofstream(files[0], std::ios::binary) << p;
  std::ofstream(files[1], std::ios::binary) << a;
  Reader in;
  REQUIRE(in.open(files[0]));
  for (const auto& want : rs) {
    PersonaRecord got;
    REQUIRE(in.next(got) == ReadStatus::ok);
    // The CSV form has no unknown keys; everything else must come back exactly.
    CHECK(got == want);
  }
  PersonaRecord end;
  CHECK(in.next(end) == ReadStatus::end);
}

TEST_CASE("a CSV pair cut inside a persona's attribute rows reads as torn, not as a shorter persona") {
  const auto base = scratch("cut.csv").string();
  const auto files = output_files(Format::csv, base);
  CsvColumns cols;
  cols.anchors = {"country", "age"};
  std::string p = csv_personas_header(cols), a = csv_attributes_header();
  write_csv_long(sample(0), cols, p, a);
  const std::size_t first_attrs = a.size();
  write_csv_long(sample(1), cols, p, a);
  std::ofstream(files[0], std::ios::binary) << p;
  std::ofstream(files[1], std::ios::binary) << a.substr(0, first_attrs + 20);
  CsvLongReader in;
  REQUIRE(in.open(files[0], files[1]));
  PersonaRecord r;
  REQUIRE(in.next(r) == ReadStatus::ok);
  const auto po = in.personas_offset(), ao = in.attributes_offset();
  CHECK(ao == first_attrs + csv_attributes_header().size() - csv_attributes_header().size());
  CHECK(in.next(r) == ReadStatus::torn);
  CHECK(in.personas_offset() == po);
}

TEST_CASE("Python's csv module loads both CSV files with numbers unquoted and strings quoted") {
  const auto base = scratch("py.csv").string();
  const auto files = output_files(Format::csv, base);
  CsvColumns cols;
  cols.anchors = {"country", "age", "label"};
  cols.core = {{"values", true}};
  std::string p = csv_personas_header(cols), a = csv_attributes_header();
  write_csv_long(sample(0), cols, p, a);
  std::ofstream(files[0], std::ios::binary) << p;
  std::ofstream(files[1], std::ios::binary) << a;
  const auto script = scratch("check.py");
  std::ofstream(script) << "import csv, json, sys\n"
                           "rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\n"
                           "h = rows[0]\n"
                           "assert h[:2] == ['id', 'seed'], h\n"
                           "r = dict(zip(h, rows[1]))\n"
                           "assert r['anchor.country'] == \"Côte d'Ivoire\", r\n"
                           "assert r['anchor.age'] == '29' and r['anchor.label'] == '2024'\n"
                           "assert json.loads(r['core.values.json'])[1] == 'a \"quoted\", comma\\'d value'\n"
                           "assert int(r['attribute_count']) == 3\n"
                           "attrs = list(csv.DictReader(open(sys.argv[2], newline='', encoding='utf-8')))\n"
                           "assert len(attrs) == 3 and attrs[0]['path'] == 'A/B/C' and attrs[1]['value'] == ''\n"
                           "print('ok')\n";
  const auto run = persona::test::run_command("python3 " + script.string() + " " + files[0] + " " + files[1]);
  INFO(run.out + run.err);
  CHECK(run.code == 0);
  const std::string out = run.out;
  CHECK(out == "ok\n");
}

TEST_CASE("strings that are not UTF-8 are written as U+FFFD in JSONL and CSV - every line is valid UTF-8") {
  PersonaRecord r = sample(0);
  r.id = "caf\xe9-000001";
  r.narrative = "cut mid-character \xe2\x82";
  r.anchors[0].second = Value::of(std::string("C\xf4te"));
  r.core[1].second = Value::of(std::string("\xed\xa0\x80 surrogate"));
  r.attributes[0].value = std::string("\xff");
  std::string line;
  write_jsonl(r, line);
  CHECK(persona::text::utf8_valid(line));
  CHECK(line.find("caf\xEF\xBF\xBD-000001") != std::string::npos);
  CHECK(line.find("cut mid-character \xEF\xBF\xBD") != std::string::npos);
  PersonaRecord back;
  std::string error;
  CHECK(parse_jsonl(line, back, error));
  CsvColumns cols;
  cols.weight = true;
  cols.anchors = {"country", "age", "label", "missing", "employment"};
  cols.core = {{"values", true}, {"attitude", false}, {"story", true}, {"skipped", false}};
  std::string personas, attributes;
  write_csv_long(r, cols, personas, attributes);
  CHECK(persona::text::utf8_valid(personas));
  CHECK(persona::text::utf8_valid(attributes));
  CHECK(personas.find("C\xEF\xBF\xBDte") != std::string::npos);
}

TEST_CASE("the readers refuse a device or a FIFO at open, instead of reading forever or blocking") {
  const auto dir = std::filesystem::temp_directory_path() / "persona-record-nonregular";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto fifo = dir / "personas.jsonl";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& path : {std::string("/dev/zero"), fifo.string()}) {
    INFO(path);
    JsonlReader jsonl;
    CHECK_FALSE(jsonl.open(path));  // returns at once: the test would hang on a FIFO otherwise
    CHECK(jsonl.error().find("not a regular file") != std::string::npos);
    CHECK(jsonl.error().find(path) != std::string::npos);
    CsvLongReader csv;
    CHECK_FALSE(csv.open(path, path));
    CHECK(csv.error().find("not a regular file") != std::string::npos);
  }
  JsonlReader dir_reader;
  CHECK_FALSE(dir_reader.open(dir.string()));
  CHECK(dir_reader.error().find("directory") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the wide CSV quotes commas, quotes and newlines so Python's csv module reads one row per persona") {
  const auto path = scratch("wide.csv").string();
  CsvColumns cols;
  cols.weight = true;
  cols.anchors = {"country", "age", "missing"};
  cols.core = {{"values", true}, {"attitude", false}};
  cols.panel = {"A/B/C", "A/B/D", "A/E", "A/F, \"odd\"\nname"};
  std::string out = csv_wide_header(cols);
  std::vector<PersonaRecord> rs;
  for (int k = 0; k < 3; ++k) {
    PersonaRecord r = sample(k);
    r.weight = k == 1 ? std::optional<double>(2.5) : std::nullopt;
    r.attributes[0].value = "comma, \"quote\" and\nnewline";
    r.attributes.push_back({"A/F, \"odd\"\nname", std::string("x"), "panel", "options", "filled"});
    r.attributes.push_back({"Z/not in the panel", std::string("never written"), "near", "options", "filled"});
    write_csv_wide(r, cols, out);
    rs.push_back(r);
  }
  CHECK(out.find("never written") == std::string::npos);  // only the panel's attributes
  std::ofstream(path, std::ios::binary) << out;
  const auto script = scratch("check_wide.py");
  std::ofstream(script) << "import csv, json, sys\n"
                           "rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\n"
                           "h, rows = rows[0], rows[1:]\n"
                           "assert h == ['id', 'seed', 'weight', 'anchor.country', 'anchor.age', 'anchor.missing',\n"
                           "             'core.values.json', 'core.attitude', 'A/B/C', 'A/B/D', 'A/E',\n"
                           "             'A/F, \"odd\"\\nname'], h\n"
                           "assert len(rows) == 3, len(rows)\n"
                           "for row in rows:\n"
                           "    assert len(row) == len(h), row\n"
                           "    r = dict(zip(h, row))\n"
                           "    assert r['anchor.country'] == \"Côte d'Ivoire\" and float(r['anchor.age']) == 29\n"
                           "    assert r['anchor.missing'] == ''\n"
                           "    assert json.loads(r['core.values.json'])[2] == 'line\\nbreak'\n"
                           "    assert r['A/B/C'] == 'comma, \"quote\" and\\nnewline', r['A/B/C']\n"
                           "    assert r['A/B/D'] == '' and r['A/E'] == '' and r['A/F, \"odd\"\\nname'] == 'x'\n"
                           "assert [r[2] for r in rows] == ['', '2.5', ''], [r[2] for r in rows]\n"
                           "print('ok', len(rows))\n";
  const auto run = persona::test::run_command("python3 " + script.string() + " " + path);
  INFO(run.out + run.err);
  CHECK(run.code == 0);
  CHECK(run.out == "ok 3\n");

  // The product's reader gives the rows back: anchors, core, and the panel as attributes.
  CsvWideReader in;
  REQUIRE(in.open(path));
  PersonaRecord r;
  for (int k = 0; k < 3; ++k) {
    REQUIRE(in.next(r) == ReadStatus::ok);
    CHECK(r.id == rs[static_cast<std::size_t>(k)].id);
    CHECK(r.weight == rs[static_cast<std::size_t>(k)].weight);
    REQUIRE(r.attributes.size() == 4);
    CHECK(r.attributes[0].value == std::optional<std::string>("comma, \"quote\" and\nnewline"));
    CHECK(r.attributes[0].tier == "panel");
    CHECK_FALSE(r.attributes[1].value);
    CHECK(r.attributes[1].status == "not_filled");
    REQUIRE(r.core.size() == 2);
    CHECK(r.core[0].second == rs[0].core[0].second);
  }
  CHECK(in.next(r) == ReadStatus::end);
  // A row cut by a kill is torn, not a persona.
  std::ofstream(path, std::ios::binary) << out.substr(0, out.size() - 3);
  CsvWideReader torn;
  REQUIRE(torn.open(path));
  CHECK(torn.next(r) == ReadStatus::ok);
  CHECK(torn.next(r) == ReadStatus::ok);
  CHECK(torn.next(r) == ReadStatus::torn);
}
