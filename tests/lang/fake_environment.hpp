// A fixed Environment for language tests: small stand-ins for the stdlib tables (with keys, labels
// and a derivation) and, when asked for, a six-leaf taxonomy whose conditions read `age` and
// `employment`, without loading either.
#pragma once

#include "check/checker.hpp"

namespace persona::test {

class FakeEnvironment final : public lang::Environment {
 public:
  explicit FakeEnvironment(bool with_taxonomy = false) : with_taxonomy_(with_taxonomy) {}
  [[nodiscard]] std::optional<lang::TableInfo> table(std::string_view name) const override;
  [[nodiscard]] std::vector<std::string> table_names() const override;
  [[nodiscard]] std::optional<lang::TableInfo> user_table(const std::string& path, const SourceRange& where,
                                                          DiagnosticSink& sink) const override;
  [[nodiscard]] std::vector<std::string> taxonomy_names() const override { return {"stdlib.core"}; }
  [[nodiscard]] std::shared_ptr<const lang::TaxonomyInfo> taxonomy(const std::string& taxonomy, bool is_file,
                                                                   DiagnosticSink& sink) const override;
  [[nodiscard]] std::optional<std::vector<std::uint32_t>> glob_matches(const std::string& taxonomy, bool is_file,
                                                                       std::string_view glob) const override;

 private:
  bool with_taxonomy_ = false;
};

// The fake taxonomy's leaf paths, in order (glob_matches answers indices into this list).
const std::vector<std::string>& fake_leaves();

}  // namespace persona::test
