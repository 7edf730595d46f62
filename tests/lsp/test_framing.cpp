// The base protocol framing: Content-Length headers, resynchronisation after bad input, limits.
#include <catch2/catch.hpp>
#include <sstream>

#include "lsp/protocol.hpp"
#include "lsp/server.hpp"

using namespace persona;
using lsp::Frame;

TEST_CASE("a framed message is read whole, with or without other headers and stray blank lines") {
  std::istringstream in(
      "Content-Length: 7\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"a\":1}"
      "\r\n\r\ncontent-length:2\n\n[]");
  lsp::FrameReader r(in);
  Frame f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "{\"a\":1}");
  CHECK(f.warning.empty());
  f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "[]");
  CHECK(r.next().kind == Frame::Kind::end);
}

TEST_CASE("a message without Content-Length is skipped with a warning and the next one is still read") {
  std::istringstream in("Content-Type: x\r\n\r\n" + lsp::frame("{\"ok\":true}"));
  lsp::FrameReader r(in);
  Frame f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("without a Content-Length") != std::string::npos);
  f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "{\"ok\":true}");
}

TEST_CASE("a Content-Length that is not a number, and a header line without a colon, are warnings") {
  std::istringstream in("Content-Length: twelve\r\n\r\nGARBAGE LINE\r\n\r\n" + lsp::frame("1"));
  lsp::FrameReader r(in);
  Frame f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("'twelve' is not a number") != std::string::npos);
  f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("without ':'") != std::string::npos);
  f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "1");
  std::istringstream neg("Content-Length: -5\r\n\r\n");
  lsp::FrameReader rn(neg);
  CHECK(rn.next().kind == Frame::Kind::warning);
}

TEST_CASE("a body over the limit is skipped without being held, with a warning naming its size") {
  const std::string big(5000, 'x');
  std::istringstream in(lsp::frame(big) + lsp::frame("{}"));
  lsp::FrameReader r(in, 1024);
  Frame f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("5000 bytes exceeds the limit of 1024") != std::string::npos);
  f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "{}");
  // A length far beyond the input ends the stream after the warning.
  std::istringstream lie("Content-Length: 99999999999\r\n\r\nabc");
  lsp::FrameReader rl(lie, 1024);
  CHECK(rl.next().kind == Frame::Kind::warning);
  CHECK(rl.next().kind == Frame::Kind::end);
}

TEST_CASE("input that ends inside a body or a header is a warning, then the end") {
  std::istringstream in("Content-Length: 10\r\n\r\n{\"a\"");
  lsp::FrameReader r(in);
  Frame f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("4 of 10 bytes") != std::string::npos);
  CHECK(r.next().kind == Frame::Kind::end);
  std::istringstream head("Content-Length: 10\r\n");
  lsp::FrameReader rh(head);
  CHECK(rh.next().kind == Frame::Kind::warning);
  CHECK(rh.next().kind == Frame::Kind::end);
}

TEST_CASE("a header line longer than 4 KiB is a warning, not an ever-growing buffer") {
  std::istringstream in(std::string(100000, 'A') + "\r\n\r\n" + lsp::frame("2"));
  lsp::FrameReader r(in);
  Frame f = r.next();
  CHECK(f.kind == Frame::Kind::warning);
  CHECK(f.warning.find("longer than 4096 bytes") != std::string::npos);
  f = r.next();
  REQUIRE(f.kind == Frame::Kind::message);
  CHECK(f.body == "2");
}

TEST_CASE("serve() logs framing problems, answers invalid JSON with a parse error and keeps serving until exit") {
  std::string input = "Content-Length: x\r\n\r\n";
  input += lsp::frame("{not json");
  input += lsp::frame(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})");
  input += lsp::frame(R"({"jsonrpc":"2.0","id":2,"method":"shutdown"})");
  input += lsp::frame(R"({"jsonrpc":"2.0","method":"exit"})");
  input += lsp::frame(R"({"jsonrpc":"2.0","id":3,"method":"never-read"})");
  std::istringstream in(input);
  std::ostringstream out;
  lsp::Server server;
  CHECK(lsp::serve(in, out, server) == 0);
  std::istringstream back(out.str());
  lsp::FrameReader r(back);
  std::vector<lsp::json> msgs;
  for (Frame f = r.next(); f.kind == Frame::Kind::message; f = r.next()) msgs.push_back(lsp::json::parse(f.body));
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0]["method"] == "window/logMessage");
  CHECK(msgs[0]["params"]["type"] == 2);
  CHECK(msgs[1]["error"]["code"] == lsp::parse_error);
  CHECK(msgs[2]["id"] == 1);
  CHECK(msgs[3]["id"] == 2);
}

TEST_CASE("serve() returns 1 when the input ends without shutdown and exit") {
  std::istringstream in(lsp::frame(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"));
  std::ostringstream out;
  lsp::Server server;
  CHECK(lsp::serve(in, out, server) == 1);
}

TEST_CASE("serve() returns 0 when the input ends after shutdown, even without exit") {
  std::istringstream in(lsp::frame(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})") +
                        lsp::frame(R"({"jsonrpc":"2.0","id":2,"method":"shutdown"})"));
  std::ostringstream out;
  lsp::Server server;
  CHECK(lsp::serve(in, out, server) == 0);
}
