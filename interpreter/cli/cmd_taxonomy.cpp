// `persona taxonomy ...`: inspect, search, import and export attribute taxonomies.
//
//   persona taxonomy stats [FILE] [--json]
//   persona taxonomy find TEXT [--file FILE] [-n N]
//   persona taxonomy show PATH [--file FILE]
//   persona taxonomy import FILE -o OUT [--format tax|json]
//   persona taxonomy export [FILE] -o OUT --format json|tax|dot
//   persona taxonomy dot [PATH] [--depth N] [--file FILE] [-o OUT]
//   persona taxonomy diff A B [--json]
//   persona taxonomy mine ... / merge ...   (cmd_mine.cpp)
//
// Without FILE the commands work on the standard library taxonomy stdlib.core.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "diag/source.hpp"
#include "taxonomy.hpp"

namespace persona::cli {

namespace {

namespace fs = std::filesystem;

struct TaxArgs {
  std::string file;
  std::string other;  // diff: B
  bool json = false;
  std::string text;
  std::string path;
  std::string out;
  std::string format;
  int depth = 0;
  std::size_t limit = 10;
};

bool color_stderr() { return ::isatty(2) != 0; }

std::string fmt3(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", x);
  return buf;
}

// Prints diagnostics to stderr (errors all, warnings up to a limit); returns true when there are errors.
bool print_diagnostics(DiagnosticList& diags, const SourceFiles& sources, std::size_t max_warnings = 20) {
  diags.sort_by_location();
  const bool color = color_stderr();
  std::size_t warnings = 0, hidden = 0;
  for (const auto& d : diags.all()) {
    if (d.severity != Severity::error && ++warnings > max_warnings) {
      ++hidden;
      continue;
    }
    std::cerr << render(d, &sources, color);
    if (!render(d, &sources, false).ends_with("\n")) std::cerr << '\n';
  }
  if (hidden > 0) std::cerr << "(" << hidden << " more warnings not shown)\n";
  return diags.has_errors();
}

std::optional<tax::Taxonomy> load_taxonomy(const std::string& file, SourceFiles& sources, int& code,
                                           bool vectors = true) {
  DiagnosticList diags;
  tax::LoadOptions opts;
  opts.sources = &sources;
  opts.vectors = vectors;
  std::optional<tax::Taxonomy> t = file.empty() ? tax::load_stdlib("core", diags, opts) : tax::load(file, diags, opts);
  const bool errors = print_diagnostics(diags, sources);
  if (!t || errors) {
    code = Exit::user_error;
    return std::nullopt;
  }
  return t;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string format_from(const std::string& format, const std::string& out, const std::string& fallback) {
  if (!format.empty()) return format;
  const std::string ext = fs::path(out).extension().string();
  if (ext == ".json") return "json";
  if (ext == ".dot" || ext == ".gv") return "dot";
  if (ext == ".tax") return "tax";
  return fallback;
}

bool write_output(const std::string& out, const std::string& text, int& code) {
  if (out.empty() || out == "-") {
    std::cout << text;
    return true;
  }
  DiagnosticList diags;
  if (!tax::write_text_file(out, text, diags)) {
    SourceFiles none;
    print_diagnostics(diags, none);
    code = Exit::user_error;
    return false;
  }
  return true;
}

void cmd_stats(const TaxArgs& a, int& code) {
  SourceFiles sources;
  auto t = load_taxonomy(a.file, sources, code, false);
  if (!t) return;
  const auto s = t->stats();
  const std::string name = a.file.empty() ? "stdlib.core" : a.file;
  if (a.json) {
    nlohmann::ordered_json j;
    j["taxonomy"] = name;
    j["nodes"] = s.nodes;
    j["leaves"] = s.leaves;
    j["top_level"] = s.top_level;
    j["max_depth"] = s.max_depth;
    j["leaves_with_values"] = s.leaves_with_values;
    j["hash"] = t->content_hash();
    nlohmann::ordered_json cats = nlohmann::ordered_json::array();
    for (tax::Vertex r : t->roots())
      cats.push_back({{"name", (*t)[r].name}, {"nodes", t->subtree(r).size()}, {"leaves", t->leaf_count(r)}});
    j["categories"] = cats;
    std::cout << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "taxonomy            " << name << "\n"
              << "nodes               " << s.nodes << "\n"
              << "leaves              " << s.leaves << "\n"
              << "top_level           " << s.top_level << "\n"
              << "max_depth           " << s.max_depth << "\n"
              << "leaves_with_values  " << s.leaves_with_values << " ("
              << (s.leaves > 0 ? s.leaves_with_values * 100 / s.leaves : 0) << "%)\n"
              << "hash                " << t->content_hash() << "\n";
    for (tax::Vertex r : t->roots())
      std::cout << "  " << (*t)[r].name << ": " << t->subtree(r).size() << " nodes, " << t->leaf_count(r)
                << " leaves\n";
  }
  code = Exit::ok;
}

void cmd_find(const TaxArgs& a, int& code) {
  SourceFiles sources;
  auto t = load_taxonomy(a.file, sources, code);
  if (!t) return;
  const std::string needle = lower(a.text);
  std::size_t shown = 0, total = 0;
  std::cout << "Name matches:\n";
  for (tax::Vertex v : t->preorder()) {
    if (lower((*t)[v].path).find(needle) == std::string::npos &&
        lower((*t)[v].description).find(needle) == std::string::npos)
      continue;
    ++total;
    if (shown++ < a.limit) std::cout << "  " << (*t)[v].path << "\n";
  }
  if (total == 0)
    std::cout << "  (none)\n";
  else if (total > a.limit)
    std::cout << "  ... " << (total - a.limit) << " more\n";
  std::vector<float> scores;
  t->score_all(t->query_vector(a.text), scores);
  std::vector<tax::Vertex> order(t->size());
  for (tax::Vertex v = 0; v < t->size(); ++v) order[v] = v;
  const std::size_t k = std::min(a.limit, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
      [&](tax::Vertex x, tax::Vertex y) { return scores[x] != scores[y] ? scores[x] > scores[y] : x < y; });
  std::cout << "Closest (cosine):\n";
  std::size_t printed = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (scores[order[i]] <= 0.0f) break;
    std::cout << "  " << fmt3(static_cast<double>(scores[order[i]])) << "  " << (*t)[order[i]].path << "\n";
    ++printed;
  }
  if (printed == 0) std::cout << "  (none)\n";
  code = Exit::ok;
}

std::optional<tax::Vertex> resolve(const tax::Taxonomy& t, const std::string& path) {
  if (auto v = t.find(path)) return v;
  auto g = t.glob(path);
  if (g.size() == 1) return g.front();
  const std::string lp = lower(path);
  for (tax::Vertex v : t.preorder())
    if (lower(t[v].path) == lp) return v;
  return std::nullopt;
}

void not_found(const tax::Taxonomy& t, const std::string& path, int& code) {
  std::vector<std::string> paths;
  paths.reserve(t.size());
  for (tax::Vertex v : t.preorder()) paths.push_back(t[v].path);
  std::cerr << "error: no taxonomy node '" << path << "'\n";
  if (auto best = closest_match(path, paths); !best.empty()) std::cerr << "  did you mean '" << best << "'?\n";
  code = Exit::user_error;
}

void cmd_show(const TaxArgs& a, int& code) {
  SourceFiles sources;
  auto t = load_taxonomy(a.file, sources, code, false);
  if (!t) return;
  auto v = resolve(*t, a.path);
  if (!v) return not_found(*t, a.path, code);
  const tax::Node& n = (*t)[*v];
  std::cout << n.path << "\n";
  if (!n.description.empty()) std::cout << "  description: " << n.description << "\n";
  std::cout << "  depth: " << n.depth << "   " << (t->is_leaf(*v) ? "leaf" : "inner node")
            << "   long-tail: " << fmt3(t->long_tail(*v)) << "\n";
  if (n.where.line > 0) std::cout << "  defined at: " << n.where.file << ":" << n.where.line << "\n";
  if (!n.values.empty()) {
    double total = 0;
    for (const auto& o : n.values) total += o.weight;
    std::cout << "  values:\n";
    for (const auto& o : n.values)
      std::cout << "    " << o.label << "  (weight " << o.weight << ", p=" << fmt3(total > 0 ? o.weight / total : 0)
                << ")\n";
  }
  if (!n.conditions.empty()) {
    std::cout << "  conditions:\n";
    for (const auto& c : n.conditions) std::cout << "    ? " << c.text << "\n";
  }
  const auto inherited = t->inherited_conditions(*v);
  if (inherited.size() > n.conditions.size()) {
    std::cout << "  inherited conditions:\n";
    for (std::size_t i = 0; i < inherited.size() - n.conditions.size(); ++i)
      std::cout << "    ? " << cond::to_string(*inherited[i]) << "\n";
  }
  const auto kids = t->children(*v);
  if (!kids.empty()) {
    std::cout << "  children (" << kids.size() << "):\n";
    for (tax::Vertex c : kids)
      std::cout << "    " << (*t)[c].name
                << (t->is_leaf(c) ? "" : "/ (" + std::to_string(t->leaf_count(c)) + " leaves)") << "\n";
  }
  code = Exit::ok;
}

void cmd_import(const TaxArgs& a, int& code) {
  SourceFiles sources;
  DiagnosticList diags;
  tax::LoadOptions opts;
  opts.sources = &sources;
  opts.vectors = false;
  auto res = tax::import_reference(a.file, diags, opts);
  const bool errors = print_diagnostics(diags, sources);
  if (!res.taxonomy || errors) {
    code = Exit::user_error;
    return;
  }
  const std::string format = format_from(a.format, a.out, "tax");
  if (format != "tax" && format != "json") {
    std::cerr << "error: unknown --format '" << format << "' (expected tax or json)\n";
    code = Exit::usage_error;
    return;
  }
  std::cout << res.report.to_text();
  if (!write_output(a.out, format == "json" ? tax::to_json(*res.taxonomy) : tax::to_tax(*res.taxonomy), code)) return;
  std::cout << "Wrote " << a.out << " (" << format << ", " << res.taxonomy->size() << " nodes)\n";
  code = Exit::ok;
}

void cmd_export(const TaxArgs& a, int& code) {
  const std::string format = format_from(a.format, a.out, "tax");
  if (format != "tax" && format != "json" && format != "dot") {
    std::cerr << "error: unknown --format '" << format << "' (expected json, tax or dot)\n";
    code = Exit::usage_error;
    return;
  }
  SourceFiles sources;
  auto t = load_taxonomy(a.file, sources, code, false);
  if (!t) return;
  const std::string text = format == "json" ? tax::to_json(*t) : format == "dot" ? tax::to_dot(*t) : tax::to_tax(*t);
  if (!write_output(a.out, text, code)) return;
  code = Exit::ok;
}

void cmd_dot(const TaxArgs& a, int& code) {
  SourceFiles sources;
  auto t = load_taxonomy(a.file, sources, code, false);
  if (!t) return;
  tax::DotOptions opts;
  opts.max_depth = a.depth;
  if (!a.path.empty()) {
    auto v = resolve(*t, a.path);
    if (!v) return not_found(*t, a.path, code);
    opts.root = *v;
  }
  if (!write_output(a.out, tax::to_dot(*t, opts), code)) return;
  code = Exit::ok;
}

// `persona taxonomy diff A B`: an existing file or directory is read as such; otherwise
// `stdlib.NAME` names a standard-library taxonomy (so an export named `stdlib.core.tax` is still a
// file). Exit 0 when equal, 1 when they differ, 2 when either cannot be loaded.
constexpr int kTaxonomiesDiffer = 1;

std::optional<tax::Taxonomy> load_diff_side(const std::string& arg, SourceFiles& sources) {
  DiagnosticList diags;
  tax::LoadOptions opts;
  opts.sources = &sources;
  opts.vectors = false;
  std::error_code ec;
  const bool stdlib = arg.starts_with("stdlib.") && !fs::exists(arg, ec);
  std::optional<tax::Taxonomy> t = stdlib ? tax::load_stdlib(arg.substr(7), diags, opts) : tax::load(arg, diags, opts);
  const bool errors = print_diagnostics(diags, sources);
  if (!t || errors) return std::nullopt;
  return t;
}

void cmd_diff(const TaxArgs& a, int& code) {
  SourceFiles sources;
  auto ta = load_diff_side(a.file, sources);
  auto tb = ta ? load_diff_side(a.other, sources) : std::nullopt;
  if (!ta || !tb) {
    std::cerr << "error: persona taxonomy diff: cannot load " << (ta ? "B" : "A") << " '" << (ta ? a.other : a.file)
              << "' (the errors above say why; give a .tax file, a directory of .tax files, a reference .json "
                 "or stdlib.NAME)\n";
    code = Exit::usage_error;
    return;
  }
  auto d = tax::diff(*ta, *tb);
  d.a_name = a.file;
  d.b_name = a.other;
  std::cout << (a.json ? d.to_json() : d.to_text());
  code = d.equal() ? Exit::ok : kTaxonomiesDiffer;
}

}  // namespace

void add_taxonomy_command(CLI::App& root, int& code) {
  auto args = std::make_shared<TaxArgs>();
  CLI::App* tax = root.add_subcommand("taxonomy", "Inspect, search, import and export attribute taxonomies");
  tax->require_subcommand(1);

  auto* stats = tax->add_subcommand("stats", "Counts of a taxonomy (default: stdlib.core)");
  stats->add_option("file", args->file, "A .tax file, a directory of .tax files or a reference .json");
  stats->add_flag("--json", args->json, "Print JSON");
  stats->callback([args, &code] { cmd_stats(*args, code); });

  auto* find = tax->add_subcommand("find", "Nodes whose path contains TEXT, and the closest nodes by cosine");
  find->add_option("text", args->text, "Text to look for")->required();
  find->add_option("--file,-f", args->file, "Taxonomy file (default: stdlib.core)");
  find->add_option("-n,--limit", args->limit, "Results per list")
      ->capture_default_str()
      ->check(whole_number(0, 1000000));
  find->callback([args, &code] { cmd_find(*args, code); });

  auto* show = tax->add_subcommand("show", "Details of one node: description, options, conditions, children");
  show->add_option("path", args->path, "Node path, e.g. 'Lifestyle and Daily Routine/Sleep'")->required();
  show->add_option("--file,-f", args->file, "Taxonomy file (default: stdlib.core)");
  show->callback([args, &code] { cmd_show(*args, code); });

  auto* import = tax->add_subcommand("import", "Import a DeepPersona reference JSON onto the 12 categories");
  import->add_option("file", args->file, "Reference JSON file")->required();
  import->add_option("-o,--output", args->out, "Output file")->required();
  import->add_option("--format", args->format, "tax or json (default: from the output extension, else tax)")
      ->check(CLI::IsMember({"tax", "json"}));
  import->callback([args, &code] { cmd_import(*args, code);
});

auto* exp = tax->add_subcommand("export", "Write a taxonomy as reference JSON, .tax or Graphviz DOT");
exp->add_option("file", args->file, "Taxonomy file (default: stdlib.core)");
exp->add_option("-o,--output", args->out, "Output file ('-' = stdout)")->required();
exp->add_option("--format", args->format, "json, tax or dot (default: from the output extension)")
    ->check(CLI::IsMember({"json", "tax", "dot"}));
exp->callback([args, &code] { cmd_export(*args, code); });

auto* dot = tax->add_subcommand("dot", "Graphviz DOT of the taxonomy or of one subtree");
dot->add_option("path", args->path, "Subtree root path (default: everything)");
dot->add_option("--depth,-d", args->depth, "Levels below the root to draw (0 = all)")->check(whole_number(0, 1000));
dot->add_option("--file,-f", args->file, "Taxonomy file (default: stdlib.core)");
dot->add_option("-o,--output", args->out, "Output file (default: stdout)");
dot->callback([args, &code] { cmd_dot(*args, code); });

auto* diff = tax->add_subcommand(
    "diff",
    "Compare two taxonomies node by node: added (+), removed (-), moved (>) and changed (~) nodes; exit 0 when "
    "equal, 1 when they differ, 2 when one cannot be loaded");
diff->add_option("a", args->file,
                 "Taxonomy A: a .tax file, a directory of .tax files, a reference .json or stdlib.core")
    ->required();
diff->add_option("b", args->other, "Taxonomy B (the same kinds)")->required();
diff->add_flag("--json", args->json, "Print JSON");
diff->callback([args, &code] { cmd_diff(*args, code); });

add_taxonomy_mining(tax, code);
}  // namespace persona::cli

}  // namespace persona::cli
