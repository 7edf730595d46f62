#include "exec/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "base/files.hpp"

namespace persona::exec {

namespace {

constexpr std::size_t kFlushBytes = 1 << 20;

std::string expected_id(const engine::Program& prog, const RunOptions& o, std::uint64_t pos) {
  engine::Persona p;
  prog.begin(o.seed, (o.shard_k - 1) + pos * o.shard_n, p);
  return p.id;
}

}  // namespace

std::string output_overwrites_input(const engine::Program& prog, const RunOptions& opts) {
  if (opts.out.empty() || opts.out == "-") return {};
  const auto& r = prog.model().recipe();
  std::vector<std::pair<std::string, std::string>> inputs;  // what, path
  for (std::size_t i = 0; i < r.files.size(); ++i)
    inputs.emplace_back(i == 0 ? "recipe" : "imported recipe", r.files[i]);
  for (const auto& a : prog.model().anchors())
    if (a.table != nullptr && !a.table->where.file.empty())
      inputs.emplace_back("table " + a.table->name, a.table->where.file);
  if (r.taxonomy_is_file) inputs.emplace_back("taxonomy", r.taxonomy);
  if (opts.llm != nullptr && !opts.llm->setup().config_file.empty())
    inputs.emplace_back("provider file", opts.llm->setup().config_file);
  std::vector<std::string> outputs = record::output_files(opts.format, opts.out);
  for (std::size_t i = 0, n = outputs.size(); i < n; ++i) outputs.push_back(outputs[i] + ".part");
  outputs.push_back(opts.out + ".manifest.json");
  outputs.push_back(opts.out + ".manifest.json.part");
  outputs.push_back(opts.out + ".lock");
  if (!opts.cache_path.empty()) outputs.push_back(opts.cache_path);
  for (const auto& out : outputs) {
    for (const auto& [what, in] : inputs) {
      std::error_code ec;
      if (std::filesystem::equivalent(out, in, ec) && !ec)
        return "the output " + out + " is the run's " + what + " " + in +
               " (the same file): the run would overwrite its own input; choose another --out";
    }
  }
  return {};
}

bool Journal::lock(std::string& error) {
  lock_path_ = opts_.out + ".lock";
  // Taken on the file the path names now: a lock file removed and recreated by a run that just ended
  // is retried, so two runs never both hold one.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = "cannot write " + lock_path_ + ": " + std::strerror(errno);
      return false;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      char buf[32] = {0};
      const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
      ::close(fd);
      if (e != EWOULDBLOCK) {
        error = "cannot lock " + lock_path_ + ": " + std::strerror(e);
        return false;
      }
      std::string pid(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
      error = opts_.out + " is being written by another persona run (pid " + (pid.empty() ? "unknown" : pid) +
              ", holding " + lock_path_ + "); wait for it to end or choose another --out";
      return false;
    }
    struct stat held {};
    struct stat now {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &now) == 0 && held.st_dev == now.st_dev &&
        held.st_ino == now.st_ino) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
        // The pid is only for the message of a refused run; the lock itself holds.
      }
      lock_fd_ = fd;
      return true;
    }
    ::close(fd);  // the file was removed or replaced meanwhile: take the current one
  }
  error = "cannot lock " + lock_path_ + ": it keeps being replaced";
  return false;
}

void Journal::unlock() {
  if (lock_fd_ < 0) return;
  std::error_code ec;
  std::filesystem::remove(lock_path_, ec);  // removed while held: a waiting run retries on a fresh file
  ::close(lock_fd_);
  lock_fd_ = -1;
}

Journal::~Journal() {
  abandon();
  unlock();
}

bool Journal::open(const engine::Program& prog, const RunOptions& opts, const nlohmann::ordered_json& fp,
                   std::string& error) {
  opts_ = opts;
  columns_ = prog.csv_columns();
  const auto paths = record::output_files(opts.format, opts.out);
  if (opts.out == "-") {
    stream_ = true;
    files_.push_back({"-", "", nullptr, {}});
    if (opts.format == record::Format::csv) {
      error = "--format csv writes two files and needs --out PATH, not standard output";
      return false;
    }
    if (opts.format == record::Format::csv_wide) files_[0].pending = record::csv_wide_header(columns_);
    return true;
  }
  // Special files (/dev/null, a FIFO, a terminal) are written in place: never a `.part` beside
  // them, never renamed over.
  std::error_code ec;
  const auto st = std::filesystem::status(opts.out, ec);
  if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st)) {
    if (opts.format == record::Format::csv) {
      error = opts.out + " is not a regular file; --format csv writes two files beside a path";
      return false;
    }
    special_ = true;
    File f{opts.out, "", std::fopen(opts.out.c_str(), "wb"), {}};
    if (f.f == nullptr) {
      error = "cannot write " + opts.out + ": " + std::strerror(errno);
      return false;
    }
    files_.push_back(std::move(f));
    if (opts.format == record::Format::csv_wide) files_[0].pending = record::csv_wide_header(columns_);
    return true;
  }
  regular_ = true;
  record_path_ = opts.out + ".manifest.json.part";
  for (const auto& p : paths) files_.push_back({p, p + ".part", nullptr, {}});
  if (std::string why = output_overwrites_input(prog, opts); !why.empty()) {
    error = why;
    return false;
  }
  if (!lock(error)) return false;

  bool appending = false;
  if (opts.resume) {
    std::error_code e2;
    const bool have_part = std::filesystem::exists(files_[0].part, e2);
    const bool have_record = std::filesystem::exists(record_path_, e2);
    if (have_part && !have_record) {
      error = "cannot resume: " + record_path_ + " is missing (it records the interrupted run's inputs)";
      return false;
    }
    if (have_record) {
      auto got = files::read(record_path_, {.max_bytes = 16u << 20, .require_utf8 = false});
      if (!got.ok()) {
        error = "cannot resume: " + got.error;
        return false;
      }
      const auto j = nlohmann::ordered_json::parse(*got.text, nullptr, false);
      if (j.is_discarded() || !j.contains("fingerprint")) {
        error = "cannot resume: " + record_path_ + " is not a run record";
        return false;
      }
      const std::string diff = fingerprint_difference(j["fingerprint"], fp);
      if (!diff.empty()) {
        error = "cannot resume " + opts.out + ": " + diff;
        return false;
      }
    }
    if (have_part) {
      if (!scan(prog, opts, error)) return false;
      appending = true;
    }
  }
  for (auto& f : files_) {
    f.f = std::fopen(f.part.c_str(), appending ? "ab" : "wb");
    if (f.f == nullptr) {
      error = "cannot write " + f.part + ": " + std::strerror(errno);
      return false;
    }
  }
  if (!appending && opts.format == record::Format::csv) {
    files_[0].pending = record::csv_personas_header(columns_);
    files_[1].pending = record::csv_attributes_header();
  }
  if (!appending && opts.format == record::Format::csv_wide) files_[0].pending = record::csv_wide_header(columns_);
  if (opts.manifest) {
    nlohmann::ordered_json rec = {
        {"status", "running"}, {"command_line", opts.command_line}, {"started", now_iso()}, {"fingerprint", fp}};
    if (!files::write_atomic(record_path_,
                             rec.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", error))
      return false;
  }
  return true;
}

bool Journal::scan(const engine::Program& prog, const RunOptions& opts, std::string& error) {
  const std::uint64_t total = shard_size(opts.count, opts.shard_k, opts.shard_n);
  record::PersonaRecord r;
  std::vector<std::uint64_t> keep(files_.size(), 0);
  auto check = [&](std::uint64_t line) {
    const std::string want = expected_id(prog, opts, done_);
    if (done_ >= total || r.id != want) {
      error = files_[0].part + ": persona " + std::to_string(line) + " is " + (r.id.empty() ? "?" : r.id) + ", not " +
              want + " of this run; remove the file or run without --resume";
      return false;
    }
    account(r, resumed_);
    ++done_;
    return true;
  };
  if (opts.format == record::Format::jsonl) {
    record::JsonlReader in;
    if (!in.open(files_[0].part)) {
      error = in.error();
      return false;
    }
    for (;;) {
      const auto st = in.next(r);
      if (st == record::ReadStatus::ok) {
        if (!check(in.line())) return false;
        keep[0] = in.good_offset();
        continue;
      }
      if (st == record::ReadStatus::end || st == record::ReadStatus::torn) break;
      error = files_[0].part + ": " + in.error() + "; remove the file or run without --resume";
      return false;
    }
  } else if (opts.format == record::Format::csv_wide) {
    record::CsvWideReader in;
    if (!in.open(files_[0].part)) {
      // A run killed before its header reached the disk: start afresh.
      std::error_code ec;
      if (std::filesystem::file_size(files_[0].part, ec) < 4) return true;
      error = in.error();
      return false;
    }
    keep[0] = in.good_offset();
    for (;;) {
      const auto st = in.next(r);
      if (st == record::ReadStatus::ok) {
        if (!check(in.line())) return false;
        keep[0] = in.good_offset();
        continue;
      }
      if (st == record::ReadStatus::end || st == record::ReadStatus::torn) break;
      error = in.error() + "; remove the file or run without --resume";
      return false;
    }
  } else {
    record::CsvLongReader in;
    if (!in.open(files_[0].part, files_[1].part)) {
      // A run killed before its headers reached the disk: start afresh.
      std::error_code ec;
      if (std::filesystem::file_size(files_[0].part, ec) < 4) return true;
      error = in.error();
      return false;
    }
    keep[0] = in.personas_offset();
    keep[1] = in.attributes_offset();
    for (;;) {
      const auto st = in.next(r);
      if (st == record::ReadStatus::ok) {
        if (!check(in.line())) return false;
        keep[0] = in.personas_offset();
        keep[1] = in.attributes_offset();
        continue;
      }
      if (st == record::ReadStatus::end || st == record::ReadStatus::torn) break;
      error = in.error() + "; remove the files or run without --resume";
      return false;
    }
  }
  // Drop a torn tail so the appended personas start on a fresh line.
  for (std::size_t i = 0; i < files_.size(); ++i) {
    std::error_code ec;
    if (std::filesystem::file_size(files_[i].part, ec) != keep[i]) {
      std::filesystem::resize_file(files_[i].part, keep[i], ec);
      if (ec) {
        error = "cannot truncate " + files_[i].part + ": " + ec.message();
        return false;
      }
    }
    bytes_ += keep[i];
  }
  resumed_.resumed = done_;
  return true;
}

void Journal::format(const record::PersonaRecord& r, std::vector<std::string>& bufs) const {
  bufs.resize(files_.size());
  if (opts_.format == record::Format::jsonl)
    record::write_jsonl(r, bufs[0]);
  else if (opts_.format == record::Format::csv_wide)
    record::write_csv_wide(r, columns_, bufs[0]);
  else
    record::write_csv_long(r, columns_, bufs[0], bufs[1]);
}

bool Journal::write(std::vector<std::string>& bufs, std::string& error) {
  for (std::size_t i = 0; i < files_.size() && i < bufs.size(); ++i) {
    files_[i].pending += bufs[i];
    bufs[i].clear();
  }
  if (files_[0].pending.size() >= kFlushBytes) return flush(error);
  return true;
}

bool Journal::flush(std::string& error) {
  for (auto& f : files_) {
    if (f.pending.empty()) continue;
    if (stream_) {
      if (opts_.stream)
        opts_.stream(f.pending);
      else if (std::fwrite(f.pending.data(), 1, f.pending.size(), stdout) != f.pending.size() ||
               std::fflush(stdout) != 0) {
        error = std::string("cannot write standard output: ") + std::strerror(errno);
        return false;
      }
    } else if (std::fwrite(f.pending.data(), 1, f.pending.size(), f.f) != f.pending.size() || std::fflush(f.f) != 0) {
      error = "cannot write " + (f.part.empty() ? f.path : f.part) + ": " + std::strerror(errno);
      return false;
    }
    bytes_ += f.pending.size();
    f.pending.clear();
  }
  return true;
}

bool Journal::close(std::string& error) {
  if (!flush(error)) return false;
  for (auto& f : files_) {
    if (f.f == nullptr) continue;
    const bool closed = std::fclose(f.f) == 0;
    f.f = nullptr;
    if (!closed) {
      error = "cannot write " + (f.part.empty() ? f.path : f.part) + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool Journal::commit(std::string& error) {
  if (!regular_) return true;
  for (auto& f : files_) {
    std::error_code ec;
    std::filesystem::rename(f.part, f.path, ec);
    if (ec) {
      error = "cannot rename " + f.part + " to " + f.path + ": " + ec.message();
      return false;
    }
  }
  return true;
}

void Journal::abandon() {
  for (auto& f : files_) {
    if (f.f != nullptr) {
      if (!f.pending.empty()) (void)std::fwrite(f.pending.data(), 1, f.pending.size(), f.f);
      std::fclose(f.f);
    }
    f.f = nullptr;
    f.pending.clear();
  }
}

bool Journal::write_manifest(const nlohmann::ordered_json& m, std::string& path, std::string& error) {
  path = opts_.out + ".manifest.json";
  // Strings that are not UTF-8 are written with U+FFFD rather than throwing (and aborting) here.
  if (!files::write_atomic(path, m.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", error))
    return false;
  std::error_code ec;
  std::filesystem::remove(record_path_, ec);
  return true;
}

}  // namespace persona::exec
