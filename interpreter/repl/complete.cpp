// Tab completion: command names, settings, :doc topics, keywords, names of the current recipe,
// stdlib tables, taxonomy paths (a segment at a time) and file names.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "repl/session_impl.hpp"

namespace persona::repl {

namespace fs = std::filesystem;
using namespace detail;

std::vector<std::string> Session::Impl::recipe_names() {
  std::vector<std::string> v;
  for (const auto& s : stmts)
    if (auto n = s.name(); !n.empty()) v.push_back(std::move(n));
  auto& c = current();
  DiagnosticList ignored;
  const auto stdlib = frontend::stdlib_tables(ignored);
  if (c.loaded && stdlib) {
    for (const auto& st : c.loaded->recipe.story) v.push_back(st.output);
    for (const auto& an : c.loaded->recipe.anchors) v.push_back(an.name);
    for (const auto& an : c.loaded->recipe.anchors)
      if (const tables::Table* t = stdlib->find(an.source.table))
        for (auto& f : t->derived_facts()) v.push_back(std::move(f));
  }
  return v;
}

Completion Session::Impl::complete(std::string_view line, std::size_t cursor) {
  Completion c;
  cursor = std::min(cursor, line.size());
  const std::string_view head = line.substr(0, cursor);
  auto finish_with = [&](std::size_t start, std::vector<std::string> pool) {
    const std::string_view word = head.substr(start);
    c.start = start;
    for (auto& p : pool)
      if (std::string_view(p).starts_with(word)) c.candidates.push_back(std::move(p));
    std::sort(c.candidates.begin(), c.candidates.end());
    c.candidates.erase(std::unique(c.candidates.begin(), c.candidates.end()), c.candidates.end());
    return c;
  };
  auto tax_paths = [&](std::size_t start) {
    c.start = start;
    if (auto t = taxonomy()) c.candidates = complete_path(*t, head.substr(start));
    return c;
  };
  auto files = [&](std::size_t start) {
    const std::string word(head.substr(start));
    const auto slash = word.rfind('/');
    const std::string dir = slash == std::string::npos ? std::string() : word.substr(0, slash + 1);
    std::vector<std::string> pool;
    std::error_code ec;
    for (fs::directory_iterator it(dir.empty() ? "." : dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string n = dir + it->path().filename().string();
      if (it->is_directory(ec)) n += '/';
      pool.push_back(std::move(n));
    }
    return finish_with(start, std::move(pool));
  };
  std::size_t lead = 0;
  while (lead < head.size() && std::isspace(static_cast<unsigned char>(head[lead]))) ++lead;
  if (pending.empty() && lead < head.size() && head[lead] == ':') {
    std::size_t e = lead;
    while (e < head.size() && !std::isspace(static_cast<unsigned char>(head[e]))) ++e;
    if (e == head.size()) return finish_with(lead, command_names());
    const std::string cmd(head.substr(lead, e - lead));
    std::size_t a = e;
    while (a < head.size() && std::isspace(static_cast<unsigned char>(head[a]))) ++a;
    const bool first_word = head.find_first_of(" \t", a) == std::string_view::npos;
    if (cmd == ":load" || cmd == ":save" || cmd == ":diff") return files(a);
    if (cmd == ":why") return tax_paths(a);
    if (cmd == ":values") {
      if (head.find('/', a) != std::string_view::npos) return tax_paths(a);
      auto t = taxonomy();
      std::vector<std::string> pool = recipe_names();
      if (t)
        for (auto& p : complete_path(*t, head.substr(a))) pool.push_back(std::move(p));
      return finish_with(a, std::move(pool));
    }
    if (cmd == ":show" || cmd == ":edit") {
      if (!first_word) return c;
      std::vector<std::string> pool;
      if (cmd == ":show") pool.emplace_back("persona");
      for (const auto& s : stmts) pool.push_back(s.name().empty() ? s.kind : s.name());
      return finish_with(a, std::move(pool));
    }
    if (cmd == ":set") {
      if (first_word) return finish_with(a, {"seed", "count", "llm", "editor"});
      return c;
    }
    if (cmd == ":doc") {
      std::vector<std::string> pool;
      for (const auto& d : docs()) pool.emplace_back(d.name);
      for (auto& n : recipe_names()) pool.push_back(std::move(n));
      return finish_with(a, std::move(pool));
    }
    if (cmd == ":tax") {
      const std::size_t sp = head.find_first_of(" \t", a);
      if (sp == std::string_view::npos) return finish_with(a, {"ls", "show", "find"});
      std::size_t b = sp;
      while (b < head.size() && std::isspace(static_cast<unsigned char>(head[b]))) ++b;
      return tax_paths(b);
    }
    return c;
  }
  // Inside a string: taxonomy paths in include/exclude/always, else files.
  bool in_string = false;
  std::size_t quote = 0;
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\\' && in_string) {
      ++i;
    } else if (head[i] == '"') {
      in_string = !in_string;
      quote = i;
    } else if (head[i] == '#' && !in_string) {
      return c;  // a comment
    }
  }
  if (in_string) {
    const std::string_view before = head.substr(0, quote);
    if (before.find("include") != std::string_view::npos || before.find("exclude") != std::string_view::npos ||
        before.find("always") != std::string_view::npos)
      return tax_paths(quote + 1);
    if (before.find("llm") != std::string_view::npos || before.find("prompt") != std::string_view::npos) return c;
    return files(quote + 1);
  }
  std::size_t s = head.size();
  while (s > 0 && is_word_char(head[s - 1])) --s;
  std::vector<std::string> pool = statement_keywords();
  for (const auto& w : other_words()) pool.push_back(w);
  for (auto& n : recipe_names()) pool.push_back(std::move(n));
  for (const auto& d : docs())
    if (d.kind == "table") pool.emplace_back(d.name);
  return finish_with(s, std::move(pool));
}

}  // namespace persona::repl
