// Internal: builds a Table's lookup tree and distributions while a TOML or CSV file is parsed, and
// validates what the parsers cannot (range keys, negative and all-zero weights).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tables.hpp"

namespace persona::tables {

// A SourceRange at a 1-based line/column of `file` (line 0 = whole file).
SourceRange at(const std::string& file, std::uint32_t line, std::uint32_t column = 0, std::uint32_t length = 0);

// Parses a finite decimal number (the whole string); nullopt otherwise.
std::optional<double> parse_number(std::string_view s);

struct Builder {
  Builder(Table& table, DiagnosticSink& sink) : t(table), diags(sink) {}

  // The root node (created on first use); only meaningful when by is non-empty.
  std::size_t root();
  // The child of `node` at `level` under `key`, created when missing: a node index when `level` is
  // not the last `by` level, else a dist index. nullopt (after an error) for a bad range key.
  std::optional<std::size_t> child(std::size_t node, std::size_t level, const std::string& key,
                                   const SourceRange& where);
  // The only distribution of a table without `by` (created on first use).
  std::size_t single_dist(const SourceRange& where);
  // Adds (or, for a repeated label, accumulates) a weight. `where` is the weight's place (for weight
  // errors), `label_where` the label's (for bad range keys or numbers). false after an error.
  bool add_weight(std::size_t dist, const std::string& label, double weight, const SourceRange& where,
                  const SourceRange& label_where);
  // Parses labels for the table's kind, checks weights, computes probabilities. false on error.
  bool finish();
  // The label -> value map of `[derive.FACT]`.
  std::map<std::string, std::string, std::less<>>& derive_map(const std::string& fact) { return t.derive_[fact]; }

  Table& t;
  DiagnosticSink& diags;
  bool failed = false;

 private:
  std::size_t new_dist(const SourceRange& where);
  // unit = share / percent: the weights of dist `di` must sum to 1 / 100 within the tolerance.
  void check_sum(std::size_t di, double total);
  std::vector<SourceRange> dist_where_;
  std::vector<std::vector<SourceRange>> label_where_;
  // Per distribution: label -> position, so a table of N rows builds in O(N).
  std::vector<std::unordered_map<std::string, std::size_t>> label_index_;
};

}  // namespace persona::tables
