// Named warnings: every warning the checker (or a table it reads) can report, with one line saying
// what it means, and the policy that silences warnings or turns them into errors. `persona check
// --list-warnings` prints the list; `--no-warn NAME` and a recipe comment `# persona: allow NAME`
// silence one; `--Werror` makes every reported warning an error.
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "diag/diagnostic.hpp"
#include "syntax/ast.hpp"

namespace persona::lang {

struct WarningInfo {
  std::string_view name;
  std::string_view summary;
};

// Every named warning, sorted by name.
std::span<const WarningInfo> warnings();
bool is_warning_name(std::string_view name);
std::vector<std::string> warning_names();

// The warning names a file allows through `# persona: allow NAME[, NAME...]` comments. Unknown names
// are reported to the sink (warning `unknown-warning`, with a suggestion) at the comment.
std::set<std::string> allowed_in(const ast::Recipe& recipe, const std::string& file, DiagnosticSink& sink);

// Applies the policy to `in` and reports the result to `out`: a warning is dropped when its name
// is in `no_warn` or allowed in its own file (`allowed`, by file name); otherwise, with
// `as_errors`, it becomes an error. Returns the number of errors reported.
std::size_t apply_warning_policy(const DiagnosticList& in, const std::vector<std::string>& no_warn,
                                 const std::map<std::string, std::set<std::string>>& allowed, bool as_errors,
                                 DiagnosticSink& out);

}  // namespace persona::lang
