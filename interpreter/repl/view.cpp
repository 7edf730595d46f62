// Readable views of persona records: the :sample summary line, :show persona, :values.
#include "repl/view.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "base/text.hpp"
#include "repl/session_impl.hpp"

namespace persona::repl::view {

using namespace detail;

namespace {

char tier_mark(std::string_view tier) {
  if (tier == "near") return 'n';
  if (tier == "mid") return 'm';
  if (tier == "far") return 'f';
  if (tier == "panel") return 'p';
  return '-';
}

char source_mark(std::string_view source) {
  if (source == "options") return 'o';
  if (source == "lexicon") return 'x';
  if (source == "llm") return 'L';
  if (source == "table") return 't';
  return '?';
}

std::string_view category_of(std::string_view path) { return path.substr(0, path.find('/')); }

std::string_view leaf_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string pad(std::string s, std::size_t cols) {
  const std::size_t w = columns_of(s);
  if (w < cols) s.append(cols - w, ' ');
  return s;
}

// `label` then `text` wrapped so that continuation lines start under the text.
std::string hang(const std::string& label, std::string_view text, std::size_t width) {
  const std::size_t indent = columns_of(label);
  std::string w = wrap(text, indent, width);
  if (w.empty()) return label + "\n";
  return label + w.substr(indent);
}

std::string plain(const record::Value& v) {
  switch (v.kind) {
    case record::Value::Kind::null:
      return "(none)";
    case record::Value::Kind::list:
      return text::join(v.items, ", ");
    default:
      return v.to_text();
  }
}

// A core value: short lists on one line, long items as a bulleted list, objects a field a line.
std::string core_value(const std::string& label, const record::Value& v, std::size_t width) {
  const std::size_t indent = columns_of(label);
  if (v.kind == record::Value::Kind::list && !v.items.empty()) {
    std::size_t longest = 0;
    for (const auto& i : v.items) longest = std::max(longest, columns_of(i));
    if (longest > 30) {
      std::string out;
      for (std::size_t i = 0; i < v.items.size(); ++i)
        out += hang(i == 0 ? label + "- " : std::string(indent, ' ') + "- ", v.items[i], width);
      return out;
    }
  }
  if (v.kind == record::Value::Kind::object && !v.fields.empty()) {
    std::string out;
    for (std::size_t i = 0; i < v.fields.size(); ++i) {
      const std::string head = (i == 0 ? label : std::string(indent, ' ')) + v.fields[i].first + ": ";
      out += hang(head, plain(v.fields[i].second), width);
    }
    return out;
  }
  return hang(label, plain(v), width);
}

std::string percent(std::uint64_t n, std::uint64_t of) {
  return of == 0 ? std::string("  -")
                 : fmt::format("{:3.0f}%", 100.0 * static_cast<double>(n) / static_cast<double>(of));
}

// Count lines, most frequent first (then by value: numbers numerically), at most `limit`.
std::string count_lines(std::vector<std::pair<std::string, std::uint64_t>> counts, std::uint64_t of, std::size_t width,
                        bool numeric, const char* one = "more value", const char* many = "more values") {
  std::sort(counts.begin(), counts.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    if (numeric) return std::strtod(a.first.c_str(), nullptr) < std::strtod(b.first.c_str(), nullptr);
    return a.first < b.first;
  });
  constexpr std::size_t kLimit = 40;
  std::size_t digits = 1;
  for (const auto& c : counts) digits = std::max(digits, std::to_string(c.second).size());
  std::string out;
  for (std::size_t i = 0; i < counts.size() && i < kLimit; ++i) {
    const std::string label = fmt::format("  {:>{}}  {}  ", counts[i].second, digits, percent(counts[i].second, of));
    out += hang(label, counts[i].first, width);
  }
  if (counts.size() > kLimit) {
    std::uint64_t rest = 0;
    for (std::size_t i = kLimit; i < counts.size(); ++i) rest += counts[i].second;
    out += "  ... " + noun(counts.size() - kLimit, one, many) + " (" + std::to_string(rest) + " in all)\n";
  }
  return out;
}

}  // namespace

std::string summary_line(const record::PersonaRecord& r, std::uint64_t index, std::size_t width) {
  std::vector<std::string> parts;
  for (const auto& [name, v] : r.anchors)
    if (!v.is_null()) parts.push_back(plain(v));
  std::string right = "  " + noun(r.attributes.size(), "attribute", "attributes");
  if (!r.problems.empty()) right += ", " + noun(r.problems.size(), "problem", "problems");
  const std::string left = fmt::format("{:>3}  ", index) + text::join(parts, ", ");
  const std::size_t right_cols = columns_of(right);
  const std::size_t room = width > right_cols + 10 ? width - right_cols : 10;
  return pad(fit(left, room), room) + right + "\n";
}

std::string persona(const record::PersonaRecord& r, std::uint64_t index, std::uint64_t of, std::size_t width,
                    std::string_view filter) {
  std::string o;
  o += fit(r.id + "  persona " + std::to_string(index) + " of " + std::to_string(of) + "  seed " +
               std::to_string(r.seed),
           width) +
       "\n";
  if (r.usage.calls > 0)
    o += fit("usage: " + noun(r.usage.calls, "call", "calls") + ", " + std::to_string(r.usage.prompt_tokens) +
                 " prompt and " + std::to_string(r.usage.completion_tokens) + " completion tokens",
             width) +
         "\n";
  const std::string needle = text::lower(filter);
  if (needle.empty()) {
    if (!r.anchors.empty()) {
      o += "\nAnchors\n";
      std::size_t kw = 0;
      for (const auto& a : r.anchors) kw = std::max(kw, columns_of(a.first));
      kw = std::min(kw, width / 3);
      for (const auto& [name, v] : r.anchors) o += hang(pad("  " + fit(name, kw), kw + 2) + "  ", plain(v), width);
    }
    if (r.has_core && !r.core.empty()) {
      o += "\nCore\n";
      std::size_t kw = 0;
      for (const auto& c : r.core) kw = std::max(kw, columns_of(c.first));
      kw = std::min(kw, width / 3);
      for (const auto& [name, v] : r.core) o += core_value(pad("  " + fit(name, kw), kw + 2) + "  ", v, width);
    }
  }
  // Attributes by category, in the record's (taxonomy) order.
  std::vector<const record::Attribute*> shown;
  for (const auto& a : r.attributes)
    if (needle.empty() || text::lower(a.path).find(needle) != std::string::npos) shown.push_back(&a);
  std::uint64_t tiers[4] = {0, 0, 0, 0}, filled = 0;
  for (const auto* a : shown) {
    const char t = tier_mark(a->tier);
    if (t == 'n') ++tiers[0];
    if (t == 'm') ++tiers[1];
    if (t == 'f') ++tiers[2];
    if (t == 'p') ++tiers[3];
    if (a->status == "filled") ++filled;
  }
  o += "\n" +
       fit("Attributes  " + std::to_string(shown.size()) +
               (needle.empty() ? std::string()
                               : " of " + std::to_string(r.attributes.size()) + " (path contains \"" +
                                     std::string(filter) + "\")") +
               (tiers[3] > 0 ? ": panel " + std::to_string(tiers[3]) + ", near " : ": near ") +
               std::to_string(tiers[0]) + ", mid " + std::to_string(tiers[1]) + ", far " + std::to_string(tiers[2]) +
               "; " + (filled == shown.size() ? std::string("all filled") : std::to_string(filled) + " filled"),
           width) +
       "\n";
  if (!shown.empty())
    o += fit(std::string("  marks: tier ") + (tiers[3] > 0 ? "p panel, " : "") +
                 "n near, m mid, f far; source o options, x lexicon, L llm, t table",
             width) +
         "\n";
  std::size_t leaf_cols = 0;
  for (const auto* a : shown) leaf_cols = std::max(leaf_cols, columns_of(leaf_of(a->path)));
  const std::size_t prefix = 7;  // "  n o  "
  leaf_cols = std::min(leaf_cols, std::max<std::size_t>(12, (width - prefix) / 2));
  std::string_view category;
  std::size_t in_category = 0;
  std::string block;
  auto close_category = [&] {
    if (category.empty()) return;
    o += fit(std::string(category) + "  (" + std::to_string(in_category) + ")", width) + "\n" + block;
    block.clear();
    in_category = 0;
  };
  for (const auto* a : shown) {
    const std::string_view cat = category_of(a->path);
    if (cat != category) {
      close_category();
      category = cat;
    }
    ++in_category;
    const std::string value = a->status == "filled" && a->value ? *a->value : "(" + a->status + ")";
    std::string label = "  ";
    label += tier_mark(a->tier);
    label += ' ';
    label += source_mark(a->source);
    label += "  ";
    const std::string leaf(leaf_of(a->path));
    if (columns_of(leaf) > leaf_cols) {
      // A long name on its own line, the value below it under the value column.
      block += fit(label + leaf, width) + "\n";
      block += hang(std::string(prefix + leaf_cols + 2, ' '), value, width);
    } else {
      block += hang(pad(label + leaf, prefix + leaf_cols) + "  ", value, width);
    }
  }
  close_category();
  if (needle.empty() && r.has_narrative && !r.narrative.empty()) {
    o += "\nNarrative\n";
    for (const auto& para : split_lines(r.narrative)) o += wrap(para, 2, width);
  }
  if (!r.problems.empty()) {
    o += "\nProblems\n";
    for (const auto& p : r.problems) o += hang("  - ", p, width);
  }
  return o;
}

std::string attribute_values(const std::vector<record::PersonaRecord>& rs, const std::string& path, std::size_t width) {
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t chosen = 0, tiers[4] = {0, 0, 0, 0};
  for (const auto& r : rs)
    for (const auto& a : r.attributes) {
      if (a.path != path) continue;
      ++chosen;
      const char t = tier_mark(a.tier);
      if (t == 'n') ++tiers[0];
      if (t == 'm') ++tiers[1];
      if (t == 'f') ++tiers[2];
      if (t == 'p') ++tiers[3];
      ++counts[a.status == "filled" && a.value ? *a.value : "(" + a.status + ")"];
      break;
    }
  std::string o = fit(path, width) + "\n";
  o += fit("  chosen for " + std::to_string(chosen) + " of " + noun(rs.size(), "persona", "personas") +
               (chosen > 0 ? (tiers[3] > 0 ? " (panel " + std::to_string(tiers[3]) + ", near " : " (near ") +
                                 std::to_string(tiers[0]) + ", mid " + std::to_string(tiers[1]) + ", far " +
                                 std::to_string(tiers[2]) + ")"
                           : std::string()),
           width) +
       "\n";
  o += count_lines({counts.begin(), counts.end()}, chosen, width, false);
  if (chosen == 0 && !rs.empty()) o += fit("  (':why PATH persona N' says why it was not chosen)", width) + "\n";
  return o;
}

std::string field_values(const std::vector<record::PersonaRecord>& rs, const std::string& name, bool core,
                         std::size_t width) {
  std::map<std::string, std::uint64_t> counts;
  std::vector<double> numbers;
  std::uint64_t items = 0;
  for (const auto& r : rs) {
    const record::Value* v = core ? r.core_value(name) : r.anchor(name);
    if (v == nullptr || v->is_null()) {
      ++counts["(none)"];
      ++items;
    } else if (v->kind == record::Value::Kind::list) {
      for (const auto& i : v->items) ++counts[i];
      items += v->items.size();
    } else {
      if (v->kind == record::Value::Kind::number) numbers.push_back(v->number);
      ++counts[v->to_text()];
      ++items;
    }
  }
  std::string o = fit((core ? "core " : "anchor ") + name + " across " + noun(rs.size(), "persona", "personas") +
                          (items != rs.size() ? " (" + noun(items, "value", "values") + ")" : std::string()),
                      width) +
                  "\n";
  o += count_lines({counts.begin(), counts.end()}, items, width, !numbers.empty() && numbers.size() == items);
  if (!numbers.empty()) {
    std::sort(numbers.begin(), numbers.end());
    double sum = 0;
    for (double d : numbers) sum += d;
    const std::size_t n = numbers.size();
    const double median = n % 2 == 1 ? numbers[n / 2] : (numbers[n / 2 - 1] + numbers[n / 2]) / 2;
    o += fit("  min " + text::format_number(numbers.front()) + ", median " + text::format_number(median) + ", mean " +
                 fmt::format("{:.1f}", sum / static_cast<double>(n)) + ", max " + text::format_number(numbers.back()),
             width) +
         "\n";
  }
  return o;
}

std::string attributes_chosen(const std::vector<record::PersonaRecord>& rs, const std::string& title,
                              const std::function<bool(std::string_view)>& keep, std::size_t width) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& r : rs)
    for (const auto& a : r.attributes)
      if (keep(a.path)) ++counts[a.path];
  std::string o = fit(title + " across " + noun(rs.size(), "persona", "personas") + ": " +
                          noun(counts.size(), "attribute", "attributes") + " chosen",
                      width) +
                  "\n";
  if (counts.empty()) return o;
  o += fit("  personas that got each (':values PATH' for one attribute's values)", width) + "\n";
  o += count_lines({counts.begin(), counts.end()}, rs.size(), width, false, "more attribute", "more attributes");
  return o;
}

}  // namespace persona::repl::view
