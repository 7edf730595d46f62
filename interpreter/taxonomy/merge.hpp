// Merging attribute hierarchies: the one canonicalisation of `persona taxonomy merge` and of the
// merge step of `persona taxonomy mine` (docs/mining.md).
//
//   Forest f = Forest::from(stdlib, /*fixed=*/true);      // curated nodes are never merged together
//   f.graft(Forest::from(other, false));                   // the other taxonomy's roots, as candidates
//   MergeReport report;
//   f.merge_all({.threshold = 0.8}, report);                // level by level, top first
//   auto t = f.to_taxonomy(sink);
//
// Siblings are clustered by name similarity (or a caller's score, e.g. embeddings), strongest pairs
// first, with complete linkage: two clusters join only when every pair across them reaches the
// threshold, and two fixed nodes never end in one cluster. A
// cluster keeps its fixed member's name, else its most frequent form (then the shortest, then the
// first in byte order); the members' children, values, descriptions and supports are pooled, and the
// children are clustered in turn. Nothing here prints or throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "taxonomy.hpp"

namespace persona::tax {

// Whether two single words mean the same (e.g. WordNet synonyms, mine::wordnet_oracle); may be empty.
using WordOracle = std::function<bool(const std::string&, const std::string&)>;

// 0..1: how surely two sibling names mean one attribute (stdlib/taxonomy/naming.toml's word lists).
// Words match when their stems agree (case, spelling, plural, derivation: "Vegetarianism" and
// "Vegetarian") or the oracle says they are synonyms. 1: every word matches (word order free, one
// word or two: "Videogames"); 0.95: the same once generic head nouns ("known", "level", "habit") are
// dropped; 0.9: one is the other plus a conjunction ("Hobbies" and "Hobbies and Interests"); else the
// Jaccard index of the matched words.
double name_similarity(std::string_view a, std::string_view b, const WordOracle& same = {});
// The stems name_similarity compares (sorted, without stop words), for reports and tests.
std::vector<std::string> name_stems(std::string_view name);

struct MergeDecision {
  std::string parent;  // path of the parent in the output ("" at the top)
  std::string kept;    // the cluster's name
  std::string merged;  // a name merged into it
  double score = 0;    // the similarity of the merged name to the kept one
};

struct MergeReport {
  std::vector<MergeDecision> merges;
  std::vector<std::string> added;   // paths of nodes that came from a candidate and matched nothing fixed
  std::vector<std::string> moved;   // "old path -> new path" (link corrections)
  std::vector<std::string> folded;  // paths of nodes folded into a parent of the same name
  std::size_t input_nodes = 0, output_nodes = 0;
  [[nodiscard]] std::string to_text() const;
  [[nodiscard]] nlohmann::ordered_json to_json() const;
};

struct MergeOptions {
  double threshold = 0.8;  // name_similarity at or above which siblings merge
  // Another score for two sibling names under `parent_path` (e.g. embeddings); nullptr: name_similarity.
  std::function<double(const std::string& parent_path, const std::string& a, const std::string& b)> score;
  WordOracle same_word;  // synonyms for name_similarity (empty: stems only)
};

// A mutable forest of attribute nodes with support and provenance, built from taxonomies or from
// mined candidate paths.
struct ForestNode {
  Node node;                                          // name, description, values, conditions, weightings
  bool fixed = false;                                 // curated: never merged with another fixed node
  std::map<std::string, std::uint64_t> forms;         // surface names seen -> how often
  std::map<std::string, std::uint64_t> descriptions;  // candidate descriptions -> how often
  std::map<std::string, std::uint64_t> values;        // candidate values -> how often (leaves become options)
  std::vector<std::uint32_t> sources;                 // evidence ids (sorted, unique) of this node itself
  std::uint64_t support = 0;                          // from a loaded `+ support` line (kept when no sources)
  std::vector<std::size_t> children;
  bool dead = false;  // merged into another node
};

class Forest {
 public:
  static Forest from(const Taxonomy& t, bool fixed);
  // Adds a candidate path (names from the top), with the evidence id and an optional value and
  // description of the leaf; equal names (merge_key) at each level share a node.
  void add_path(const std::vector<std::string>& path, std::uint32_t source, const std::string& value = {},
                const std::string& description = {});
  // Adds another forest's roots (and their subtrees) as roots of this one.
  void graft(const Forest& other);

  // Clusters the roots only (no recursion); returns the surviving roots.
  std::vector<std::size_t> merge_roots(const MergeOptions& o, MergeReport& r);
  // Clusters the children of every level, from the roots down.
  void merge_all(const MergeOptions& o, MergeReport& r);
  // Renames root `v` to `name` and merges it into a root of that name (made fixed when `fixed`).
  void map_root(std::size_t v, const std::string& name, bool fixed, MergeReport& r);
  // Moves node `v` (with its subtree) under `new_parent`; merges into a same-named child there.
  void move(std::size_t v, std::size_t new_parent, const MergeOptions& o, MergeReport& r);
  // Children whose name equals their parent's (merge_key) are folded into the parent.
  void fold_echoes(MergeReport& r);

  [[nodiscard]] const std::vector<std::size_t>& roots() const { return roots_; }
  [[nodiscard]] const ForestNode& operator[](std::size_t v) const { return nodes_[v]; }
  [[nodiscard]] std::string name(std::size_t v) const;  // the canonical name
  [[nodiscard]] std::string path(std::size_t v) const;
  [[nodiscard]] std::optional<std::size_t> parent(std::size_t v) const;
  [[nodiscard]] std::size_t live_size() const;
  // The evidence ids of v's subtree (sorted, unique).
  [[nodiscard]] std::vector<std::uint32_t> subtree_sources(std::size_t v) const;
  // Preorder over live nodes.
  [[nodiscard]] std::vector<std::size_t> preorder() const;

  // A taxonomy of the live nodes: canonical names (sanitised), the most frequent description,
  // candidate values as weighted options on leaves, support = subtree sources (or the loaded count).
  std::optional<Taxonomy> to_taxonomy(DiagnosticSink& sink, const BuildOptions& opts = {}) const;

 private:
  std::size_t add(ForestNode n);
  void absorb(std::size_t into, std::size_t from);
  void merge_children(std::vector<std::size_t>& kids, const std::string& parent_path, const MergeOptions& o,
                      MergeReport& r, bool recurse);
  std::vector<ForestNode> nodes_;
  std::vector<std::size_t> roots_;
  std::vector<std::size_t> parent_;  // SIZE_MAX for roots
};

struct MergeResult {
  std::optional<Taxonomy> taxonomy;
  MergeReport report;
};
// `persona taxonomy merge A B`: B's nodes merged into A's (A's nodes are fixed: never merged with
// each other, their names kept). The result is an outline: A's rules files and twins.toml (which
// name A's vertices) are not carried; they apply again when the written .tax sits next to them.
MergeResult merge(const Taxonomy& a, const Taxonomy& b, const MergeOptions& o, DiagnosticSink& sink);

}  // namespace persona::tax
