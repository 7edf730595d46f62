// Internals shared by the taxonomy sources (not installed, not for other components).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "taxonomy.hpp"

namespace persona::tax::detail {

// The TF-IDF model: vocabulary, per-node vectors and an inverted index in CSR form.
class TfIdfModel {
 public:
  explicit TfIdfModel(const Taxonomy& t);

  [[nodiscard]] SparseVector query(std::span<const std::string_view> texts) const;
  void score_all(const SparseVector& q, std::vector<float>& out) const;
  [[nodiscard]] std::vector<std::vector<Vertex>> similar_nodes(float min_score) const;
  [[nodiscard]] const SparseVector& vec(Vertex v) const { return vecs_[v]; }
  [[nodiscard]] std::size_t vocabulary_size() const { return idf_.size(); }
  [[nodiscard]] std::size_t memory_bytes() const;

 private:
  std::unordered_map<std::string, std::uint32_t> vocab_;
  std::vector<float> idf_;
  std::vector<SparseVector> vecs_;
  std::vector<std::uint32_t> offsets_;  // term -> [offsets_[t], offsets_[t+1]) in post_*
  std::vector<std::uint32_t> post_v_;
  std::vector<float> post_w_;
};

// Deepest node a taxonomy file may hold (top-level categories are level 1). Real taxonomies are
// 4-7 levels deep; the limit keeps recursive walks over the tree far from the stack's end.
inline constexpr int kMaxTaxonomyDepth = 64;

// A parsed node before it becomes a graph vertex.
struct RawNode {
  std::string name;
  std::string description;
  std::vector<ValueOption> values;
  std::vector<NodeCondition> conditions;
  std::vector<Weighting> weightings;
  std::uint64_t support = 0;
  SourceRange where;
  std::vector<RawNode> kids;
};

// Builds the graph (preorder vertex numbering) from a forest.
Graph build_graph(std::vector<RawNode>& forest);
std::size_t count_nodes(const std::vector<RawNode>& forest);

// Parses reference JSON into a forest. Errors (syntax, wrong types, empty or binary input) go to
// the sink; sanitised names are listed in `renamed` (and warned about when warn_renames);
// duplicate siblings are warned about when warn_duplicates. nullopt on error.
std::optional<std::vector<RawNode>> parse_json_forest(std::string_view text, const std::string& file,
                                                      DiagnosticSink& sink, std::vector<std::string>& renamed,
                                                      bool warn_renames, bool warn_duplicates);

// Checks that the text is a plausible text file (no NUL, valid UTF-8). Reports and returns false.
bool check_text(std::string_view text, const std::string& file, DiagnosticSink& sink);

std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, std::string_view sep);
std::string format_weight(double w);

// Forwards everything and counts errors.
class CountingSink final : public DiagnosticSink {
 public:
  explicit CountingSink(DiagnosticSink& inner) : inner_(inner) {}
  void report(Diagnostic d) override {
    if (d.severity == Severity::error) ++errors;
    inner_.report(std::move(d));
  }
  std::size_t errors = 0;

 private:
  DiagnosticSink& inner_;
};

// Reads a whole file; reports "file-not-found"/"read-failed" naming it.
std::optional<std::string> read_file(const std::filesystem::path& path, DiagnosticSink& sink);

}  // namespace persona::tax::detail
