// The LSP base protocol on byte streams: messages framed by a `Content-Length: N` header, a blank
// line and N bytes of JSON. The reader never trusts the peer: a malformed header, a missing or
// absurd length, an oversized body or a stream that ends inside a message gives a warning (the
// server turns it into window/logMessage) and the reader resynchronises at the next header.
#pragma once

#include <cstddef>
#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>

namespace persona::lsp {

using json = nlohmann::json;

struct Frame {
  enum class Kind { message, warning, end };
  Kind kind = Kind::end;
  std::string body;     // message: the JSON text
  std::string warning;  // warning: what was wrong and what was skipped
};

class FrameReader {
 public:
  static constexpr std::size_t kDefaultMaxBody = 64u << 20;  // 64 MiB
  explicit FrameReader(std::istream& in, std::size_t max_body = kDefaultMaxBody) : in_(in), max_body_(max_body) {}
  // The next message, a warning about input that was skipped, or the end of the input.
  Frame next();

 private:
  std::istream& in_;
  std::size_t max_body_;
};

// "Content-Length: N\r\n\r\n" + body.
std::string frame(std::string_view body);
// Serialises a message (invalid UTF-8 replaced, never thrown) and writes it framed, flushed.
void write_message(std::ostream& out, const json& message);

}  // namespace persona::lsp
