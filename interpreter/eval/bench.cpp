// Benchmark: `persona eval` over a large persona file in bounded memory. Prints figures; never
// asserts on time.
//
//   persona-bench-eval                 # writes 100,000 synthetic quickstart-sized personas, evaluates them
//   persona-bench-eval FILE            # evaluates an existing persona file (e.g. `persona run -n 100000`)
//   persona-bench-eval --count N       # N synthetic personas
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "base/rng.hpp"
#include "eval/eval.hpp"

using namespace persona;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// A synthetic persona shaped like the quickstart's: 200-250 attributes over 12 categories drawn from a
// pool of 3,000 leaves with 3 options each, anchors, and a ~300-word narrative.
void synthesise(std::uint64_t i, record::PersonaRecord& r) {
  static const char* countries[] = {"India", "Kenya", "Brazil", "Germany", "Japan", "Nigeria", "Mexico", "France"};
  static const char* genders[] = {"female", "male"};
  static const char* words[] = {"garden", "market",   "river",   "school",  "uncle", "engine",  "music",
                                "bread",  "letter",   "train",   "harvest", "city",  "village", "friend",
                                "church", "football", "kitchen", "savings", "phone", "night"};
  Rng rng = Rng::derive(7, i, "bench-eval");
  r.clear();
  char id[32];
  std::snprintf(id, sizeof id, "bench-%06llu", static_cast<unsigned long long>(i));
  r.id = id;
  r.seed = rng();
  r.anchors.emplace_back("country", record::Value::of(countries[rng.below(8)]));
  r.anchors.emplace_back("age", record::Value::of(static_cast<double>(18 + rng.below(73))));
  r.anchors.emplace_back("gender", record::Value::of(genders[rng.below(2)]));
  r.anchors.emplace_back("occupation", record::Value::of("Occupation group " + std::to_string(rng.below(40))));
  r.anchors.emplace_back("city", record::Value::of("City " + std::to_string(rng.below(300))));
  const std::uint64_t n = 200 + rng.below(51);
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint64_t leaf = rng.below(3000);
    record::Attribute a;
    a.path = "Category " + std::to_string(leaf % 12) + "/Group " + std::to_string(leaf % 97) + "/Subgroup " +
             std::to_string(leaf % 389) + "/Leaf attribute " + std::to_string(leaf);
    a.value = "option " + std::to_string(rng.below(3)) + " of leaf " + std::to_string(leaf);
    const double u = rng.uniform();
    a.tier = u < 0.5 ? "near" : u < 0.8 ? "mid" : "far";
    a.source = "options";
    a.status = "filled";
    r.attributes.push_back(std::move(a));
  }
  for (int w = 0; w < 300; ++w) {
    r.narrative += words[rng.below(20)];
    r.narrative += w % 12 == 11 ? ". " : " ";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string file;
  std::uint64_t count = 100000;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc)
      count = std::stoull(argv[++i]);
    else
      file = argv[i];
  }
  bool made = false;
  if (file.empty()) {
    file = (std::filesystem::temp_directory_path() / ("persona-bench-eval-" + std::to_string(::getpid()) + ".jsonl"))
               .string();
    const auto t0 = std::chrono::steady_clock::now();
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (f == nullptr) {
      std::cerr << "cannot write " << file << "\n";
      return 1;
    }
    record::PersonaRecord r;
    std::string line;
    for (std::uint64_t i = 0; i < count; ++i) {
      synthesise(i, r);
      line.clear();
      record::write_jsonl(r, line);
      std::fwrite(line.data(), 1, line.size(), f);
    }
    std::fclose(f);
    made = true;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "eval bench: wrote " << count << " synthetic personas ("
              << std::filesystem::file_size(file) / (1 << 20) << " MiB) in " << s << " s; peak RSS so far "
              << peak_rss_mib() << " MiB\n";
  }
  DiagnosticList diags;
  auto defs = eval::load_definitions(eval::default_definitions_path(), diags);
  if (!defs) {
    for (const auto& d : diags.all()) std::cerr << to_string(d.where) << ": " << d.message << "\n";
    return 1;
  }
  eval::Options o;
  o.defs = *defs;
  // Reading alone (the record reader's share of the time).
  {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    record::Reader in;
    record::PersonaRecord r;
    std::uint64_t n = 0;
    if (in.open(file))
      for (record::ReadStatus st; (st = in.next(r)) != record::ReadStatus::end && st != record::ReadStatus::io;)
        n += st == record::ReadStatus::ok ? 1 : 0;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "eval bench: reading alone: " << n << " personas in " << s << " s wall, " << cpu_seconds() - c0
              << " s CPU" << std::endl;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  const auto rep = eval::evaluate_file(file, o, nullptr, diags);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  std::cout << "eval bench: evaluated " << rep.personas << " personas from " << file << " in " << s << " s wall, "
            << cpu << " s CPU (" << static_cast<double>(rep.personas) / cpu
            << " personas per CPU second), similarity sample " << rep.sample << "; peak RSS " << peak_rss_mib()
            << " MiB" << std::endl;
  if (made) std::filesystem::remove(file);
  return rep.damage.unreadable ? 1 : 0;
}
