#include "fake_environment.hpp"

#include <filesystem>
#include <map>

namespace persona::test {

namespace {
const std::map<std::string, lang::TableInfo, std::less<>>& tables() {
  using lang::ValueType;
  static const std::map<std::string, lang::TableInfo, std::less<>> t = {
      {"stdlib.countries", {ValueType::text, {}, {}}},
      {"stdlib.age_structure", {ValueType::number, {"country"}, {}}},
      {"stdlib.sex_ratio", {ValueType::text, {"country"}, {}}},
      {"stdlib.occupations", {ValueType::text, {"age"}, {"employment"}}},
      {"stdlib.cities", {ValueType::text, {"country"}, {}}},
      {"stdlib.given_names", {ValueType::text, {"country", "gender"}, {}}},
  };
  return t;
}
}  // namespace

std::optional<lang::TableInfo> FakeEnvironment::table(std::string_view name) const {
  auto it = tables().find(name);
  if (it == tables().end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> FakeEnvironment::table_names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : tables()) out.push_back(k);
  return out;
}

std::optional<lang::TableInfo> FakeEnvironment::user_table(const std::string& path, const SourceRange& where,
                                                           DiagnosticSink& sink) const {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    sink.error(where, "table-not-found",
               "table file '" + std::filesystem::path(path).filename().string() + "' not found");
    return std::nullopt;
  }
  return lang::TableInfo{lang::ValueType::text, {"country"}, {}};
}

}  // namespace persona::test
