// Target distributions from CSV: aggregated shares/counts or respondent microdata (docs/survey.md).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "base/files.hpp"
#include "base/text.hpp"
#include "survey/csv.hpp"
#include "survey/survey.hpp"

namespace persona::survey {

const TargetCell* Targets::find(std::string_view item, std::string_view group) const {
  for (const auto& c : cells)
    if (c.item == item && c.group == group) return &c;
  return nullptr;
}

namespace {

std::optional<double> to_number(std::string_view s) {
  s = text::trim(s);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto* end = s.data() + s.size();
  const auto r = std::from_chars(s.data(), end, v);
  if (r.ec != std::errc() || r.ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

struct Ctx {
  const std::string& file;
  DiagnosticSink& sink;
  bool failed = false;
  SourceRange at(std::uint32_t line, std::uint32_t col, std::size_t len = 0) const {
    return SourceRange{file, line, col, static_cast<std::uint32_t>(len)};
  }
  void error(const SourceRange& w, std::string code, std::string msg, std::vector<std::string> notes = {}) {
    sink.error(w, std::move(code), std::move(msg), std::move(notes));
    failed = true;
  }
};

std::vector<std::string> item_ids(const Questionnaire& q) {
  std::vector<std::string> ids;
  for (const auto& it : q.items) ids.push_back(it.id);
  return ids;
}

std::string codes_list(const Item& it) {
  if (it.form == Form::numeric)
    return "a number in [" + text::format_number(it.min) + ", " + text::format_number(it.max) + "]";
  std::string s;
  for (const auto& c : it.codes) s += (s.empty() ? "" : ", ") + text::format_number(c.value);
  for (const auto& c : it.missing) s += ", " + text::format_number(c.value) + " (missing)";
  return s;
}

// Accumulates one (item, group) cell.
struct Acc {
  std::vector<double> values, weights, first;
  double missing = 0;
  double respondents = 0;
  double n_declared = -1;
  SourceRange where;
};

using Key = std::pair<std::string, std::string>;

std::vector<TargetCell> finish(std::map<Key, Acc>& acc, const std::vector<Key>& order, bool weighted) {
  std::vector<TargetCell> out;
  for (const auto& k : order) {
    Acc& a = acc[k];
    TargetCell c;
    c.item = k.first;
    c.group = k.second;
    c.dist = make_dist(a.values, a.weights);
    c.missing_mass = a.missing;
    c.respondents = a.respondents > 0 ? a.respondents : std::max(0.0, a.n_declared);
    c.weighted = weighted;
    c.first_values = std::move(a.first);
    c.where = a.where;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<Targets> parse_aggregated(const csv::Parsed& p, const std::map<std::string, std::size_t>& col, Ctx& ctx,
                                        const Questionnaire& q) {
  const auto has = [&](const char* n) { return col.count(n) > 0; };
  const char* measure = has("weight") ? "weight" : has("share") ? "share" : has("percent") ? "percent" : "count";
  if (!has(measure)) {
    ctx.error(ctx.at(p.rows[0].line, 1), "targets-header",
              "the header names no amount column: expected `share`, `percent`, `count` or `weight`",
              {"aggregated targets: item,group,code,share (or percent, count; optional weight and n)"});
    return std::nullopt;
  }
  const bool with_counts = has("count");
  std::map<Key, Acc> acc;
  std::vector<Key> order;
  std::map<std::pair<Key, double>, std::uint32_t> seen;
  const auto ids = item_ids(q);
  for (std::size_t r = 1; r < p.rows.size(); ++r) {
    const auto& row = p.rows[r];
    auto field = [&](const char* name) -> const csv::Field* {
      const auto it = col.find(name);
      if (it == col.end()) return nullptr;
      if (it->second >= row.fields.size()) return nullptr;
      return &row.fields[it->second];
    };
    if (row.fields.size() != p.rows[0].fields.size()) {
      ctx.error(ctx.at(row.line, 1), "targets-columns",
                "row has " + std::to_string(row.fields.size()) + " fields, the header " +
                    std::to_string(p.rows[0].fields.size()));
      continue;
    }
    const csv::Field* fi = field("item");
    const Item* item = q.find(fi->text);
    if (item == nullptr) {
      std::vector<std::string> notes;
      if (auto m = closest_match(fi->text, ids); !m.empty()) notes.push_back("did you mean `" + m + "`?");
      ctx.error(ctx.at(row.line, fi->column, fi->text.size()), "targets-unknown-item",
                "no item `" + fi->text + "` in the questionnaire " + q.file, std::move(notes));
      continue;
    }
    const csv::Field* fg = field("group");
    std::string group = fg == nullptr || fg->text.empty() ? std::string("all") : fg->text;
    const csv::Field* fc = field("code");
    const auto code = to_number(fc->text);
    if (!code) {
      ctx.error(ctx.at(row.line, fc->column, fc->text.size()), "targets-code",
                "answer code `" + fc->text + "` is not a number");
      continue;
    }
    const bool missing = item->is_missing(*code);
    if (!missing && !item->is_code(*code)) {
      ctx.error(ctx.at(row.line, fc->column, fc->text.size()), "targets-code",
                "code " + text::format_number(*code) + " is not an answer of item `" + item->id + "`",
                {"its codes: " + codes_list(*item)});
      continue;
    }
    const csv::Field* fm = field(measure);
    const auto amount = to_number(fm->text);
    if (!amount || *amount < 0) {
      ctx.error(ctx.at(row.line, fm->column, fm->text.size()), "targets-amount",
                std::string("the ") + measure + " `" + fm->text + "` must be a number >= 0");
      continue;
    }
    double count = 0;
    if (with_counts) {
      const csv::Field* fn = field("count");
      const auto v = to_number(fn->text);
      if (!v || *v < 0) {
        ctx.error(ctx.at(row.line, fn->column, fn->text.size()), "targets-amount",
                  "the count `" + fn->text + "` must be a number >= 0");
        continue;
      }
      count = *v;
    }
    const Key key{item->id, group};
    if (auto [it, fresh] = seen.emplace(std::make_pair(key, *code), row.line); !fresh) {
      ctx.error(ctx.at(row.line, fc->column, fc->text.size()), "targets-duplicate",
                "code " + text::format_number(*code) + " of `" + item->id + "` (" + group + ") is given twice",
                {"first on line " + std::to_string(it->second)});
      continue;
    }
    auto [ait, fresh] = acc.try_emplace(key);
    Acc& a = ait->second;
    if (fresh) {
      order.push_back(key);
      a.where = ctx.at(row.line, 1);
    }
    if (const csv::Field* fn = field("n"); fn != nullptr && !fn->text.empty()) {
      const auto v = to_number(fn->text);
      if (!v || *v < 0) {
        ctx.error(ctx.at(row.line, fn->column, fn->text.size()), "targets-amount", "`n` must be a number >= 0");
        continue;
      }
      a.n_declared = *v;
    }
    a.respondents += count;
    if (missing) {
      a.missing += *amount;
    } else {
      a.values.push_back(*code);
      a.weights.push_back(*amount);
    }
  }
  if (ctx.failed) return std::nullopt;
  // Shares and percents that do not add up are normalised with a warning.
  if (std::string(measure) == "share" || std::string(measure) == "percent") {
    const double whole = std::string(measure) == "share" ? 1.0 : 100.0;
    for (const auto& k : order) {
      const Acc& a = acc[k];
      double sum = a.missing;
      for (double w : a.weights) sum += w;
      if (std::fabs(sum - whole) > 0.005 * whole)
        ctx.sink.warning(a.where, "targets-normalised",
                         std::string("the ") + measure + "s of `" + k.first + "` (" + k.second + ") sum to " +
                             text::format_number(std::round(sum * 10000) / 10000) + ", not " +
                             text::format_number(whole) + ": normalised");
    }
  }
  Targets t;
  t.cells = finish(acc, order, std::string(measure) == "weight");
  return t;
}

std::optional<Targets> parse_microdata(const csv::Parsed& p, const std::map<std::string, std::size_t>& col, Ctx& ctx,
                                       const Questionnaire& q) {
  const auto& header = p.rows[0].fields;
  std::vector<std::pair<std::size_t, const Item*>> item_cols;
  const auto ids = item_ids(q);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i].text;
    const std::string low = text::lower(name);
    if (low == "respondent" || low == "id" || low == "group" || low == "weight") continue;
    if (const Item* it = q.find(name)) {
      item_cols.emplace_back(i, it);
    } else {
      std::vector<std::string> notes;
      if (auto m = closest_match(name, ids); !m.empty()) notes.push_back("did you mean `" + m + "`?");
      ctx.sink.warning(ctx.at(p.rows[0].line, header[i].column, name.size()), "targets-unknown-column",
                       "column `" + name + "` is not an item of " + q.file + " (ignored)", std::move(notes));
    }
  }
  if (item_cols.empty()) {
    ctx.error(ctx.at(p.rows[0].line, 1), "targets-header",
              "the header names no item of the questionnaire and no `code` column",
              {"aggregated targets: item,group,code,share; microdata: respondent,group,weight,ITEM1,ITEM2,..."});
    return std::nullopt;
  }
  const auto gcol = col.find("group");
  const auto wcol = col.find("weight");
  std::map<Key, Acc> acc;
  std::vector<Key> order;
  for (std::size_t r = 1; r < p.rows.size(); ++r) {
    const auto& row = p.rows[r];
    if (row.fields.size() != header.size()) {
      ctx.error(
          ctx.at(row.line, 1), "targets-columns",
          "row has " + std::to_string(row.fields.size()) + " fields, the header " + std::to_string(header.size()));
      continue;
    }
    const std::string group =
        gcol == col.end() || row.fields[gcol->second].text.empty() ? std::string("all") : row.fields[gcol->second].text;
    double weight = 1;
    if (wcol != col.end()) {
      const auto& f = row.fields[wcol->second];
      const auto v = to_number(f.text);
      if (!v || *v <= 0) {
        ctx.error(ctx.at(row.line, f.column, f.text.size()), "targets-weight",
                  "the weight `" + f.text + "` must be a number > 0");
        continue;
      }
      weight = *v;
    }
    for (const auto& [ci, item] : item_cols) {
      const auto& f = row.fields[ci];
      if (f.text.empty()) continue;  // not asked
      const auto v = to_number(f.text);
      if (!v || (!item->is_code(*v) && !item->is_missing(*v))) {
        ctx.error(ctx.at(row.line, f.column, f.text.size()), "targets-code",
                  "`" + f.text + "` is not an answer of item `" + item->id + "`", {"its codes: " + codes_list(*item)});
        continue;
      }
      const Key key{item->id, group};
      auto [ait, fresh] = acc.try_emplace(key);
      Acc& a = ait->second;
      if (fresh) {
        order.push_back(key);
        a.where = ctx.at(row.line, f.column);
      }
      a.respondents += 1;
      if (item->is_missing(*v)) {
        a.missing += weight;
      } else {
        a.values.push_back(*v);
        a.weights.push_back(weight);
        a.first.push_back(*v);
      }
    }
  }
  if (ctx.failed) return std::nullopt;
  Targets t;
  t.microdata = true;
  t.cells = finish(acc, order, wcol != col.end());
  return t;
}

}  // namespace

std::optional<Targets> parse_targets(std::string_view text, const std::string& file, const Questionnaire& q,
                                     DiagnosticSink& sink) {
  const auto p = csv::parse(text);
  if (!p.ok()) {
    sink.error(SourceRange{file, p.error_line, p.error_column, 1}, "targets-csv", p.error);
    return std::nullopt;
  }
  if (p.rows.empty()) {
    sink.error(SourceRange{file, 0, 0, 0}, "targets-empty", "the targets file has no header and no rows");
    return std::nullopt;
  }
  Ctx ctx{file, sink};
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < p.rows[0].fields.size(); ++i) {
    const auto& f = p.rows[0].fields[i];
    const std::string low = text::lower(f.text);
    if (!col.emplace(low, i).second) {
      ctx.error(ctx.at(p.rows[0].line, f.column, f.text.size()), "targets-header",
                "column `" + f.text + "` appears twice in the header");
    }
  }
  if (ctx.failed) return std::nullopt;
  std::optional<Targets> t;
  if (col.count("code") > 0) {
    if (col.count("item") == 0) {
      ctx.error(ctx.at(p.rows[0].line, 1), "targets-header", "aggregated targets need an `item` column");
      return std::nullopt;
    }
    t = parse_aggregated(p, col, ctx, q);
  } else {
    t = parse_microdata(p, col, ctx, q);
  }
  if (!t) return std::nullopt;
  t->file = file;
  if (t->cells.empty()) {
    sink.error(SourceRange{file, 0, 0, 0}, "targets-empty", "the targets file has no rows");
    return std::nullopt;
  }
  for (const auto& c : t->cells)
    if (c.dist.empty())
      sink.warning(c.where, "targets-no-answers",
                   "`" + c.item + "` (" + c.group + ") has no substantive answers (only missing codes or zeros)");
  return t;
}

std::optional<Targets> load_targets(const std::filesystem::path& file, const Questionnaire& q, DiagnosticSink& sink) {
  const auto rd = files::read(file, {.max_bytes = 1ull << 30, .require_utf8 = true});
  if (!rd.ok()) {
    sink.error(SourceRange{file.string(), rd.error_line, rd.error_column, 0}, "targets-read", rd.error);
    return std::nullopt;
  }
  return parse_targets(*rd.text, file.string(), q, sink);
}

}  // namespace persona::survey
