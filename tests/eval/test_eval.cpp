// The evaluator's figures on hand-made personas whose right answers are known.
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "eval_support.hpp"

using namespace eval_test;
using namespace persona;

namespace {

eval::FileReport run(const std::vector<record::PersonaRecord>& rs, eval::Options o = options(),
                     const eval::Targets* t = nullptr) {
  eval::Evaluator ev(std::move(o), t);
  for (const auto& r : rs) ev.add(r);
  return ev.finish("mem.jsonl");
}

const char* kRegion = R"(name = "region"
value = "category"
by = ["gender"]
[weights.female]
north = 3
south = 1
[weights."*"]
north = 1
south = 1
)";

const char* kAges = R"(name = "ages"
value = "integer-range"
[weights]
"10-19" = 1
"20-29" = 1
"30-39" = 2
)";

}  // namespace

TEST_CASE("filler, repeated leaf names and duplicate values are counted per persona", "[eval]") {
  const auto a =
      make_persona("a", {{"Lifestyle/Sleep/Chronotype", "early riser"},
                         {"Health/Sleep Habits/Chronotype", "Early riser!"},  // repeated name, duplicate value
                         {"Work/Side Jobs", "None"},                          // filler
                         {"Work/Industry Involvement", "No involvement in the food industry"},  // filler
                         {"Food/Diet", "vegetarian"}});
  const auto b =
      make_persona("b", {{"Food/Diet", "never"}, {"Food/Snacks", "never"}, {"Drink/Alcohol", "does not drink"}});
  const auto rep = run({a, b});
  CHECK(rep.personas == 2);
  CHECK(rep.metrics.at("attributes_total") == 8);
  CHECK(rep.metrics.at("repeated_names_count") == 1);
  CHECK(rep.metrics.at("repeated_names") == Approx(1.0 / 8));
  CHECK(rep.metrics.at("filler_count") == 3);  // "None", "No involvement...", "does not drink"; "never" is an answer
  CHECK(rep.metrics.at("duplicate_values_count") == 2);  // "Early riser!" folds to "early riser"; b's second "never"
  CHECK(rep.metrics.at("distinct_values") == Approx((4.0 / 5 + 2.0 / 3) / 2));
  CHECK(rep.metrics.at("categories_mean") == Approx((4.0 + 2.0) / 2));
  CHECK(rep.metrics.at("categories_min") == 2);
  CHECK(rep.metrics.at("depth_mean") == Approx((3 + 3 + 2 + 2 + 2 + 2 + 2 + 2) / 8.0));
  CHECK(rep.attributes_per_persona == eval::Histogram{{3, 1}, {5, 1}});
}

TEST_CASE("negative filler follows the definitions: exact answers and prefixes, case and spaces ignored", "[eval]") {
  const auto d = definitions();
  CHECK(eval::is_filler(d, "None"));
  CHECK(eval::is_filler(d, "  N/A "));
  CHECK(eval::is_filler(d, "Not applicable"));
  CHECK(eval::is_filler(d, "Does not play any instrument"));
  CHECK(eval::is_filler(d, "no involvement in the food and beverage industry"));
  CHECK_FALSE(eval::is_filler(d, "never"));
  CHECK_FALSE(eval::is_filler(d, "no children"));
  CHECK_FALSE(eval::is_filler(d, "nonetheless hopeful"));
  CHECK_FALSE(eval::is_filler(d, "early riser"));
}

TEST_CASE("semantic twins come from the meaning hook, without it the folded leaf name decides", "[eval]") {
  const auto p = make_persona("a", {{"Health/Sleep/Chronotype", "lark"},
                                    {"Lifestyle/Daily Rhythm/Chronotype", "lark"},
                                    {"Lifestyle/Daily Rhythm/Wake Time", "6am"},
                                    {"Health/Sleep/Bedtime", "10pm"}});
  auto rep = run({p});
  CHECK(rep.metrics.at("semantic_twins_count") == 1);  // the two Chronotypes
  auto o = options();
  o.meaning = [](std::string_view path) {
    return std::string(path.ends_with("Wake Time") || path.ends_with("Bedtime") ? "sleep-schedule" : path);
  };
  rep = run({p}, o);
  CHECK(rep.metrics.at("semantic_twins_count") == 1);  // Wake Time and Bedtime; the Chronotypes now differ
}

TEST_CASE("contradictions are counted through the hook, per rule, without a hook they are not computed", "[eval]") {
  const auto a = make_persona("a", {{"Family/Children", "three"}}),
             b = make_persona("b", {{"Family/Children", "none"}});
  auto rep = run({a, b});
  CHECK_FALSE(rep.contradictions_counted);
  CHECK(rep.metrics.count("contradictions") == 0);
  auto o = options();
  o.contradictions = [](const record::PersonaRecord& r) {
    std::vector<eval::Violation> v;
    if (r.id == "a") v = {{"children-vs-age", "three children at 14"}, {"partner", "married and single"}};
    return v;
  };
  rep = run({a, b}, o);
  CHECK(rep.contradictions_counted);
  CHECK(rep.metrics.at("contradictions") == Approx(0.5));
  CHECK(rep.metrics.at("contradictions_per_persona") == Approx(1.0));
  CHECK(rep.contradictions_by_rule == std::map<std::string, std::uint64_t>{{"children-vs-age", 1}, {"partner", 1}});
}

TEST_CASE("the tier mix and the count and word ranges are compared with the recipe's targets", "[eval]") {
  auto p = make_persona("a", {{"A/x|near", "1"}, {"A/y|near", "2"}, {"A/z|mid", "3"}, {"A/w|far", "4"}},
                        "one two three four five");
  eval::Targets t;
  t.near = 5;
  t.mid = 3;
  t.far = 2;
  t.min_count = 4;
  t.max_count = 10;
  t.min_words = 6;
  t.max_words = 10;
  const auto rep = run({p}, options(), &t);
  CHECK(rep.metrics.at("tier_near") == Approx(0.5));
  CHECK(rep.metrics.at("tier_mid") == Approx(0.25));
  CHECK(rep.metrics.at("tier_distance") == Approx((0.0 + 0.05 + 0.05) / 2));
  CHECK(rep.metrics.at("in_count_range") == Approx(1.0));
  CHECK(rep.metrics.at("narrative_in_range") == Approx(0.0));  // 5 words, the range is 6..10
  CHECK(rep.metrics.at("narrative_words_mean") == Approx(5));
}

TEST_CASE("attributes without a tier are counted under (none) and count against the tier target", "[eval]") {
  auto p = make_persona("a", {{"A/x|near", "1"}, {"A/y|", "2"}, {"A/z|", "3"}});
  eval::Targets t;
  t.near = 1;
  const auto rep = run({p}, options(), &t);
  CHECK(rep.tiers == std::map<std::string, std::uint64_t>{{"(none)", 2}, {"near", 1}});
  CHECK(rep.metrics.at("tier_distance") == Approx(2.0 / 3));
}

TEST_CASE("an anchor drawn as its table implies for each persona's own `by` values has a Jensen-Shannon of 0",
          "[eval][anchors]") {
  DiagnosticList d;
  auto tb = tables::parse_toml(kRegion, "region.toml", "", "region", false, d);
  INFO(dump(d));
  REQUIRE(tb);
  auto lib = std::make_shared<tables::Library>();
  const tables::Table* region = lib->add(std::move(*tb));
  eval::Targets t;
  t.tables = lib;
  t.anchors.push_back({"region", region, {"gender"}, {}});
  // 4 women: 3 north, 1 south (the female row); 2 men: 1 and 1 (the "*" row).
  std::vector<record::PersonaRecord> rs;
  const std::pair<const char*, const char*> people[] = {{"female", "north"}, {"female", "north"}, {"female", "north"},
                                                        {"female", "south"}, {"male", "north"},   {"male", "south"}};
  int i = 0;
  for (const auto& [g, reg] : people) {
    auto r = make_persona("p" + std::to_string(i++), {{"A/x", "1"}});
    r.anchors = {{"gender", record::Value::of(g)}, {"region", record::Value::of(reg)}};
    rs.push_back(r);
  }
  auto rep = run(rs, options(), &t);
  REQUIRE(rep.metrics.count("anchor_js.region") == 1);
  CHECK(rep.metrics.at("anchor_js.region") == Approx(0.0).margin(1e-12));
  const auto it =
      std::find_if(rep.anchors.begin(), rep.anchors.end(), [](const auto& a) { return a.name == "region"; });
  REQUIRE(it != rep.anchors.end());
  CHECK(it->table == "region");
  CHECK(it->expected == std::vector<std::pair<std::string, double>>{{"north", 4.0 / 6}, {"south", 2.0 / 6}});
  // All six in the north: the divergence is positive.
  for (auto& r : rs) r.anchors[1].second = record::Value::of("north");
  rep = run(rs, options(), &t);
  CHECK(rep.metrics.at("anchor_js.region") > 0.1);
  CHECK(rep.metrics.at("anchor_js_max") == rep.metrics.at("anchor_js.region"));
  // A persona without the anchor is counted as unmatched, not as a label.
  rs[0].anchors.pop_back();
  rep = run(rs, options(), &t);
  CHECK(std::find_if(rep.anchors.begin(), rep.anchors.end(), [](const auto& a) {
          return a.name == "region";
        })->unmatched == 1);
}

TEST_CASE("restricted(): truncation keeps the share of a bin inside the window, clamp moves the rest to the edges",
          "[eval][anchors]") {
  DiagnosticList d;
  auto tb = tables::parse_toml(kAges, "ages.toml", "", "ages", false, d);
  INFO(dump(d));
  REQUIRE(tb);
  const std::vector<cond::Value> none;
  const tables::Dist* dist = tb->lookup(none);
  REQUIRE(dist != nullptr);
  // truncate 18..90: "10-19" keeps 2 of its 10 ages.
  auto r = eval::restricted(*tb, *dist, {lang::Bound::Kind::truncate, 18.0, 90.0});
  const double w = 0.25 * 0.2 + 0.25 + 0.5;
  CHECK(r["10-19"] == Approx(0.25 * 0.2 / w));
  CHECK(r["30-39"] == Approx(0.5 / w));
  // clamp 18..90: the 8 ages below 18 land on 18, which is still in "10-19": nothing moves between bins.
  r = eval::restricted(*tb, *dist, {lang::Bound::Kind::clamp, 18.0, 90.0});
  CHECK(r["10-19"] == Approx(0.25));
  // clamp 25..90: "10-19" goes wholly to 25, in "20-29".
  r = eval::restricted(*tb, *dist, {lang::Bound::Kind::clamp, 25.0, 90.0});
  CHECK(r["10-19"] == Approx(0.0));
  CHECK(r["20-29"] == Approx(0.5));
  CHECK(r["30-39"] == Approx(0.5));
}

TEST_CASE("the similarity sample is deterministic, independent of file order, and its size is reported",
          "[eval][similarity]") {
  std::vector<record::PersonaRecord> rs;
  for (int i = 0; i < 40; ++i) {
    std::vector<std::pair<std::string, std::string>> attrs;
    for (int k = 0; k < 10; ++k) attrs.emplace_back("C/leaf " + std::to_string((i + k) % 25), std::to_string(k % 3));
    rs.push_back(make_persona("p" + std::to_string(i), attrs, "story number " + std::to_string(i) + " about the sea"));
  }
  auto o = options();
  o.sample = 15;
  const auto a = run(rs, o);
  std::reverse(rs.begin(), rs.end());
  const auto b = run(rs, o);
  CHECK(a.sample == 15);
  CHECK(a.metrics.at("sample") == 15);
  CHECK(a.metrics.at("similarity_paths") == b.metrics.at("similarity_paths"));
  CHECK(a.metrics.at("narrative_nn") == Approx(b.metrics.at("narrative_nn")));
  CHECK(a.path_similarity == b.path_similarity);
  std::uint64_t pairs = 0;
  for (auto c : a.path_similarity) pairs += c;
  CHECK(pairs == 15 * 14 / 2);
  CHECK(a.metrics.at("similarity_paths") > 0.0);
  CHECK(a.metrics.at("similarity_paths") < 1.0);
  o.sample_seed = 99;  // another seed, another sample
  CHECK(run(rs, o).metrics.at("similarity_paths") != a.metrics.at("similarity_paths"));
}

TEST_CASE("identical personas are exact and near duplicates, unrelated ones are not", "[eval][privacy]") {
  std::vector<std::pair<std::string, std::string>> attrs;
  for (int k = 0; k < 50; ++k) attrs.emplace_back("C/leaf " + std::to_string(k), "v" + std::to_string(k));
  auto x = make_persona("x", attrs), y = make_persona("y", attrs);
  auto z_attrs = attrs;
  z_attrs[0].second = "changed";  // 49 of 51 pairs shared: Jaccard 0.96
  auto z = make_persona("z", z_attrs);
  std::vector<std::pair<std::string, std::string>> other;
  for (int k = 0; k < 50; ++k) other.emplace_back("D/leaf " + std::to_string(k), "w" + std::to_string(k));
  auto u = make_persona("u", other);
  const auto rep = run({x, y, z, u});
  CHECK(rep.privacy.exact_duplicates == 1);       // y repeats x
  CHECK(rep.metrics.at("near_duplicates") == 3);  // x-y, x-z, y-z
  CHECK(rep.privacy.examples.size() == 3);
  for (const auto& [a, b, j] : rep.privacy.examples) {
    CHECK(a != "u");
    CHECK(b != "u");
    CHECK(j >= 0.8);
  }
}

TEST_CASE("personas unique on their quasi-identifiers are counted, ages in bands", "[eval][privacy]") {
  std::vector<record::PersonaRecord> rs;
  const std::pair<double, const char*> people[] = {{30, "Nairobi"}, {34, "Nairobi"}, {36, "Nairobi"}, {30, "Lima"}};
  int i = 0;
  for (const auto& [age, city] : people) {
    auto r = make_persona("p" + std::to_string(i++), {{"A/x", "1"}});
    r.anchors = {{"age", record::Value::of(age)}, {"city", record::Value::of(city)}};
    rs.push_back(r);
  }
  const auto rep = run(rs);
  CHECK(rep.privacy.quasi_identifiers == std::vector<std::string>{"age", "city"});
  // Bands of 5 years: 30-34 Nairobi (2), 35-39 Nairobi (1), 30-34 Lima (1).
  CHECK(rep.privacy.classes == 3);
  CHECK(rep.metrics.at("qi_unique") == Approx(0.5));
  CHECK(rep.metrics.at("k_anonymity") == 1);
  CHECK(rep.privacy.by_class_size[0] == std::pair<std::string, std::uint64_t>{"1", 2});
  CHECK(rep.privacy.by_class_size[1] == std::pair<std::string, std::uint64_t>{"2", 2});
}

TEST_CASE("a file with a foreign line and a torn last line is evaluated, each damaged line reported by number",
          "[eval][damage]") {
  const auto a = make_persona("a", {{"A/x", "1"}}), b = make_persona("b", {{"A/y", "2"}});
  std::string text = jsonl({a});
  text += "{\"tool\":\"something else\"}\n";
  text += jsonl({b});
  text += "{\"id\":\"c\",\"attri";  // torn
  const auto path = write_file("damaged.jsonl", text);
  DiagnosticList d;
  const auto rep = eval::evaluate_file(path, options(), nullptr, d);
  CHECK(rep.personas == 2);
  CHECK(rep.damage.bad_lines == 1);
  CHECK(rep.damage.torn);
  CHECK(rep.metrics.at("damaged_lines") == 2);
  REQUIRE(d.all().size() == 2);
  CHECK(d.all()[0].where.line == 2);
  CHECK(d.all()[0].message.find("not a persona") != std::string::npos);
  CHECK(d.all()[1].where.line == 4);
  CHECK(d.all()[1].message.find("torn") != std::string::npos);
}

TEST_CASE("an unreadable persona file is an error naming it", "[eval][damage]") {
  DiagnosticList d;
  const auto rep = eval::evaluate_file((temp_dir() / "missing.jsonl").string(), options(), nullptr, d);
  CHECK(rep.damage.unreadable);
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].message.find("missing.jsonl") != std::string::npos);
}

TEST_CASE("a long CSV pair is evaluated like its JSONL", "[eval][csv]") {
  auto a = make_persona("a", {{"A/x", "None"}, {"B/x", "two"}}), b = make_persona("b", {{"A/y", "3"}});
  record::CsvColumns cols;
  cols.anchors = {"age", "gender"};
  std::string personas = record::csv_personas_header(cols), attributes = record::csv_attributes_header();
  record::write_csv_long(a, cols, personas, attributes);
  record::write_csv_long(b, cols, personas, attributes);
  const auto p = write_file("pair.personas.csv", personas);
  write_file("pair.attributes.csv", attributes);
  const auto j = write_file("pair.jsonl", jsonl({a, b}));
  DiagnosticList d;
  const auto from_csv = eval::evaluate_file(p, options(), nullptr, d);
  const auto from_jsonl = eval::evaluate_file(j, options(), nullptr, d);
  INFO(dump(d));
  CHECK_FALSE(d.has_errors());
  CHECK(from_csv.personas == 2);
  CHECK(from_csv.metrics.at("filler_count") == 1);
  CHECK(from_csv.metrics.at("repeated_names_count") == 1);
  for (const auto& [k, v] : from_jsonl.metrics)
    if (k != "sample") CHECK(from_csv.metrics.at(k) == Approx(v));
}

TEST_CASE("a persona file written by persona 0.1.0 is read and evaluated", "[eval][compat]") {
  DiagnosticList d;
  const std::string path = std::string(PERSONA_TESTS_DIR) + "/eval/data/v0.1.0-quickstart.jsonl";
  const auto rep = eval::evaluate_file(path, options(), nullptr, d);
  INFO(dump(d));
  CHECK_FALSE(d.has_errors());
  CHECK(rep.personas == 2);
  CHECK(rep.metrics.at("attributes_min") >= 200);
  CHECK(rep.metrics.at("filled_share") == 1.0);
  CHECK(rep.metrics.at("categories_mean") >= 10);
  CHECK(rep.privacy.quasi_identifiers == std::vector<std::string>{"age", "gender", "country", "city", "occupation"});
}

TEST_CASE("the JSON holds every figure and parses, the table has one column per file", "[eval][output]") {
  const auto a = run({make_persona("a", {{"A/x", "None"}})});
  auto b = run({make_persona("b", {{"A/x", "1"}, {"A/y", "2"}})});
  b.file = "second.jsonl";
  const auto j = nlohmann::json::parse(eval::to_json({a, b}));
  REQUIRE(j["files"].size() == 2);
  CHECK(j["files"][0]["metrics"]["filler"] == 1.0);
  CHECK(j["files"][1]["metrics"]["attributes_total"] == 2);
  CHECK(j["files"][1]["histograms"]["attributes_per_persona"] == nlohmann::json::parse("[[2,1]]"));
  const std::string t = eval::to_table({a, b});
  const auto first = t.substr(0, t.find('\n'));
  CHECK(first.find("mem.jsonl") != std::string::npos);
  CHECK(first.find("second.jsonl") != std::string::npos);
  CHECK(t.find("filler ") != std::string::npos);
  CHECK(t.find("100.00%") != std::string::npos);
}

TEST_CASE("a definitions file with a wrong type is an error with its file and line", "[eval][definitions]") {
  const auto p = write_file("defs.toml",
                            "[filler]\nexact = [\"none\"]\nprefix = [1]\n[privacy]\n"
                            "quasi_identifiers = []\n");
  DiagnosticList d;
  CHECK_FALSE(eval::load_definitions(p, d));
  REQUIRE(d.has_errors());
  CHECK(d.all()[0].where.file == p);
  CHECK(d.all()[0].where.line == 3);
  CHECK(d.all()[0].message.find("prefix") != std::string::npos);
}
