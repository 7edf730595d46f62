#include "diag/diagnostic.hpp"

#include <algorithm>
#include <numeric>

#include "diag/source.hpp"

namespace persona {

void DiagnosticSink::error(SourceRange where, std::string code, std::string message, std::vector<std::string> notes) {
  report(Diagnostic{Severity::error, std::move(where), std::move(message), std::move(code), std::move(notes), {}});
}

void DiagnosticSink::warning(SourceRange where, std::string code, std::string message, std::vector<std::string> notes) {
  report(Diagnostic{Severity::warning, std::move(where), std::move(message), std::move(code), std::move(notes), {}});
}

std::string to_string(const SourceRange& where) {
  std::string out = where.file.empty() ? std::string("<input>") : where.file;
  if (where.line > 0)
    out += ':' + std::to_string(where.line) + ':' + std::to_string(where.column == 0 ? 1 : where.column);
  return out;
}

void DiagnosticList::report(Diagnostic d) {
  if (d.severity == Severity::error) ++errors_;
  items_.push_back(std::move(d));
}

void DiagnosticList::sort_by_location() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.where.file != b.where.file) return a.where.file < b.where.file;
    if (a.where.line != b.where.line) return a.where.line < b.where.line;
    return a.where.column < b.where.column;
  });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = a[i - 1] == b[j - 1];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    if (c == word) continue;
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

// ---- SourceFiles ----

const std::string& SourceFiles::add(const std::string& name, std::string text) {
  auto& slot = texts_[name];
  slot = std::make_unique<std::string>(std::move(text));
  return *slot;
}

const std::string* SourceFiles::text(const std::string& name) const {
  auto it = texts_.find(name);
  return it == texts_.end() ? nullptr : it->second.get();
}

std::string_view SourceFiles::line(const std::string& name, std::uint32_t line) const {
  const std::string* t = text(name);
  if (t == nullptr || line == 0) return {};
  std::size_t start = 0;
  for (std::uint32_t l = 1; l < line; ++l) {
    start = t->find('\n', start);
    if (start == std::string::npos) return {};
    ++start;
  }
  std::size_t end = t->find('\n', start);
  if (end == std::string::npos) end = t->size();
  std::string_view v(t->data() + start, end - start);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return v;
}

}  // namespace persona
