// GNU readline behind LineReader: line editing, tab completion, persistent history in which a
// statement typed over several lines is one entry, and Ctrl-C that cancels the line. Readline runs
// in its callback mode: the reader waits in select(), so a SIGINT caught by catch_interrupts()
// wakes it up and the line is dropped. The only file that includes readline (its API is global
// state: one terminal reader at a time).
#include <readline/history.h>
#include <readline/readline.h>
#include <sys/select.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "repl/repl.hpp"
#include "repl/terminal.hpp"

namespace persona::repl {

namespace {

Completer* g_complete = nullptr;
std::vector<std::string>* g_matches = nullptr;
std::optional<std::string>* g_line = nullptr;  // where the line handler puts the line read
bool g_done = false;

// Readline's handler for a finished line (nullptr at end of input).
void on_line(char* line) {
  if (g_line != nullptr) {
    if (line != nullptr)
      *g_line = std::string(line);
    else
      g_line->reset();
  }
  std::free(line);
  g_done = true;
  rl_callback_handler_remove();
}

char* next_match(const char* /*text*/, int state) {
  static std::size_t i = 0;
  if (state == 0) i = 0;
  if (g_matches == nullptr || i >= g_matches->size()) return nullptr;
  const std::string& m = (*g_matches)[i++];
  char* s = static_cast<char*>(std::malloc(m.size() + 1));  // readline frees it
  if (s != nullptr) std::memcpy(s, m.c_str(), m.size() + 1);
  return s;
}

// Our completer decides where the completed word starts (taxonomy paths hold spaces); readline's
// word may start elsewhere, so each candidate is shifted to readline's start.
char** attempted(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never fall back to file names
  if (g_complete == nullptr || g_matches == nullptr) return nullptr;
  const std::string line(rl_line_buffer, static_cast<std::size_t>(rl_end));
  const auto cursor = static_cast<std::size_t>(rl_point);
  const Completion c = (*g_complete)(line, cursor);
  const auto rs = static_cast<std::size_t>(start);
  g_matches->clear();
  bool all_dirs = !c.candidates.empty();
  for (const auto& cand : c.candidates) {
    std::string m;
    if (c.start <= rs) {
      const std::string typed = line.substr(c.start, rs - c.start);
      if (cand.compare(0, typed.size(), typed) != 0) continue;
      m = cand.substr(typed.size());
    } else {
      m = line.substr(rs, c.start - rs) + cand;
    }
    all_dirs = all_dirs && !m.empty() && m.back() == '/';
    g_matches->push_back(std::move(m));
  }
  if (g_matches->empty()) return nullptr;
  rl_completion_suppress_append = all_dirs ? 1 : 0;
  return rl_completion_matches(text, next_match);
}

class TerminalReader final : public LineReader {
 public:
  TerminalReader(Completer complete, std::string history)
      : complete_(std::move(complete)), history_(std::move(history)) {
    rl_readline_name = "persona";
    g_complete = &complete_;
    g_matches = &matches_;
    rl_attempted_completion_function = attempted;
    rl_basic_word_break_characters = " \t\n\"(),=~{}:";
    rl_completer_quote_characters = nullptr;
    // Signals are ours (catch_interrupts): readline must not install its handlers.
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    // Timestamps in the history file mark where an entry starts, so that an entry of several lines
    // reads back as one.
    history_comment_char = '#';
    history_write_timestamps = 1;
    history_multiline_entries = 1;
    using_history();
    stifle_history(1000);
    if (!history_.empty() && read_history(history_.c_str()) != 0) {
      // No file yet: create it, so that each entry can be appended as it is typed (kept on Ctrl-C).
      std::error_code ec;
      const auto dir = std::filesystem::path(history_).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir, ec);
      if (write_history(history_.c_str()) != 0) history_.clear();
    }
  }
  ~TerminalReader() override {
    if (!history_.empty()) history_truncate_file(history_.c_str(), 1000);
    g_complete = nullptr;
    g_matches = nullptr;
    rl_attempted_completion_function = nullptr;
  }
  TerminalReader(const TerminalReader&) = delete;
  TerminalReader& operator=(const TerminalReader&) = delete;

  std::optional<std::string> read_line(const std::string& prompt) override {
    cancelled_ = false;
    std::fflush(stdout);
    std::fflush(stderr);
    term::clear_interrupt();  // a Ctrl-C that came before this prompt does not cancel it
    std::optional<std::string> line;
    g_line = &line;
    g_done = false;
    rl_callback_handler_install(prompt.c_str(), on_line);
    const int fd = fileno(rl_instream != nullptr ? rl_instream : stdin);
    while (!g_done) {
      fd_set fds;
      FD_ZERO(&fds);
      FD_SET(fd, &fds);
      if (select(fd + 1, &fds, nullptr, nullptr, nullptr) >= 0) {
        rl_callback_read_char();
        continue;
      }
      if (errno != EINTR) {
        rl_callback_handler_remove();
        break;
      }
      if (term::take_resize()) rl_resize_terminal();
      if (term::take_interrupt()) {
        // Ctrl-C: the line typed so far is dropped and a new prompt comes.
        rl_point = rl_end;
        rl_redisplay();
        std::fputs("^C", rl_outstream != nullptr ? rl_outstream : stdout);
        std::fflush(rl_outstream != nullptr ? rl_outstream : stdout);
        rl_free_line_state();
        rl_callback_sigcleanup();
        rl_callback_handler_remove();
        std::fputs("\n", stdout);
        std::fflush(stdout);
        using_history();
        cancelled_ = true;
        g_line = nullptr;
        return std::nullopt;
      }
    }
    g_line = nullptr;
    if (!line) std::fputs("\n", stdout);  // Ctrl-D: end the prompt's line
    return line;
  }
  [[nodiscard]] bool cancelled() const override { return cancelled_; }
  void remember(const std::string& entry) override {
    const HIST_ENTRY* last = history_length > 0 ? history_get(history_base + history_length - 1) : nullptr;
    if (last != nullptr && entry == last->line) return;
    add_history(entry.c_str());
    if (!history_.empty()) append_history(1, history_.c_str());
  }

 private:
  Completer complete_;
  std::string history_;
  std::vector<std::string> matches_;
  bool cancelled_ = false;
};

}  // namespace

std::unique_ptr<LineReader> make_terminal_reader(Completer complete, std::string history_file) {
  return std::make_unique<TerminalReader>(std::move(complete), std::move(history_file));
}

std::string default_history_file() {
  if (const char* h = std::getenv("PERSONA_HISTORY"); h != nullptr) return h;  // "" disables the history
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return (std::filesystem::path(home) / ".persona_history").string();
  return {};
}

}  // namespace persona::repl
