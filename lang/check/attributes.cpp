// The story block (steps, shapes, inputs, dependency order) and the attributes block: settings,
// and filters checked against the taxonomy. A glob that matches no attribute is an error (every
// persona would get none of what it meant to include); a filter that a later one undoes (the last
// matching filter wins) or makes useless is a warning that names both.
#include <algorithm>
#include <cmath>
#include <iterator>

#include "check/checker_impl.hpp"
#include "format/formatter.hpp"

namespace persona::lang::checking {

namespace {

std::string filter_text(const ast::Filter& f) {
  return std::string(f.include ? "include " : "exclude ") + (f.bare_star ? "*" : quote(f.glob.value));
}

bool has_wildcard(std::string_view segment) { return segment.find_first_of("*?") != std::string_view::npos; }

// For a glob that matches nothing: the same glob with its literal leading segments replaced by the
// closest path of the taxonomy ("Carreer and Work Identity/**" -> "Career and Work Identity/**").
std::string glob_suggestion(const std::string& glob, const std::vector<std::string>& paths) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = glob.find('/', start);
    segments.push_back(glob.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::size_t literal = 0;
  while (literal < segments.size() && !has_wildcard(segments[literal])) ++literal;
  if (literal == 0) return {};
  std::string prefix;
  for (std::size_t i = 0; i < literal; ++i) prefix += (i ? "/" : "") + segments[i];
  std::vector<std::string> same_depth;
  for (const auto& p : paths)
    if (static_cast<std::size_t>(std::count(p.begin(), p.end(), '/')) + 1 == literal) same_depth.push_back(p);
  const std::string best = suggest_label(prefix, same_depth);
  if (best.empty()) return {};
  return best + glob.substr(prefix.size());
}

}  // namespace

void Checker::check_story(const Scope& scope, Recipe& out) {
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
    if (s.tone) {
      std::set<std::string> seen_tones;
      for (const auto& t : s.tone->choices) {
        if (!seen_tones.insert(t.text).second)
          error(t.where, "duplicate-name", "tone '" + t.text + "' is listed twice");
        r.tones.push_back(t.text);
      }
    }
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

void Checker::check_attributes(const Scope& scope, Recipe& out) {
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
    if (!std::isfinite(t.near.value + t.mid.value + t.far.value))
      error(t.where, "bad-weight", "the tier weights must be finite numbers with a finite sum; write them as shares");
    else if (t.near.value + t.mid.value + t.far.value <= 0)
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
  check_filters(scope, out);
  check_panels(scope, out);
}

// The panel: every glob must match, and every persona must have room for all of it (the panel's
// leaves count toward the persona's attribute count, so more leaves than count's upper bound
// cannot be given).
void Checker::check_panels(const Scope& scope, Recipe& out) {
  if (scope.panels.size() > 64)
    error(scope.panels[64].where, "too-many-panels", "at most 64 'always' lines are supported; merge globs with '**'");
  std::vector<std::uint32_t> leaves;
  bool known = taxonomy_ != nullptr;
  for (const auto& panel : scope.panels) {
    out.attributes.panels.push_back(panel.glob.value);
    if (panel.glob.value.empty()) {
      error(panel.glob.where, "empty-glob", "empty path glob");
      known = false;
      continue;
    }
    if (!taxonomy_) continue;
    const auto hits = env_.glob_matches(taxonomy_ref_, taxonomy_is_file_, panel.glob.value);
    if (!hits) {
      known = false;
      continue;
    }
    if (hits->empty()) {
      std::vector<std::string> notes;
      const std::string best = glob_suggestion(panel.glob.value, taxonomy_->paths);
      if (!best.empty()) notes.push_back("did you mean \"" + best + "\"?");
      notes.emplace_back(
          "globs match taxonomy paths, case-sensitive: '*' one segment, '**' any depth, '?' one character");
      error(panel.glob.where, "glob-no-match",
            "\"" + panel.glob.value + "\" matches no attribute of the taxonomy " + taxonomy_ref_ +
                ": the panel would lack it",
            notes);
      continue;
    }
    std::vector<std::uint32_t> merged;
    std::set_union(leaves.begin(), leaves.end(), hits->begin(), hits->end(), std::back_inserter(merged));
    leaves = std::move(merged);
    const int max_count = out.attributes.max_count;
    if (known && leaves.size() > static_cast<std::size_t>(max_count)) {
      std::vector<std::string> notes;
      notes.push_back("every persona receives every panel attribute, and they count toward its attribute count");
      notes.push_back(scope.count ? "raise count (line " + std::to_string(scope.count->where.line) + ") to at least " +
                                        std::to_string(leaves.size()) + ", or narrow the panel"
                                  : "write 'count " + std::to_string(leaves.size()) + ".." +
                                        std::to_string(std::max<std::size_t>(leaves.size(), 250)) +
                                        "' (the default is 200..250), or narrow the panel");
      error(panel.where, "panel-too-large",
            "the panel has " + std::to_string(leaves.size()) +
                " attributes (with this 'always' line), more than count's upper bound " + std::to_string(max_count),
            notes);
      known = false;  // said once
    }
  }
}

// Filters: conditions (facts known, absence handled), then globs against the taxonomy.
void Checker::check_filters(const Scope& scope, Recipe& out) {
  const std::vector<std::string> facts = known_facts(scope);
  if (scope.filters.size() > 64) {
    error(scope.filters[64].where, "too-many-filters", "at most 64 include/exclude filters are supported");
  }
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
    out.attributes.filters.push_back(std::move(r));
  }
  check_globs(scope);
}

void Checker::check_globs(const Scope& scope) {
  if (!taxonomy_) return;
  const auto& filters = scope.filters;
  std::vector<std::optional<std::vector<std::uint32_t>>> hits(filters.size());
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const ast::Filter& f = filters[i];
    if (f.glob.value.empty()) continue;
    hits[i] = env_.glob_matches(taxonomy_ref_, taxonomy_is_file_, f.glob.value);
    if (!hits[i] || !hits[i]->empty()) continue;
    std::vector<std::string> notes;
    const std::string best = glob_suggestion(f.glob.value, taxonomy_->paths);
    if (!best.empty()) notes.push_back("did you mean \"" + best + "\"?");
    notes.emplace_back(
        "globs match taxonomy paths, case-sensitive: '*' one segment, '**' any depth, '?' one character");
    error(f.glob.where, "glob-no-match",
          "\"" + f.glob.value + "\" matches no attribute of the taxonomy " + taxonomy_ref_, notes);
  }
  // The last active filter whose glob matches a leaf decides: an earlier filter whose leaves a later,
  // always active filter (no `when`, or the same `when`) all matches never decides anything.
  for (std::size_t i = 0; i < filters.size(); ++i) {
    if (!hits[i] || hits[i]->empty()) continue;
    for (std::size_t j = i + 1; j < filters.size(); ++j) {
      const ast::Filter& later = filters[j];
      if (!hits[j] || (later.when && later.when_text != filters[i].when_text)) continue;
      if (!std::includes(hits[j]->begin(), hits[j]->end(), hits[i]->begin(), hits[i]->end())) continue;
      const std::string line = std::to_string(later.where.line);
      const Related rel{later.where, "the later filter"};
      if (later.include != filters[i].include) {
        report_related(Severity::warning, filters[i].where, "shadowed-filter",
                       "'" + filter_text(filters[i]) + "' is undone by the later '" + filter_text(later) + "' (line " +
                           line + "): the last matching filter wins",
                       rel, {"write it after line " + line + ", or narrow the later filter"});
      } else {
        report_related(Severity::warning, filters[i].where, "redundant-filter",
                       "'" + filter_text(filters[i]) + "' has no effect: the later '" + filter_text(later) +
                           "' (line " + line + ") matches every attribute it does",
                       rel);
      }
      break;
    }
  }
}

}  // namespace persona::lang::checking
