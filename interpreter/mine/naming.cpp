// Synonyms for the merge from WordNet (the Debian `wordnet-base` files): two words are one when a
// base form of each shares a synset among their first senses, or one's synset points to the
// other's by derivation or pertainym ("religion" / "religious"). Results are cached per pair.
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "mine.hpp"
#include "similarity/scorer.hpp"
#include "similarity/wordnet.hpp"

namespace persona::mine {

namespace {

using sim::WordNet;

constexpr std::size_t kSenses = 2;  // the commonest senses only: rarer ones make false friends

std::set<std::pair<int, std::uint32_t>> concepts(const WordNet& wn, const std::string& word, bool related) {
  std::set<std::pair<int, std::uint32_t>> out;
  std::vector<std::string> bases;
  std::vector<std::uint32_t> senses;
  for (WordNet::Pos pos : {WordNet::Pos::noun, WordNet::Pos::adj}) {  // verbs: "mother" and "father" share one
    wn.base_forms(word, pos, bases);
    for (const auto& b : bases) {
      wn.senses(b, pos, senses);
      for (std::size_t i = 0; i < senses.size() && i < kSenses; ++i) {
        out.emplace(static_cast<int>(pos), senses[i]);
        if (!related) continue;
        WordNet::Synset s;
        if (!wn.synset(pos, senses[i], s)) continue;
        for (const auto& p : s.pointers)
          if (p.symbol == "+" || p.symbol == "\\") out.emplace(static_cast<int>(p.pos), p.offset);
      }
    }
  }
  return out;
}

}  // namespace

tax::WordOracle wordnet_oracle(const std::filesystem::path& dir, DiagnosticSink& sink) {
  std::shared_ptr<WordNet> wn = WordNet::open(dir.empty() ? sim::default_wordnet_dir() : dir, sink);
  if (!wn) return {};
  auto cache = std::make_shared<std::map<std::pair<std::string, std::string>, bool>>();
  auto mu = std::make_shared<std::mutex>();
  return [wn, cache, mu](const std::string& a, const std::string& b) {
    if (a.size() < 3 || b.size() < 3) return false;
    const auto key = a < b ? std::make_pair(a, b) : std::make_pair(b, a);
    {
      std::lock_guard lock(*mu);
      if (auto it = cache->find(key); it != cache->end()) return it->second;
    }
    const auto ca = concepts(*wn, a, true), cb = concepts(*wn, b, false);
    bool same = false;
    for (const auto& c : cb)
      if (ca.contains(c)) {
        same = true;
        break;
      }
    std::lock_guard lock(*mu);
    cache->emplace(key, same);
    return same;
  };
}

tax::MergeOptions default_merge_options(DiagnosticSink& sink) {
  tax::MergeOptions o;
  o.same_word = wordnet_oracle({}, sink);
  return o;
}

}  // namespace persona::mine
