// The :doc table: one paragraph per keyword, stdlib table, story-step element and REPL command.
#include <algorithm>

#include "repl/repl.hpp"

namespace persona::repl {

const std::vector<DocEntry>& docs() {
  static const std::vector<DocEntry> table = {
      // ---- statements ----
      {"recipe", "statement",
       "recipe \"NAME\" version \"VERSION\" names the population; persona ids are NAME-000042. Without a header "
       "the recipe is named after its file (warning missing-header). In the REPL a new header replaces the old one."},
      {"version", "keyword", "The optional second half of the header: recipe \"NAME\" version \"1.0\"."},
      {"import", "statement",
       "import \"FILE\" brings another file's table and distribution declarations (a library of shared "
       "definitions). Paths are relative to the file that writes them; in the REPL, to the folder of the recipe "
       "loaded last (or the current directory)."},
      {"extends", "statement",
       "extends \"FILE\" brings everything from a base recipe (anchors, story, attribute settings, narrative, "
       "model, output, taxonomy, seed); this recipe overrides by name and appends its filters after the base's."},
      {"taxonomy", "statement",
       "taxonomy stdlib.core or taxonomy \"FILE\" selects the attribute taxonomy (a stdlib name, a .tax file or "
       "folder, or a reference .json file). Default: stdlib.core. Explore it with :tax."},
      {"seed", "statement",
       "seed N is the default run seed. Persona i draws every random number from a stream derived from "
       "(seed, i, step). In the REPL, :set seed N overrides it for :sample, :run and :why."},
      {"table", "statement",
       "table NAME = \"FILE\" declares a user table in CSV or TOML, drawn with `anchor x ~ table NAME`. "
       "Inside a distribution, table DOTTED [by a, b] draws from a stdlib or user table conditioned on anchors."},
      {"distribution", "statement",
       "distribution NAME = DIST declares a reusable distribution, used as `anchor x ~ NAME`; a clamp, truncate or "
       "round at the use site adds to or replaces the definition's."},
      {"anchor", "statement",
       "anchor NAME = VALUE fixes an anchor; anchor NAME ~ DIST draws it: a categorical { a: 0.5, b: 0.5 }, "
       "uniform(lo, hi), normal(mean, sd), lognormal(mu, sigma), table stdlib.X by ..., or a declared "
       "distribution. Anchors are the stable demographic core and are drawn in dependency order. Typing an anchor "
       "that exists replaces it."},
      {"story", "statement",
       "story { NAME <- llm \"instruction\" [x A..B] [as { fields }] [from a, b] [prompt \"...\"] ... } is the "
       "life-story-driven core: steps run in dependency order, each seeing the profile built so far. A new story "
       "block replaces the previous one."},
      {"attributes", "statement",
       "attributes { count A..B  tiers near N, mid N, far N  walk random-bfs prefer long-tail  include/exclude "
       "GLOB [when COND]  always GLOB  batch N  context N tokens } says how the 200+ attributes are chosen from the "
       "taxonomy and filled. A new block replaces the previous one."},
      {"population", "statement",
       "population { calibrate A, B [to table T]  oversample COND x F } makes a run of N exact: the counts of "
       "the calibrated anchors' combinations are the target shares times N, rounded (T's counts, or the recipe's "
       "own tables without `to`), in every shard; oversampled groups carry a weight. :sample and :why draw the "
       "anchors freely (exactness is a property of a whole run of N)."},
      {"calibrate", "keyword",
       "calibrate A, B, C [to table T] (in population { }): exact counts for the joint of A, B and C; T is keyed by "
       "every anchor but the last and its values are the last one's, weighted by counts of people."},
      {"oversample", "keyword",
       "oversample COND x F (in population { }): F times the group's share of the sample; each persona's weight "
       "(true share / sample share x N) undoes it in weighted estimates."},
      {"narrative", "statement",
       "narrative VOICE A..B words [prompt \"...\"] asks for a final first-person, third-person or no (none) "
       "narrative written from the structured profile. Default: first-person 150..400 words."},
      {"model", "statement",
       "model \"PROVIDER\" KEY VALUE ... (on one line) names the provider from persona.toml and its settings: "
       "temperature, top_p, max_tokens, seed, model, presence_penalty, frequency_penalty. :run uses the provider "
       "unless :set llm says otherwise."},
      {"output", "statement",
       "output { path \"FILE\"  narrative on|off  core on|off  usage on|off  prompts on|off } sets what `persona "
       "run` writes and where."},
      // ---- distribution keywords ----
      {"clamp", "keyword",
       "clamp A..B clips a numeric draw into the range (anchor height ~ normal(168, 9) clamp 140..205)."},
      {"truncate", "keyword",
       "truncate A..B draws again until a numeric value is inside the range (then clips): anchor age ~ table "
       "stdlib.age_structure by country truncate 18..90."},
      {"round", "keyword", "round rounds a numeric draw to an integer: anchor age ~ uniform(18, 65) round."},
      {"by", "keyword",
       "by a, b names the anchors or derived facts a table is conditioned on, in the table's order; the number "
       "must match the table's (stdlib.cities by country)."},
      {"uniform", "distribution", "uniform(lo, hi): a number drawn uniformly between lo and hi (lo < hi)."},
      {"normal", "distribution", "normal(mean, sd): a normally distributed number; combine with clamp or truncate."},
      {"lognormal", "distribution",
       "lognormal(mu, sigma): a log-normally distributed number (incomes, sizes): anchor income ~ lognormal(10.2, "
       "0.6) truncate 1000..500000."},
      // ---- story steps ----
      {"<-", "story", "NAME <- llm \"instruction\" ... declares a story step whose output is called NAME."},
      {"llm", "story",
       "llm \"instruction\" is what a story step asks the model for (\"core values\", \"life attitude\"). Offline, "
       "the engine fills it from lexicons and templates."},
      {"x", "story",
       "x N or x A..B makes a story step's output a list of N (or A to B, 1 to 50) items: values <- llm \"core "
       "values\" x 3..5."},
      {"as", "story",
       "as { motto, score: number } makes a story step's output an object with named fields; field types are "
       "text (default), list and number."},
      {"from", "story",
       "from a, b names the anchors, derived facts or earlier steps a story step reads; a cycle among steps is an "
       "error."},
      {"prompt", "story",
       "prompt \"...\" overrides a story step's (or the narrative's) prompt template; {name} inserts an anchor or "
       "step value. Triple-quoted \"\"\"...\"\"\" strings may span lines."},
      // ---- attribute settings ----
      {"count", "setting",
       "count A..B (attributes block): attributes per persona, drawn uniformly in the range. Default 200..250."},
      {"tiers", "setting",
       "tiers near N, mid N, far N: the mix of candidates near to, mid-way from and far from the persona's core "
       "(cosine similarity thirds). Default 5, 3, 2. :why PATH shows an attribute's tier and rank."},
      {"walk", "setting",
       "walk random-bfs|bfs|dfs [prefer long-tail|none]: the order in which attributes are picked within a tier. "
       "Default random-bfs prefer long-tail."},
      {"include", "setting",
       "include GLOB [when COND]: candidate taxonomy paths (* one segment, ** any depth, ? one character). Filters "
       "apply in order; the last matching one decides. Default include *."},
      {"exclude", "setting",
       "exclude GLOB [when COND]: taxonomy paths removed, optionally only for personas whose facts satisfy COND "
       "(exclude \"Career and Work Identity/**\" when employment in (student, retired))."},
      {"always", "setting",
       "always GLOB: a panel, attributes every persona receives (always \"Financial Life/Money Habits/**\"), "
       "whatever the filters, before the tiers fill the rest; they count toward count and have tier panel. One "
       "that does not apply to a persona keeps its slot with status not_applicable. Several lines add up."},
      {"when", "keyword",
       "when COND restricts a filter to some personas. Conditions: age >= 16, employment in (a, b), gender != "
       "male, not ..., and, or, parentheses. A condition on a fact the persona lacks is satisfied."},
      {"batch", "setting", "batch N (attributes block): attribute slots filled per model call. Default 40."},
      {"context", "setting",
       "context N tokens (attributes block): the profile context budget re-sent with each fill call. Default 600."},
      // ---- stdlib tables ----
      {"stdlib.countries", "table",
       "stdlib.countries: countries of residence (the 45 most populous, UN WPP 2024) weighted by population, with no "
       "conditioning: anchor country ~ table stdlib.countries."},
      {"stdlib.age_structure", "table",
       "stdlib.age_structure by country: age in years, drawn from 5-year age groups of the UN World Population "
       "Prospects 2024; usually with truncate 18..90 for adults."},
      {"stdlib.age_by_sex", "table",
       "stdlib.age_by_sex by country, gender: age in years from the 5-year age groups of each sex (UN WPP 2024)."},
      {"stdlib.sex_ratio", "table", "stdlib.sex_ratio by country: gender (female, male) by the country's sex ratio."},
      {"stdlib.occupations", "table",
       "stdlib.occupations by country, gender, age: activity status or ISCO-08 major group (ILOSTAT, ILO EAPEP); "
       "derives employment (employed, student, retired, homemaker) and occupation_class (agricultural, other), "
       "usable in by and when like an anchor."},
      {"stdlib.settlement", "table",
       "stdlib.settlement by country, occupation_class: rural area, town under 300,000 or a city size class (UN "
       "World Urbanization Prospects); agricultural workers never live in cities of 300,000 or more."},
      {"stdlib.cities", "table",
       "stdlib.cities by country, settlement: a place of that size class, weighted by population."},
      {"stdlib.given_names", "table",
       "stdlib.given_names by country, gender, age: a given name of the person's birth cohort where national "
       "statistics exist (US, UK), else common for the country and gender."},
      {"stdlib.core", "taxonomy",
       "stdlib.core: the standard attribute taxonomy (12 top-level categories, about 3,000 nodes). :tax ls lists "
       "its categories."},
      // ---- REPL commands ----
      {":help", "command",
       ":help lists the commands. Statements typed at the prompt extend or replace the current recipe."},
      {":load", "command",
       ":load FILE makes the recipe in FILE the current recipe (its statements replace the session's). Relative "
       "paths inside it resolve against its folder."},
      {":reload", "command",
       ":reload reads the file loaded last again, with its imports and tables (after you changed them on disk); "
       "changes made in the session since the load are replaced, and :undo brings them back."},
      {":show", "command",
       ":show prints the current recipe in the canonical layout (persona fmt); :show NAME one statement "
       "(:show attributes, :show age); :show persona N [TEXT] persona N of the sample (see :doc :show persona)."},
      {":show persona", "command",
       ":show persona N [TEXT] shows persona N of the last :sample or :run, a screen at a time: id and seed, "
       "anchors, core, the attributes grouped by category with their tier (n near, m mid, f far) and source "
       "(o options, x lexicon, L llm, t table), the narrative wrapped to the terminal. With TEXT only the "
       "attributes whose path contains it."},
      {":check", "command",
       ":check checks the whole current recipe and prints every error and warning, or a one-line summary."},
      {":plan", "command",
       ":plan prints the recipe's plan: its steps, dependencies and estimated model calls and tokens per persona for "
       "the session's backend."},
      {":sample", "command",
       ":sample [N] [--json] builds N personas offline (deterministic, no network) with the session seed and "
       "indices 0..N-1 and prints a line for each (anchors, attribute count); --json prints the JSON lines "
       "`persona run` writes. The personas are kept for :show persona and :values. Ctrl-C stops it."},
      {":run", "command",
       ":run [N] [--json] builds N personas with the configured backend (:set llm, else the recipe's model "
       "provider), a request at a time, and prints them as :sample does. Without a provider it runs offline and "
       "says so."},
      {":values", "command",
       ":values PATH lists the values one attribute took across the sample, most frequent first, with how many "
       "personas got it and in which tier; :values NAME does the same for an anchor, derived fact or story "
       "output (numbers get min, median, mean and max); a category or glob lists the attributes chosen under it."},
      {":tax", "command",
       ":tax ls [PATH] lists the children of a taxonomy node (the categories without PATH); :tax show PATH shows a "
       "node; :tax find TEXT lists nodes whose path contains TEXT (or match a glob)."},
      {":why", "command",
       ":why PATH [persona N] explains whether and why the attribute PATH was chosen for persona N (default 0) of "
       "the session seed: its tier and similarity rank and score against the persona's core, each recipe filter, "
       "each taxonomy condition. PATH may be a leaf's name when only one node has it."},
      {":edit", "command",
       ":edit opens the recipe in $VISUAL or $EDITOR (:set editor CMD); :edit NAME opens one statement "
       "(attributes, story, an anchor's name). On save the text is checked: applied when it brings no new error, "
       "otherwise the errors are listed and the next :edit reopens your text."},
      {":undo", "command",
       ":undo takes back the last change to the recipe (a statement, a clause, :edit, :load, :reload, :undo's :redo)."},
      {":redo", "command", ":redo makes again the change the last :undo took back."},
      {":diff", "command",
       ":diff [FILE] prints the differences between the file loaded last (or FILE) and the session's recipe as a "
       "unified diff, both in the canonical layout so that only what the statements say counts."},
      {":set", "command",
       ":set seed N | :set count N | :set llm NAME | :set editor CMD changes the session settings; :set alone "
       "prints them."},
      {":save", "command",
       ":save [FILE] writes the current recipe, formatted, to FILE (default: the file loaded last)."},
      {":doc", "command",
       ":doc NAME prints the documentation of a keyword, stdlib table, story element or command; :doc alone lists the "
       "topics."},
      {"+", "command",
       "+CLAUSE adds one clause to a block: +exclude \"GLOB\" when COND, +include ..., +count A..B, +tiers ..., "
       "+walk ..., +batch N, +context N (attributes), +NAME <- llm \"...\" ... (story), +output KEY VALUE. A "
       "setting, a story step or an output key that is there already is replaced. -CLAUSE removes one: "
       "-exclude \"GLOB\", -count, -story NAME, -output KEY."},
      {":quit", "command",
       ":quit ends the session (so does end of input, or Ctrl-D at an empty prompt). Ctrl-C cancels the line being "
       "typed or the running command, never the session."},
  };
  return table;
}

const DocEntry* find_doc(std::string_view name) {
  const auto& t = docs();
  auto it = std::find_if(t.begin(), t.end(), [&](const DocEntry& e) { return e.name == name; });
  if (it != t.end()) return &*it;
  if (!name.empty() && name.front() != ':') {  // `:doc sample` finds :sample
    const std::string cmd = ":" + std::string(name);
    it = std::find_if(t.begin(), t.end(), [&](const DocEntry& e) { return e.name == cmd; });
    if (it != t.end()) return &*it;
  }
  return nullptr;
}

}  // namespace persona::repl
