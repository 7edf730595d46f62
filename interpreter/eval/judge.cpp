// The LLM judge's sans-IO pieces: choice of personas, requests, answer parsing, scoring.
#include "eval/judge.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "base/files.hpp"
#include "base/rng.hpp"
#include "base/text.hpp"
#include "engine/program.hpp"
#include "util/stdlib_path.hpp"

namespace persona::eval::judge {

using json = nlohmann::json;

namespace {

constexpr std::int64_t kEnvelopeTokens = 40;          // model, response_format, roles
constexpr std::int64_t kRatingCompletionTokens = 60;  // two scores and a sentence
constexpr std::int64_t kFactCompletionTokens = 14;    // {"attribute": "...", "value": "..."}
constexpr std::size_t kMaxErrors = 20;

std::optional<Template> load_template(const std::filesystem::path& path, DiagnosticSink& sink, std::string& all) {
  auto read = files::read(path, files::Limits{1u << 20, true});
  if (!read.ok()) {
    sink.error(SourceRange{path.string(), read.error_line, read.error_column, 0}, "judge-rubric", read.error);
    return std::nullopt;
  }
  all += *read.text;
  Template t;
  const std::string& text = *read.text;
  const auto sep = text.find("\n---\n");
  if (sep == std::string::npos) {
    sink.error(SourceRange{path.string(), 0, 0, 0}, "judge-rubric",
               "no line '---' between the system message and the user message");
    return std::nullopt;
  }
  t.system = text.substr(0, sep);
  t.user = std::string(text::trim(std::string_view(text).substr(sep + 5)));
  return t;
}

// Replaces {name} for the given names only; other braces (JSON examples) stay.
std::string fill(std::string_view tpl, const std::vector<std::pair<std::string_view, std::string_view>>& values) {
  std::string out;
  out.reserve(tpl.size() + 1024);
  for (std::size_t i = 0; i < tpl.size();) {
    bool done = false;
    if (tpl[i] == '{')
      for (const auto& [k, v] : values)
        if (tpl.substr(i + 1, k.size()) == k && i + 1 + k.size() < tpl.size() && tpl[i + 1 + k.size()] == '}') {
          out += v;
          i += k.size() + 2;
          done = true;
          break;
        }
    if (!done) out += tpl[i++];
  }
  return out;
}

// The JSON object in an answer: the whole text, or the first '{' to the last '}' (fences, prose).
std::optional<json> answer_object(std::string_view answer, std::string& error) {
  json j = json::parse(answer, nullptr, false);
  if (j.is_discarded()) {
    const auto a = answer.find('{'), z = answer.rfind('}');
    if (a != std::string_view::npos && z != std::string_view::npos && z > a)
      j = json::parse(answer.substr(a, z - a + 1), nullptr, false);
  }
  if (j.is_discarded()) {
    error = "the answer is not JSON";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = std::string("the answer is a JSON ") + j.type_name() + ", not an object";
    return std::nullopt;
  }
  return j;
}

std::optional<int> score(const json& j, const char* key, std::string& error) {
  const auto it = j.find(key);
  if (it == j.end()) {
    error = std::string("'") + key + "' is missing";
    return std::nullopt;
  }
  double v = 0;
  if (it->is_number()) {
    v = it->get<double>();
  } else if (it->is_string()) {
    const std::string s(text::trim(it->get<std::string>()));
    try {
      std::size_t used = 0;
      v = std::stod(s, &used);
      if (used != s.size()) v = -1;
    } catch (...) {
      v = -1;
    }
  } else {
    v = -1;
  }
  if (!(v >= 1 && v <= 5) || v != std::floor(v)) {
    error = std::string("'") + key + "' must be a whole number from 1 to 5, not " + it->dump();
    return std::nullopt;
  }
  return static_cast<int>(v);
}

std::unordered_set<std::string> word_set(std::string_view s) {
  std::unordered_set<std::string> out;
  std::string buf;
  text::for_each_word(s, buf, [&](std::string_view w) { out.emplace(w); });
  return out;
}

double word_jaccard(const std::unordered_set<std::string>& a, const std::unordered_set<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  std::size_t both = 0;
  for (const auto& w : a) both += b.count(w);
  return static_cast<double>(both) / static_cast<double>(a.size() + b.size() - both);
}

bool agree(std::string_view x, std::string_view y) {
  const std::string fx = text::fold(x), fy = text::fold(y);
  if (fx.empty() || fy.empty()) return false;
  if (fx == fy) return true;
  if (fx.size() >= 3 && fy.size() >= 3 && (fx.find(fy) != std::string::npos || fy.find(fx) != std::string::npos))
    return true;
  return word_jaccard(word_set(x), word_set(y)) >= 0.5;
}

bool names_agree(std::string_view x, std::string_view y) {
  const std::string fx = text::fold(x), fy = text::fold(y);
  return (!fx.empty() && fx == fy) || word_jaccard(word_set(x), word_set(y)) >= 0.5;
}

}  // namespace

std::filesystem::path default_rubric_dir() { return stdlib_dir() / "prompts"; }

std::optional<Rubric> load_rubric(const std::filesystem::path& dir, DiagnosticSink& sink) {
  std::string all;
  auto rating = load_template(dir / "judge_rating.txt", sink, all);
  auto recovery = load_template(dir / "judge_recovery.txt", sink, all);
  if (!rating || !recovery) return std::nullopt;
  return Rubric{std::move(*rating), std::move(*recovery), files::sha256_hex(all)};
}

std::string profile_text(const record::PersonaRecord& r, std::size_t max_attributes) {
  std::string out;
  for (const auto& [k, v] : r.anchors)
    if (!v.is_null()) out += k + ": " + v.to_text() + "\n";
  for (const auto& [k, v] : r.core)
    if (!v.is_null()) out += k + ": " + v.to_text() + "\n";
  std::size_t n = 0;
  for (const auto& a : r.attributes) {
    if (a.status != "filled" || !a.value) continue;
    if (n++ >= max_attributes) break;
    const std::string_view p = a.path;
    const auto last = p.rfind('/');
    const auto prev = last == std::string_view::npos ? std::string_view::npos : p.rfind('/', last - 1);
    const std::string_view shown = prev == std::string_view::npos ? p : p.substr(prev + 1);
    std::string line(shown);
    if (const auto s = line.find('/'); s != std::string::npos) line.replace(s, 1, " > ");
    out += line + ": " + *a.value + "\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

Request build_rating(const record::PersonaRecord& r, const Rubric& rubric) {
  Request q;
  q.kind = Kind::rating;
  q.persona_id = r.id;
  const std::string profile = profile_text(r);
  q.system = rubric.rating.system;
  q.user = fill(rubric.rating.user, {{"profile", profile}, {"narrative", r.narrative}});
  q.schema = R"({"type":"object","properties":{"uniqueness":{"type":"integer","minimum":1,"maximum":5},)"
             R"("actionability":{"type":"integer","minimum":1,"maximum":5},"reason":{"type":"string"}},)"
             R"("required":["uniqueness","actionability","reason"],"additionalProperties":false})";
  q.prompt_tokens = kEnvelopeTokens + engine::estimate_tokens(q.system) + engine::estimate_tokens(q.user);
  q.completion_tokens = kRatingCompletionTokens;
  return q;
}

Request build_recovery(const record::PersonaRecord& r, const Rubric& rubric) {
  Request q;
  q.kind = Kind::recovery;
  q.persona_id = r.id;
  q.system = rubric.recovery.system;
  q.user = fill(rubric.recovery.user, {{"narrative", r.narrative}});
  q.schema = R"({"type":"object","properties":{"attributes":{"type":"array","items":{"type":"object",)"
             R"("properties":{"attribute":{"type":"string"},"value":{"type":"string"}},)"
             R"("required":["attribute","value"],"additionalProperties":false}}},)"
             R"("required":["attributes"],"additionalProperties":false})";
  q.prompt_tokens = kEnvelopeTokens + engine::estimate_tokens(q.system) + engine::estimate_tokens(q.user);
  // A narrative states roughly one fact per sentence: ~ words / 12.
  const auto facts = std::max<std::int64_t>(8, static_cast<std::int64_t>(text::word_count(r.narrative)) / 12);
  q.completion_tokens = 10 + facts * kFactCompletionTokens;
  return q;
}

std::optional<Rating> parse_rating(std::string_view answer, std::string& error) {
  auto j = answer_object(answer, error);
  if (!j) return std::nullopt;
  Rating r;
  const auto u = score(*j, "uniqueness", error);
  if (!u) return std::nullopt;
  const auto a = score(*j, "actionability", error);
  if (!a) return std::nullopt;
  r.uniqueness = *u;
  r.actionability = *a;
  if (auto it = j->find("reason"); it != j->end() && it->is_string()) r.reason = it->get<std::string>();
  return r;
}

std::optional<std::vector<Fact>> parse_recovery(std::string_view answer, std::string& error) {
  auto j = answer_object(answer, error);
  if (!j) return std::nullopt;
  const auto it = j->find("attributes");
  if (it == j->end() || !it->is_array()) {
    error = "'attributes' is missing or not an array";
    return std::nullopt;
  }
  std::vector<Fact> out;
  std::size_t n = 0;
  for (const auto& x : *it) {
    ++n;
    if (!x.is_object() || !x.contains("attribute") || !x["attribute"].is_string()) {
      error = "fact " + std::to_string(n) + " has no 'attribute' string";
      return std::nullopt;
    }
    Fact f;
    f.attribute = x["attribute"].get<std::string>();
    if (auto v = x.find("value"); v != x.end()) f.value = v->is_string() ? v->get<std::string>() : v->dump();
    out.push_back(std::move(f));
  }
  return out;
}

Recovery score_recovery(const record::PersonaRecord& r, const std::vector<Fact>& facts) {
  struct Known {
    std::string name, value;
    bool used = false;
  };
  std::vector<Known> known;
  for (const auto& [k, v] : r.anchors)
    if (!v.is_null()) known.push_back({k, v.to_text()});
  for (const auto& [k, v] : r.core)
    if (v.kind == record::Value::Kind::list)
      for (const auto& item : v.items) known.push_back({k, item});
    else if (!v.is_null())
      known.push_back({k, v.to_text()});
  for (const auto& a : r.attributes)
    if (a.status == "filled" && a.value) {
      const auto slash = a.path.rfind('/');
      known.push_back({slash == std::string::npos ? a.path : a.path.substr(slash + 1), *a.value});
    }
  Recovery out;
  out.listed = facts.size();
  for (const auto& f : facts)
    for (auto& k : known) {
      if (k.used) continue;
      if (names_agree(f.attribute, k.name) && agree(f.value, k.value)) {
        k.used = true;
        ++out.recovered;
        break;
      }
    }
  return out;
}

Chooser::Chooser(std::size_t n, std::uint64_t seed) : n_(n), seed_(seed) {}

std::uint64_t Chooser::key(std::string_view id) const {
  return splitmix64(stable_hash(id, splitmix64(seed_ ^ 0x6a75646765ULL)));
}

void Chooser::offer(std::string_view id) {
  if (n_ == 0) return;
  const std::uint64_t k = key(id);
  auto less = [](const auto& a, const auto& b) { return a < b; };
  if (ids_.size() < n_) {
    ids_.emplace_back(k, std::string(id));
    std::push_heap(ids_.begin(), ids_.end(), less);
  } else if (std::pair<std::uint64_t, std::string_view>(k, id) <
             std::pair<std::uint64_t, std::string_view>(ids_.front().first, ids_.front().second)) {
    std::pop_heap(ids_.begin(), ids_.end(), less);
    ids_.back() = {k, std::string(id)};
    std::push_heap(ids_.begin(), ids_.end(), less);
  }
}

bool Chooser::chosen(std::string_view id) const {
  const std::uint64_t k = key(id);
  return std::any_of(ids_.begin(), ids_.end(), [&](const auto& e) { return e.first == k && e.second == id; });
}

std::vector<std::string> Chooser::ids() const {
  auto sorted = ids_;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (auto& [k, id] : sorted) out.push_back(std::move(id));
  return out;
}

void Summary::add(const Rating& r) {
  ++rated;
  uniqueness += r.uniqueness;
  actionability += r.actionability;
}

void Summary::add(const Recovery& r) {
  ++recovered_personas;
  recovered += static_cast<double>(r.recovered);
  listed += static_cast<double>(r.listed);
}

void Summary::fail(std::string error) {
  ++failures;
  if (errors.size() < kMaxErrors) errors.push_back(std::move(error));
}

void apply(const Summary& s, FileReport& report) {
  auto& m = report.metrics;
  m["judge_sample"] = static_cast<double>(std::max(s.rated, s.recovered_personas));
  m["judge_failures"] = static_cast<double>(s.failures);
  if (s.rated > 0) {
    m["judge_uniqueness"] = s.uniqueness / static_cast<double>(s.rated);
    m["judge_actionability"] = s.actionability / static_cast<double>(s.rated);
  }
  if (s.recovered_personas > 0) {
    m["judge_recovered"] = s.recovered / static_cast<double>(s.recovered_personas);
    m["judge_listed"] = s.listed / static_cast<double>(s.recovered_personas);
  }
}

}  // namespace persona::eval::judge
