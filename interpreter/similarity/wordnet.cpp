// WordNet database files: formats as documented in wndb(5WN) of WordNet 3.0.
//   index.POS: lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
//   data.POS:  synset_offset lex_filenum ss_type w_cnt(hex) [word lex_id(hex)]... p_cnt
//              [ptr_symbol synset_offset pos source/target(hex)]... [frames] | gloss
//   POS.exc:   inflected_form base_form...
// Both index and exception files are sorted byte-wise; data offsets are byte offsets into the file.
#include "similarity/wordnet.hpp"

#include <algorithm>
#include <charconv>
#include <span>

#include "base/files.hpp"
#include "base/text.hpp"

namespace persona::sim {

namespace {

constexpr std::array<std::string_view, 4> kPosName = {"noun", "verb", "adj", "adv"};

bool is_header(std::string_view line) { return line.size() >= 2 && line[0] == ' ' && line[1] == ' '; }

// The next space-separated field of `s` from `pos` (pos advanced past it); empty at the end.
std::string_view field(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  const std::size_t start = pos;
  while (pos < s.size() && s[pos] != ' ') ++pos;
  return s.substr(start, pos - start);
}

template <typename T>
bool number(std::string_view f, T& out, int base = 10) {
  if (f.empty()) return false;
  const auto r = std::from_chars(f.data(), f.data() + f.size(), out, base);
  return r.ec == std::errc() && r.ptr == f.data() + f.size();
}

bool pos_of(std::string_view f, WordNet::Pos& out) {
  if (f == "n")
    out = WordNet::Pos::noun;
  else if (f == "v")
    out = WordNet::Pos::verb;
  else if (f == "a" || f == "s")
    out = WordNet::Pos::adj;
  else if (f == "r")
    out = WordNet::Pos::adv;
  else
    return false;
  return true;
}

// WordNet's detachment rules (morph.c): suffix -> replacement, tried in order.
struct Rule {
  std::string_view suffix, ending;
};
constexpr Rule kNounRules[] = {{"s", ""},      {"ses", "s"},   {"xes", "x"},   {"zes", "z"},
                               {"ches", "ch"}, {"shes", "sh"}, {"men", "man"}, {"ies", "y"}};
constexpr Rule kVerbRules[] = {{"s", ""},   {"ies", "y"}, {"es", "e"},  {"es", ""},
                               {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
constexpr Rule kAdjRules[] = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};

std::span<const Rule> rules(WordNet::Pos pos) {
  switch (pos) {
    case WordNet::Pos::noun:
      return kNounRules;
    case WordNet::Pos::verb:
      return kVerbRules;
    case WordNet::Pos::adj:
      return kAdjRules;
    case WordNet::Pos::adv:
      break;
  }
  return {};
}

}  // namespace

std::string_view to_string(WordNet::Pos pos) { return kPosName[static_cast<std::size_t>(pos)]; }

std::unique_ptr<WordNet> WordNet::open(const std::filesystem::path& dir, DiagnosticSink& sink) {
  auto wn = std::unique_ptr<WordNet>(new WordNet());
  wn->dir_ = dir;
  auto fail = [&](const std::filesystem::path& file, const std::string& why) -> std::unique_ptr<WordNet> {
    SourceRange where;
    where.file = file.string();
    sink.warning(where, "wordnet-unavailable", "WordNet cannot be used: " + why,
                 {"install the Debian package wordnet-base (bash .ci/setup does) or set WNSEARCHDIR to its "
                  "dict folder"});
    return nullptr;
  };
  files::Limits limits;
  limits.max_bytes = 64ull << 20;
  limits.require_utf8 = false;  // WordNet 3.0 is ASCII; a Latin-1 byte must not refuse the file
  for (Pos pos : all_pos) {
    Part& part = wn->parts_[static_cast<std::size_t>(pos)];
    const std::string name(to_string(pos));
    const auto index_path = dir / ("index." + name);
    auto index = files::read(index_path, limits);
    if (!index.ok()) return fail(index_path, index.error);
    part.index = std::move(*index.text);
    part.index.shrink_to_fit();  // files::read leaves spare capacity; this database stays in memory
    std::string_view text = part.index;
    std::string_view previous;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view line = text.substr(at, end - at);
      if (!line.empty() && !is_header(line)) {
        const std::string_view key = line.substr(0, line.find(' '));
        if (key <= previous && !previous.empty())
          return fail(index_path, "the index is not sorted at \"" + std::string(key) + "\"");
        previous = key;
        part.keys.push_back(key);
        part.lines.push_back(static_cast<std::uint32_t>(at));
      }
      at = end + 1;
    }
    if (part.lines.empty()) return fail(index_path, "the index has no entries");
    const auto data_path = dir / ("data." + name);
    auto data = files::read(data_path, limits);
    if (!data.ok()) return fail(data_path, data.error);
    part.data = std::move(*data.text);
    part.data.shrink_to_fit();
    const auto exc_path = dir / (name + ".exc");
    auto exc = files::read(exc_path, limits);
    if (!exc.ok()) return fail(exc_path, exc.error);
    std::string_view etext = *exc.text;
    for (std::size_t at = 0; at < etext.size();) {
      std::size_t end = etext.find('\n', at);
      if (end == std::string_view::npos) end = etext.size();
      const std::string_view line = etext.substr(at, end - at);
      std::size_t p = 0;
      const std::string_view inflected = field(line, p);
      if (!inflected.empty()) {
        auto& bases = part.exceptions[std::string(inflected)];
        for (std::string_view b = field(line, p); !b.empty(); b = field(line, p)) bases.emplace_back(b);
      }
      at = end + 1;
    }
  }
  return wn;
}

std::size_t WordNet::lemma_count() const {
  std::size_t n = 0;
  for (const auto& p : parts_) n += p.lines.size();
  return n;
}

std::string_view WordNet::index_line(const Part& part, std::string_view lemma) const {
  const auto it = std::lower_bound(part.keys.begin(), part.keys.end(), lemma);
  if (it == part.keys.end() || *it != lemma) return {};
  const std::string_view rest =
      std::string_view(part.index).substr(part.lines[static_cast<std::size_t>(it - part.keys.begin())]);
  return rest.substr(0, rest.find('\n'));
}

void WordNet::senses(std::string_view lemma, Pos pos, std::vector<std::uint32_t>& out) const {
  out.clear();
  if (lemma.empty()) return;
  const std::string_view line = index_line(parts_[static_cast<std::size_t>(pos)], lemma);
  if (line.empty()) return;
  std::size_t p = 0;
  field(line, p);  // lemma
  field(line, p);  // pos
  std::uint32_t synsets = 0, pointers = 0;
  if (!number(field(line, p), synsets) || !number(field(line, p), pointers)) return;
  for (std::uint32_t i = 0; i < pointers; ++i) field(line, p);
  std::uint32_t sense_cnt = 0, tagged = 0;
  if (!number(field(line, p), sense_cnt) || !number(field(line, p), tagged)) return;
  for (std::uint32_t i = 0; i < sense_cnt; ++i) {
    std::uint32_t off = 0;
    if (!number(field(line, p), off)) break;
    out.push_back(off);
  }
}

void WordNet::base_forms(std::string_view word, Pos pos, std::vector<std::string>& out) const {
  out.clear();
  const Part& part = parts_[static_cast<std::size_t>(pos)];
  if (word.empty()) return;
  if (!index_line(part, word).empty()) out.emplace_back(word);
  if (auto it = part.exceptions.find(std::string(word)); it != part.exceptions.end())
    for (const auto& b : it->second)
      if (std::find(out.begin(), out.end(), b) == out.end() && !index_line(part, b).empty()) out.push_back(b);
  if (!out.empty()) return;
  std::string base;
  for (const Rule& r : rules(pos)) {
    if (word.size() <= r.suffix.size() + 1 || !word.ends_with(r.suffix)) continue;
    base.assign(word.substr(0, word.size() - r.suffix.size()));
    base += r.ending;
    if (!index_line(part, base).empty()) {
      out.push_back(base);
      return;
    }
  }
}

bool WordNet::synset(Pos pos, std::uint32_t offset, Synset& out) const {
  out.pointers.clear();
  out.gloss = {};
  const std::string_view data = parts_[static_cast<std::size_t>(pos)].data;
  if (offset >= data.size() || (offset > 0 && data[offset - 1] != '\n')) return false;
  std::string_view line = data.substr(offset);
  line = line.substr(0, line.find('\n'));
  const std::size_t bar = line.find(" | ");
  const std::string_view head = line.substr(0, bar);
  std::size_t p = 0;
  std::uint32_t own = 0;
  if (!number(field(head, p), own) || own != offset) return false;
  field(head, p);  // lex_filenum
  field(head, p);  // ss_type
  std::uint32_t words = 0;
  if (!number(field(head, p), words, 16)) return false;
  for (std::uint32_t i = 0; i < words; ++i) {
    field(head, p);  // word
    field(head, p);  // lex_id
  }
  std::uint32_t pointers = 0;
  if (!number(field(head, p), pointers)) return false;
  for (std::uint32_t i = 0; i < pointers; ++i) {
    Pointer ptr;
    ptr.symbol = field(head, p);
    const std::string_view off = field(head, p), pos_field = field(head, p);
    field(head, p);  // source/target
    if (ptr.symbol.empty() || !number(off, ptr.offset) || !pos_of(pos_field, ptr.pos)) {
      out.pointers.clear();
      return false;
    }
    out.pointers.push_back(ptr);
  }
  if (bar != std::string_view::npos) out.gloss = text::trim(line.substr(bar + 3));
  return true;
}

}  // namespace persona::sim
