// `persona taxonomy mine` and `persona taxonomy merge` (docs/mining.md).
//
//   persona taxonomy mine CONVERSATIONS... -o mined.tax --llm NAME [--dry-run] [--resume] ...
//   persona taxonomy merge A B -o C [--threshold X] [--report R.json]
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/files.hpp"
#include "cli/commands.hpp"
#include "cli/provider.hpp"
#include "cli/render.hpp"
#include "diag/source.hpp"
#include "merge.hpp"
#include "mine.hpp"

namespace persona::cli {

namespace {

namespace fs = std::filesystem;

struct MineArgs {
  std::vector<std::string> inputs;
  std::string out;
  std::string llm, config, model;
  double threshold = 0.8;
  bool embeddings = false;
  double embedding_threshold = 0.9;
  std::string top;
  int concurrency = 0;
  std::string cache;
  bool no_cache = false;
  double budget = -1;
  bool resume = false;
  bool dry_run = false;
  double assume_personalizable = 0.6;
  std::size_t max_message_chars = 4000;
  bool no_scrub = false;
  std::size_t max_candidates = 12;
  std::uint64_t seed = 0;
  bool json = false;
  bool quiet = false;
};

struct MergeArgs {
  std::string a, b, out, report;
  double threshold = 0.8;
};

void print(DiagnosticList& diags, const SourceFiles& sources, std::size_t max_warnings = 20) {
  diags.sort_by_location();
  const bool color = stderr_is_tty();
  std::size_t warnings = 0, hidden = 0;
  for (const auto& d : diags.all()) {
    if (d.severity != Severity::error && ++warnings > max_warnings) {
      ++hidden;
      continue;
    }
    const std::string text = render(d, &sources, color);
    std::cerr << text;
    if (!text.ends_with("\n")) std::cerr << '\n';
  }
  if (hidden > 0) std::cerr << "(" << hidden << " more warnings not shown)\n";
}

// A taxonomy argument: "stdlib.core", a .tax file or directory, or a DeepPersona reference .json
// (imported onto the 12 categories first).
std::optional<tax::Taxonomy> load_any(const std::string& what, SourceFiles& sources, DiagnosticList& diags) {
  tax::LoadOptions lo;
  lo.sources = &sources;
  lo.vectors = false;
  if (what == "stdlib.core") return tax::load_stdlib("core", diags, lo);
  if (fs::path(what).extension() == ".json") {
    auto r = tax::import_reference(what, diags, lo);
    return std::move(r.taxonomy);
  }
  return tax::load(what, diags, lo);
}

std::vector<mine::Category> categories_from(const tax::Taxonomy& t) {
  std::vector<mine::Category> out;
  for (tax::Vertex r : t.roots()) out.push_back({t[r].name, t[r].description});
  return out;
}

int run_mine(const MineArgs& a) {
  if (!a.dry_run) catch_stop_signals();
  DiagnosticList diags;
  SourceFiles sources;
  if (!a.dry_run && a.out.empty()) {
    std::cerr << "persona taxonomy mine: -o/--output FILE.tax is required (the provenance, report and journal go "
                 "beside it)\n";
    return Exit::usage_error;
  }
  auto provider = resolve_cli_provider(a.config, a.llm, a.model, diags);
  if (!provider) {
    print(diags, sources);
    return Exit::usage_error;
  }
  // The top level to map onto: --top (a .tax file; its top-level nodes) or stdlib.core's 12.
  auto tops = load_any(a.top.empty() ? std::string("stdlib.core") : a.top, sources, diags);
  if (!tops || diags.has_errors()) {
    print(diags, sources);
    return Exit::user_error;
  }
  std::string err;
  const auto templates = mine::load_templates(mine::default_prompts_dir(), err);
  if (!templates) {
    std::cerr << "persona taxonomy mine: " << err << "\n";
    return Exit::user_error;
  }
  std::vector<fs::path> inputs(a.inputs.begin(), a.inputs.end());
  // An output that is one of the conversation files would replace it at the end: refused up front.
  if (!a.out.empty())
    for (const std::string& written : {a.out, a.out + ".provenance.json", a.out + ".report.json", a.out + ".journal"})
      for (const auto& in : inputs) {
        std::error_code ec;
        if (fs::exists(written, ec) && fs::equivalent(written, in, ec)) {
          std::cerr << "persona taxonomy mine: " << written << " is one of the conversation files; choose another -o\n";
          return Exit::usage_error;
        }
      }
  mine::CorpusOptions co;
  co.max_message_chars = a.max_message_chars;
  co.scrub = !a.no_scrub;
  auto corpus = mine::read_corpus(inputs, co, diags);
  print(diags, sources);
  if (!corpus || diags.has_errors()) return Exit::user_error;

  mine::Options o;
  o.out = a.out;
  o.merge = mine::default_merge_options(diags);
  o.merge.threshold = a.threshold;
  o.embeddings = a.embeddings;
  o.embedding_threshold = a.embedding_threshold;
  o.categories = categories_from(*tops);
  o.concurrency = a.concurrency;
  o.budget_usd = a.budget;
  o.resume = a.resume;
  o.seed = a.seed;
  o.max_candidates = a.max_candidates;
  o.command_line = invocation();
  if (!a.no_cache) o.cache_path = a.cache.empty() ? a.out + ".cache.sqlite" : a.cache;
  if (a.embeddings && !provider->embedding_model_configured) {
    std::cerr << "persona taxonomy mine: --embeddings needs an embedding_model for provider '" << provider->name
              << "' in persona.toml\n";
    return Exit::usage_error;
  }

  if (a.dry_run) {
    const auto e = mine::estimate(*corpus, *provider, *templates, o, a.assume_personalizable);
    std::cout << corpus->stats.exchanges << " exchanges to mine (" << corpus->stats.malformed << " malformed lines, "
              << corpus->stats.empty << " empty, " << corpus->stats.truncated << " messages truncated)\n"
              << e.to_text() << "(later steps assume " << a.assume_personalizable * 100
              << "% of exchanges personalizable: --assume-personalizable)\n";
    return Exit::ok;
  }
  const bool tty = stderr_is_tty() && !a.quiet;
  auto last = std::chrono::steady_clock::now();
  if (tty)
    o.progress = [&](const mine::Progress& p) {
      const auto now = std::chrono::steady_clock::now();
      if (p.done != p.total && now - last < std::chrono::milliseconds(200)) return;
      last = now;
      std::cerr << "\r" << p.step << " " << p.done << "/" << p.total << ", " << p.prompt_tokens << "+"
                << p.completion_tokens << " tokens   " << std::flush;
    };
  o.stop = &g_stop;
  auto res = mine::run(*corpus, *provider, *templates, o, diags);
  if (tty) std::cerr << "\r\033[K";
  print(diags, sources);
  if (!res.error.empty()) {
    std::cerr << "persona taxonomy mine: " << res.error << "\n";
    return Exit::runtime_error;
  }
  if (res.interrupted) {
    std::cerr << "persona taxonomy mine: " << res.reason << "; the answers so far are in " << a.out
              << ".journal. Run the same command with --resume to go on\n";
    return Exit::interrupted;
  }
  if (a.json)
    std::cout << res.report.to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  else
    std::cout << res.report.to_text() << "Wrote " << a.out << ", " << a.out << ".provenance.json and " << a.out
              << ".report.json\n";
  return Exit::ok;
}

int run_merge(const MergeArgs& a) {
  DiagnosticList diags;
  SourceFiles sources;
  auto ta = load_any(a.a, sources, diags);
  auto tb = ta ? load_any(a.b, sources, diags) : std::nullopt;
  if (!ta || !tb || diags.has_errors()) {
    print(diags, sources);
    return Exit::user_error;
  }
  print(diags, sources, 5);
  DiagnosticList mdiags;
  tax::MergeOptions mo = mine::default_merge_options(mdiags);
  mo.threshold = a.threshold;
  auto res = tax::merge(*ta, *tb, mo, mdiags);
  if (!res.taxonomy || mdiags.has_errors()) {
    print(mdiags, sources);
    std::cerr << "persona taxonomy merge: the merged taxonomy does not pass the taxonomy checks\n";
    return Exit::runtime_error;
  }
  std::string err;
  if (!a.report.empty() &&
      !files::write_atomic(
          a.report, res.report.to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n",
          err)) {
    std::cerr << "persona taxonomy merge: " << err << "\n";
    return Exit::user_error;
  }
  if (!files::write_atomic(a.out, tax::to_tax(*res.taxonomy), err)) {
    std::cerr << "persona taxonomy merge: " << err << "\n";
    return Exit::user_error;
  }
  std::cout << res.report.to_text() << "Wrote " << a.out << " (" << res.taxonomy->size() << " nodes)\n";
  return Exit::ok;
}

}  // namespace

void add_taxonomy_mining(CLI::App* tax, int& code) {
  auto a = std::make_shared<MineArgs>();
  CLI::App* m = tax->add_subcommand(
      "mine", "Mine an attribute taxonomy from conversation logs (JSONL: OpenAI, ShareGPT or QA; gzip accepted)");
  m->add_option("conversations", a->inputs, "Conversation files (.jsonl or .jsonl.gz)")->required();
  m->add_option("-o,--output", a->out, "The mined .tax (OUT.provenance.json, OUT.report.json, OUT.journal beside it)");
  m->add_option("--llm", a->llm, "Provider name in persona.toml (default: its default provider)");
  m->add_option("--config", a->config, "persona.toml with the providers (default: ./persona.toml)");
  m->add_option("--model", a->model, "Model name (overrides the provider's)");
  m->add_option("--threshold", a->threshold, "Name similarity at or above which sibling nodes merge")
      ->capture_default_str()
      ->check(finite_number(0.01, 1.0));
  auto* embeddings =
      m->add_flag("--embeddings", a->embeddings, "Compare sibling names by the provider's /v1/embeddings in context");
  m->add_option("--embedding-threshold", a->embedding_threshold,
                "Cosine at or above which siblings merge (--embeddings)")
      ->capture_default_str()
      ->check(finite_number(0.01, 1.0))
      ->needs(embeddings);  // without --embeddings it would be accepted and ignored
  m->add_option("--top", a->top,
                "A .tax whose top-level nodes are the categories to map onto (default: stdlib.core's 12)");
  m->add_option("-c,--concurrency", a->concurrency, "Requests in flight (default: the provider's max_concurrency)")
      ->check(whole_number(1, 4096));
  m->add_option("--cache", a->cache, "SQLite response cache (default: OUT.cache.sqlite)");
  m->add_flag("--no-cache", a->no_cache, "Do not read or write the response cache");
  m->add_option("--budget", a->budget, "Stop (resumably, exit 4) once this many USD are spent")
      ->check(finite_number(0, 1e9));
  m->add_flag("--resume", a->resume, "Go on from OUT.journal (the answers of a stopped or killed run)");
  auto* dry = m->add_flag("--dry-run", a->dry_run, "Print the calls, tokens and cost it would take; send nothing");
  m->add_option("--assume-personalizable", a->assume_personalizable,
                "Dry run: share of exchanges assumed personalizable (extract and validate calls)")
      ->capture_default_str()
      ->check(finite_number(0, 1))
      ->needs(dry);
  m->add_option("--max-message-chars", a->max_message_chars, "Messages are cut to this many bytes (0: no limit)")
      ->capture_default_str()
      ->check(whole_number(0, 100000000));
  m->add_flag("--no-scrub", a->no_scrub,
              "Send messages as they are (default: mask e-mails, phones, card/IBAN numbers, IPs)");
  m->add_option("--max-candidates", a->max_candidates, "Attributes kept per exchange")
      ->capture_default_str()
      ->check(whole_number(1, 100));
  m->add_option("--seed", a->seed, "Sent as the request seed to providers that honour one")->capture_default_str();
  m->add_flag("--json", a->json, "Print the mining report as JSON");
  m->add_flag("-q,--quiet", a->quiet, "No progress line");
  m->callback([a, &code] { code = run_mine(*a); });

  auto b = std::make_shared<MergeArgs>();
  CLI::App* g = tax->add_subcommand("merge", "Merge taxonomy B into A (A's nodes kept; B's synonyms canonicalised)");
  g->add_option("a", b->a, "Base taxonomy: stdlib.core, a .tax file or directory")->required();
  g->add_option("b", b->b, "Taxonomy merged in: stdlib.core, .tax, directory or DeepPersona reference .json")
      ->required();
  g->add_option("-o,--output", b->out, "The merged .tax")->required();
  g->add_option("--threshold", b->threshold, "Name similarity at or above which sibling nodes merge")
      ->capture_default_str()
      ->check(finite_number(0.01, 1.0));
  g->add_option("--report", b->report, "Write the merge decisions as JSON");
  g->callback([b, &code] { code = run_merge(*b); });
}

}  // namespace persona::cli
