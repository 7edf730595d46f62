// `persona report`: the figures of `persona eval` as one self-contained HTML page (inline CSS and
// SVG, no script, no external resource), one column per file so runs compare side by side.
//
//   std::vector<report::Input> in = {{rep, manifest_text}};
//   std::string html = report::render_html(in, "Persona report");
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eval/eval.hpp"

namespace persona::report {

struct Input {
  eval::FileReport report;
  std::optional<std::string> manifest;  // the text of FILE.manifest.json, when there is one
  std::string manifest_path;
};

// The page. `generator` names the tool in the footer ("persona 0.1.0").
std::string render_html(const std::vector<Input>& inputs, const std::string& title, const std::string& generator);

// The manifest facts the page shows (recipe, version, hashes, seed, backend, model, cost, ...), as
// label/value rows; a manifest that is not JSON gives one row saying so.
std::vector<std::pair<std::string, std::string>> manifest_rows(const std::string& manifest_text);

}  // namespace persona::report
