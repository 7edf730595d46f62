// An LLM run against a server that misbehaves ends in a true result: a cut answer is never a filled
// value, a run whose calls failed does not exit 0, a silent server stops the run resumably, hostile
// usage figures cannot defeat --budget, no piece of a key reaches any output, and an unusable cache
// is said once while the run goes on.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "fake_provider.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using persona::llm::fake::Config;
using persona::llm::fake::Fault;
using persona::llm::fake::Server;

namespace {

const std::string kRecipe = R"(recipe "hardening" version "1.0"
taxonomy stdlib.core
seed 5
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 20..30
  batch 12
}
narrative first-person 60..90 words
)";

fs::path setup(const std::string& name, const Server& server, const std::string& key_env,
               const std::string& extra = "max_concurrency = 4\n") {
  const auto dir = persona::test::scratch_dir(name);
  persona::test::write_file(dir / "r.persona", kRecipe);
  persona::test::write_file(dir / "persona.toml", persona::test::fake_provider_toml(server.base_url(), key_env, extra));
  return dir;
}

persona::test::Outcome run_in(const fs::path& dir, const std::string& args, const std::string& prefix = "") {
  return persona::test::run_command(prefix + "'" + std::string(PERSONA_BIN) + "' run r.persona " + args + " --llm fake",
                                    "", dir.string());
}

std::vector<nlohmann::json> records(const fs::path& file) {
  std::vector<nlohmann::json> out;
  for (const auto& line : persona::test::read_lines(file))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

bool is_fill(const nlohmann::json& request) {
  const auto s = request.dump();
  return s.find("\"answers\"") != std::string::npos;
}

}  // namespace

TEST_CASE("an answer cut at max_tokens is asked again with more room and never stored as filled") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_TRUNC", "k", 1);
  const auto dir = setup("hardening-truncated", server, "PERSONA_TEST_KEY_TRUNC", "max_concurrency = 1\n");
  // Every fill answer stops mid-value at the limit: the first value whole, the second cut (which the
  // JSON repair would close into "val").
  server.set_script([](const nlohmann::json& req) -> std::optional<std::string> {
    if (!is_fill(req)) return std::nullopt;
    return std::string(R"({"a1":"complete value","a2":"val)");
  });
  server.push_faults(std::vector<Fault>(400, Fault::length_truncated));
  const auto r = run_in(dir, "-n 1 -o out.jsonl --no-cache --max-failed-share 1");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto recs = records(dir / "out.jsonl");
  REQUIRE(recs.size() == 1);
  int filled_whole = 0, truncated = 0;
  for (const auto& a : recs[0]["attributes"]) {
    const std::string status = a["status"];
    CHECK(!(a["value"].is_string() && a["value"].get<std::string>() == "val"));
    if (status == "filled" && a["source"] == "llm") {
      CHECK(a["value"] == "complete value");
      ++filled_whole;
    }
    if (status == "truncated") {
      CHECK(a["value"].is_null());
      ++truncated;
    }
  }
  CHECK(filled_whole > 0);
  CHECK(truncated > 0);
  CHECK(r.err.find("truncated") != std::string::npos);  // the summary counts them
  // The re-asks had more room: max_tokens doubled from one attempt to the next.
  long lo = 0, hi = 0;
  for (const auto& b : server.bodies()) {
    if (!is_fill(b) || !b.contains("max_tokens")) continue;
    const long m = b["max_tokens"].get<long>();
    lo = lo == 0 ? m : std::min(lo, m);
    hi = std::max(hi, m);
  }
  CHECK(lo > 0);
  CHECK(hi >= 2 * lo);
}

TEST_CASE("a run in which every call failed exits 3 with the cause, after writing what it has") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_ALLFAIL", "k", 1);
  const auto dir = setup("hardening-all-failed", server, "PERSONA_TEST_KEY_ALLFAIL");
  server.push_faults(std::vector<Fault>(2000, Fault::context_length));
  const auto r = run_in(dir, "-n 3 -o out.jsonl --no-cache");
  INFO(r.err);
  CHECK(r.code == 3);
  CHECK(r.err.find("persona run: error: no LLM call succeeded") != std::string::npos);
  CHECK(r.err.find("longer than the model's context") != std::string::npos);
  CHECK(records(dir / "out.jsonl").size() == 3);  // the statuses say why, attribute by attribute
}

TEST_CASE("more than --max-failed-share of failed attributes exits 3, a share under it exits 0") {
  ::setenv("PERSONA_TEST_KEY_SHARE", "k", 1);
  for (const double share : {0.05, 1.0}) {
    Server server;
    REQUIRE(server.start());
    const auto dir = setup(share < 1.0 ? "hardening-share-low" : "hardening-share-all", server,
                           "PERSONA_TEST_KEY_SHARE", "max_concurrency = 1\n");
    // The story succeeds, the fill calls (20..30 attributes, batch 12) fail with a 400, the rest succeed.
    std::vector<Fault> faults(12, Fault::none);
    faults[1] = faults[2] = faults[3] = Fault::context_length;
    server.push_faults(faults);
    char arg[64];
    std::snprintf(arg, sizeof arg, " --max-failed-share %g", share);
    const auto r = run_in(dir, std::string("-n 1 -o out.jsonl --no-cache") + arg);
    INFO(r.err);
    if (share < 1.0) {
      CHECK(r.code == 3);
      CHECK(r.err.find("more than --max-failed-share 0.05") != std::string::npos);
      CHECK(r.err.find("the most common cause") != std::string::npos);
    } else {
      CHECK(r.code == 0);
    }
    CHECK(fs::exists(dir / "out.jsonl"));
  }
}

TEST_CASE("a server that never answers stops the run after --stall-timeout, resumable, exit 4") {
  Config cfg;
  cfg.hang_ms = 60'000;
  Server server(cfg);
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_STALL", "k", 1);
  const auto dir = setup("hardening-stall", server, "PERSONA_TEST_KEY_STALL");
  server.push_faults(std::vector<Fault>(64, Fault::hang));
  const auto r = run_in(dir, "-n 4 -o out.jsonl --no-cache --stall-timeout 1");
  INFO(r.err);
  CHECK(r.code == 4);
  CHECK(r.err.find("no answer from the server in 1 s") != std::string::npos);
  CHECK(r.err.find("--resume") != std::string::npos);
  CHECK(fs::exists(dir / "out.jsonl.part"));
  CHECK_FALSE(fs::exists(dir / "out.jsonl"));
}

TEST_CASE("usage figures out of range are clamped, so --budget still stops the run") {
  Server server;
  REQUIRE(server.start());
  ::setenv("PERSONA_TEST_KEY_USAGE", "k", 1);
  const auto dir = setup("hardening-usage", server, "PERSONA_TEST_KEY_USAGE",
                         "max_concurrency = 2\nprice_input_per_mtok = 2.0\nprice_output_per_mtok = 1.0\n");
  // -10^15 prompt tokens would make every call's cost negative, the spend never reaching the budget.
  server.push_faults(std::vector<Fault>(4000, Fault::hostile_usage));
  const auto r = run_in(dir, "-n 40 -o out.jsonl --no-cache --budget 50");
  INFO(r.err);
  CHECK(r.code == 4);
  CHECK(r.err.find("the budget of $50.0000 would be exceeded") != std::string::npos);
  const auto part = records(dir / "out.jsonl.part");
  CHECK(part.size() < 40);
  for (const auto& p : part) {
    CHECK(p["usage"]["prompt_tokens"].get<long long>() >= 0);
    CHECK(p["usage"]["completion_tokens"].get<long long>() <= 10'000'000LL * 20);
  }
}

TEST_CASE("no 4-character piece of a key of any shape reaches the output, the statuses, stderr or the cache") {
  const std::string key = "gsk_LEAKabcdefXYZ";
  ::setenv("PERSONA_TEST_KEY_HIDDEN", key.c_str(), 1);
  Server server;
  REQUIRE(server.start());
  const auto dir = setup("hardening-leak", server, "PERSONA_TEST_KEY_HIDDEN", "max_concurrency = 1\n");
  // Fill calls answered with a 400 echoing the key (a status), then a 401 echoing it (the stop).
  std::vector<Fault> faults = {
      Fault::none, Fault::bad_request_echo, Fault::bad_request_echo, Fault::none, Fault::none, Fault::none, Fault::none,
      Fault::none};
  faults.insert(faults.end(), 64, Fault::unauthorized);
  server.push_faults(faults);
  const auto first = run_in(dir, "-n 1 -o one.jsonl --max-failed-share 1");
  const auto second = run_in(dir, "-n 2 -o two.jsonl --max-failed-share 1");
  CHECK(second.code == 3);
  CHECK(server.last_authorization() == "Bearer " + key);  // it was sent
  std::string everything = first.out + first.err + second.out + second.err;
  CHECK(first.code == 0);
  const std::string statuses = persona::test::read_file(dir / "one.jsonl");
  CHECK(statuses.find("HTTP 400") != std::string::npos);  // the echoed error is there, redacted
  for (const auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) everything += persona::test::read_file(f.path());
  for (std::size_t i = 0; i + 4 <= key.size(); ++i) {
    INFO(key.substr(i, 4));
    CHECK(everything.find(key.substr(i, 4)) == std::string::npos);
  }
}

TEST_CASE("a dry run shows a base_url without the credentials in it") {
  ::setenv("PERSONA_TEST_KEY_DRY", "k", 1);
  const auto dir = persona::test::scratch_dir("hardening-dry-run");
  persona::test::write_file(dir / "r.persona", kRecipe);
  for (const std::string url :
       {"http://user:gsk_LEAKabcdefXYZ@127.0.0.1:9/v1", "http://127.0.0.1:9/v1?api_key=gsk_LEAKabcdefXYZ&x=1"}) {
    persona::test::write_file(dir / "persona.toml", persona::test::fake_provider_toml(url, "PERSONA_TEST_KEY_DRY"));
    const auto r = run_in(dir, "-n 2 --dry-run");
    INFO(r.out + r.err);
    CHECK(r.code == 0);
    CHECK(r.out.find("dry run: provider fake") != std::string::npos);
    CHECK((r.out + r.err).find("LEAK") == std::string::npos);
    CHECK((r.out + r.err).find("fXYZ") == std::string::npos);
  }
}

TEST_CASE("an unusable response cache is a warning, once, and the run goes on without it") {
  ::setenv("PERSONA_TEST_KEY_CACHE", "k", 1);
  Server server;
  REQUIRE(server.start());
  const auto dir = setup("hardening-cache", server, "PERSONA_TEST_KEY_CACHE");
  persona::test::write_file(dir / "corrupt.sqlite", std::string(8192, '\x5a'));
  const auto r = run_in(dir, "-n 2 -o out.jsonl --cache corrupt.sqlite");
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.err.find("persona run: warning: the response cache corrupt.sqlite cannot be used") != std::string::npos);
  CHECK(r.err.find("the response cache had a problem") != std::string::npos);  // the summary says so
  CHECK(records(dir / "out.jsonl").size() == 2);
  CHECK(persona::test::read_file(dir / "corrupt.sqlite") == std::string(8192, '\x5a'));  // left as it was
}

TEST_CASE("a read-only response cache file or folder is a warning and the run goes on") {
  ::setenv("PERSONA_TEST_KEY_RO", "k", 1);
  Server server;
  REQUIRE(server.start());
  // A directory anyone may write, holding a cache file only its owner (root) may write: the run is
  // made by another user (setpriv) when the tests run as root, who could write anything.
  const auto dir = setup("hardening-cache-ro", server, "PERSONA_TEST_KEY_RO");
  {
    const auto make = run_in(dir, "-n 1 -o first.jsonl --cache ro.sqlite -q");
    REQUIRE(make.code == 0);
  }
  for (const auto& f : fs::directory_iterator(dir)) ::chmod(f.path().c_str(), 0644);
  ::chmod(dir.c_str(), 0777);
  ::chmod((dir / "ro.sqlite").c_str(), 0444);
  ::chmod(dir.parent_path().c_str(), 0755);  // the test's own scratch folder: others may enter it
  const std::string as = ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  const auto r = run_in(dir, "-n 2 -o out.jsonl --cache ro.sqlite", as);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.err.find("persona run: warning: the response cache ro.sqlite cannot be used") != std::string::npos);
  CHECK(records(dir / "out.jsonl").size() == 2);
  // A cache file anyone may write in a folder nobody but root may write (no journal can be made).
  fs::create_directories(dir / "locked");
  fs::copy_file(dir / "ro.sqlite", dir / "locked" / "c.sqlite");
  ::chmod((dir / "locked" / "c.sqlite").c_str(), 0666);
  ::chmod((dir / "locked").c_str(), 0555);
  const auto d = run_in(dir, "-n 2 -o out2.jsonl --cache locked/c.sqlite", as);
  INFO(d.err);
  CHECK(d.code == 0);
  CHECK(d.err.find("persona run: warning: the response cache locked/c.sqlite") != std::string::npos);
  CHECK(records(dir / "out2.jsonl").size() == 2);
  ::chmod((dir / "locked").c_str(), 0755);
}

TEST_CASE("a server error message cut for a status stays valid UTF-8 in every output line") {
  ::setenv("PERSONA_TEST_KEY_UTF8", "k", 1);
  Server server;
  REQUIRE(server.start());
  const auto dir = setup("hardening-utf8-error", server, "PERSONA_TEST_KEY_UTF8", "max_concurrency = 1\n");
  // The story call answers; the fill calls get a 400 whose message is cut at 300 bytes for the status.
  std::vector<Fault> faults = {Fault::none};
  faults.insert(faults.end(), 16, Fault::unicode_error);
  server.push_faults(faults);
  const auto r = run_in(dir, "-n 1 -o out.jsonl --max-failed-share 1");
  INFO(r.err);
  CHECK(r.code == 0);
  const std::string out = persona::test::read_file(dir / "out.jsonl");
  CHECK(out.find("HTTP 400") != std::string::npos);          // the cut message is there
  CHECK(out.find("\xD1\x8F\xD1\x8F") != std::string::npos);  // with its characters
  CHECK(persona::text::utf8_valid(out));
  CHECK(persona::text::utf8_valid(r.err));
  for (const auto& p : records(dir / "out.jsonl")) CHECK(p.contains("attributes"));  // every line parses
}
