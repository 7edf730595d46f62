// Formatting: ast::Recipe -> canonical recipe text. Comments are kept (own-line comments before
// the statement that follows them, trailing comments after the statement they trail); the output
// parses to the same recipe and formatting it again changes nothing.
#pragma once

#include <string>

#include "syntax/ast.hpp"

namespace persona::lang {

std::string format_recipe(const ast::Recipe& recipe);

// Canonical spellings shared with the REPL's :show.
std::string quote(const std::string& s);
std::string format_distribution(const ast::Distribution& d);

}  // namespace persona::lang
