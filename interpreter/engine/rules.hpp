// Consistency rules between value options and a persona's facts (the keyword rule table): an option
// that mentions one of a rule's phrases is dropped when the facts forbid the rule. Used by the
// selection (leaves whose every option is forbidden), the offline draw and the check of LLM answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cond/condition.hpp"

namespace persona::engine {

using RuleMask = std::uint32_t;
// The rules a value text triggers (keyword match on whole words/phrases, case-insensitive).
RuleMask option_rules(std::string_view option_text, std::string_view leaf_path);
// The rules the facts forbid.
RuleMask forbidden_rules(const cond::Facts& facts);
// Names of the rules set in a mask ("retirement", "student", ...), for diagnostics and docs.
std::vector<std::string_view> rule_names(RuleMask m);

}  // namespace persona::engine
