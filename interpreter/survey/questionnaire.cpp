// Questionnaire files (TOML, docs/survey.md).
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "base/files.hpp"
#include "base/text.hpp"
#include "survey/survey.hpp"

namespace persona::survey {

const char* to_string(Form f) {
  switch (f) {
    case Form::scale:
      return "scale";
    case Form::options:
      return "options";
    case Form::numeric:
      return "numeric";
  }
  return "scale";
}

bool Item::is_code(double v) const {
  if (form == Form::numeric) return std::isfinite(v) && v >= min && v <= max && !is_missing(v);
  return std::any_of(codes.begin(), codes.end(), [&](const Code& c) { return c.value == v; });
}

bool Item::is_missing(double v) const {
  return std::any_of(missing.begin(), missing.end(), [&](const Code& c) { return c.value == v; });
}

std::vector<double> Item::code_values() const {
  std::vector<double> out;
  for (const auto& c : codes) out.push_back(c.value);
  return out;
}

std::string Bands::label(double v) const {
  for (std::size_t i = cuts.size(); i-- > 0;) {
    if (v >= cuts[i]) {
      if (i + 1 == cuts.size()) return text::format_number(cuts[i]) + "+";
      return text::format_number(cuts[i]) + "-" + text::format_number(cuts[i + 1] - 1);
    }
  }
  return {};
}

const Item* Questionnaire::find(std::string_view item_id) const {
  for (const auto& it : items)
    if (it.id == item_id) return &it;
  return nullptr;
}

std::optional<std::size_t> Questionnaire::index_of(std::string_view item_id) const {
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i].id == item_id) return i;
  return std::nullopt;
}

namespace {

struct Reader {
  const std::string& file;
  DiagnosticSink& sink;
  bool failed = false;

  SourceRange at(const toml::source_region& r, std::uint32_t length = 0) const {
    return SourceRange{file, static_cast<std::uint32_t>(r.begin.line), static_cast<std::uint32_t>(r.begin.column),
                       length};
  }
  SourceRange at(const toml::node& n) const { return at(n.source()); }
  SourceRange at(const toml::key& k) const { return at(k.source(), static_cast<std::uint32_t>(k.str().size())); }
  void error(const SourceRange& w, std::string code, std::string msg, std::vector<std::string> notes = {}) {
    sink.error(w, std::move(code), std::move(msg), std::move(notes));
    failed = true;
  }

  void unknown_keys(const toml::table& t, const std::vector<std::string>& known, const std::string& where) {
    for (const auto& [k, v] : t) {
      const std::string name(k.str());
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::vector<std::string> notes;
      if (auto m = closest_match(name, known); !m.empty()) notes.push_back("did you mean `" + m + "`?");
      sink.warning(at(k), "survey-unknown-key", "unknown key `" + name + "` in " + where + " (ignored)",
                   std::move(notes));
    }
  }

  std::optional<std::string> string(const toml::table& t, const char* key, bool required, const SourceRange& owner) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      if (required) error(owner, "survey-missing-key", std::string("`") + key + "` is required here");
      return std::nullopt;
    }
    if (const auto* s = n->as_string()) return s->get();
    error(at(*n), "survey-type", std::string("`") + key + "` must be a string");
    return std::nullopt;
  }

  std::optional<double> number(const toml::node& n, const std::string& what) {
    if (n.is_integer() || n.is_floating_point()) {
      const double v = *n.value<double>();
      if (std::isfinite(v)) return v;
    }
    error(at(n), "survey-type", what + " must be a number");
    return std::nullopt;
  }

  // [lo, hi] with lo < hi.
  std::optional<std::pair<double, double>> pair(const toml::node& n, const std::string& what, bool integers) {
    const auto* a = n.as_array();
    if (a == nullptr || a->size() != 2) {
      error(at(n), "survey-type", what + " must be an array of two numbers [low, high]");
      return std::nullopt;
    }
    const auto lo = number(*a->get(0), what), hi = number(*a->get(1), what);
    if (!lo || !hi) return std::nullopt;
    if (integers && (std::floor(*lo) != *lo || std::floor(*hi) != *hi)) {
      error(at(n), "survey-scale", what + " must hold whole numbers");
      return std::nullopt;
    }
    if (!(*lo < *hi)) {
      error(at(n), "survey-scale",
            what + ": the low end " + text::format_number(*lo) + " must be below the high end " +
                text::format_number(*hi));
      return std::nullopt;
    }
    return std::make_pair(*lo, *hi);
  }

  // { 1 = "label", -1 = "label" }: whole-number keys, string values.
  std::optional<std::vector<Code>> codes(const toml::node& n, const std::string& what) {
    const auto* t = n.as_table();
    if (t == nullptr) {
      error(at(n), "survey-type", what + " must be a table of code = \"label\" (e.g. { 1 = \"agree\" })");
      return std::nullopt;
    }
    std::vector<Code> out;
    bool ok = true;
    for (const auto& [k, v] : *t) {
      const std::string key(k.str());
      long long code = 0;
      const auto* end = key.data() + key.size();
      const auto res = std::from_chars(key.data(), end, code);
      if (res.ec != std::errc() || res.ptr != end) {
        error(at(k), "survey-code", what + ": `" + key + "` is not a whole-number answer code",
              {"codes are written as keys: { 1 = \"yes\", 2 = \"no\", -1 = \"don't know\" }"});
        ok = false;
        continue;
      }
      const auto* s = v.as_string();
      if (s == nullptr) {
        error(at(v), "survey-type", what + ": the label of code " + key + " must be a string");
        ok = false;
        continue;
      }
      out.push_back(Code{static_cast<double>(code), s->get()});
    }
    if (!ok) return std::nullopt;
    std::sort(out.begin(), out.end(), [](const Code& a, const Code& b) { return a.value < b.value; });
    return out;
  }
};

void read_item(Reader& r, const toml::table& t, Questionnaire& q, std::vector<Code> default_missing) {
  const SourceRange here = r.at(t);
  r.unknown_keys(t, {"id", "text", "form", "scale", "labels", "options", "range", "bins", "missing", "block"},
                 "an [[item]]");
  Item it;
  it.where = here;
  const auto id = r.string(t, "id", true, here);
  if (!id) return;
  it.id = *id;
  if (it.id.empty() || it.id.find_first_of(",\"\n\r/") != std::string::npos) {
    r.error(r.at(*t.get("id")), "survey-item-id", "item id `" + it.id + "` must be non-empty without , \" or /");
    return;
  }
  if (const Item* prev = q.find(it.id)) {
    r.sink.report(Diagnostic{Severity::error,
                             r.at(*t.get("id")),
                             "item `" + it.id + "` is defined twice",
                             "survey-duplicate-item",
                             {},
                             {Related{prev->where, "first defined here"}}});
    r.failed = true;
    return;
  }
  if (auto s = r.string(t, "text", true, here)) it.text = *s;
  if (auto s = r.string(t, "block", false, here)) it.block = *s;
  std::string form = "scale";
  if (auto s = r.string(t, "form", false, here)) form = *s;
  if (form == "scale") {
    it.form = Form::scale;
  } else if (form == "options") {
    it.form = Form::options;
  } else if (form == "numeric") {
    it.form = Form::numeric;
  } else {
    r.error(r.at(*t.get("form")), "survey-form", "unknown form `" + form + "`",
            {"expected scale (ordered labelled points), options (unordered) or numeric"});
    return;
  }
  it.missing = std::move(default_missing);
  if (const toml::node* m = t.get("missing")) {
    auto c = r.codes(*m, "`missing`");
    if (!c) return;
    it.missing = std::move(*c);
  }
  auto forbid = [&](const char* key, const char* why) {
    if (const toml::node* n = t.get(key)) r.error(r.at(*n), "survey-key", std::string("`") + key + "` " + why);
  };
  if (it.form == Form::scale) {
    forbid("options", "belongs to form = \"options\"; a scale uses `scale` and `labels`");
    forbid("range", "belongs to form = \"numeric\"; a scale uses `scale = [low, high]`");
    std::vector<Code> labels;
    if (const toml::node* n = t.get("labels")) {
      auto c = r.codes(*n, "`labels`");
      if (!c) return;
      labels = std::move(*c);
    }
    if (const toml::node* n = t.get("scale")) {
      const auto p = r.pair(*n, "`scale`", true);
      if (!p) return;
      if (std::fabs(p->first) > 1e9 || std::fabs(p->second) > 1e9) {
        r.error(r.at(*n), "survey-scale", "`scale` codes must lie within -1e9..1e9");
        return;
      }
      if (p->second - p->first > 1000) {
        r.error(r.at(*n), "survey-scale", "`scale` has more than 1000 points: use form = \"numeric\"");
        return;
      }
      for (double v = p->first; v <= p->second; v += 1) it.codes.push_back(Code{v, {}});
      for (const auto& l : labels) {
        auto c = std::find_if(it.codes.begin(), it.codes.end(), [&](const Code& x) { return x.value == l.value; });
        if (c == it.codes.end()) {
          r.error(r.at(*t.get("labels")), "survey-code",
                  "label for code " + text::format_number(l.value) + " is outside `scale` [" +
                      text::format_number(p->first) + ", " + text::format_number(p->second) + "]");
          return;
        }
        c->label = l.label;
      }
    } else if (!labels.empty()) {
      it.codes = std::move(labels);
    } else {
      r.error(here, "survey-scale", "scale item `" + it.id + "` needs `scale = [low, high]` or `labels`");
      return;
    }
    if (it.codes.size() < 2) {
      r.error(here, "survey-scale", "item `" + it.id + "` has fewer than two answer codes");
      return;
    }
    it.min = it.codes.front().value;
    it.max = it.codes.back().value;
  } else if (it.form == Form::options) {
    forbid("scale", "belongs to form = \"scale\"");
    forbid("labels", "belongs to form = \"scale\"; options are labelled in `options`");
    forbid("range", "belongs to form = \"numeric\"");
    const toml::node* n = t.get("options");
    if (n == nullptr) {
      r.error(here, "survey-missing-key", "options item `" + it.id + "` needs `options = { 1 = \"...\", ... }`");
      return;
    }
    auto c = r.codes(*n, "`options`");
    if (!c) return;
    it.codes = std::move(*c);
    if (it.codes.size() < 2) {
      r.error(r.at(*n), "survey-code", "item `" + it.id + "` has fewer than two options");
      return;
    }
    it.min = it.codes.front().value;
    it.max = it.codes.back().value;
  } else {
    forbid("scale", "belongs to form = \"scale\"; a numeric item uses `range = [low, high]`");
    forbid("labels", "belongs to form = \"scale\"");
    forbid("options", "belongs to form = \"options\"");
    const toml::node* n = t.get("range");
    if (n == nullptr) {
      r.error(here, "survey-missing-key", "numeric item `" + it.id + "` needs `range = [low, high]`");
      return;
    }
    const auto p = r.pair(*n, "`range`", false);
    if (!p) return;
    it.min = p->first;
    it.max = p->second;
    if (const toml::node* b = t.get("bins")) {
      const auto v = b->value<std::int64_t>();
      if (!b->is_integer() || !v || *v < 2 || *v > 1000) {
        r.error(r.at(*b), "survey-bins", "`bins` must be a whole number from 2 to 1000");
        return;
      }
      it.bins = static_cast<int>(*v);
    }
  }
  if (const toml::node* b = t.get("bins"); b != nullptr && it.form != Form::numeric) {
    r.error(r.at(*b), "survey-key", "`bins` applies to numeric items only");
    return;
  }
  for (const auto& m : it.missing) {
    const bool clash = it.form == Form::numeric ? (m.value >= it.min && m.value <= it.max) : it.is_code(m.value);
    if (clash) {
      r.error(r.at(t.get("missing") != nullptr ? *t.get("missing") : t), "survey-code",
              "missing code " + text::format_number(m.value) + " of item `" + it.id + "` is also an answer");
      return;
    }
  }
  q.items.push_back(std::move(it));
}

}  // namespace

std::optional<Questionnaire> parse_questionnaire(std::string_view toml_text, const std::string& file,
                                                 DiagnosticSink& sink) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    sink.error(SourceRange{file, static_cast<std::uint32_t>(b.line), static_cast<std::uint32_t>(b.column), 0},
               "toml-syntax", std::string(e.description()));
    return std::nullopt;
  }
  Reader r{file, sink};
  Questionnaire q;
  q.file = file;
  r.unknown_keys(root, {"survey", "item"}, "the questionnaire");
  std::vector<Code> default_missing;
  if (const toml::node* sn = root.get("survey")) {
    const auto* s = sn->as_table();
    if (s == nullptr) {
      r.error(r.at(*sn), "survey-type", "`survey` must be a table ([survey])");
      return std::nullopt;
    }
    r.unknown_keys(*s, {"id", "title", "source", "group_by", "bands", "missing", "offer_missing", "items_per_call"},
                   "[survey]");
    const SourceRange here = r.at(*s);
    if (auto v = r.string(*s, "id", false, here)) q.id = *v;
    if (auto v = r.string(*s, "title", false, here)) q.title = *v;
    if (auto v = r.string(*s, "source", false, here)) q.source = *v;
    if (const toml::node* g = s->get("group_by")) {
      const auto* a = g->as_array();
      if (a == nullptr) {
        r.error(r.at(*g), "survey-type", "`group_by` must be an array of anchor names");
      } else {
        for (const auto& e : *a) {
          if (const auto* str = e.as_string()) {
            q.group_by.push_back(str->get());
          } else {
            r.error(r.at(e), "survey-type", "`group_by` holds anchor names (strings)");
          }
        }
      }
    }
    if (const toml::node* b = s->get("bands")) {
      const auto* bt = b->as_table();
      if (bt == nullptr) {
        r.error(r.at(*b), "survey-type", "`bands` must be a table: { age = [18, 30, 50] }");
      } else {
        for (const auto& [k, v] : *bt) {
          Bands band;
          band.anchor = std::string(k.str());
          const auto* a = v.as_array();
          if (a == nullptr || a->empty()) {
            r.error(r.at(v), "survey-type", "bands of `" + band.anchor + "` must be a non-empty array of cut points");
            continue;
          }
          for (const auto& e : *a)
            if (auto x = r.number(e, "a cut point of `" + band.anchor + "`")) band.cuts.push_back(*x);
          if (!std::is_sorted(band.cuts.begin(), band.cuts.end()) ||
              std::adjacent_find(band.cuts.begin(), band.cuts.end()) != band.cuts.end()) {
            r.error(r.at(v), "survey-bands", "the cut points of `" + band.anchor + "` must increase");
            continue;
          }
          if (std::find(q.group_by.begin(), q.group_by.end(), band.anchor) == q.group_by.end())
            sink.warning(r.at(k), "survey-bands-unused",
                         "bands for `" + band.anchor + "`, which is not in `group_by` (ignored)");
          q.bands.push_back(std::move(band));
        }
      }
    }
    if (const toml::node* m = s->get("missing")) {
      if (auto c = r.codes(*m, "`missing`")) default_missing = std::move(*c);
    }
    if (const toml::node* o = s->get("offer_missing")) {
      if (const auto* bv = o->as_boolean()) {
        q.offer_missing = bv->get();
      } else {
        r.error(r.at(*o), "survey-type", "`offer_missing` must be true or false");
      }
    }
    if (const toml::node* n = s->get("items_per_call")) {
      const auto v = n->value<std::int64_t>();
      if (!n->is_integer() || !v || *v < 1 || *v > 200) {
        r.error(r.at(*n), "survey-type", "`items_per_call` must be a whole number from 1 to 200");
      } else {
        q.items_per_call = static_cast<int>(*v);
      }
    }
  }
  const toml::node* items = root.get("item");
  if (items == nullptr) {
    r.error(SourceRange{file, 0, 0, 0}, "survey-no-items", "the questionnaire has no [[item]]");
    return std::nullopt;
  }
  const auto* arr = items->as_array();
  if (arr == nullptr) {
    r.error(r.at(*items), "survey-type", "`item` must be an array of tables ([[item]])");
    return std::nullopt;
  }
  for (const auto& e : *arr) {
    const auto* t = e.as_table();
    if (t == nullptr) {
      r.error(r.at(e), "survey-type", "each `item` must be a table ([[item]])");
      continue;
    }
    read_item(r, *t, q, default_missing);
  }
  if (r.failed) return std::nullopt;
  if (q.items.empty()) {
    sink.error(SourceRange{file, 0, 0, 0}, "survey-no-items", "the questionnaire has no [[item]]");
    return std::nullopt;
  }
  return q;
}

std::optional<Questionnaire> load_questionnaire(const std::filesystem::path& file, DiagnosticSink& sink) {
  const auto rd = files::read(file, {.max_bytes = 16ull << 20, .require_utf8 = true});
  if (!rd.ok()) {
    sink.error(SourceRange{file.string(), rd.error_line, rd.error_column, 0}, "survey-read", rd.error);
    return std::nullopt;
  }
  return parse_questionnaire(*rd.text, file.string(), sink);
}

}  // namespace persona::survey
