// Diagnostics: every stage (parser, checker, taxonomy and table loaders, engine) reports problems
// to a DiagnosticSink and never prints. The CLI and the REPL render them with render().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace persona {

// A place in a source file. Lines and columns are 1-based; length is the number of bytes of the
// offending token (0 when only a point is known). line == 0 means "the whole file".
struct SourceRange {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::uint32_t length = 0;
};

enum class Severity { error, warning, note };

// A second place a diagnostic points at ("first defined here", "shadowed by this filter").
struct Related {
  SourceRange where;
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::error;
  SourceRange where;
  std::string message;
  std::string code;                // stable name, e.g. "undefined-name", "import-cycle"
  std::vector<std::string> notes;  // extra lines: "did you mean ...", a cycle path, ...
  std::vector<Related> related;    // other positions, rendered as notes with their own source line
};

class DiagnosticSink {
 public:
  virtual ~DiagnosticSink() = default;
  virtual void report(Diagnostic d) = 0;

  void error(SourceRange where, std::string code, std::string message, std::vector<std::string> notes = {});
  void warning(SourceRange where, std::string code, std::string message, std::vector<std::string> notes = {});
};

// Renders "FILE:LINE:COL" ("FILE" alone when line is 0; "<input>" for an empty file name).
std::string to_string(const SourceRange& where);

// Collects diagnostics in memory; the usual sink.
class DiagnosticList final : public DiagnosticSink {
 public:
  void report(Diagnostic d) override;
  [[nodiscard]] const std::vector<Diagnostic>& all() const { return items_; }
  [[nodiscard]] std::size_t error_count() const { return errors_; }
  [[nodiscard]] std::size_t warning_count() const { return items_.size() - errors_; }
  [[nodiscard]] bool has_errors() const { return errors_ > 0; }
  // Stable sort by file, line, column (report order kept for ties).
  void sort_by_location();
  void clear() {
    items_.clear();
    errors_ = 0;
  }

 private:
  std::vector<Diagnostic> items_;
  std::size_t errors_ = 0;
};

// Returns the "did you mean" candidate closest to `word` among `candidates` (edit distance at most
// max(2, size/3)), or an empty string.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace persona
