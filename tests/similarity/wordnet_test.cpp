// The WordNet reader: lookups on the real database, and damaged or missing files.
#include "files.hpp"
#include "support.hpp"

using namespace sim_test;
using Pos = persona::sim::WordNet::Pos;

TEST_CASE("WordNet: base forms, senses in frequency order and synsets with their pointers and gloss") {
  const auto& wn = *wordnet();
  CHECK(wn.lemma_count() > 150000);
  std::vector<std::string> bases;
  wn.base_forms("nurses", Pos::noun, bases);
  CHECK(bases == std::vector<std::string>{"nurse"});
  wn.base_forms("geese", Pos::noun, bases);  // exception list
  CHECK(bases == std::vector<std::string>{"goose"});
  wn.base_forms("singing", Pos::verb, bases);  // exception list: both readings
  CHECK(bases == std::vector<std::string>{"sing", "singe"});
  wn.base_forms("gardening", Pos::verb, bases);  // detachment rule
  CHECK(bases == std::vector<std::string>{"garden"});
  wn.base_forms("hagwon", Pos::noun, bases);
  CHECK(bases.empty());

  std::vector<std::uint32_t> senses;
  wn.senses("nurse", Pos::noun, senses);
  REQUIRE(senses.size() == 2);
  sim::WordNet::Synset s;
  REQUIRE(wn.synset(Pos::noun, senses[0], s));
  CHECK(s.gloss.find("caring for young children or the sick") != std::string_view::npos);
  const auto hyper = std::find_if(s.pointers.begin(), s.pointers.end(), [](const auto& p) { return p.symbol == "@"; });
  REQUIRE(hyper != s.pointers.end());
  sim::WordNet::Synset parent;
  REQUIRE(wn.synset(hyper->pos, hyper->offset, parent));  // health professional
  CHECK(parent.gloss.find("treating illness") != std::string_view::npos);

  // Offsets that do not start a synset line are refused, not trusted.
  CHECK_FALSE(wn.synset(Pos::noun, senses[0] + 1, s));
  CHECK(s.pointers.empty());
  CHECK_FALSE(wn.synset(Pos::noun, 0xffffffffu, s));
  wn.senses("", Pos::noun, senses);
  CHECK(senses.empty());
}

namespace {

// A tiny WordNet-shaped folder: `index` lines go to index.noun, `data` to data.noun; the other parts
// get one harmless entry each.
std::filesystem::path fake_wordnet(const std::string& name, const std::string& index, const std::string& data) {
  const auto dir = persona::test::scratch_dir(name);
  using persona::test::write_file;
  write_file(dir / "index.noun", "  1 license header line\n" + index);
  write_file(dir / "data.noun", data);
  for (const char* pos : {"verb", "adj", "adv"}) {
    write_file(dir / (std::string("index.") + pos), "zzz x 1 0 1 0 00000000  \n");
    write_file(dir / (std::string("data.") + pos), "");
  }
  for (const char* pos : {"noun", "verb", "adj", "adv"}) write_file(dir / (std::string(pos) + ".exc"), "");
  return dir;
}

}  // namespace

TEST_CASE("WordNet: a missing, empty or unsorted index is one warning naming the file, and no database") {
  persona::DiagnosticList diags;
  CHECK_FALSE(sim::WordNet::open(persona::test::scratch_dir("wn-missing"), diags));
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].severity == persona::Severity::warning);
  CHECK(diags.all()[0].code == "wordnet-unavailable");
  CHECK(diags.all()[0].where.file.ends_with("index.noun"));

  diags.clear();
  CHECK_FALSE(sim::WordNet::open(fake_wordnet("wn-empty", "", ""), diags));
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].message.find("no entries") != std::string::npos);

  diags.clear();
  CHECK_FALSE(sim::WordNet::open(
      fake_wordnet("wn-unsorted", "zebra n 1 0 1 0 00000000  \napple n 1 0 1 0 00000000  \n", ""), diags));
  REQUIRE(diags.all().size() == 1);
  CHECK(diags.all()[0].message.find("not sorted") != std::string::npos);
}

TEST_CASE("WordNet: damaged entries and data lines give nothing instead of a crash or a wrong synset") {
  const std::string data_line = "00000000 03 n 01 apple 0 001 @ 99999999 n 0000 | a fruit\n";
  const std::string index =
      "apple n 1 1 @ 1 0 00000000  \n"
      "broken n x y\n"
      "cut n 3 0 3 0 00000000\n"    // says 3 senses, lists 1
      "far n 1 0 1 0 77777777  \n"  // offset beyond the data file
      "short n 1 9 @\n";            // the pointer count runs past the line
  persona::DiagnosticList diags;
  auto wn = sim::WordNet::open(fake_wordnet("wn-damaged", index, data_line + "00000061 03 n zz\n"), diags);
  INFO(dump(diags));
  REQUIRE(wn);
  std::vector<std::uint32_t> senses;
  wn->senses("apple", Pos::noun, senses);
  CHECK(senses == std::vector<std::uint32_t>{0});
  sim::WordNet::Synset s;
  REQUIRE(wn->synset(Pos::noun, 0, s));
  CHECK(s.gloss == "a fruit");
  REQUIRE(s.pointers.size() == 1);
  CHECK_FALSE(wn->synset(Pos::noun, s.pointers[0].offset, s));  // dangling pointer
  wn->senses("broken", Pos::noun, senses);
  CHECK(senses.empty());
  wn->senses("cut", Pos::noun, senses);
  CHECK(senses == std::vector<std::uint32_t>{0});
  wn->senses("far", Pos::noun, senses);
  REQUIRE(senses.size() == 1);
  CHECK_FALSE(wn->synset(Pos::noun, senses[0], s));
  wn->senses("short", Pos::noun, senses);
  CHECK(senses.empty());
  CHECK_FALSE(wn->synset(Pos::noun, static_cast<std::uint32_t>(data_line.size()), s));  // "zz" is no word count

  // A scorer over this database still scores (nothing is found), it does not crash.
  auto scorer = sim::make_semantic(core_taxonomy(), std::move(wn));
  auto cache = scorer->cache();
  std::vector<float> scores;
  const std::vector<std::string> core = {"apple far cut short broken"};
  scorer->score_all(core, *cache, scores);
  CHECK(scores.size() == core_taxonomy().size());
}
