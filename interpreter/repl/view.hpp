// Internal to the REPL: readable views of persona records, built from record::PersonaRecord only
// (what a run writes), so they show the same thing for offline and LLM personas.
//
//   view::summary_line(r, 0, 80)      one line per persona of a :sample
//   view::persona(r, 0, 3, 80, "")    :show persona 0, every line at most 80 columns
//   view::tally(...)                  :values PATH
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "record/record.hpp"

namespace persona::repl::view {

// "  0  Indonesia, male, 29, ...   247 attributes": the index, the anchors and the attribute count,
// cut to `width` columns.
std::string summary_line(const record::PersonaRecord& r, std::uint64_t index, std::size_t width);

// One persona: id and seed, anchors, core (story outputs), attributes grouped by top-level category
// with a tier mark (n near, m mid, f far) and a source mark (o options, x lexicon, L llm, t table),
// the narrative wrapped to `width`, and problems. With a non-empty `filter`, only the attributes
// whose path contains it (case-insensitive) are listed. No line is wider than `width` columns.
std::string persona(const record::PersonaRecord& r, std::uint64_t index, std::uint64_t of, std::size_t width,
                    std::string_view filter);

// The values of one attribute across personas, with counts: `title` first, then one line per value
// (most frequent first), "(status)" for attributes chosen but not filled, and how many personas
// did not get the attribute.
std::string attribute_values(const std::vector<record::PersonaRecord>& rs, const std::string& path, std::size_t width);
// The values of an anchor or a core field across personas (list items counted one by one); numbers
// also get min, median, mean and max.
std::string field_values(const std::vector<record::PersonaRecord>& rs, const std::string& name, bool core,
                         std::size_t width);
// The attributes whose path satisfies `keep`, with the number of personas that got each.
std::string attributes_chosen(const std::vector<record::PersonaRecord>& rs, const std::string& title,
                              const std::function<bool(std::string_view)>& keep, std::size_t width);

}  // namespace persona::repl::view
