// Transcript tests: each transcripts/NAME.in is fed to a REPL session, line by line, with the
// prompts echoed, and everything the session writes (output and diagnostics, in order) is compared
// with NAME.expected. Sessions run in a fresh scratch folder holding links `examples/` and
// `transcripts/`, so paths in the transcripts are relative and outputs hold no absolute path.
// PERSONA_ACCEPT=1 rewrites the .expected files after an intended change.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden.hpp"
#include "repl/repl.hpp"

namespace fs = std::filesystem;

namespace {

using persona::test::read_file;

std::vector<fs::path> transcripts() {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(PERSONA_TRANSCRIPTS_DIR))
    if (e.path().extension() == ".in") v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

// Runs one transcript in its own scratch folder; returns what the session wrote.
std::string run_transcript(const fs::path& in_file) {
  const fs::path work = fs::temp_directory_path() / ("persona-repl-" + std::to_string(::getpid())) / in_file.stem();
  fs::remove_all(work);
  fs::create_directories(work);
  fs::create_directory_symlink(fs::path(PERSONA_SOURCE_DIR) / "examples", work / "examples");
  fs::create_directory_symlink(PERSONA_TRANSCRIPTS_DIR, work / "transcripts");
  const fs::path cwd = fs::current_path();
  fs::current_path(work);
  std::ostringstream out;
  std::istringstream in(read_file(in_file));
  int rc = -1;
  {
    persona::repl::Options o;
    o.out = &out;
    o.err = &out;
    o.editor = "true";     // transcripts choose theirs with :set editor
    o.edit_dir = "edits";  // relative, so the edit files' names hold no absolute path
    persona::repl::Session session(o);
    persona::repl::StreamReader reader(in, &out);
    rc = session.run(reader);
  }
  fs::current_path(cwd);
  fs::remove_all(work);
  std::error_code ec;
  fs::remove(work.parent_path(), ec);  // the session's folder, once its last transcript is done
  out << "[exit " << rc << "]\n";
  return out.str();
}

}  // namespace

TEST_CASE("transcripts give their expected output") {
  const auto files = transcripts();
  REQUIRE(!files.empty());
  for (const auto& in_file : files) {
    DYNAMIC_SECTION(in_file.stem().string()) {
      const std::string actual = run_transcript(in_file);
      fs::path expected = in_file;
      expected.replace_extension(".expected");
      persona::test::compare_golden(expected, actual);
    }
  }
}

TEST_CASE("every command appears in a transcript") {
  std::string all;
  for (const auto& f : transcripts()) all += "\n" + read_file(f);
  for (const auto& d : persona::repl::docs()) {
    if (d.kind != "command") continue;
    INFO(d.name);
    CHECK(all.find("\n" + std::string(d.name)) != std::string::npos);
  }
}
