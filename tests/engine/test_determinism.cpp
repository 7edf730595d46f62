// Determinism: a persona depends only on (recipe, seed, index): not on threads, shards, or which
// personas were built before it on the same thread. Plus the runner's output files and manifest.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine_support.hpp"

using namespace engine_test;
using namespace persona;

namespace {

std::unique_ptr<engine::Program> demo_model() {
  const char* countries = R"(name = "countries"
value = "category"
[weights]
Kenya = 3
Peru = 1
Japan = 2
)";
  const char* ages = R"(name = "ages"
value = "integer-range"
[weights]
"18-29" = 3
"30-59" = 4
"60-89" = 2
)";
  auto lib = make_tables({{"countries", countries}, {"ages", ages}});
  auto r = base_recipe(30, 45);
  r.anchors.push_back(table_anchor("country", "countries"));
  r.anchors.push_back(table_anchor("age", "ages", {}, lang::ValueType::number));
  r.story.push_back(story("values", "core values", lang::StoryShape::Kind::list, 2, 4, {"age"}));
  r.story.push_back(story("hobbies", "hobbies", lang::StoryShape::Kind::list, 1, 3, {"values"}));
  return make_model(r, lib, make_taxonomy(generated_tax(5, 4, 8)));
}

exec::RunResult run_to(const engine::Program& m, const std::string& out, unsigned threads, unsigned k = 1,
                       unsigned n = 1, std::uint64_t count = 120) {
  exec::RunOptions o;
  o.count = count;
  o.seed = 99;
  o.threads = threads;
  o.shard_k = k;
  o.shard_n = n;
  o.out = out;
  o.window = 3;  // a tiny reorder buffer exercises the waiting paths
  return exec::run(m, o);
}

}  // namespace

TEST_CASE("same seed and index, same persona, whatever was built before", "[engine][determinism]") {
  auto m = demo_model();
  const backend::Offline b;
  engine::Scratch s1, s2;
  exec::Job j1, j2;
  exec::build_offline(*m, b, s1, 7, 5, j1);
  const std::string first = line_of(*m, j1.p);
  // Build other personas on the same scratch and job, then persona 5 again.
  for (std::uint64_t i = 100; i < 120; ++i) exec::build_offline(*m, b, s1, 7, i, j1);
  exec::build_offline(*m, b, s1, 7, 5, j1);
  exec::build_offline(*m, b, s2, 7, 5, j2);
  CHECK(line_of(*m, j1.p) == first);
  CHECK(line_of(*m, j2.p) == first);
  // Another seed or index gives another persona.
  exec::build_offline(*m, b, s2, 8, 5, j2);
  CHECK(line_of(*m, j2.p) != first);
  exec::build_offline(*m, b, s2, 7, 6, j2);
  CHECK(line_of(*m, j2.p) != first);
  CHECK(j1.p.id == "test-000005");
}

TEST_CASE("threads and shards do not change any persona", "[engine][determinism][runner]") {
  auto m = demo_model();
  const std::string one = temp_path("t1.jsonl"), two = temp_path("t2.jsonl"), s1 = temp_path("s1.jsonl"),
                    s2 = temp_path("s2.jsonl"), s3 = temp_path("s3.jsonl");
  REQUIRE(run_to(*m, one, 1).ok);
  REQUIRE(run_to(*m, two, 2).ok);
  const auto a = read_lines(one), b = read_lines(two);
  REQUIRE(a.size() == 120);
  CHECK(a == b);  // byte-identical, same order
  // Shards 1/2 + 2/2 == the full run as a multiset; each line identical to the full run's.
  REQUIRE(run_to(*m, s1, 2, 1, 2).ok);
  REQUIRE(run_to(*m, s2, 1, 2, 2).ok);
  auto u = read_lines(s1);
  const auto v = read_lines(s2);
  CHECK(u.size() == 60);
  CHECK(v.size() == 60);
  CHECK(u[0] == a[0]);
  CHECK(v[0] == a[1]);
  u.insert(u.end(), v.begin(), v.end());
  auto sorted_a = a;
  std::sort(u.begin(), u.end());
  std::sort(sorted_a.begin(), sorted_a.end());
  CHECK(u == sorted_a);
  // Shard 3/7 of 120: indices 2, 9, 16, ...
  REQUIRE(run_to(*m, s3, 3, 3, 7).ok);
  const auto w = read_lines(s3);
  CHECK(w.size() == exec::shard_size(120, 3, 7));
  for (std::size_t k = 0; k < w.size(); ++k) CHECK(w[k] == a[2 + 7 * k]);
  for (const auto& f : {one, two, s1, s2, s3}) {
    std::filesystem::remove(f);
    std::filesystem::remove(f + ".manifest.json");
  }
}

TEST_CASE("the runner writes whole lines, a manifest, and fails cleanly", "[engine][runner]") {
  auto m = demo_model();
  const std::string out = temp_path("run.jsonl");
  const auto res = run_to(*m, out, 2, 1, 1, 50);
  REQUIRE(res.ok);
  CHECK_FALSE(std::filesystem::exists(out + ".part"));
  const auto lines = read_lines(out);
  REQUIRE(lines.size() == 50);
  std::set<std::string> ids;
  for (const auto& l : lines) {
    const auto j = nlohmann::json::parse(l);  // every line is a complete JSON object
    ids.insert(j["id"].get<std::string>());
    CHECK(j.contains("seed"));
    CHECK(j["anchors"].contains("country"));
    CHECK(j["core"]["values"].is_array());
    CHECK(j["attributes"].size() >= 30);
    for (const auto& a : j["attributes"]) {
      CHECK(a["status"] == "filled");
      CHECK(a.contains("path"));
      CHECK(a.contains("tier"));
      CHECK(a.contains("source"));
    }
    CHECK(j["usage"]["calls"] == 0);
    CHECK(j["narrative"].get<std::string>().size() > 100);
  }
  CHECK(ids.size() == 50);
  const auto man = nlohmann::json::parse(std::ifstream(out + ".manifest.json"));
  CHECK(man["counts"]["personas"] == 50);
  CHECK(man["seed"] == 99);
  CHECK(man["parameters"]["threads"] == 2);
  CHECK(man["parameters"]["shard"] == "1/1");
  CHECK(man["taxonomy"]["content_hash"] == m->model().taxonomy().content_hash());
  CHECK(man["recipe"]["name"] == "test");
  CHECK(man["model"]["backend"] == "offline");
  CHECK(man["engine"]["version"].get<std::string>().size() > 0);
  const auto t = man["counts"]["tiers"];
  CHECK(t["near"].get<int>() + t["mid"].get<int>() + t["far"].get<int>() == man["counts"]["attributes"].get<int>());
  std::filesystem::remove(out);
  std::filesystem::remove(out + ".manifest.json");

  // A special file (here /dev/null) is written in place: no `.part`, no rename, no manifest.
  {
    const auto before = std::filesystem::status("/dev/null").type();
    const auto dn = run_to(*m, "/dev/null", 1, 1, 1, 5);
    CHECK(dn.ok);
    CHECK(dn.manifest_path.empty());
    CHECK(std::filesystem::status("/dev/null").type() == before);
    CHECK(std::filesystem::is_character_file("/dev/null"));
    CHECK_FALSE(std::filesystem::exists("/dev/null.part"));
    CHECK_FALSE(std::filesystem::exists("/dev/null.manifest.json"));
  }

  // An unwritable output is a runtime error, with no output left behind.
  const auto bad = run_to(*m, "/nonexistent-dir/x/out.jsonl", 1, 1, 1, 5);
  CHECK_FALSE(bad.ok);
  CHECK(bad.error.find("cannot write") != std::string::npos);
}
