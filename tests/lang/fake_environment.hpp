// A fixed Environment for language tests: the stdlib tables' shapes without loading them.
#pragma once

#include "check/checker.hpp"

namespace persona::test {

class FakeEnvironment final : public lang::Environment {
 public:
  [[nodiscard]] std::optional<lang::TableInfo> table(std::string_view name) const override;
  [[nodiscard]] std::vector<std::string> table_names() const override;
  [[nodiscard]] std::optional<lang::TableInfo> user_table(const std::string& path, const SourceRange& where,
                                                          DiagnosticSink& sink) const override;
  [[nodiscard]] std::vector<std::string> taxonomy_names() const override { return {"stdlib.core"}; }
};

}  // namespace persona::test
