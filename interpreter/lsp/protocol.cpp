#include "lsp/protocol.hpp"

#include <charconv>
#include <limits>

#include "base/text.hpp"

namespace persona::lsp {

namespace {

constexpr std::size_t kMaxHeaderLine = 4096;

enum class LineResult { ok, too_long, end };

// One header line without its "\r\n" (or "\n").
LineResult read_line(std::istream& in, std::string& line) {
  line.clear();
  while (true) {
    const int c = in.get();
    if (c == std::char_traits<char>::eof()) return line.empty() ? LineResult::end : LineResult::ok;
    if (c == '\n') break;
    if (line.size() >= kMaxHeaderLine) {
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      return LineResult::too_long;
    }
    line += static_cast<char>(c);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return LineResult::ok;
}

std::string printable(std::string_view s) {
  std::string out = text::utf8_sanitize(text::utf8_prefix(s, 60));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  return out;
}

}  // namespace

Frame FrameReader::next() {
  Frame f;
  std::string line;
  bool have_length = false, any_header = false;
  std::size_t length = 0;
  std::string problem;
  while (true) {
    const LineResult r = read_line(in_, line);
    if (r == LineResult::end) {
      if (any_header) {
        f.kind = Frame::Kind::warning;
        f.warning = "the input ended inside a message header";
        return f;
      }
      f.kind = Frame::Kind::end;
      return f;
    }
    if (r == LineResult::too_long) {
      if (problem.empty()) problem = "a header line longer than " + std::to_string(kMaxHeaderLine) + " bytes";
      any_header = true;
      continue;
    }
    if (line.empty()) {
      if (!any_header) continue;  // stray blank lines between messages
      break;
    }
    any_header = true;
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      if (problem.empty()) problem = "a header line without ':' (\"" + printable(line) + "\")";
      continue;
    }
    const std::string_view name = text::trim(std::string_view(line).substr(0, colon));
    const std::string_view value = text::trim(std::string_view(line).substr(colon + 1));
    if (text::iequals(name, "Content-Length")) {
      std::size_t n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
        if (problem.empty()) problem = "Content-Length '" + printable(value) + "' is not a number";
        continue;
      }
      have_length = true;
      length = n;
    }
    // Other headers (Content-Type) are allowed and ignored.
  }
  if (!have_length) {
    f.kind = Frame::Kind::warning;
    f.warning = problem.empty() ? "a message without a Content-Length header was skipped" : problem + "; skipped";
    return f;
  }
  if (length > max_body_) {
    // Skip the body without holding it.
    std::size_t left = length;
    while (left > 0 && in_) {
      const auto chunk = static_cast<std::streamsize>(std::min<std::size_t>(left, 1u << 20));
      in_.ignore(chunk);
      left -= static_cast<std::size_t>(in_.gcount());
      if (in_.gcount() == 0) break;
    }
    f.kind = Frame::Kind::warning;
    f.warning = "a message of " + std::to_string(length) + " bytes exceeds the limit of " + std::to_string(max_body_) +
                " bytes; skipped";
    return f;
  }
  f.body.resize(length);
  in_.read(f.body.data(), static_cast<std::streamsize>(length));
  const auto got = static_cast<std::size_t>(in_.gcount());
  if (got < length) {
    f.kind = Frame::Kind::warning;
    f.warning =
        "the input ended inside a message (" + std::to_string(got) + " of " + std::to_string(length) + " bytes)";
    f.body.clear();
    return f;
  }
  f.kind = Frame::Kind::message;
  if (!problem.empty()) {
    // The message is usable; the odd header is only worth a warning the caller may log.
    f.warning = problem;
  }
  return f;
}

std::string frame(std::string_view body) {
  std::string out = "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

void write_message(std::ostream& out, const json& message) {
  out << frame(message.dump(-1, ' ', false, json::error_handler_t::replace));
  out.flush();
}

}  // namespace persona::lsp
