// TOML tables (docs/tables.md).
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>

#include "builder.hpp"
#include "tables.hpp"

namespace persona::tables {

namespace {

struct Ctx {
  const std::string& file;
  DiagnosticSink& sink;
  bool failed = false;

  SourceRange pos(const toml::source_region& r, const SourceRange& fallback, std::uint32_t length = 0) const {
    if (r.begin.line == 0) return fallback;
    return at(file, r.begin.line, r.begin.column, length);
  }
  void error(const SourceRange& where, std::string code, std::string message, std::vector<std::string> notes = {}) {
    sink.error(where, std::move(code), std::move(message), std::move(notes));
    failed = true;
  }
};

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      return "nothing";
  }
  return "a value";
}

// Entries of a TOML table in file order (toml++ keeps them sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& t) {
  std::vector<std::pair<const toml::key*, const toml::node*>> out;
  for (auto&& [k, v] : t) out.emplace_back(&k, &v);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    const auto& sa = a.first->source().begin;
    const auto& sb = b.first->source().begin;
    if (sa.line != sb.line) return sa.line < sb.line;
    return sa.column < sb.column;
  });
  return out;
}

// Walks one `by` level of [weights].
void walk(Ctx& ctx, Builder& b, const toml::table& tbl, std::size_t node, std::size_t level, const SourceRange& here,
          const std::string& path) {
  const Table& t = b.t;
  const bool leaf = level == t.by.size();
  if (tbl.empty()) {
    ctx.error(here, "table-empty", "no weights in `" + path + "`");
    return;
  }
  std::size_t dist = 0;
  if (leaf && t.by.empty()) dist = b.single_dist(here);
  for (const auto& [kp, vp] : in_file_order(tbl)) {
    const std::string key(kp->str());
    const SourceRange kwhere =
        ctx.pos(kp->source(), ctx.pos(vp->source(), here), static_cast<std::uint32_t>(key.size()));
    const std::string sub = path + "." + (key.find_first_of(" .\"'") == std::string::npos ? key : "\"" + key + "\"");
    if (!leaf) {
      const toml::table* inner = vp->as_table();
      if (inner == nullptr) {
        ctx.error(kwhere, "table-depth",
                  "`" + sub + "` is " + std::string(type_name(*vp)) + ", but `by` has " + std::to_string(t.by.size()) +
                      " level(s): expected a table of weights keyed by `" + t.by[level] + "`",
                  {"with `by` = [" +
                   [&] {
                     std::string s;
                     for (std::size_t i = 0; i < t.by.size(); ++i) s += (i ? ", \"" : "\"") + t.by[i] + "\"";
                     return s;
                   }() +
                   "], weights nest " + std::to_string(t.by.size()) + " table level(s) deep before the values"});
        continue;
      }
      const auto child = b.child(node, level, key, kwhere);
      if (!child) continue;
      const SourceRange inner_where = ctx.pos(inner->source(), kwhere);
      if (level + 1 == t.by.size()) {
        // the next level holds the values: walk it into the dist `*child`
        if (inner->empty()) {
          ctx.error(inner_where, "table-empty", "no weights in `" + sub + "`");
          continue;
        }
        for (const auto& [lk, lv] : in_file_order(*inner)) {
          const std::string label(lk->str());
          const SourceRange lwhere =
              ctx.pos(lk->source(), ctx.pos(lv->source(), inner_where), static_cast<std::uint32_t>(label.size()));
          if (lv->is_table() || lv->is_array()) {
            ctx.error(lwhere, "table-depth",
                      "`" + sub + "." + label + "` is " + std::string(type_name(*lv)) + ", but `by` has only " +
                          std::to_string(t.by.size()) + " level(s): expected a weight",
                      {"add the extra level's fact to `by`, or remove a nesting level"});
            continue;
          }
          const auto w = lv->value<double>();
          if (!w || !(lv->is_integer() || lv->is_floating_point())) {
            ctx.error(ctx.pos(lv->source(), lwhere), "table-bad-weight",
                      "the weight of \"" + label + "\" is " + std::string(type_name(*lv)) + ", expected a number");
            continue;
          }
          if (!b.add_weight(*child, label, *w, ctx.pos(lv->source(), lwhere), lwhere)) ctx.failed = true;
        }
      } else {
        walk(ctx, b, *inner, *child, level + 1, inner_where, sub);
      }
    } else {
      // unconditional table: [weights] holds the values directly
      if (vp->is_table() || vp->is_array()) {
        ctx.error(kwhere, "table-depth",
                  "`" + sub + "` is " + std::string(type_name(*vp)) + ", but the table has no `by`: expected a weight",
                  {"declare the conditioning facts with `by = [...]`"});
        continue;
      }
      const auto w = vp->value<double>();
      if (!w || !(vp->is_integer() || vp->is_floating_point())) {
        ctx.error(ctx.pos(vp->source(), kwhere), "table-bad-weight",
                  "the weight of \"" + key + "\" is " + std::string(type_name(*vp)) + ", expected a number");
        continue;
      }
      if (!b.add_weight(dist, key, *w, ctx.pos(vp->source(), kwhere), kwhere)) ctx.failed = true;
    }
  }
}

std::optional<Table> parse_toml_impl(std::string_view text, const std::string& file, std::string_view expected_stem,
                                     std::string table_name, bool strict, DiagnosticSink& sink) {
  const SourceRange whole = at(file, 1, 1);
  if (text.find('\0') != std::string_view::npos) {
    const auto off = text.find('\0');
    const auto line =
        static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(off), '\n') + 1);
    sink.error(at(file, line, 0), "table-syntax", "not a text file (contains NUL bytes)");
    return std::nullopt;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    sink.error(whole, "table-empty", "empty table file", {"a table needs at least `name`, `value` and `[weights]`"});
    return std::nullopt;
  }
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    sink.error(at(file, std::max<std::uint32_t>(1, b.line), b.column), "table-syntax",
               "TOML syntax error: " + std::string(e.description()));
    return std::nullopt;
  }

  Ctx ctx{file, sink};
  Table t;
  t.name = std::move(table_name);
  t.where = whole;

  auto field_where = [&](const toml::node* n) { return n ? ctx.pos(n->source(), whole) : whole; };
  auto get_string = [&](std::string_view key, bool required) -> std::optional<std::string> {
    const toml::node* n = doc.get(key);
    if (n == nullptr) {
      if (required) ctx.error(whole, "table-missing-field", "missing field `" + std::string(key) + "`");
      return std::nullopt;
    }
    if (const auto* s = n->as_string()) return s->get();
    ctx.error(field_where(n), "table-field-type",
              "`" + std::string(key) + "` is " + std::string(type_name(*n)) + ", expected a string");
    return std::nullopt;
  };

  static const char* const known[] = {"name", "description", "source", "edition", "url",     "licence", "year",
                                      "unit", "tolerance",   "value",  "by",      "weights", "derive"};
  for (const auto& [k, v] : in_file_order(doc)) {
    const std::string key(k->str());
    if (std::find(std::begin(known), std::end(known), key) == std::end(known)) {
      std::vector<std::string> cands(std::begin(known), std::end(known));
      const std::string near = closest_match(key, cands);
      sink.warning(
          ctx.pos(k->source(), whole, static_cast<std::uint32_t>(key.size())), "table-unknown-field",
          "unknown field `" + key + "`",
          near.empty() ? std::vector<std::string>{} : std::vector<std::string>{"did you mean `" + near + "`?"});
    }
  }

  if (auto n = get_string("name", strict)) {
    if (!expected_stem.empty() && *n != expected_stem)
      ctx.error(field_where(doc.get("name")), "table-name-mismatch",
                "table name \"" + *n + "\" does not match the file name \"" + std::string(expected_stem) + "\"",
                {"`name` must equal the file stem"});
  }
  if (auto d = get_string("description", strict)) t.description = *d;
  if (auto s = get_string("source", strict)) t.source = *s;
  if (auto e = get_string("edition", strict)) t.edition = *e;
  if (auto u = get_string("url", strict)) t.url = *u;
  if (auto l = get_string("licence", strict)) t.licence = *l;
  if (auto u = get_string("unit", strict)) {
    if (auto k = parse_weight_unit(*u)) {
      t.unit = *k;
    } else {
      ctx.error(
          field_where(doc.get("unit")), "table-bad-unit", "unknown weight unit \"" + *u + "\"",
          {"expected \"share\" (weights sum to 1), \"percent\" (sum to 100) or \"count\" (any positive weights)"});
    }
  }
  if (const toml::node* tn = doc.get("tolerance")) {
    const auto v = tn->value<double>();
    if (!v || !(tn->is_integer() || tn->is_floating_point()) || !(*v >= 0.0) || !(*v < 1.0)) {
      ctx.error(field_where(tn), "table-field-type", "`tolerance` must be a number in [0, 1)",
                {"the allowed relative gap between a distribution's sum and 1 (share) or 100 (percent)"});
    } else {
      t.tolerance = *v;
    }
  }
  if (const toml::node* y = doc.get("year")) {
    if (const auto* yi = y->as_integer()) {
      t.year = static_cast<int>(std::clamp<std::int64_t>(yi->get(), -100000, 100000));
    } else {
      ctx.error(field_where(y), "table-field-type",
                "`year` is " + std::string(type_name(*y)) + ", expected an integer");
    }
  } else if (strict) {
    ctx.error(whole, "table-missing-field", "missing field `year`");
  }
  if (auto v = get_string("value", true)) {
    if (auto k = parse_value_kind(*v)) {
      t.kind = *k;
    } else {
      ctx.error(field_where(doc.get("value")), "table-bad-kind", "unknown value kind \"" + *v + "\"",
                {"expected \"category\", \"integer-range\" or \"number\""});
    }
  }
  if (const toml::node* byn = doc.get("by")) {
    if (const auto* arr = byn->as_array()) {
      for (const auto& e : *arr) {
        if (const auto* s = e.as_string()) {
          if (s->get().empty())
            ctx.error(field_where(&e), "table-field-type", "empty name in `by`");
          else if (std::find(t.by.begin(), t.by.end(), s->get()) != t.by.end())
            ctx.error(field_where(&e), "table-field-type", "`" + s->get() + "` appears twice in `by`");
          else
            t.by.push_back(s->get());
        } else {
          ctx.error(field_where(&e), "table-field-type",
                    "an entry of `by` is " + std::string(type_name(e)) + ", expected a string");
        }
      }
    } else {
      ctx.error(field_where(byn), "table-field-type",
                "`by` is " + std::string(type_name(*byn)) + ", expected an array of strings");
    }
  }
  if (ctx.failed) return std::nullopt;  // the rest depends on value and by

  Builder b(t, sink);
  if (!t.by.empty()) b.root();
  const toml::node* wn = doc.get("weights");
  if (wn == nullptr) {
    ctx.error(whole, "table-missing-field", "missing `[weights]`");
  } else if (const auto* wt = wn->as_table()) {
    walk(ctx, b, *wt, 0, 0, field_where(wn), "weights");
  } else {
    ctx.error(field_where(wn), "table-field-type",
              "`weights` is " + std::string(type_name(*wn)) + ", expected a table");
  }

  if (const toml::node* dn = doc.get("derive")) {
    if (const auto* dt = dn->as_table()) {
      for (const auto& [fk, fv] : in_file_order(*dt)) {
        const std::string fact(fk->str());
        const auto* ft = fv->as_table();
        const SourceRange fwhere = ctx.pos(fk->source(), field_where(dn));
        if (ft == nullptr) {
          ctx.error(fwhere, "table-field-type",
                    "`derive." + fact + "` is " + std::string(type_name(*fv)) + ", expected a table of label = value");
          continue;
        }
        auto& m = b.derive_map(fact);
        for (const auto& [lk, lv] : in_file_order(*ft)) {
          const SourceRange lwhere = ctx.pos(lk->source(), fwhere);
          if (const auto* s = lv->as_string())
            m[std::string(lk->str())] = s->get();
          else
            ctx.error(lwhere, "table-field-type",
                      "`derive." + fact + "." + std::string(lk->str()) + "` is " + std::string(type_name(*lv)) +
                          ", expected a string");
        }
      }
    } else {
      ctx.error(field_where(dn), "table-field-type",
                "`derive` is " + std::string(type_name(*dn)) + ", expected a table");
    }
  }

  b.failed = b.failed || ctx.failed;
  const bool ok = b.finish();
  if (!ok || ctx.failed) return std::nullopt;

  // derive keys should name labels of the table
  if (const toml::node* dn = doc.get("derive"); dn != nullptr && dn->is_table()) {
    const auto labels = t.all_labels();
    for (const auto& [fk, fv] : *dn->as_table()) {
      if (!fv.is_table()) continue;
      for (const auto& [lk, lv] : *fv.as_table()) {
        const std::string label(lk.str());
        if (label != "*" && std::find(labels.begin(), labels.end(), label) == labels.end()) {
          const std::string near = closest_match(label, labels);
          sink.warning(
              ctx.pos(lk.source(), whole, static_cast<std::uint32_t>(label.size())), "table-derive-label",
              "`derive." + std::string(fk.str()) + "` maps \"" + label + "\", which is not a label of this table",
              near.empty() ? std::vector<std::string>{} : std::vector<std::string>{"did you mean \"" + near + "\"?"});
        }
      }
    }
  }
  return t;
}

}  // namespace

std::optional<Table> parse_toml(std::string_view text, const std::string& file, std::string_view expected_stem,
                                std::string table_name, bool strict, DiagnosticSink& sink) {
  try {
    return parse_toml_impl(text, file, expected_stem, std::move(table_name), strict, sink);
  } catch (const std::exception& e) {
    sink.error(at(file, 0), "table-internal", std::string("could not load table: ") + e.what());
  } catch (...) {
    sink.error(at(file, 0), "table-internal", "could not load table");
  }
  return std::nullopt;
}

}  // namespace persona::tables
