// The checker. Phase 1 merges `extends`/`import` files into one scope (later definitions override
// earlier ones by name); phase 2 resolves and checks every declaration, collecting all errors;
// phase 3 orders anchors and story steps by their dependencies and reports cycles.
#include "check/checker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "syntax/parser.hpp"

namespace persona::lang {
namespace {

namespace fs = std::filesystem;

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Everything visible to a recipe after merging its `extends` and `import` files.
struct Scope {
  std::optional<ast::StringLit> name, version;
  std::map<std::string, ast::TableDecl> tables;
  std::map<std::string, ast::DistributionDecl> distributions;
  std::vector<ast::Anchor> anchors;
  std::vector<ast::StoryStep> steps;
  // attributes, merged setting by setting
  std::optional<ast::Range> count;
  std::optional<ast::Tiers> tiers;
  std::optional<ast::Ident> walk, prefer;
  std::vector<ast::Filter> filters;
  std::optional<ast::Number> batch, context;
  std::optional<ast::Narrative> narrative;
  std::optional<ast::Model> model;
  std::optional<ast::Output> output;
  std::optional<ast::Ident> taxonomy_name;
  std::optional<ast::StringLit> taxonomy_file;
  std::optional<ast::Number> seed;
  std::vector<std::string> files;
};

template <typename T, typename Key>
void upsert(std::vector<T>& items, T item, Key key) {
  for (auto& existing : items) {
    if (key(existing) == key(item)) {
      existing = std::move(item);
      return;
    }
  }
  items.push_back(std::move(item));
}

class Checker {
 public:
  Checker(SourceFiles& sources, const Environment& env, DiagnosticSink& sink)
      : sources_(sources), env_(env), sink_(sink) {}

  std::optional<Recipe> run(const ast::Recipe& root, const std::string& file) {
    Scope scope;
    stack_.push_back(canonical(file));
    merge_file(root, file, scope, /*everything=*/true);
    stack_.pop_back();

    Recipe out;
    out.file = file;
    out.files = scope.files;
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const auto& f : scope.files) {
      if (const std::string* t = sources_.text(f)) h = fnv1a(*t, h);
    }
    out.text_hash = hex64(h);

    check_header(root, file, scope, out);
    check_taxonomy(scope, file, out);
    check_seed(scope, out);
    check_tables(scope);
    check_anchors(scope, out);
    check_story(scope, out);
    check_attributes(scope, out);
    check_narrative(scope, out);
    check_model(scope, out);
    check_output(scope, out);
    if (errors_ > 0) return std::nullopt;
    return out;
  }

 private:
  SourceFiles& sources_;
  const Environment& env_;
  DiagnosticSink& sink_;
  std::vector<std::string> stack_;
  std::size_t errors_ = 0;
  // resolved per anchor: facts its table derives
  std::map<std::string, std::string> derived_by_;  // fact -> anchor that derives it
  std::map<std::string, ValueType> value_types_;   // anchors and derived facts

  void error(const SourceRange& where, const std::string& code, const std::string& msg,
             std::vector<std::string> notes = {}) {
    ++errors_;
    sink_.error(where, code, msg, std::move(notes));
  }
  void warning(const SourceRange& where, const std::string& code, const std::string& msg,
               std::vector<std::string> notes = {}) {
    sink_.warning(where, code, msg, std::move(notes));
  }
  // An error that also points at a second place (e.g. the first definition of a duplicate).
  void error_related(const SourceRange& where, const std::string& code, const std::string& msg, Related related) {
    ++errors_;
    Diagnostic d{Severity::error, where, msg, code, {}, {}};
    d.related.push_back(std::move(related));
    sink_.report(std::move(d));
  }

  static std::string canonical(const std::string& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(path), ec);
    return ec ? path : p.string();
  }

  static std::string resolve(const std::string& from_file, const std::string& rel) {
    fs::path p(rel);
    if (p.is_absolute()) return p.lexically_normal().string();
    fs::path base = fs::path(from_file).parent_path();
    return (base / p).lexically_normal().string();
  }

  // ---- phase 1: merge ----

  void merge_file(const ast::Recipe& r, const std::string& file, Scope& scope, bool everything) {
    scope.files.push_back(file);
    for (const auto& inc : r.includes) {
      const std::string path = resolve(file, inc.path.value);
      const std::string canon = canonical(path);
      auto cycle = std::find(stack_.begin(), stack_.end(), canon);
      if (cycle != stack_.end()) {
        std::string chain;
        for (auto it = cycle; it != stack_.end(); ++it) chain += fs::path(*it).filename().string() + " -> ";
        chain += fs::path(canon).filename().string();
        error(inc.path.where, "import-cycle", "import cycle: " + chain);
        continue;
      }
      std::string already;
      if (sources_.text(path) == nullptr) {
        if (!sources_.load(path)) {
          error(inc.path.where, "import-not-found", "cannot read '" + inc.path.value + "' (resolved to " + path + ")");
          continue;
        }
      }
      const std::string* text = sources_.text(path);
      DiagnosticList local;
      ParseResult parsed = parse_recipe(*text, path, local);
      for (const auto& d : local.all()) {
        if (d.severity == Severity::error) ++errors_;
        sink_.report(d);
      }
      if (!parsed.recipe) {
        error(inc.path.where, "import-failed", "'" + inc.path.value + "' has errors");
        continue;
      }
      stack_.push_back(canon);
      merge_file(*parsed.recipe, path, scope, everything && inc.extends);
      stack_.pop_back();
    }
    merge_own(r, file, scope, everything);
  }

  template <typename T>
  void duplicates_in_file(const std::vector<T>& items, std::function<std::string(const T&)> key,
                          std::function<SourceRange(const T&)> where, const char* what) {
    std::map<std::string, SourceRange> seen;
    for (const auto& i : items) {
      auto [it, fresh] = seen.emplace(key(i), where(i));
      if (!fresh) {
        error_related(where(i), "duplicate-name", std::string("duplicate ") + what + " '" + key(i) + "'",
                      {it->second, "first defined here"});
      }
    }
  }

  void merge_own(const ast::Recipe& r, const std::string& /*file*/, Scope& scope, bool everything) {
    duplicates_in_file<ast::TableDecl>(
        r.tables, [](const auto& t) { return t.name.text; }, [](const auto& t) { return t.name.where; }, "table");
    duplicates_in_file<ast::DistributionDecl>(
        r.distributions, [](const auto& d) { return d.name.text; }, [](const auto& d) { return d.name.where; },
        "distribution");
    for (const auto& t : r.tables) scope.tables[t.name.text] = t;
    for (const auto& d : r.distributions) scope.distributions[d.name.text] = d;
    if (!everything) return;  // `import` brings tables and distributions only

    duplicates_in_file<ast::Anchor>(
        r.anchors, [](const auto& a) { return a.name.text; }, [](const auto& a) { return a.name.where; }, "anchor");
    if (r.story) {
      duplicates_in_file<ast::StoryStep>(
          r.story->steps, [](const auto& s) { return s.output.text; }, [](const auto& s) { return s.output.where; },
          "story step");
    }
    if (r.name) scope.name = r.name;
    if (r.version) scope.version = r.version;
    for (const auto& a : r.anchors) upsert(scope.anchors, a, [](const ast::Anchor& x) { return x.name.text; });
    if (r.story) {
      for (const auto& s : r.story->steps)
        upsert(scope.steps, s, [](const ast::StoryStep& x) { return x.output.text; });
    }
    if (r.attributes) {
      const auto& a = *r.attributes;
      if (a.count) scope.count = a.count;
      if (a.tiers) scope.tiers = a.tiers;
      if (a.walk) scope.walk = a.walk;
      if (a.prefer) scope.prefer = a.prefer;
      if (a.batch) scope.batch = a.batch;
      if (a.context) scope.context = a.context;
      for (const auto& f : a.filters) scope.filters.push_back(f);
    }
    if (r.narrative) scope.narrative = r.narrative;
    if (r.model) scope.model = r.model;
    if (r.output) scope.output = r.output;
    if (r.taxonomy_name) {
      scope.taxonomy_name = r.taxonomy_name;
      scope.taxonomy_file.reset();
    }
    if (r.taxonomy_file) {
      scope.taxonomy_file = r.taxonomy_file;
      scope.taxonomy_name.reset();
    }
    if (r.seed) scope.seed = r.seed;
  }

  // ---- phase 2: checks ----

  void check_header(const ast::Recipe& root, const std::string& file, Scope& scope, Recipe& out) {
    if (scope.name) {
      out.name = scope.name->value;
      if (out.name.empty()) error(scope.name->where, "empty-name", "the recipe name is empty");
      for (char c : out.name) {
        if (c == '\n' || c == '/' || c == '\\' || c == '"') {
          error(scope.name->where, "bad-name", "a recipe name cannot contain newlines, slashes or quotes");
          break;
        }
      }
    } else {
      out.name = fs::path(file).stem().string();
      if (out.name.empty()) out.name = "recipe";
      (void)root;
      warning(SourceRange{file, 1, 1, 0}, "missing-header",
              "no 'recipe \"NAME\" version \"V\"' header; the recipe is named '" + out.name + "'");
    }
    if (scope.version) out.version = scope.version->value;
  }

  void check_taxonomy(const Scope& scope, const std::string& file, Recipe& out) {
    if (scope.taxonomy_name) {
      const std::string& n = scope.taxonomy_name->text;
      const auto names = env_.taxonomy_names();
      if (std::find(names.begin(), names.end(), n) == names.end()) {
        std::vector<std::string> notes;
        const std::string best = closest_match(n, names);
        if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
        error(scope.taxonomy_name->where, "unknown-taxonomy", "unknown taxonomy '" + n + "'", notes);
      }
      out.taxonomy = n;
      out.taxonomy_is_file = false;
    } else if (scope.taxonomy_file) {
      const std::string path = resolve(scope.taxonomy_file->where.file.empty() ? file : scope.taxonomy_file->where.file,
                                       scope.taxonomy_file->value);
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        error(scope.taxonomy_file->where, "taxonomy-not-found",
              "taxonomy file '" + scope.taxonomy_file->value + "' not found (resolved to " + path + ")");
      }
      out.taxonomy = path;
      out.taxonomy_is_file = true;
    }
  }

  void check_seed(const Scope& scope, Recipe& out) {
    if (!scope.seed) return;
    const double v = scope.seed->value;
    if (v < 0 || v != std::floor(v) || v > 1.8e19) {
      error(scope.seed->where, "bad-seed", "a seed is a non-negative integer");
      return;
    }
    out.seed = static_cast<std::uint64_t>(v);
  }

  void check_tables(const Scope& scope) {
    for (const auto& [name, decl] : scope.tables) {
      if (name.rfind("stdlib", 0) == 0) {
        error(decl.name.where, "reserved-name", "table names starting with 'stdlib' are reserved");
      }
    }
  }

  // Resolves a distribution through `distribution` references; reports unknown names and cycles.
  const ast::Distribution* resolve_dist(const ast::Distribution& d, const Scope& scope, ast::Distribution& storage) {
    storage = d;
    std::set<std::string> seen;
    while (auto* ref = std::get_if<ast::DistRef>(&storage.form)) {
      const std::string& n = ref->name.text;
      auto it = scope.distributions.find(n);
      if (it == scope.distributions.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : scope.distributions) names.push_back(k);
        for (const char* fam : {"uniform", "normal", "lognormal"}) names.emplace_back(fam);
        std::vector<std::string> notes;
        const std::string best = closest_match(n, names);
        if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
        error(ref->name.where, "undefined-name", "undefined distribution '" + n + "'", notes);
        return nullptr;
      }
      if (!seen.insert(n).second) {
        error(ref->name.where, "distribution-cycle", "distribution '" + n + "' refers to itself");
        return nullptr;
      }
      // Bounds written at the use site win over the definition's.
      ast::Distribution next = it->second.dist;
      if (storage.bound != ast::Distribution::Bound::none) {
        next.bound = storage.bound;
        next.bound_range = storage.bound_range;
      }
      next.round = next.round || storage.round;
      storage = std::move(next);
    }
    return &storage;
  }

  bool check_range(const ast::Range& r, const std::string& what, bool need_both) {
    if (need_both && (!r.lo || !r.hi)) {
      error(r.where, "open-range", what + " needs both bounds (A..B)");
      return false;
    }
    if (r.lo && r.hi && r.lo->value > r.hi->value) {
      error(r.where, "inverted-range",
            "empty range " + r.lo->text + ".." + r.hi->text + ": the lower bound is above the upper bound");
      return false;
    }
    return true;
  }

  void check_weights(const ast::Categorical& c) {
    double sum = 0;
    bool any_positive = false;
    std::map<std::string, SourceRange> labels;
    for (const auto& ch : c.choices) {
      if (ch.weight.value < 0) {
        error(ch.weight.where, "negative-probability", "negative weight " + ch.weight.text + " for '" + ch.label + "'");
      }
      if (ch.weight.value > 0) any_positive = true;
      sum += ch.weight.value;
      auto [it, fresh] = labels.emplace(ch.label, ch.where);
      if (!fresh)
        error_related(ch.where, "duplicate-choice", "duplicate choice '" + ch.label + "'", {it->second, "first here"});
    }
    if (!any_positive) {
      error(c.where, "zero-probabilities", "every weight is zero: nothing can be drawn");
      return;
    }
    if (std::fabs(sum - 1.0) > 1e-6) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", sum);
      warning(c.where, "weights-not-normalised", std::string("weights sum to ") + buf + ", not 1; they are normalised");
    }
  }

  // The anchors and facts a name in `by`, `from` or `when` may refer to.
  std::vector<std::string> known_facts(const Scope& scope) const {
    std::vector<std::string> names;
    for (const auto& a : scope.anchors) names.push_back(a.name.text);
    for (const auto& [fact, anchor] : derived_by_) names.push_back(fact);
    for (const auto& f : env_.builtin_facts()) names.push_back(f);
    return names;
  }

  void unknown_name(const ast::Ident& id, const std::string& what, const std::vector<std::string>& candidates) {
    std::vector<std::string> notes;
    const std::string best = closest_match(id.text, candidates);
    if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
    error(id.where, "undefined-name", "undefined " + what + " '" + id.text + "'", notes);
  }

  void check_anchors(const Scope& scope, Recipe& out) {
    // First pass: types and derived facts of table anchors, so `by` can name a derived fact.
    std::vector<std::optional<Anchor>> built(scope.anchors.size());
    std::vector<ast::Distribution> storage(scope.anchors.size());
    std::vector<std::optional<TableInfo>> infos(scope.anchors.size());
    for (std::size_t i = 0; i < scope.anchors.size(); ++i) {
      const ast::Anchor& a = scope.anchors[i];
      if (!a.draw) continue;
      const ast::Distribution* d = resolve_dist(*a.draw, scope, storage[i]);
      if (d == nullptr) continue;
      if (const auto* t = std::get_if<ast::TableDraw>(&d->form)) {
        infos[i] = table_info(*t, scope);
        if (infos[i]) {
          for (const auto& f : infos[i]->derived_facts) {
            if (!derived_by_.count(f)) derived_by_[f] = a.name.text;
          }
        }
      }
    }
    for (const auto& [fact, anchor] : derived_by_) value_types_[fact] = ValueType::text;

    const std::vector<std::string> facts = known_facts(scope);
    std::set<std::string> anchor_names;
    for (const auto& a : scope.anchors) anchor_names.insert(a.name.text);

    for (std::size_t i = 0; i < scope.anchors.size(); ++i) {
      const ast::Anchor& a = scope.anchors[i];
      Anchor r;
      r.name = a.name.text;
      r.where = a.where;
      if (a.fixed_text) {
        r.type = ValueType::text;
        r.source.kind = AnchorSource::Kind::fixed;
        r.source.fixed = a.fixed_text->value;
      } else if (a.fixed_number) {
        r.type = ValueType::number;
        r.source.kind = AnchorSource::Kind::fixed;
        r.source.fixed = a.fixed_number->value;
      } else if (a.draw) {
        const ast::Distribution* d = &storage[i];
        if (std::holds_alternative<ast::DistRef>(d->form)) continue;  // reported by resolve_dist
        bool ok = true;
        if (const auto* c = std::get_if<ast::Categorical>(&d->form)) {
          check_weights(*c);
          r.source.kind = AnchorSource::Kind::categorical;
          bool all_numbers = !c->choices.empty();
          for (const auto& ch : c->choices) {
            r.source.choices.push_back(Choice{ch.label, ch.weight.value});
            char* end = nullptr;
            std::strtod(ch.label.c_str(), &end);
            if (ch.label.empty() || end != ch.label.c_str() + ch.label.size()) all_numbers = false;
          }
          r.type = all_numbers ? ValueType::number : ValueType::text;
        } else if (const auto* n = std::get_if<ast::Numeric>(&d->form)) {
          ok = check_numeric(*n, r);
        } else if (const auto* t = std::get_if<ast::TableDraw>(&d->form)) {
          ok = check_table_draw(*t, scope, infos[i], facts, r);
        }
        if (d->bound != ast::Distribution::Bound::none) {
          if (ok && r.type != ValueType::number) {
            error(d->bound_range.where, "type-error",
                  std::string(d->bound == ast::Distribution::Bound::clamp ? "clamp" : "truncate") +
                      " needs a numeric anchor, but '" + r.name + "' is categorical");
          }
          if (check_range(d->bound_range, "a bound", false)) {
            r.source.bound.kind =
                d->bound == ast::Distribution::Bound::clamp ? Bound::Kind::clamp : Bound::Kind::truncate;
            if (d->bound_range.lo) r.source.bound.lo = d->bound_range.lo->value;
            if (d->bound_range.hi) r.source.bound.hi = d->bound_range.hi->value;
          }
        }
        if (d->round) {
          if (ok && r.type != ValueType::number)
            error(d->where, "type-error", "round needs a numeric anchor, but '" + r.name + "' is categorical");
          r.source.round = true;
        }
      }
      value_types_[r.name] = r.type;
      built[i] = std::move(r);
    }

    // Order by dependencies (stable), reporting cycles.
    std::vector<const Anchor*> list;
    std::map<std::string, std::size_t> index;
    for (auto& b : built) {
      if (!b) continue;
      index[b->name] = list.size();
      list.push_back(&*b);
    }
    auto deps_of = [&](std::size_t i) {
      std::vector<std::size_t> deps;
      for (const auto& dname : list[i]->depends_on) {
        std::string target = dname;
        if (!index.count(target) && derived_by_.count(dname)) target = derived_by_.at(dname);
        auto it = index.find(target);
        if (it != index.end()) deps.push_back(it->second);
      }
      return deps;
    };
    std::vector<std::size_t> order;
    if (topo_order(
            list.size(), deps_of, [&](std::size_t i) { return list[i]->name; },
            [&](std::size_t i) { return list[i]->where; }, "anchors", order)) {
      for (std::size_t i : order) out.anchors.push_back(*list[i]);
    }
    (void)anchor_names;
  }

  // Stable topological order (Kahn, smallest declaration index first); reports every cycle once.
  bool topo_order(std::size_t n, const std::function<std::vector<std::size_t>(std::size_t)>& deps,
                  const std::function<std::string(std::size_t)>& name,
                  const std::function<SourceRange(std::size_t)>& where, const char* what,
                  std::vector<std::size_t>& order) {
    std::vector<std::vector<std::size_t>> d(n);
    for (std::size_t i = 0; i < n; ++i) d[i] = deps(i);
    std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
    std::vector<std::size_t> stack;
    bool ok = true;
    std::set<std::set<std::size_t>> reported;
    std::function<void(std::size_t)> visit = [&](std::size_t v) {
      state[v] = 1;
      stack.push_back(v);
      for (std::size_t w : d[v]) {
        if (state[w] == 1) {
          auto it = std::find(stack.begin(), stack.end(), w);
          std::set<std::size_t> members(it, stack.end());
          if (reported.insert(members).second) {
            std::string chain;
            for (auto j = it; j != stack.end(); ++j) chain += name(*j) + " -> ";
            chain += name(w);
            error(where(w), "dependency-cycle", std::string("dependency cycle among ") + what + ": " + chain);
          }
          ok = false;
        } else if (state[w] == 0) {
          visit(w);
        }
      }
      stack.pop_back();
      state[v] = 2;
      order.push_back(v);
    };
    for (std::size_t i = 0; i < n; ++i)
      if (state[i] == 0) visit(i);
    return ok;
  }

  bool check_numeric(const ast::Numeric& n, Anchor& r) {
    r.type = ValueType::number;
    const std::string& fam = n.family.text;
    static const std::vector<std::string> families = {"uniform", "normal", "lognormal"};
    if (fam == "uniform")
      r.source.kind = AnchorSource::Kind::uniform;
    else if (fam == "normal")
      r.source.kind = AnchorSource::Kind::normal;
    else if (fam == "lognormal")
      r.source.kind = AnchorSource::Kind::lognormal;
    else {
      std::vector<std::string> notes;
      const std::string best = closest_match(fam, families);
      if (!best.empty())
        notes.push_back("did you mean '" + best + "'?");
      else
        notes.emplace_back("distributions: uniform(lo, hi), normal(mean, sd), lognormal(mu, sigma)");
      error(n.family.where, "unknown-distribution", "unknown distribution '" + fam + "'", notes);
      return false;
    }
    if (n.args.size() != 2) {
      error(n.where, "wrong-arity", fam + " takes 2 arguments, got " + std::to_string(n.args.size()));
      return false;
    }
    for (const auto& a : n.args) r.source.args.push_back(a.value);
    if (fam == "uniform" && n.args[0].value >= n.args[1].value) {
      error(n.where, "inverted-range", "uniform(lo, hi) needs lo < hi");
      return false;
    }
    if ((fam == "normal" || fam == "lognormal") && n.args[1].value <= 0) {
      error(n.args[1].where, "bad-parameter", fam + " needs a positive spread (second argument)");
      return false;
    }
    return true;
  }

  std::optional<TableInfo> table_info(const ast::TableDraw& t, const Scope& scope) {
    const std::string& n = t.table.text;
    if (n.rfind("stdlib.", 0) == 0) return env_.table(n);
    auto it = scope.tables.find(n);
    if (it == scope.tables.end()) return std::nullopt;
    const std::string path = resolve(it->second.where.file, it->second.path.value);
    DiagnosticList local;
    auto info = env_.user_table(path, it->second.path.where, local);
    for (const auto& d : local.all()) {
      // Reported once per table even when several anchors draw from it.
      if (reported_tables_.insert(path).second || d.severity != Severity::error) {
        if (d.severity == Severity::error) ++errors_;
        sink_.report(d);
      }
    }
    return info;
  }
  std::set<std::string> reported_tables_;

  bool check_table_draw(const ast::TableDraw& t, const Scope& scope, const std::optional<TableInfo>& info,
                        const std::vector<std::string>& facts, Anchor& r) {
    const std::string& n = t.table.text;
    r.source.kind = AnchorSource::Kind::table;
    r.source.table = n;
    if (n.rfind("stdlib.", 0) != 0) {
      auto it = scope.tables.find(n);
      if (it != scope.tables.end()) r.source.table_path = resolve(it->second.where.file, it->second.path.value);
    }
    if (!info) {
      const bool declared = n.rfind("stdlib.", 0) != 0 && scope.tables.count(n);
      if (declared) return false;  // its file's errors were reported
      std::vector<std::string> names = env_.table_names();
      for (const auto& [k, v] : scope.tables) names.push_back(k);
      unknown_name(t.table, "table", names);
      return false;
    }
    r.type = info->type;
    for (const auto& b : t.by) {
      r.source.by.push_back(b.text);
      r.depends_on.push_back(b.text);
      if (std::find(facts.begin(), facts.end(), b.text) == facts.end()) unknown_name(b, "anchor", facts);
      if (b.text == r.name) error(b.where, "dependency-cycle", "anchor '" + r.name + "' is drawn by itself");
    }
    if (t.by.size() != info->by.size()) {
      std::string expected;
      for (std::size_t i = 0; i < info->by.size(); ++i) expected += (i ? ", " : "") + info->by[i];
      const SourceRange where = t.by.empty() ? t.table.where : t.by.front().where;
      if (info->by.empty()) {
        error(where, "table-by", "table '" + n + "' is not conditioned: remove 'by'");
      } else {
        error(where, "table-by",
              "table '" + n + "' is conditioned on " + std::to_string(info->by.size()) + " fact(s) (" + expected +
                  "); write 'by " + expected + "'",
              {std::to_string(t.by.size()) + " given"});
      }
      return false;
    }
    return true;
  }

  void check_condition(const cond::Condition& c, const std::vector<std::string>& facts) {
    if (c.kind != cond::Condition::Kind::compare) {
      for (const auto& k : c.kids) check_condition(k, facts);
      return;
    }
    if (std::find(facts.begin(), facts.end(), c.var) == facts.end()) {
      ast::Ident id;
      id.text = c.var;
      id.where = c.where;
      id.where.length = static_cast<std::uint32_t>(c.var.size());
      unknown_name(id, "anchor or fact", facts);
      return;
    }
    const bool ordered = c.op == cond::Op::lt || c.op == cond::Op::le || c.op == cond::Op::gt || c.op == cond::Op::ge;
    auto t = value_types_.find(c.var);
    if (ordered && t != value_types_.end() && t->second == ValueType::text) {
      SourceRange w = c.where;
      w.length = static_cast<std::uint32_t>(c.var.size());
      error(w, "type-error", "'" + c.var + "' is categorical; ordering comparisons need a number");
    }
  }

  void check_story(const Scope& scope, Recipe& out) {
    std::vector<std::string> facts = known_facts(scope);
    std::set<std::string> anchors;
    for (const auto& a : scope.anchors) anchors.insert(a.name.text);
    std::map<std::string, std::size_t> step_index;
    for (std::size_t i = 0; i < scope.steps.size(); ++i) step_index[scope.steps[i].output.text] = i;
    std::vector<std::string> known = facts;
    for (const auto& s : scope.steps) known.push_back(s.output.text);

    std::vector<StoryStep> steps;
    for (const auto& s : scope.steps) {
      StoryStep r;
      r.output = s.output.text;
      r.instruction = s.instruction.value;
      r.where = s.where;
      if (anchors.count(r.output))
        error(s.output.where, "duplicate-name", "story step '" + r.output + "' has the name of an anchor");
      if (r.instruction.find_first_not_of(" \t\n") == std::string::npos)
        error(s.instruction.where, "empty-instruction", "the step's instruction is empty");
      switch (s.shape.kind) {
        case ast::Shape::Kind::text:
          r.shape.kind = StoryShape::Kind::text;
          break;
        case ast::Shape::Kind::list: {
          r.shape.kind = StoryShape::Kind::list;
          if (check_range(s.shape.count, "a list size", true)) {
            r.shape.min_items = static_cast<int>(s.shape.count.lo->value);
            r.shape.max_items = static_cast<int>(s.shape.count.hi->value);
            if (r.shape.min_items < 1 || r.shape.max_items > 50 || s.shape.count.lo->value != r.shape.min_items ||
                s.shape.count.hi->value != r.shape.max_items)
              error(s.shape.count.where, "bad-count", "a list has between 1 and 50 items (whole numbers)");
          }
          break;
        }
        case ast::Shape::Kind::object: {
          r.shape.kind = StoryShape::Kind::object;
          std::set<std::string> seen;
          for (const auto& f : s.shape.fields) {
            std::string type = f.type.text.empty() ? "text" : f.type.text;
            static const std::vector<std::string> types = {"text", "list", "number"};
            if (std::find(types.begin(), types.end(), type) == types.end()) {
              std::vector<std::string> notes;
              const std::string best = closest_match(type, types);
              notes.push_back(best.empty() ? "field types: text, list, number" : "did you mean '" + best + "'?");
              error(f.type.where, "unknown-type", "unknown field type '" + type + "'", notes);
            }
            if (!seen.insert(f.name.text).second)
              error(f.name.where, "duplicate-name", "duplicate field '" + f.name.text + "'");
            r.shape.fields.emplace_back(f.name.text, type);
          }
          break;
        }
      }
      for (const auto& in : s.inputs) {
        if (std::find(known.begin(), known.end(), in.text) == known.end())
          unknown_name(in, "anchor or story step", known);
        if (in.text == r.output) error(in.where, "dependency-cycle", "story step '" + r.output + "' reads itself");
        r.inputs.push_back(in.text);
      }
      if (s.prompt) r.prompt = s.prompt->value;
      steps.push_back(std::move(r));
    }
    auto deps_of = [&](std::size_t i) {
      std::vector<std::size_t> d;
      for (const auto& in : steps[i].inputs) {
        auto it = step_index.find(in);
        if (it != step_index.end() && it->second != i) d.push_back(it->second);
      }
      return d;
    };
    std::vector<std::size_t> order;
    if (topo_order(
            steps.size(), deps_of, [&](std::size_t i) { return steps[i].output; },
            [&](std::size_t i) { return steps[i].where; }, "story steps", order)) {
      for (std::size_t i : order) out.story.push_back(steps[i]);
    }
  }

  void check_attributes(const Scope& scope, Recipe& out) {
    AttributeSettings& a = out.attributes;
    if (scope.count && check_range(*scope.count, "count", true)) {
      a.min_count = static_cast<int>(scope.count->lo->value);
      a.max_count = static_cast<int>(scope.count->hi->value);
      if (a.min_count < 1 || a.max_count > 5000)
        error(scope.count->where, "bad-count", "count is between 1 and 5000 attributes");
    }
    if (scope.tiers) {
      const auto& t = *scope.tiers;
      for (const ast::Number* n : {&t.near, &t.mid, &t.far})
        if (n->value < 0) error(n->where, "negative-probability", "a tier weight cannot be negative");
      if (t.near.value + t.mid.value + t.far.value <= 0)
        error(t.where, "zero-probabilities", "the tier weights are all zero");
      a.near = t.near.value;
      a.mid = t.mid.value;
      a.far = t.far.value;
    }
    if (scope.walk) {
      static const std::vector<std::string> walks = {"random-bfs", "bfs", "dfs"};
      if (std::find(walks.begin(), walks.end(), scope.walk->text) == walks.end())
        unknown_keyword(*scope.walk, "walk strategy", walks);
      a.walk = scope.walk->text;
    }
    if (scope.prefer) {
      static const std::vector<std::string> prefs = {"long-tail", "none"};
      if (std::find(prefs.begin(), prefs.end(), scope.prefer->text) == prefs.end())
        unknown_keyword(*scope.prefer, "preference", prefs);
      a.prefer = scope.prefer->text;
    }
    if (scope.batch) {
      if (scope.batch->value < 1 || scope.batch->value > 500 || scope.batch->value != std::floor(scope.batch->value))
        error(scope.batch->where, "bad-batch", "batch is a whole number of slots between 1 and 500");
      else
        a.batch = static_cast<int>(scope.batch->value);
    }
    if (scope.context) {
      if (scope.context->value < 50 || scope.context->value > 100000)
        error(scope.context->where, "bad-context", "context is a token budget between 50 and 100000");
      else
        a.context_tokens = static_cast<int>(scope.context->value);
    }
    const std::vector<std::string> facts = known_facts(scope);
    for (const auto& f : scope.filters) {
      Filter r;
      r.include = f.include;
      r.glob = f.glob.value;
      r.where = f.where;
      if (r.glob.empty()) error(f.glob.where, "empty-glob", "empty path glob");
      if (f.when) {
        check_condition(*f.when, facts);
        r.when = f.when;
      }
      a.filters.push_back(std::move(r));
    }
  }

  void unknown_keyword(const ast::Ident& id, const std::string& what, const std::vector<std::string>& options) {
    std::vector<std::string> notes;
    const std::string best = closest_match(id.text, options);
    if (!best.empty()) {
      notes.push_back("did you mean '" + best + "'?");
    } else {
      std::string all;
      for (const auto& o : options) all += (all.empty() ? "" : ", ") + o;
      notes.push_back("expected one of: " + all);
    }
    error(id.where, "unknown-keyword", "unknown " + what + " '" + id.text + "'", notes);
  }

  void check_narrative(const Scope& scope, Recipe& out) {
    if (!scope.narrative) return;
    const auto& n = *scope.narrative;
    static const std::vector<std::string> voices = {"first-person", "third-person", "none"};
    if (std::find(voices.begin(), voices.end(), n.voice.text) == voices.end())
      unknown_keyword(n.voice, "narrative voice", voices);
    out.narrative.voice = n.voice.text;
    if (n.words && check_range(*n.words, "a word count", true)) {
      out.narrative.min_words = static_cast<int>(n.words->lo->value);
      out.narrative.max_words = static_cast<int>(n.words->hi->value);
      if (out.narrative.min_words < 10 || out.narrative.max_words > 5000)
        error(n.words->where, "bad-count", "a narrative has between 10 and 5000 words");
    }
    if (n.prompt) out.narrative.prompt = n.prompt->value;
  }

  static ParamValue param_value(const ast::Param& p) {
    if (const auto* n = std::get_if<ast::Number>(&p.value)) return n->value;
    if (const auto* s = std::get_if<ast::StringLit>(&p.value)) return s->value;
    return std::get<ast::Ident>(p.value).text;
  }

  void check_model(const Scope& scope, Recipe& out) {
    if (!scope.model) return;
    const auto& m = *scope.model;
    out.model.provider = m.provider.value;
    out.model.where = m.where;
    if (out.model.provider.empty()) error(m.provider.where, "empty-name", "the provider name is empty");
    static const std::vector<std::string> known = {
        "temperature", "top_p", "max_tokens", "seed", "model", "presence_penalty", "frequency_penalty"};
    std::set<std::string> seen;
    for (const auto& p : m.params) {
      if (!seen.insert(p.key.text).second)
        error(p.key.where, "duplicate-setting", "duplicate model setting '" + p.key.text + "'");
      if (std::find(known.begin(), known.end(), p.key.text) == known.end()) {
        std::vector<std::string> notes;
        const std::string best = closest_match(p.key.text, known);
        if (!best.empty()) notes.push_back("did you mean '" + best + "'?");
        warning(p.key.where, "unknown-setting",
                "unknown model setting '" + p.key.text + "' (passed to the provider as is)", notes);
      }
      const ParamValue v = param_value(p);
      const double* num = std::get_if<double>(&v);
      const bool numeric_key = p.key.text != "model";
      if (numeric_key && std::find(known.begin(), known.end(), p.key.text) != known.end() && num == nullptr) {
        error(p.where, "type-error", "model setting '" + p.key.text + "' needs a number");
      } else if (num != nullptr) {
        if (p.key.text == "temperature" && (*num < 0 || *num > 2))
          error(p.where, "bad-parameter", "temperature is between 0 and 2");
        if (p.key.text == "top_p" && (*num <= 0 || *num > 1)) error(p.where, "bad-parameter", "top_p is in (0, 1]");
        if (p.key.text == "max_tokens" && *num < 1) error(p.where, "bad-parameter", "max_tokens is at least 1");
      }
      out.model.params[p.key.text] = v;
    }
  }

  void check_output(const Scope& scope, Recipe& out) {
    if (!scope.output) return;
    static const std::vector<std::string> known = {"path", "narrative", "core", "usage", "prompts"};
    std::set<std::string> seen;
    for (const auto& p : scope.output->params) {
      if (!seen.insert(p.key.text).second)
        error(p.key.where, "duplicate-setting", "duplicate output setting '" + p.key.text + "'");
      if (std::find(known.begin(), known.end(), p.key.text) == known.end()) {
        unknown_keyword(p.key, "output setting", known);
        continue;
      }
      const ParamValue v = param_value(p);
      if (p.key.text != "path") {
        const std::string* s = std::get_if<std::string>(&v);
        if (s == nullptr || (*s != "on" && *s != "off" && *s != "true" && *s != "false"))
          error(p.where, "type-error", "output setting '" + p.key.text + "' is on or off");
      } else if (!std::holds_alternative<std::string>(v)) {
        error(p.where, "type-error", "output path is a quoted string");
      }
      out.output[p.key.text] = v;
    }
  }
};

}  // namespace

std::optional<Recipe> check(const ast::Recipe& recipe, const std::string& file, SourceFiles& sources,
                            const Environment& env, DiagnosticSink& sink) {
  Checker c(sources, env, sink);
  return c.run(recipe, file);
}

std::optional<Recipe> check_text(std::string_view text, const std::string& name, SourceFiles& sources,
                                 const Environment& env, DiagnosticSink& sink) {
  const std::string& stored = sources.add(name, std::string(text));
  DiagnosticList parse_diags;
  ParseResult parsed = parse_recipe(stored, name, parse_diags);
  for (const auto& d : parse_diags.all()) sink.report(d);
  if (!parsed.recipe) return std::nullopt;
  return check(*parsed.recipe, name, sources, env, sink);
}

std::optional<Recipe> check_file(const std::string& path, SourceFiles& sources, const Environment& env,
                                 DiagnosticSink& sink) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    sink.error(SourceRange{path, 0, 0, 0}, "not-a-file", "'" + path + "' is a directory, not a recipe file");
    return std::nullopt;
  }
  auto text = sources.load(path);
  if (!text) {
    sink.error(SourceRange{path, 0, 0, 0}, "unreadable", "cannot read '" + path + "'");
    return std::nullopt;
  }
  const std::string copy(*text);
  return check_text(copy, path, sources, env, sink);
}

}  // namespace persona::lang
