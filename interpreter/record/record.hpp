// The typed persona record: what every sink writes and every reader returns. One persona of the
// output contract (docs/output.md): id, seed, anchors, core, attributes, narrative, usage, problems.
//
//   record::PersonaRecord r;                       // reusable: clear() keeps the buffers
//   std::string line; record::write_jsonl(r, line); // one JSONL line, '\n' included
//   record::JsonlReader in;  in.open("out.jsonl");
//   while (auto st = in.next(r); st == record::ReadStatus::ok) use(r);
//
// Resume, run totals, `persona eval`, `persona survey` and `check-personas` all work on records, so
// every format the product writes is read back the same way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace persona::record {

// A value of an anchor or a core field: null, a number, a string, a list of strings, or an object of
// named values (story steps declared as objects).
struct Value {
  enum class Kind : std::uint8_t { null, number, string, list, object };
  Kind kind = Kind::null;
  double number = 0;
  std::string text;
  std::vector<std::string> items;
  std::vector<std::pair<std::string, Value>> fields;

  static Value of(double d) {
    Value v;
    v.kind = Kind::number;
    v.number = d;
    return v;
  }
  static Value of(std::string s) {
    Value v;
    v.kind = Kind::string;
    v.text = std::move(s);
    return v;
  }
  [[nodiscard]] bool is_null() const { return kind == Kind::null; }
  // The value as one line of text: numbers formatted, lists joined by "; ", objects as "k=v; ...".
  [[nodiscard]] std::string to_text() const;
  bool operator==(const Value& o) const;
};

struct Attribute {
  std::string path;                  // taxonomy path, names joined by "/"
  std::optional<std::string> value;  // null unless status is "filled"
  std::string tier;                  // near | mid | far
  std::string source;                // options | lexicon | llm | table
  std::string status;                // filled | not_applicable | pending | llm: ... | ...
  bool operator==(const Attribute& o) const = default;
};

struct Usage {
  std::uint64_t calls = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;
  bool operator==(const Usage& o) const = default;
};

struct PersonaRecord {
  std::string id;
  std::uint64_t seed = 0;
  std::optional<double> weight;                        // calibration weight (written only when set)
  std::vector<std::pair<std::string, Value>> anchors;  // recipe order, then derived facts
  std::vector<std::pair<std::string, Value>> core;     // story outputs (null: the step did not run)
  std::vector<Attribute> attributes;                   // taxonomy order
  std::string narrative;
  Usage usage;
  std::vector<std::string> problems;  // written only when non-empty
  // `output { core off }` etc.: the key is left out of the line (and out of the CSV columns).
  bool has_core = true, has_narrative = true, has_usage = true;
  // Top-level keys this version does not know, kept verbatim (JSON text) so a round trip loses nothing.
  std::vector<std::pair<std::string, std::string>> extra;

  // Empties the record, keeping the capacity of its vectors.
  void clear();
  [[nodiscard]] const Value* anchor(std::string_view name) const;
  [[nodiscard]] const Value* core_value(std::string_view name) const;
  bool operator==(const PersonaRecord& o) const;
};

// ---- JSONL (the output contract) ----

// Appends one JSON object and '\n'. Key order: id, seed, weight?, anchors, core, attributes,
// narrative, usage, problems?, then extra keys.
void write_jsonl(const PersonaRecord& r, std::string& out);

// Parses one JSONL line (without its '\n') into `r`. On failure returns false and sets `error`
// ("not JSON: ...", "not a persona: 'attributes' is missing", ...).
bool parse_jsonl(std::string_view line, PersonaRecord& r, std::string& error);

enum class ReadStatus {
  ok,    // a record was read
  end,   // no more input
  torn,  // the last line has no '\n' (a killed writer): not a record; `torn_offset` says where it starts
  bad,   // a line that is not a persona record; error() says why, line() where; reading may continue
  io     // the file cannot be read
};

// Streams a JSONL persona file in bounded memory (one line at a time).
class JsonlReader {
 public:
  JsonlReader();
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;

  // "-" reads standard input. False (and error()) when the file cannot be opened.
  bool open(const std::string& path);
  ReadStatus next(PersonaRecord& r);
  // 1-based line number of the last line returned or rejected.
  [[nodiscard]] std::uint64_t line() const { return line_; }
  // Byte offset just after the last complete line read (a resume truncates a `.part` there).
  [[nodiscard]] std::uint64_t good_offset() const { return good_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Lines longer than this are rejected as `bad` without being held in memory (default 64 MiB).
  void set_max_line(std::size_t bytes) { max_line_ = bytes; }

 private:
  std::FILE* f_ = nullptr;
  bool owned_ = false;
  std::string buf_;
  std::uint64_t line_ = 0, offset_ = 0, good_ = 0;
  std::size_t max_line_ = 64u << 20;
  std::string error_;
};

// ---- CSV, long form: `<base>.personas.csv` and `<base>.attributes.csv` ----
//
// personas.csv: id, seed, [weight], one column per anchor ("anchor.NAME"), one per story output
// ("core.NAME"; "core.NAME.json" for lists and objects, whose cells hold JSON), narrative, calls,
// prompt_tokens, completion_tokens, cached_tokens, attribute_count, problems (JSON array).
// attributes.csv: id, path, value, tier, source, status.
// Strings are always quoted and numbers never are, so a reader tells "29" (number) from "\"29\""
// (text) exactly (Python: csv.QUOTE_NONNUMERIC); an empty unquoted cell is null.

struct CsvColumns {
  bool weight = false;
  std::vector<std::string> anchors;
  std::vector<std::pair<std::string, bool>> core;  // name, holds JSON (list or object)
  bool narrative = true, usage = true;             // `output { narrative off }` / `usage off` drop them
  std::vector<std::string> panel;                  // the panel's taxonomy paths in taxonomy order (csv-wide)
};
std::string csv_personas_header(const CsvColumns& c);
std::string csv_attributes_header();
// Appends the persona's row to `personas` and its attribute rows to `attributes`.
void write_csv_long(const PersonaRecord& r, const CsvColumns& c, std::string& personas, std::string& attributes);

// One CSV field with RFC 4180 quoting ("" for a quote); numbers unquoted.
void append_csv_string(std::string& out, std::string_view s);

// ---- CSV, wide form (`--format csv-wide`): one file, one row per persona ----
//
// id, seed, [weight], one column per anchor ("anchor.NAME"), one per story output ("core.NAME";
// "core.NAME.json" for lists and objects, as in personas.csv), then one column per panel attribute
// (`always` in the recipe) headed by its taxonomy path, in taxonomy order: the value when filled, an
// empty cell when not (not applicable to the persona, or the fill failed). Attributes outside the
// panel are not in the file. Quoting as in the long form (strings quoted, numbers not, null empty).
std::string csv_wide_header(const CsvColumns& c);
void write_csv_wide(const PersonaRecord& r, const CsvColumns& c, std::string& out);

// Reads a wide file back: anchors, core and the panel attributes (tier "panel", status "filled" or,
// for an empty cell, "not_filled": the wide file keeps values, not statuses).
class CsvWideReader {
 public:
  CsvWideReader();
  ~CsvWideReader();
  CsvWideReader(const CsvWideReader&) = delete;
  CsvWideReader& operator=(const CsvWideReader&) = delete;
  bool open(const std::string& path);
  ReadStatus next(PersonaRecord& r);
  [[nodiscard]] std::uint64_t line() const;
  // Byte offset just past the last complete row (the header, before any row).
  [[nodiscard]] std::uint64_t good_offset() const;
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// Reads the pair back, one persona at a time (attributes.csv is streamed in step).
class CsvLongReader {
 public:
  CsvLongReader();
  ~CsvLongReader();
  CsvLongReader(const CsvLongReader&) = delete;
  CsvLongReader& operator=(const CsvLongReader&) = delete;
  bool open(const std::string& personas_csv, const std::string& attributes_csv);
  ReadStatus next(PersonaRecord& r);
  [[nodiscard]] std::uint64_t line() const;
  [[nodiscard]] const std::string& error() const { return error_; }
  // After the last `ok`: byte offsets just past the last complete persona in each file.
  [[nodiscard]] std::uint64_t personas_offset() const;
  [[nodiscard]] std::uint64_t attributes_offset() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// ---- any format ----

enum class Format { jsonl, csv, csv_wide };
std::optional<Format> parse_format(std::string_view s);
std::string_view to_string(Format f);
// The files a format writes for an output path: jsonl and csv-wide -> {path}; csv ->
// {base.personas.csv, base.attributes.csv} where base is the path without a ".csv" suffix.
std::vector<std::string> output_files(Format f, const std::string& path);

// Reads any persona file the product writes (JSONL, the personas.csv of a CSV pair, whose
// attributes.csv is found beside it, or a wide CSV: a .csv file that is not one of a pair).
class Reader {
 public:
  Reader();
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  bool open(const std::string& path);
  ReadStatus next(PersonaRecord& r);
  [[nodiscard]] std::uint64_t line() const;
  [[nodiscard]] const std::string& error() const;
  [[nodiscard]] Format format() const { return format_; }

 private:
  Format format_ = Format::jsonl;
  std::unique_ptr<JsonlReader> jsonl_;
  std::unique_ptr<CsvLongReader> csv_;
  std::unique_ptr<CsvWideReader> wide_;
  std::string error_;
};

}  // namespace persona::record
