// Changing the recipe as a whole: :edit (the recipe or one statement in $EDITOR, applied when it
// checks), :undo and :redo, :reload (the file loaded last and its imports, read again) and :diff (the
// recipe against a file, both in the canonical layout).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/files.hpp"
#include "base/text.hpp"
#include "format/formatter.hpp"
#include "repl/session_impl.hpp"
#include "syntax/parser.hpp"

namespace persona::repl {

namespace fs = std::filesystem;
using namespace detail;

namespace detail {

std::string unified_diff(std::string_view a, std::string_view b, const std::string& a_name, const std::string& b_name,
                         std::size_t context) {
  if (a == b) return {};
  const std::vector<std::string> A = split_lines(a), B = split_lines(b);
  const std::size_t n = A.size(), m = B.size();
  // The edit script from the longest common subsequence (recipes are short: a table of n*m cells).
  struct Op {
    char kind;           // ' ', '-', '+'
    std::size_t ai, bi;  // line indices before the op in A and B
  };
  std::vector<Op> ops;
  if (n * m <= 16'000'000) {
    std::vector<std::uint32_t> L((n + 1) * (m + 1), 0);
    auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return L[i * (m + 1) + j]; };
    for (std::size_t i = n; i-- > 0;)
      for (std::size_t j = m; j-- > 0;)
        at(i, j) = A[i] == B[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && A[i] == B[j]) {
        ops.push_back({' ', i++, j++});
      } else if (j == m || (i < n && at(i + 1, j) >= at(i, j + 1))) {
        ops.push_back({'-', i++, j});
      } else {
        ops.push_back({'+', i, j++});
      }
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) ops.push_back({'-', i, 0});
    for (std::size_t j = 0; j < m; ++j) ops.push_back({'+', n, j});
  }
  std::string out = "--- " + a_name + "\n+++ " + b_name + "\n";
  std::size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    // A hunk: from `context` lines before this change to `context` lines after the last change that
    // is at most 2 * context unchanged lines from the next.
    const std::size_t begin = k >= context ? k - context : 0;
    std::size_t end = k;
    while (true) {
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      std::size_t same = end;
      while (same < ops.size() && ops[same].kind == ' ') ++same;
      if (same < ops.size() && same - end <= 2 * context) {
        end = same;
        continue;
      }
      end = std::min(ops.size(), end + context);
      break;
    }
    std::size_t a_count = 0, b_count = 0;
    for (std::size_t x = begin; x < end; ++x) {
      if (ops[x].kind != '+') ++a_count;
      if (ops[x].kind != '-') ++b_count;
    }
    const std::size_t a_start = ops[begin].ai + (a_count > 0 ? 1 : 0);
    const std::size_t b_start = ops[begin].bi + (b_count > 0 ? 1 : 0);
    out += "@@ -" + std::to_string(a_start) + "," + std::to_string(a_count) + " +" + std::to_string(b_start) + "," +
           std::to_string(b_count) + " @@\n";
    for (std::size_t x = begin; x < end; ++x) {
      const std::string& l = ops[x].kind == '+' ? B[ops[x].bi] : A[ops[x].ai];
      out += ops[x].kind;
      out += l;
      out += '\n';
    }
    k = end;
  }
  return out;
}

}  // namespace detail

namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string slug(std::string_view key) {
  std::string s;
  for (char c : key) s += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '-';
  return s;
}

// "changed attributes; added anchor height": what an edit did, statement by statement.
std::string changes(const std::vector<detail::Statement>& before, const std::vector<detail::Statement>& after) {
  std::vector<std::string> parts;
  std::set<std::string> keys;
  for (const auto& s : after) {
    keys.insert(s.key);
    auto it = std::find_if(before.begin(), before.end(), [&](const detail::Statement& x) { return x.key == s.key; });
    if (it == before.end())
      parts.push_back("added " + s.key);
    else if (format_statements({*it}) != format_statements({s}))
      parts.push_back("changed " + s.key);
  }
  for (const auto& s : before)
    if (!keys.contains(s.key)) parts.push_back("removed " + s.key);
  return parts.empty() ? std::string("no statement changed") : text::join(parts, "; ");
}

}  // namespace

std::string Session::Impl::editor() const {
  if (!o.editor.empty()) return o.editor;
  for (const char* v : {"VISUAL", "EDITOR"})
    if (const char* e = std::getenv(v); e != nullptr && *e != '\0') return e;
  return "vi";
}

void Session::Impl::edit(const std::string& arg, const Arg& a) {
  // A script (input not a terminal) cannot drive an interactive editor: it must name a command.
  if (o.editor.empty() && ::isatty(STDIN_FILENO) != 1)
    return arg_error(a, "':edit' needs a terminal, or an editor command set with ':set editor CMD'",
                     {"the input is not a terminal, so $VISUAL or $EDITOR would read the rest of it"});
  // What is edited: the whole recipe (key ""), a statement of it, or a new block.
  std::string key, initial;
  if (!arg.empty()) {
    if (const Statement* s = find_statement(arg)) {
      key = s->key;
      initial = format_statements({*s});
    } else if (arg == "story" || arg == "attributes" || arg == "output") {
      key = arg;
      initial = arg + " {\n}\n";
    } else {
      std::vector<std::string> names;
      for (const auto& x : stmts) names.push_back(x.name().empty() ? x.key : x.name());
      std::vector<std::string> notes;
      if (auto best = closest_match(arg, names); !best.empty()) notes.push_back("did you mean '" + best + "'?");
      notes.emplace_back("':edit' alone opens the whole recipe");
      return arg_error(a, "the recipe has no statement '" + arg + "'", notes);
    }
  } else {
    initial = recipe_text();
  }
  const bool existed = arg.empty() || find_statement(arg) != nullptr;
  // The file: a rejected edit of the same thing is reopened as the user left it.
  std::string path;
  if (auto d = drafts.find(key); d != drafts.end() && fs::exists(d->second)) {
    path = d->second;
    err << "reopening your last edit of " << (key.empty() ? "the recipe" : key) << " (not applied yet)\n";
  } else {
    std::string dir = o.edit_dir;
    if (dir.empty()) {
      dir = (fs::temp_directory_path() / ("persona-repl-" + std::to_string(::getpid()))).string();
      own_edit_dir = dir;
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    path =
        (fs::path(dir) / ("edit-" + std::to_string(++edit_count) + (key.empty() ? "" : "-" + slug(key)) + ".persona"))
            .string();
    std::string error;
    if (!files::write_atomic(path, initial, error)) return arg_error(a, "cannot write the file to edit", {error});
  }
  out.flush();
  err.flush();
  // When the session's input is not a terminal (a script), the editor must not read the script.
  const std::string cmd = editor() + " " + shell_quote(path) + (::isatty(STDIN_FILENO) == 1 ? "" : " </dev/null");
  const int status = std::system(cmd.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    err << "the editor (" << editor() << ") "
        << (status != -1 && WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                              : std::string("did not run"))
        << "; the recipe is unchanged\n";
    return;
  }
  auto rd = files::read(path);
  if (!rd.ok()) return arg_error(a, rd.error);
  const std::string text = *rd.text;
  if (text == initial && !drafts.contains(key)) {
    err << "no change\n";
    return;
  }
  sources.add(path, text);
  const std::string again = "':edit" + (arg.empty() ? std::string() : " " + arg) + "' reopens your text";
  DiagnosticList diags;
  const lang::ParseResult pr = lang::parse_recipe(text, path, diags);
  if (!pr.recipe) {
    print_all(diags);
    drafts[key] = path;
    err << "not applied; the recipe is unchanged (" << again << ")\n";
    return;
  }
  std::vector<Statement> entered = split_statements(text, *pr.recipe, path);
  if (key.empty()) {
    const std::size_t errors_before = stmts.empty() ? 0 : current().diags.error_count();
    CheckResult r = check(entered);
    if (r.diags.error_count() > errors_before) {
      print_all(r.diags);
      drafts[key] = path;
      err << "not applied; the recipe is unchanged (" << again << ")\n";
      return;
    }
    print_all(r.diags);
    const std::string what = "edited the recipe: " + changes(stmts, entered);
    err << what << "\n";
    commit(std::move(entered), std::move(r), what);
  } else {
    if (entered.empty() && !existed) {
      err << "no change\n";
      drafts.erase(key);
      return;
    }
    const bool ok = apply(
        entered, [&](const Diagnostic& d) { return d.where.file == path; }, existed ? key : std::string());
    if (!ok) {
      drafts[key] = path;
      err << again << "\n";
      return;
    }
  }
  drafts.erase(key);
  edit_texts[path] = text;
}

void Session::Impl::undo_cmd(bool redo) {
  auto& from = redo ? redo_stack : undo_stack;
  auto& to = redo ? undo_stack : redo_stack;
  if (from.empty()) {
    err << "nothing to " << (redo ? "redo" : "undo") << "\n";
    return;
  }
  Snapshot s = std::move(from.back());
  from.pop_back();
  to.push_back(Snapshot{std::move(stmts), base_dir, loaded_file, changed_since_load, s.what});
  stmts = std::move(s.stmts);
  base_dir = std::move(s.base_dir);
  loaded_file = std::move(s.loaded_file);
  changed_since_load = s.changed_since_load;
  ++version;
  model.reset();
  err << (redo ? "redid: " : "undid: ") << s.what << "\n";
}

void Session::Impl::reload(const Arg& a) {
  if (loaded_file.empty()) return arg_error(a, "no file to reload: ':load FILE' first");
  load(loaded_file, true);
}

void Session::Impl::diff(const std::string& arg, const Arg& a) {
  const std::string path = arg.empty() ? loaded_file : arg;
  if (path.empty()) return arg_error(a, "no file to compare with: ':diff FILE' (no file was loaded)");
  auto rd = files::read(path);
  if (!rd.ok()) return arg_error(a, rd.error);
  // Both sides in the canonical layout, so only what the statements say differs.
  DiagnosticList ignored;
  const lang::ParseResult pr = lang::parse_recipe(*rd.text, path, ignored);
  const std::string disk = pr.recipe ? lang::format_recipe(*pr.recipe) : *rd.text;
  const std::string d = unified_diff(disk, recipe_text(), path, "(session)");
  if (d.empty()) {
    out << "no difference between " << path << " and the session's recipe\n";
    return;
  }
  page(d);
}

}  // namespace persona::repl
