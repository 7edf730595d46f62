// `persona merge`: the shards of one run joined into the output and manifest of the unsharded run.
// Everything that can be checked from the manifests is checked before a byte is written; the
// personas are then checked one by one (index, order, completeness) while they are copied into
// `.merge.part` files, which are renamed into place only when every shard checked.
#include "exec/merge.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "base/files.hpp"
#include "exec/exec.hpp"

namespace persona::exec {

using json = nlohmann::ordered_json;

namespace {

constexpr std::string_view kManifestSuffix = ".manifest.json";

struct Shard {
  std::string arg;  // as given
  std::string out;  // the shard's output path
  std::string manifest_path;
  json manifest;
  unsigned k = 0, n = 0;
  std::uint64_t personas = 0;
  std::vector<std::string> files;
};

void fail(DiagnosticSink& d, const std::string& file, const char* code, std::string message,
          std::vector<std::string> notes = {}) {
  d.error(SourceRange{file, 0, 0, 0}, code, std::move(message), std::move(notes));
}

bool parse_k_of_n(const std::string& s, unsigned& k, unsigned& n) {
  const auto slash = s.find('/');
  if (slash == std::string::npos) return false;
  const char* b = s.data();
  const auto r1 = std::from_chars(b, b + slash, k);
  const auto r2 = std::from_chars(b + slash + 1, b + s.size(), n);
  return r1.ec == std::errc() && r1.ptr == b + slash && r2.ec == std::errc() && r2.ptr == b + s.size() && n >= 1 &&
         k >= 1 && k <= n;
}

const json* at(const json& j, std::initializer_list<const char*> keys) {
  const json* p = &j;
  for (const char* key : keys) {
    if (!p->is_object() || !p->contains(key)) return nullptr;
    p = &(*p)[key];
  }
  return p;
}

std::uint64_t u64(const json& j, std::initializer_list<const char*> keys) {
  const json* p = at(j, keys);
  return p != nullptr && p->is_number_unsigned() ? p->get<std::uint64_t>() : 0;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Reads a shard's manifest; false (and a diagnostic) when it is missing or not a finished run's.
bool load(Shard& s, DiagnosticSink& diags) {
  s.out = s.arg;
  if (s.out.size() > kManifestSuffix.size() && s.out.ends_with(kManifestSuffix))
    s.out.resize(s.out.size() - kManifestSuffix.size());
  s.manifest_path = s.out + std::string(kManifestSuffix);
  if (!exists(s.manifest_path)) {
    if (exists(s.out + ".part") || exists(s.manifest_path + ".part"))
      fail(diags, s.arg, "shard-unfinished",
           "this shard has not finished (" + s.out + ".part is there, " + s.manifest_path +
               " is not); finish it with the same persona run command and --resume");
    else
      fail(diags, s.arg, "shard-unreadable",
           "no manifest " + s.manifest_path + " beside it; give each shard's --out PATH of a finished persona run");
    return false;
  }
  const auto text = files::read(s.manifest_path, {.max_bytes = 64u << 20, .require_utf8 = false});
  if (!text.ok()) {
    fail(diags, s.arg, "shard-unreadable", text.error);
    return false;
  }
  s.manifest = json::parse(*text.text, nullptr, false);
  const json* shard = at(s.manifest, {"fingerprint", "run", "shard"});
  const json* format = at(s.manifest, {"fingerprint", "run", "format"});
  if (s.manifest.is_discarded() || shard == nullptr || !shard->is_string() || format == nullptr ||
      !format->is_string() || at(s.manifest, {"fingerprint", "run", "count"}) == nullptr ||
      at(s.manifest, {"counts", "personas"}) == nullptr || at(s.manifest, {"output", "bytes"}) == nullptr) {
    fail(diags, s.manifest_path, "shard-unreadable",
         "not a run manifest (no fingerprint with the run's shard, count and format, or no counts)");
    return false;
  }
  if (!parse_k_of_n(shard->get<std::string>(), s.k, s.n)) {
    fail(diags, s.manifest_path, "shard-unreadable", "the shard '" + shard->get<std::string>() + "' is not K/N");
    return false;
  }
  const auto fmt = record::parse_format(format->get<std::string>());
  if (!fmt) {
    fail(diags, s.manifest_path, "shard-unreadable", "unknown output format '" + format->get<std::string>() + "'");
    return false;
  }
  if (*fmt == record::Format::csv_wide) {
    // A wide file holds only the panel attributes: the merged manifest's counts could not be kept.
    fail(diags, s.manifest_path, "shard-unmergeable",
         "persona merge does not merge csv-wide shards (a wide file keeps only the panel attributes, so the merged "
         "counts would be wrong); run the shards with --format jsonl or csv and merge those, or concatenate the "
         "wide files (keep the first header; rows are then grouped by shard, sort them by id)");
    return false;
  }
  s.files = record::output_files(*fmt, s.out);
  s.personas = u64(s.manifest, {"counts", "personas"});
  std::uint64_t size = 0;
  for (const auto& f : s.files) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(f, ec);
    if (ec) {
      fail(diags, f, "shard-unreadable", "cannot read the shard's output: " + ec.message());
      return false;
    }
    size += bytes;
  }
  if (size != u64(s.manifest, {"output", "bytes"})) {
    fail(diags, s.arg, "shard-damaged",
         "the shard's output has " + std::to_string(size) + " bytes but its manifest says " +
             std::to_string(u64(s.manifest, {"output", "bytes"})) + ": it changed after the run");
    return false;
  }
  return true;
}

// The index a persona id ends with ("quickstart-000042" -> 42).
std::optional<std::uint64_t> id_index(const std::string& id) {
  const auto dash = id.rfind('-');
  if (dash == std::string::npos || dash + 1 >= id.size()) return std::nullopt;
  std::uint64_t v = 0;
  const char* b = id.data() + dash + 1;
  const char* e = id.data() + id.size();
  const auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e) return std::nullopt;
  return v;
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Copies `n` bytes from `in` to `out`; false on a short read or a failed write.
bool copy_bytes(std::FILE* in, std::FILE* out, std::uint64_t n, std::string& buf) {
  buf.resize(1 << 16);
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, buf.size()));
    if (std::fread(buf.data(), 1, chunk, in) != chunk) return false;
    if (std::fwrite(buf.data(), 1, chunk, out) != chunk) return false;
    n -= chunk;
  }
  return true;
}

// A shard being read: the record reader (which checks and delimits each persona) and the raw files
// its bytes are copied from.
struct Source {
  const Shard* shard = nullptr;
  std::unique_ptr<record::JsonlReader> jsonl;
  std::unique_ptr<record::CsvLongReader> csv;
  std::vector<File> raw;
  std::vector<std::uint64_t> offset;  // bytes of each file already copied
  std::uint64_t read = 0;             // personas read

  record::ReadStatus next(record::PersonaRecord& r) { return jsonl ? jsonl->next(r) : csv->next(r); }
  [[nodiscard]] std::uint64_t line() const { return jsonl ? jsonl->line() : csv->line(); }
  [[nodiscard]] std::string error() const { return jsonl ? jsonl->error() : csv->error(); }
  [[nodiscard]] std::vector<std::uint64_t> ends() const {
    if (jsonl) return {jsonl->good_offset()};
    return {csv->personas_offset(), csv->attributes_offset()};
  }
};

struct Writer {
  std::vector<std::string> paths, parts;
  std::vector<File> files;
  ~Writer() {
    files.clear();
    for (const auto& p : parts) {
      std::error_code ec;
      std::filesystem::remove(p, ec);
    }
  }
};

}  // namespace

MergeResult merge(const MergeOptions& opts, DiagnosticSink& diags) {
  MergeResult res;
  if (opts.shards.empty()) {
    fail(diags, "", "shard-missing", "no shards to merge");
    return res;
  }
  // ---- the manifests ----
  std::vector<Shard> shards(opts.shards.size());
  bool loaded = true;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    shards[i].arg = opts.shards[i];
    loaded = load(shards[i], diags) && loaded;
  }
  if (!loaded) return res;
  const Shard& ref = shards.front();
  auto without_shard = [](json fp) {
    fp["run"]["shard"] = "K/N";
    return fp;
  };
  const json ref_fp = without_shard(ref.manifest["fingerprint"]);
  const auto fmt = *record::parse_format(ref.manifest["fingerprint"]["run"]["format"].get<std::string>());
  const std::uint64_t count = u64(ref.manifest, {"fingerprint", "run", "count"});
  bool ok = true;
  std::map<unsigned, const Shard*> by_k;
  for (const auto& s : shards) {
    const auto diffs = fingerprint_differences(ref_fp, without_shard(s.manifest["fingerprint"]), ref.arg);
    if (!diffs.empty()) {
      fail(diags, s.arg, "shard-foreign",
           "not a shard of the same run as " + ref.arg + ": " + diffs.front() +
               " (shards must share the recipe, its inputs, the model, seed, count and format)",
           std::vector<std::string>(diffs.begin() + 1, diffs.end()));
      ok = false;
      continue;
    }
    if (s.n != ref.n) {
      fail(diags, s.arg, "shard-overlap",
           "is shard " + std::to_string(s.k) + "/" + std::to_string(s.n) + " but " + ref.arg + " is shard " +
               std::to_string(ref.k) + "/" + std::to_string(ref.n) +
               ": shards of different splits overlap; merge the shards of one --shard K/N split");
      ok = false;
      continue;
    }
    if (const auto [it, fresh] = by_k.emplace(s.k, &s); !fresh) {
      const bool same = it->second->out == s.out;
      fail(diags, s.arg, "shard-duplicate",
           same ? "is given twice"
                : "is shard " + std::to_string(s.k) + "/" + std::to_string(s.n) + " again (" + it->second->arg +
                      " is shard " + std::to_string(s.k) + "/" + std::to_string(s.n) + " too)");
      ok = false;
      continue;
    }
    if (s.personas != shard_size(count, s.k, s.n)) {
      fail(diags, s.manifest_path, "shard-damaged",
           "counts " + std::to_string(s.personas) + " personas but shard " + std::to_string(s.k) + "/" +
               std::to_string(s.n) + " of " + std::to_string(count) + " holds " +
               std::to_string(shard_size(count, s.k, s.n)));
      ok = false;
    }
  }
  if (!ok) return res;
  for (unsigned k = 1; k <= ref.n; ++k) {
    if (by_k.contains(k)) continue;
    std::vector<std::string> given;
    for (const auto& [gk, s] : by_k)
      given.push_back(s->arg + " is shard " + std::to_string(gk) + "/" + std::to_string(ref.n));
    fail(diags, "", "shard-missing",
         "shard " + std::to_string(k) + "/" + std::to_string(ref.n) + " is missing (" + std::to_string(by_k.size()) +
             " of " + std::to_string(ref.n) + " shards given)",
         given);
    ok = false;
  }
  if (!ok) return res;
  // The output must not be one of the shards (it is replaced only at the end, but a shard read while
  // being replaced is not one to keep).
  const auto out_files = record::output_files(fmt, opts.out);
  for (const auto& s : shards)
    for (const auto& f : s.files)
      for (const auto& o : out_files) {
        std::error_code ec;
        if (std::filesystem::equivalent(f, o, ec)) {
          fail(diags, s.arg, "merge-output", "is also the merged output " + opts.out + "; merge into another path");
          ok = false;
        }
      }
  if (!ok) return res;

  // ---- the personas, checked and copied in index order ----
  std::vector<Source> sources(ref.n);
  for (unsigned k = 1; k <= ref.n; ++k) {
    Source& src = sources[k - 1];
    src.shard = by_k[k];
    const auto& files = src.shard->files;
    bool opened = false;
    if (fmt == record::Format::jsonl) {
      src.jsonl = std::make_unique<record::JsonlReader>();
      opened = src.jsonl->open(files[0]);
    } else {
      src.csv = std::make_unique<record::CsvLongReader>();
      opened = src.csv->open(files[0], files[1]);
    }
    if (!opened) {
      fail(diags, src.shard->arg, "shard-unreadable", src.error());
      return res;
    }
    for (const auto& f : files) {
      src.raw.emplace_back(std::fopen(f.c_str(), "rb"));
      if (!src.raw.back()) {
        fail(diags, f, "shard-unreadable", std::string("cannot read: ") + std::strerror(errno));
        return res;
      }
    }
    src.offset.assign(files.size(), 0);
  }
  Writer w;
  w.paths = out_files;
  for (const auto& p : out_files) {
    w.parts.push_back(p + ".merge.part");
    w.files.emplace_back(std::fopen(w.parts.back().c_str(), "wb"));
    if (!w.files.back()) {
      fail(diags, w.parts.back(), "merge-write", std::string("cannot write: ") + std::strerror(errno));
      return res;
    }
  }
  std::string buf;
  auto write_failed = [&](std::size_t f) {
    fail(diags, w.parts[f], "merge-write", std::string("cannot write: ") + std::strerror(errno));
    return res;
  };
  // CSV: every shard starts with the same header rows; the merged files start with them once.
  if (fmt == record::Format::csv) {
    std::vector<std::string> header;
    for (auto& src : sources) {
      const auto ends = src.ends();
      for (std::size_t f = 0; f < ends.size(); ++f) {
        std::string head(ends[f], '\0');
        if (std::fread(head.data(), 1, head.size(), src.raw[f].get()) != head.size() ||
            (&src != &sources[0] && head != header[f])) {
          fail(diags, src.shard->files[f], "shard-foreign",
               "its CSV columns differ from those of " + sources[0].shard->files[f]);
          return res;
        }
        if (&src == &sources[0]) header.push_back(std::move(head));
        src.offset[f] = ends[f];
      }
    }
    for (std::size_t f = 0; f < header.size(); ++f) {
      if (std::fwrite(header[f].data(), 1, header[f].size(), w.files[f].get()) != header[f].size())
        return write_failed(f);
      res.bytes += header[f].size();
    }
  }
  record::PersonaRecord rec;
  for (std::uint64_t i = 0; i < count; ++i) {
    Source& src = sources[i % ref.n];
    const Shard& s = *src.shard;
    const std::string file = s.files[0];
    const auto st = src.next(rec);
    if (st != record::ReadStatus::ok) {
      const std::string why = st == record::ReadStatus::end
                                  ? "ends after " + std::to_string(src.read) + " personas; shard " +
                                        std::to_string(s.k) + "/" + std::to_string(s.n) + " of " +
                                        std::to_string(count) + " holds " + std::to_string(s.personas)
                                  : src.error();
      fail(diags, file, "shard-damaged", why);
      return res;
    }
    const auto index = id_index(rec.id);
    if (!index || *index != i) {
      diags.error(SourceRange{file, static_cast<std::uint32_t>(src.line()), 0, 0}, "shard-overlap",
                  "persona '" + rec.id + "' is not persona " + std::to_string(i) + ", the next persona of shard " +
                      std::to_string(s.k) + "/" + std::to_string(s.n) +
                      " (it holds the indices i with i % N == K-1, in order)");
      return res;
    }
    const auto ends = src.ends();
    for (std::size_t f = 0; f < ends.size(); ++f) {
      const std::uint64_t n = ends[f] - src.offset[f];
      if (!copy_bytes(src.raw[f].get(), w.files[f].get(), n, buf)) {
        if (std::ferror(w.files[f].get()) != 0) return write_failed(f);
        fail(diags, s.files[f], "shard-damaged", "cannot read it back: it changed during the merge");
        return res;
      }
      src.offset[f] = ends[f];
      res.bytes += n;
    }
    ++src.read;
  }
  for (auto& src : sources) {
    const auto st = src.next(rec);
    if (st != record::ReadStatus::end) {
      fail(diags, src.shard->files[0], "shard-damaged",
           st == record::ReadStatus::ok
               ? "holds more personas than the " + std::to_string(src.shard->personas) + " its manifest counts"
               : src.error());
      return res;
    }
  }
  for (std::size_t f = 0; f < w.files.size(); ++f) {
    std::FILE* out = w.files[f].release();
    const bool flushed = std::fflush(out) == 0;
    if (std::fclose(out) != 0 || !flushed) return write_failed(f);
  }
  w.files.clear();

  // ---- the manifest, then everything into place ----
  std::vector<json> manifests;
  std::vector<std::string> paths;
  for (const auto& src : sources) {
    manifests.push_back(src.shard->manifest);
    paths.push_back(src.shard->arg);
  }
  const json m = merged_manifest(manifests, paths, opts.out, res.bytes, opts.command_line);
  const std::string manifest_path = opts.out + std::string(kManifestSuffix);
  const std::string manifest_part = manifest_path + ".merge.part";
  {
    File f(std::fopen(manifest_part.c_str(), "wb"));
    const std::string text = m.dump(2) + "\n";
    if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size() || std::fflush(f.get()) != 0) {
      std::error_code ec;
      std::filesystem::remove(manifest_part, ec);
      fail(diags, manifest_part, "merge-write", std::string("cannot write: ") + std::strerror(errno));
      return res;
    }
  }
  w.parts.push_back(manifest_part);
  w.paths.push_back(manifest_path);
  for (std::size_t f = 0; f < w.parts.size(); ++f) {
    std::error_code ec;
    std::filesystem::rename(w.parts[f], w.paths[f], ec);
    if (ec) {
      fail(diags, w.paths[f], "merge-write", "cannot rename " + w.parts[f] + " into place: " + ec.message());
      for (std::size_t g = 0; g < f; ++g) std::filesystem::remove(w.paths[g], ec);
      return res;
    }
  }
  w.parts.clear();
  res.ok = true;
  res.personas = count;
  res.shards = ref.n;
  res.files = out_files;
  res.manifest_path = manifest_path;
  return res;
}

json merged_manifest(const std::vector<json>& shards, const std::vector<std::string>& paths, const std::string& out,
                     std::uint64_t bytes, const std::string& command_line) {
  json m = shards.front();
  auto sum = [&](std::initializer_list<const char*> keys) {
    std::uint64_t t = 0;
    for (const auto& s : shards) t += u64(s, keys);
    return t;
  };
  // Adds up every numeric member of an object across the shards: keys in the first shard's order,
  // or sorted (`not_filled_by_status`, a sorted map in a run's manifest).
  auto sum_object = [&](json& target, const char* key, bool sorted) {
    std::map<std::string, std::uint64_t> totals;
    for (const auto& s : shards)
      if (const json* o = at(s, {"counts", key}); o != nullptr && o->is_object())
        for (const auto& [k, v] : o->items())
          if (v.is_number_unsigned()) totals[k] += v.get<std::uint64_t>();
    json result = json::object();
    if (!sorted)
      for (const auto& [k, v] : target.items()) {
        (void)v;
        result[k] = totals[k];
        totals.erase(k);
      }
    for (const auto& [k, v] : totals) result[k] = v;
    target = result;
  };

  if (m.contains("parameters")) {
    m["parameters"]["shard"] = "1/1";
    m["parameters"]["command_line"] = command_line;
  }
  if (m.contains("output")) {
    m["output"]["path"] = out;
    m["output"]["bytes"] = bytes;
    if (m["output"].contains("files")) m["output"]["files"] = record::output_files(record::Format::csv, out);
  }
  if (m.contains("counts")) {
    json& c = m["counts"];
    for (const char* k :
         {"personas", "attributes", "filled", "not_filled", "resumed", "reasked", "personas_with_problems", "problems"})
      if (c.contains(k)) c[k] = sum({"counts", k});
    for (const char* k : {"not_filled_by_status", "tiers", "sources"})
      if (c.contains(k)) sum_object(c[k], k, std::string_view(k) == "not_filled_by_status");
    // The fewest and most attributes of a persona, over the shards that hold personas (0 when none).
    std::uint64_t lo = UINT64_MAX, hi = 0;
    for (const auto& s : shards) {
      if (u64(s, {"counts", "personas"}) == 0) continue;
      lo = std::min(lo, u64(s, {"counts", "attributes_min"}));
      hi = std::max(hi, u64(s, {"counts", "attributes_max"}));
    }
    if (c.contains("attributes_min")) c["attributes_min"] = lo == UINT64_MAX ? 0 : lo;
    if (c.contains("attributes_max")) c["attributes_max"] = hi;
  }
  if (m.contains("totals")) {
    json& t = m["totals"];
    engine::Usage u;
    u.calls = sum({"totals", "calls"});
    u.prompt_tokens = sum({"totals", "prompt_tokens"});
    u.completion_tokens = sum({"totals", "completion_tokens"});
    u.cached_tokens = sum({"totals", "cached_tokens"});
    t["calls"] = u.calls;
    t["prompt_tokens"] = u.prompt_tokens;
    t["completion_tokens"] = u.completion_tokens;
    t["cached_tokens"] = u.cached_tokens;
    // The cost of the summed usage at the recorded prices: what the unsharded run computes; without
    // prices (a manifest of an older version), the sum of the shards' costs.
    if (const json* prices = at(m, {"model", "prices"}); prices != nullptr && prices->is_object()) {
      llm::Provider p;
      p.price_input_per_mtok = prices->value("input_per_mtok", 0.0);
      p.price_cached_input_per_mtok = prices->value("cached_input_per_mtok", 0.0);
      p.price_output_per_mtok = prices->value("output_per_mtok", 0.0);
      t["cost_usd"] = cost_usd(p, u);
    } else if (t.contains("cost_usd")) {
      double c = 0;
      for (const auto& s : shards)
        if (const json* v = at(s, {"totals", "cost_usd"}); v != nullptr && v->is_number()) c += v->get<double>();
      t["cost_usd"] = c;
    }
  }
  if (m.contains("llm") && m["llm"].is_object()) {
    json& l = m["llm"];
    for (auto& [k, v] : l.items()) {
      if (k == "replicas" && v.is_array()) {
        // Each replica's counts summed by URL over the shards (in the first shard's order, then new ones).
        json merged = json::array();
        for (const auto& s : shards) {
          const json* list = at(s, {"llm", "replicas"});
          if (list == nullptr || !list->is_array()) continue;
          for (const auto& one : *list) {
            if (!one.is_object() || !one.contains("url")) continue;
            json* into = nullptr;
            for (auto& m2 : merged)
              if (m2["url"] == one["url"]) into = &m2;
            if (into == nullptr) {
              merged.push_back(one);
              continue;
            }
            for (const auto& [name, x] : one.items()) {
              json& y = (*into)[name];
              if (x.is_number_integer() && y.is_number_integer())
                y = y.get<std::int64_t>() + x.get<std::int64_t>();
              else if (x.is_boolean() && y.is_boolean())
                y = y.get<bool>() || x.get<bool>();
              else if (name == "last_error" && x.is_string() && !x.get<std::string>().empty())
                y = x;
            }
          }
        }
        v = std::move(merged);
      } else if (k == "in_flight_peak" || k == "concurrency_limit") {
        std::int64_t best = 0;
        for (const auto& s : shards)
          if (const json* x = at(s, {"llm", k.c_str()}); x != nullptr && x->is_number_integer())
            best = std::max(best, x->get<std::int64_t>());
        v = best;
      } else if (k == "concurrency_min") {
        std::int64_t least = INT64_MAX;
        for (const auto& s : shards)
          if (const json* x = at(s, {"llm", k.c_str()}); x != nullptr && x->is_number_integer())
            least = std::min(least, x->get<std::int64_t>());
        v = least == INT64_MAX ? 0 : least;
      } else if (v.is_boolean()) {
        bool any = false;
        for (const auto& s : shards)
          if (const json* x = at(s, {"llm", k.c_str()}); x != nullptr && x->is_boolean()) any = any || x->get<bool>();
        v = any;
      } else if (v.is_number_integer()) {
        std::int64_t total = 0;
        for (const auto& s : shards)
          if (const json* x = at(s, {"llm", k.c_str()}); x != nullptr && x->is_number_integer())
            total += x->get<std::int64_t>();
        v = total;
      } else if (v.is_number()) {
        double total = 0;
        for (const auto& s : shards)
          if (const json* x = at(s, {"llm", k.c_str()}); x != nullptr && x->is_number()) total += x->get<double>();
        v = total;
      }
    }
  }
  if (m.contains("fingerprint") && m["fingerprint"].contains("run")) m["fingerprint"]["run"]["shard"] = "1/1";
  json merged = json::array();
  std::string started, finished;
  double seconds = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const json& s = shards[i];
    const json* ts = at(s, {"timestamps"});
    const std::string st = ts != nullptr ? ts->value("started", std::string()) : std::string();
    const std::string fi = ts != nullptr ? ts->value("finished", std::string()) : std::string();
    const double secs = ts != nullptr ? ts->value("seconds", 0.0) : 0.0;
    if (!st.empty() && (started.empty() || st < started)) started = st;
    if (fi > finished) finished = fi;
    seconds += secs;
    const json* cl = at(s, {"parameters", "command_line"});
    merged.push_back({{"shard", at(s, {"parameters", "shard"}) != nullptr ? s["parameters"]["shard"] : json()},
                      {"path", i < paths.size() ? paths[i] : std::string()},
                      {"personas", u64(s, {"counts", "personas"})},
                      {"command_line", cl != nullptr ? *cl : json()},
                      {"started", st},
                      {"finished", fi},
                      {"seconds", secs}});
  }
  if (m.contains("timestamps")) m["timestamps"] = {{"started", started}, {"finished", finished}, {"seconds", seconds}};
  m["merged"] = {{"shards", merged.size()}, {"from", merged}};
  return m;
}

}  // namespace persona::exec
