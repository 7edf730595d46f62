// Definitions (stdlib/eval/eval.toml) and targets (a recipe's tables, tiers and ranges).
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>

#include "base/files.hpp"
#include "base/text.hpp"
#include "eval/eval.hpp"
#include "util/stdlib_path.hpp"

namespace persona::eval {

std::filesystem::path default_definitions_path() { return stdlib_dir() / "eval" / "eval.toml"; }

namespace {

SourceRange where_of(const std::string& file, const toml::node& n) {
  const auto& s = n.source();
  return SourceRange{file, s.begin.line, s.begin.column, 0};
}

bool strings(const toml::table& t, std::string_view key, std::vector<std::string>& out, const std::string& file,
             DiagnosticSink& sink) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    sink.error(where_of(file, t), "eval-definitions", "'" + std::string(key) + "' is missing");
    return false;
  }
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    sink.error(where_of(file, *n), "eval-definitions", "'" + std::string(key) + "' must be an array of strings");
    return false;
  }
  for (const auto& x : *a) {
    const auto s = x.value<std::string>();
    if (!s) {
      sink.error(where_of(file, x), "eval-definitions", "'" + std::string(key) + "' must hold only strings");
      return false;
    }
    out.push_back(text::lower(*s));
  }
  return true;
}

}  // namespace

std::optional<Definitions> load_definitions(const std::filesystem::path& path, DiagnosticSink& sink) {
  const std::string file = path.string();
  auto read = files::read(path, files::Limits{1u << 20, true});
  if (!read.ok()) {
    sink.error(SourceRange{file, read.error_line, read.error_column, 0}, "eval-definitions", read.error);
    return std::nullopt;
  }
  toml::table doc;
  try {
    doc = toml::parse(*read.text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    sink.error(SourceRange{file, e.source().begin.line, e.source().begin.column, 0}, "eval-definitions",
               std::string(e.description()));
    return std::nullopt;
  }
  Definitions d;
  d.file = file;
  const toml::table* filler = doc["filler"].as_table();
  const toml::table* privacy = doc["privacy"].as_table();
  if (filler == nullptr || privacy == nullptr) {
    sink.error(SourceRange{file, 1, 1, 0}, "eval-definitions", "the [filler] and [privacy] tables are required");
    return std::nullopt;
  }
  bool ok = strings(*filler, "exact", d.filler_exact, file, sink) &
            strings(*filler, "prefix", d.filler_prefix, file, sink) &
            strings(*privacy, "quasi_identifiers", d.quasi_identifiers, file, sink);
  if (const toml::node* n = privacy->get("age_band")) {
    const auto v = n->value<std::int64_t>();
    if (!v || *v < 1 || *v > 100) {
      sink.error(where_of(file, *n), "eval-definitions", "'age_band' must be a whole number of years from 1 to 100");
      ok = false;
    } else {
      d.age_band = static_cast<int>(*v);
    }
  }
  if (const toml::node* n = privacy->get("near_duplicate")) {
    const auto v = n->value<double>();
    if (!v || !(*v > 0 && *v <= 1)) {
      sink.error(where_of(file, *n), "eval-definitions", "'near_duplicate' must be a Jaccard similarity in (0, 1]");
      ok = false;
    } else {
      d.near_duplicate = *v;
    }
  }
  if (!ok) return std::nullopt;
  return d;
}

bool is_filler(const Definitions& d, std::string_view value) {
  const std::string v = text::lower(text::trim(value));
  for (const auto& e : d.filler_exact)
    if (v == e) return true;
  for (const auto& p : d.filler_prefix)
    if (v.rfind(p, 0) == 0) return true;
  return false;
}

Targets targets_from_recipe(const lang::Recipe& r, std::shared_ptr<const tables::Library> tables,
                            const std::vector<std::pair<std::string, std::size_t>>& taxonomy_leaves) {
  Targets t;
  t.recipe = r.name + (r.version.empty() ? "" : " " + r.version);
  t.recipe_hash = r.text_hash;
  t.min_count = r.attributes.min_count;
  t.max_count = r.attributes.max_count;
  t.near = r.attributes.near;
  t.mid = r.attributes.mid;
  t.far = r.attributes.far;
  if (r.narrative.voice != "none") {
    t.min_words = r.narrative.min_words;
    t.max_words = r.narrative.max_words;
  }
  t.tables = std::move(tables);
  for (const auto& a : r.anchors) {
    if (a.source.kind != lang::AnchorSource::Kind::table || !t.tables) continue;
    const tables::Table* tb = t.tables->find(a.source.table);
    if (tb == nullptr) continue;
    t.anchors.push_back(AnchorTarget{a.name, tb, a.source.by, a.source.bound});
  }
  std::size_t total = 0;
  for (const auto& [c, n] : taxonomy_leaves) total += n;
  if (total > 0)
    for (const auto& [c, n] : taxonomy_leaves)
      t.categories.emplace_back(c, static_cast<double>(n) / static_cast<double>(total));
  return t;
}

std::map<std::string, double, std::less<>> restricted(const tables::Table& t, const tables::Dist& d,
                                                      const lang::Bound& b) {
  std::map<std::string, double, std::less<>> out;
  double total = 0;
  const bool ranges = t.kind == tables::ValueKind::integer_range && b.kind != lang::Bound::Kind::none;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const std::string& label = d.labels()[i];
    const double p = d.probabilities()[i];
    const auto rk = ranges ? tables::parse_range_key(label) : std::nullopt;
    if (!rk) {
      out[label] += p;
      total += p;
      continue;
    }
    // Integers drawn uniformly in [lo, hi] (an open range "75+" draws in [lo, lo + 4]).
    const double lo = static_cast<double>(rk->lo), hi = static_cast<double>(rk->open ? rk->lo + 4 : rk->hi);
    const double wlo = b.lo.value_or(lo), whi = b.hi.value_or(hi);
    const double a = std::max(lo, std::ceil(wlo)), z = std::min(hi, std::floor(whi));
    const double width = hi - lo + 1;
    const double inside = z >= a ? (z - a + 1) / width : 0.0;
    out[label] += p * inside;
    total += p * inside;
    if (b.kind == lang::Bound::Kind::clamp) {
      // Draws below the window land on its lower edge, above it on its upper edge.
      const double below = std::clamp((std::min(hi, std::ceil(wlo) - 1) - lo + 1) / width, 0.0, 1.0);
      const double above = std::clamp((hi - std::max(lo, std::floor(whi) + 1) + 1) / width, 0.0, 1.0);
      for (const auto& [edge, share] : {std::pair{std::ceil(wlo), below}, std::pair{std::floor(whi), above}}) {
        if (share <= 0) continue;
        if (auto l = t.label_of(d, cond::Value(edge))) {
          out[*l] += p * share;
          total += p * share;
        }
      }
    }
  }
  if (total > 0)
    for (auto& [k, v] : out) v /= total;
  return out;
}

}  // namespace persona::eval
