// Tiers by embeddings: a provider whose persona.toml names an embedding_model ranks the selection
// by its vectors (node vectors once, kept beside the run cache; one core embedding per persona), and
// an embeddings endpoint that fails or answers vectors of the wrong dimension falls back to the
// offline similarity with a warning that names the provider (the whole run, or one persona, which
// says so in its problems); a rejected key stops the run. Never a crash, never a silent zero.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "backend/backend.hpp"
#include "engine/program.hpp"
#include "exec/exec.hpp"
#include "fake_provider.hpp"
#include "llm/fake/fake_server.hpp"
#include "process.hpp"
#include "repl/repl.hpp"
#include "similarity/embedding_scorer.hpp"
#include "taxonomy.hpp"

using namespace persona;
namespace fs = std::filesystem;

namespace {

// How many embeddings calls the node vectors of stdlib.core take: one per 64 node texts.
long node_batches() {
  DiagnosticList d;
  const auto t = tax::load_stdlib("core", d);
  REQUIRE(t);
  return static_cast<long>((t->size() + 63) / 64);
}

const std::string kRecipe = R"(recipe "embed" version "1.0"
taxonomy stdlib.core
seed 5
anchor country ~ table stdlib.countries
anchor gender  ~ table stdlib.sex_ratio by country
anchor age     ~ table stdlib.age_by_sex by country, gender truncate 18..90
story {
  values <- llm "core values" x 2..3 from age, gender, country
}
attributes {
  count 12..12
  batch 12
}
narrative none
)";

fs::path setup(const std::string& name, const llm::fake::Server& server, const std::string& model = "fake-embed") {
  const auto dir = test::scratch_dir(name);
  ::setenv("PERSONA_EMBED_KEY", "k", 1);
  test::write_file(dir / "embed.persona", kRecipe);
  test::write_file(dir / "persona.toml", test::fake_provider_toml(server.base_url(), "PERSONA_EMBED_KEY",
                                                                  "embedding_model = \"" + model +
                                                                      "\"\nmax_retries = 0\nmax_concurrency = 4\n"));
  return dir;
}

test::Outcome run_in(const fs::path& dir, const std::string& args) {
  return test::run_command("'" + std::string(PERSONA_BIN) + "' run embed.persona " + args, "", dir.string());
}

}  // namespace

TEST_CASE("an embedding_model ranks the tiers by embeddings - node vectors are asked once and kept by the cache") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = setup("exec-embeddings", server);
  const auto first = run_in(dir, "-n 2 -o out.jsonl --llm fake -q");
  INFO(first.err);
  REQUIRE(first.code == 0);
  // stdlib.core's node texts in batches of 64 (51 for its 3,238 nodes), then per persona a story call, one core
  // embedding, one fill batch.
  CHECK(server.requests() == node_batches() + 2 * 3);
  const fs::path vectors = dir / "out.jsonl.cache.sqlite.embeddings";
  REQUIRE(fs::is_directory(vectors));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(vectors)) {
    ++files;
    CHECK(e.path().filename().string().starts_with("fake-embed-"));
    CHECK(e.path().extension() == ".vec");
  }
  CHECK(files == 1);
  CHECK(test::read_file(dir / "out.jsonl.manifest.json").find("by embeddings fake-embed") != std::string::npos);
  for (const auto& line : test::read_lines(dir / "out.jsonl")) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j["attributes"].size() == 12);
    CHECK(j["usage"]["calls"].get<int>() == 3);
  }

  // The same run into another file through the same cache: nothing is sent (chat and core embeddings
  // from the response cache, node vectors from their file), and the personas are the same.
  server.reset_counters();
  const auto again = run_in(dir, "-n 2 -o again.jsonl --cache out.jsonl.cache.sqlite --llm fake -q");
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK(server.requests() == 0);
  CHECK(test::read_file(dir / "again.jsonl") == test::read_file(dir / "out.jsonl"));
}

TEST_CASE("an embeddings endpoint that fails ranks the run offline, with a warning naming the provider") {
  llm::fake::Server server({.embeddings_unavailable = true});
  REQUIRE(server.start());
  const auto dir = setup("exec-embeddings-fail", server);
  const auto r = run_in(dir, "-n 2 -o out.jsonl --llm fake -q");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("warning") != std::string::npos);
  CHECK(r.err.find("provider 'fake' (embedding_model fake-embed)") != std::string::npos);
  CHECK(r.err.find("taxonomy embeddings: embeddings request failed") != std::string::npos);
  CHECK(r.err.find("ranked by the offline similarity (semantic) instead") != std::string::npos);
  CHECK(r.err.find("persona.toml") != std::string::npos);  // where the provider is defined
  // The manifest and the fingerprint say what ranked the tiers; every persona is whole.
  CHECK(test::read_file(dir / "out.jsonl.manifest.json").find("semantic (embeddings fake-embed unavailable)") !=
        std::string::npos);
  const auto lines = test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) CHECK(nlohmann::json::parse(line)["attributes"].size() == 12);
}

TEST_CASE("a core embedding of the wrong dimension ranks that persona offline and says so in its problems") {
  llm::fake::Server server({.single_embedding_dims = 32});  // node vectors have 64
  REQUIRE(server.start());
  const auto dir = setup("exec-embeddings-core-dims", server);
  const auto r = run_in(dir, "-n 2 -o out.jsonl --llm fake -q");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto lines = test::read_lines(dir / "out.jsonl");
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j["attributes"].size() == 12);
    REQUIRE(j["problems"].size() == 1);
    const std::string why = j["problems"][0].get<std::string>();
    CHECK(why.find("provider 'fake' (model fake-embed)") != std::string::npos);
    CHECK(why.find("has 32 dimensions where the taxonomy's have 64") != std::string::npos);
    CHECK(why.find("ranked by the offline similarity (semantic)") != std::string::npos);
  }
  const auto manifest = nlohmann::json::parse(test::read_file(dir / "out.jsonl.manifest.json"));
  CHECK(manifest.dump().find("\"personas_with_problems\":2") != std::string::npos);
}

TEST_CASE("a core embedding that fails or has the wrong dimension is named - only a rejected key stops the run") {
  const auto dir = test::scratch_dir("exec-embeddings-parse");
  test::write_file(dir / "embed.persona", kRecipe);
  SourceFiles sources;
  DiagnosticList diags;
  auto prog = engine::load_program((dir / "embed.persona").string(), sources, diags);
  REQUIRE(prog);
  auto built = sim::EmbeddingScorer::from_vectors(
      prog->model().taxonomy(),
      std::vector<std::vector<float>>(prog->model().taxonomy().size(), std::vector<float>(4, 0.5f)), nullptr);
  REQUIRE(built.ok());
  prog->use_scorer(std::shared_ptr<const sim::Scorer>(std::move(built.scorer)), "embeddings m");
  backend::Setup s;
  s.provider.name = "acme";
  s.provider.embedding_model = "m";
  const backend::Llm llm(s);
  engine::Persona p;
  prog->begin(1, 0, p);
  engine::Ask ask;
  ask.kind = engine::Ask::Kind::embed;
  ask.tag = "select";
  const auto req = llm.request(*prog, p, ask);
  CHECK(req.endpoint == llm::Endpoint::embeddings);
  CHECK(req.body["model"] == "m");
  REQUIRE(req.body["input"].size() == 1);

  llm::Response r;
  r.status = llm::Response::Status::ok;
  r.embeddings = {std::vector<float>(64, 0.1f)};
  auto a = llm.parse(*prog, p, ask, r);
  CHECK_FALSE(a.ok);
  CHECK_FALSE(a.fatal);
  CHECK(a.error.find("the core embedding from provider 'acme' (model m)") != std::string::npos);
  CHECK(a.error.find("has 64 dimensions where the taxonomy's have 4") != std::string::npos);

  r.embeddings = {std::vector<float>(4, 0.1f)};
  a = llm.parse(*prog, p, ask, r);
  CHECK_FALSE(a.fatal);
  CHECK(a.embedding.size() == 4);

  r.status = llm::Response::Status::failed;
  r.error = "HTTP 500";
  r.http_status = 500;
  a = llm.parse(*prog, p, ask, r);
  CHECK_FALSE(a.ok);
  CHECK_FALSE(a.fatal);
  CHECK(a.error.find("provider 'acme'") != std::string::npos);
  CHECK(a.error.find("HTTP 500") != std::string::npos);

  // The persona (its anchors drawn) is ranked offline and says why.
  engine::Scratch scratch;
  const engine::Step* select = nullptr;
  for (std::size_t i = 0; i < prog->size(); ++i) {
    const engine::Step& st = prog->step(i);
    if (st.kind() == engine::Step::Kind::anchor) REQUIRE_FALSE(st.run(p, scratch).has_value());
    if (st.kind() == engine::Step::Kind::select) select = &st;
  }
  REQUIRE(select != nullptr);
  CHECK_FALSE(select->apply(p, scratch, ask, a).has_value());
  REQUIRE(p.problems.size() == 1);
  CHECK(p.problems[0].find("ranked by the offline similarity (semantic)") != std::string::npos);
  CHECK(p.attributes.size() == 12);

  r.error = "HTTP 401";
  r.http_status = 401;
  a = llm.parse(*prog, p, ask, r);
  CHECK(a.fatal);
}

TEST_CASE("the REPL's :run ranks by the provider's embeddings too, and writes what persona run --llm writes") {
  llm::fake::Server server;
  REQUIRE(server.start());
  const auto dir = setup("exec-embeddings-repl", server);
  const auto cli = run_in(dir, "-n 2 -o out.jsonl --llm fake --no-cache -q");
  INFO(cli.err);
  REQUIRE(cli.code == 0);
  CHECK(test::read_file(dir / "out.jsonl.manifest.json").find("by embeddings fake-embed") != std::string::npos);

  std::ostringstream out, err;
  repl::Options o;
  o.out = &out;
  o.err = &err;
  repl::Session session(o);
  REQUIRE(session.load((dir / "embed.persona").string()));
  session.feed(":set llm fake");
  server.reset_counters();
  session.feed(":run 2 --json");
  INFO(err.str());
  // The node vectors (batches of 64), then per persona a story call, a core embedding, a fill batch.
  CHECK(server.requests() == node_batches() + 2 * 3);
  const auto at = out.str().find("{\"id\"");
  REQUIRE(at != std::string::npos);
  CHECK(out.str().substr(at) == test::read_file(dir / "out.jsonl"));
  // A second :run reuses the ranked program: no node vectors again.
  server.reset_counters();
  session.feed(":run 2 --json");
  CHECK(server.requests() == 2 * 3);
}
