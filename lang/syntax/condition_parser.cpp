// cond::parse: a condition on its own (taxonomy applicability rules, the REPL), through the same
// grammar rules and actions as a recipe's `when` clauses.
#include "cond/condition.hpp"
#include "syntax/actions.hpp"

namespace persona::cond {

std::optional<Condition> parse(std::string_view text, const SourceRange& origin, DiagnosticSink& sink) {
  using namespace persona::lang::parsing;
  State st;
  st.file = origin.file;
  st.text = text;
  DiagnosticList local;
  st.sink = &local;
  const std::size_t line = origin.line == 0 ? 1 : origin.line;
  const std::size_t column = origin.column == 0 ? 1 : origin.column;
  tao::pegtl::memory_input<> in(text.data(), text.data() + text.size(), origin.file, 0, line, column);
  try {
    tao::pegtl::parse<persona::lang::grammar::condition_only, action, control>(in, st);
  } catch (const tao::pegtl::parse_error& e) {
    const auto& p = e.positions().front();
    sink.error(SourceRange{origin.file, static_cast<std::uint32_t>(p.line), static_cast<std::uint32_t>(p.column),
                           st.error_length != 0 ? st.error_length : token_length(text, p.byte)},
               "syntax", std::string(e.message()));
    return std::nullopt;
  }
  if (st.items.empty()) return std::nullopt;
  auto* c = std::get_if<Condition>(&st.items.back());
  if (c == nullptr) return std::nullopt;
  return std::move(*c);
}

}  // namespace persona::cond
