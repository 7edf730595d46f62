// The attribute taxonomy: a forest of human attributes (12 top-level categories, sub-categories,
// leaf attributes) stored in a Boost.Graph adjacency_list, with loaders for `.tax` outlines and the
// DeepPersona reference JSON, integrity checks, glob queries, a long-tail score, a seeded random
// breadth-first walk over leaves and an embedded TF-IDF similarity model with an inverted index.
//
//   DiagnosticList diags;
//   auto tax = persona::tax::load_stdlib("core", diags);          // nullopt on any error
//   auto v = tax->find("Lifestyle and Daily Routine/Sleep/Chronotype");
//   auto q = tax->query_vector({"night shift nurse", "sleeps late"});
//   std::vector<float> scores; tax->score_all(q, scores);        // cosine of every node
//
// Nothing here throws or prints: problems go to the DiagnosticSink with file and line.
#pragma once

#include <array>
#include <boost/graph/adjacency_list.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cond/condition.hpp"
#include "diag/diagnostic.hpp"

namespace persona {
class Rng;
class SourceFiles;
}  // namespace persona

namespace persona::tax {

// ---------------------------------------------------------------------------------------------
// Model

struct ValueOption {
  std::string label;
  double weight = 1.0;    // relative frequency; 1 when the file gives none
  bool weighted = false;  // the file gave a weight (`@w`)
};

// A `~` line of a leaf (or of a fact in a rules file): how the option weights depend on who the
// persona is. The first `when` whose condition holds wins; else a `table` whose lookup finds a
// distribution; else the weights of the `=` lines. `uniform` documents why a leaf has no weights.
struct Weighting {
  enum class Kind : std::uint8_t { when, table, uniform };
  Kind kind = Kind::when;
  std::string text;  // as written after "~ "
  SourceRange where;
  cond::Condition condition;    // when
  std::string condition_text;   // when: the condition as written
  std::vector<double> weights;  // when: parallel to the options (0 for an option the line omits)
  std::string table;            // table: "stdlib.religion"
  std::vector<std::string> by;  // table: the facts the lookup keys on, in the table's order
  std::string reason;           // uniform: why equal weights are right
};

struct NodeCondition {
  cond::Condition condition;
  std::string text;  // as written after "? "
};

struct Node {
  std::string name;         // "Chronotype"
  std::string path;         // "Lifestyle and Daily Routine/Sleep/Chronotype"
  std::string description;  // may be empty
  int depth = 0;            // top-level category = 1
  std::vector<ValueOption> values;
  std::vector<NodeCondition> conditions;  // this node's own `?` lines
  std::vector<Weighting> weightings;      // this node's own `~` lines, in file order
  SourceRange where;                      // the node's line
  std::uint64_t support = 0;              // `+ support N`: exchanges behind a mined node (not in the hash)
};

// Parent -> child edges; children keep file order.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Node>;
using Vertex = Graph::vertex_descriptor;  // an index 0..size()-1

struct Stats {
  std::size_t nodes = 0;
  std::size_t leaves = 0;
  std::size_t top_level = 0;
  std::size_t max_depth = 0;
  std::size_t leaves_with_values = 0;
};

// A sparse L2-normalised vector over the TF-IDF vocabulary (sorted by term id).
struct SparseVector {
  std::vector<std::uint32_t> terms;
  std::vector<float> weights;
  [[nodiscard]] bool empty() const { return terms.empty(); }
};

namespace detail {
class TfIdfModel;
}
struct RuleBook;  // rules.hpp: facts and option links read from `*.rules` files
struct TwinBook;  // rules.hpp: classes of leaves that carry one meaning, from `twins.toml`

struct BuildOptions {
  bool vectors = true;  // compute TF-IDF vectors and the inverted index
};

class Taxonomy {
 public:
  Taxonomy();
  ~Taxonomy();
  Taxonomy(Taxonomy&&) noexcept;
  Taxonomy& operator=(Taxonomy&&) noexcept;
  Taxonomy(const Taxonomy&);
  Taxonomy& operator=(const Taxonomy&);

  // Validates a raw graph (one parent per node, no cycles: checked with a boost DFS), recomputes
  // paths and depths from the edges and builds every index. Errors go to the sink; nullopt on error.
  static std::optional<Taxonomy> from_graph(Graph g, DiagnosticSink& sink, const BuildOptions& opts = {});

  [[nodiscard]] const Graph& graph() const { return *g_; }
  [[nodiscard]] std::size_t size() const { return boost::num_vertices(*g_); }
  [[nodiscard]] const Node& node(Vertex v) const { return (*g_)[v]; }
  [[nodiscard]] const Node& operator[](Vertex v) const { return (*g_)[v]; }

  [[nodiscard]] std::span<const Vertex> roots() const { return roots_; }
  [[nodiscard]] std::span<const Vertex> children(Vertex v) const { return children_[v]; }
  [[nodiscard]] std::optional<Vertex> parent(Vertex v) const;
  [[nodiscard]] std::optional<Vertex> find(std::string_view path) const;    // exact, case-sensitive
  [[nodiscard]] std::span<const Vertex> leaves() const { return leaves_; }  // preorder
  [[nodiscard]] bool is_leaf(Vertex v) const { return children_[v].empty(); }
  // v and all its descendants, preorder.
  [[nodiscard]] std::vector<Vertex> subtree(Vertex v) const;
  // Every node in preorder (roots in file order, children in file order).
  [[nodiscard]] std::span<const Vertex> preorder() const { return preorder_; }
  [[nodiscard]] std::size_t leaf_count(Vertex v) const { return leaf_count_[v]; }  // leaves under v

  // All conditions on v and its ancestors (precomputed, root first).
  [[nodiscard]] std::span<const cond::Condition* const> inherited_conditions(Vertex v) const { return inherited_[v]; }
  [[nodiscard]] bool applicable(Vertex v, const cond::Facts& facts) const;

  // Stable hex hash (16 hex digits) of the content: names, structure, descriptions, values,
  // conditions, in preorder. Independent of file names and line numbers.
  [[nodiscard]] const std::string& content_hash() const { return hash_; }
  [[nodiscard]] Stats stats() const;

  // ---- queries ----
  // Glob over paths: `*` within one segment, `**` any number of segments (also zero), `?` one
  // character. Case-sensitive. Result in preorder.
  [[nodiscard]] std::vector<Vertex> glob(std::string_view pattern) const;
  // 0..1, higher for deep nodes in small (rare) subtrees. Precomputed.
  [[nodiscard]] double long_tail(Vertex v) const { return long_tail_[v]; }
  // Leaves in a seeded random breadth-first order favouring long-tail branches: the walk goes
  // level by level from `start` (default: the roots); each level is ordered by a weighted random
  // key (weight 0.25 + long_tail). Subtrees whose conditions fail on `facts` are skipped when facts
  // is given. Deterministic for the same Rng state.
  [[nodiscard]] std::vector<Vertex> random_bfs_leaves(Rng& rng, std::span<const Vertex> start = {},
                                                      const cond::Facts* facts = nullptr) const;

  // ---- similarity (TF-IDF; empty results when built without vectors) ----
  [[nodiscard]] bool has_vectors() const { return tfidf_ != nullptr; }
  [[nodiscard]] float cosine(Vertex a, Vertex b) const;
  [[nodiscard]] const SparseVector& vector(Vertex v) const;
  // Query vector from free text (a persona's core: anchor values, story texts). Unknown words are
  // ignored; trigram sub-words still match morphological variants.
  [[nodiscard]] SparseVector query_vector(std::string_view text) const;
  [[nodiscard]] SparseVector query_vector(std::span<const std::string> texts) const;
  [[nodiscard]] SparseVector query_vector(std::initializer_list<std::string_view> texts) const;
  // out[v] = cosine(node v, query) for every node, through the inverted index. out is resized.
  void score_all(const SparseVector& query, std::vector<float>& out) const;
  [[nodiscard]] static float cosine(const SparseVector& a, const SparseVector& b);
  [[nodiscard]] std::size_t vocabulary_size() const;
  // For every node v, the nodes w != v with score_all(vector(v))[w] >= min_score (0 < min_score
  // <= 1), ascending, without scoring every pair (prefix filtering: near-linear on real taxonomies).
  [[nodiscard]] std::vector<std::vector<Vertex>> similar_nodes(float min_score) const;

  // Approximate heap bytes held (graph, indexes, vectors).
  [[nodiscard]] std::size_t memory_bytes() const;

  // ---- meaning (one attribute per meaning) ----
  // Leaves with the same id carry the same attribute: the same folded name (fold_name), or one
  // class of `twins.toml`. Ids are dense in [0, meaning_count()); inner nodes get ids too.
  [[nodiscard]] std::uint32_t meaning_id(Vertex v) const { return meaning_[v]; }
  [[nodiscard]] std::size_t meaning_count() const { return meaning_count_; }
  // The twin classes and merges read with the taxonomy (empty when there is no `twins.toml`).
  [[nodiscard]] const TwinBook& twins() const;
  // Facts and option links read from the `*.rules` files next to the taxonomy (empty when none).
  [[nodiscard]] const RuleBook& rules() const;
  // Used by the loaders (rules.cpp): attach parsed books; set_twins recomputes the meaning ids.
  void set_rules(std::shared_ptr<const RuleBook> rules);
  void set_twins(std::shared_ptr<const TwinBook> twins);

 private:
  void build(const BuildOptions& opts);
  void assign_meanings();

  std::unique_ptr<Graph> g_;  // on the heap: indexes point into its vertex properties
  std::vector<Vertex> roots_;
  std::vector<std::vector<Vertex>> children_;
  std::vector<Vertex> parent_;  // self for roots
  std::vector<Vertex> leaves_;
  std::vector<Vertex> preorder_;
  std::vector<std::size_t> leaf_count_;
  std::vector<std::size_t> subtree_end_;  // preorder position one past v's subtree
  std::vector<std::size_t> preorder_pos_;
  std::vector<std::vector<const cond::Condition*>> inherited_;
  std::vector<double> long_tail_;
  std::vector<std::vector<std::string_view>> segments_;  // per node, views into node.path
  std::unordered_map<std::string_view, Vertex> by_path_;
  std::string hash_;
  std::unique_ptr<detail::TfIdfModel> tfidf_;
  std::vector<std::uint32_t> meaning_;
  std::size_t meaning_count_ = 0;
  std::shared_ptr<const RuleBook> rules_;
  std::shared_ptr<const TwinBook> twins_;
};

// ---------------------------------------------------------------------------------------------
// Loading

struct LoadOptions {
  bool vectors = true;
  // A warning (code "depth-limit") for nodes deeper than this; 0 = no limit. load_stdlib uses 4.
  int warn_depth = 0;
  // A warning (code "missing-description") for `.tax` leaves without a description. load_stdlib sets it.
  bool require_leaf_descriptions = false;
  // When set, every file read is registered there so diagnostics can be rendered with its line.
  SourceFiles* sources = nullptr;
};

// A `.tax` file, a directory of `.tax` files (file-name order) or a reference `.json` file. A
// directory's `*.rules` files (facts and option links, see docs/taxonomy-format.md) and its
// `twins.toml` (classes of leaves with one meaning) are read and checked with it.
std::optional<Taxonomy> load(const std::filesystem::path& path, DiagnosticSink& sink, const LoadOptions& opts = {});
// `.tax` text. `file` names the text in diagnostics. Several texts: see load_tax_texts.
std::optional<Taxonomy> load_tax_text(std::string_view text, const std::string& file, DiagnosticSink& sink,
                                      const LoadOptions& opts = {});
// Reference JSON text (nested objects, `{}` = leaf). Names are trimmed; the characters that a name
// cannot hold (`/ | # * ? = @`) are replaced (warning "name-sanitized"); duplicate siblings after
// case/punctuation folding are a warning (both kept; import_reference merges them).
std::optional<Taxonomy> load_json_text(std::string_view text, const std::string& file, DiagnosticSink& sink,
                                       const LoadOptions& opts = {});
// stdlib_dir()/taxonomy/<name>/*.tax with warn_depth 4.
std::optional<Taxonomy> load_stdlib(std::string_view name, DiagnosticSink& sink, LoadOptions opts = {});
std::filesystem::path stdlib_taxonomy_dir(std::string_view name);

// Re-checks a loaded taxonomy (used by the CLI and tests): graph acyclic (boost DFS), one parent
// per node, names valid, siblings distinct. Returns the number of errors reported.
std::size_t validate(const Taxonomy& t, DiagnosticSink& sink);

// Name rules shared by loaders and the importer.
// Case-folded, punctuation-free form used for the sibling uniqueness check ("Work-Life" == "work life").
std::string fold_name(std::string_view name);
// Empty when valid, else the reason.
std::string name_problem(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Reference import (DeepPersona JSON -> the method's 12 categories)

// The method's 12 top-level categories, in canonical order.
const std::array<std::string_view, 12>& categories();

struct ImportReport {
  struct Mapping {
    std::string from;  // top-level key in the file
    std::string to;    // one of categories()
    double score = 0;  // name similarity (1 for an alias table hit)
    bool alias = false;
  };
  struct Merge {
    std::string parent;  // path of the parent in the output
    std::string kept;    // name kept
    std::string merged;  // name merged into it
    std::string reason;  // "same name", "case/punctuation", "plural", "word order", "&/and"
  };
  std::vector<Mapping> mappings;
  std::vector<Merge> merges;
  std::vector<std::string> renamed;  // "old -> new" for sanitised names
  std::vector<std::string> dropped;  // top-level keys that matched no category
  std::size_t input_nodes = 0;
  std::size_t input_top_level = 0;
  std::size_t output_nodes = 0;
  std::size_t output_top_level = 0;
  // Human-readable: one line per mapping and merge, then totals.
  [[nodiscard]] std::string to_text() const;
};

struct ImportResult {
  std::optional<Taxonomy> taxonomy;
  ImportReport report;
};

ImportResult import_reference(const std::filesystem::path& json_file, DiagnosticSink& sink,
                              const LoadOptions& opts = {});
ImportResult import_reference_text(std::string_view json_text, const std::string& file, DiagnosticSink& sink,
                                   const LoadOptions& opts = {});
// The category a top-level key maps to (alias table, then name similarity >= 0.5), with its score.
std::optional<std::pair<std::string_view, double>> map_category(std::string_view key);
// Normalised form used for merging siblings: case, punctuation, "&"/"and", plural s, word order.
std::string merge_key(std::string_view name);

// ---------------------------------------------------------------------------------------------
// Export

std::string to_json(const Taxonomy& t, int indent = 2);  // reference format (names only)
std::string to_tax(const Taxonomy& t);                   // everything (descriptions, values, conditions)
struct DotOptions {
  std::optional<Vertex> root;  // only this subtree
  int max_depth = 0;           // levels below the root(s) to include; 0 = all
};
std::string to_dot(const Taxonomy& t, const DotOptions& opts = {});  // boost::write_graphviz
// Writes text to a file; reports "write-failed" naming the file.
bool write_text_file(const std::filesystem::path& path, std::string_view text, DiagnosticSink& sink);

// ---------------------------------------------------------------------------------------------
// Diff (`persona taxonomy diff A B`)

// What differs between two taxonomies, node by node. Nodes are matched by path; a node only in A and
// a node only in B with the same name and description under different parents is one moved node
// (`A path -> B path`) when that name and description pick out one unmatched node on each side; the
// nodes under a moved node are then matched by their path below it. The order of siblings is not
// compared. Paths in `changed` are B's.
struct TaxonomyDiff {
  struct WeightChange {
    std::string label;
    double a = 0, b = 0;
  };
  struct Change {
    std::string path;       // in B
    std::string from_path;  // in A when the node moved, else empty
    bool description = false;
    std::string description_a, description_b;
    std::vector<std::string> values_added, values_removed;          // option labels
    std::vector<WeightChange> weights;                              // options in both whose weight changed
    bool values_reordered = false;                                  // same options and weights, other order
    std::vector<std::string> conditions_added, conditions_removed;  // `?` lines as written
    std::vector<std::string> weightings_added, weightings_removed;  // `~` lines as written
    bool leaf_changed = false;
    bool leaf_a = false, leaf_b = false;
    // The changes in words: "description", "values +\"x\" -\"y\"", "leaf -> inner", ...
    [[nodiscard]] std::vector<std::string> what() const;
  };
  struct Move {
    std::string from, to;
  };
  std::string a_name, b_name;               // how the caller names the two sides (JSON "a" and "b"; may be empty)
  std::vector<std::string> added, removed;  // paths (B's, A's), sorted
  std::vector<Change> changed;              // sorted by path
  std::vector<Move> moved;                  // sorted by `from`
  std::size_t a_nodes = 0, b_nodes = 0;

  [[nodiscard]] bool equal() const { return added.empty() && removed.empty() && changed.empty() && moved.empty(); }
  // One line per change, sorted by path: `+ path`, `- path`, `> old -> new`, `~ path: what; what`, then
  // a summary line ("no differences" or "N added, N removed, N moved, N changed").
  [[nodiscard]] std::string to_text() const;
  // {"a", "b", "equal", "counts": {...}, "added": [...], "removed": [...], "moved": [{"from", "to"}],
  //  "changed": [{"path", "from"?, "description"?: {"a", "b"}, "values"?: {...}, ...}]}
  [[nodiscard]] std::string to_json(int indent = 2) const;
};

TaxonomyDiff diff(const Taxonomy& a, const Taxonomy& b);

// ---------------------------------------------------------------------------------------------
// Tokens shared by the TF-IDF model (exposed for tests and for the engine's own query building).

// Lowercase ASCII words (letters and digits), UTF-8 bytes >= 0x80 kept inside words.
std::vector<std::string> words(std::string_view text);
// Character trigrams of a word with boundary marks: "sleep" -> "<sl", "sle", "lee", "eep", "ep>".
std::vector<std::string> trigrams(std::string_view word);

// ---------------------------------------------------------------------------------------------
// Dense embeddings of nodes come from an LLM provider (llm/embeddings.hpp); this is the text embedded.

// The text embedded for a node: its path with " / " separators, description and value options.
std::string node_text(const Taxonomy& t, Vertex v);

}  // namespace persona::tax
