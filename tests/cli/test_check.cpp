// `persona check` on the recipes that users reported as passing the checker and then producing
// wrong data with exit 0 (issue 12), against the real stdlib tables and taxonomy: the message with
// its position, and the exit code. Then the warning options.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "process.hpp"

using namespace persona::test;
namespace fs = std::filesystem;

namespace {

// Writes `text` to a scratch file and runs `persona check ARGS FILE`.
Outcome check(const std::string& name, const std::string& text, const std::string& args = "") {
  const auto file = scratch_dir("cli-check") / name;
  std::ofstream(file, std::ios::binary) << text;
  return run_persona("check " + args + (args.empty() ? "" : " ") + "'" + file.string() + "'");
}

bool has(const Outcome& o, const std::string& text) { return o.err.find(text) != std::string::npos; }

const std::string kChain =
    "anchor gender     ~ table stdlib.sex_ratio by country\n"
    "anchor age        ~ table stdlib.age_by_sex by country, gender truncate 18..90\n"
    "anchor occupation ~ table stdlib.occupations by country, gender, age\n";

}  // namespace

TEST_CASE("check: anchor country = \"USA\" is an error that suggests \"United States\" (exit 1)") {
  auto o = check("usa.persona", "recipe \"usa\" version \"1\"\nanchor country = \"USA\"\n" + kChain);
  INFO(o.err);
  CHECK(o.code == 1);
  CHECK(has(o,
            "usa.persona:2:18: error: 'USA' is not a key of tables 'stdlib.sex_ratio', 'stdlib.age_by_sex' and "
            "'stdlib.occupations' (keyed by country): nothing can be drawn for it"));
  CHECK(has(o, "note: did you mean \"United States\"?"));
  CHECK(has(o, "usa.persona:3:47: note: 'gender' is drawn by 'country' here"));
  auto fixed = check("us.persona", "recipe \"us\" version \"1\"\nanchor country = \"United States\"\n" + kChain);
  INFO(fixed.err);
  CHECK(fixed.code == 0);
  CHECK(fixed.err.empty());
}

TEST_CASE("check: an include glob that matches nothing is an error (exit 1)") {
  auto o = check("glob.persona", "recipe \"g\" version \"1\"\nanchor country = \"Kenya\"\n" + kChain +
                                     "attributes {\n  include \"Lifestyle and daily routine/**\"\n}\n");
  INFO(o.err);
  CHECK(o.code == 1);
  CHECK(has(o,
            "glob.persona:7:11: error: \"Lifestyle and daily routine/**\" matches no attribute of the taxonomy "
            "stdlib.core"));
  CHECK(has(o, "note: did you mean \"Lifestyle and Daily Routine/**\"?"));
}

TEST_CASE("check: a table drawn `by` fewer or other facts than its keys is an error (exit 1)") {
  auto fewer = check("by.persona",
                     "recipe \"b\" version \"1\"\nanchor country ~ table stdlib.countries\n"
                     "anchor occupation ~ table stdlib.occupations by country\n");
  CHECK(fewer.code == 1);
  CHECK(has(fewer,
            "by.persona:3:49: error: table 'stdlib.occupations' is conditioned on 3 fact(s) (country, gender, "
            "age); write 'by country, gender, age'"));
  auto renamed = check("sex.persona",
                       "recipe \"s\" version \"1\"\nanchor country ~ table stdlib.countries\n"
                       "anchor sex ~ table stdlib.sex_ratio by country\n"
                       "anchor age ~ table stdlib.age_by_sex by country, sex\n");
  CHECK(renamed.code == 1);
  CHECK(has(renamed,
            "sex.persona:4:50: error: table 'stdlib.age_by_sex' is keyed on country, gender, not on 'sex'; "
            "write 'by country, gender'"));
}

TEST_CASE("check: an exclude before `include *` is a warning naming both filters (exit 0 - 1 with --Werror)") {
  const std::string text =
      "recipe \"class\" version \"1\"\nanchor country = \"United States\"\n"
      "anchor gender ~ table stdlib.sex_ratio by country\nanchor age ~ uniform(14, 16) round\n"
      "anchor occupation ~ table stdlib.occupations by country, gender, age\n"
      "attributes {\n  exclude \"Career and Work Identity/**\" when age < 17\n  include *\n}\n";
  auto o = check("class.persona", text);
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(has(o,
            "class.persona:7:3: warning: 'exclude \"Career and Work Identity/**\"' is undone by the later "
            "'include *' (line 8): the last matching filter wins"));
  CHECK(has(o, "class.persona:8:3: note: the later filter"));
  CHECK(check("class.persona", text, "--Werror").code == 1);
  auto quiet = check("class.persona", text, "--no-warn shadowed-filter");
  CHECK(quiet.code == 0);
  CHECK(quiet.err.empty());
}

TEST_CASE("check: a fixed occupation, or one from a CSV without derive.employment, loses employment (exit 1)") {
  auto fixed = check("student.persona",
                     "recipe \"s\" version \"1\"\nanchor age ~ uniform(14, 16) round\n"
                     "anchor gender ~ { female: 0.5, male: 0.5 }\n"
                     "anchor occupation = \"Student\"\n");
  INFO(fixed.err);
  CHECK(fixed.code == 1);
  CHECK(has(fixed,
            "student.persona:4:1: error: no persona has 'employment': anchor 'occupation' is fixed, so no "
            "table derives 'employment' from it, and the taxonomy's conditions read it"));
  CHECK(has(fixed,
            "stdlib/taxonomy/core/02-career-and-work-identity.tax:4:7: note: a condition of the taxonomy "
            "that reads 'employment'"));
  const auto dir = scratch_dir("cli-check");
  std::ofstream(dir / "jobs.csv") << "country,value,weight\nKenya,Nurse,3\nKenya,Student,2\n";
  auto csv = check("jobs.persona",
                   "recipe \"j\" version \"1\"\ntable jobs = \"jobs.csv\"\n"
                   "anchor country = \"Kenya\"\nanchor age ~ uniform(18, 80) round\n"
                   "anchor gender ~ { female: 0.5, male: 0.5 }\n"
                   "anchor occupation ~ table jobs by country\n");
  INFO(csv.err);
  CHECK(csv.code == 1);
  CHECK(has(csv,
            "jobs.persona:6:1: error: no persona has 'employment': anchor 'occupation' is drawn from table "
            "'jobs', which does not derive 'employment'"));
  // With a derive column the recipe checks; a fact some labels lack must be written for absence.
  std::ofstream(dir / "jobs2.csv") << "country,value,weight,derive.employment\nKenya,Nurse,3,employed\n"
                                      "Kenya,Student,2,student\nKenya,Volunteer,1,\n";
  const std::string derived =
      "recipe \"j\" version \"1\"\ntable jobs = \"jobs2.csv\"\n"
      "anchor country = \"Kenya\"\nanchor age ~ uniform(18, 80) round\n"
      "anchor gender ~ { female: 0.5, male: 0.5 }\n"
      "anchor occupation ~ table jobs by country\n";
  CHECK(check("jobs2.persona", derived).code == 0);
  auto absent = check("jobs3.persona", derived +
                                           "attributes {\n  exclude \"Career and Work Identity/**\" when "
                                           "employment in (student, retired)\n}\n");
  INFO(absent.err);
  CHECK(absent.code == 1);
  CHECK(has(absent,
            "jobs3.persona:8:46: error: 'employment' may be absent (table 'jobs' derives it for some "
            "occupation values only): say what absence means"));
  CHECK(has(absent,
            "note: write 'employment? in (student, retired)' (true when absent) or 'has employment and "
            "employment in (student, retired)'"));
}

TEST_CASE("check: the language's small bugs: numeric labels, one categorical error, carets in characters") {
  auto numbers = check("n.persona",
                       "recipe \"n\" version \"1\"\nanchor age ~ uniform(20, 60) round\n"
                       "anchor gender ~ { female: 0.5, male: 0.5 }\nanchor employment = \"employed\"\n"
                       "anchor household ~ { 1: 0.3, 2: 0.7 }\n");
  INFO(numbers.err);
  CHECK(numbers.code == 0);
  auto cat = check("c.persona", "recipe \"c\" version \"1\"\nanchor g ~ { a: 1, b 2 }\n");
  CHECK(cat.code == 1);
  CHECK(has(cat, "c.persona: 1 error(s)"));
  auto utf = check("u.persona", "recipe \"u\" version \"1\"\nanchor g ~ { \"Zürich\": 1, b 2 }\n");
  CHECK(has(utf,
            "u.persona:2:29: error: expected ':' between the label and its weight\n"
            " 2 | anchor g ~ { \"Zürich\": 1, b 2 }\n"
            "   |                             ^\n"));
}

TEST_CASE("check: the output settings the docs list are accepted") {
  auto o = check("out.persona",
                 "recipe \"o\" version \"1\"\nanchor age ~ uniform(20, 60) round\n"
                 "anchor gender ~ { female: 0.5, male: 0.5 }\nanchor employment = \"employed\"\n"
                 "output {\n  path \"o.jsonl\"\n  count 10\n  format csv\n  narrative off\n  core on\n"
                 "  usage on\n  prompts off\n}\n");
  INFO(o.err);
  CHECK(o.code == 0);
  CHECK(o.err.empty());
}

TEST_CASE("check: --list-warnings names every warning - an unknown --no-warn is a usage error") {
  auto list = run_persona("check --list-warnings");
  CHECK(list.code == 0);
  for (const char* name : {"shadowed-filter", "redundant-filter", "key-fallback", "table-coverage", "missing-fact",
                           "impossible-value", "weights-not-normalised", "missing-header", "unknown-setting"})
    CHECK(list.out.find(std::string(name) + " ") != std::string::npos);
  auto bad = run_persona("check --no-warn shadowed-filtre examples/quickstart.persona");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("unknown warning 'shadowed-filtre'; did you mean 'shadowed-filter'?") != std::string::npos);
}
