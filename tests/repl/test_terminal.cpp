// `persona repl` on a real pseudo-terminal: each test starts the program in a detached tmux session
// of 80 x 24, types keys with `tmux send-keys` and reads the screen with `tmux capture-pane`. This is
// what a user sees: the pager's first page, readline's history recall, Ctrl-C and Ctrl-D.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// A tmux server of its own holding one 80x24 window that runs `persona repl ARGS` in `dir`, then
// prints the exit code and waits (so that the last screen can be read).
class Terminal {
 public:
  Terminal(const fs::path& dir, const std::string& args) : dir_(dir) {
    static int n = 0;
    socket_ = "persona-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    const std::string program = "cd " + quote(dir.string()) +
                                " && PERSONA_HISTORY=" + quote((dir / "history").string()) + " EDITOR=true " +
                                quote(PERSONA_BIN) + " repl " + args + "; echo \"[exit $?]\"; sleep 600";
    ok_ = tmux("-f /dev/null new-session -d -x 80 -y 24 -s t " + quote(program)) == 0;
  }
  ~Terminal() { tmux("kill-server"); }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  [[nodiscard]] bool started() const { return ok_; }
  // tmux send-keys arguments: literal text with -l, or key names (Enter, Up, C-c, C-d, Space).
  void type(const std::string& text) { tmux("send-keys -t t -l " + quote(text)); }
  void keys(const std::string& names) { tmux("send-keys -t t " + names); }
  // The screen as it is: 24 lines, wrapped lines as the terminal shows them.
  std::string screen() { return capture("tmux -L " + socket_ + " capture-pane -p -t t"); }
  // The screen with wrapped lines joined back into the line the program wrote.
  std::string joined() { return capture("tmux -L " + socket_ + " capture-pane -p -J -t t"); }
  // Waits until the screen satisfies `ok` (20 s at most); false on timeout.
  bool wait(const std::function<bool(const std::string&)>& ok) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      if (ok(screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Timed out: show the screen the wait gave up on (the test log keeps it).
    std::cerr << "terminal: timed out after 20 s; the screen was:\n" << screen() << "\n";
    return false;
  }
  bool wait_for(const std::string& text) {
    return wait([&](const std::string& s) { return s.find(text) != std::string::npos; });
  }
  // Waits for an empty prompt on the last non-blank line.
  bool wait_prompt() {
    return wait([](const std::string& s) {
      auto ls = lines_of(s);
      while (!ls.empty() && ls.back().find_first_not_of(' ') == std::string::npos) ls.pop_back();
      return !ls.empty() && ls.back() == "persona>";
    });
  }

 private:
  int tmux(const std::string& args) {
    return std::system(("tmux -L " + socket_ + " " + args + " >/dev/null 2>&1").c_str());
  }
  fs::path dir_;
  std::string socket_;
  bool ok_ = false;
};

// A scratch folder of its own, removed at the end of the test.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name)
      : dir(fs::temp_directory_path() / ("persona-tty-" + std::to_string(::getpid())) / name) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir.parent_path(), ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

const std::string kQuickstart = std::string(PERSONA_SOURCE_DIR) + "/examples/quickstart.persona";

}  // namespace

TEST_CASE("tmux is installed for the terminal tests (.ci/setup installs it)") {
  REQUIRE(std::system("tmux -V >/dev/null 2>&1") == 0);
}

TEST_CASE("on an 80x24 terminal a persona view shows its first page, a page at a time, then the prompt") {
  const Scratch scratch("page");
  Terminal term(scratch.dir, "--seed 1 " + quote(kQuickstart));
  REQUIRE(term.started());
  REQUIRE(term.wait_prompt());
  term.type(":sample 2");
  term.keys("Enter");
  REQUIRE(term.wait_for("':show persona N' shows one"));
  REQUIRE(term.wait_prompt());
  term.type(":show persona 1");
  term.keys("Enter");
  REQUIRE(term.wait_for("-- more --"));
  const auto page = lines_of(term.screen());
  // The view starts on the first line of the screen (nothing scrolled away) and the pager's prompt is
  // on the last: the first page fits the terminal.
  REQUIRE(page.size() == 24);
  CHECK(page[0].starts_with("quickstart-000001  persona 1 of 2"));
  CHECK(page[23].starts_with("-- more -- line 23 of "));
  for (const auto& l : lines_of(term.joined())) {
    INFO(l);
    CHECK(columns(l) <= 80);  // no line of the view was wrapped by the terminal
  }
  term.keys("Space");
  REQUIRE(term.wait([](const std::string& s) { return s.find("-- more -- line 46 of ") != std::string::npos; }));
  CHECK(term.screen().find("quickstart-000001  persona 1 of 2") == std::string::npos);
  term.type("q");
  REQUIRE(term.wait_prompt());
  CHECK(term.screen().find("-- more --") == std::string::npos);
}

TEST_CASE("a block typed over several lines comes back with one Up arrow, in this session and the next") {
  const Scratch scratch("history");
  const fs::path& dir = scratch.dir;
  {
    Terminal term(dir, "--seed 1 " + quote(kQuickstart));
    REQUIRE(term.started());
    REQUIRE(term.wait_prompt());
    term.type("attributes {");
    term.keys("Enter");
    term.type("  count 20..30");
    term.keys("Enter");
    term.type("}");
    term.keys("Enter");
    REQUIRE(term.wait_for("replaced attributes"));
    REQUIRE(term.wait_prompt());
    term.keys("Up");
    REQUIRE(term.wait(
        [](const std::string& s) { return s.find("persona> attributes {\n  count 20..30\n}") != std::string::npos; }));
    term.keys("Enter");
    REQUIRE(term.wait([](const std::string& s) {
      std::size_t n = 0;
      for (std::size_t p = 0; (p = s.find("replaced attributes", p)) != std::string::npos; ++p) ++n;
      return n == 2;
    }));
    term.keys("C-d");
    REQUIRE(term.wait_for("[exit 0]"));
  }
  {
    Terminal term(dir, "--seed 1 " + quote(kQuickstart));
    REQUIRE(term.started());
    REQUIRE(term.wait_prompt());
    term.keys("Up");
    REQUIRE(term.wait(
        [](const std::string& s) { return s.find("persona> attributes {\n  count 20..30\n}") != std::string::npos; }));
  }
}

TEST_CASE("Ctrl-C stops a long :sample and cancels a line, never the session, and Ctrl-D at an empty prompt ends it") {
  const Scratch scratch("interrupt");
  Terminal term(scratch.dir, "--seed 1 " + quote(kQuickstart));
  REQUIRE(term.started());
  REQUIRE(term.wait_prompt());
  term.type(":sample 100000");
  term.keys("Enter");
  REQUIRE(term.wait_for(" attributes"));  // personas are coming
  term.keys("C-c");
  REQUIRE(term.wait_for(" of 100000 personas built"));
  REQUIRE(term.wait_prompt());
  // The session goes on: a command works, the sample that was built can be shown.
  term.type(":values gender");
  term.keys("Enter");
  REQUIRE(term.wait_for("anchor gender across "));
  REQUIRE(term.wait_prompt());
  // Ctrl-C on a half-typed statement drops it.
  term.type("story {");
  term.keys("Enter");
  REQUIRE(term.wait_for("     ...>"));
  term.keys("C-c");
  REQUIRE(term.wait_for("was discarded"));
  REQUIRE(term.wait_prompt());
  term.type("anchor x =");
  term.keys("C-c");
  REQUIRE(term.wait_for("anchor x =^C"));
  REQUIRE(term.wait_prompt());
  term.keys("C-d");
  REQUIRE(term.wait_for("[exit 0]"));
}
