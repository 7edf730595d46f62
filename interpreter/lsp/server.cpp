#include "lsp/server.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "base/files.hpp"
#include "base/text.hpp"
#include "diag/source.hpp"
#include "frontend/frontend.hpp"
#include "lsp/workspace.hpp"
#include "util/stdlib_path.hpp"

#ifndef PERSONA_VERSION
#define PERSONA_VERSION "0"
#endif

namespace persona::lsp {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Workspace

std::shared_ptr<const tables::Library> Workspace::stdlib_tables() {
  DiagnosticList ignored;  // the stdlib's own problems reach the user through every document's diagnostics
  return frontend::stdlib_tables(ignored);
}

std::shared_ptr<const tax::Taxonomy> Workspace::taxonomy_for(Document& doc) {
  std::string name = "stdlib.core";
  bool is_file = false;
  if (doc.checked) {
    name = doc.checked->taxonomy;
    is_file = doc.checked->taxonomy_is_file;
  } else {
    doc.rescan();
    for (const Symbol* s : doc.outline.all("taxonomy")) {
      if (s->value_end > s->value_begin) {
        is_file = true;
        name = (fs::path(doc.dir) / s->name).lexically_normal().string();
      } else if (s->name != "taxonomy") {
        name = s->name;
      }
    }
  }
  std::string key = (is_file ? "file:" : "name:") + name;
  std::error_code ec;
  if (is_file) {
    const auto t = fs::last_write_time(name, ec);
    if (!ec) key += "@" + std::to_string(t.time_since_epoch().count());
  }
  if (auto it = taxonomies_.find(key); it != taxonomies_.end()) return it->second;
  tax::LoadOptions opts;
  opts.vectors = false;
  DiagnosticList diags;  // the checker reports a taxonomy's problems; here it is only looked up
  std::optional<tax::Taxonomy> t;
  if (is_file) {
    t = tax::load(name, diags, opts);
  } else {
    std::string_view n = name;
    if (n.starts_with("stdlib.")) n.remove_prefix(7);
    t = tax::load_stdlib(n, diags, opts);
  }
  std::shared_ptr<const tax::Taxonomy> out;
  if (t) out = std::make_shared<const tax::Taxonomy>(std::move(*t));
  taxonomies_[key] = out;
  return out;
}

const FileView* Workspace::file(const std::string& path) {
  std::error_code ec;
  const auto mtime = fs::last_write_time(path, ec);
  if (ec) return nullptr;
  if (auto it = files_.find(path); it != files_.end() && it->second.mtime == mtime) return it->second.view.get();
  files::Limits limits;
  limits.max_bytes = max_document_bytes;
  auto r = files::read(path, limits);
  if (!r.ok()) return nullptr;
  auto v = std::make_unique<FileView>();
  v->path = path;
  v->text = Text(std::move(*r.text));
  v->tokens = scan(v->text.str());
  v->outline = outline(v->tokens);
  auto& slot = files_[path];
  slot.mtime = mtime;
  slot.view = std::move(v);
  return slot.view.get();
}

json Workspace::range(const Text& t, std::size_t begin, std::size_t end) const {
  const Position a = t.position(begin, enc), b = t.position(end, enc);
  return json{{"start", {{"line", a.line}, {"character", a.character}}},
              {"end", {{"line", b.line}, {"character", b.character}}}};
}

json Workspace::location(const std::string& path, const Text& t, std::size_t begin, std::size_t end) const {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  return json{{"uri", path_to_uri(ec ? path : abs.lexically_normal().string())}, {"range", range(t, begin, end)}};
}

namespace {

int severity_of(Severity s) {
  switch (s) {
    case Severity::error:
      return 1;
    case Severity::warning:
      return 2;
    case Severity::note:
      return 3;
  }
  return 1;
}

// The diagnostic's text as `persona check` prints it, less the file position and source excerpt
// (the editor shows those): the message, then each note.
std::string message_of(const Diagnostic& d) {
  std::string m = d.message;
  for (const auto& n : d.notes) m += "\nnote: " + n;
  return m;
}

}  // namespace

json Workspace::diagnostics(Document& doc) {
  json list = json::array();
  auto whole_file = [&](std::string code, std::string message) {
    list.push_back({{"range", range(doc.text, 0, 0)},
                    {"severity", 1},
                    {"code", std::move(code)},
                    {"source", "persona"},
                    {"message", std::move(message)}});
  };
  if (doc.too_large) {
    whole_file("too-large", "the document is " + std::to_string(doc.text.size()) +
                                " bytes; the language server analyses documents of at most " +
                                std::to_string(max_document_bytes) + " bytes");
  } else if (auto bad = text::utf8_error(doc.text.str())) {
    const Position p = doc.text.position(*bad, Encoding::utf8);
    whole_file("invalid-utf8", "invalid UTF-8 at line " + std::to_string(p.line + 1) + ", byte " +
                                   std::to_string(p.character + 1) + "; recipes are UTF-8 text");
  } else {
    SourceFiles sources;
    DiagnosticList diags;
    auto loaded = frontend::load_recipe_text(doc.text.str(), doc.name, sources, diags);
    if (loaded) doc.checked = std::move(loaded->recipe);
    diags.sort_by_location();
    std::vector<const Diagnostic*> elsewhere;
    for (const auto& d : diags.all()) {
      if (d.where.file != doc.name) {
        elsewhere.push_back(&d);
        continue;
      }
      std::size_t b = 0, e = 0;
      if (d.where.line > 0) {
        // The token the CLI's caret spans; one character when only a point is known.
        b = doc.text.offset_of_column(d.where.line, d.where.column);
        const std::size_t line_end =
            doc.text.line_start(d.where.line - 1) + doc.text.line_text(d.where.line - 1).size();
        e = d.where.length > 0 ? std::min(doc.text.size(), b + d.where.length) : std::min(line_end, b + 1);
        // A range must not end inside a UTF-8 sequence.
        while (e < doc.text.size() && (static_cast<unsigned char>(doc.text.str()[e]) & 0xC0) == 0x80) ++e;
      }
      json item{{"range", range(doc.text, b, e)},
                {"severity", severity_of(d.severity)},
                {"source", "persona"},
                {"message", message_of(d)}};
      if (!d.code.empty()) item["code"] = d.code;
      json related = json::array();
      for (const auto& r : d.related) {
        const Text* t = nullptr;
        if (r.where.file == doc.name) {
          t = &doc.text;
        } else if (const FileView* f = file(r.where.file)) {
          t = &f->text;
        }
        if (t == nullptr || r.where.line == 0) continue;
        const std::size_t rb = t->offset_of_column(r.where.line, r.where.column);
        const std::size_t re = std::min(t->size(), rb + r.where.length);
        json loc = r.where.file == doc.name ? json{{"uri", doc.uri}, {"range", range(*t, rb, re)}}
                                            : location(r.where.file, *t, rb, re);
        related.push_back({{"location", std::move(loc)}, {"message", r.message}});
      }
      if (!related.empty()) item["relatedInformation"] = std::move(related);
      list.push_back(std::move(item));
    }
    // Problems inside imported files: at the import or extends that brings the file (the first one
    // when it comes through another file), with the CLI's text and a link to the place.
    doc.rescan();
    std::vector<const Symbol*> includes = doc.outline.all("import");
    for (const Symbol* s : doc.outline.all("extends")) includes.push_back(s);
    std::sort(includes.begin(), includes.end(), [](const Symbol* a, const Symbol* b) { return a->begin < b->begin; });
    for (const Diagnostic* d : elsewhere) {
      const Symbol* at = includes.empty() ? nullptr : includes.front();
      for (const Symbol* s : includes) {
        std::error_code ec;
        if (fs::equivalent(fs::path(doc.dir) / s->name, d->where.file, ec)) at = s;
      }
      json item{{"range", at != nullptr ? range(doc.text, at->value_begin, at->value_end) : range(doc.text, 0, 0)},
                {"severity", severity_of(d->severity)},
                {"source", "persona"},
                {"message", to_string(d->where) + ": " + message_of(*d)}};
      if (!d->code.empty()) item["code"] = d->code;
      if (const FileView* f = d->where.line > 0 ? file(d->where.file) : nullptr) {
        const std::size_t b = f->text.offset_of_column(d->where.line, d->where.column);
        item["relatedInformation"] = json::array(
            {{{"location", location(d->where.file, f->text, b, std::min(f->text.size(), b + d->where.length))},
              {"message", d->message}}});
      }
      list.push_back(std::move(item));
    }
  }
  json params{{"uri", doc.uri}, {"diagnostics", std::move(list)}};
  params["version"] = doc.version;
  return params;
}

// ---------------------------------------------------------------------------------------------
// The server

namespace {

// A request or notification that cannot be served: becomes an error response.
struct RpcError : std::runtime_error {
  int code;
  RpcError(int c, const std::string& m) : std::runtime_error(m), code(c) {}
};

json notification(std::string method, json params) {
  return json{{"jsonrpc", "2.0"}, {"method", std::move(method)}, {"params", std::move(params)}};
}

json response(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json error_response(const json& id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

const json& member(const json& obj, const char* key, json::value_t type, const char* what) {
  if (!obj.is_object() || !obj.contains(key) || obj.at(key).type() != type)
    throw RpcError(invalid_params, std::string("missing or mistyped '") + what + "'");
  return obj.at(key);
}

std::string string_member(const json& obj, const char* key, const char* what) {
  return member(obj, key, json::value_t::string, what).get<std::string>();
}

Position position_param(const json& params) {
  const json& p = member(params, "position", json::value_t::object, "position");
  auto number = [&](const char* k) -> std::uint32_t {
    if (!p.contains(k) || !p.at(k).is_number_integer() || p.at(k).get<std::int64_t>() < 0 ||
        p.at(k).get<std::int64_t>() > std::int64_t{1} << 31)
      throw RpcError(invalid_params, std::string("missing or mistyped 'position.") + k + "'");
    return static_cast<std::uint32_t>(p.at(k).get<std::int64_t>());
  };
  return Position{number("line"), number("character")};
}

}  // namespace

// Documents past ServerOptions::max_document_bytes are held but not analysed; past this, edits are refused.
constexpr std::size_t kMaxHeldDocument = 64u << 20;

struct Server::Impl {
  Workspace ws;
  bool initialized = false;
  bool shutdown = false;
  bool exited = false;

  Document& doc_of(const json& params) {
    const json& td = member(params, "textDocument", json::value_t::object, "textDocument");
    const std::string uri = string_member(td, "uri", "textDocument.uri");
    auto it = ws.docs.find(uri);
    if (it == ws.docs.end()) throw RpcError(invalid_params, "the document " + uri + " is not open");
    return it->second;
  }

  void set_text(Document& d, std::string text) {
    d.text = Text(std::move(text));
    d.too_large = d.text.size() > ws.max_document_bytes;
    ++d.generation;
  }

  json initialize(const json& params) {
    if (initialized) throw RpcError(invalid_request, "the server is already initialized");
    initialized = true;
    ws.enc = Encoding::utf16;
    if (params.is_object()) {
      const json* encs = nullptr;
      if (auto c = params.find("capabilities"); c != params.end() && c->is_object())
        if (auto g = c->find("general"); g != c->end() && g->is_object())
          if (auto e = g->find("positionEncodings"); e != g->end() && e->is_array()) encs = &*e;
      if (encs != nullptr)
        for (const auto& e : *encs)
          if (e.is_string() && e.get<std::string>() == "utf-8") ws.enc = Encoding::utf8;
    }
    json caps{
        {"positionEncoding", ws.enc == Encoding::utf8 ? "utf-8" : "utf-16"},
        {"textDocumentSync", {{"openClose", true}, {"change", 2}, {"save", {{"includeText", false}}}}},
        {"completionProvider", {{"triggerCharacters", {"\"", "/", "."}}, {"resolveProvider", false}}},
        {"hoverProvider", true},
        {"definitionProvider", true},
        {"documentFormattingProvider", true},
        {"documentSymbolProvider", true},
    };
    return json{{"capabilities", std::move(caps)}, {"serverInfo", {{"name", "persona"}, {"version", PERSONA_VERSION}}}};
  }

  void did_open(const json& params, std::vector<json>& out) {
    const json& td = member(params, "textDocument", json::value_t::object, "textDocument");
    const std::string uri = string_member(td, "uri", "textDocument.uri");
    Document d;
    d.uri = uri;
    if (auto path = uri_to_path(uri)) {
      d.name = fs::path(*path).lexically_normal().string();
      d.dir = fs::path(d.name).parent_path().string();
    } else {
      d.name = uri;
    }
    if (auto v = td.find("version"); v != td.end() && v->is_number_integer()) d.version = v->get<std::int64_t>();
    set_text(d, string_member(td, "text", "textDocument.text"));
    auto [it, fresh] = ws.docs.insert_or_assign(uri, std::move(d));
    (void)fresh;
    out.push_back(notification("textDocument/publishDiagnostics", ws.diagnostics(it->second)));
  }

  void did_change(const json& params, std::vector<json>& out) {
    Document& d = doc_of(params);
    const json& changes = member(params, "contentChanges", json::value_t::array, "contentChanges");
    const json& td = params.at("textDocument");
    if (auto v = td.find("version"); v != td.end() && v->is_number_integer()) d.version = v->get<std::int64_t>();
    for (const auto& c : changes) {
      const std::string text = string_member(c, "text", "contentChanges[].text");
      if (!c.contains("range")) {
        set_text(d, text);
        continue;
      }
      const json& r = member(c, "range", json::value_t::object, "contentChanges[].range");
      const Position a = position_param(json{{"position", r.value("start", json())}});
      const Position b = position_param(json{{"position", r.value("end", json())}});
      std::size_t ob = d.text.offset(a, ws.enc), oe = d.text.offset(b, ws.enc);
      if (oe < ob) std::swap(ob, oe);
      if (d.text.size() - (oe - ob) + text.size() > kMaxHeldDocument)
        throw RpcError(invalid_params, "the change would make the document larger than " +
                                           std::to_string(kMaxHeldDocument >> 20) + " MiB; it was not applied");
      std::string next = d.text.str();
      next.replace(ob, oe - ob, text);
      set_text(d, std::move(next));
    }
    out.push_back(notification("textDocument/publishDiagnostics", ws.diagnostics(d)));
  }

  void did_close(const json& params, std::vector<json>& out) {
    const json& td = member(params, "textDocument", json::value_t::object, "textDocument");
    const std::string uri = string_member(td, "uri", "textDocument.uri");
    if (ws.docs.erase(uri) == 0) throw RpcError(invalid_params, "the document " + uri + " is not open");
    out.push_back(notification("textDocument/publishDiagnostics", {{"uri", uri}, {"diagnostics", json::array()}}));
  }

  // A saved file may be imported by other open documents: check them all again.
  void did_save(std::vector<json>& out) {
    for (auto& [uri, d] : ws.docs) out.push_back(notification("textDocument/publishDiagnostics", ws.diagnostics(d)));
  }

  json request(const std::string& method, const json& params, std::vector<json>& out) {
    if (method == "initialize") return initialize(params);
    if (!initialized) throw RpcError(server_not_initialized, "the server is not initialized yet");
    if (shutdown) throw RpcError(invalid_request, "the server is shutting down");
    if (method == "shutdown") {
      shutdown = true;
      return nullptr;
    }
    if (method == "textDocument/completion") return complete(ws, doc_of(params), position_param(params));
    if (method == "textDocument/hover") return hover(ws, doc_of(params), position_param(params));
    if (method == "textDocument/definition") return definition(ws, doc_of(params), position_param(params));
    if (method == "textDocument/documentSymbol") return symbols(ws, doc_of(params));
    if (method == "textDocument/formatting") {
      std::string why;
      json edits = format(ws, doc_of(params), why);
      if (!why.empty()) out.push_back(log_message(2, why));
      return edits;
    }
    throw RpcError(method_not_found, "unknown method '" + method + "'");
  }

  void notify(const std::string& method, const json& params, std::vector<json>& out) {
    if (method == "exit") {
      exited = true;
      return;
    }
    if (!initialized || shutdown) return;  // dropped, as the protocol says
    if (method == "initialized" || method.starts_with("$/")) return;
    if (method == "textDocument/didOpen") return did_open(params, out);
    if (method == "textDocument/didChange") return did_change(params, out);
    if (method == "textDocument/didClose") return did_close(params, out);
    if (method == "textDocument/didSave") return did_save(out);
    if (method == "workspace/didChangeConfiguration" || method == "workspace/didChangeWatchedFiles") return;
    out.push_back(log_message(4, "persona lsp: ignored the notification '" + method + "'"));
  }

  void dispatch(const json& m, std::vector<json>& out) {
    if (!m.is_object()) {
      out.push_back(error_response(nullptr, invalid_request, "a message must be a JSON object"));
      return;
    }
    const auto method = m.find("method");
    const auto id = m.find("id");
    if (method == m.end()) {
      if (id != m.end() && (m.contains("result") || m.contains("error"))) return;  // a response: we send no requests
      out.push_back(error_response(id != m.end() ? *id : json(nullptr), invalid_request, "a message without 'method'"));
      return;
    }
    const bool is_request = id != m.end();
    if (is_request && !id->is_number_integer() && !id->is_string()) {
      out.push_back(error_response(nullptr, invalid_request, "a request id must be a number or a string"));
      return;
    }
    if (!method->is_string()) {
      if (is_request)
        out.push_back(error_response(*id, invalid_request, "'method' must be a string"));
      else
        out.push_back(log_message(2, "persona lsp: a notification whose 'method' is not a string was ignored"));
      return;
    }
    const std::string name = method->get<std::string>();
    const json params = m.contains("params") ? m.at("params") : json::object();
    try {
      if (is_request) {
        json result = request(name, params, out);
        out.push_back(response(*id, std::move(result)));
      } else {
        notify(name, params, out);
      }
    } catch (const RpcError& e) {
      if (is_request)
        out.push_back(error_response(*id, e.code, e.what()));
      else
        out.push_back(log_message(2, "persona lsp: " + name + ": " + e.what()));
    } catch (const std::exception& e) {
      if (is_request)
        out.push_back(error_response(*id, internal_error, std::string("internal error: ") + e.what()));
      else
        out.push_back(log_message(1, "persona lsp: " + name + ": internal error: " + e.what()));
    }
  }
};

Server::Server(ServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->ws.max_document_bytes = opts.max_document_bytes;
}
Server::~Server() = default;

std::vector<json> Server::handle(const json& message) {
  std::vector<json> out;
  try {
    impl_->dispatch(message, out);
  } catch (const std::exception& e) {  // e.g. allocation failure: report, keep serving
    out.push_back(log_message(1, std::string("persona lsp: internal error: ") + e.what()));
  }
  return out;
}

std::vector<json> Server::handle_text(std::string_view body) {
  json m = json::parse(body, nullptr, false);
  if (m.is_discarded())
    return {error_response(nullptr, parse_error, "the message is not valid JSON (or not valid UTF-8)")};
  return handle(m);
}

bool Server::exited() const { return impl_->exited; }
int Server::exit_code() const { return impl_->shutdown ? 0 : 1; }

json Server::log_message(int type, std::string text) {
  return notification("window/logMessage", {{"type", type}, {"message", std::move(text)}});
}

int serve(std::istream& in, std::ostream& out, Server& server) {
  FrameReader reader(in);
  while (true) {
    Frame f = reader.next();
    if (f.kind == Frame::Kind::end) return server.exit_code();  // 0 only after shutdown
    if (!f.warning.empty()) write_message(out, Server::log_message(2, "persona lsp: " + f.warning));
    if (f.kind != Frame::Kind::message) continue;
    for (const auto& m : server.handle_text(f.body)) write_message(out, m);
    if (server.exited()) return server.exit_code();
  }
}

}  // namespace persona::lsp
