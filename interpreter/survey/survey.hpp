// Survey simulation: personas answer questionnaire items and their answer distributions are compared
// with real respondents' (docs/survey.md).
//
//   auto q = survey::load_questionnaire("q.toml", sink);
//   auto people = survey::read_personas("personas.jsonl", sink);
//   auto answers = survey::random_answers(*q, *people, {.seed = 7, .repeats = 3});
//   auto targets = survey::load_targets("targets.csv", *q, sink);
//   auto report = survey::evaluate(*q, *people, answers, &*targets, {.seed = 7}, sink);
//
// The LLM modes are sans-IO pieces (survey_call, parse_answers, reask_call, estimate) that an
// executor wires to a client: nothing here performs I/O except the load/read/write functions.
// Every random draw derives from Rng::derive(seed, index, "survey:...").
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"
#include "llm/providers.hpp"
#include "survey/metrics.hpp"

namespace persona::survey {

// ---------------------------------------------------------------------------------------------
// Questionnaire (TOML)

enum class Form { scale, options, numeric };
const char* to_string(Form f);

struct Code {
  double value = 0;
  std::string label;  // may be empty for unlabelled scale points
};

struct Item {
  std::string id;
  std::string text;
  Form form = Form::scale;
  std::vector<Code> codes;    // scale/options: the substantive answers, ascending by value
  std::vector<Code> missing;  // codes meaning "don't know", "refused", ... (never in distributions)
  double min = 0, max = 0;    // scale: lowest/highest code; numeric: the declared range
  int bins = 10;              // numeric: equal-width bins for the JS divergence
  std::string block;          // items of one block are asked in the same call
  SourceRange where;

  [[nodiscard]] bool is_code(double v) const;
  [[nodiscard]] bool is_missing(double v) const;
  [[nodiscard]] bool ordered() const { return form != Form::options; }
  [[nodiscard]] double range() const { return max - min; }
  [[nodiscard]] std::vector<double> code_values() const;
};

// A numeric anchor cut into bands for grouping: `age = [18, 30, 50]` gives "18-29", "30-49", "50+".
struct Bands {
  std::string anchor;
  std::vector<double> cuts;
  [[nodiscard]] std::string label(double v) const;  // "" below the first cut
};

struct Questionnaire {
  std::string id, title, source;
  std::vector<std::string> group_by;  // persona anchors; empty: one group "all"
  std::vector<Bands> bands;
  bool offer_missing = false;  // LLM modes: also offer the missing codes as answers
  int items_per_call = 8;      // LLM modes: items asked together (a block is never split)
  std::vector<Item> items;
  std::string file;

  [[nodiscard]] const Item* find(std::string_view item_id) const;
  [[nodiscard]] std::optional<std::size_t> index_of(std::string_view item_id) const;
};

std::optional<Questionnaire> parse_questionnaire(std::string_view toml_text, const std::string& file,
                                                 DiagnosticSink& sink);
std::optional<Questionnaire> load_questionnaire(const std::filesystem::path& file, DiagnosticSink& sink);

// ---------------------------------------------------------------------------------------------
// Personas (JSONL, docs/output.md)

struct PersonaRecord {
  std::size_t index = 0;  // position in the file (0-based): the `index` of every derived draw
  std::string id;
  nlohmann::json data;  // the whole line
  std::uint32_t line = 0;
};

// THE persona reader of this stage (the lead will switch it to the typed PersonaRecord reader).
// A line that is not a JSON object with a string `id` is an error at FILE:LINE; a torn last line
// (no final newline, not valid JSON) is skipped with a warning. With whole = false only `id` and
// `anchors` are kept in `data` (all that grouping and the random mode need; far less memory).
std::optional<std::vector<PersonaRecord>> read_personas(const std::filesystem::path& file, DiagnosticSink& sink,
                                                        bool whole = true);

// The persona's group: the values of the questionnaire's group_by anchors joined by "/" (banded
// where bands are declared), "all" without group_by; nullopt when an anchor is missing or null.
std::optional<std::string> group_of(const Questionnaire& q, const PersonaRecord& p);

// ---------------------------------------------------------------------------------------------
// Targets (CSV): aggregated distributions or microdata

struct TargetCell {
  std::string item, group;
  Dist dist;                         // substantive codes with their (weighted) mass
  double missing_mass = 0;           // mass on missing codes (same units as dist)
  double respondents = 0;            // unweighted respondents behind the cell (0: unknown)
  bool weighted = false;             // dist carries survey weights
  std::vector<double> first_values;  // microdata: substantive answers in file order (reference mode)
  SourceRange where;                 // first row
};

struct Targets {
  bool microdata = false;
  std::vector<TargetCell> cells;
  std::string file;
  [[nodiscard]] const TargetCell* find(std::string_view item, std::string_view group) const;
};

// Aggregated: header with `item`, `code`, one of `share` | `percent` | `count`, optional `group`,
// `weight` (the weighted mass of the row) and `n`. Microdata: header with optional `respondent`,
// `group`, `weight` and one column per item id. Errors name FILE:LINE:COL.
std::optional<Targets> parse_targets(std::string_view csv, const std::string& file, const Questionnaire& q,
                                     DiagnosticSink& sink);
std::optional<Targets> load_targets(const std::filesystem::path& file, const Questionnaire& q, DiagnosticSink& sink);

// ---------------------------------------------------------------------------------------------
// Answers

enum class Mode { random, deep, demographics, cultural };
const char* to_string(Mode m);
std::optional<Mode> parse_mode(std::string_view s);

enum class AnswerStatus { ok, missing, invalid };  // missing: a don't-know/refused code
const char* to_string(AnswerStatus s);

struct Answer {
  std::size_t persona = 0;  // index into the persona list
  std::size_t item = 0;     // index into q.items
  int repeat = 0;
  double code = std::numeric_limits<double>::quiet_NaN();  // NaN when invalid
  AnswerStatus status = AnswerStatus::ok;
  Mode mode = Mode::random;
};

struct RandomOptions {
  std::uint64_t seed = 0;
  int repeats = 1;
};
// Uniform answers over each item's substantive codes (numeric: uniform in [min, max]); no calls.
// Answer (persona i, item, repeat r) derives from Rng::derive(seed, i, "survey:random:ID:r").
std::vector<Answer> random_answers(const Questionnaire& q, const std::vector<PersonaRecord>& people,
                                   const RandomOptions& o);

// answers.csv: persona,item,repeat,code,mode,status
std::string answers_csv(const Questionnaire& q, const std::vector<PersonaRecord>& people,
                        const std::vector<Answer>& answers);
// Reads an answers.csv back (e.g. written by an LLM run); persona ids must be in `people`.
std::optional<std::vector<Answer>> parse_answers_csv(std::string_view csv, const std::string& file,
                                                     const Questionnaire& q, const std::vector<PersonaRecord>& people,
                                                     DiagnosticSink& sink);

// ---------------------------------------------------------------------------------------------
// Evaluation

struct EvalOptions {
  std::uint64_t seed = 0;
  int bootstrap = 200;       // bootstrap replicates for the confidence intervals (0: none)
  int floor_draws = 50;      // draws for the noise floor (0: none)
  double confidence = 0.95;  // two-sided percentile interval
  bool reference = false;    // the reference implementation's conventions (docs/survey.md)
  // Checked between bootstrap replicates: when it becomes true the evaluation stops early and the
  // report says so (Report::interrupted); its figures must then not be written.
  const std::atomic<bool>* stop = nullptr;
};

struct Cell {
  std::string item, group;
  std::size_t personas = 0;   // personas with at least one substantive answer
  std::size_t answers = 0;    // valid answers (substantive + missing codes)
  std::size_t invalid = 0;    // answers outside the codes after the re-ask
  double missing_sim = 0;     // share of valid answers on a missing code
  double missing_target = 0;  // share of the target's mass on a missing code
  double target_n = 0;        // respondents behind the target (0: unknown)
  Scores score, lo, hi;       // the metrics and their bootstrap interval
  Scores floor;               // mean metrics of same-size samples drawn from the target
  Scores uniform;             // metrics of uniform answers over the codes (the random baseline)
  // The two distributions side by side (metrics.json `distribution`, the survey section of `persona
  // report`): one point per substantive code (numeric items: per bin), the shares of the simulated
  // answers (each persona weighing 1, spread over its repeats, whatever the conventions) and of the
  // target compared.
  std::vector<std::string> points;  // "1", "2", ... or numeric bins "0-2.4"
  std::vector<std::string> labels;  // the codes' labels ("" where none and for bins)
  std::vector<double> sim_shares, target_shares;
};

struct Average {
  std::string group;  // "all" for the overall average
  std::size_t cells = 0;
  Scores score, lo, hi, floor, uniform;
};

struct Report {
  std::string mode;  // of the answers: random, deep, demographics, cultural ("mixed" when several)
  std::vector<std::pair<std::string, std::string>> items;  // id and question text, questionnaire order
  std::vector<Cell> cells;
  std::vector<Average> averages;     // overall first, then per group when there are several
  std::vector<std::string> skipped;  // "ITEM (GROUP): why"
  EvalOptions options;
  Conventions conventions;
  bool interrupted = false;  // EvalOptions::stop was set: the intervals are incomplete
};

// Compares the answers with the targets per (item, group), then averages. Items or groups without
// targets are reported as warnings (and in Report::skipped) and left out of the averages.
Report evaluate(const Questionnaire& q, const std::vector<PersonaRecord>& people, const std::vector<Answer>& answers,
                const Targets& targets, const EvalOptions& o, DiagnosticSink& sink);

std::string metrics_csv(const Report& r);
nlohmann::json metrics_json(const Report& r);
// The table printed by `persona survey`.
std::string metrics_table(const Report& r);

// ---------------------------------------------------------------------------------------------
// LLM modes (sans-IO)

struct Template {
  std::string system;  // before a line "---"
  std::string user;    // after it
};
struct Templates {
  Template deep, demographics, cultural, repair;
};
// Loads survey-deep.txt, survey-demographics.txt, survey-cultural.txt and survey-repair.txt.
std::optional<Templates> load_templates(const std::filesystem::path& dir, std::string& error);
std::filesystem::path default_prompts_dir();

// What the prompt says about the persona: deep = the whole profile (anchors, core, attributes,
// narrative), demographics = the anchors, cultural = the country alone.
std::string persona_text(const PersonaRecord& p, Mode m);

// Items asked together: consecutive items of one block, at most q.items_per_call per call.
std::vector<std::vector<std::size_t>> item_groups(const Questionnaire& q);

// {"type":"object","properties":{ID:{"type":"integer","enum":[codes]}...},"required":[...],
//  "additionalProperties":false}; numeric items: {"type":"number","minimum":..,"maximum":..}.
nlohmann::json answer_schema(const Questionnaire& q, const std::vector<std::size_t>& items);

struct CallOptions {
  Mode mode = Mode::deep;
  std::uint64_t seed = 0;
  double temperature = 1.0;
  int max_tokens = 0;  // 0: estimated from the items
};

struct SurveyCall {
  nlohmann::json body;
  std::vector<std::size_t> items;  // q.items indices asked, in key order
  int repeat = 0;
  std::string step;              // "survey:MODE:FIRST_ITEM_ID:rREPEAT" (+ ":again")
  std::size_t prefix_chars = 0;  // system + the persona part: identical for every call of the persona
  std::size_t prompt_chars = 0;  // all message text
};

// One chat request: one persona, a group of items, one repeat. The system message and the persona
// text come first and do not depend on the items or the repeat, so a provider's prefix cache hits.
// The request seed is Rng::derive(seed, persona.index, "survey:MODE:FIRST_ID:rREPEAT").
SurveyCall survey_call(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items,
                       int repeat, const Templates& t, const llm::Provider& provider, const CallOptions& o);

struct Parsed {
  std::vector<Answer> answers;       // valid answers (status ok or missing)
  std::vector<std::size_t> invalid;  // q.items indices whose answer was absent or outside the codes
  std::vector<std::string> why;      // one reason per invalid item
};
// Validates a reply against the items' codes: an integer code (or a numeric string) among the item's
// codes (or its missing codes) is kept; anything else is invalid.
Parsed parse_reply(const Questionnaire& q, const PersonaRecord& p, const std::vector<std::size_t>& items, int repeat,
                   Mode mode, std::string_view content);
// The re-ask for the invalid items of a reply (the same prefix, the repair note appended). After
// it, items still invalid are recorded with invalid_answers().
SurveyCall reask_call(const Questionnaire& q, const PersonaRecord& p, const Parsed& first, int repeat,
                      const Templates& t, const llm::Provider& provider, const CallOptions& o);
std::vector<Answer> invalid_answers(const PersonaRecord& p, const std::vector<std::size_t>& items, int repeat,
                                    Mode mode);

// The --dry-run estimate, from the rendered requests of every persona (tokens = characters of the
// request body / 4: messages, answer schema and framing).
struct Estimate {
  std::uint64_t calls = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t cacheable_tokens = 0;  // prompt tokens a prefix cache can serve (repeats, later groups)
  std::uint64_t completion_tokens = 0;
  double cost = 0;  // USD at the provider's prices (cacheable tokens at the cached price)
};
Estimate estimate(const Questionnaire& q, const std::vector<PersonaRecord>& people, int repeats, const Templates& t,
                  const llm::Provider& provider, const CallOptions& o);

}  // namespace persona::survey
