// The language server behind `persona lsp`: JSON-RPC 2.0 messages in, responses and notifications
// out. The core is Server::handle (one parsed message -> the messages to send, in order), with no
// I/O, so tests drive it in-process; serve() adds the stdio framing (protocol.hpp).
//
//   persona::lsp::Server server;
//   auto out = server.handle(json::parse(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}})"));
//   // out[0]["result"]["capabilities"] ...
//
// Features: diagnostics on didOpen/didChange (the checker's messages, as `persona check` prints
// them), completion, hover (the REPL's :doc text; taxonomy nodes inside include/exclude globs),
// go to definition, formatting (`persona fmt`) and document symbols. Bad input never crashes the
// server: a request gets an error response, anything else a window/logMessage warning.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lsp/protocol.hpp"

namespace persona::lsp {

struct ServerOptions {
  std::size_t max_document_bytes = 4u << 20;  // larger documents get one diagnostic, no analysis
};

// JSON-RPC and LSP error codes.
enum ErrorCode : int {
  parse_error = -32700,
  invalid_request = -32600,
  method_not_found = -32601,
  invalid_params = -32602,
  internal_error = -32603,
  server_not_initialized = -32002,
  request_failed = -32803,
};

class Server {
 public:
  explicit Server(ServerOptions opts = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // One message (request, notification or a response to us) -> what to send, in order.
  std::vector<json> handle(const json& message);
  // A message body as text: invalid JSON gets a parse-error response.
  std::vector<json> handle_text(std::string_view body);

  // True after the `exit` notification; the process should end with exit_code().
  [[nodiscard]] bool exited() const;
  // 0 when `shutdown` came before `exit`, else 1 (as the protocol says).
  [[nodiscard]] int exit_code() const;

  // A window/logMessage notification (type 1 error, 2 warning, 3 info, 4 log).
  static json log_message(int type, std::string text);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The stdio loop: frames in, frames out, until `exit` or the end of the input. Returns the exit
// code: 0 when `shutdown` came first, else 1.
int serve(std::istream& in, std::ostream& out, Server& server);

}  // namespace persona::lsp
