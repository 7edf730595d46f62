// The LLM provider of a command that names one with --llm / --config / --model (persona survey,
// persona taxonomy mine). Defined in cmd_survey.cpp.
#pragma once

#include <optional>
#include <string>

#include "diag/diagnostic.hpp"
#include "llm/providers.hpp"

namespace persona::cli {

// persona.toml (--config, else ./persona.toml, else the built-in providers) -> the provider named by
// --llm (default: the file's default) with --model applied; errors name the file or --llm.
std::optional<llm::Provider> resolve_cli_provider(const std::string& config_file, const std::string& llm_name,
                                                  const std::string& model, DiagnosticList& diags);

}  // namespace persona::cli
