// Internal to the language server: the open documents and what the features share (the stdlib
// tables, taxonomies and outlines of files the documents import), plus the feature functions that
// server.cpp dispatches to (features.cpp). Positions are converted at this boundary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "check/recipe.hpp"
#include "lsp/document.hpp"
#include "lsp/protocol.hpp"
#include "lsp/scan.hpp"
#include "tables/tables.hpp"
#include "taxonomy/taxonomy.hpp"

namespace persona::lsp {

struct Document {
  std::string uri;
  std::string name;  // what the front end calls it: the file's path, or the URI when not a file
  std::string dir;   // the folder relative paths in the recipe resolve against
  Text text;
  std::int64_t version = 0;
  bool too_large = false;

  // Derived from the text, rebuilt when it changes.
  std::uint64_t generation = 0;
  std::uint64_t scanned = ~std::uint64_t{0};
  std::vector<Token> tokens;
  Outline outline;
  // The last recipe that checked without errors (names, derived facts, taxonomy), if any.
  std::optional<lang::Recipe> checked;

  void rescan() {
    if (scanned == generation) return;
    tokens = scan(text.str());
    outline = lsp::outline(tokens);
    scanned = generation;
  }
};

// Another file a document points at (import, extends), read from disk.
struct FileView {
  std::string path;
  Text text;
  std::vector<Token> tokens;
  Outline outline;
};

class Workspace {
 public:
  Encoding enc = Encoding::utf16;
  std::size_t max_document_bytes = 4u << 20;
  std::map<std::string, Document> docs;

  std::shared_ptr<const tables::Library> stdlib_tables();
  // The document's taxonomy (its checked recipe's, else its `taxonomy` statement's, else
  // stdlib.core), loaded without similarity vectors and cached; nullptr when it cannot be loaded.
  std::shared_ptr<const tax::Taxonomy> taxonomy_for(Document& doc);
  // A file read from disk and outlined (cached by path and modification time); nullptr when unreadable.
  const FileView* file(const std::string& path);

  // The diagnostics of a document as textDocument/publishDiagnostics params.
  json diagnostics(Document& doc);

  [[nodiscard]] json range(const Text& t, std::size_t begin, std::size_t end) const;
  [[nodiscard]] json location(const std::string& path, const Text& t, std::size_t begin, std::size_t end) const;

 private:
  std::map<std::string, std::shared_ptr<const tax::Taxonomy>> taxonomies_;
  struct Cached {
    std::filesystem::file_time_type mtime;
    std::unique_ptr<FileView> view;
  };
  std::map<std::string, Cached> files_;
};

// The features; each returns the JSON result of its request.
json complete(Workspace& ws, Document& doc, Position pos);
json hover(Workspace& ws, Document& doc, Position pos);
json definition(Workspace& ws, Document& doc, Position pos);
json symbols(Workspace& ws, Document& doc);
// Edits, or null when the recipe does not parse (`why` says so).
json format(Workspace& ws, Document& doc, std::string& why);

}  // namespace persona::lsp
