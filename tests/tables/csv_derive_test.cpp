// CSV tables derive facts from `derive.FACT` columns after `weight` (docs/tables.md).
#include <catch2/catch.hpp>

#include "tables.hpp"

using namespace persona;
using namespace persona::tables;

TEST_CASE("a derive.FACT column gives each label its derived fact - an empty cell gives none", "[tables][csv]") {
  DiagnosticList d;
  auto t = parse_csv(
      "country,value,weight,derive.employment\nKenya,Nurse,3,employed\nKenya,Student,2,student\n"
      "Kenya,Volunteer,1,\nCanada,Nurse,4,employed\n",
      "jobs.csv", "jobs", d);
  INFO((d.all().empty() ? std::string() : d.all().front().message));
  REQUIRE(t);
  CHECK(t->by == std::vector<std::string>{"country"});
  CHECK(t->derived_facts() == std::vector<std::string>{"employment"});
  CHECK(t->derive("employment", "Nurse") == "employed");
  CHECK(t->derive("employment", "Student") == "student");
  CHECK_FALSE(t->derive("employment", "Volunteer"));
  CHECK(t->all_labels() == std::vector<std::string>{"Nurse", "Student", "Volunteer"});
}

TEST_CASE("a label that derives two values, or a bad derive column, is a positioned error", "[tables][csv]") {
  DiagnosticList d;
  CHECK_FALSE(parse_csv("country,value,weight,derive.employment\nKenya,Nurse,3,employed\nCanada,Nurse,4,retired\n",
                        "jobs.csv", "jobs", d));
  REQUIRE(d.error_count() == 1);
  CHECK(d.all()[0].code == "table-derive-conflict");
  CHECK(to_string(d.all()[0].where) == "jobs.csv:3:16");
  CHECK(d.all()[0].message == "`Nurse` derives employment = `retired` here but `employed` on line 2");
  DiagnosticList d2;
  CHECK_FALSE(parse_csv("country,value,weight,derive.\nKenya,Nurse,3,x\n", "jobs.csv", "jobs", d2));
  CHECK(d2.all().at(0).code == "table-csv-header");
  DiagnosticList d3;
  CHECK_FALSE(parse_csv("country,value,derive.employment,weight\nKenya,Nurse,x,3\n", "jobs.csv", "jobs", d3));
  CHECK(d3.all().at(0).code == "table-csv-header");
}
