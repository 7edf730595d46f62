// The mining pipeline in process against the loopback fake server answering as a keyword model
// (interpreter/mine/fake_miner.hpp): step counts against truth.json, the written taxonomy, the
// dry-run estimate, off-schema answers, and independence from the concurrency.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "diag/diagnostic.hpp"
#include "fake_miner.hpp"
#include "files.hpp"
#include "llm/fake/fake_server.hpp"
#include "mine.hpp"

using namespace persona;
using namespace persona::test;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(PERSONA_SOURCE_DIR) / "tests" / "data" / "mine";

std::vector<fs::path> corpus_files() {
  return {kData / "openai.jsonl", kData / "sharegpt.jsonl.gz", kData / "qa.jsonl"};
}

struct Setup {
  llm::fake::Server server;
  mine::fake::Miner miner;
  llm::Provider provider;
  mine::Corpus corpus;
  mine::Templates templates;
  explicit Setup(int latency_ms = 0)
      : server({.latency_ms = latency_ms}), miner(*mine::fake::Miner::load(kData / "lexicon.json")) {
    server.set_script(miner.script());
    REQUIRE(server.start());
    provider.name = "fake";
    provider.model = "fake-model";
    provider.base_url = server.base_url();
    provider.max_concurrency = 8;
    provider.max_retries = 1;
    provider.price_input_per_mtok = 1.0;
    provider.price_output_per_mtok = 2.0;
    DiagnosticList diags;
    auto c = mine::read_corpus(corpus_files(), {}, diags);
    REQUIRE(c);
    corpus = std::move(*c);
    std::string err;
    auto t = mine::load_templates(mine::default_prompts_dir(), err);
    REQUIRE(t);
    templates = std::move(*t);
  }
  mine::Options options(const fs::path& out) const {
    mine::Options o;
    o.out = out.string();
    for (const auto& c : tax::categories()) o.categories.push_back({std::string(c), ""});
    return o;
  }
};

const nlohmann::json& truth() {
  static const nlohmann::json t = nlohmann::json::parse(read_file(kData / "truth.json"));
  return t;
}

std::size_t truth_count(const std::string& cls) {
  std::size_t n = 0;
  for (const auto& e : truth()["exchanges"])
    if (e["file"] != "bad.jsonl" && !e.value("empty", false) && e["class"] == cls) ++n;
  return n;
}

}  // namespace

TEST_CASE("mining the 334-exchange corpus classifies, extracts and validates exactly the truth file's counts") {
  Setup s;
  const auto dir = scratch_dir("mine-pipeline") / "counts";
  fs::remove_all(dir);
  fs::create_directories(dir);
  DiagnosticList diags;
  auto res = mine::run(s.corpus, s.provider, s.templates, s.options(dir / "mined.tax"), diags);
  INFO(res.error);
  REQUIRE(res.ok);
  const auto& r = res.report;
  // Identical exchanges are asked once: the second finds the first's answer in the journal.
  CHECK(r.steps.at("classify").calls + r.steps.at("classify").from_journal == s.corpus.exchanges.size());
  CHECK(r.label[0] == truth_count("non"));
  CHECK(r.label[1] == truth_count("partial"));
  CHECK(r.label[2] == truth_count("full"));
  CHECK(r.steps.at("extract").calls == r.label[1] + r.label[2]);
  CHECK(r.steps.at("validate").calls == r.label[1] + r.label[2]);
  CHECK(r.candidates == r.label[1] + 2 * r.label[2] + [&] {
    // Exchanges with three or more hits give more than two candidates.
    std::size_t extra = 0;
    for (const auto& e : truth()["exchanges"])
      if (e["file"] != "bad.jsonl" && e["hits"].size() > 2) extra += e["hits"].size() - 2;
    return extra;
  }());
  CHECK(r.evidence_unmatched == 0);
  CHECK(r.kept == r.candidates);
  CHECK(r.steps.at("map").calls > 0);
  CHECK(r.steps.at("links").calls > 0);
  // The synonymous top levels of the lexicon ("Lifestyle", "Lifestyle and Habits", "Daily Life") end
  // in the categories; the merge made decisions.
  CHECK(r.merge.merges.size() > 10);
  CHECK(r.links_moved >= 1);  // the keyword model moves allergies under a health node
  // Files: the taxonomy, its provenance and the report; the journal is gone.
  CHECK(fs::exists(dir / "mined.tax"));
  CHECK(fs::exists(dir / "mined.tax.provenance.json"));
  CHECK(fs::exists(dir / "mined.tax.report.json"));
  CHECK_FALSE(fs::exists(dir / "mined.tax.journal"));
  DiagnosticList ld;
  auto t = tax::load(dir / "mined.tax", ld);
  REQUIRE(t);
  CHECK_FALSE(ld.has_errors());
  CHECK(tax::validate(*t, ld) == 0);
  for (tax::Vertex root : t->roots()) {
    const auto& name = (*t)[root].name;
    const bool known =
        std::any_of(tax::categories().begin(), tax::categories().end(), [&](auto c) { return c == name; });
    INFO(name);
    CHECK(known);  // every lexicon top level maps onto one of the 12
    CHECK((*t)[root].support > 0);
  }
  // Provenance: every node lists the exchanges behind it; a leaf's support is their count.
  const auto prov = nlohmann::json::parse(read_file(dir / "mined.tax.provenance.json"));
  for (tax::Vertex v : t->preorder()) {
    INFO((*t)[v].path);
    REQUIRE(prov["nodes"].contains((*t)[v].path));
    CHECK(prov["nodes"][(*t)[v].path]["support"].get<std::uint64_t>() == (*t)[v].support);
  }
}

TEST_CASE("the mined taxonomy is the same bytes at concurrency 1 and 16") {
  Setup s;
  std::string texts[2];
  int k = 0;
  for (int c : {1, 16}) {
    const auto dir = scratch_dir("mine-pipeline") / fmt::format("c{}", c);
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto o = s.options(dir / "mined.tax");
    o.concurrency = c;
    DiagnosticList diags;
    auto res = mine::run(s.corpus, s.provider, s.templates, o, diags);
    REQUIRE(res.ok);
    texts[k++] = read_file(dir / "mined.tax");
  }
  CHECK(texts[0] == texts[1]);
  CHECK(texts[0].find("+ support") != std::string::npos);
}

TEST_CASE("the dry-run estimate is within 15 percent of the tokens a run spends") {
  Setup s;
  const auto dir = scratch_dir("mine-pipeline") / "dry";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto o = s.options(dir / "mined.tax");
  const double share = static_cast<double>(truth_count("partial") + truth_count("full")) /
                       static_cast<double>(s.corpus.exchanges.size());
  const auto e = mine::estimate(s.corpus, s.provider, s.templates, o, 0.6);
  const long requests_before = s.server.requests();
  CHECK(s.server.requests() == requests_before);  // the estimate sends nothing
  DiagnosticList diags;
  auto res = mine::run(s.corpus, s.provider, s.templates, o, diags);
  REQUIRE(res.ok);
  const double measured = static_cast<double>(res.report.usage.prompt_tokens + res.report.usage.completion_tokens);
  const double estimated = static_cast<double>(e.prompt_tokens + e.completion_tokens);
  UNSCOPED_INFO(fmt::format("estimate {} tokens ({} calls), measured {} tokens; personalizable share {:.2f}\n{}{}",
                            estimated, e.calls, measured, share, e.to_text(), res.report.to_text()));
  CHECK(std::abs(estimated - measured) / measured <= 0.15);
  CHECK(e.calls_by_step.at("classify") == s.corpus.exchanges.size());
}

TEST_CASE("an off-schema answer is asked again once, then counted off-schema and the exchange left out") {
  Setup s;
  const auto dir = scratch_dir("mine-pipeline") / "offschema";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // One exchange (its text unique in the corpus) is answered in prose, then, asked again, with a
  // label outside the schema; another is answered in prose once and well when asked again.
  auto unique = [&](std::size_t from) {
    for (std::size_t i = from; i < s.corpus.exchanges.size(); ++i) {
      std::size_t n = 0;
      for (const auto& e : s.corpus.exchanges) n += e.user == s.corpus.exchanges[i].user ? 1 : 0;
      if (n == 1) return i;
    }
    return s.corpus.exchanges.size();
  };
  const std::size_t bad = unique(0), once = unique(bad + 1);
  REQUIRE(once < s.corpus.exchanges.size());
  const std::string bad_text = s.corpus.exchanges[bad].user, once_text = s.corpus.exchanges[once].user;
  s.server.set_script([&](const nlohmann::json& r) -> std::optional<std::string> {
    const auto& msgs = r["messages"];
    const std::string user = msgs.size() > 1 ? msgs[1].value("content", "") : "";
    const bool classify = r["response_format"]["json_schema"]["name"] == "mine_classify";
    if (classify && user.find(bad_text) != std::string::npos)
      return msgs.size() <= 2 ? std::string("I think this one is personal.")
                              : std::string("{\"label\": \"maybe\", \"reason\": \"?\"}");
    if (classify && user.find(once_text) != std::string::npos && msgs.size() <= 2) return std::string("Sure!");
    return s.miner.answer(r);
  });
  auto o = s.options(dir / "mined.tax");
  DiagnosticList diags;
  auto res = mine::run(s.corpus, s.provider, s.templates, o, diags);
  REQUIRE(res.ok);
  const auto& c = res.report.steps.at("classify");
  CHECK(c.reasks == 2);
  CHECK(c.off_schema == 1);
  CHECK(res.report.label[0] + res.report.label[1] + res.report.label[2] == s.corpus.exchanges.size() - 1);
  CHECK(res.report.to_text().find("1 off-schema") != std::string::npos);
  REQUIRE_FALSE(res.report.drop_reasons.empty());
  CHECK(res.report.drop_reasons.front().find("\"maybe\"") != std::string::npos);
}

TEST_CASE(
    "failed calls end the run without a taxonomy, the answers kept in the journal, and a resume asks only those") {
  Setup s;
  const auto dir = scratch_dir("mine-pipeline") / "fail";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Ten calls fail (no retries): fewer consecutive failures than the breaker's threshold.
  s.provider.max_retries = 0;
  std::vector<llm::fake::Fault> faults(10, llm::fake::Fault::server_error);
  auto o = s.options(dir / "mined.tax");
  o.concurrency = 1;
  // 20 good answers, then 500s for every attempt of the next calls.
  std::vector<llm::fake::Fault> seq(20, llm::fake::Fault::none);
  seq.insert(seq.end(), faults.begin(), faults.end());
  s.server.push_faults(seq);
  DiagnosticList diags;
  auto res = mine::run(s.corpus, s.provider, s.templates, o, diags);
  CHECK_FALSE(res.ok);
  CHECK(res.error.find("10 calls failed") != std::string::npos);
  CHECK(res.error.find("--resume") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "mined.tax"));
  REQUIRE(fs::exists(dir / "mined.tax.journal"));
  CHECK(read_lines(dir / "mined.tax.journal").size() >= 300);  // every other classification
  // The resume asks only what is missing and finishes.
  const long before = s.server.requests();
  o.resume = true;
  auto again = mine::run(s.corpus, s.provider, s.templates, o, diags);
  INFO(again.error);
  REQUIRE(again.ok);
  const auto& c = again.report.steps.at("classify");
  CHECK(c.from_journal + c.calls == s.corpus.exchanges.size());
  CHECK(c.calls > 0);  // the failed ones are asked again (a duplicate of an answered one is not)
  CHECK(c.calls <= 10);
  CHECK(s.server.requests() - before > 0);
}

TEST_CASE("a run stopped by its budget is resumable and ends with the taxonomy of an unstopped run") {
  Setup s;
  const auto root = scratch_dir("mine-pipeline") / "budget";
  fs::remove_all(root);
  fs::create_directories(root);
  auto clean = s.options(root / "clean.tax");
  DiagnosticList diags;
  REQUIRE(mine::run(s.corpus, s.provider, s.templates, clean, diags).ok);
  auto o = s.options(root / "mined.tax");
  o.budget_usd = 0.05;  // about a sixth of the whole run at 1 and 2 USD per million tokens
  auto stopped = mine::run(s.corpus, s.provider, s.templates, o, diags);
  CHECK_FALSE(stopped.ok);
  CHECK(stopped.interrupted);
  CHECK(stopped.reason.find("budget") != std::string::npos);
  CHECK(stopped.report.cost_usd >= 0.05);
  CHECK(stopped.report.cost_usd < 0.1);
  CHECK_FALSE(fs::exists(root / "mined.tax"));
  o.budget_usd = -1;
  o.resume = true;
  auto resumed = mine::run(s.corpus, s.provider, s.templates, o, diags);
  REQUIRE(resumed.ok);
  CHECK(resumed.report.steps.at("classify").from_journal > 0);
  CHECK(read_file(root / "mined.tax") == read_file(root / "clean.tax"));
}

TEST_CASE("with embeddings the sibling names are compared by the provider's vectors in context") {
  Setup s;
  s.provider.embedding_model = "fake-embedding";
  s.provider.embedding_model_configured = true;
  const auto root = scratch_dir("mine-pipeline") / "embeddings";
  fs::remove_all(root);
  fs::create_directories(root);
  std::string texts[2];
  for (int k = 0; k < 2; ++k) {
    auto o = s.options(root / ("mined" + std::to_string(k) + ".tax"));
    o.embeddings = true;
    DiagnosticList diags;
    auto res = mine::run(s.corpus, s.provider, s.templates, o, diags);
    INFO(res.error);
    REQUIRE(res.ok);
    CHECK(res.report.steps.at("embeddings").calls > 0);
    CHECK(res.report.steps.at("embeddings").failed == 0);
    texts[k] = read_file(root / ("mined" + std::to_string(k) + ".tax"));
  }
  CHECK(texts[0] == texts[1]);
  // The fake's vectors are hashes of the text: unrelated names stay apart, so the tree differs from
  // the one the name similarity gives.
  auto plain = s.options(root / "plain.tax");
  DiagnosticList diags;
  REQUIRE(mine::run(s.corpus, s.provider, s.templates, plain, diags).ok);
  CHECK(read_file(root / "plain.tax") != texts[0]);
}
