// The offline backend: values that respect the coherence rules, lexicon values, story shapes,
// narrative length, variety.
#include <set>

#include "engine_support.hpp"
#include "taxonomy/rules.hpp"

using namespace engine_test;
using namespace persona;

namespace {

const char* kLifeTax =
    "Life | Life\n"
    "  Stage | Stage\n"
    "    Current Situation | What the person does most days\n"
    "      = retired and enjoying it | drawing a pension | going to classmates' homes | doing homework | "
    "working with colleagues | looking after grandchildren | job hunting | relaxing at home\n"
    "    Pension Plan Type | The kind of retirement pension\n"
    "      = state pension | private pension | retirement savings account\n"
    "    Sleep Pattern | How the person sleeps\n"
    "      = early bird | night owl\n"
    "    Visiting Frequency | How often the person visits friends\n"
    "    Life Satisfaction Level | How satisfied the person is\n"
    "    Whether Owns a Bicycle | Whether the person owns a bicycle\n";

}  // namespace

TEST_CASE("offline values respect the anchors: no retirement values for a 20-year-old student",
          "[engine][offline][rules]") {
  // The consistency rules are data (a rules file next to the taxonomy, interpreter/coherence).
  DiagnosticList d;
  auto tx = tax::load_tax_text(kLifeTax, "life.tax", d);
  REQUIRE(tx);
  REQUIRE(tax::load_rules(
      *tx,
      {{"life.rules",
        "fact age | Age\n  type number\n  absent skip\n"
        "fact employment | Status\n  = employed | student | retired | unemployed\n  absent skip\n"
        "leaf **/Current Situation\n"
        "  retired and enjoying it | drawing a pension: employment = retired or age >= 60\n"
        "  going to classmates' homes | doing homework: employment = student or age < 25\n"
        "  working with colleagues: employment = employed\n"
        "  looking after grandchildren: age >= 35\n"
        "  job hunting: employment = unemployed\n"
        "leaf **/Pension Plan Type\n"
        "  state pension | private pension | retirement savings account: employment = retired or age >= 60\n"}},
      d));
  INFO(dump(d));
  auto t = std::make_shared<const tax::Taxonomy>(std::move(*tx));
  auto r = base_recipe(1, 6);
  r.anchors.push_back(fixed_anchor("age", 20.0));
  r.anchors.push_back(fixed_anchor("employment", std::string("student")));
  auto m = make_model(r, nullptr, t);
  std::set<std::string> seen;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto p = build(*m, 8, i);
    for (const auto& s : p.attributes) {
      CHECK(s.status == engine::SlotStatus::filled);
      CHECK(m->model().leaf(s.leaf).name != "Pension Plan Type");  // every option contradicts: not selected
      CHECK(s.value.find("retire") == std::string::npos);
      CHECK(s.value.find("pension") == std::string::npos);
      CHECK(s.value.find("colleagues") == std::string::npos);
      CHECK(s.value.find("grandchildren") == std::string::npos);
      CHECK(s.value.find("job hunting") == std::string::npos);
      seen.insert(s.value);
    }
  }
  CHECK(seen.count("doing homework") == 1);
  CHECK(seen.count("relaxing at home") == 1);
}

TEST_CASE("a leaf whose applicability reads a latent fact is chosen only for personas whose drawn fact meets it",
          "[engine][offline][rules]") {
  // `partner` is no anchor: the rules draw it per persona; candidate lists ignore the condition and
  // selection checks it against the drawn value.
  DiagnosticList d;
  auto tx = tax::load_tax_text(
      "Life | Life\n"
      "  Couple | Couple\n"
      "    Partner Name Style | How the person addresses the partner\n"
      "      ? partner = together\n"
      "      = first name | nickname\n"
      "    Sleep Pattern | How the person sleeps\n"
      "      = early bird | night owl\n",
      "life.tax", d);
  REQUIRE(tx);
  const bool loaded =
      tax::load_rules(*tx, {{"life.rules", "fact partner | Partner\n  = none @50 | together @50\n  absent draw\n"}}, d);
  INFO(dump(d));
  REQUIRE(loaded);
  auto t = std::make_shared<const tax::Taxonomy>(std::move(*tx));
  auto m = make_model(base_recipe(2, 2), nullptr, t);
  const auto partner = m->model().rules().fact_index("partner");
  REQUIRE(partner.has_value());
  std::size_t with = 0, without = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const auto p = build(*m, 3, i);
    const bool together = p.coherence.label(*partner) == "together";
    bool chosen = false;
    for (const auto& s : p.attributes) chosen = chosen || m->model().leaf(s.leaf).name == "Partner Name Style";
    CHECK(chosen == together);
    (together ? with : without) += 1;
  }
  CHECK(with > 50);
  CHECK(without > 50);
}

TEST_CASE("leaves without options get lexicon values chosen by their words", "[engine][offline]") {
  auto t = make_taxonomy(kLifeTax);
  auto r = base_recipe(6, 6);
  auto m = make_model(r, nullptr, t);
  const std::set<std::string> freq = {"never",
                                      "rarely",
                                      "a few times a year",
                                      "about once a month",
                                      "a few times a month",
                                      "weekly",
                                      "several times a week",
                                      "daily"};
  const std::set<std::string> level = {"very low", "low", "moderate", "fairly high", "high", "very high"};
  const std::set<std::string> yesno = {"yes", "no", "partly", "used to", "not yet, but plans to"};
  for (std::uint64_t i = 0; i < 30; ++i) {
    const auto p = build(*m, 1, i);
    for (const auto& s : p.attributes) {
      const auto& name = m->model().leaf(s.leaf).name;
      if (name == "Visiting Frequency") CHECK(freq.count(s.value) == 1);
      if (name == "Life Satisfaction Level") CHECK(level.count(s.value) == 1);
      if (name == "Whether Owns a Bicycle") CHECK(yesno.count(s.value) == 1);
      if (m->model().leaf(s.leaf).options.empty())
        CHECK(s.source == engine::Source::lexicon);
      else
        CHECK(s.source == engine::Source::options);
    }
  }
}

TEST_CASE("story steps are shaped as declared and the narrative fits the word range", "[engine][offline]") {
  auto t = make_taxonomy(generated_tax(3, 3, 10));
  auto r = base_recipe(30, 30);
  r.anchors.push_back(fixed_anchor("age", 44.0));
  r.anchors.push_back(fixed_anchor("city", std::string("Lima")));
  r.story.push_back(story("values", "core values", lang::StoryShape::Kind::list, 3, 5, {"age"}));
  r.story.push_back(story("attitude", "life attitude", lang::StoryShape::Kind::text, 1, 1, {"values"}));
  r.story.push_back(story("vignettes", "life-story vignettes", lang::StoryShape::Kind::list, 1, 3, {"values"}));
  auto obj = story("profile", "a profile", lang::StoryShape::Kind::object);
  obj.shape.fields = {{"motto", "text"}, {"hobbies", "list"}, {"energy", "number"}};
  r.story.push_back(obj);
  r.narrative.min_words = 150;
  r.narrative.max_words = 400;
  auto m = make_model(r, nullptr, t);
  std::set<std::string> narratives, value_sets;
  for (std::uint64_t i = 0; i < 40; ++i) {
    const auto p = build(*m, 3, i);
    REQUIRE(p.core.size() == 4);
    CHECK(p.core[0].items.size() >= 3);
    CHECK(p.core[0].items.size() <= 5);
    CHECK(std::set<std::string>(p.core[0].items.begin(), p.core[0].items.end()).size() == p.core[0].items.size());
    CHECK_FALSE(p.core[1].text.empty());
    CHECK(p.core[2].items.size() >= 1);
    CHECK(p.core[2].items.size() <= 3);
    for (const auto& v : p.core[2].items) CHECK(v.find("Lima") != std::string::npos);
    REQUIRE(p.core[3].fields.size() == 3);
    CHECK_FALSE(p.core[3].fields[0].text.empty());
    CHECK(p.core[3].fields[1].items.size() >= 2);
    CHECK(p.core[3].fields[2].number >= 1);
    std::size_t words = 0;
    bool in = false;
    for (char c : p.narrative) {
      const bool sp = c == ' ';
      if (!sp && !in) ++words;
      in = !sp;
    }
    CHECK(words >= 150);
    CHECK(words <= 400);
    CHECK(p.narrative.find("44 years old") != std::string::npos);
    narratives.insert(p.narrative);
    std::string vs;
    for (const auto& v : p.core[0].items) vs += v + ";";
    value_sets.insert(vs);
    const std::string line = line_of(*m, p);
    CHECK(line.find("\"profile\":{\"motto\":") != std::string::npos);
  }
  CHECK(narratives.size() == 40);
  CHECK(value_sets.size() > 30);
}

TEST_CASE("values vary between personas and are reproducible", "[engine][offline]") {
  auto t = make_taxonomy(generated_tax(3, 3, 10));
  auto r = base_recipe(90, 90);  // every leaf, so personas differ only by their values
  auto m = make_model(r, nullptr, t);
  const auto a = build(*m, 1, 0), b = build(*m, 1, 1), a2 = build(*m, 1, 0);
  int differ = 0;
  for (std::size_t k = 0; k < a.attributes.size(); ++k) differ += a.attributes[k].value != b.attributes[k].value;
  CHECK(differ > 20);
  CHECK(line_of(*m, a) == line_of(*m, a2));
}
