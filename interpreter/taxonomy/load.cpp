// Loaders: `.tax` outlines, directories of them, reference JSON, the standard library.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/files.hpp"
#include "detail.hpp"
#include "diag/source.hpp"
#include "rules.hpp"
#include "util/stdlib_path.hpp"

namespace persona::tax {

namespace fs = std::filesystem;

namespace detail {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + sep.size();
  }
}

std::string format_weight(double w) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, w);
  return std::string(buf, r.ptr);
}

namespace {

std::vector<std::size_t> line_starts(std::string_view text) {
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  return starts;
}

SourceRange at_offset(const std::string& file, const std::vector<std::size_t>& starts, std::size_t offset,
                      std::uint32_t length = 0) {
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  const std::size_t line = static_cast<std::size_t>(it - starts.begin());  // 1-based
  const std::size_t col = offset - starts[line - 1] + 1;
  return SourceRange{file, static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(col), length};
}

}  // namespace

bool check_text(std::string_view text, const std::string& file, DiagnosticSink& sink) {
  std::uint32_t line = 1, col = 1;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) {
      sink.error({file, line, col, 1}, "binary-file", "the file looks binary (it contains a NUL byte)");
      return false;
    }
    std::size_t len = 1;
    if (c >= 0x80) {
      if ((c & 0xE0) == 0xC0 && c >= 0xC2)
        len = 2;
      else if ((c & 0xF0) == 0xE0)
        len = 3;
      else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
        len = 4;
      else
        len = 0;
      bool ok = len > 0 && i + len <= text.size();
      for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      if (!ok) {
        sink.error({file, line, col, 1}, "invalid-utf8", "the file is not valid UTF-8 text (binary or wrong encoding)");
        return false;
      }
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += len;
  }
  return true;
}

// Every taxonomy file is read through files::read: regular files only, a size limit; the message
// names the path, never the contents. UTF-8 is checked by check_text (code invalid-utf8).
std::optional<std::string> read_file(const fs::path& path, DiagnosticSink& sink) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    sink.error({path.string(), 0, 0, 0}, "file-not-found", "cannot open '" + path.string() + "': no such file");
    return std::nullopt;
  }
  files::Limits limits;
  limits.require_utf8 = false;
  files::ReadResult r = files::read(path, limits);
  if (!r.ok()) {
    sink.error({path.string(), 0, 0, 0}, "read-failed", r.error);
    return std::nullopt;
  }
  return std::move(*r.text);
}

std::size_t count_nodes(const std::vector<RawNode>& forest) {
  std::size_t n = 0;
  for (const auto& r : forest) n += 1 + count_nodes(r.kids);
  return n;
}

Graph build_graph(std::vector<RawNode>& forest) {
  Graph g;
  struct Item {
    RawNode* node;
    std::optional<Vertex> parent;
  };
  std::vector<Item> stack;
  for (auto it = forest.rbegin(); it != forest.rend(); ++it) stack.push_back({&*it, std::nullopt});
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    Node n;
    n.name = std::move(item.node->name);
    n.description = std::move(item.node->description);
    n.values = std::move(item.node->values);
    n.conditions = std::move(item.node->conditions);
    n.weightings = std::move(item.node->weightings);
    n.support = item.node->support;
    n.where = std::move(item.node->where);
    const Vertex v = boost::add_vertex(std::move(n), g);
    if (item.parent) boost::add_edge(*item.parent, v, g);
    for (auto it = item.node->kids.rbegin(); it != item.node->kids.rend(); ++it) stack.push_back({&*it, v});
  }
  return g;
}

// ---- reference JSON ----

namespace {

using json = nlohmann::json;

std::string sanitize_name(std::string_view raw) {
  std::string out;
  for (char c : trim(raw)) {
    if (c == '/')
      out += " or ";
    else if (std::string_view("|#*?=@").find(c) != std::string_view::npos || static_cast<unsigned char>(c) < 0x20)
      out += ' ';
    else
      out += c;
  }
  // Collapse runs of spaces, strip leading '-'.
  std::string collapsed;
  for (char c : out)
    if (!(c == ' ' && (collapsed.empty() || collapsed.back() == ' '))) collapsed += c;
  while (!collapsed.empty() && (collapsed.back() == ' ')) collapsed.pop_back();
  while (!collapsed.empty() && (collapsed.front() == '-' || collapsed.front() == ' ')) collapsed.erase(0, 1);
  return collapsed;
}

class ForestSax {
 public:
  ForestSax(std::string_view text, const std::string& file, DiagnosticSink& sink, std::vector<std::string>& renamed,
            bool warn_renames, bool warn_duplicates)
      : text_(text),
        file_(file),
        sink_(sink),
        renamed_(renamed),
        warn_renames_(warn_renames),
        warn_duplicates_(warn_duplicates),
        starts_(line_starts(text)) {}

  bool null() { return wrong("null"); }
  bool boolean(bool) { return wrong("a boolean"); }
  bool number_integer(json::number_integer_t) { return wrong("a number"); }
  bool number_unsigned(json::number_unsigned_t) { return wrong("a number"); }
  bool number_float(json::number_float_t, const json::string_t&) { return wrong("a number"); }
  bool string(json::string_t&) { return wrong("a string"); }
  bool binary(json::binary_t&) { return wrong("binary data"); }

  bool start_object(std::size_t) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (frames_.empty()) {
      if (seen_root_) return true;
      seen_root_ = true;
      frames_.push_back({nullptr, {}});
      return true;
    }
    if (frames_.size() > static_cast<std::size_t>(kMaxTaxonomyDepth)) {
      sink_.error(pending_where_, "too-deep",
                  "nested too deeply: more than " + std::to_string(kMaxTaxonomyDepth) + " levels of nodes");
      ++errors_;
      return false;
    }
    RawNode node;
    node.name = pending_name_;
    node.where = pending_where_;
    auto& siblings = frames_.back().node ? frames_.back().node->kids : forest_;
    auto& seen = frames_.back().seen;
    if (node.name.empty()) {
      sink_.error(pending_where_, "empty-name", "a node name is empty");
      ++errors_;
    } else if (node.name.size() > 80) {
      sink_.error(pending_where_, "bad-name", "the name is longer than 80 characters: '" + node.name + "'");
      ++errors_;
    } else if (warn_duplicates_) {
      auto [it, fresh] = seen.emplace(fold_name(node.name), std::make_pair(node.name, pending_where_));
      if (!fresh) {
        const bool exact = it->second.first == pending_raw_;
        sink_.warning(pending_where_, exact ? "duplicate-key" : "duplicate-sibling",
                      "'" + node.name + "' duplicates its sibling '" + it->second.first + "'",
                      {"first defined at line " + std::to_string(it->second.second.line)});
      }
    }
    siblings.push_back(std::move(node));
    frames_.push_back({&siblings.back(), {}});
    return true;
  }

  bool end_object() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (!frames_.empty()) frames_.pop_back();
    return true;
  }

  bool start_array(std::size_t) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    wrong("an array");
    skip_ = 1;
    return true;
  }

  bool end_array() {
    if (skip_ > 0) --skip_;
    return true;
  }

  bool key(json::string_t& k) {
    if (skip_ > 0) return true;
    pending_raw_ = k;
    pending_where_ = locate(k);
    pending_name_ = sanitize_name(k);
    if (pending_name_ != k) {
      const std::string t(trim(k));
      if (t != pending_name_) {
        renamed_.push_back("'" + k + "' -> '" + pending_name_ + "'");
        if (warn_renames_)
          sink_.warning(pending_where_, "name-sanitized",
                        "the name '" + k + "' contains characters a taxonomy name cannot hold; renamed to '" +
                            pending_name_ + "'");
      }
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*token*/, const nlohmann::detail::exception& ex) {
    std::string msg = ex.what();
    if (auto p = msg.find("parse error"); p != std::string::npos) {
      if (auto q = msg.find(": ", p); q != std::string::npos) msg = msg.substr(q + 2);
    }
    const bool truncated = msg.find("unexpected end of input") != std::string::npos;
    const std::size_t offset = std::min(position > 0 ? position - 1 : 0, text_.empty() ? 0 : text_.size() - 1);
    sink_.error(at_offset(file_, starts_, offset, 1), truncated ? "truncated" : "json-syntax",
                truncated ? "the JSON text ends early (truncated file?): " + msg : "invalid JSON: " + msg);
    ++errors_;
    return false;
  }

  std::vector<RawNode> forest_;
  std::size_t errors_ = 0;

 private:
  struct Frame {
    RawNode* node;  // nullptr: the top-level object
    std::map<std::string, std::pair<std::string, SourceRange>> seen;
  };

  bool wrong(const std::string& what) {
    if (skip_ > 0) return true;
    if (frames_.empty()) {
      sink_.error(at_offset(file_, starts_, 0), "json-type",
                  "the top level of a taxonomy JSON file must be an object, found " + what);
    } else {
      sink_.error(pending_where_, "json-type",
                  "'" + pending_name_ + "' must be an object ({} for a leaf), found " + what);
    }
    ++errors_;
    return true;
  }

  SourceRange locate(const std::string& k) {
    std::string needle;
    try {
      needle = json(k).dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (...) {
      needle = "\"" + k + "\"";
    }
    std::size_t pos = text_.find(needle, cursor_);
    if (pos == std::string_view::npos) pos = text_.find("\"" + k + "\"", cursor_);
    if (pos == std::string_view::npos) return at_offset(file_, starts_, std::min(cursor_, text_.size()));
    cursor_ = pos + needle.size();
    return at_offset(file_, starts_, pos + 1, static_cast<std::uint32_t>(k.size()));
  }

  std::string_view text_;
  std::string file_;
  DiagnosticSink& sink_;
  std::vector<std::string>& renamed_;
  bool warn_renames_;
  bool warn_duplicates_;
  std::vector<std::size_t> starts_;
  std::vector<Frame> frames_;
  std::size_t cursor_ = 0;
  std::size_t skip_ = 0;
  bool seen_root_ = false;
  std::string pending_name_;
  std::string pending_raw_;
  SourceRange pending_where_;
};

}  // namespace

std::optional<std::vector<RawNode>> parse_json_forest(std::string_view text, const std::string& file,
                                                      DiagnosticSink& sink, std::vector<std::string>& renamed,
                                                      bool warn_renames, bool warn_duplicates) {
  if (!check_text(text, file, sink)) return std::nullopt;
  if (trim(text).empty()) {
    sink.error({file, 0, 0, 0}, "empty-file", "the file is empty");
    return std::nullopt;
  }
  ForestSax sax(text, file, sink, renamed, warn_renames, warn_duplicates);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax);
  } catch (const std::exception& e) {
    sink.error({file, 0, 0, 0}, "json-syntax", std::string("invalid JSON: ") + e.what());
    return std::nullopt;
  }
  if (!ok || sax.errors_ > 0) return std::nullopt;
  if (sax.forest_.empty()) {
    sink.error({file, 1, 1, 0}, "empty-file", "the taxonomy has no nodes");
    return std::nullopt;
  }
  return std::move(sax.forest_);
}

}  // namespace detail

namespace {

using detail::RawNode;
using detail::trim;

// ---- `.tax` ----

struct TaxParser {
  const std::string& file;
  DiagnosticSink& sink;
  std::vector<RawNode>& forest;
  std::map<std::string, SourceRange>& top_seen;  // top-level names across files
  std::size_t errors = 0;

  struct Frame {
    RawNode* node;
    int level;
    std::map<std::string, SourceRange> seen;
  };

  void error(std::uint32_t line, std::uint32_t col, std::uint32_t len, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {}) {
    sink.error({file, line, col, len}, code, msg, std::move(notes));
    ++errors;
  }

  // `+ support N` under a node: how many exchanges support it (written by `persona taxonomy mine`).
  void parse_support(std::string_view line, std::string_view content, std::uint32_t lineno, int level,
                     std::vector<Frame>& stack) {
    const std::uint32_t ccol = col_of(line, content);
    if (stack.empty() || stack.back().level != level - 1) {
      error(lineno, ccol, 1, "orphan-support",
            "a '+ support' line must be indented one level (2 spaces) under its node");
      return;
    }
    const std::string_view rest = trim(content.substr(1));
    std::uint64_t n = 0;
    const bool word = rest.starts_with("support ");
    const std::string_view num = word ? trim(rest.substr(8)) : std::string_view{};
    const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (!word || num.empty() || ec != std::errc() || end != num.data() + num.size()) {
      error(lineno, ccol, static_cast<std::uint32_t>(content.size()), "bad-support",
            "expected '+ support N' (N a whole number of supporting exchanges)");
      return;
    }
    stack.back().node->support = n;
  }

  static std::uint32_t col_of(std::string_view line, std::string_view part) {
    return static_cast<std::uint32_t>(part.data() - line.data()) + 1;
  }

  void parse(std::string_view text) {
    std::vector<Frame> stack;
    std::uint32_t lineno = 0;
    bool any_node = false;
    std::size_t pos = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
    while (pos < text.size()) {
      std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++lineno;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (trim(line).empty()) continue;
      std::size_t ws = 0;
      while (ws < line.size() && (line[ws] == ' ' || line[ws] == '\t')) ++ws;
      const std::string_view content = trim(line.substr(ws));
      if (content.front() == '#') continue;
      if (const auto tab = line.substr(0, ws).find('\t'); tab != std::string_view::npos) {
        error(lineno, static_cast<std::uint32_t>(tab) + 1, 1, "tab-indent",
              "indentation uses a tab; indent with 2 spaces per level");
        continue;
      }
      if (ws % 2 != 0) {
        error(lineno, 1, static_cast<std::uint32_t>(ws), "bad-indent",
              "indentation of " + std::to_string(ws) + " spaces is not a multiple of 2");
        continue;
      }
      const int level = static_cast<int>(ws / 2);
      const std::uint32_t ccol = static_cast<std::uint32_t>(ws) + 1;
      if (content.front() == '+' && content.size() > 1 && content[1] == ' ') {
        parse_support(line, content, lineno, level, stack);
        continue;
      }
      if (content.front() == '=' || content.front() == '?' || content.front() == '~') {
        const bool is_value = content.front() == '=';
        const bool is_weighting = content.front() == '~';
        const char* what = is_value ? "value" : is_weighting ? "weighting" : "condition";
        if (content.size() > 1 && content[1] != ' ') {
          // "=foo" / "?foo": treat as a node name with a forbidden leading character below.
        } else {
          Frame* owner = nullptr;
          for (auto it = stack.rbegin(); it != stack.rend(); ++it)
            if (it->level == level - 1) {
              owner = &*it;
              break;
            }
          if (stack.empty()) {
            error(lineno, ccol, 1, is_value ? "orphan-value" : "orphan-condition",
                  std::string("a ") + what + " line must follow a node line");
          } else if (owner == nullptr || level > stack.back().level + 1) {
            error(lineno, 1, static_cast<std::uint32_t>(ws), "bad-indent",
                  std::string("a ") + what + " line must be indented one level (2 spaces) under its node");
          } else if (is_value) {
            parse_values(line, content.substr(1), lineno, *owner->node);
          } else if (is_weighting) {
            detail::CountingSink counting(sink);
            auto w = parse_weighting(line, content.substr(1), lineno, file, owner->node->values, counting);
            errors += counting.errors;
            if (w) owner->node->weightings.push_back(std::move(*w));
          } else {
            parse_condition(line, content.substr(1), lineno, *owner->node);
          }
          continue;
        }
      }
      // Node line.
      int lvl = level;
      const int max_level = stack.empty() ? 0 : stack.back().level + 1;
      if (lvl > max_level) {
        error(lineno, 1, static_cast<std::uint32_t>(ws), "indent-jump",
              "indentation jumps more than one level (expected at most " + std::to_string(max_level * 2) +
                  " spaces, found " + std::to_string(ws) + ")");
        lvl = max_level;
      }
      if (lvl >= detail::kMaxTaxonomyDepth) {
        error(lineno, 1, static_cast<std::uint32_t>(ws), "too-deep",
              "nested too deeply: more than " + std::to_string(detail::kMaxTaxonomyDepth) + " levels of nodes");
        return;
      }
      while (!stack.empty() && stack.back().level >= lvl) stack.pop_back();
      const std::size_t bar = content.find('|');
      const std::string_view name = trim(content.substr(0, bar));
      std::string_view desc;
      if (bar != std::string_view::npos) {
        desc = trim(content.substr(bar + 1));
        if (const auto bar2 = desc.find('|'); bar2 != std::string_view::npos)
          error(lineno, col_of(line, desc.substr(bar2)), 1, "bad-description",
                "a description cannot contain '|' (value options go on a '= ' line)");
      }
      const std::uint32_t ncol = name.empty() ? ccol : col_of(line, name);
      const std::string problem = name_problem(name);
      if (!problem.empty()) {
        std::string code = "bad-name";
        std::uint32_t col = ncol;
        if (name.empty()) code = "empty-name";
        for (std::size_t i = 0; i < name.size(); ++i)
          if (std::string_view("/|#*?=@").find(name[i]) != std::string_view::npos) {
            code = "forbidden-character";
            col = ncol + static_cast<std::uint32_t>(i);
            break;
          }
        error(lineno, col, static_cast<std::uint32_t>(std::max<std::size_t>(name.size(), 1)), code,
              problem + (name.empty() ? "" : ": '" + std::string(name) + "'"));
      }
      RawNode node;
      node.name = std::string(name);
      node.description = std::string(desc);
      node.where = SourceRange{file, lineno, ncol, static_cast<std::uint32_t>(name.size())};
      auto& seen = stack.empty() ? top_seen : stack.back().seen;
      if (!name.empty()) {
        auto [it, fresh] = seen.emplace(fold_name(name), node.where);
        if (!fresh)
          error(lineno, ncol, static_cast<std::uint32_t>(name.size()), "duplicate-sibling",
                "'" + std::string(name) + "' duplicates a sibling (names must differ ignoring case and punctuation)",
                {"first defined at " + it->second.file + ":" + std::to_string(it->second.line)});
      }
      auto& siblings = stack.empty() ? forest : stack.back().node->kids;
      siblings.push_back(std::move(node));
      stack.push_back({&siblings.back(), lvl, {}});
      any_node = true;
    }
    if (!any_node) {
      sink.error({file, 0, 0, 0}, "empty-file", "the file has no taxonomy nodes");
      ++errors;
    } else if (!text.empty() && text.back() != '\n') {
      sink.warning({file, lineno, 1, 0}, "truncated", "the file does not end with a newline; it may be truncated");
    }
  }

  void parse_values(std::string_view line, std::string_view rest, std::uint32_t lineno, RawNode& node) {
    for (std::string_view opt : detail::split(rest, "|")) {
      const std::string_view t = trim(opt);
      if (t.empty()) {
        error(lineno, col_of(line, opt), 1, "empty-option", "an empty value option");
        continue;
      }
      ValueOption o;
      std::string_view label = t;
      if (const auto at = t.rfind('@'); at != std::string_view::npos) {
        label = trim(t.substr(0, at));
        const std::string_view wt = trim(t.substr(at + 1));
        double w = -1;
        auto r = std::from_chars(wt.data(), wt.data() + wt.size(), w);
        if (wt.empty() || r.ec != std::errc() || r.ptr != wt.data() + wt.size() || !std::isfinite(w) || w < 0) {
          error(lineno, col_of(line, t.substr(at)), static_cast<std::uint32_t>(t.size() - at), "bad-weight",
                "bad weight '" + std::string(t.substr(at)) + "': expected '@' and a non-negative number");
          continue;
        }
        o.weight = w;
        o.weighted = true;
      }
      if (label.empty()) {
        error(lineno, col_of(line, t), static_cast<std::uint32_t>(t.size()), "empty-option",
              "a value option has a weight but no label");
        continue;
      }
      o.label = std::string(label);
      node.values.push_back(std::move(o));
    }
  }

  void parse_condition(std::string_view line, std::string_view rest, std::uint32_t lineno, RawNode& node) {
    const std::string_view text = trim(rest);
    if (text.empty()) {
      error(lineno, col_of(line, rest), 1, "bad-condition", "an empty condition");
      return;
    }
    const SourceRange origin{file, lineno, col_of(line, text), static_cast<std::uint32_t>(text.size())};
    detail::CountingSink counting(sink);
    std::optional<cond::Condition> c;
    try {
      c = cond::parse(text, origin, counting);
    } catch (const std::exception& e) {
      counting.error(origin, "bad-condition", std::string("cannot parse the condition: ") + e.what());
    }
    if (!c) {
      if (counting.errors == 0)
        sink.error(origin, "bad-condition", "cannot parse the condition '" + std::string(text) + "'");
      ++errors;
      return;
    }
    node.conditions.push_back(NodeCondition{std::move(*c), std::string(text)});
  }
};

void post_checks(const std::vector<RawNode>& forest, const LoadOptions& opts, DiagnosticSink& sink, int depth,
                 bool tax_format, std::size_t& errors) {
  for (const auto& n : forest) {
    if (opts.warn_depth > 0 && depth > opts.warn_depth)
      sink.warning(n.where, "depth-limit",
                   "'" + n.name + "' is at depth " + std::to_string(depth) + " (the limit is " +
                       std::to_string(opts.warn_depth) + ")");
    if (tax_format && opts.require_leaf_descriptions && n.kids.empty() && n.description.empty())
      sink.warning(n.where, "missing-description", "the leaf '" + n.name + "' has no description");
    if (!n.values.empty()) {
      std::size_t weighted = 0;
      double total = 0;
      for (const auto& o : n.values) {
        weighted += o.weighted ? 1 : 0;
        total += o.weight;
      }
      if (weighted > 0 && weighted < n.values.size())
        sink.warning(n.where, "mixed-weights",
                     "some options of '" + n.name + "' have weights and others do not (those count 1)");
      if (total <= 0) {
        sink.error(n.where, "zero-weights",
                   "the weights of '" + n.name + "' do not form a distribution (they sum to 0)");
        ++errors;
      }
    }
    if (!n.weightings.empty() && !n.kids.empty())
      sink.warning(n.weightings.front().where, "inner-weighting",
                   "'~' lines weigh a leaf's options; '" + n.name + "' is not a leaf");
    post_checks(n.kids, opts, sink, depth + 1, tax_format, errors);
  }
}

std::optional<Taxonomy> finish(std::vector<RawNode>& forest, DiagnosticSink& sink, const LoadOptions& opts,
                               bool tax_format) {
  std::size_t errors = 0;
  post_checks(forest, opts, sink, 1, tax_format, errors);
  if (errors > 0) return std::nullopt;
  Graph g = detail::build_graph(forest);
  return Taxonomy::from_graph(std::move(g), sink, BuildOptions{opts.vectors});
}

const std::string& keep_text(const LoadOptions& opts, const std::string& file, std::string& text) {
  if (opts.sources != nullptr) return opts.sources->add(file, std::move(text));
  return text;
}

bool parse_tax_into(std::string_view text, const std::string& file, DiagnosticSink& sink, std::vector<RawNode>& forest,
                    std::map<std::string, SourceRange>& top_seen) {
  if (!detail::check_text(text, file, sink)) return false;
  if (trim(text).empty()) {
    sink.error({file, 0, 0, 0}, "empty-file", "the file is empty");
    return false;
  }
  TaxParser p{file, sink, forest, top_seen};
  p.parse(text);
  return p.errors == 0;
}

// The `*.rules` files (name order) and `twins.toml` of a taxonomy directory.
bool attach_books(Taxonomy& t, const fs::path& dir, DiagnosticSink& sink, const LoadOptions& opts) {
  std::error_code ec;
  std::vector<fs::path> rule_files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && e.path().extension() == ".rules") rule_files.push_back(e.path());
  std::sort(rule_files.begin(), rule_files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  bool ok = true;
  if (!rule_files.empty()) {
    std::vector<std::pair<std::string, std::string>> texts;
    for (const auto& f : rule_files) {
      auto text = detail::read_file(f, sink);
      if (!text) {
        ok = false;
        continue;
      }
      std::string copy = *text;
      keep_text(opts, f.string(), *text);
      texts.emplace_back(f.string(), std::move(copy));
    }
    ok = ok && load_rules(t, texts, sink);
  }
  const fs::path twins = dir / "twins.toml";
  if (fs::is_regular_file(twins, ec)) {
    auto text = detail::read_file(twins, sink);
    if (!text) return false;
    std::string copy = *text;
    keep_text(opts, twins.string(), *text);
    ok = load_twins(t, copy, twins.string(), sink) && ok;
  }
  return ok;
}

}  // namespace

std::optional<Taxonomy> load_tax_text(std::string_view text, const std::string& file, DiagnosticSink& sink,
                                      const LoadOptions& opts) {
  try {
    std::vector<RawNode> forest;
    std::map<std::string, SourceRange> top_seen;
    if (!parse_tax_into(text, file, sink, forest, top_seen)) return std::nullopt;
    return finish(forest, sink, opts, true);
  } catch (const std::exception& e) {
    sink.error({file, 0, 0, 0}, "internal", std::string("cannot load the taxonomy: ") + e.what());
    return std::nullopt;
  }
}

std::optional<Taxonomy> load_json_text(std::string_view text, const std::string& file, DiagnosticSink& sink,
                                       const LoadOptions& opts) {
  try {
    std::vector<std::string> renamed;
    auto forest = detail::parse_json_forest(text, file, sink, renamed, true, true);
    if (!forest) return std::nullopt;
    return finish(*forest, sink, opts, false);
  } catch (const std::exception& e) {
    sink.error({file, 0, 0, 0}, "internal", std::string("cannot load the taxonomy: ") + e.what());
    return std::nullopt;
  }
}

std::optional<Taxonomy> load(const fs::path& path, DiagnosticSink& sink, const LoadOptions& opts) {
  try {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(path, ec))
        if (e.is_regular_file(ec) && e.path().extension() == ".tax") files.push_back(e.path());
      if (ec) {
        sink.error({path.string(), 0, 0, 0}, "read-failed", "cannot list '" + path.string() + "': " + ec.message());
        return std::nullopt;
      }
      std::sort(files.begin(), files.end(),
                [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
      if (files.empty()) {
        sink.error({path.string(), 0, 0, 0}, "empty-directory", "no .tax files in '" + path.string() + "'");
        return std::nullopt;
      }
      std::vector<RawNode> forest;
      std::map<std::string, SourceRange> top_seen;
      bool ok = true;
      for (const auto& f : files) {
        auto text = detail::read_file(f, sink);
        if (!text) {
          ok = false;
          continue;
        }
        const std::string name = f.string();
        const std::string& kept = keep_text(opts, name, *text);
        ok = parse_tax_into(kept, name, sink, forest, top_seen) && ok;
      }
      if (!ok) return std::nullopt;
      auto t = finish(forest, sink, opts, true);
      if (!t) return std::nullopt;
      if (!attach_books(*t, path, sink, opts)) return std::nullopt;
      return t;
    }
    auto text = detail::read_file(path, sink);
    if (!text) return std::nullopt;
    const std::string name = path.string();
    const std::string& kept = keep_text(opts, name, *text);
    if (path.extension() == ".json") return load_json_text(kept, name, sink, opts);
    return load_tax_text(kept, name, sink, opts);
  } catch (const std::exception& e) {
    sink.error({path.string(), 0, 0, 0}, "internal", std::string("cannot load the taxonomy: ") + e.what());
    return std::nullopt;
  }
}

fs::path stdlib_taxonomy_dir(std::string_view name) { return stdlib_dir() / "taxonomy" / std::string(name); }

std::optional<Taxonomy> load_stdlib(std::string_view name, DiagnosticSink& sink, LoadOptions opts) {
  std::string n(name);
  if (n.rfind("stdlib.", 0) == 0) n = n.substr(7);
  const fs::path dir = stdlib_taxonomy_dir(n);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    sink.error({dir.string(), 0, 0, 0}, "file-not-found",
               "the standard taxonomy 'stdlib." + n + "' is missing: no directory '" + dir.string() + "'");
    return std::nullopt;
  }
  opts.warn_depth = 4;
  opts.require_leaf_descriptions = true;
  return load(dir, sink, opts);
}

bool write_text_file(const fs::path& path, std::string_view text, DiagnosticSink& sink) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) {
    sink.error({path.string(), 0, 0, 0}, "write-failed", "cannot write '" + path.string() + "'");
    return false;
  }
  return true;
}

}  // namespace persona::tax
