// The long CSV form of persona records (personas.csv + attributes.csv) and the any-format reader.
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "base/files.hpp"
#include "base/text.hpp"
#include "record/record.hpp"

namespace persona::record {

namespace {

using json = nlohmann::ordered_json;

void put_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

json value_json(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      return nullptr;
    case Value::Kind::number:
      return v.number;
    case Value::Kind::string:
      return v.text;
    case Value::Kind::list:
      return v.items;
    case Value::Kind::object: {
      json o = json::object();
      for (const auto& [k, f] : v.fields) o[k] = value_json(f);
      return o;
    }
  }
  return nullptr;
}

// A cell: numbers unquoted, strings quoted, null empty.
void put_cell(std::string& out, const Value& v, bool as_json) {
  if (v.kind == Value::Kind::null) return;
  if (as_json) {
    // Objects keep their field order: write them by hand through ordered members.
    std::string text;
    if (v.kind == Value::Kind::object) {
      text = "{";
      for (std::size_t i = 0; i < v.fields.size(); ++i) {
        if (i > 0) text += ',';
        text += json(v.fields[i].first).dump(-1, ' ', false, json::error_handler_t::replace);
        text += ':';
        text += value_json(v.fields[i].second).dump(-1, ' ', false, json::error_handler_t::replace);
      }
      text += '}';
    } else {
      text = value_json(v).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    append_csv_string(out, text);
    return;
  }
  if (v.kind == Value::Kind::number) {
    text::append_number(out, v.number);
    return;
  }
  append_csv_string(out, v.to_text());
}

}  // namespace

void append_csv_string(std::string& out, std::string_view s) {
  // Valid UTF-8 only (invalid sequences become U+FFFD), as in JSONL.
  std::string clean;
  if (!text::utf8_valid(s)) {
    clean = text::utf8_sanitize(s);
    s = clean;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string csv_personas_header(const CsvColumns& c) {
  std::vector<std::string> names = {"id", "seed"};
  if (c.weight) names.emplace_back("weight");
  for (const auto& a : c.anchors) names.push_back("anchor." + a);
  for (const auto& [name, js] : c.core) names.push_back("core." + name + (js ? ".json" : ""));
  if (c.narrative) names.emplace_back("narrative");
  if (c.usage)
    for (const char* u : {"calls", "prompt_tokens", "completion_tokens", "cached_tokens"}) names.emplace_back(u);
  names.emplace_back("attribute_count");
  names.emplace_back("problems");
  // Header names are strings, quoted like every string cell (csv.QUOTE_NONNUMERIC reads them as text).
  std::string h;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) h += ',';
    append_csv_string(h, names[i]);
  }
  return h + '\n';
}

std::string csv_attributes_header() { return "\"id\",\"path\",\"value\",\"tier\",\"source\",\"status\"\n"; }

void write_csv_long(const PersonaRecord& r, const CsvColumns& c, std::string& personas, std::string& attributes) {
  append_csv_string(personas, r.id);
  personas += ',';
  put_u64(personas, r.seed);
  if (c.weight) {
    personas += ',';
    if (r.weight) text::append_number(personas, *r.weight);
  }
  for (const auto& a : c.anchors) {
    personas += ',';
    if (const Value* v = r.anchor(a)) put_cell(personas, *v, false);
  }
  for (const auto& [name, js] : c.core) {
    personas += ',';
    if (const Value* v = r.core_value(name)) put_cell(personas, *v, js);
  }
  if (c.narrative) {
    personas += ',';
    append_csv_string(personas, r.narrative);
  }
  if (c.usage)
    for (std::uint64_t u : {r.usage.calls, r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.cached_tokens}) {
      personas += ',';
      put_u64(personas, u);
    }
  personas += ',';
  put_u64(personas, r.attributes.size());
  personas += ',';
  if (!r.problems.empty())
    append_csv_string(personas, json(r.problems).dump(-1, ' ', false, json::error_handler_t::replace));
  personas += '\n';
  for (const Attribute& a : r.attributes) {
    append_csv_string(attributes, r.id);
    attributes += ',';
    append_csv_string(attributes, a.path);
    attributes += ',';
    if (a.value) append_csv_string(attributes, *a.value);
    attributes += ',';
    append_csv_string(attributes, a.tier);
    attributes += ',';
    append_csv_string(attributes, a.source);
    attributes += ',';
    append_csv_string(attributes, a.status);
    attributes += '\n';
  }
}

// ---------------------------------------------------------------------------------------------
// Wide form

std::string csv_wide_header(const CsvColumns& c) {
  std::vector<std::string> names = {"id", "seed"};
  if (c.weight) names.emplace_back("weight");
  for (const auto& a : c.anchors) names.push_back("anchor." + a);
  for (const auto& [name, js] : c.core) names.push_back("core." + name + (js ? ".json" : ""));
  for (const auto& p : c.panel) names.push_back(p);
  std::string h;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) h += ',';
    append_csv_string(h, names[i]);
  }
  return h + '\n';
}

void write_csv_wide(const PersonaRecord& r, const CsvColumns& c, std::string& out) {
  append_csv_string(out, r.id);
  out += ',';
  put_u64(out, r.seed);
  if (c.weight) {
    out += ',';
    if (r.weight) text::append_number(out, *r.weight);
  }
  for (const auto& a : c.anchors) {
    out += ',';
    if (const Value* v = r.anchor(a)) put_cell(out, *v, false);
  }
  for (const auto& [name, js] : c.core) {
    out += ',';
    if (const Value* v = r.core_value(name)) put_cell(out, *v, js);
  }
  // Both lists are in taxonomy order: one merge pass.
  std::size_t k = 0;
  for (const auto& path : c.panel) {
    out += ',';
    std::size_t j = k;
    while (j < r.attributes.size() && r.attributes[j].path != path) ++j;
    if (j == r.attributes.size()) {  // out of order (a record read back): search it all
      j = 0;
      while (j < r.attributes.size() && r.attributes[j].path != path) ++j;
    }
    if (j < r.attributes.size()) {
      k = j + 1;
      const Attribute& a = r.attributes[j];
      if (a.status == "filled" && a.value) append_csv_string(out, *a.value);
    }
  }
  out += '\n';
}

// ---------------------------------------------------------------------------------------------
// Reading

namespace {

struct Field {
  std::string text;
  bool quoted = false;
};

// Reads one CSV record (fields may hold quoted newlines). Returns the number of bytes consumed,
// 0 at end of input; `complete` is false when the input ended before the record's newline.
std::size_t read_record(std::FILE* f, std::vector<Field>& out, bool& complete, std::string& error) {
  out.clear();
  complete = false;
  std::size_t bytes = 0;
  int c = getc_unlocked(f);
  if (c == EOF) return 0;
  out.emplace_back();
  bool in_quotes = false, after_quote = false;
  for (; c != EOF; c = getc_unlocked(f)) {
    ++bytes;
    Field& cur = out.back();
    if (in_quotes) {
      if (c == '"') {
        const int d = getc_unlocked(f);
        if (d == '"') {
          ++bytes;
          cur.text += '"';
        } else {
          in_quotes = false;
          after_quote = true;
          if (d != EOF) ungetc(d, f);
        }
      } else {
        cur.text += static_cast<char>(c);
      }
      continue;
    }
    if (c == ',') {
      out.emplace_back();
      after_quote = false;
    } else if (c == '\n') {
      complete = true;
      break;
    } else if (c == '\r') {
      // CRLF: the '\n' follows.
    } else if (c == '"' && cur.text.empty() && !cur.quoted) {
      cur.quoted = true;
      in_quotes = true;
    } else {
      if (after_quote && error.empty()) error = "text after a closing quote";
      cur.text += static_cast<char>(c);
    }
  }
  return bytes;
}

bool parse_u64(const std::string& s, std::uint64_t& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_double(const std::string& s, double& v) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool cell_value(const Field& f, bool as_json, Value& v, std::string& error) {
  v = Value{};
  if (!f.quoted && f.text.empty()) return true;
  if (as_json) {
    const json j = json::parse(f.text, nullptr, false);
    if (j.is_discarded()) {
      error = "a .json column holds text that is not JSON";
      return false;
    }
    if (j.is_array()) {
      v.kind = Value::Kind::list;
      for (const auto& x : j) v.items.push_back(x.is_string() ? x.get<std::string>() : x.dump());
    } else if (j.is_object()) {
      v.kind = Value::Kind::object;
      for (const auto& [k, x] : j.items()) {
        Value fv;
        if (x.is_number())
          fv = Value::of(x.get<double>());
        else if (x.is_string())
          fv = Value::of(x.get<std::string>());
        else if (x.is_array()) {
          fv.kind = Value::Kind::list;
          for (const auto& y : x) fv.items.push_back(y.is_string() ? y.get<std::string>() : y.dump());
        }
        v.fields.emplace_back(k, std::move(fv));
      }
    } else if (j.is_string()) {
      v = Value::of(j.get<std::string>());
    } else if (j.is_number()) {
      v = Value::of(j.get<double>());
    }
    return true;
  }
  if (f.quoted) {
    v = Value::of(f.text);
    return true;
  }
  double d = 0;
  if (!parse_double(f.text, d)) {
    error = "unquoted cell '" + std::string(text::utf8_prefix(f.text, 40)) + "' is not a number";
    return false;
  }
  v = Value::of(d);
  return true;
}

}  // namespace

struct CsvLongReader::Impl {
  std::FILE* pf = nullptr;
  std::FILE* af = nullptr;
  std::string pname, aname;
  std::vector<std::string> header;
  std::uint64_t pline = 0, aline = 0;
  std::uint64_t poff = 0, aoff = 0, pgood = 0, agood = 0;
  std::vector<Field> row;
  std::vector<Field> pending;  // an attribute row read ahead
  bool have_pending = false;
  std::size_t pending_bytes = 0;
  ~Impl() {
    if (pf != nullptr) std::fclose(pf);
    if (af != nullptr) std::fclose(af);
  }
};

CsvLongReader::CsvLongReader() : impl_(std::make_unique<Impl>()) {}
CsvLongReader::~CsvLongReader() = default;
std::uint64_t CsvLongReader::line() const { return impl_->pline; }
std::uint64_t CsvLongReader::personas_offset() const { return impl_->pgood; }
std::uint64_t CsvLongReader::attributes_offset() const { return impl_->agood; }

bool CsvLongReader::open(const std::string& personas_csv, const std::string& attributes_csv) {
  Impl& m = *impl_;
  m.pname = personas_csv;
  m.aname = attributes_csv;
  m.pf = files::open_stream(personas_csv, error_);
  if (m.pf == nullptr) return false;
  m.af = files::open_stream(attributes_csv, error_);
  if (m.af == nullptr) {
    error_ += " (it belongs to " + personas_csv + ")";
    return false;
  }
  bool complete = false;
  std::string err;
  const std::size_t pb = read_record(m.pf, m.row, complete, err);
  if (pb == 0 || !complete || m.row.empty() || m.row[0].text != "id") {
    error_ = personas_csv + ":1: not a personas.csv (the header must start with 'id')";
    return false;
  }
  for (const auto& f : m.row) m.header.push_back(f.text);
  m.pline = 1;
  m.poff = m.pgood = pb;
  const std::size_t ab = read_record(m.af, m.row, complete, err);
  if (ab == 0 || !complete || m.row.size() != 6 || m.row[0].text != "id" || m.row[1].text != "path") {
    error_ = attributes_csv + ":1: not an attributes.csv (header id,path,value,tier,source,status)";
    return false;
  }
  m.aline = 1;
  m.aoff = m.agood = ab;
  return true;
}

namespace {

// The next data row of a persona CSV (`name`, positioned at `line`, `off` bytes in) into `row`:
// nullopt when it is whole and has the header's width, else the status to return, with `error`
// naming the file and line.
std::optional<ReadStatus> next_row(std::FILE* f, std::vector<Field>& row, const std::string& name, std::uint64_t& line,
                                   std::uint64_t& off, std::size_t width, std::string& error) {
  bool complete = false;
  std::string err;
  const std::size_t b = read_record(f, row, complete, err);
  if (b == 0) return ReadStatus::end;
  ++line;
  off += b;
  if (!complete) {
    error = name + ":" + std::to_string(line) + ": incomplete last row (a torn write)";
    return ReadStatus::torn;
  }
  if (err.empty() && row.size() != width)
    err = std::to_string(row.size()) + " cells where the header has " + std::to_string(width);
  if (!err.empty()) {
    error = name + ":" + std::to_string(line) + ": " + err;
    return ReadStatus::bad;
  }
  return std::nullopt;
}

}  // namespace

ReadStatus CsvLongReader::next(PersonaRecord& r) {
  Impl& m = *impl_;
  if (m.pf == nullptr) return ReadStatus::io;
  r.clear();
  if (auto st = next_row(m.pf, m.row, m.pname, m.pline, m.poff, m.header.size(), error_)) return *st;
  auto bad = [&](const std::string& why) {
    error_ = m.pname + ":" + std::to_string(m.pline) + ": " + why;
    return ReadStatus::bad;
  };
  std::uint64_t count = 0;
  r.has_narrative = r.has_usage = false;
  for (std::size_t i = 0; i < m.header.size(); ++i) {
    const std::string& h = m.header[i];
    const Field& f = m.row[i];
    std::string why;
    if (h == "id") {
      r.id = f.text;
    } else if (h == "seed") {
      if (!parse_u64(f.text, r.seed)) return bad("seed '" + f.text + "' is not an unsigned integer");
    } else if (h == "weight") {
      double w = 0;
      if (!f.text.empty()) {
        if (!parse_double(f.text, w)) return bad("weight is not a number");
        r.weight = w;
      }
    } else if (h.rfind("anchor.", 0) == 0) {
      Value v;
      if (!cell_value(f, false, v, why)) return bad(h + ": " + why);
      r.anchors.emplace_back(h.substr(7), std::move(v));
    } else if (h.rfind("core.", 0) == 0) {
      const bool js = h.size() > 10 && h.compare(h.size() - 5, 5, ".json") == 0;
      Value v;
      if (!cell_value(f, js, v, why)) return bad(h + ": " + why);
      r.core.emplace_back(h.substr(5, h.size() - 5 - (js ? 5 : 0)), std::move(v));
    } else if (h == "narrative") {
      r.narrative = f.text;
      r.has_narrative = true;
    } else if (h == "calls" || h == "prompt_tokens" || h == "completion_tokens" || h == "cached_tokens" ||
               h == "attribute_count") {
      std::uint64_t v = 0;
      if (!parse_u64(f.text, v)) return bad(h + " '" + f.text + "' is not an unsigned integer");
      if (h != "attribute_count") r.has_usage = true;
      if (h == "calls")
        r.usage.calls = v;
      else if (h == "prompt_tokens")
        r.usage.prompt_tokens = v;
      else if (h == "completion_tokens")
        r.usage.completion_tokens = v;
      else if (h == "cached_tokens")
        r.usage.cached_tokens = v;
      else
        count = v;
    } else if (h == "problems") {
      if (!f.text.empty()) {
        const json j = json::parse(f.text, nullptr, false);
        if (!j.is_array()) return bad("problems is not a JSON array");
        for (const auto& x : j) r.problems.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      }
    } else {
      r.extra.emplace_back(h, f.quoted ? json(f.text).dump() : (f.text.empty() ? "null" : f.text));
    }
  }
  // The persona's attribute rows.
  bool complete = false;
  std::string err;
  for (std::uint64_t k = 0; k < count; ++k) {
    const std::size_t ab = read_record(m.af, m.row, complete, err);
    if (ab == 0 || !complete) {
      error_ = m.aname + ": the attribute rows of " + r.id + " are incomplete (a torn write)";
      return ReadStatus::torn;
    }
    ++m.aline;
    m.aoff += ab;
    if (m.row.size() != 6 || m.row[0].text != r.id) {
      error_ = m.aname + ":" + std::to_string(m.aline) + ": expected attribute " + std::to_string(k + 1) + " of " +
               std::to_string(count) + " of " + r.id;
      return ReadStatus::bad;
    }
    Attribute a;
    a.path = m.row[1].text;
    if (m.row[2].quoted || !m.row[2].text.empty()) a.value = m.row[2].text;
    a.tier = m.row[3].text;
    a.source = m.row[4].text;
    a.status = m.row[5].text;
    r.attributes.push_back(std::move(a));
  }
  m.pgood = m.poff;
  m.agood = m.aoff;
  return ReadStatus::ok;
}

struct CsvWideReader::Impl {
  std::FILE* f = nullptr;
  std::string name;
  std::vector<std::string> header;
  std::uint64_t line = 0, off = 0, good = 0;
  std::vector<Field> row;
  ~Impl() {
    if (f != nullptr) std::fclose(f);
  }
};

CsvWideReader::CsvWideReader() : impl_(std::make_unique<Impl>()) {}
CsvWideReader::~CsvWideReader() = default;
std::uint64_t CsvWideReader::line() const { return impl_->line; }
std::uint64_t CsvWideReader::good_offset() const { return impl_->good; }

bool CsvWideReader::open(const std::string& path) {
  Impl& m = *impl_;
  m.name = path;
  m.f = files::open_stream(path, error_);
  if (m.f == nullptr) return false;
  bool complete = false;
  std::string err;
  const std::size_t b = read_record(m.f, m.row, complete, err);
  if (b == 0 || !complete || m.row.size() < 2 || m.row[0].text != "id" || m.row[1].text != "seed") {
    error_ = path + ":1: not a wide persona CSV (the header must start with 'id', 'seed')";
    return false;
  }
  for (const auto& f : m.row) m.header.push_back(f.text);
  m.line = 1;
  m.off = m.good = b;
  return true;
}

ReadStatus CsvWideReader::next(PersonaRecord& r) {
  Impl& m = *impl_;
  if (m.f == nullptr) return ReadStatus::io;
  r.clear();
  if (auto st = next_row(m.f, m.row, m.name, m.line, m.off, m.header.size(), error_)) return *st;
  auto bad = [&](const std::string& why) {
    error_ = m.name + ":" + std::to_string(m.line) + ": " + why;
    return ReadStatus::bad;
  };
  r.has_narrative = r.has_usage = false;
  for (std::size_t i = 0; i < m.header.size(); ++i) {
    const std::string& h = m.header[i];
    const Field& f = m.row[i];
    std::string why;
    if (h == "id") {
      r.id = f.text;
    } else if (h == "seed") {
      if (!parse_u64(f.text, r.seed)) return bad("seed '" + f.text + "' is not an unsigned integer");
    } else if (h == "weight") {
      double w = 0;
      if (!f.text.empty()) {
        if (!parse_double(f.text, w)) return bad("weight is not a number");
        r.weight = w;
      }
    } else if (h.rfind("anchor.", 0) == 0) {
      Value v;
      if (!cell_value(f, false, v, why)) return bad(h + ": " + why);
      r.anchors.emplace_back(h.substr(7), std::move(v));
    } else if (h.rfind("core.", 0) == 0) {
      const bool js = h.size() > 10 && h.compare(h.size() - 5, 5, ".json") == 0;
      Value v;
      if (!cell_value(f, js, v, why)) return bad(h + ": " + why);
      r.core.emplace_back(h.substr(5, h.size() - 5 - (js ? 5 : 0)), std::move(v));
    } else {
      Attribute a;
      a.path = h;
      a.tier = "panel";
      a.source = "";
      if (f.quoted || !f.text.empty()) {
        a.value = f.text;
        a.status = "filled";
      } else {
        a.status = "not_filled";
      }
      r.attributes.push_back(std::move(a));
    }
  }
  m.good = m.off;
  return ReadStatus::ok;
}

// ---------------------------------------------------------------------------------------------
// Formats

std::optional<Format> parse_format(std::string_view s) {
  if (s == "jsonl") return Format::jsonl;
  if (s == "csv") return Format::csv;
  if (s == "csv-wide") return Format::csv_wide;
  return std::nullopt;
}

std::string_view to_string(Format f) { return f == Format::csv ? "csv" : f == Format::csv_wide ? "csv-wide" : "jsonl"; }

std::vector<std::string> output_files(Format f, const std::string& path) {
  if (f == Format::jsonl || f == Format::csv_wide) return {path};
  std::string base = path;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".csv") == 0) base.resize(base.size() - 4);
  return {base + ".personas.csv", base + ".attributes.csv"};
}

Reader::Reader() = default;
Reader::~Reader() = default;

bool Reader::open(const std::string& path) {
  const bool csv = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (!csv) {
    format_ = Format::jsonl;
    jsonl_ = std::make_unique<JsonlReader>();
    if (!jsonl_->open(path)) {
      error_ = jsonl_->error();
      return false;
    }
    return true;
  }
  // A .csv that exists and is not one of a pair (x.personas.csv, x.attributes.csv): a wide file.
  auto ends_with = [&](std::string_view sfx) {
    return path.size() > sfx.size() && path.compare(path.size() - sfx.size(), sfx.size(), sfx) == 0;
  };
  std::error_code ec;
  if (!ends_with(".personas.csv") && !ends_with(".attributes.csv") && std::filesystem::exists(path, ec)) {
    format_ = Format::csv_wide;
    wide_ = std::make_unique<CsvWideReader>();
    if (!wide_->open(path)) {
      error_ = wide_->error();
      return false;
    }
    return true;
  }
  format_ = Format::csv;
  std::string personas = path, attributes;
  const std::string suffix = ".attributes.csv";
  if (path.size() > suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
    personas = path.substr(0, path.size() - suffix.size()) + ".personas.csv";
  const std::string psuffix = ".personas.csv";
  if (personas.size() > psuffix.size() &&
      personas.compare(personas.size() - psuffix.size(), psuffix.size(), psuffix) == 0)
    attributes = personas.substr(0, personas.size() - psuffix.size()) + ".attributes.csv";
  else
    attributes = output_files(Format::csv, path)[1];
  csv_ = std::make_unique<CsvLongReader>();
  if (!csv_->open(personas, attributes)) {
    error_ = csv_->error();
    return false;
  }
  return true;
}

ReadStatus Reader::next(PersonaRecord& r) {
  if (jsonl_) return jsonl_->next(r);
  if (csv_) return csv_->next(r);
  if (wide_) return wide_->next(r);
  return ReadStatus::io;
}

std::uint64_t Reader::line() const { return jsonl_ ? jsonl_->line() : csv_ ? csv_->line() : wide_ ? wide_->line() : 0; }
const std::string& Reader::error() const {
  return jsonl_ ? jsonl_->error() : csv_ ? csv_->error() : wide_ ? wide_->error() : error_;
}

}  // namespace persona::record
