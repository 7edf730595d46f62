// Helpers shared by the engine tests: small taxonomies, tables and recipes built in C++.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "diag/diagnostic.hpp"
#include "exec/exec.hpp"

namespace engine_test {

using namespace persona;

inline std::string dump(const DiagnosticList& d) {
  std::string s;
  for (const auto& x : d.all()) s += x.where.file + ":" + std::to_string(x.where.line) + ": " + x.message + "\n";
  return s;
}

inline std::shared_ptr<const tax::Taxonomy> make_taxonomy(const std::string& text) {
  DiagnosticList d;
  auto t = tax::load_tax_text(text, "test.tax", d);
  INFO(dump(d));
  REQUIRE(t.has_value());
  return std::make_shared<const tax::Taxonomy>(std::move(*t));
}

inline std::shared_ptr<tables::Library> make_tables(const std::vector<std::pair<std::string, std::string>>& tables) {
  auto lib = std::make_shared<tables::Library>();
  for (const auto& [name, text] : tables) {
    DiagnosticList d;
    auto t = tables::parse_toml(text, name + ".toml", "", name, false, d);
    INFO(dump(d));
    REQUIRE(t.has_value());
    lib->add(std::move(*t));
  }
  return lib;
}

inline cond::Condition parse_cond(const std::string& text) {
  DiagnosticList d;
  auto c = cond::parse(text, SourceRange{"test", 1, 1, 0}, d);
  INFO(dump(d));
  REQUIRE(c.has_value());
  return *c;
}

inline lang::Anchor fixed_anchor(const std::string& name, cond::Value v) {
  lang::Anchor a;
  a.name = name;
  a.type = std::holds_alternative<double>(v) ? lang::ValueType::number : lang::ValueType::text;
  a.source.kind = lang::AnchorSource::Kind::fixed;
  a.source.fixed = std::move(v);
  return a;
}

inline lang::Anchor table_anchor(const std::string& name, const std::string& table, std::vector<std::string> by = {},
                                 lang::ValueType type = lang::ValueType::text) {
  lang::Anchor a;
  a.name = name;
  a.type = type;
  a.source.kind = lang::AnchorSource::Kind::table;
  a.source.table = table;
  a.source.by = by;
  a.depends_on = std::move(by);
  return a;
}

inline lang::StoryStep story(const std::string& out, const std::string& instr, lang::StoryShape::Kind kind, int lo = 1,
                             int hi = 1, std::vector<std::string> inputs = {}) {
  lang::StoryStep s;
  s.output = out;
  s.instruction = instr;
  s.shape.kind = kind;
  s.shape.min_items = lo;
  s.shape.max_items = hi;
  s.inputs = std::move(inputs);
  return s;
}

inline lang::Recipe base_recipe(int lo = 20, int hi = 20) {
  lang::Recipe r;
  r.name = "test";
  r.version = "1";
  r.file = "test.persona";
  r.text_hash = "0";
  r.attributes.min_count = lo;
  r.attributes.max_count = hi;
  r.attributes.batch = 8;
  r.narrative.min_words = 40;
  r.narrative.max_words = 80;
  return r;
}

// A pronounceable nonsense word, distinct for every k < 10000.
inline std::string nonsense(unsigned k) {
  static const char* cons[] = {"b", "d", "f", "g", "k",  "l",  "m",  "n",  "p",  "r",
                               "s", "t", "v", "z", "ch", "sh", "th", "br", "tr", "gl"};
  static const char* vow[] = {"a", "e", "i", "o", "u"};
  std::string w;
  for (int i = 0; i < 3; ++i) {
    w += cons[k % 20];
    k /= 20;
    w += vow[k % 5];
    k /= 5;
  }
  w[0] = static_cast<char>(w[0] - 'a' + 'A');
  return w;
}

// A generated taxonomy: `cats` categories x `subs` sub-categories x `leaves` leaves, every leaf
// with a distinct made-up name and three value options.
inline std::string generated_tax(int cats, int subs, int leaves) {
  std::ostringstream os;
  unsigned k = 17;
  for (int c = 0; c < cats; ++c) {
    os << "Category " << nonsense(k++ * 7919u % 10000u) << " | Category\n";
    for (int s = 0; s < subs; ++s) {
      os << "  Group " << nonsense(k++ * 7919u % 10000u) << " | Group\n";
      for (int l = 0; l < leaves; ++l) {
        const std::string a = nonsense(k++ * 7919u % 10000u), b = nonsense(k++ * 7919u % 10000u);
        os << "    " << a << " " << b << " | The " << a << " of " << b << "\n";
        os << "      = low @1 | medium @2 | high @1\n";
      }
    }
  }
  return os.str();
}

inline std::unique_ptr<engine::Program> make_model(lang::Recipe r, std::shared_ptr<const tables::Library> lib,
                                                   std::shared_ptr<const tax::Taxonomy> t) {
  DiagnosticList d;
  auto m = engine::Program::compile(std::move(r), std::move(lib), std::move(t), d);
  INFO(dump(d));
  REQUIRE(m != nullptr);
  return m;
}

// One whole persona with the offline backend, through the executor.
inline engine::Persona build(const engine::Program& m, std::uint64_t seed, std::uint64_t index) {
  const backend::Offline b;
  engine::Scratch s;
  exec::Job job;
  exec::build_offline(m, b, s, seed, index, job);
  return job.p;
}

inline void begin(const engine::Program& m, std::uint64_t seed, std::uint64_t index, engine::Persona& p) {
  m.begin(seed, index, p);
}

// Runs the program's anchor steps; false when a draw failed (a problem was recorded).
inline bool draw_anchors(const engine::Program& m, engine::Persona& p) {
  engine::Scratch s;
  const std::size_t before = p.problems.size();
  for (std::size_t i = 0; i < m.size() && m.step(i).kind() == engine::Step::Kind::anchor; ++i)
    (void)m.step(i).run(p, s);
  return p.problems.size() == before;
}

// The persona's JSONL line, through the record like every sink.
inline std::string line_of(const engine::Program& m, const engine::Persona& p) {
  record::PersonaRecord r;
  m.to_record(p, r);
  std::string out;
  record::write_jsonl(r, out);
  return out;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("persona-engine-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

}  // namespace engine_test
