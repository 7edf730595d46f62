// Parsing: recipe text -> ast::Recipe. Reports every syntax error it can find (it resumes at the
// next top-level statement after an error) to the sink; never prints, never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "diag/diagnostic.hpp"
#include "syntax/ast.hpp"

namespace persona::lang {

struct ParseResult {
  std::optional<ast::Recipe> recipe;  // set when there was no error
  bool incomplete = false;            // the first error is at the end of the input (REPL: read more)
};

ParseResult parse_recipe(std::string_view text, const std::string& file, DiagnosticSink& sink);

}  // namespace persona::lang
