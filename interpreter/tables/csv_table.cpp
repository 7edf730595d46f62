// CSV tables: a header naming the `by` columns, then `value`, then `weight`, then optional
// `derive.FACT` columns giving a derived fact for the row's label (docs/tables.md).
#include <algorithm>
#include <cctype>
#include <map>

#include "builder.hpp"
#include "tables.hpp"

namespace persona::tables {

namespace {

struct Field {
  std::string text;
  std::uint32_t column = 1;
};

std::string trim(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits one logical record starting at `pos` (quoted fields may span lines). Advances pos and
// `line` past the record. false (with `error` set) on an unterminated quote.
bool read_record(std::string_view text, std::size_t& pos, std::uint32_t& line, std::vector<Field>& out,
                 std::string& error) {
  out.clear();
  Field f;
  std::uint32_t col = 1;
  f.column = 1;
  bool quoted = false;
  bool was_quoted = false;
  while (pos < text.size()) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < text.size() && text[pos + 1] == '"') {
          f.text += '"';
          pos += 2;
          col += 2;
          continue;
        }
        quoted = false;
        ++pos;
        ++col;
        continue;
      }
      if (c == '\n') {
        ++line;
        col = 0;
      }
      f.text += c;
      ++pos;
      ++col;
      continue;
    }
    if (c == '"' && trim(f.text).empty()) {
      f.text.clear();
      quoted = true;
      was_quoted = true;
      ++pos;
      ++col;
      continue;
    }
    if (c == ',') {
      out.push_back(Field{was_quoted ? f.text : trim(f.text), f.column});
      f.text.clear();
      was_quoted = false;
      ++pos;
      ++col;
      f.column = col;
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++pos;
      ++pos;
      out.push_back(Field{was_quoted ? f.text : trim(f.text), f.column});
      return true;
    }
    f.text += c;
    ++pos;
    ++col;
  }
  if (quoted) {
    error = "unterminated quoted field";
    return false;
  }
  out.push_back(Field{was_quoted ? f.text : trim(f.text), f.column});
  return true;
}

bool blank(const std::vector<Field>& r) { return r.size() == 1 && r[0].text.empty(); }

bool is_comment(const std::vector<Field>& r) { return !r.empty() && !r[0].text.empty() && r[0].text[0] == '#'; }

}  // namespace

static std::optional<Table> parse_csv_impl(std::string_view text, const std::string& file, std::string table_name,
                                           DiagnosticSink& sink) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    const auto line =
        static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n') + 1);
    sink.error(at(file, line, 0), "table-syntax", "not a text file (contains NUL bytes)");
    return std::nullopt;
  }
  Table t;
  t.name = std::move(table_name);
  t.where = at(file, 1, 1);

  std::size_t pos = 0;
  std::uint32_t line = 1;
  std::vector<Field> rec;
  std::string err;
  // header
  std::uint32_t header_line = 0;
  std::vector<Field> header;
  while (pos < text.size()) {
    const std::uint32_t start = line;
    if (!read_record(text, pos, line, rec, err)) {
      sink.error(at(file, start, 1), "table-syntax", err);
      return std::nullopt;
    }
    ++line;
    if (blank(rec) || is_comment(rec)) continue;
    header = rec;
    header_line = start;
    break;
  }
  if (header_line == 0) {
    sink.error(at(file, 1, 1), "table-empty", "empty table file",
               {"expected a header line such as `country,value,weight`"});
    return std::nullopt;
  }
  const std::size_t ncol = header.size();
  // Trailing `derive.FACT` columns: the fact derived from each row's label (empty: none).
  std::size_t nderive = 0;
  while (nderive < ncol && lower(header[ncol - 1 - nderive].text).rfind("derive.", 0) == 0) ++nderive;
  const std::size_t nbase = ncol - nderive;
  if (nbase < 2 || lower(header[nbase - 2].text) != "value" || lower(header[nbase - 1].text) != "weight") {
    sink.error(at(file, header_line, 1), "table-csv-header",
               "the header must be the `by` columns, then `value,weight`, then any `derive.FACT` columns",
               {"e.g. `country,value,weight` or `country,value,weight,derive.employment`"});
    return std::nullopt;
  }
  bool failed = false;
  std::vector<std::string> derive_facts;
  for (std::size_t k = nbase; k < ncol; ++k) {
    const std::string fact = header[k].text.substr(7);
    const bool name_ok = !fact.empty() && std::all_of(fact.begin(), fact.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
    });
    if (!name_ok || std::find(derive_facts.begin(), derive_facts.end(), fact) != derive_facts.end()) {
      sink.error(at(file, header_line, header[k].column), "table-csv-header",
                 name_ok ? "column `" + header[k].text + "` appears twice"
                         : "`" + header[k].text + "`: a derive column is `derive.FACT` with a fact name");
      failed = true;
    }
    derive_facts.push_back(fact);
  }
  // fact -> label -> (derived value, line where first given)
  std::vector<std::map<std::string, std::pair<std::string, std::uint32_t>, std::less<>>> derived(nderive);
  for (std::size_t i = 0; i + 2 < nbase; ++i) {
    const auto& h = header[i];
    if (h.text.empty()) {
      sink.error(at(file, header_line, h.column), "table-csv-header", "empty column name in the header");
      failed = true;
    } else if (std::find(t.by.begin(), t.by.end(), h.text) != t.by.end()) {
      sink.error(at(file, header_line, h.column), "table-csv-header", "column `" + h.text + "` appears twice");
      failed = true;
    }
    t.by.push_back(h.text);
  }
  if (failed) return std::nullopt;

  struct Row {
    std::vector<std::string> keys;
    std::string value;
    double weight = 0.0;
    SourceRange key_where;
    SourceRange value_where;
    SourceRange weight_where;
    std::vector<SourceRange> by_where;
  };
  std::vector<Row> rows;
  while (pos < text.size()) {
    const std::uint32_t start = line;
    if (!read_record(text, pos, line, rec, err)) {
      sink.error(at(file, start, 1), "table-syntax", err);
      return std::nullopt;
    }
    ++line;
    if (blank(rec) || is_comment(rec)) continue;
    if (rec.size() != ncol) {
      sink.error(at(file, start, rec.size() < ncol ? 1 : rec[ncol].column), "table-csv-row",
                 std::string(rec.size() < ncol ? "short" : "long") + " row: " + std::to_string(rec.size()) +
                     " field(s), but the header has " + std::to_string(ncol),
                 {"each row is " + [&] {
                   std::string s;
                   for (std::size_t i = 0; i < ncol; ++i) s += (i ? "," : "") + header[i].text;
                   return s;
                 }()});
      failed = true;
      continue;
    }
    Row r;
    for (std::size_t i = 0; i + 2 < nbase; ++i) {
      r.keys.push_back(rec[i].text);
      r.by_where.push_back(at(file, start, rec[i].column, static_cast<std::uint32_t>(rec[i].text.size())));
    }
    const Field& vf = rec[nbase - 2];
    const Field& wf = rec[nbase - 1];
    r.value = vf.text;
    r.value_where = at(file, start, vf.column, static_cast<std::uint32_t>(vf.text.size()));
    r.weight_where = at(file, start, wf.column, static_cast<std::uint32_t>(wf.text.size()));
    if (r.value.empty()) {
      sink.error(r.value_where, "table-csv-row", "empty value");
      failed = true;
      continue;
    }
    const auto w = parse_number(wf.text);
    if (!w) {
      sink.error(r.weight_where, "table-bad-weight", "weight \"" + wf.text + "\" is not a number");
      failed = true;
      continue;
    }
    r.weight = *w;
    for (std::size_t k = 0; k < nderive; ++k) {
      const Field& df = rec[nbase + k];
      if (df.text.empty()) continue;
      auto [it, fresh] = derived[k].emplace(r.value, std::make_pair(df.text, start));
      if (!fresh && it->second.first != df.text) {
        sink.error(at(file, start, df.column, static_cast<std::uint32_t>(df.text.size())), "table-derive-conflict",
                   "`" + r.value + "` derives " + derive_facts[k] + " = `" + df.text + "` here but `" +
                       it->second.first + "` on line " + std::to_string(it->second.second));
        failed = true;
      }
    }
    rows.push_back(std::move(r));
  }
  if (failed) return std::nullopt;
  if (rows.empty()) {
    sink.error(at(file, header_line, 1), "table-empty", "the table has no rows");
    return std::nullopt;
  }

  // value kind: integer-range when every value is a range key and at least one is written as a
  // range; number when every value is a number; category otherwise.
  bool all_ranges = true;
  bool any_range_form = false;
  bool all_numbers = true;
  for (const auto& r : rows) {
    const bool rk = parse_range_key(r.value).has_value();
    all_ranges = all_ranges && rk;
    any_range_form = any_range_form || (rk && (r.value.find('-') != std::string::npos || r.value.back() == '+'));
    all_numbers = all_numbers && parse_number(r.value).has_value();
  }
  if (all_ranges && any_range_form)
    t.kind = ValueKind::integer_range;
  else if (all_numbers)
    t.kind = ValueKind::number;
  else
    t.kind = ValueKind::category;

  Builder b(t, sink);
  if (!t.by.empty()) b.root();
  for (const auto& r : rows) {
    std::size_t idx = 0;
    bool ok = true;
    if (t.by.empty()) {
      idx = b.single_dist(r.value_where);
    } else {
      std::size_t node = 0;
      for (std::size_t lvl = 0; lvl < t.by.size(); ++lvl) {
        const auto c = b.child(node, lvl, r.keys[lvl], r.by_where[lvl]);
        if (!c) {
          ok = false;
          break;
        }
        node = *c;
      }
      idx = node;
    }
    if (!ok) continue;
    b.add_weight(idx, r.value, r.weight, r.weight_where, r.value_where);
  }
  if (!b.finish()) return std::nullopt;
  for (std::size_t k = 0; k < nderive; ++k) {
    auto& map = b.derive_map(derive_facts[k]);
    for (const auto& [label, value] : derived[k]) map[label] = value.first;
  }
  return t;
}

std::optional<Table> parse_csv(std::string_view text, const std::string& file, std::string table_name,
                               DiagnosticSink& sink) {
  try {
    return parse_csv_impl(text, file, std::move(table_name), sink);
  } catch (const std::exception& e) {
    sink.error(at(file, 0), "table-internal", std::string("could not load table: ") + e.what());
  } catch (...) {
    sink.error(at(file, 0), "table-internal", "could not load table");
  }
  return std::nullopt;
}

}  // namespace persona::tables
