// persona eval FILE [FILE2 ...] [--recipe R] [--json OUT] [--fail-on EXPR ...] [--sample N] ...
// persona report [FILE ...] [--survey DIR ...] -o report.html [--recipe R] [--sample N]
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.hpp"
#include "base/files.hpp"
#include "cli/coherence_rules.hpp"
#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "engine/program.hpp"
#include "eval/eval.hpp"
#include "eval/judge.hpp"
#include "frontend/frontend.hpp"
#include "llm/client.hpp"
#include "llm/models.hpp"
#include "report/report.hpp"

namespace persona::cli {

namespace {

struct EvalArgs {
  std::vector<std::string> files;
  std::string recipe;
  std::string json;
  std::vector<std::string> fail_on;
  std::size_t sample = 1000;
  std::uint64_t seed = 0;
  std::string definitions;
  std::string llm;
  std::size_t judge_sample = 0;
  std::string judge_preview;
  bool quiet = false;
  std::string out;  // report
  std::string title = "Persona report";
  std::vector<std::string> surveys;  // report: results folders of persona survey
  std::vector<std::string> mining;   // report: OUT.report.json files of persona taxonomy mine
};

void print_plain(const DiagnosticList& d) {
  const SourceFiles none;
  print_diagnostics(d, none);
}

// Definitions and (with --recipe) targets. nullopt: an error was printed (exit 1).
struct Setup {
  eval::Options options;
  std::optional<eval::Targets> targets;
};

std::optional<Setup> prepare(const EvalArgs& a, const char* command) {
  Setup s;
  DiagnosticList d;
  auto defs = eval::load_definitions(
      a.definitions.empty() ? eval::default_definitions_path() : std::filesystem::path(a.definitions), d);
  if (!defs) {
    print_plain(d);
    return std::nullopt;
  }
  s.options.defs = std::move(*defs);
  s.options.sample = a.sample;
  s.options.sample_seed = a.seed;
  if (!a.recipe.empty()) {
    SourceFiles sources;
    DiagnosticList rd;
    auto loaded = frontend::load_recipe(a.recipe, sources, rd);
    if (!loaded) {
      print_diagnostics(rd, sources);
      return std::nullopt;
    }
    DiagnosticList td;
    auto tax = engine::load_taxonomy(loaded->recipe, td);
    if (!tax) {
      DiagnosticList errors;
      for (const auto& x : td.all())
        if (x.severity == Severity::error) errors.report(x);
      print_diagnostics(errors, sources);
      std::cerr << "persona " << command << ": error: the recipe's taxonomy does not load\n";
      return std::nullopt;
    }
    std::vector<std::pair<std::string, std::size_t>> leaves;
    for (auto v : tax->roots()) leaves.emplace_back((*tax)[v].name, tax->leaf_count(v));
    s.targets = eval::targets_from_recipe(loaded->recipe, loaded->tables, leaves);
  }
  // Contradictions and semantic twins: the coherence rules of the recipe's taxonomy (else stdlib.core).
  {
    SourceFiles sources;
    DiagnosticList rd;
    auto rules = load_rules(a.recipe, sources, rd);
    if (!rules) {
      print_diagnostics(rd, sources);
      std::cerr << "persona " << command << ": error: the coherence rules do not load\n";
      return std::nullopt;
    }
    auto shared = std::make_shared<const LoadedRules>(std::move(*rules));
    s.options.contradictions = [shared](const record::PersonaRecord& r) {
      std::vector<eval::Violation> out;
      for (auto& v : check_record(*shared->rules, r).violations) {
        std::string message = v.statement;
        for (const auto& [what, value] : v.involved) message += "; " + what + " = " + value;
        out.push_back({std::move(v.rule), std::move(message)});
      }
      return out;
    };
    s.options.meaning = [shared](std::string_view path) {
      const tax::Taxonomy& t = *shared->taxonomy;
      if (auto v = t.find(path)) return "m" + std::to_string(t.meaning_id(*v));
      const auto slash = path.rfind('/');
      return tax::fold_name(slash == std::string_view::npos ? path : path.substr(slash + 1));
    };
  }
  return s;
}

// Warns when the manifest beside `file` names another recipe text than --recipe: the targets would
// then not be the ones the file was drawn for.
void check_manifest_recipe(const std::string& file, const eval::Targets& t) {
  const std::string path = file + ".manifest.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  auto text = files::read(path, files::Limits{16u << 20, true});
  if (!text.ok()) return;
  const auto j = nlohmann::json::parse(*text.text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("recipe") || !j["recipe"].is_object()) return;
  const auto& r = j["recipe"];
  if (!r.contains("text_hash") || !r["text_hash"].is_string()) return;
  const std::string hash = r["text_hash"].get<std::string>();
  if (hash == t.recipe_hash) return;
  std::cerr << path << ": warning: " << file << " was made from recipe text " << hash << ", but --recipe is "
            << t.recipe_hash << ": the targets may not be the ones this file was drawn for\n";
}

// Evaluates every file. `worst` becomes user_error when a file is unreadable or holds no persona,
// damaged_input when lines were skipped.
std::vector<eval::FileReport> evaluate_all(const EvalArgs& a, const Setup& s, int& worst) {
  std::vector<eval::FileReport> reports;
  for (const auto& f : a.files) {
    DiagnosticList d;
    if (s.targets) check_manifest_recipe(f, *s.targets);
    auto rep = eval::evaluate_file(f, s.options, s.targets ? &*s.targets : nullptr, d);
    print_plain(d);
    const auto& dmg = rep.damage;
    if (dmg.unreadable) {
      worst = Exit::user_error;
    } else if (rep.personas == 0 && dmg.bad_lines == 0 && !dmg.torn) {
      std::cerr << f << ": error: no persona records in the file\n";
      worst = Exit::user_error;
    } else if (rep.personas == 0) {
      std::cerr << f << ": error: damaged input: no line is a persona record (a file from another tool?)\n";
      if (worst == Exit::ok) worst = Exit::damaged_input;
    } else if (dmg.bad_lines > 0 || dmg.torn) {
      std::cerr << f << ": error: damaged input: " << dmg.bad_lines << " line(s) are not persona records"
                << (dmg.torn ? " and the last line is torn" : "") << "; the other " << rep.personas
                << " personas were evaluated\n";
      if (worst == Exit::ok) worst = Exit::damaged_input;
    }
    reports.push_back(std::move(rep));
  }
  return reports;
}

// Writes the judge's requests for the chosen personas as JSONL (what the executor will send).
int judge_preview(const EvalArgs& a, std::vector<eval::FileReport>& reports) {
  DiagnosticList d;
  auto rubric = eval::judge::load_rubric(eval::judge::default_rubric_dir(), d);
  if (!rubric) {
    print_plain(d);
    return Exit::user_error;
  }
  std::string out;
  std::int64_t prompt = 0, completion = 0;
  std::size_t requests = 0;
  for (std::size_t k = 0; k < a.files.size(); ++k) {
    eval::judge::Chooser pick(a.judge_sample, a.seed);
    record::Reader in;
    record::PersonaRecord r;
    if (!in.open(a.files[k])) continue;
    for (;;) {
      const auto st = in.next(r);
      if (st == record::ReadStatus::ok)
        pick.offer(r.id);
      else if (st != record::ReadStatus::bad)
        break;
    }
    record::Reader again;
    if (!again.open(a.files[k])) continue;
    for (;;) {
      const auto st = again.next(r);
      if (st == record::ReadStatus::end || st == record::ReadStatus::io || st == record::ReadStatus::torn) break;
      if (st != record::ReadStatus::ok || !pick.chosen(r.id)) continue;
      for (const auto& q : {eval::judge::build_rating(r, *rubric), eval::judge::build_recovery(r, *rubric)}) {
        nlohmann::ordered_json j;
        j["file"] = a.files[k];
        j["persona"] = q.persona_id;
        j["kind"] = q.kind == eval::judge::Kind::rating ? "rating" : "recovery";
        j["system"] = q.system;
        j["user"] = q.user;
        j["schema"] = nlohmann::json::parse(q.schema);
        j["temperature"] = q.temperature;
        j["estimate"] = {{"prompt_tokens", q.prompt_tokens}, {"completion_tokens", q.completion_tokens}};
        j["rubric_hash"] = rubric->hash;
        out += j.dump() + "\n";
        prompt += q.prompt_tokens;
        completion += q.completion_tokens;
        ++requests;
      }
    }
    reports[k].metrics["judge_sample"] = static_cast<double>(pick.size());
  }
  std::string error;
  if (!files::write_atomic(a.judge_preview, out, error)) {
    std::cerr << "persona eval: error: " << error << "\n";
    return Exit::runtime_error;
  }
  std::cerr << "persona eval: wrote " << requests << " judge requests to " << a.judge_preview << " (estimated "
            << prompt << " prompt and " << completion << " completion tokens); nothing was sent\n";
  return Exit::ok;
}

// The LLM judge: for the chosen personas of each file, a rating call and a recovery call through the
// one LLM client (retries, rate limits, circuit breaker); answers parsed strictly, failures counted.
int judge_run(const EvalArgs& a, std::vector<eval::FileReport>& reports) {
  DiagnosticList d;
  auto rubric = eval::judge::load_rubric(eval::judge::default_rubric_dir(), d);
  if (!rubric) {
    print_plain(d);
    return Exit::user_error;
  }
  lang::Recipe none;
  backend::ResolveOptions ro{a.llm, "", "", "", std::filesystem::current_path().string()};
  DiagnosticList pd;
  bool offline = false;
  const auto setup = backend::resolve(none, ro, pd, offline);
  if (!setup) {
    print_plain(pd);
    if (offline) std::cerr << "persona eval: error: --llm " << a.llm << ": the judge needs an LLM provider\n";
    return Exit::usage_error;
  }
  const llm::Provider& provider = setup->provider;
  if (const std::string why = llm::key_problem(provider); !why.empty()) {
    std::cerr << "persona eval: error: " << why << "\n";
    return Exit::usage_error;
  }
  llm::Client client(provider, llm::Options{});
  std::size_t failed_files = 0;
  for (std::size_t k = 0; k < a.files.size(); ++k) {
    eval::judge::Chooser pick(a.judge_sample, a.seed);
    std::vector<record::PersonaRecord> chosen;
    {
      record::Reader in;
      record::PersonaRecord r;
      if (!in.open(a.files[k])) continue;
      for (auto st = in.next(r); st == record::ReadStatus::ok || st == record::ReadStatus::bad; st = in.next(r))
        if (st == record::ReadStatus::ok) pick.offer(r.id);
      record::Reader again;
      if (!again.open(a.files[k])) continue;
      for (auto st = again.next(r); st == record::ReadStatus::ok || st == record::ReadStatus::bad; st = again.next(r))
        if (st == record::ReadStatus::ok && pick.chosen(r.id)) chosen.push_back(r);
    }
    eval::judge::Summary summary;
    std::vector<nlohmann::json> schemas;
    schemas.reserve(2 * chosen.size());
    for (const auto& r : chosen) {
      for (const auto& q : {eval::judge::build_rating(r, *rubric), eval::judge::build_recovery(r, *rubric)}) {
        schemas.push_back(nlohmann::json::parse(q.schema));
        llm::ChatOptions co;
        co.temperature = q.temperature;
        co.max_tokens = static_cast<int>(q.completion_tokens * 2 + 64);
        co.schema = &schemas.back();
        co.schema_name = q.kind == eval::judge::Kind::rating ? "rating" : "recovery";
        llm::Request req;
        req.body = llm::chat_body(provider, {{"system", q.system}, {"user", q.user}}, co);
        req.tag = r.id + (q.kind == eval::judge::Kind::rating ? ":judge-rating" : ":judge-recovery");
        req.expect_json = true;
        const eval::judge::Kind kind = q.kind;
        const record::PersonaRecord* rec = &r;
        client.submit(std::move(req), [&summary, kind, rec](llm::Response resp) {
          if (!resp.ok()) {
            summary.fail(
                rec->id + ": " +
                (llm::stops_the_run(resp.http_status) ? "HTTP " + std::to_string(resp.http_status) + ": " : "") +
                resp.error);
            return;
          }
          std::string error;
          if (kind == eval::judge::Kind::rating) {
            if (auto rating = eval::judge::parse_rating(resp.content, error))
              summary.add(*rating);
            else
              summary.fail(rec->id + ": rating: " + error);
          } else {
            if (auto facts = eval::judge::parse_recovery(resp.content, error))
              summary.add(eval::judge::score_recovery(*rec, *facts));
            else
              summary.fail(rec->id + ": recovery: " + error);
          }
        });
      }
    }
    client.run();
    eval::judge::apply(summary, reports[k]);
    reports[k].metrics["judge_sample"] = static_cast<double>(chosen.size());
    for (const auto& e : summary.errors) std::cerr << a.files[k] << ": judge: " << e << "\n";
    if (!chosen.empty() && summary.failures == 2 * chosen.size()) ++failed_files;
  }
  const auto st = client.stats();
  if (!a.quiet)
    std::cerr << "persona eval: judge " << provider.name << " (" << provider.model << "): " << st.requests
              << " requests, " << st.usage.prompt_tokens << " prompt + " << st.usage.completion_tokens
              << " completion tokens, $" << st.cost << "\n";
  if (failed_files > 0) {
    std::cerr << "persona eval: error: every judge call failed for " << failed_files << " file(s)\n";
    return Exit::runtime_error;
  }
  return Exit::ok;
}

int do_eval(const EvalArgs& a) {
  std::vector<eval::Gate> gates;
  for (const auto& g : a.fail_on) {
    std::string error;
    auto gate = eval::parse_gate(g, error);
    if (!gate) {
      std::cerr << "persona eval: error: --fail-on " << error << "\n";
      return Exit::usage_error;
    }
    gates.push_back(*gate);
  }
  if (!a.llm.empty() && a.judge_sample == 0) {
    std::cerr << "persona eval: error: --llm needs --judge-sample N (N >= 1): the personas per file the judge rates\n";
    return Exit::usage_error;
  }
  if (!a.judge_preview.empty() && a.judge_sample == 0) {
    std::cerr << "persona eval: error: --judge-preview needs --judge-sample N (N >= 1)\n";
    return Exit::usage_error;
  }
  auto setup = prepare(a, "eval");
  if (!setup) return Exit::user_error;
  int worst = Exit::ok;
  auto reports = evaluate_all(a, *setup, worst);
  if (worst == Exit::user_error) return worst;
  if (!a.judge_preview.empty())
    if (const int rc = judge_preview(a, reports); rc != Exit::ok) return rc;
  if (!a.llm.empty() && a.judge_preview.empty())
    if (const int rc = judge_run(a, reports); rc != Exit::ok) return rc;

  const std::string json = eval::to_json(reports);
  if (a.json == "-") {
    std::cout << json;
    if (!a.quiet) std::cerr << eval::to_table(reports);
  } else {
    if (!a.quiet) std::cout << eval::to_table(reports);
    if (!a.json.empty()) {
      std::string error;
      if (!files::write_atomic(a.json, json, error)) {
        std::cerr << "persona eval: error: " << error << "\n";
        return Exit::runtime_error;
      }
    }
  }
  bool crossed = false, missing = false;
  for (const auto& g : eval::check_gates(gates, reports)) {
    if (!g.value) {
      std::cerr << g.file << ": error: --fail-on " << g.gate.text << ": metric '" << g.gate.metric
                << "' was not computed for this file"
                << (g.gate.metric.rfind("contradictions", 0) == 0 ? " (no consistency rules are loaded)"
                    : a.recipe.empty()                            ? " (some metrics need --recipe)"
                                                                  : "")
                << "\n";
      missing = true;
    } else if (g.crossed) {
      std::cerr << g.file << ": error: --fail-on " << g.gate.text << " crossed: " << g.gate.metric << " = " << *g.value
                << "\n";
      crossed = true;
    }
  }
  if (missing) return Exit::usage_error;
  if (worst != Exit::ok) return worst;
  return crossed ? Exit::threshold_crossed : Exit::ok;
}

// The metrics.json of each --survey folder (or the file itself when a file is given). nullopt: an
// error was printed (exit 1).
std::optional<std::vector<report::SurveyRun>> read_surveys(const EvalArgs& a) {
  std::vector<report::SurveyRun> runs;
  for (const auto& dir : a.surveys) {
    std::error_code ec;
    const std::filesystem::path given(dir);
    const std::filesystem::path file = std::filesystem::is_directory(given, ec) ? given / "metrics.json" : given;
    if (!std::filesystem::is_regular_file(file, ec)) {
      std::cerr << "persona report: error: " << file.string()
                << " does not exist: --survey takes a folder written by `persona survey ... --targets T -o DIR` "
                   "(metrics are written only with --targets)\n";
      return std::nullopt;
    }
    auto text = files::read(file, files::Limits{256u << 20, true});
    if (!text.ok()) {
      std::cerr << file.string() << ": error: " << text.error << "\n";
      return std::nullopt;
    }
    std::string why;
    auto run = report::parse_survey(dir, *text.text, why);
    if (!run) {
      std::cerr << file.string() << ": error: " << why << "\n";
      return std::nullopt;
    }
    runs.push_back(std::move(*run));
  }
  return runs;
}

// The report.json of each --mining file. nullopt: an error was printed (exit 1).
std::optional<std::vector<report::MiningRun>> read_mining(const EvalArgs& a) {
  std::vector<report::MiningRun> runs;
  for (const auto& file : a.mining) {
    auto text = files::read(file, files::Limits{256u << 20, true});
    if (!text.ok()) {
      std::cerr << "persona report: error: " << text.error
                << " (--mining takes the OUT.report.json written by `persona taxonomy mine -o OUT`)\n";
      return std::nullopt;
    }
    std::string why;
    auto run = report::parse_mining(file, *text.text, why);
    if (!run) {
      std::cerr << file << ": error: " << why << "\n";
      return std::nullopt;
    }
    runs.push_back(std::move(*run));
  }
  return runs;
}

int do_report(const EvalArgs& a) {
  if (a.out.empty()) {
    std::cerr << "persona report: error: -o report.html is required\n";
    return Exit::usage_error;
  }
  if (a.files.empty() && a.surveys.empty() && a.mining.empty()) {
    std::cerr << "persona report: error: give persona files, --survey DIR, --mining FILE, or several\n";
    return Exit::usage_error;
  }
  auto surveys = read_surveys(a);
  if (!surveys) return Exit::user_error;
  auto mining = read_mining(a);
  if (!mining) return Exit::user_error;
  std::vector<eval::FileReport> reports;
  int worst = Exit::ok;
  if (!a.files.empty()) {
    auto setup = prepare(a, "report");
    if (!setup) return Exit::user_error;
    reports = evaluate_all(a, *setup, worst);
    if (worst == Exit::user_error) return worst;
  }
  std::vector<report::Input> inputs;
  for (auto& r : reports) {
    report::Input in;
    in.manifest_path = r.file + ".manifest.json";
    std::error_code ec;
    if (std::filesystem::is_regular_file(in.manifest_path, ec)) {
      auto text = files::read(in.manifest_path, files::Limits{16u << 20, true});
      if (text.ok())
        in.manifest = std::move(*text.text);
      else
        std::cerr << in.manifest_path << ": warning: " << text.error << "\n";
    }
    in.report = std::move(r);
    inputs.push_back(std::move(in));
  }
  const std::string html =
      report::render_html(inputs, a.title, std::string("persona ") + PERSONA_VERSION, std::move(*surveys), *mining);
  std::string error;
  if (!files::write_atomic(a.out, html, error)) {
    std::cerr << "persona report: error: " << error << "\n";
    return Exit::runtime_error;
  }
  std::cerr << "persona report: wrote " << a.out << " (" << html.size() / 1024 << " KiB)\n";
  return worst;
}

void common_options(CLI::App* c, EvalArgs& a, bool files_required = true) {
  auto* files = c->add_option("files", a.files, "Persona files: JSONL, or the .personas.csv of a long CSV pair");
  if (files_required) files->required();
  c->add_option("--recipe,-r", a.recipe,
                "The recipe the files were made from: targets for anchors (its tables), tiers, count and "
                "narrative word ranges, category coverage");
  c->add_option("--sample", a.sample, "Personas in the pairwise-similarity sample (default 1000; 0: none)")
      ->check(whole_number(0, 100000000));
  c->add_option("--seed", a.seed, "Seed choosing the sample (default 0)")
      ->check(whole_number(0, std::numeric_limits<std::uint64_t>::max()));
  c->add_option("--definitions", a.definitions,
                "Filler, quasi-identifier and near-duplicate definitions "
                "(default: stdlib/eval/eval.toml)");
}

}  // namespace

void add_eval_command(CLI::App& root, int& code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = root.add_subcommand("eval", "Measure the quality of persona files (one column per file)");
  common_options(c, *a);
  c->add_option("--json", a->json, "Write the figures as JSON to this path (- for standard output)");
  c->add_option("--fail-on", a->fail_on,
                "Exit 5 when METRIC OP NUMBER holds for a file, e.g. 'filler>0.05' (repeatable; names in "
                "docs/eval.md)")
      ->allow_extra_args(false);  // one expression per --fail-on: `--fail-on X FILE` keeps FILE a file
  c->add_option("--llm", a->llm, "LLM judge provider from persona.toml: rates --judge-sample N personas per file");
  c->add_option("--judge-sample", a->judge_sample, "Personas per file the LLM judge rates (deterministic choice)")
      ->check(whole_number(0, 100000000));
  c->add_option("--judge-preview", a->judge_preview, "Write the judge requests as JSONL; send nothing");
  c->add_flag("--quiet,-q", a->quiet, "No table on standard output");
  c->footer(
      "Exit codes: 0 ok; 1 unreadable file, no personas, bad recipe or definitions; 2 usage (bad option, bad "
      "--fail-on, a gated metric not computed); 5 a --fail-on threshold crossed; 6 damaged input (lines that are "
      "not personas, a torn last line: the rest was evaluated).");
  c->callback([a, &code] { code = do_eval(*a); });
}

void add_report_command(CLI::App& root, int& code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* c = root.add_subcommand(
      "report", "Write a self-contained HTML report of persona files and/or persona survey results");
  common_options(c, *a, false);
  c->add_option("--out,-o", a->out, "The HTML file to write")->required();
  c->add_option("--title", a->title, "Page title (default: Persona report)");
  c->add_option("--survey", a->surveys,
                "A results folder of `persona survey` (its metrics.json; repeatable, one per mode): adds the "
                "survey section, each folder a series (docs/survey.md)")
      ->allow_extra_args(false);
  c->add_option("--mining", a->mining,
                "The OUT.report.json of `persona taxonomy mine` (repeatable): adds the taxonomy mining section "
                "(docs/mining.md)")
      ->allow_extra_args(false);
  c->footer(
      "Persona files, --survey folders, --mining reports, or several. Exit codes: 0 ok; 1 unreadable file, no "
      "personas, bad recipe, a --survey folder without a readable metrics.json, or a --mining file that is not a "
      "mining report; 2 usage (no files, --survey or --mining); 3 output not writable; 6 damaged input (the page is "
      "written and says so).");
  c->callback([a, &code] { code = do_report(*a); });
}

}  // namespace persona::cli
