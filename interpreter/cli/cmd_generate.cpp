// persona _generate man|bash|zsh [-o FILE]: the man page and the shell completions, written from
// the CLI11 definition of every command so they cannot drift from it. Hidden (no group); the build
// runs it (interpreter/cli/CMakeLists.txt) and `cmake --install` installs what it wrote.
#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "base/files.hpp"
#include "cli/commands.hpp"

namespace persona::cli {

namespace {

struct Command {
  std::string path;  // "check", "taxonomy stats"; "" for the root
  const CLI::App* app;
};

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

// Every command, depth first, the root first.
std::vector<Command> commands_of(const CLI::App& root) {
  std::vector<Command> out;
  std::function<void(const CLI::App&, const std::string&)> walk = [&](const CLI::App& app, const std::string& path) {
    out.push_back({path, &app});
    for (const CLI::App* s : visible_subcommands(app))
      walk(*s, path.empty() ? s->get_name() : path + " " + s->get_name());
  };
  walk(root, "");
  return out;
}

bool is_flag(const CLI::Option* o) { return o->get_items_expected_max() == 0; }

std::vector<std::string> switches(const CLI::Option* o) {
  std::vector<std::string> out;
  for (const auto& s : o->get_snames()) out.push_back("-" + s);
  for (const auto& l : o->get_lnames()) out.push_back("--" + l);
  return out;
}

// The first line of a description (CLI11 descriptions of the root span two lines).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// ---- man ----

std::string roff(const std::string& s) {
  std::string out;
  bool line_start = true;
  for (char c : s) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  return out;
}

std::string man_page(const CLI::App& root) {
  std::string m;
  m += ".TH PERSONA 1 \"\" \"persona " PERSONA_VERSION "\" \"User Commands\"\n";
  m += ".SH NAME\npersona \\- deep synthetic personas from declarative recipes\n";
  m += ".SH SYNOPSIS\n\\fBpersona\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n.br\n";
  m += "\\fBpersona\\fR \\-\\-version | \\-\\-help\n";
  m += ".SH DESCRIPTION\n" + roff(root.get_description()) + "\n";
  m += ".PP\nEvery error names its file, line and column (\\fIFILE\\fR:\\fILINE\\fR:\\fICOL\\fR: error: ...). "
       "\\fBpersona COMMAND \\-\\-help\\fR lists a command's options.\n";
  m += ".SH OPTIONS\n";
  for (const CLI::Option* o : visible_options(root)) {
    std::string names;
    for (const auto& sw : switches(o)) names += (names.empty() ? "" : ", ") + std::string("\\fB") + roff(sw) + "\\fR";
    m += ".TP\n" + names + "\n" + roff(o->get_description()) + "\n";
  }
  m += ".SH COMMANDS\n";
  for (const auto& c : commands_of(root)) {
    if (c.path.empty()) continue;
    const auto subs = visible_subcommands(*c.app);
    std::string synopsis = "persona " + c.path;
    if (!subs.empty()) synopsis += " COMMAND";
    const auto opts = visible_options(*c.app);
    if (std::any_of(opts.begin(), opts.end(), [](const CLI::Option* o) { return o->nonpositional(); }))
      synopsis += " [OPTIONS]";
    for (const CLI::Option* o : opts)
      if (o->get_positional() && !o->nonpositional()) {
        std::string n = o->get_name(true);
        if (o->get_items_expected_max() > 1) n += "...";
        synopsis += o->get_required() ? " " + n : " [" + n + "]";
      }
    m += ".SS \"" + roff(synopsis) + "\"\n" + roff(c.app->get_description()) + "\n";
    for (const CLI::Option* o : opts) {
      m += ".TP\n";
      if (o->get_positional() && !o->nonpositional()) {
        m += "\\fI" + roff(o->get_name(true)) + "\\fR\n";
      } else {
        std::string names;
        for (const auto& s : switches(o)) names += (names.empty() ? "" : ", ") + std::string("\\fB") + roff(s) + "\\fR";
        if (!is_flag(o)) names += " \\fI" + roff(o->get_type_name().empty() ? "VALUE" : o->get_type_name()) + "\\fR";
        m += names + "\n";
      }
      m += roff(o->get_description()) + "\n";
    }
    if (!subs.empty()) {
      m += ".PP\nCommands: ";
      std::string list;
      for (const CLI::App* s : subs) list += (list.empty() ? "" : ", ") + std::string("\\fB") + s->get_name() + "\\fR";
      m += list + ".\n";
    }
  }
  m += ".SH ENVIRONMENT\n";
  m += ".TP\n.B PERSONA_STDLIB\nThe standard library folder (taxonomies, tables, prompt templates). Default: "
       "\\fI../share/persona/stdlib\\fR beside the binary, else the source tree it was built from. "
       "\\fBpersona \\-\\-version\\fR prints the one in use.\n";
  m += ".TP\n.B PERSONA_HISTORY\nThe REPL's history file (default \\fI~/.persona_history\\fR).\n";
  m += ".TP\n.B OPENAI_API_KEY\nThe key of the \\fBopenai\\fR provider; other providers name their variable in "
       "\\fIpersona.toml\\fR. Keys are never written to outputs, manifests or logs.\n";
  m += ".SH FILES\n.TP\n.I persona.toml\nLLM providers and prices, in the current directory.\n";
  m += ".TP\n.I /usr/share/persona/stdlib/VERSION\nThe installed standard library's version.\n";
  m += ".SH EXIT STATUS\n0 success; 1 user error (a bad recipe or input); 2 usage error; 3 runtime failure; "
       "4 interrupted (resumable with \\fB\\-\\-resume\\fR).\n";
  m += ".SH SEE ALSO\nThe documentation in the source tree: \\fIdocs/language.md\\fR, \\fIdocs/install.md\\fR, "
       "\\fIdocs/editors.md\\fR.\n";
  return m;
}

// ---- bash ----

std::string words_of(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

std::string bash_completion(const CLI::App& root) {
  const auto cmds = commands_of(root);
  std::string b;
  b += "# bash completion for persona, generated by `persona _generate bash` from the command definitions.\n";
  b += "_persona() {\n";
  b += "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" path=\"\" w i\n";
  b += "  for ((i = 1; i < COMP_CWORD; i++)); do\n    w=\"${COMP_WORDS[i]}\"\n    case \"$path/$w\" in\n";
  std::string known;
  for (const auto& c : cmds) {
    if (c.path.empty()) continue;
    std::string p = "/" + c.path;
    std::replace(p.begin(), p.end(), ' ', '/');
    known += (known.empty() ? "" : "|") + ("\"" + p + "\"");
  }
  b += "      " + known + ") path=\"$path/$w\" ;;\n    esac\n  done\n";
  b += "  local subs=\"\" opts=\"\" valued=\"\"\n  case \"$path\" in\n";
  for (const auto& c : cmds) {
    std::string p = c.path.empty() ? "" : "/" + c.path;
    std::replace(p.begin(), p.end(), ' ', '/');
    std::vector<std::string> subs, opts, valued;
    for (const CLI::App* s : visible_subcommands(*c.app)) subs.push_back(s->get_name());
    for (const CLI::Option* o : visible_options(*c.app)) {
      if (!o->nonpositional()) continue;
      for (const auto& s : switches(o)) {
        opts.push_back(s);
        if (!is_flag(o)) valued.push_back(s);
      }
    }
    b += "    \"" + p + "\") subs=\"" + words_of(subs) + "\" opts=\"" + words_of(opts) + "\" valued=\"" +
         words_of(valued) + "\" ;;\n";
  }
  b += "  esac\n";
  b += "  # After an option that takes a value: the shell's default (file names).\n";
  b += "  if [[ -n \"$valued\" && \" $valued \" == *\" $prev \"* ]]; then return 0; fi\n";
  b += "  if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); return 0; fi\n";
  b += "  if [[ -n \"$subs\" ]]; then COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\")); return 0; fi\n";
  b += "  return 0\n}\n";
  b += "complete -o bashdefault -o default -F _persona persona\n";
  return b;
}

// ---- zsh ----

std::string zsh_quote(const std::string& s) {
  std::string out;
  for (char c : first_line(s)) {
    if (c == '\'')
      out += "'\\''";
    else if (c == '[' || c == ']' || c == ':')
      out += '\\', out += c;
    else
      out += c;
  }
  return out;
}

// The value's name for a prompt: the option's type (UINT, TEXT) without its validator's text.
std::string value_name(const CLI::Option* o) {
  std::string t = o->get_type_name();
  t = t.substr(0, t.find_first_of(": "));
  return t.empty() ? std::string("value") : t;
}

// Whether an option's value is a path (completed with file names).
bool takes_path(const CLI::Option* o) {
  const std::string n = o->get_name();
  for (const char* w : {"out", "file", "config", "cache", "prompts", "output", "dir"})
    if (n.find(w) != std::string::npos) return true;
  return false;
}

std::string zsh_function_name(const std::string& path) {
  std::string n = "_persona";
  if (!path.empty()) {
    std::string p = path;
    std::replace(p.begin(), p.end(), ' ', '_');
    std::replace(p.begin(), p.end(), '-', '_');
    n += "__" + p;
  }
  return n;
}

std::string zsh_completion(const CLI::App& root) {
  std::string z =
      "#compdef persona\n# zsh completion for persona, generated by `persona _generate zsh` from the command "
      "definitions.\n\n";
  const auto cmds = commands_of(root);
  for (auto it = cmds.rbegin(); it != cmds.rend(); ++it) {
    const auto& c = *it;
    z += zsh_function_name(c.path) + "() {\n";
    std::vector<std::string> specs;
    bool positional = false;
    for (const CLI::Option* o : visible_options(*c.app)) {
      if (!o->nonpositional()) {
        positional = true;
        continue;
      }
      const auto names = switches(o);
      std::string excl;
      if (names.size() > 1) excl = "(" + words_of(names) + ")";
      for (const auto& n : names) {
        std::string spec = "'" + excl + n + "[" + zsh_quote(o->get_description()) + "]";
        if (!is_flag(o)) spec += ":" + value_name(o) + ":" + (takes_path(o) ? "_files" : " ");
        spec += "'";
        specs.push_back(spec);
      }
    }
    const auto subs = visible_subcommands(*c.app);
    if (!subs.empty()) {
      z += "  local -a commands=(\n";
      for (const CLI::App* s : subs) z += "    '" + s->get_name() + ":" + zsh_quote(s->get_description()) + "'\n";
      z += "  )\n  local curcontext=\"$curcontext\" state line\n  _arguments -C \\\n";
      for (const auto& s : specs) z += "    " + s + " \\\n";
      z += "    '1: :->command' '*:: :->args'\n";
      z += "  case $state in\n    command) _describe 'command' commands ;;\n    args)\n      case $words[1] in\n";
      for (const CLI::App* s : subs) {
        const std::string p = c.path.empty() ? s->get_name() : c.path + " " + s->get_name();
        z += "        " + s->get_name() + ") " + zsh_function_name(p) + " ;;\n";
      }
      z += "      esac ;;\n  esac\n}\n\n";
      continue;
    }
    if (positional) specs.emplace_back("'*:file:_files'");
    z += "  _arguments";
    for (const auto& s : specs) z += " \\\n    " + s;
    z += "\n}\n\n";
  }
  z += "_persona \"$@\"\n";
  return z;
}

}  // namespace

void add_generate_command(CLI::App& root, int& code) {
  auto* gen = root.add_subcommand("_generate", "Write the man page or a shell completion script (used by the build)");
  gen->group("");  // hidden from --help, the man page and the completions
  static std::string what, out;
  gen->add_option("what", what, "man, bash or zsh")->required()->check(CLI::IsMember({"man", "bash", "zsh"}));
  gen->add_option("-o,--out", out, "Write to FILE instead of standard output");
  gen->callback([&root, &code] {
    const std::string text = what == "man"    ? man_page(root)
                             : what == "bash" ? bash_completion(root)
                                              : zsh_completion(root);
    if (out.empty()) {
      std::cout << text;
      code = Exit::ok;
      return;
    }
    std::string error;
    if (!files::write_atomic(out, text, error)) {
      std::cerr << "persona: " << error << "\n";
      code = Exit::runtime_error;
      return;
    }
    code = Exit::ok;
  });
}

}  // namespace persona::cli
