// Internal to the REPL: the text of :tax and :why, built from the public taxonomy and engine APIs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/program.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::repl {

// The answer of a query: text for the output stream, or an error with notes ("did you mean").
struct Answer {
  std::string text;
  std::string error;
  std::vector<std::string> notes;
  [[nodiscard]] bool ok() const { return error.empty(); }
};

// A node by exact path, a glob that matches one node, a case-insensitive path, or the name of a
// single node ("Chronotype").
std::optional<tax::Vertex> resolve_path(const tax::Taxonomy& t, std::string_view path);
// The error for a path that names no node, with "did you mean" notes.
Answer not_found(const tax::Taxonomy& t, const std::string& path);

Answer tax_ls(const tax::Taxonomy& t, const std::string& path);    // children (roots when path is empty)
Answer tax_show(const tax::Taxonomy& t, const std::string& path);  // one node in detail
Answer tax_find(const tax::Taxonomy& t, const std::string& text);  // substring or glob over paths

// Why the attribute `path` was (or would be) chosen for persona `index` of a run with `seed`.
Answer why(const engine::Program& prog, std::uint64_t seed, const std::string& path, std::uint64_t index = 0);

// Taxonomy path completion: the paths that extend `prefix` by one segment ("A/B" -> "A/Bx", "A/By/").
std::vector<std::string> complete_path(const tax::Taxonomy& t, std::string_view prefix);

}  // namespace persona::repl
