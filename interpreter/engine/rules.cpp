// The keyword consistency rules (see rules.hpp and interpreter/engine/README.md).
#include "engine/rules.hpp"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "base/text.hpp"

namespace persona::engine {

namespace {

// ---------------------------------------------------------------------------------------------
// Consistency rules: an option that mentions one of the phrases is dropped when the predicate on
// the facts says the persona cannot have it. A phrase starting with '=' must equal the whole
// option; others match whole words anywhere (case-insensitive). A fact the persona does not have
// never forbids anything.

struct FactView {
  std::optional<double> age;
  std::string_view employment, gender;
};

FactView view(const cond::Facts& f) {
  FactView v;
  if (auto it = f.find("age"); it != f.end()) {
    if (const double* d = std::get_if<double>(&it->second)) v.age = *d;
    else if (const auto* s = std::get_if<std::string>(&it->second)) {
      char* end = nullptr;
      const double x = std::strtod(s->c_str(), &end);
      if (end != s->c_str()) v.age = x;
    }
  }
  if (auto it = f.find("employment"); it != f.end())
    if (const auto* s = std::get_if<std::string>(&it->second)) v.employment = *s;
  if (auto it = f.find("gender"); it != f.end())
    if (const auto* s = std::get_if<std::string>(&it->second)) v.gender = *s;
  if (v.gender.empty())
    if (auto it = f.find("sex"); it != f.end())
      if (const auto* s = std::get_if<std::string>(&it->second)) v.gender = *s;
  return v;
}

struct Rule {
  const char* name;
  std::vector<std::string_view> phrases;
  bool gender_scoped;  // only in leaves whose path mentions gender or sex
  bool (*forbidden)(const FactView&);
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> r = {
      {"retirement",
       {"retire", "retired", "retiree", "retirees", "retirement", "retiring", "pension", "pensions", "pensioner", "pensioners"},
       false,
       [](const FactView& f) {
         if (f.employment.empty() && !f.age) return false;
         return f.employment != "retired" && !(f.age && *f.age >= 60);
       }},
      {"student",
       {"student", "students", "classmates", "classmate", "homework", "schoolwork", "in school", "at school",
        "currently studying", "still studying", "starting school", "school friends"},
       false,
       [](const FactView& f) {
         if (f.employment.empty() && !f.age) return false;
         return f.employment != "student" && !(f.age && *f.age < 25);
       }},
      {"grandchildren",
       {"grandchildren", "grandchild", "grandkids", "grandparenting", "adult children", "children leaving home",
        "empty nest", "great-grandchildren"},
       false, [](const FactView& f) { return f.age && *f.age < 35; }},
      {"parenthood",
       {"my children", "their children", "own children", "becoming a parent", "raising children", "parenting"},
       false, [](const FactView& f) { return f.age && *f.age < 16; }},
      {"work",
       {"employed", "workplace", "workplaces", "colleague", "colleagues", "coworker", "coworkers", "co-worker",
        "co-workers", "employer", "my boss", "at work", "office job", "full-time job", "on the job", "salary",
        "wage job", "work team"},
       false,
       [](const FactView& f) {
         return f.employment == "unemployed" || f.employment == "student" || f.employment == "retired";
       }},
      {"unemployed",
       {"unemployed", "job seeker", "job seeking", "looking for work", "between jobs", "job hunting", "jobless"},
       false, [](const FactView& f) { return !f.employment.empty() && f.employment != "unemployed"; }},
      {"adult",
       {"married", "spouse", "husband", "wife", "mortgage", "divorced", "widowed", "widow", "widower"},
       false, [](const FactView& f) { return f.age && *f.age < 16; }},
      {"female", {"woman", "women", "girl", "girls", "female"}, true,
       [](const FactView& f) { return f.gender == "male"; }},
      {"male", {"man", "men", "boy", "boys", "male"}, true, [](const FactView& f) { return f.gender == "female"; }},
      {"childhood",
       {"=childhood", "=adolescence", "=infancy", "=early childhood", "=teenager", "=child", "=starting school",
        "=generation alpha"},
       false, [](const FactView& f) { return f.age && *f.age >= 18; }},
      {"old-age",
       {"=late old age", "=oldest old", "=silent generation", "=baby boomer"},
       false, [](const FactView& f) { return f.age && *f.age < 55; }},
  };
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Rule API

RuleMask option_rules(std::string_view option_text, std::string_view leaf_path) {
  const std::string t = text::lower(option_text);
  const std::string path = text::lower(leaf_path);
  const bool gendered = text::contains_word(path, "gender") || text::contains_word(path, "sex");
  const bool exempt_gender = t.find("trans") != std::string::npos || t.find("non-binary") != std::string::npos ||
                             t.find("intersex") != std::string::npos;
  RuleMask m = 0;
  const auto& rs = rules();
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (rs[i].gender_scoped && (!gendered || exempt_gender)) continue;
    for (auto ph : rs[i].phrases) {
      const bool hit = ph.starts_with('=') ? t == ph.substr(1) : text::contains_word(t, ph);
      if (hit) {
        m |= RuleMask{1} << i;
        break;
      }
    }
  }
  return m;
}

RuleMask forbidden_rules(const cond::Facts& facts) {
  const FactView f = view(facts);
  RuleMask m = 0;
  const auto& rs = rules();
  for (std::size_t i = 0; i < rs.size(); ++i)
    if (rs[i].forbidden(f)) m |= RuleMask{1} << i;
  return m;
}

std::vector<std::string_view> rule_names(RuleMask m) {
  std::vector<std::string_view> out;
  const auto& rs = rules();
  for (std::size_t i = 0; i < rs.size(); ++i)
    if (m & (RuleMask{1} << i)) out.emplace_back(rs[i].name);
  return out;
}

}  // namespace persona::engine
