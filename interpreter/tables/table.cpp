#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "base/files.hpp"
#include "builder.hpp"
#include "tables.hpp"
#include "util/stdlib_path.hpp"

namespace persona::tables {

std::string_view to_string(ValueKind k) {
  switch (k) {
    case ValueKind::category:
      return "category";
    case ValueKind::integer_range:
      return "integer-range";
    case ValueKind::number:
      return "number";
  }
  return "category";
}

std::optional<ValueKind> parse_value_kind(std::string_view s) {
  if (s == "category") return ValueKind::category;
  if (s == "integer-range") return ValueKind::integer_range;
  if (s == "number") return ValueKind::number;
  return std::nullopt;
}

std::string_view to_string(WeightUnit u) {
  switch (u) {
    case WeightUnit::count:
      return "count";
    case WeightUnit::share:
      return "share";
    case WeightUnit::percent:
      return "percent";
  }
  return "count";
}

std::optional<WeightUnit> parse_weight_unit(std::string_view s) {
  if (s == "count") return WeightUnit::count;
  if (s == "share") return WeightUnit::share;
  if (s == "percent") return WeightUnit::percent;
  return std::nullopt;
}

namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool contains(const RangeKey& r, double v, bool open_ended) {
  if (v < static_cast<double>(r.lo)) return false;
  if (r.open && open_ended) return true;
  return v < static_cast<double>(r.hi) + 1.0;
}

}  // namespace

std::optional<RangeKey> parse_range_key(std::string_view key) {
  if (key.empty()) return std::nullopt;
  if (key.back() == '+') {
    const auto lo = parse_int(key.substr(0, key.size() - 1));
    if (!lo || *lo < 0) return std::nullopt;
    return RangeKey{*lo, *lo + 4, true};
  }
  const auto dash = key.find('-');
  if (dash == std::string_view::npos) {
    const auto v = parse_int(key);
    if (!v || *v < 0) return std::nullopt;
    return RangeKey{*v, *v, false};
  }
  const auto lo = parse_int(key.substr(0, dash));
  const auto hi = parse_int(key.substr(dash + 1));
  if (!lo || !hi || *lo < 0 || *hi < *lo) return std::nullopt;
  return RangeKey{*lo, *hi, false};
}

// ---------------------------------------------------------------------------------------------
// Dist

double Dist::probability(std::string_view label) const {
  for (std::size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] == label) return probs_[i];
  return 0.0;
}

std::map<std::string, double, std::less<>> Dist::as_map() const {
  std::map<std::string, double, std::less<>> m;
  for (std::size_t i = 0; i < labels_.size(); ++i) m[labels_[i]] += probs_[i];
  return m;
}

// ---------------------------------------------------------------------------------------------
// Table

const Dist* Table::descend(std::size_t node, std::size_t level, std::span<const cond::Value> keys) const {
  const Node& n = nodes_[node];
  const bool last = level + 1 == by.size();
  auto follow = [&](std::size_t pos) -> const Dist* {
    const Child& c = n.children[pos];
    if (last) return &dists_[c.index];
    return descend(c.index, level + 1, keys);
  };
  std::optional<std::size_t> match;
  if (level < keys.size()) {
    const cond::Value& v = keys[level];
    std::optional<double> num;
    if (const auto* s = std::get_if<std::string>(&v)) {
      if (auto it = n.exact.find(*s); it != n.exact.end() && *s != "*")
        match = it->second;
      else if (!n.ranges.empty())
        num = parse_number(*s);
    } else {
      num = std::get<double>(v);
    }
    if (!match && num) {
      for (std::size_t pos : n.ranges) {
        if (contains(n.children[pos].range, *num, true)) {
          match = pos;
          break;
        }
      }
      if (!match && std::isfinite(*num) && std::floor(*num) == *num && std::fabs(*num) < 1e15) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(*num));
        if (auto it = n.exact.find(std::string_view(buf)); it != n.exact.end()) match = it->second;
      }
    }
  }
  if (match) {
    if (const Dist* d = follow(*match)) return d;
  }
  if (n.fallback && n.fallback != match) return follow(*n.fallback);
  return nullptr;
}

const Dist* Table::lookup(std::span<const cond::Value> keys) const {
  if (by.empty()) return dists_.empty() ? nullptr : &dists_[0];
  if (nodes_.empty()) return nullptr;
  return descend(0, 0, keys);
}

const Dist* Table::lookup(const cond::Facts& facts) const {
  std::vector<cond::Value> keys;
  keys.reserve(by.size());
  for (const auto& b : by) {
    auto it = facts.find(b);
    if (it == facts.end()) break;  // missing: only "*" matches from here on
    keys.push_back(it->second);
  }
  return lookup(std::span<const cond::Value>(keys));
}

std::size_t Table::sample_index(const Dist& d, Rng& rng) const {
  if (d.size() == 0) return 0;
  const double u = rng.uniform() * d.total_;
  auto it = std::upper_bound(d.cumulative_.begin(), d.cumulative_.end(), u);
  auto i = static_cast<std::size_t>(it - d.cumulative_.begin());
  if (i >= d.size()) {  // rounding at the very top: the last entry with a positive weight
    i = d.size() - 1;
    while (i > 0 && d.weights_[i] <= 0.0) --i;
  }
  return i;
}

cond::Value Table::sample(const Dist& d, Rng& rng) const {
  if (d.size() == 0) return kind == ValueKind::category ? cond::Value(std::string()) : cond::Value(0.0);
  const std::size_t i = sample_index(d, rng);
  switch (kind) {
    case ValueKind::category:
      return d.labels_[i];
    case ValueKind::integer_range: {
      const RangeKey& r = d.ranges_[i];
      const auto span = static_cast<std::uint64_t>(r.hi - r.lo) + 1;
      return static_cast<double>(r.lo + static_cast<std::int64_t>(rng.below(span)));
    }
    case ValueKind::number:
      return d.numbers_[i];
  }
  return d.labels_[i];
}

std::optional<cond::Value> Table::draw(std::span<const cond::Value> keys, Rng& rng) const {
  const Dist* d = lookup(keys);
  if (d == nullptr) return std::nullopt;
  return sample(*d, rng);
}

std::optional<std::string> Table::label_of(const Dist& d, const cond::Value& drawn) const {
  if (const auto* s = std::get_if<std::string>(&drawn)) {
    for (const auto& l : d.labels_)
      if (l == *s) return l;
    return std::nullopt;
  }
  const double v = std::get<double>(drawn);
  if (kind == ValueKind::integer_range) {
    for (std::size_t i = 0; i < d.ranges_.size(); ++i)
      if (contains(d.ranges_[i], v, false)) return d.labels_[i];
  } else if (kind == ValueKind::number) {
    for (std::size_t i = 0; i < d.numbers_.size(); ++i)
      if (d.numbers_[i] == v) return d.labels_[i];
  }
  return std::nullopt;
}

std::optional<std::string> Table::derive(std::string_view fact, std::string_view label) const {
  auto f = derive_.find(fact);
  if (f == derive_.end()) return std::nullopt;
  if (auto it = f->second.find(label); it != f->second.end()) return it->second;
  if (auto it = f->second.find(std::string_view("*")); it != f->second.end()) return it->second;
  return std::nullopt;
}

std::vector<std::string> Table::derived_facts() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : derive_) out.push_back(k);
  return out;
}

std::vector<std::string> Table::all_labels() const {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& d : dists_)
    for (const auto& l : d.labels_)
      if (seen.insert(l).second) out.push_back(l);
  return out;
}

void Table::collect(std::size_t node, std::size_t level, std::vector<std::string>& path,
                    std::vector<Entry>& out) const {
  const bool last = level + 1 == by.size();
  for (const auto& c : nodes_[node].children) {
    path.push_back(c.key);
    if (last)
      out.push_back(Entry{path, &dists_[c.index]});
    else
      collect(c.index, level + 1, path, out);
    path.pop_back();
  }
}

std::vector<Table::Entry> Table::entries() const {
  std::vector<Entry> out;
  if (by.empty()) {
    if (!dists_.empty()) out.push_back(Entry{{}, &dists_[0]});
    return out;
  }
  if (nodes_.empty()) return out;
  std::vector<std::string> path;
  collect(0, 0, path, out);
  return out;
}

std::vector<std::string> Table::keys_at(std::size_t level) const {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  for (const auto& e : entries()) {
    if (level < e.keys.size() && e.keys[level] != "*" && seen.insert(e.keys[level]).second)
      out.push_back(e.keys[level]);
  }
  return out;
}

std::vector<std::string> Table::keys_under(std::span<const std::string> path) const {
  std::vector<std::string> out;
  if (by.empty() || nodes_.empty() || path.size() >= by.size()) return out;
  std::size_t node = 0;
  for (std::size_t level = 0; level < path.size(); ++level) {
    const Node& n = nodes_[node];
    auto it = n.exact.find(path[level]);
    if (it == n.exact.end()) return out;
    node = n.children[it->second].index;  // an inner node: level + 1 < by.size()
  }
  for (const auto& c : nodes_[node].children)
    if (c.key != "*") out.push_back(c.key);
  return out;
}

bool Table::has_fallback_at(std::size_t level) const {
  for (const auto& e : entries())
    if (level < e.keys.size() && e.keys[level] == "*") return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Library

Library::Library() = default;
Library::~Library() = default;
Library::Library(Library&&) noexcept = default;
Library& Library::operator=(Library&&) noexcept = default;

namespace {

// Every table file is read through files::read: regular files only, a size limit, UTF-8 checked
// with the line and byte of a bad byte; the message names the path, never the contents.
std::optional<std::string> read_file(const std::filesystem::path& path, DiagnosticSink& sink) {
  files::ReadResult r = files::read(path);
  if (!r.ok()) {
    std::string msg = r.error;
    const std::string prefix =
        path.string() + ":" + std::to_string(r.error_line) + ":" + std::to_string(r.error_column) + ": ";
    if (r.error_line > 0 && msg.rfind(prefix, 0) == 0) msg.erase(0, prefix.size());
    sink.error(at(path.string(), r.error_line, r.error_column, r.error_line > 0 ? 1 : 0), "table-unreadable", msg);
    return std::nullopt;
  }
  return std::move(*r.text);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::size_t Library::load_dir(const std::filesystem::path& dir, DiagnosticSink& sink) {
  try {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      sink.error(at(dir.string(), 0), "table-unreadable", "table directory not found");
      return 0;
    }
    std::vector<std::filesystem::path> files;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".toml") files.push_back(it->path());
    }
    if (ec) {
      sink.error(at(dir.string(), 0), "table-unreadable", "cannot list table directory: " + ec.message());
      return 0;
    }
    std::sort(files.begin(), files.end());
    std::size_t loaded = 0;
    for (const auto& f : files) {
      auto text = read_file(f, sink);
      if (!text) continue;
      const std::string stem = f.stem().string();
      auto t = parse_toml(*text, f.string(), stem, "stdlib." + stem, true, sink);
      if (!t) continue;
      add(std::move(*t));
      ++loaded;
    }
    return loaded;
  } catch (const std::exception& e) {
    sink.error(at(dir.string(), 0), "table-internal", std::string("could not load tables: ") + e.what());
    return 0;
  } catch (...) {
    sink.error(at(dir.string(), 0), "table-internal", "could not load tables");
    return 0;
  }
}

std::size_t Library::load_stdlib(DiagnosticSink& sink) { return load_dir(stdlib_dir() / "tables", sink); }

const Table* Library::load_file(const std::filesystem::path& path, std::string name, DiagnosticSink& sink) {
  try {
    auto text = read_file(path, sink);
    if (!text) return nullptr;
    const std::string ext = lower(path.extension().string());
    std::optional<Table> t;
    if (ext == ".toml") {
      t = parse_toml(*text, path.string(), path.stem().string(), std::move(name), false, sink);
    } else if (ext == ".csv") {
      t = parse_csv(*text, path.string(), std::move(name), sink);
    } else {
      sink.error(at(path.string(), 0), "table-format", "unknown table format \"" + ext + "\"",
                 {"tables are .toml or .csv files"});
      return nullptr;
    }
    if (!t) return nullptr;
    return add(std::move(*t));
  } catch (const std::exception& e) {
    sink.error(at(path.string(), 0), "table-internal", std::string("could not load table: ") + e.what());
    return nullptr;
  } catch (...) {
    sink.error(at(path.string(), 0), "table-internal", "could not load table");
    return nullptr;
  }
}

const Table* Library::add(Table t) {
  auto p = std::make_unique<Table>(std::move(t));
  const Table* raw = p.get();
  tables_[raw->name] = std::move(p);
  return raw;
}

const Table* Library::find(std::string_view name) const {
  auto it = tables_.find(name);
  return it == tables_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Library::names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : tables_) out.push_back(k);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Divergence

std::map<std::string, double, std::less<>> normalise(const std::map<std::string, double, std::less<>>& counts) {
  double total = 0.0;
  for (const auto& [k, v] : counts)
    if (v > 0.0 && std::isfinite(v)) total += v;
  std::map<std::string, double, std::less<>> out;
  for (const auto& [k, v] : counts) out[k] = (total > 0.0 && v > 0.0 && std::isfinite(v)) ? v / total : 0.0;
  return out;
}

double jensen_shannon(const std::map<std::string, double, std::less<>>& p,
                      const std::map<std::string, double, std::less<>>& q) {
  const auto np = normalise(p);
  const auto nq = normalise(q);
  double sp = 0.0;
  double sq = 0.0;
  for (const auto& [k, v] : np) sp += v;
  for (const auto& [k, v] : nq) sq += v;
  if (sp <= 0.0 || sq <= 0.0) return 1.0;
  std::set<std::string, std::less<>> keys;
  for (const auto& [k, v] : np) keys.insert(k);
  for (const auto& [k, v] : nq) keys.insert(k);
  double js = 0.0;
  for (const auto& k : keys) {
    const auto ip = np.find(k);
    const auto iq = nq.find(k);
    const double a = ip == np.end() ? 0.0 : ip->second;
    const double b = iq == nq.end() ? 0.0 : iq->second;
    const double m = 0.5 * (a + b);
    if (a > 0.0) js += 0.5 * a * std::log2(a / m);
    if (b > 0.0) js += 0.5 * b * std::log2(b / m);
  }
  return std::clamp(js, 0.0, 1.0);
}

}  // namespace persona::tables
