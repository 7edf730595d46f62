// The offline backend: deterministic values with no network.
//
// - Attributes with value options: a weighted draw among the options that do not contradict the
//   persona's facts (coherence::Rules::draw: conditional weights and option links read from the
//   taxonomy's rules files), from the leaf's own stream (seed, index, "fill:"+path). Source "options".
// - Attributes without options: a draw from a small lexicon chosen by the leaf's words (frequency,
//   level, yes/no-like, amount, duration, free descriptors). Source "lexicon".
// - Story steps: lexicons of values, attitudes, vignettes and hobbies with templates that use the
//   anchors, shaped as the step declares (text / list x min..max / object).
// - Narrative: a templated first- or third-person text inside the recipe's word range, built from
//   the anchors, the story and a seeded sample of the attributes.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "backend/backend.hpp"
#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/steps.hpp"

namespace persona::backend {

using namespace engine;

namespace {

// ---------------------------------------------------------------------------------------------
// Lexicons

constexpr std::array<std::string_view, 8> kFrequency = {"never",
                                                        "rarely",
                                                        "a few times a year",
                                                        "about once a month",
                                                        "a few times a month",
                                                        "weekly",
                                                        "several times a week",
                                                        "daily"};
constexpr std::array<std::string_view, 6> kLevel = {"very low", "low", "moderate", "fairly high", "high", "very high"};
constexpr std::array<std::string_view, 5> kYesNo = {"yes", "no", "partly", "used to", "not yet, but plans to"};
constexpr std::array<std::string_view, 6> kAmount = {"none", "one", "two", "a few", "several", "many"};
constexpr std::array<std::string_view, 5> kDuration = {"less than a year", "one to three years", "three to five years",
                                                       "five to ten years", "more than ten years"};
constexpr std::array<std::string_view, 12> kDescriptor = {"traditional",  "modern",   "practical",   "unconventional",
                                                          "mixed",        "flexible", "modest",      "ambitious",
                                                          "conventional", "eclectic", "understated", "improvised"};

constexpr std::array<std::string_view, 30> kValues = {"family",
                                                      "honesty",
                                                      "hard work",
                                                      "faith",
                                                      "independence",
                                                      "compassion",
                                                      "loyalty",
                                                      "education",
                                                      "tradition",
                                                      "freedom",
                                                      "security",
                                                      "fairness",
                                                      "respect for elders",
                                                      "community",
                                                      "curiosity",
                                                      "self-discipline",
                                                      "generosity",
                                                      "humility",
                                                      "courage",
                                                      "health",
                                                      "creativity",
                                                      "achievement",
                                                      "harmony",
                                                      "justice",
                                                      "gratitude",
                                                      "perseverance",
                                                      "hospitality",
                                                      "patience",
                                                      "self-reliance",
                                                      "kindness"};
constexpr std::array<std::string_view, 16> kAttitudeAdj = {
    "pragmatic", "hopeful", "cautious",   "easygoing", "determined", "reflective", "sceptical", "cheerful",
    "stoic",     "curious", "protective", "restless",  "content",    "driven",     "gentle",    "outspoken"};
constexpr std::array<std::string_view, 14> kMaxims = {"hard times pass if you keep going",
                                                      "people matter more than things",
                                                      "you make your own luck",
                                                      "it is better to plan than to regret",
                                                      "every day should hold one small joy",
                                                      "what you give comes back to you",
                                                      "one should never stop learning",
                                                      "a promise is a debt",
                                                      "the family comes first",
                                                      "honest work is never shameful",
                                                      "change is easier when you face it early",
                                                      "you should leave a place better than you found it",
                                                      "patience opens more doors than force",
                                                      "nobody gets through life alone"};
constexpr std::array<std::string_view, 18> kEvents = {"I lost my first job",
                                                      "my grandmother taught me to cook for a whole family",
                                                      "I moved to a new neighbourhood without knowing anyone",
                                                      "I helped a neighbour rebuild after a storm",
                                                      "I failed an exam I had worked hard for",
                                                      "I started a small business with a friend",
                                                      "I cared for a sick parent for a year",
                                                      "I travelled alone for the first time",
                                                      "I joined a community choir",
                                                      "I learned to repair engines from an uncle",
                                                      "I won a local competition nobody expected me to win",
                                                      "I met the friend who has stood by me ever since",
                                                      "I saved for months to buy my first bicycle",
                                                      "I spoke up at a public meeting for the first time",
                                                      "I was cheated out of a month's earnings",
                                                      "I organised a festival in my street",
                                                      "I taught my younger cousins to read",
                                                      "I changed my mind about something I had believed all my life"};
constexpr std::array<std::string_view, 32> kHobbies = {"gardening",
                                                       "reading novels",
                                                       "football",
                                                       "cooking for friends",
                                                       "hiking",
                                                       "chess",
                                                       "playing guitar",
                                                       "painting",
                                                       "fishing",
                                                       "photography",
                                                       "dancing",
                                                       "knitting",
                                                       "cycling",
                                                       "volunteering",
                                                       "birdwatching",
                                                       "woodworking",
                                                       "video games",
                                                       "running",
                                                       "yoga",
                                                       "board games",
                                                       "baking",
                                                       "singing in a choir",
                                                       "learning languages",
                                                       "listening to podcasts",
                                                       "crossword puzzles",
                                                       "swimming",
                                                       "traditional crafts",
                                                       "calligraphy",
                                                       "camping",
                                                       "martial arts",
                                                       "watching cricket",
                                                       "keeping bees"};

template <std::size_t N>
std::string_view pick(const std::array<std::string_view, N>& a, Rng& rng) {
  return a[rng.below(N)];
}

// k distinct items of a lexicon (partial Fisher-Yates on indices).
template <std::size_t N>
void pick_distinct(const std::array<std::string_view, N>& a, std::size_t k, Rng& rng, std::vector<std::string>& out) {
  std::array<std::uint8_t, N> idx{};
  for (std::size_t i = 0; i < N; ++i) idx[i] = static_cast<std::uint8_t>(i);
  k = std::min(k, N);
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + rng.below(N - i);
    std::swap(idx[i], idx[j]);
    out.emplace_back(a[idx[i]]);
  }
}

enum class StoryKind { values, attitude, vignettes, hobbies, generic };

StoryKind story_kind(std::string_view instruction_or_name) {
  const std::string s = text::lower(instruction_or_name);
  if (s.find("value") != std::string::npos || s.find("belief") != std::string::npos) return StoryKind::values;
  if (s.find("attitude") != std::string::npos || s.find("outlook") != std::string::npos) return StoryKind::attitude;
  if (s.find("vignette") != std::string::npos || s.find("stor") != std::string::npos ||
      s.find("memor") != std::string::npos)
    return StoryKind::vignettes;
  if (s.find("hobb") != std::string::npos || s.find("interest") != std::string::npos ||
      s.find("pastime") != std::string::npos)
    return StoryKind::hobbies;
  return StoryKind::generic;
}

std::string value_text(const cond::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  const double d = std::get<double>(v);
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return std::to_string(d);
}

std::optional<std::string> fact(const Persona& p, std::string_view name) {
  if (auto it = p.facts.find(name); it != p.facts.end()) return value_text(it->second);
  return std::nullopt;
}

// Items produced by the step's inputs (earlier story steps), for templates.
std::vector<std::string> input_items(const Model& m, const std::vector<CoreValue>& core, std::size_t step) {
  std::vector<std::string> out;
  const auto& story = m.recipe().story;
  for (const auto& in : story[step].inputs) {
    for (std::size_t k = 0; k < step; ++k) {
      if (story[k].output != in) continue;
      const CoreValue& cv = core[k];
      for (const auto& it : cv.items) out.push_back(it);
      if (!cv.text.empty() && cv.items.empty()) out.push_back(cv.text);
    }
  }
  return out;
}

std::string one_item(StoryKind kind, const Model& m, const Persona& p, const std::vector<CoreValue>& core,
                     std::size_t step, Rng& rng) {
  switch (kind) {
    case StoryKind::values:
      return std::string(pick(kValues, rng));
    case StoryKind::hobbies:
      return std::string(pick(kHobbies, rng));
    case StoryKind::attitude: {
      const auto ins = input_items(m, core, step);
      std::string s = "I am ";
      s += pick(kAttitudeAdj, rng);
      s += " about life";
      if (!ins.empty()) {
        s += ", guided by ";
        s += ins[rng.below(ins.size())];
      }
      s += ", and I believe ";
      s += pick(kMaxims, rng);
      s += '.';
      return s;
    }
    case StoryKind::vignettes: {
      std::string s;
      if (auto age = fact(p, "age")) {
        const double a = std::atof(age->c_str());
        const int then = std::max(8, static_cast<int>(a * (0.3 + 0.6 * rng.uniform())));
        s = "When I was " + std::to_string(then) + ", ";
      } else {
        s = "Some years ago, ";
      }
      s += pick(kEvents, rng);
      if (auto city = fact(p, "city")) s += " in " + *city;
      auto ins = input_items(m, core, step);
      std::erase_if(ins, [](const std::string& x) { return x.size() > 40; });  // lessons are short items
      s += "; it taught me ";
      s += ins.empty() ? std::string(pick(kValues, rng)) : ins[rng.below(ins.size())];
      s += '.';
      return s;
    }
    case StoryKind::generic:
      return std::string(pick(kDescriptor, rng));
  }
  return {};
}

}  // namespace

namespace {

void story_value(const Model& m, const Persona& p, const std::vector<CoreValue>& core, std::size_t step,
                 CoreValue& cv) {
  const lang::StoryStep& st = m.recipe().story[step];
  Rng rng = Rng::derive(p.run_seed, p.index, "story:" + st.output);
  StoryKind kind = story_kind(st.instruction);
  if (kind == StoryKind::generic) kind = story_kind(st.output);
  cv.kind = st.shape.kind;
  cv.text.clear();
  cv.items.clear();
  cv.fields.clear();
  using K = lang::StoryShape::Kind;
  switch (st.shape.kind) {
    case K::text:
      cv.text = one_item(kind, m, p, core, step, rng);
      break;
    case K::list: {
      const int lo = std::max(0, st.shape.min_items);
      const int hi = std::max(lo, st.shape.max_items);
      const auto n =
          static_cast<std::size_t>(lo + static_cast<int>(rng.below(static_cast<std::uint64_t>(hi - lo + 1))));
      if (kind == StoryKind::values)
        pick_distinct(kValues, n, rng, cv.items);
      else if (kind == StoryKind::hobbies)
        pick_distinct(kHobbies, n, rng, cv.items);
      else if (kind == StoryKind::generic)
        pick_distinct(kDescriptor, n, rng, cv.items);
      else
        for (std::size_t i = 0; i < n; ++i) cv.items.push_back(one_item(kind, m, p, core, step, rng));
      break;
    }
    case K::object:
      for (const auto& [fname, ftype] : st.shape.fields) {
        CoreField f;
        f.name = fname;
        f.type = ftype;
        StoryKind fk = story_kind(fname);
        if (fk == StoryKind::generic) fk = kind;
        if (ftype == "number") {
          f.number = static_cast<double>(1 + rng.below(10));
        } else if (ftype == "list") {
          const std::size_t n = 2 + rng.below(2);
          if (fk == StoryKind::values)
            pick_distinct(kValues, n, rng, f.items);
          else if (fk == StoryKind::hobbies)
            pick_distinct(kHobbies, n, rng, f.items);
          else
            pick_distinct(kDescriptor, n, rng, f.items);
        } else {
          f.text = one_item(fk, m, p, core, step, rng);
        }
        cv.fields.push_back(std::move(f));
      }
      break;
  }
  cv.done = true;
}

// One slot's value: a weighted draw among the options the facts allow (coherence::Rules::draw:
// conditional weights, zero for options a rule forbids), else a lexicon word.
void slot_value(const Model& m, const Persona& p, std::uint32_t leaf, SlotAnswer& s) {
  const LeafInfo& li = m.leaf(leaf);
  Rng rng = Rng::derive_hashed(p.run_seed, p.index, li.fill_hash);  // stream "fill:" + path
  s.option = -1;
  s.state = SlotAnswer::State::value;
  if (!li.options.empty()) {
    const int chosen = m.rules().draw(p.coherence, li.vertex, rng);
    if (chosen >= 0) {
      s.value = li.options[static_cast<std::size_t>(chosen)].label;
      s.option = chosen;
      s.source = Source::options;
      return;
    }
    // Every option contradicts the facts (selection normally avoids such leaves).
    s.state = SlotAnswer::State::refused;
    s.value = "no value option consistent with the anchors";
    s.source = Source::options;
    return;
  }
  switch (li.lexicon) {
    case Lexicon::frequency:
      s.value = pick(kFrequency, rng);
      break;
    case Lexicon::level:
      s.value = pick(kLevel, rng);
      break;
    case Lexicon::yes_no:
      s.value = pick(kYesNo, rng);
      break;
    case Lexicon::amount:
      s.value = pick(kAmount, rng);
      break;
    case Lexicon::duration:
      s.value = pick(kDuration, rng);
      break;
    case Lexicon::descriptor:
      s.value = pick(kDescriptor, rng);
      break;
  }
  s.source = Source::lexicon;
}

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

struct Voice {
  std::string subject;     // "I" / "Amina"
  std::string pronoun;     // "I" / "they" (after the first sentence)
  std::string be;          // "am" / "is" (with subject), "are" with they
  std::string possessive;  // "my" / "their"
  bool first = true;
};

void append_sentence(std::string& out, std::size_t& words, std::string_view s) {
  if (!out.empty()) out += ' ';
  out += s;
  std::size_t w = 1;
  for (char c : s)
    if (c == ' ') ++w;
  words += w;
}

std::size_t count_words(std::string_view s) {
  std::size_t w = 1;
  for (char c : s)
    if (c == ' ') ++w;
  return w;
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += (i + 1 == items.size()) ? " and " : ", ";
    s += items[i];
  }
  return s;
}

std::string lower_first(std::string s) {
  if (s.size() > 1 && s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

// "I am ..." -> "Amina is ..." for the third person.
std::string third(std::string s, const std::string& subject) {
  auto rep = [&](std::string_view from, std::string_view to) {
    std::size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
      const bool left = pos == 0 || !is_word_char(s[pos - 1]);
      const bool right = pos + from.size() >= s.size() || !is_word_char(s[pos + from.size()]);
      if (left && right) {
        s.replace(pos, from.size(), to);
        pos += to.size();
      } else {
        pos += from.size();
      }
    }
  };
  rep("I am", subject + " is");
  rep("I was", subject + " was");
  rep("I have", subject + " has");
  rep("I", subject);
  rep("me", "them");
  rep("my", "their");
  rep("My", "Their");
  return s;
}

}  // namespace

std::string narrative_text(const Model& m, const Persona& p) {
  const auto& ns = m.recipe().narrative;
  if (ns.voice == "none") return {};
  Rng rng = Rng::derive(p.run_seed, p.index, "narrative");
  const std::size_t lo = static_cast<std::size_t>(std::max(1, ns.min_words));
  const std::size_t hi = static_cast<std::size_t>(std::max(ns.min_words, ns.max_words));
  const std::size_t target = lo + static_cast<std::size_t>(rng.below((hi - lo) / 2 + 1));
  std::vector<std::string> sentences;

  const auto name = fact(p, "name") ? fact(p, "name") : fact(p, "given_name");
  const auto age = fact(p, "age");
  const auto city = fact(p, "city");
  const auto country = fact(p, "country");
  const auto occupation = fact(p, "occupation");
  const auto employment = fact(p, "employment");
  {
    std::string s;
    if (name) s = "My name is " + *name + ".";
    std::string t = "I am";
    if (age) t += " " + *age + " years old";
    if (city && country)
      t += std::string(age ? " and" : "") + " live in " + *city + ", " + *country;
    else if (country)
      t += std::string(age ? " and" : "") + " live in " + *country;
    else if (city)
      t += std::string(age ? " and" : "") + " live in " + *city;
    if (t != "I am") s += (s.empty() ? "" : " ") + t + ".";
    if (!s.empty()) sentences.push_back(s);
  }
  if (employment && *employment == "student")
    sentences.emplace_back("I am a student.");
  else if (employment && *employment == "retired")
    sentences.emplace_back("I am retired now.");
  else if (employment && *employment == "unemployed")
    sentences.emplace_back("I am looking for work at the moment.");
  else if (employment && *employment == "homemaker")
    sentences.emplace_back("I look after our home and family.");
  else if (occupation)
    sentences.push_back("My work falls under " + lower_first(*occupation) + ".");
  // Other anchors not covered above.
  for (std::size_t a = 0; a < m.recipe().anchors.size(); ++a) {
    const auto& an = m.recipe().anchors[a].name;
    if (an == "name" || an == "given_name" || an == "age" || an == "city" || an == "country" || an == "occupation" ||
        an == "gender" || !p.anchors[a])
      continue;
    sentences.push_back("My " + an + " is " + value_text(*p.anchors[a]) + ".");
  }
  // The story, step by step.
  const auto& story = m.recipe().story;
  for (std::size_t k = 0; k < story.size() && k < p.core.size(); ++k) {
    const CoreValue& cv = p.core[k];
    StoryKind kind = story_kind(story[k].instruction);
    if (kind == StoryKind::generic) kind = story_kind(story[k].output);
    switch (kind) {
      case StoryKind::values:
        if (!cv.items.empty())
          sentences.push_back("What matters most to me is " + join_list(cv.items) + ".");
        else if (!cv.text.empty())
          sentences.push_back("What matters most to me is " + cv.text + ".");
        break;
      case StoryKind::hobbies:
        if (!cv.items.empty())
          sentences.push_back("In my free time I enjoy " + join_list(cv.items) + ".");
        else if (!cv.text.empty())
          sentences.push_back("In my free time I enjoy " + cv.text + ".");
        break;
      default:
        if (!cv.text.empty()) sentences.push_back(capitalise(cv.text));
        for (const auto& it : cv.items) sentences.push_back(capitalise(it));
        for (const auto& f : cv.fields) {
          if (!f.text.empty()) sentences.push_back(capitalise(f.text));
          if (!f.items.empty()) sentences.push_back("My " + lower_first(f.name) + ": " + join_list(f.items) + ".");
        }
    }
  }
  // Attributes: a seeded sample in random order until the word target is reached.
  // Forms that stay grammatical whatever the leaf name and value ("Chronotype", "evening person").
  static constexpr std::array<std::string_view, 4> kForms = {
      "My {n}: {v}.", "If you asked about my {n}, I would answer: {v}.", "On {n}, the answer is {v}.", "{N}? {V}."};
  std::size_t words = 0;
  for (const auto& s : sentences) words += count_words(s);
  std::string out;
  std::size_t wout = 0;
  const bool first_person = ns.voice != "third-person";
  std::string subject = name ? *name : std::string("This person");
  auto emit = [&](std::string s) {
    if (!first_person) s = third(std::move(s), subject);
    append_sentence(out, wout, s);
  };
  // Emit the fixed sentences, then attributes while under target; never above the maximum.
  std::size_t used = 0;
  for (const auto& s : sentences) {
    const std::size_t w = count_words(s);
    if (wout + w > hi) break;
    emit(s);
    ++used;
  }
  const std::size_t n = p.attributes.size();
  if (n > 0) {
    const std::size_t start = rng.below(n);
    // A prime stride that does not divide n visits every slot once, in a seeded order.
    static constexpr std::array<std::size_t, 10> kPrimes = {7, 11, 13, 17, 19, 23, 29, 31, 37, 41};
    std::size_t stride = 1;
    for (std::size_t k = 0, off = rng.below(kPrimes.size()); k < kPrimes.size(); ++k) {
      const std::size_t pr = kPrimes[(off + k) % kPrimes.size()];
      if (n % pr != 0) {
        stride = pr;
        break;
      }
    }
    for (std::size_t step = 0; step < n && wout < target; ++step) {
      const std::size_t i = (start + step * stride) % n;
      const Slot& sl = p.attributes[i];
      if (sl.status != SlotStatus::filled) continue;
      std::string form(kForms[rng.below(kForms.size())]);
      const std::string nm = text::lower(m.leaf(sl.leaf).name);
      std::string s;
      for (std::size_t c = 0; c < form.size(); ++c) {
        if (form[c] == '{' && c + 2 < form.size() && form[c + 2] == '}') {
          const char k = form[c + 1];
          if (k == 'n')
            s += nm;
          else if (k == 'N')
            s += capitalise(nm);
          else if (k == 'v')
            s += sl.value;
          else if (k == 'V')
            s += capitalise(sl.value);
          c += 2;
        } else {
          s += form[c];
        }
      }
      const std::size_t w = count_words(s);
      if (wout + w > hi) continue;
      emit(std::move(s));
    }
  }
  static constexpr std::array<std::string_view, 6> kFill = {"That is more or less who I am.",
                                                            "Life has not always been easy, but it has been mine.",
                                                            "I try to take each day as it comes.",
                                                            "People who know me say I am easy to talk to.",
                                                            "I still have plans I want to see through.",
                                                            "Most days are ordinary, and I like them that way."};
  for (std::size_t k = 0; wout < lo && k < 64; ++k) emit(std::string(kFill[k % kFill.size()]));
  (void)used;
  return out;
}

}  // namespace

void Offline::answer(const Program& prog, const Persona& p, const Ask& ask, Answer& a) const {
  const Model& m = prog.model();
  a.ok = true;
  a.fatal = a.truncated = false;
  a.error.clear();
  a.story.clear();
  a.text.clear();
  a.usage = {};
  switch (ask.kind) {
    case Ask::Kind::story: {
      // Later steps of a call read the earlier ones' answers, as a model answering the group would.
      std::vector<CoreValue> core = p.core;
      for (std::uint32_t k : ask.items) {
        story_value(m, p, core, k, core[k]);
        a.story.emplace_back(core[k]);
      }
      break;
    }
    case Ask::Kind::fill: {
      a.slots.resize(ask.items.size());
      for (std::size_t j = 0; j < ask.items.size(); ++j) slot_value(m, p, p.attributes[ask.items[j]].leaf, a.slots[j]);
      break;
    }
    case Ask::Kind::narrative:
      a.text = narrative_text(m, p);
      break;
    case Ask::Kind::embed:  // only a program given an embeddings scorer asks, and only an LLM answers
      a.ok = false;
      a.fatal = true;
      a.error = "the offline backend has no embeddings: rank by semantic or tfidf, or run with --llm";
      break;
  }
}

}  // namespace persona::backend
