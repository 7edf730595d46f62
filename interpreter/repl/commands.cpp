// The commands that read the recipe or the session's settings: :help :load :show :check :plan :tax
// :why :set :save :doc.
#include <algorithm>
#include <filesystem>
#include <map>

#include "base/files.hpp"
#include "base/text.hpp"
#include "repl/session_impl.hpp"

namespace persona::repl {

using namespace detail;

void Session::Impl::help() {
  out << "Type recipe statements to build the current recipe (a statement naming an anchor, table or\n"
         "distribution that exists replaces it; a story, attributes, narrative, model, output, taxonomy,\n"
         "seed or recipe statement replaces the previous one), a clause to add to a block\n"
         "(+exclude \"GLOB\" when COND, +count 50..80, +story NAME <- llm \"...\"; -CLAUSE removes one),\n"
         "or a command:\n";
  std::size_t w = 0;
  for (const auto& c : commands())
    w = std::max(w, std::string_view(c.name).size() + 1 + std::string_view(c.args).size());
  for (const auto& c : commands()) {
    std::string head = std::string(c.name) + (c.args[0] != '\0' ? std::string(" ") + c.args : std::string());
    head.resize(w + 2, ' ');
    out << "  " << head << c.help << "\n";
  }
  out << "Tab completes commands, keywords, names and taxonomy paths. ':doc NAME' documents a keyword.\n"
         "Ctrl-C cancels the line or the running command; Ctrl-D at an empty prompt ends the session.\n";
}

void Session::Impl::cmd_load(const std::string& arg, const Arg& a) {
  if (arg.empty()) return arg_error(a, "':load' needs a file: :load FILE");
  load(arg);
}

const Session::Impl::Statement* Session::Impl::find_statement(std::string_view name) const {
  for (const auto& s : stmts)
    if (s.key == name) return &s;
  for (const auto& s : stmts)
    if (!s.name().empty() && s.name() == name) return &s;
  return nullptr;
}

void Session::Impl::show(const std::string& arg, const Arg& a) {
  if (arg == "persona" || arg.starts_with("persona ")) {
    const std::string rest = trim(std::string_view(arg).substr(7));
    return show_persona(rest, Arg{a.line, a.col + static_cast<std::uint32_t>(arg.size() - rest.size()),
                                  static_cast<std::uint32_t>(rest.size())});
  }
  if (stmts.empty()) {
    if (!arg.empty()) return arg_error(a, "the recipe is empty: there is no '" + arg + "'");
    out << "# (the recipe is empty: type statements, or :load FILE)\n";
    return;
  }
  if (arg.empty()) return page(recipe_text());
  const Statement* s = find_statement(arg);
  if (s == nullptr) {
    std::vector<std::string> keys;
    for (const auto& x : stmts) keys.push_back(x.key);
    std::vector<std::string> notes;
    if (auto best = closest_match(arg, keys); !best.empty()) notes.push_back("did you mean '" + best + "'?");
    notes.emplace_back("':show' prints the whole recipe; ':show persona N' a persona of the sample");
    return arg_error(a, "the recipe has no statement '" + arg + "'", notes);
  }
  page(format_statements({*s}));
}

void Session::Impl::check_cmd() {
  if (stmts.empty()) {
    out << "the recipe is empty: type statements, or :load FILE\n";
    return;
  }
  auto& c = current();
  print_all(c.diags);
  if (!c.loaded) {
    err << "the recipe has " << noun(c.diags.error_count(), "error", "errors") << "\n";
    return;
  }
  const auto& r = c.loaded->recipe;
  out << "ok (" << noun(r.anchors.size(), "anchor", "anchors") << ", "
      << noun(r.story.size(), "story step", "story steps") << ", " << r.attributes.min_count << ".."
      << r.attributes.max_count << " attributes";
  if (c.diags.warning_count() > 0) out << ", " << noun(c.diags.warning_count(), "warning", "warnings");
  out << ")\n";
}

void Session::Impl::plan() {
  auto& c = current();
  if (!c.loaded) {
    print_all(c.diags);
    err << "the recipe has errors; fix them first (:check lists them)\n";
    return;
  }
  const engine::Program* m = engine_model();
  if (m == nullptr) return;
  page(m->to_text(llm()));
}

void Session::Impl::tax(const std::string& arg, const Arg& a) {
  std::size_t sp = arg.find_first_of(" \t");
  const std::string sub = arg.substr(0, sp);
  const std::string rest = sp == std::string::npos ? std::string() : trim(arg.substr(sp));
  if (sub != "ls" && sub != "show" && sub != "find") {
    std::vector<std::string> notes;
    if (auto best = closest_match(sub, {"ls", "show", "find"}); !best.empty() && !sub.empty())
      notes.push_back("did you mean '" + best + "'?");
    return arg_error(
        a, sub.empty() ? "':tax' needs ls, show or find" : "unknown ':tax' command '" + sub + "'",
        notes.empty() ? std::vector<std::string>{"usage: :tax ls [PATH] | :tax show PATH | :tax find TEXT"} : notes);
  }
  if (sub != "ls" && rest.empty()) return arg_error(a, "':tax " + sub + "' needs a path or text");
  auto t = taxonomy();
  if (!t) return;
  const Answer ans = sub == "ls" ? tax_ls(*t, rest) : sub == "show" ? tax_show(*t, rest) : tax_find(*t, rest);
  answer(ans,
         Arg{a.line, a.col + static_cast<std::uint32_t>(arg.size() - rest.size()),
             static_cast<std::uint32_t>(rest.size())},
         true);
}

void Session::Impl::answer(const Answer& ans, const Arg& a, bool paged) {
  if (!ans.ok()) return arg_error(a, ans.error, ans.notes);
  if (paged)
    page(ans.text);
  else
    out << ans.text;
}

void Session::Impl::why_cmd(const std::string& arg, const Arg& a) {
  if (arg.empty()) return arg_error(a, "':why' needs a taxonomy path: :why PATH [persona N]");
  // A trailing "persona N" picks the persona (the path itself may hold spaces).
  std::string path = arg;
  std::uint64_t index = 0;
  if (const auto at = arg.rfind(" persona "); at != std::string::npos && at > 0) {
    const std::string n = trim(std::string_view(arg).substr(at + 9));
    if (parse_u64(n, index)) {
      if (index > 1000000000)
        return arg_error(Arg{a.line, a.col + static_cast<std::uint32_t>(at + 9), static_cast<std::uint32_t>(n.size())},
                         "a persona index is at most 1000000000");
      path = trim(std::string_view(arg).substr(0, at));
    }
  }
  const engine::Program* m = engine_model();
  if (m == nullptr) return;
  if (sample.version == version && sample.llm && index < sample.built)
    err << "note: ':why' rebuilds the persona offline; the values of ':run' came from the LLM\n";
  answer(why(*m, seed(), path, index), Arg{a.line, a.col, static_cast<std::uint32_t>(path.size())}, true);
}

void Session::Impl::set(const std::string& arg, const Arg& a) {
  std::size_t sp = arg.find_first_of(" \t");
  const std::string key = arg.substr(0, sp);
  const std::string value = sp == std::string::npos ? std::string() : trim(arg.substr(sp));
  static const std::vector<std::string> keys = {"seed", "count", "llm", "editor"};
  if (key.empty()) {
    auto& c = current();
    out << "seed   " << seed()
        << (o.seed ? "" : (c.loaded && c.loaded->recipe.seed ? "  (the recipe's)" : "  (default)")) << "\n";
    out << "count  " << o.count << "\n";
    out << "llm    " << llm() << (o.llm.empty() ? "  (the recipe's model provider)" : "") << "\n";
    out << "editor " << editor() << (o.editor.empty() ? "  ($VISUAL, $EDITOR or vi)" : "") << "\n";
    return;
  }
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    std::vector<std::string> notes;
    if (auto best = closest_match(key, keys); !best.empty()) notes.push_back("did you mean '" + best + "'?");
    notes.emplace_back("settings: seed, count, llm, editor");
    return arg_error(a, "unknown setting '" + key + "'", notes);
  }
  if (value.empty()) return arg_error(a, "':set " + key + "' needs a value");
  if (key == "llm") {
    o.llm = value;
  } else if (key == "editor") {
    o.editor = value;
  } else {
    std::uint64_t v = 0;
    if (!parse_u64(value, v) || (key == "count" && v > 100000))
      return arg_error(a, "':set " + key + "' needs a non-negative integer, got '" + value + "'");
    if (key == "seed")
      o.seed = v;
    else
      o.count = v;
  }
  err << key << " = " << value << "\n";
}

void Session::Impl::save(const std::string& arg, const Arg& a) {
  const std::string path = arg.empty() ? loaded_file : arg;
  if (path.empty()) return arg_error(a, "':save' needs a file: :save FILE (no file was loaded)");
  const std::string text = recipe_text();
  std::string error;
  if (!files::write_atomic(path, text, error)) return arg_error(a, "cannot write '" + path + "'", {error});
  err << "saved " << noun(stmts.size(), "statement", "statements") << " to " << path << "\n";
  if (path == loaded_file) changed_since_load = false;
}

void Session::Impl::doc(const std::string& arg, const Arg& a) {
  if (arg.empty()) {
    std::map<std::string, std::vector<std::string>> by_kind;
    for (const auto& d : docs()) by_kind[std::string(d.kind)].emplace_back(d.name);
    out << "':doc NAME' documents:\n";
    for (const auto& [kind, names] : by_kind) {
      std::string line = "  " + kind + ":";
      for (const auto& n : names) {
        if (line.size() + n.size() + 1 > 98) {
          out << line << "\n";
          line = "     ";
        }
        line += " " + n;
      }
      out << line << "\n";
    }
    return;
  }
  if (const DocEntry* d = find_doc(arg)) {
    out << d->name << " (" << d->kind << ")\n" << wrap(d->text, 2, 98);
    return;
  }
  // A name of the current recipe: its statement.
  for (const auto& s : stmts) {
    if (!s.name().empty() && s.name() == arg) {
      out << s.key << " (" << (s.file() == kInput ? std::string("typed at line ") : s.file() + ":") << s.line() << ")\n"
          << trim(s.text) << "\n";
      return;
    }
  }
  auto& c = current();
  if (c.loaded)
    for (const auto& st : c.loaded->recipe.story)
      if (st.output == arg) {
        out << "story step " << st.output << ": llm \"" << st.instruction << "\"";
        if (!st.inputs.empty()) {
          out << " from ";
          for (std::size_t i = 0; i < st.inputs.size(); ++i) out << (i ? ", " : "") << st.inputs[i];
        }
        out << "\n";
        return;
      }
  std::vector<std::string> names;
  for (const auto& d : docs()) names.emplace_back(d.name);
  std::vector<std::string> notes;
  if (auto best = closest_match(arg, names); !best.empty()) notes.push_back("did you mean '" + best + "'?");
  notes.emplace_back("':doc' lists the topics");
  arg_error(a, "no documentation for '" + arg + "'", notes);
}

}  // namespace persona::repl
