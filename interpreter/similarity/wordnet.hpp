// A read-only view of a WordNet 3.0 database (the Princeton files Debian ships in `wordnet-base`,
// under /usr/share/wordnet): lemma lookup by binary search in the sorted index files, base forms
// by the exception lists and the detachment rules WordNet's own `morphy` uses, and synsets parsed
// from the data files at their byte offsets. Nothing is parsed up front beyond a line index, so
// opening costs one read of the files; every lookup is bounds-checked and a malformed line is
// skipped, never trusted.
//
//   DiagnosticList diags;
//   auto wn = sim::WordNet::open("/usr/share/wordnet", diags);   // nullptr + a warning when unusable
//   std::vector<std::uint32_t> senses;
//   wn->senses("nurse", sim::WordNet::Pos::noun, senses);          // synset offsets, commonest first
//   sim::WordNet::Synset s;
//   wn->synset(sim::WordNet::Pos::noun, senses[0], s);             // its pointers and gloss
//
// Thread-safe for concurrent readers: every method is const and touches only the caller's buffers.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "diag/diagnostic.hpp"

namespace persona::sim {

class WordNet {
 public:
  enum class Pos : std::uint8_t { noun, verb, adj, adv };
  static constexpr std::array<Pos, 4> all_pos = {Pos::noun, Pos::verb, Pos::adj, Pos::adv};

  struct Pointer {
    std::string_view symbol;  // "@" hypernym, "@i" instance hypernym, "+" derivation, "\" pertainym, ...
    std::uint32_t offset = 0;
    Pos pos = Pos::noun;
  };
  struct Synset {
    std::vector<Pointer> pointers;
    std::string_view gloss;  // definition and examples, as written after " | "
  };

  // Reads index.{noun,verb,adj,adv}, data.* and *.exc from `dir`. When a file is missing, unreadable or
  // not a WordNet index (no entries, unsorted), reports one warning (code "wordnet-unavailable") naming
  // the file and returns nullptr.
  static std::unique_ptr<WordNet> open(const std::filesystem::path& dir, DiagnosticSink& sink);

  // Synset offsets of `lemma` (a base form, lower case, words joined by '_') as `pos`, in WordNet's
  // sense order (most frequent first). `out` is cleared; empty when the lemma is absent.
  void senses(std::string_view lemma, Pos pos, std::vector<std::uint32_t>& out) const;
  // The base forms of an inflected `word` as `pos` that the index holds: the word itself, its
  // exception-list entries ("geese" -> "goose"), else the first detachment rule that gives a lemma
  // ("nurses" -> "nurse", "singing" -> "sing"). `out` is cleared.
  void base_forms(std::string_view word, Pos pos, std::vector<std::string>& out) const;
  // Parses the synset at `offset` of the data file for `pos`. False when the offset does not start a
  // well-formed line for that synset (out is then empty).
  bool synset(Pos pos, std::uint32_t offset, Synset& out) const;

  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }
  [[nodiscard]] std::size_t lemma_count() const;  // entries of the four indexes together

 private:
  WordNet() = default;
  struct Part {
    std::string index;                   // index.POS, whole
    std::vector<std::string_view> keys;  // the lemma of every entry line, in file (= sorted) order
    std::vector<std::uint32_t> lines;    // byte offset of each entry line (license header skipped)
    std::string data;                    // data.POS, whole
    std::unordered_map<std::string, std::vector<std::string>> exceptions;  // POS.exc
  };
  [[nodiscard]] std::string_view index_line(const Part& part, std::string_view lemma) const;
  std::filesystem::path dir_;
  std::array<Part, 4> parts_;
};

std::string_view to_string(WordNet::Pos pos);

}  // namespace persona::sim
