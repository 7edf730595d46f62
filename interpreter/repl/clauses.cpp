// Block clauses typed at the prompt: `+CLAUSE` adds one clause to the attributes, story or output
// block (a setting such as `count`, a story step or an output key of the same name is replaced),
// `-CLAUSE` removes one. The block is taken in its canonical layout (a clause a line), the line is
// changed, and the block goes through the same check as a typed statement, so the clause's errors
// point at the typed line and a change that breaks the recipe is refused.
#include <algorithm>

#include "base/text.hpp"
#include "format/formatter.hpp"
#include "repl/session_impl.hpp"
#include "syntax/parser.hpp"

namespace persona::repl {

using namespace detail;

namespace {

const char* kClauseUsage =
    "clauses: +exclude \"GLOB\" [when COND], +include ..., +always \"GLOB\", +count A..B, +tiers ..., +walk ..., "
    "+batch N, +context N "
    "(attributes); +NAME <- llm \"...\" (story); +output KEY VALUE; -CLAUSE removes one";

std::string first_word(std::string_view s) {
  std::size_t e = 0;
  while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_' || s[e] == '-')) ++e;
  return std::string(s.substr(0, e));
}

bool is_step_of(std::string_view line, std::string_view name) {
  const std::string t = trim(line);
  if (!t.starts_with(name)) return false;
  const std::string rest = trim(std::string_view(t).substr(name.size()));
  return t.size() > name.size() && (t[name.size()] == ' ' || t[name.size()] == '<') && rest.starts_with("<-");
}

// A line with each run of spaces outside strings made one space ("motto   <- llm" -> "motto <- llm").
std::string squeeze(std::string_view line) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && in_string && i + 1 < line.size()) {
      out += c;
      out += line[++i];
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (c == ' ' && !in_string && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A canonical clause line without its trailing comment.
std::string without_comment(std::string_view line) {
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && in_string)
      ++i;
    else if (line[i] == '"')
      in_string = !in_string;
    else if (line[i] == '#' && !in_string)
      return trim(line.substr(0, i));
  }
  return trim(line);
}

}  // namespace

void Session::Impl::clause(const std::string& line, std::uint32_t lineno) {
  const std::size_t sign = line.find_first_not_of(" \t");
  const bool add = line[sign] == '+';
  const char* op = add ? "+" : "-";
  std::size_t b = line.find_first_not_of(" \t", sign + 1);
  if (b == std::string::npos)
    return error_at(lineno, static_cast<std::uint32_t>(sign + 1), 1,
                    std::string("'") + op + "' needs a clause of a block", {kClauseUsage});
  const std::string word = first_word(std::string_view(line).substr(b));
  std::string block;
  std::size_t cb = b;  // where the clause starts
  if (word == "attributes" || word == "story" || word == "output") {
    block = word;
    cb = line.find_first_not_of(" \t", b + word.size());
    if (cb == std::string::npos)
      return error_at(lineno, static_cast<std::uint32_t>(b + 1), static_cast<std::uint32_t>(word.size()),
                      std::string("'") + op + word + "' needs a clause", {kClauseUsage});
  } else if (std::find(attribute_clause_words().begin(), attribute_clause_words().end(), word) !=
             attribute_clause_words().end()) {
    block = "attributes";
  } else if (!word.empty() && trim(std::string_view(line).substr(b + word.size())).starts_with("<-")) {
    block = "story";
  } else if (!add && !word.empty() && trim(std::string_view(line).substr(b + word.size())).empty()) {
    block = "story";  // -NAME: a story step
  } else {
    return error_at(lineno, static_cast<std::uint32_t>(b + 1),
                    static_cast<std::uint32_t>(std::max<std::size_t>(1, word.size())),
                    "'" + (word.empty() ? line.substr(b, line.find_first_of(" \t", b) - b) : word) +
                        "' does not start a clause of a block",
                    {kClauseUsage});
  }
  std::string typed = line.substr(cb);
  while (!typed.empty() && std::isspace(static_cast<unsigned char>(typed.back()))) typed.pop_back();
  const auto col = static_cast<std::uint32_t>(cb + 1);
  const Arg at{lineno, col, static_cast<std::uint32_t>(typed.size())};

  // The block as it is, a clause a line, each line mapped to where it was written when it was kept
  // as written, else to the block's first line.
  const Statement* cur = find_statement(block);
  std::vector<std::string> block_lines;
  std::vector<Origin> origin;
  if (cur != nullptr) {
    block_lines = split_lines(format_statements({*cur}));
    const auto old = split_lines(cur->text);
    std::vector<bool> used(old.size(), false);
    for (const auto& l : block_lines) {
      Origin from = cur->origin.front();
      for (std::size_t i = 0; i < old.size() && i < cur->origin.size(); ++i)
        if (!used[i] && trim(old[i]) == trim(l)) {
          used[i] = true;
          from = cur->origin[i];
          break;
        }
      origin.push_back(from);
    }
  } else if (add) {
    block_lines = {block + " {", "}"};
    origin = {Origin{kInput, lineno}, Origin{kInput, lineno}};
  } else {
    return arg_error(at, "the recipe has no " + block + " block");
  }
  // The block's first and closing lines (comments may come before and after them).
  std::size_t open = 0, close = block_lines.size() - 1;
  for (std::size_t i = 0; i < block_lines.size(); ++i)
    if (!trim(block_lines[i]).starts_with("#")) {
      open = i;
      break;
    }
  for (std::size_t i = block_lines.size(); i-- > open + 1;)
    if (trim(block_lines[i]).starts_with("}")) {
      close = i;
      break;
    }
  auto clause_lines = [&] {
    std::vector<std::string> v;
    for (std::size_t i = open + 1; i < close; ++i)
      if (!trim(block_lines[i]).starts_with("#")) v.push_back(squeeze(block_lines[i]));
    return v;
  };

  // The clause alone, parsed inside an empty block: its errors belong to the typed line.
  const std::string alone = block + " {\n" + std::string(col - 1, ' ') + typed + "\n}\n";
  DiagnosticList raw;
  const lang::ParseResult pr = lang::parse_recipe(alone, "<clause>", raw);
  std::string canonical;  // the clause in the canonical layout
  std::string key;        // what a clause of the same kind is recognised by
  bool setting = false;
  if (pr.recipe) {
    const std::vector<std::string> fl = split_lines(lang::format_recipe(*pr.recipe));
    std::size_t n = 0;
    if (block == "attributes" && pr.recipe->attributes) {
      const auto& at2 = *pr.recipe->attributes;
      n = (at2.count ? 1 : 0) + (at2.tiers ? 1 : 0) + (at2.walk ? 1 : 0) + at2.filters.size() + at2.panels.size() +
          (at2.batch ? 1 : 0) + (at2.context ? 1 : 0);
    } else if (block == "story" && pr.recipe->story) {
      n = pr.recipe->story->steps.size();
      if (n == 1) key = pr.recipe->story->steps.front().output.text;
    } else if (block == "output" && pr.recipe->output) {
      n = pr.recipe->output->params.size();
      if (n == 1) key = pr.recipe->output->params.front().key.text;
    }
    if (n != 1)
      return arg_error(at, n == 0 ? "no clause to " + std::string(add ? "add" : "remove") : "one clause at a time",
                       {kClauseUsage});
    for (std::size_t i = 1; i + 1 < fl.size(); ++i)
      if (!trim(fl[i]).starts_with("#")) canonical += (canonical.empty() ? "" : "\n") + trim(fl[i]);
    if (block == "attributes") {
      key = first_word(canonical);
      setting = key != "include" && key != "exclude" && key != "always";  // several of these may be written
    }
  } else if (add || block == "attributes") {
    // `-count`, `-walk` need no value; everything else must parse.
    const bool bare_setting = !add &&
                              std::find(attribute_clause_words().begin(), attribute_clause_words().end(),
                                        trim(typed)) != attribute_clause_words().end() &&
                              trim(typed) != "include" && trim(typed) != "exclude" && trim(typed) != "always";
    if (bare_setting) {
      key = trim(typed);
      setting = true;
    } else {
      DiagnosticList mapped;
      for (Diagnostic d : raw.all()) {
        if (d.where.line == 2) {
          d.where.file = kInput;
          d.where.line = lineno;
        } else {  // the input ended inside the clause
          d.where = SourceRange{kInput, lineno, static_cast<std::uint32_t>(line.size() + 1), 1};
        }
        d.related.clear();
        mapped.report(std::move(d));
      }
      if (!add && (trim(typed) == "include" || trim(typed) == "exclude" || trim(typed) == "always")) {
        std::vector<std::string> notes = {"name the filter: -" + trim(typed) + " \"GLOB\""};
        for (const auto& l : clause_lines())
          if (l.starts_with(trim(typed))) notes.push_back("the block has: " + l);
        return arg_error(at, "which '" + trim(typed) + "' filter?", notes);
      }
      print_all(mapped);
      err << "clause not " << (add ? "added" : "removed") << "; the recipe is unchanged\n";
      return;
    }
  } else {
    key = first_word(typed);  // -story NAME, -output KEY
  }

  // Find the line(s) the clause replaces or removes.
  std::vector<std::size_t> hits;
  for (std::size_t i = open + 1; i < close; ++i) {
    const std::string l = without_comment(block_lines[i]);
    if (l.empty() || l.starts_with("#")) continue;
    bool hit = false;
    if (block == "attributes" && setting)
      hit = first_word(l) == key;
    else if (block == "attributes" && add)
      hit = l == without_comment(canonical);
    else if (block == "attributes") {
      const std::string c = without_comment(canonical);
      hit = l == c || (c.find(" when ") == std::string::npos && l.starts_with(c + " when "));
    } else if (block == "story")
      hit = is_step_of(l, key);
    else
      hit = first_word(l) == key;
    if (hit) hits.push_back(i);
  }
  std::string what;
  if (add) {
    if (!setting && block == "attributes" && !hits.empty()) {
      err << "the attributes block already has: " << canonical << "\n";
      return;
    }
    std::string new_line = std::string(col - 1, ' ') + typed;  // as typed, so columns match the typed line
    if (!hits.empty()) {
      what = "replaced in " + block + ": " + squeeze(block_lines[hits.front()]) + " -> " + canonical;
      block_lines[hits.front()] = new_line;
      origin[hits.front()] = Origin{kInput, lineno};
    } else {
      what = "added to " + block + ": " + canonical;
      block_lines.insert(block_lines.begin() + static_cast<std::ptrdiff_t>(close), new_line);
      origin.insert(origin.begin() + static_cast<std::ptrdiff_t>(close), Origin{kInput, lineno});
    }
  } else {
    if (hits.empty()) {
      std::vector<std::string> notes;
      for (const auto& l : clause_lines()) notes.push_back("the block has: " + l);
      if (notes.empty()) notes.emplace_back("the block is empty");
      return arg_error(at, "the " + block + " block has no '" + (canonical.empty() ? typed : canonical) + "'", notes);
    }
    std::vector<std::string> removed;
    for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
      removed.insert(removed.begin(), squeeze(block_lines[*it]));
      block_lines.erase(block_lines.begin() + static_cast<std::ptrdiff_t>(*it));
      origin.erase(origin.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    what = text::join(removed, "; ");
    what = "removed from " + block + ": " + what;
    close -= hits.size();
    bool empty = true;
    for (std::size_t i = open + 1; i < close; ++i) empty = empty && trim(block_lines[i]).starts_with("#");
    if (empty) {  // an empty block says nothing: it goes
      apply(
          {}, [&](const Diagnostic& d) { return d.where.file == kInput && d.where.line == lineno; }, block,
          what + " (the block is empty now: removed)");
      return;
    }
  }
  Statement s;
  s.kind = block;
  s.key = block;
  for (const auto& l : block_lines) s.text += l + "\n";
  s.origin = std::move(origin);
  apply(
      {s}, [&](const Diagnostic& d) { return d.where.file == kInput && d.where.line == lineno; }, {}, what);
}

void Session::Impl::clause_hint(Diagnostic& d, std::string_view typed) const {
  if (d.message.find("unknown statement") == std::string::npos) return;
  const std::string word = first_word(typed);
  std::string first_line(typed.substr(0, typed.find('\n')));
  if (columns_of(first_line) > 60) first_line = fit(first_line, 60);
  const auto& words = attribute_clause_words();
  if (std::find(words.begin(), words.end(), word) != words.end()) {
    d.notes.push_back("'" + word + "' is a clause of the attributes block: '+" + first_line +
                      "' adds it to the block (':edit attributes' opens the block)");
  } else if (!word.empty() && trim(typed.substr(word.size())).starts_with("<-")) {
    d.notes.push_back("a story step belongs in the story block: '+" + first_line +
                      "' adds it (':edit story' opens the block)");
  }
}

}  // namespace persona::repl
