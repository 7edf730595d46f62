// Runs on a cluster: `--shard auto` takes K and N from the variables a Slurm array or a Kubernetes
// Indexed Job sets (the tests set them themselves; nothing runs under a real scheduler), and
// `persona merge` joins the shards into the unsharded run's output, byte for byte, and its manifest
// (all but the documented fields); a missing, duplicate, overlapping or foreign shard is refused
// with nothing written.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "exec/merge.hpp"
#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

// The scheduler variables of the test's own environment are cleared, then `vars` set: the shard a
// command runs as is the one the test says.
std::string persona_with(const std::string& vars, const std::string& args) {
  return "env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_MAX "
         "-u SLURM_ARRAY_TASK_STEP -u SLURM_JOB_ID -u JOB_COMPLETION_INDEX -u PERSONA_SHARDS " +
         vars + " '" + PERSONA_BIN + "' " + args;
}

test::Outcome in(const fs::path& dir, const std::string& command) { return test::run_command(command, "", dir); }

// The manifest without what legitimately differs between a merged and an unsharded run (the
// command line, the timestamps, the merge's own record; docs/scaling.md).
nlohmann::ordered_json comparable(nlohmann::ordered_json m) {
  m["parameters"].erase("command_line");
  m.erase("timestamps");
  m.erase("merged");
  if (m.contains("llm"))
    for (const char* k : {"connections", "in_flight_peak", "concurrency_limit", "concurrency_min", "cost"})
      m["llm"].erase(k);
  return m;
}

nlohmann::ordered_json manifest_of(const fs::path& out) {
  return nlohmann::ordered_json::parse(test::read_file(out.string() + ".manifest.json"));
}

// The files a format writes for `base` (jsonl: base.jsonl; csv: base.personas.csv + base.attributes.csv).
std::vector<std::string> files_of(const std::string& base, const std::string& format) {
  if (format == "csv") return {base + ".personas.csv", base + ".attributes.csv"};
  return {base + ".jsonl"};
}

// Nothing of a merge into `dir`/people left behind: no output, no manifest, no `.part`.
void nothing_written(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    INFO(name);
    CHECK(name.rfind("people.", 0) != 0);
    CHECK(name.find(".merge.part") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("4 shards run with a Slurm array's variables and merged equal the unsharded run byte for byte") {
  for (const std::string format : {"jsonl", "csv"}) {
    SECTION(format) {
      const auto whole = test::scratch_dir("shards-slurm-whole-" + format);
      const auto shards = test::scratch_dir("shards-slurm-" + format);
      const std::string ext = format == "csv" ? ".csv" : ".jsonl";
      const std::string common = "run '" + kQuickstart + "' -n 22 -s 7 -q --format " + format;
      auto r = in(whole, persona_with("", common + " -o people" + ext));
      INFO(r.err);
      REQUIRE(r.code == 0);
      std::string shard_args;
      for (int id = 1; id <= 4; ++id) {
        const std::string vars = "SLURM_ARRAY_TASK_ID=" + std::to_string(id) +
                                 " SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=4";
        const std::string out = "part." + std::to_string(id) + ext;
        // --resume as the documented job scripts give it: a fresh task starts afresh.
        r = in(shards, persona_with(vars, common + " --shard auto --resume -o " + out));
        INFO(r.err);
        REQUIRE(r.code == 0);
        CHECK(manifest_of(shards / out)["parameters"]["shard"] == std::to_string(id) + "/4");
        // Shards in a scrambled order: the merge orders them by K.
        shard_args = " " + out + shard_args;
      }
      r = in(shards, persona_with("", "merge people" + ext + shard_args));
      INFO(r.err);
      REQUIRE(r.code == 0);
      CHECK(r.err.find("merged 4 shards (22 personas") != std::string::npos);
      for (const auto& f : files_of("people", format)) {
        INFO(f);
        REQUIRE(fs::exists(shards / f));
        CHECK(test::read_file(shards / f) == test::read_file(whole / f));
      }
      const auto merged = manifest_of(shards / ("people" + ext));
      const auto unsharded = manifest_of(whole / ("people" + ext));
      CHECK(comparable(merged).dump(2) == comparable(unsharded).dump(2));
      CHECK(merged["merged"]["shards"] == 4);
      CHECK(merged["merged"]["from"].size() == 4);
      CHECK(merged["counts"]["personas"] == 22);
      const auto diff = in(shards, persona_with("", "diff people" + ext + ".manifest.json '" +
                                                        (whole / ("people" + ext + ".manifest.json")).string() + "'"));
      INFO(diff.out);
      CHECK(diff.code == 0);
    }
  }
}

TEST_CASE("4 shards run as a Kubernetes Indexed Job's completions and merged equal the unsharded run") {
  const auto whole = test::scratch_dir("shards-k8s-whole");
  const auto shards = test::scratch_dir("shards-k8s");
  const std::string common = "run '" + kQuickstart + "' -n 13 -s 3 -q";
  auto r = in(whole, persona_with("", common + " -o people.jsonl"));
  REQUIRE(r.code == 0);
  std::string shard_args;
  for (int index = 0; index < 4; ++index) {
    // N from PERSONA_SHARDS for some completions, from --shards for the others.
    const bool env = index % 2 == 0;
    const std::string vars = "JOB_COMPLETION_INDEX=" + std::to_string(index) + (env ? " PERSONA_SHARDS=4" : "");
    const std::string out = "out-" + std::to_string(index) + ".jsonl";
    r = in(shards, persona_with(vars, common + " --shard auto" + (env ? "" : " --shards 4") + " -o " + out));
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(manifest_of(shards / out)["parameters"]["shard"] == std::to_string(index + 1) + "/4");
    shard_args += " " + out;
  }
  r = in(shards, persona_with("", "merge people.jsonl" + shard_args));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(test::read_file(shards / "people.jsonl") == test::read_file(whole / "people.jsonl"));
  CHECK(comparable(manifest_of(shards / "people.jsonl")).dump(2) ==
        comparable(manifest_of(whole / "people.jsonl")).dump(2));
}

TEST_CASE("a missing, foreign, duplicated or overlapping shard is refused, naming the file, and nothing is written") {
  const auto dir = test::scratch_dir("shards-refused");
  const std::string common = "run '" + kQuickstart + "' -n 9 -s 7 -q";
  for (int k = 1; k <= 3; ++k)
    REQUIRE(
        in(dir, persona_with("", common + " --shard " + std::to_string(k) + "/3 -o s" + std::to_string(k) + ".jsonl"))
            .code == 0);
  // Shard 2 of the same split with another seed; shard 2 of another recipe; shard 1 of a 2-way split.
  REQUIRE(in(dir, persona_with("", "run '" + kQuickstart + "' -n 9 -s 8 -q --shard 2/3 -o seed8.jsonl")).code == 0);
  std::string other = test::read_file(kQuickstart);
  other.replace(other.find("count 200..250"), 14, "count 150..180");
  test::write_file(dir / "other.persona", other);
  REQUIRE(in(dir, persona_with("", "run other.persona -n 9 -s 7 -q --shard 2/3 -o other.jsonl")).code == 0);
  REQUIRE(in(dir, persona_with("", common + " --shard 1/2 -o half.jsonl")).code == 0);
  // A copy of shard 1 under another name.
  fs::copy_file(dir / "s1.jsonl", dir / "copy.jsonl", fs::copy_options::overwrite_existing);
  fs::copy_file(dir / "s1.jsonl.manifest.json", dir / "copy.jsonl.manifest.json", fs::copy_options::overwrite_existing);
  // Shard 3's manifest over shard 2's personas: the personas are not those of the shard it claims.
  fs::copy_file(dir / "s2.jsonl", dir / "swapped.jsonl", fs::copy_options::overwrite_existing);
  auto m3 = manifest_of(dir / "s3.jsonl");
  m3["output"]["bytes"] = fs::file_size(dir / "s2.jsonl");
  test::write_file(dir / "swapped.jsonl.manifest.json", m3.dump(2));

  // Shard 3 with its last persona cut off after the run.
  auto lines = test::read_lines(dir / "s3.jsonl");
  lines.pop_back();
  std::string cut;
  for (const auto& l : lines) cut += l + "\n";
  test::write_file(dir / "cut.jsonl", cut);
  fs::copy_file(dir / "s3.jsonl.manifest.json", dir / "cut.jsonl.manifest.json", fs::copy_options::overwrite_existing);

  struct Case {
    std::string shards, says, names;
  };
  const std::vector<Case> cases = {
      {"s1.jsonl s2.jsonl", "shard 3/3 is missing", "s1.jsonl is shard 1/3"},
      {"s1.jsonl seed8.jsonl s3.jsonl", "not a shard of the same run as s1.jsonl: run: seed changed", "seed8.jsonl"},
      {"s1.jsonl other.jsonl s3.jsonl", "not a shard of the same run as s1.jsonl: the recipe changed", "other.jsonl"},
      {"s1.jsonl s2.jsonl s3.jsonl s1.jsonl", "is given twice", "s1.jsonl"},
      {"s1.jsonl s2.jsonl s3.jsonl copy.jsonl", "is shard 1/3 again (s1.jsonl is shard 1/3 too)", "copy.jsonl"},
      {"s1.jsonl s2.jsonl s3.jsonl half.jsonl", "shards of different splits overlap", "half.jsonl"},
      {"s1.jsonl s2.jsonl swapped.jsonl", "is not persona 2, the next persona of shard 3/3", "swapped.jsonl:1"},
      {"s1.jsonl s2.jsonl nowhere.jsonl", "no manifest nowhere.jsonl.manifest.json", "nowhere.jsonl"},
      {"s1.jsonl s2.jsonl cut.jsonl", "but its manifest says", "cut.jsonl"},
  };
  for (const auto& c : cases) {
    const auto r = in(dir, persona_with("", "merge people.jsonl " + c.shards));
    INFO(c.shards << "\n" << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(c.says) != std::string::npos);
    CHECK(r.err.find(c.names) != std::string::npos);
    CHECK(r.err.find("nothing written to people.jsonl") != std::string::npos);
    nothing_written(dir);
  }
  // The output may not be one of the shards; an output that cannot be written is a runtime failure (3).
  const std::string s1 = test::read_file(dir / "s1.jsonl");
  auto r = in(dir, persona_with("", "merge s1.jsonl s1.jsonl s2.jsonl s3.jsonl"));
  CHECK(r.code == 1);
  CHECK(r.err.find("s1.jsonl: error: is also the merged output s1.jsonl") != std::string::npos);
  CHECK(test::read_file(dir / "s1.jsonl") == s1);
  r = in(dir, persona_with("", "merge no-such-dir/people.jsonl s1.jsonl s2.jsonl s3.jsonl"));
  CHECK(r.code == 3);
  CHECK(r.err.find("no-such-dir/people.jsonl.merge.part: error: cannot write") != std::string::npos);
  nothing_written(dir);
  // The same shards, complete, merge.
  const auto ok = in(dir, persona_with("", "merge people.jsonl s3.jsonl s1.jsonl s2.jsonl"));
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK(test::read_lines(dir / "people.jsonl").size() == 9);
}

TEST_CASE("an unfinished shard is refused with the way to finish it") {
  const auto dir = test::scratch_dir("shards-unfinished");
  const std::string common = "run '" + kQuickstart + "' -n 4 -s 7 -q";
  REQUIRE(in(dir, persona_with("", common + " --shard 1/2 -o a.jsonl")).code == 0);
  REQUIRE(in(dir, persona_with("", common + " --shard 2/2 -o b.jsonl")).code == 0);
  fs::rename(dir / "b.jsonl", dir / "b.jsonl.part");
  fs::rename(dir / "b.jsonl.manifest.json", dir / "b.jsonl.manifest.json.part");
  const auto r = in(dir, persona_with("", "merge all.jsonl a.jsonl b.jsonl"));
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("b.jsonl: error: this shard has not finished") != std::string::npos);
  CHECK(r.err.find("--resume") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "all.jsonl"));
}

TEST_CASE("with --shard auto a missing or inconsistent scheduler variable is named, a usage error") {
  const auto dir = test::scratch_dir("shards-auto-errors");
  const std::string run = "run '" + kQuickstart + "' -n 4 -q -o x.jsonl --shard auto";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "SLURM_ARRAY_TASK_ID (a Slurm job array"},
      {"SLURM_JOB_ID=5", "this Slurm job is not an array"},
      {"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT is not set"},
      {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN is not set"},
      {"SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_ID is 9, outside"},
      {"SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_ID is 'x'"},
      {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2",
       "SLURM_ARRAY_TASK_STEP is '2'"},
      {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7",
       "SLURM_ARRAY_TASK_MAX is '7'"},
      {"JOB_COMPLETION_INDEX=1", "PERSONA_SHARDS"},
      {"JOB_COMPLETION_INDEX=4 PERSONA_SHARDS=4", "JOB_COMPLETION_INDEX is 4 but there are 4 shards"},
      {"JOB_COMPLETION_INDEX=1 SLURM_ARRAY_TASK_ID=1", "both SLURM_ARRAY_TASK_ID"},
  };
  for (const auto& [vars, says] : cases) {
    const auto r = in(dir, persona_with(vars, run));
    INFO(vars << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(says) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "x.jsonl"));
  }
  const auto mixed = in(dir, persona_with("", "run '" + kQuickstart + "' -n 4 -q -o x.jsonl --shard 1/2 --shards 2"));
  CHECK(mixed.code == 2);
  CHECK(mixed.err.find("--shards goes with --shard auto") != std::string::npos);
}

TEST_CASE("the shard from the environment: Slurm arrays from any base index, Indexed Jobs 0-based") {
  auto from = [](std::map<std::string, std::string> vars, std::optional<unsigned> shards = std::nullopt) {
    unsigned k = 0, n = 0;
    std::string error;
    const bool ok = exec::shard_from_environment(
        [&](const char* name) -> const char* {
          const auto it = vars.find(name);
          return it == vars.end() ? nullptr : it->second.c_str();
        },
        shards, k, n, error);
    return ok ? std::to_string(k) + "/" + std::to_string(n) : "error: " + error;
  };
  CHECK(from({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "0"}}) == "1/8");
  CHECK(from({{"SLURM_ARRAY_TASK_ID", "107"},
              {"SLURM_ARRAY_TASK_COUNT", "8"},
              {"SLURM_ARRAY_TASK_MIN", "100"},
              {"SLURM_ARRAY_TASK_MAX", "107"},
              {"SLURM_ARRAY_TASK_STEP", "1"}}) == "8/8");
  CHECK(from({{"JOB_COMPLETION_INDEX", "0"}}, 5u) == "1/5");
  CHECK(from({{"JOB_COMPLETION_INDEX", "4"}, {"PERSONA_SHARDS", "5"}}) == "5/5");
  CHECK(from({{"JOB_COMPLETION_INDEX", "1"}, {"PERSONA_SHARDS", "5"}}, 4u).find("--shards is 4 but PERSONA_SHARDS") !=
        std::string::npos);
  CHECK(from({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}}, 3u)
            .find("--shards is 3 but SLURM_ARRAY_TASK_COUNT is 4") != std::string::npos);
}

TEST_CASE("LLM shards merged equal the unsharded LLM run, with tokens, calls and cost summed") {
  llm::fake::Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_SHARDS_KEY", "test-key", 1);
  const auto whole = test::scratch_dir("shards-llm-whole");
  const auto shards = test::scratch_dir("shards-llm");
  const std::string recipe = R"(recipe "sharded" version "1.0"
taxonomy stdlib.core
seed 5
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values   <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 12..16
  batch 8
}
narrative first-person 40..60 words
)";
  for (const auto& dir : {whole, shards}) {
    test::write_file(dir / "sharded.persona", recipe);
    test::write_file(
        dir / "persona.toml",
        test::fake_provider_toml(server.base_url(), "PERSONA_SHARDS_KEY",
                                 "max_concurrency = 4\nprice_input_per_mtok = 0.7\nprice_output_per_mtok = 2.9\n"));
  }
  const std::string common = "run sharded.persona -n 7 --llm fake --no-cache -q";
  auto r = in(whole, persona_with("", common + " -o people.jsonl"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  for (int id = 1; id <= 3; ++id) {
    const std::string vars =
        "SLURM_ARRAY_TASK_ID=" + std::to_string(id) + " SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=1";
    r = in(shards, persona_with(vars, common + " --shard auto -o p" + std::to_string(id) + ".jsonl"));
    INFO(r.err);
    REQUIRE(r.code == 0);
  }
  r = in(shards, persona_with("", "merge people.jsonl p1.jsonl p2.jsonl p3.jsonl"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(test::read_file(shards / "people.jsonl") == test::read_file(whole / "people.jsonl"));
  const auto merged = manifest_of(shards / "people.jsonl");
  const auto unsharded = manifest_of(whole / "people.jsonl");
  CHECK(comparable(merged).dump(2) == comparable(unsharded).dump(2));
  // The sums, shard by shard.
  std::uint64_t calls = 0, prompt = 0, completion = 0, requests = 0;
  double cost = 0;
  for (int id = 1; id <= 3; ++id) {
    const auto m = manifest_of(shards / ("p" + std::to_string(id) + ".jsonl"));
    calls += m["totals"]["calls"].get<std::uint64_t>();
    prompt += m["totals"]["prompt_tokens"].get<std::uint64_t>();
    completion += m["totals"]["completion_tokens"].get<std::uint64_t>();
    requests += m["llm"]["requests"].get<std::uint64_t>();
    cost += m["totals"]["cost_usd"].get<double>();
  }
  CHECK(calls > 7);
  CHECK(merged["totals"]["calls"] == calls);
  CHECK(merged["totals"]["prompt_tokens"] == prompt);
  CHECK(merged["totals"]["completion_tokens"] == completion);
  CHECK(merged["llm"]["requests"] == requests);
  CHECK(merged["totals"]["cost_usd"].get<double>() == Approx(cost));
  CHECK(merged["totals"]["cost_usd"] == unsharded["totals"]["cost_usd"]);  // the cost of the summed usage
  CHECK(merged["llm"]["cost"].get<double>() == Approx(unsharded["llm"]["cost"].get<double>()));
}

TEST_CASE("the vLLM provider of docs/scaling.md resolves and its dry run succeeds") {
  const auto doc = test::read_file(std::string(PERSONA_SOURCE_DIR) + "/docs/scaling.md");
  const auto start = doc.find("```toml\n");
  REQUIRE(start != std::string::npos);
  const auto body = start + 8;
  const auto end = doc.find("```", body);
  REQUIRE(end != std::string::npos);
  const auto dir = test::scratch_dir("shards-vllm-doc");
  test::write_file(dir / "persona.toml", doc.substr(body, end - body));
  test::write_file(dir / "recipe.persona", test::read_file(kQuickstart));
  const auto r =
      in(dir, persona_with("VLLM_API_KEY=k", "run recipe.persona --count 1000000 --seed 7 --llm vllm --dry-run"));
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(r.out.find("provider vllm (http://gpu-node-01:8000/v1, http://gpu-node-02:8000/v1 (2 replicas)), model "
                   "Qwen/Qwen2.5-7B-Instruct") != std::string::npos);
  CHECK(r.err.find("warning") == std::string::npos);
}
