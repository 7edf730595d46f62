// The terminal beside readline: Ctrl-C turned into a flag, the window size, and a pager for long
// views (:show persona, :values, :diff, ...).
#include "repl/terminal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "repl/repl.hpp"
#include "repl/session_impl.hpp"

namespace persona::repl {

namespace {

volatile std::sig_atomic_t g_sigint = 0;
volatile std::sig_atomic_t g_winch = 0;
std::atomic<bool> g_interrupt{false};
bool g_caught = false;

extern "C" void on_sigint(int /*sig*/) {
  g_sigint = 1;
  g_interrupt.store(true);
}

extern "C" void on_sigwinch(int /*sig*/) { g_winch = 1; }

winsize window() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) ws = winsize{};
  return ws;
}

}  // namespace

namespace term {

bool take_interrupt() {
  if (g_sigint == 0) return false;
  g_sigint = 0;
  g_interrupt.store(false);
  return true;
}

void clear_interrupt() {
  g_sigint = 0;
  g_interrupt.store(false);
}

bool take_resize() {
  if (g_winch == 0) return false;
  g_winch = 0;
  return true;
}

}  // namespace term

std::atomic<bool>* catch_interrupts() {
  if (!g_caught) {
    // SA_RESTART keeps writes to the terminal going; the reader and the pager wait in select/poll,
    // which a signal interrupts anyway.
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_sigint;
    ::sigaction(SIGINT, &sa, nullptr);
    sa.sa_handler = on_sigwinch;
    ::sigaction(SIGWINCH, &sa, nullptr);
    g_caught = true;
  }
  return &g_interrupt;
}

std::size_t terminal_columns() {
  const winsize ws = window();
  return ws.ws_col > 0 ? ws.ws_col : 80;
}

std::size_t terminal_rows() {
  const winsize ws = window();
  return ws.ws_row > 0 ? ws.ws_row : 24;
}

namespace {

enum Key : int { kStop = -1, kOther = 0, kPage = 1, kLine = 2, kRest = 3 };

// One key press, in the terminal's raw mode; an escape sequence (arrows, Page Down) is read whole.
Key read_key() {
  for (;;) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno != EINTR) return kStop;
      if (term::take_interrupt()) return kStop;
      continue;
    }
    unsigned char c = 0;
    if (::read(STDIN_FILENO, &c, 1) != 1) return kStop;
    if (c == 0x1b) {
      std::string seq;
      while (seq.size() < 8 && ::poll(&p, 1, 30) > 0) {
        unsigned char d = 0;
        if (::read(STDIN_FILENO, &d, 1) != 1) break;
        seq += static_cast<char>(d);
        if (std::isalpha(d) || d == '~') break;
      }
      if (seq.empty()) return kStop;  // Esc alone
      if (seq == "[B" || seq == "OB") return kLine;
      if (seq == "[6~") return kPage;
      return kOther;
    }
    switch (c) {
      case ' ':
      case 'f':
      case 'z':
        return kPage;
      case '\n':
      case '\r':
      case 'j':
      case 'e':
        return kLine;
      case 'G':
        return kRest;
      case 'q':
      case 'Q':
        return kStop;
      default:
        return kOther;
    }
  }
}

}  // namespace

void page_on_terminal(const std::string& text) {
  const std::size_t rows = std::max<std::size_t>(2, terminal_rows());
  const std::size_t cols = terminal_columns();
  const std::vector<std::string> lines = detail::split_lines(text);
  auto height = [&](const std::string& l) {
    const std::size_t w = detail::columns_of(l);
    return w == 0 ? std::size_t{1} : (w + cols - 1) / cols;
  };
  std::size_t total = 0;
  for (const auto& l : lines) total += height(l);
  if (total < rows || ::isatty(STDIN_FILENO) != 1) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  termios saved{};
  const bool raw = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw) {
    termios t = saved;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  term::clear_interrupt();
  std::size_t i = 0;
  auto show = [&](std::size_t budget) {
    std::size_t used = 0;
    while (i < lines.size() && (used == 0 || used + height(lines[i]) <= budget)) {
      std::fwrite(lines[i].data(), 1, lines[i].size(), stdout);
      std::fputc('\n', stdout);
      used += height(lines[i]);
      ++i;
    }
  };
  show(rows - 1);
  while (i < lines.size()) {
    const std::string status =
        detail::fit("-- more -- line " + std::to_string(i) + " of " + std::to_string(lines.size()) + " (" +
                        std::to_string(100 * i / lines.size()) + "%)  space: page  enter: line  G: all  q: quit",
                    cols - 1);
    std::fputs(("\x1b[7m" + status + "\x1b[0m").c_str(), stdout);
    std::fflush(stdout);
    const Key k = read_key();
    std::fputs("\r\x1b[K", stdout);
    if (k == kStop) break;
    if (k == kPage)
      show(rows - 1);
    else if (k == kLine)
      show(1);
    else if (k == kRest)
      show(~std::size_t{0});
  }
  std::fflush(stdout);
  if (raw) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
}

}  // namespace persona::repl
