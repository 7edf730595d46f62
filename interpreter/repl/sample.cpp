// :sample and :run (the run executor on the current program, its lines read back into records and
// kept for the views), :show persona N and :values PATH.
#include <algorithm>
#include <set>

#include "backend/backend.hpp"
#include "base/text.hpp"
#include "exec/exec.hpp"
#include "repl/session_impl.hpp"
#include "repl/view.hpp"

namespace persona::repl {

using namespace detail;

namespace {

// The personas kept for :show and :values, in bytes of their JSON lines (about 1,500 personas of
// 250 attributes, some 120 MB in memory); a longer sample is still printed whole.
constexpr std::size_t kKeepBytes = std::size_t{64} << 20;

}  // namespace

void Session::Impl::sample_cmd(const std::string& arg, const Arg& a, bool with_llm) {
  std::uint64_t n = o.count;
  bool json = false, have_n = false;
  for (std::size_t b = 0; b < arg.size();) {
    std::size_t e = arg.find(' ', b);
    if (e == std::string::npos) e = arg.size();
    const std::string w = arg.substr(b, e - b);
    const Arg at{a.line, a.col + static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(w.size())};
    if (w == "--json") {
      json = true;
    } else if (w.starts_with("--")) {
      return arg_error(at, "unknown option '" + w + "'", {"usage: :sample [N] [--json]"});
    } else if (!have_n && parse_u64(w, n) && n <= 100000) {
      have_n = true;
    } else {
      return arg_error(at, "expected a number of personas (0..100000), got '" + w + "'");
    }
    b = arg.find_first_not_of(' ', e);
    if (b == std::string::npos) break;
  }
  const engine::Program* m = engine_model();
  if (m == nullptr) return;
  std::optional<backend::Llm> llm_backend;
  if (with_llm) {
    // The provider: `:set llm NAME`, else the recipe's model provider when persona.toml
    // configures one; otherwise the offline backend.
    const std::string backend = llm();
    if (backend != "offline") {
      DiagnosticList pd;
      bool is_offline = false;
      const auto& r = current().loaded->recipe;
      backend::ResolveOptions ro;
      ro.llm = o.llm.empty() ? std::string() : backend;
      ro.recipe_dir = base_dir;
      auto setup = backend::resolve(r, ro, pd, is_offline);
      if (setup) {
        llm_backend.emplace(*setup);
        // A provider that names an embedding_model ranks the tiers by its embeddings, as in
        // `persona run --llm`: a program of its own (the session's stays offline-ranked), built once
        // per recipe version and provider; node vectors are asked once for it.
        const llm::Provider& pv = setup->provider;
        if (pv.embedding_model_configured) {
          const std::string key = pv.name + "\n" + pv.base_url + "\n" + pv.embedding_model;
          if (!embedded || embedded_version != version || embedded_for != key) {
            embedded.reset();
            DiagnosticList cd;
            auto ranked = engine::Program::compile(m->recipe(), m->model().tables_ptr(), m->model().taxonomy_ptr(), cd);
            if (!ranked) return;  // compiled once already as the session's program
            DiagnosticList ed;
            const bool ok = backend::use_embeddings(*ranked, *setup, {}, llm::Options{}, ed);
            for (const auto& d : ed.all())
              err << (d.severity == Severity::error ? "error: " : "warning: ") << d.message << "\n";
            if (!ok) return;
            embedded = std::move(ranked);
            embedded_version = version;
            embedded_for = key;
          }
          m = embedded.get();
        }
      } else if (is_offline) {
        err << "note: no LLM provider is configured (persona.toml); running offline instead of '" << backend << "'\n";
      } else {
        for (const auto& d : pd.all()) err << "error: " << d.message << "\n";
        return;
      }
    }
  }
  if (n == 0) return;
  sample = Sample{};
  sample.requested = n;
  sample.seed = seed();
  sample.version = version;
  sample.llm = llm_backend.has_value();
  const std::size_t w = width() - 1;
  std::string partial, perr;
  bool unreadable = false;
  record::PersonaRecord rec;
  exec::RunOptions ro;
  ro.count = n;
  ro.seed = sample.seed;
  ro.out = "-";
  ro.manifest = false;
  ro.stop = o.interrupt;
  // Lines arrive whole, a batch at a time: printed as they are (--json) or as a summary line, and
  // read back into records for :show persona and :values.
  ro.stream = [&](std::string_view text) {
    partial.append(text);
    std::size_t b = 0;
    for (std::size_t nl; (nl = partial.find('\n', b)) != std::string::npos; b = nl + 1) {
      const std::string_view line(partial.data() + b, nl - b);
      if (json) out << line << '\n';
      if (record::parse_jsonl(line, rec, perr)) {
        if (!json) out << view::summary_line(rec, sample.built, w);
        if (sample.bytes + line.size() <= kKeepBytes && !sample.capped) {
          sample.records.push_back(rec);
          sample.bytes += line.size();
        } else {
          sample.capped = true;
        }
      } else if (!unreadable) {
        unreadable = true;
        err << "error: persona " << sample.built << " cannot be read back: " << perr << "\n";
      }
      ++sample.built;
    }
    partial.erase(0, b);
    out.flush();
  };
  if (llm_backend) {
    ro.llm = &*llm_backend;
    ro.concurrency = 1;
  }
  const auto res = exec::run(*m, ro);
  if (!res.ok && res.interrupted && interrupted())
    err << "interrupted: " << sample.built << " of " << noun(n, "persona", "personas") << " built\n";
  else if (!res.ok)
    err << "error: " << (res.interrupted ? res.reason : res.error) << "\n";
  if (sample.capped)
    err << "note: ':show persona' and ':values' use the first " << noun(sample.records.size(), "persona", "personas")
        << " (keeping more would take more than 64 MiB of JSON)\n";
  if (!json && !sample_hint_shown && sample.built > 0) {
    sample_hint_shown = true;
    err << "':show persona N' shows one, ':values PATH' one attribute across them, '--json' prints the JSON lines\n";
  }
}

bool Session::Impl::have_sample(const Arg& a) {
  if (sample.records.empty()) {
    arg_error(a, "no sample yet: ':sample N' builds personas to look at");
    return false;
  }
  if (sample.version != version || sample.seed != seed())
    err << "note: the recipe or the seed changed since this sample was built; ':sample' builds it again\n";
  return true;
}

void Session::Impl::show_persona(const std::string& arg, const Arg& a) {
  std::uint64_t index = 0;
  std::string filter = arg;
  const std::string first = arg.substr(0, arg.find(' '));
  const bool numeric = first.size() > (first.starts_with("-") ? 1u : 0u) &&
                       first.find_first_not_of("0123456789", first.starts_with("-") ? 1 : 0) == std::string::npos;
  if (parse_u64(first, index))
    filter = trim(std::string_view(arg).substr(first.size()));
  else if (numeric)
    return arg_error(Arg{a.line, a.col, static_cast<std::uint32_t>(first.size())},
                     "expected a persona index (0, 1, ...), got '" + first + "'");
  if (!have_sample(a)) return;
  const Arg at{a.line, a.col, static_cast<std::uint32_t>(first.size())};
  if (index >= sample.records.size()) {
    if (index < sample.built)
      return arg_error(at, "persona " + std::to_string(index) + " was built but not kept",
                       {"':show persona' can show the first " + std::to_string(sample.records.size())});
    return arg_error(at, "persona " + std::to_string(index) + " is not in the sample",
                     {"the sample has " + noun(sample.records.size(), "persona", "personas") + ": 0.." +
                      std::to_string(sample.records.size() - 1)});
  }
  const auto& r = sample.records[index];
  const std::string text = view::persona(r, index, sample.built, width() - 1, filter);
  if (!filter.empty() && text.find("\nAttributes  0 ") != std::string::npos)
    err << "note: no attribute path of persona " << index << " contains \"" << filter << "\"\n";
  page(text);
}

void Session::Impl::values(const std::string& arg, const Arg& a) {
  if (arg.empty()) return arg_error(a, "':values' needs an attribute path or an anchor name: :values PATH");
  if (!have_sample(a)) return;
  const auto& rs = sample.records;
  const std::size_t w = width() - 1;
  // An anchor (or derived fact) or a story output of the records.
  std::vector<std::string> names;
  for (const auto& r : rs) {
    for (const auto& [name, v] : r.anchors)
      if (name == arg) return page(view::field_values(rs, arg, false, w));
    for (const auto& [name, v] : r.core)
      if (name == arg) return page(view::field_values(rs, arg, true, w));
  }
  for (const auto& [name, v] : rs.front().anchors) names.push_back(name);
  for (const auto& [name, v] : rs.front().core) names.push_back(name);
  auto t = taxonomy();
  if (!t) return;
  if (arg.find_first_of("*?") != std::string::npos) {
    const auto hits = t->glob(arg);
    if (hits.size() == 1 && t->is_leaf(hits.front()))
      return page(view::attribute_values(rs, (*t)[hits.front()].path, w));
    if (hits.empty()) return arg_error(a, "no taxonomy node matches '" + arg + "'");
    // A path is kept when it or one of its ancestors matched.
    std::set<std::string, std::less<>> matched;
    for (tax::Vertex v : hits) matched.insert((*t)[v].path);
    auto keep = [&](std::string_view p) {
      for (;;) {
        if (matched.contains(p)) return true;
        const auto slash = p.rfind('/');
        if (slash == std::string_view::npos) return false;
        p = p.substr(0, slash);
      }
    };
    return page(view::attributes_chosen(rs, arg, keep, w));
  }
  auto v = resolve_path(*t, arg);
  if (!v) {
    Answer ans = not_found(*t, arg);
    if (auto best = closest_match(arg, names); !best.empty())
      ans.notes.insert(ans.notes.begin(), "did you mean '" + best + "'?");
    if (!names.empty()) ans.notes.push_back("the sample's anchors and story outputs: " + text::join(names, ", "));
    return arg_error(a, ans.error, ans.notes);
  }
  const std::string path = (*t)[*v].path;
  if (t->is_leaf(*v)) return page(view::attribute_values(rs, path, w));
  page(view::attributes_chosen(
      rs, path + "/", [&](std::string_view p) { return p.starts_with(path + "/"); }, w));
}

}  // namespace persona::repl
