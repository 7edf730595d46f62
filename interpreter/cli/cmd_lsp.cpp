// persona lsp [--stdio]: the Language Server for .persona recipes, over stdin and stdout.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "lsp/server.hpp"

namespace persona::cli {

void add_lsp_command(CLI::App& root, int& code) {
  auto* lsp = root.add_subcommand(
      "lsp",
      "Language Server for editors: diagnostics, completion, hover, definitions, formatting (JSON-RPC on stdio)");
  static bool stdio = false;
  lsp->add_flag("--stdio", stdio, "Talk over stdin and stdout (the default and only transport)");
  lsp->callback([&code] {
    std::ios::sync_with_stdio(false);
    lsp::Server server;
    code = lsp::serve(std::cin, std::cout, server);
  });
}

}  // namespace persona::cli
