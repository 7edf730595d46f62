// `persona check-personas`: the coherence rules applied to finished personas from a file.
#include <catch2/catch.hpp>
#include <string>

#include "process.hpp"

using persona::test::run_persona;
using persona::test::scratch_dir;
using persona::test::write_file;

namespace {

const char* kLeaving =
    "Demographic Information/Life Course Milestones/Timing of Transitions/Age at Leaving Parental Home";

std::string persona_line(const std::string& id, double age, const std::string& leaving) {
  return "{\"id\":\"" + id + "\",\"seed\":1,\"anchors\":{\"country\":\"India\",\"age\":" + std::to_string(age) +
         "},\"core\":{},\"attributes\":[{\"path\":\"" + kLeaving + "\",\"value\":\"" + leaving +
         "\",\"tier\":\"near\",\"source\":\"llm\",\"status\":\"filled\"}],\"narrative\":\"\"}\n";
}

}  // namespace

TEST_CASE("check-personas finds no violation in offline quickstart personas and exits 0") {
  const auto dir = scratch_dir("check-personas");
  const std::string out = (dir / "q.jsonl").string();
  auto o = run_persona("run examples/quickstart.persona -n 40 -q -o '" + out + "'");
  REQUIRE(o.code == 0);
  o = run_persona("check-personas '" + out + "'");
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK(o.out.empty());
  CHECK(o.err.find("40 personas checked: 0 with a violation, 0 violations") != std::string::npos);
  // The same with the recipe's own taxonomy and tables.
  o = run_persona("check-personas '" + out + "' --recipe examples/quickstart.persona");
  CHECK(o.code == 0);
}

TEST_CASE("check-personas lists a violation with the persona id, rule, attributes and values, and exits 1") {
  const auto dir = scratch_dir("check-personas");
  const std::string file = (dir / "bad.jsonl").string();
  write_file(file, persona_line("p-1", 29, "after 30") + persona_line("p-2", 45, "after 30"));
  const auto o = run_persona("check-personas '" + file + "'");
  INFO(o.out << o.err);
  CHECK(o.code == 1);
  CHECK(o.out.find("p-1: ") != std::string::npos);
  CHECK(o.out.find("Age at Leaving Parental Home") != std::string::npos);
  CHECK(o.out.find("after 30") != std::string::npos);
  CHECK(o.out.find("age >= 31") != std::string::npos);  // the rule quoted
  CHECK(o.out.find("p-2: ") == std::string::npos);      // 45 may have left home after 30
  CHECK(o.err.find("2 personas checked: 1 with a violation") != std::string::npos);
}

TEST_CASE("check-personas reports bad and torn lines with their line numbers and keeps checking the others") {
  const auto dir = scratch_dir("check-personas");
  const std::string file = (dir / "torn.jsonl").string();
  std::string torn = persona_line("p-4", 40, "18 to 21");
  torn.pop_back();  // no final newline: a killed writer
  write_file(file, persona_line("p-1", 40, "18 to 21") + "not json\n" + persona_line("p-3", 29, "after 30") + torn);
  const auto o = run_persona("check-personas '" + file + "'");
  INFO(o.out << o.err);
  CHECK(o.code == 1);
  CHECK(o.err.find("torn.jsonl:2: error: ") != std::string::npos);
  CHECK(o.err.find("torn.jsonl:4: error: torn last line") != std::string::npos);
  CHECK(o.out.find("p-3: ") != std::string::npos);  // the line after the bad one was checked
  CHECK(o.err.find("2 personas checked: 1 with a violation, 1 violations, 2 lines not read") != std::string::npos);
}

TEST_CASE("check-personas: a clean file exits 0, a missing file exits 3 naming it") {
  const auto dir = scratch_dir("check-personas");
  const std::string file = (dir / "clean.jsonl").string();
  write_file(file, persona_line("p-1", 40, "18 to 21"));
  auto o = run_persona("check-personas '" + file + "'");
  CHECK(o.code == 0);
  o = run_persona("check-personas '" + (dir / "nope.jsonl").string() + "'");
  CHECK(o.code == 3);
  CHECK(o.err.find("nope.jsonl") != std::string::npos);
}
