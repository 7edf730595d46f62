// Personas in, answers out: the persona reader, grouping, the random mode and answers.csv.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "base/files.hpp"
#include "base/rng.hpp"
#include "base/text.hpp"
#include "survey/csv.hpp"
#include "survey/survey.hpp"

namespace persona::survey {

const char* to_string(Mode m) {
  switch (m) {
    case Mode::random:
      return "random";
    case Mode::deep:
      return "deep";
    case Mode::demographics:
      return "demographics";
    case Mode::cultural:
      return "cultural";
  }
  return "random";
}

std::optional<Mode> parse_mode(std::string_view s) {
  for (Mode m : {Mode::random, Mode::deep, Mode::demographics, Mode::cultural})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

const char* to_string(AnswerStatus s) {
  switch (s) {
    case AnswerStatus::ok:
      return "ok";
    case AnswerStatus::missing:
      return "missing";
    case AnswerStatus::invalid:
      return "invalid";
  }
  return "ok";
}

// ---------------------------------------------------------------------------------------------
// Personas

std::optional<std::vector<PersonaRecord>> read_personas(const std::filesystem::path& file, DiagnosticSink& sink,
                                                        bool whole) {
  const std::string name = file.string();
  const auto rd = files::read(file, {.max_bytes = 4ull << 30, .require_utf8 = true});
  if (!rd.ok()) {
    sink.error(SourceRange{name, rd.error_line, rd.error_column, 0}, "personas-read", rd.error);
    return std::nullopt;
  }
  const std::string_view text = *rd.text;
  std::vector<PersonaRecord> out;
  std::map<std::string, std::uint32_t> ids;
  bool failed = false;
  std::size_t pos = 0;
  std::uint32_t line = 0;
  while (pos < text.size()) {
    ++line;
    const std::size_t eol = text.find('\n', pos);
    const bool last_torn = eol == std::string_view::npos;
    const std::string_view raw = text.substr(pos, last_torn ? text.size() - pos : eol - pos);
    pos = last_torn ? text.size() : eol + 1;
    if (text::trim(raw).empty()) continue;
    nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
    if (j.is_discarded()) {
      if (last_torn) {
        sink.warning(SourceRange{name, line, 1, 0}, "personas-torn-line",
                     "the last line is incomplete (no final newline, not JSON): skipped");
        break;
      }
      sink.error(SourceRange{name, line, 1, 0}, "personas-json", "line " + std::to_string(line) + " is not valid JSON");
      failed = true;
      continue;
    }
    if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) {
      sink.error(SourceRange{name, line, 1, 0}, "personas-shape",
                 "line " + std::to_string(line) + " is not a persona: expected a JSON object with a string `id`");
      failed = true;
      continue;
    }
    PersonaRecord p;
    p.id = j["id"].get<std::string>();
    if (auto [it, fresh] = ids.emplace(p.id, line); !fresh) {
      sink.error(SourceRange{name, line, 1, 0}, "personas-duplicate",
                 "persona `" + p.id + "` appears twice (first on line " + std::to_string(it->second) + ")");
      failed = true;
      continue;
    }
    p.index = out.size();
    p.line = line;
    if (whole) {
      p.data = std::move(j);
    } else {
      p.data = {{"id", p.id}};
      if (j.contains("anchors")) p.data["anchors"] = std::move(j["anchors"]);
    }
    out.push_back(std::move(p));
  }
  if (failed) return std::nullopt;
  if (out.empty()) {
    sink.error(SourceRange{name, 0, 0, 0}, "personas-empty", "no personas in " + name);
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> group_of(const Questionnaire& q, const PersonaRecord& p) {
  if (q.group_by.empty()) return std::string("all");
  const nlohmann::json* anchors =
      p.data.contains("anchors") && p.data["anchors"].is_object() ? &p.data["anchors"] : nullptr;
  std::string out;
  for (const auto& a : q.group_by) {
    if (anchors == nullptr || !anchors->contains(a)) return std::nullopt;
    const auto& v = (*anchors)[a];
    std::string part;
    if (v.is_number()) {
      const double x = v.get<double>();
      part = text::format_number(x);
      for (const auto& b : q.bands)
        if (b.anchor == a) part = b.label(x);
      if (part.empty()) return std::nullopt;  // below the first band
    } else if (v.is_string()) {
      part = v.get<std::string>();
    } else if (v.is_boolean()) {
      part = v.get<bool>() ? "true" : "false";
    } else {
      return std::nullopt;
    }
    out += (out.empty() ? "" : "/") + part;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Random mode

std::vector<Answer> random_answers(const Questionnaire& q, const std::vector<PersonaRecord>& people,
                                   const RandomOptions& o) {
  std::vector<Answer> out;
  out.reserve(people.size() * q.items.size() * static_cast<std::size_t>(std::max(1, o.repeats)));
  for (const auto& p : people) {
    for (std::size_t i = 0; i < q.items.size(); ++i) {
      const Item& it = q.items[i];
      for (int r = 0; r < std::max(1, o.repeats); ++r) {
        Rng rng = Rng::derive(o.seed, p.index, "survey:random:" + it.id + ":" + std::to_string(r));
        Answer a;
        a.persona = p.index;
        a.item = i;
        a.repeat = r;
        a.mode = Mode::random;
        a.status = AnswerStatus::ok;
        if (it.form == Form::numeric) {
          a.code = it.min + rng.uniform() * (it.max - it.min);
        } else {
          a.code = it.codes[rng.below(it.codes.size())].value;
        }
        out.push_back(a);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// answers.csv

std::string answers_csv(const Questionnaire& q, const std::vector<PersonaRecord>& people,
                        const std::vector<Answer>& answers) {
  std::string out = "persona,item,repeat,code,mode,status\n";
  for (const auto& a : answers) {
    out += csv::quote(people[a.persona].id);
    out += ',';
    out += csv::quote(q.items[a.item].id);
    out += ',';
    out += std::to_string(a.repeat);
    out += ',';
    if (a.status != AnswerStatus::invalid) text::append_number(out, a.code);
    out += ',';
    out += to_string(a.mode);
    out += ',';
    out += to_string(a.status);
    out += '\n';
  }
  return out;
}

std::optional<std::vector<Answer>> parse_answers_csv(std::string_view text, const std::string& file,
                                                     const Questionnaire& q, const std::vector<PersonaRecord>& people,
                                                     DiagnosticSink& sink) {
  const auto p = csv::parse(text);
  if (!p.ok()) {
    sink.error(SourceRange{file, p.error_line, p.error_column, 1}, "answers-csv", p.error);
    return std::nullopt;
  }
  const std::vector<std::string> want = {"persona", "item", "repeat", "code", "mode", "status"};
  if (p.rows.empty() || p.rows[0].fields.size() != want.size() ||
      !std::equal(want.begin(), want.end(), p.rows[0].fields.begin(),
                  [](const std::string& w, const csv::Field& f) { return text::iequals(w, f.text); })) {
    sink.error(SourceRange{file, p.rows.empty() ? 0 : p.rows[0].line, 1, 0}, "answers-header",
               "expected the header persona,item,repeat,code,mode,status");
    return std::nullopt;
  }
  std::map<std::string, std::size_t> index;
  for (const auto& pr : people) index.emplace(pr.id, pr.index);
  std::vector<Answer> out;
  bool failed = false;
  auto bad = [&](const csv::Row& row, const csv::Field& f, const std::string& msg) {
    sink.error(SourceRange{file, row.line, f.column, static_cast<std::uint32_t>(f.text.size())}, "answers-row", msg);
    failed = true;
  };
  for (std::size_t r = 1; r < p.rows.size(); ++r) {
    const auto& row = p.rows[r];
    if (row.fields.size() != want.size()) {
      sink.error(SourceRange{file, row.line, 1, 0}, "answers-row",
                 "row has " + std::to_string(row.fields.size()) + " fields, expected 6");
      failed = true;
      continue;
    }
    const auto& f = row.fields;
    Answer a;
    const auto pit = index.find(f[0].text);
    if (pit == index.end()) {
      bad(row, f[0], "persona `" + f[0].text + "` is not in the persona file");
      continue;
    }
    a.persona = pit->second;
    const auto ii = q.index_of(f[1].text);
    if (!ii) {
      bad(row, f[1], "no item `" + f[1].text + "` in the questionnaire");
      continue;
    }
    a.item = *ii;
    int rep = -1;
    const auto rr = std::from_chars(f[2].text.data(), f[2].text.data() + f[2].text.size(), rep);
    if (rr.ec != std::errc() || rr.ptr != f[2].text.data() + f[2].text.size() || rep < 0) {
      bad(row, f[2], "repeat `" + f[2].text + "` must be a whole number >= 0");
      continue;
    }
    a.repeat = rep;
    const auto mode = parse_mode(f[4].text);
    if (!mode) {
      bad(row, f[4], "unknown mode `" + f[4].text + "` (random, deep, demographics, cultural)");
      continue;
    }
    a.mode = *mode;
    const Item& it = q.items[a.item];
    if (f[5].text == "invalid") {
      a.status = AnswerStatus::invalid;
    } else {
      double v = 0;
      const auto cr = std::from_chars(f[3].text.data(), f[3].text.data() + f[3].text.size(), v);
      if (cr.ec != std::errc() || cr.ptr != f[3].text.data() + f[3].text.size()) {
        bad(row, f[3], "code `" + f[3].text + "` is not a number");
        continue;
      }
      a.code = v;
      if (it.is_missing(v)) {
        a.status = AnswerStatus::missing;
      } else if (it.is_code(v)) {
        a.status = AnswerStatus::ok;
      } else {
        bad(row, f[3], "code `" + f[3].text + "` is not an answer of item `" + it.id + "`");
        continue;
      }
      if (f[5].text != "ok" && f[5].text != "missing") {
        bad(row, f[5], "unknown status `" + f[5].text + "` (ok, missing, invalid)");
        continue;
      }
    }
    out.push_back(a);
  }
  if (failed) return std::nullopt;
  return out;
}

}  // namespace persona::survey
