// The mining pipeline: classify -> extract -> validate -> merge -> map -> links -> write, every
// LLM call on one llm::Client (cache, retries, breaker, replicas), every answer journalled before
// it is used. The output depends only on the corpus, the settings and the answers: completion
// order, concurrency and resumes never change it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "base/files.hpp"
#include "base/text.hpp"
#include "llm/cache.hpp"
#include "llm/client.hpp"
#include "llm/models.hpp"
#include "mine.hpp"

namespace persona::mine {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// ---- the journal: OUT.journal, one JSON line per answer used ----

class Journal {
 public:
  ~Journal() {
    if (f_ != nullptr) std::fclose(f_);
  }
  // Opens (resume: reads back) the journal; an error message on failure.
  std::string open(const fs::path& path, const json& header, bool resume) {
    path_ = path;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (exists && !resume)
      return path.string() +
             " exists: an earlier run of this command stopped before the end. Add --resume to go on "
             "with its answers, or delete the file to start again";
    if (exists) {
      const auto rd = files::read(path, {.max_bytes = 8ull << 30, .require_utf8 = false});
      if (!rd.ok()) return rd.error;
      const std::string& text = *rd.text;
      std::size_t pos = 0, lineno = 0;
      while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        if (nl == std::string::npos) break;  // a torn last line (the run was killed mid-write): dropped
        const std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        ++lineno;
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
          return path.string() + ":" + std::to_string(lineno) + ": not a journal line";
        if (lineno == 1) {
          if (!j.contains("mine_journal")) return path.string() + ": not a mining journal (no header line)";
          for (const char* key : {"corpus", "exchanges"})
            if (j.value(key, json()) != header.value(key, json()))
              return "cannot resume: the corpus changed since " + path.string() + " was written (" + key + " was " +
                     j.value(key, json()).dump() + ", now " + header.value(key, json()).dump() +
                     "); delete the journal to start again";
          continue;
        }
        if (!j.contains("k") || !j["k"].is_string()) return path.string() + ":" + std::to_string(lineno) + ": no key";
        std::string key = j["k"].get<std::string>();  // first: json's operator= takes its argument by value
        answers_[std::move(key)] = std::move(j);
      }
      if (lineno == 0) return path.string() + " is empty or torn before its header; delete it to start again";
      // Rewrite without a torn tail, then append.
      std::string keep = text.substr(0, pos);
      std::string err;
      if (!files::write_atomic(path, keep, err)) return err;
    }
    f_ = std::fopen(path.string().c_str(), exists ? "ab" : "wb");
    if (f_ == nullptr) return "cannot write " + path.string();
    if (!exists) write(header);
    return {};
  }
  [[nodiscard]] const json* find(const std::string& key) const {
    auto it = answers_.find(key);
    return it == answers_.end() ? nullptr : &it->second;
  }
  void put(const std::string& key, const std::string& step, const json& answer, const llm::Usage& u,
           const std::string& why) {
    json j = {{"k", key}, {"s", step}, {"a", answer}, {"u", {u.prompt_tokens, u.completion_tokens, u.cached_tokens}}};
    if (!why.empty()) j["why"] = why;
    write(j);
    answers_[key] = std::move(j);  // key is a separate string: safe to move j
  }
  void remove() {
    if (f_ != nullptr) std::fclose(f_);
    f_ = nullptr;
    std::error_code ec;
    fs::remove(path_, ec);
  }
  [[nodiscard]] std::size_t size() const { return answers_.size(); }

 private:
  void write(const json& j) {
    const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fflush(f_);  // a SIGKILL loses at most the line being written
  }
  fs::path path_;
  std::FILE* f_ = nullptr;
  std::unordered_map<std::string, json> answers_;
};

llm::Usage usage_of(const json& entry) {
  llm::Usage u;
  if (entry.contains("u") && entry["u"].is_array() && entry["u"].size() == 3) {
    u.prompt_tokens = entry["u"][0].get<long>();
    u.completion_tokens = entry["u"][1].get<long>();
    u.cached_tokens = entry["u"][2].get<long>();
  }
  return u;
}

// One LLM call of a step: its request, how to check the answer, and where the result goes.
struct Call {
  std::string key;  // the journal key: step + SHA-256 of the request
  json body;
  std::function<std::string(const std::string&, json&)> check;
  std::function<void(const json*)> done;  // the checked answer, or nullptr when off-schema
};

class Runner {
 public:
  Runner(const llm::Provider& p, const Options& o, Journal& journal, Report& report, llm::Cache* cache)
      : p_(p), o_(o), journal_(journal), report_(report), client_(p, client_options(o, cache)) {}

  static llm::Options client_options(const Options& o, llm::Cache* cache) {
    llm::Options lo;
    lo.max_concurrency = o.concurrency;
    lo.cache = cache;
    lo.seed = o.seed ^ 0x6d696e65ULL;
    return lo;
  }

  // Runs one step's calls; false when the run must stop (signal, budget, a fatal answer).
  bool step(const std::string& name, std::vector<Call>& calls, const Templates& t) {
    StepCounts& sc = report_.steps[name];
    const std::size_t window =
        static_cast<std::size_t>(std::max(16, 4 * (o_.concurrency > 0 ? o_.concurrency : p_.max_concurrency)));
    std::size_t next = 0, finished = 0;
    auto progress = [&] {
      ++finished;
      if (o_.progress)
        o_.progress({name, finished, calls.size(), report_.usage.prompt_tokens, report_.usage.completion_tokens,
                     p_.cost(report_.usage)});
    };
    std::function<void(std::size_t, json, bool)> send = [&](std::size_t i, json body, bool again) {
      llm::Request req;
      req.body = body;
      req.tag = name + ":" + std::to_string(i);
      client_.submit(std::move(req), [&, i, again, body](llm::Response r) {
        Call& c = calls[i];
        if (!r.ok()) {
          if (r.status != llm::Response::Status::cancelled) {
            ++sc.failed;
            if (first_error_.empty()) first_error_ = name + ": " + r.error;
            if (llm::stops_the_run(r.http_status) && fatal_.empty()) {
              fatal_ = llm::describe_failure(p_, r.http_status, r.error, r.replica);
              stop_ = true;
            }
            if (r.status == llm::Response::Status::circuit_open && fatal_.empty()) {
              fatal_ = "the provider failed too many times in a row (circuit open): " + r.error;
              stop_ = true;
            }
          }
          return;  // not journalled: a resume asks again
        }
        ++sc.calls;
        report_.usage += r.usage;
        sc.usage += r.usage;
        if (!r.from_cache) report_.sent_usage += r.usage;
        json parsed;
        const std::string why = c.check(r.content, parsed);
        if (why.empty()) {
          llm::Usage u = r.usage;
          if (again) u += reask_usage_[i];
          journal_.put(c.key, name, parsed, u, {});
          c.done(&parsed);
          progress();
        } else if (!again && !stop_) {
          ++sc.reasks;
          reask_usage_[i] = r.usage;
          send(i, reask_body(p_, t, body, r.content, why), true);
        } else if (again) {
          ++sc.off_schema;
          if (report_.drop_reasons.size() < 8) report_.drop_reasons.push_back(name + ": " + why);
          llm::Usage u = r.usage;
          u += reask_usage_[i];
          journal_.put(c.key, name, nullptr, u, why);
          c.done(nullptr);
          progress();
        }
        check_budget();
      });
    };
    while (true) {
      if (o_.stop != nullptr && o_.stop->load() && !stop_) {
        stop_ = true;
        interrupted_ = "stopped by a signal";
      }
      while (!stop_ && next < calls.size() && client_.pending() < window) {
        const std::size_t i = next++;
        Call& c = calls[i];
        if (const json* e = journal_.find(c.key)) {
          ++sc.from_journal;
          report_.usage += usage_of(*e);
          sc.usage += usage_of(*e);
          if (e->contains("why")) ++sc.off_schema;
          const json& a = (*e)["a"];
          c.done(a.is_null() ? nullptr : &a);
          progress();
          continue;
        }
        send(i, c.body, false);
      }
      if (stop_) client_.cancel_all();
      if (client_.pending() == 0 && (stop_ || next >= calls.size())) break;
      client_.poll(100);
    }
    return !stop_ && sc.failed == 0;
  }

  void check_budget() {
    if (o_.budget_usd >= 0 && p_.cost(report_.usage) >= o_.budget_usd && !stop_) {
      stop_ = true;
      interrupted_ = "the budget of $" + std::to_string(o_.budget_usd) + " is spent";
    }
  }

  // Embeddings of texts (one request), or nullopt after a failure.
  std::optional<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) {
    StepCounts& sc = report_.steps["embeddings"];
    llm::Request req;
    req.endpoint = llm::Endpoint::embeddings;
    req.body = llm::embeddings_body(p_, texts);
    req.tag = "embeddings";
    std::optional<std::vector<std::vector<float>>> out;
    client_.submit(std::move(req), [&](llm::Response r) {
      if (!r.ok() || r.embeddings.size() != texts.size()) {
        ++sc.failed;
        if (first_error_.empty())
          first_error_ = "embeddings: " + (r.ok() ? std::string("wrong number of vectors") : r.error);
        return;
      }
      ++sc.calls;
      report_.usage += r.usage;
      sc.usage += r.usage;
      if (!r.from_cache) report_.sent_usage += r.usage;
      out = std::move(r.embeddings);
    });
    client_.run();
    return out;
  }

  [[nodiscard]] bool stopped() const { return stop_; }
  [[nodiscard]] const std::string& interrupted() const { return interrupted_; }
  [[nodiscard]] const std::string& fatal() const { return fatal_; }
  [[nodiscard]] const std::string& first_error() const { return first_error_; }
  void prepare(std::size_t n) { reask_usage_.assign(n, {}); }

 private:
  const llm::Provider& p_;
  const Options& o_;
  Journal& journal_;
  Report& report_;
  llm::Client client_;
  bool stop_ = false;
  std::string interrupted_, fatal_, first_error_;
  std::vector<llm::Usage> reask_usage_;
};

std::string key_of(const std::string& step, const json& body) {
  return step + ":" + files::sha256_hex(body.dump()).substr(0, 32);
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

}  // namespace

Result run(const Corpus& corpus, const llm::Provider& p, const Templates& t, const Options& o, DiagnosticSink& sink) {
  Result res;
  Report& rep = res.report;
  rep.corpus = corpus.stats;
  rep.provider = p.name;
  rep.model = p.model;
  const auto t0 = std::chrono::steady_clock::now();
  (void)sink;

  std::unique_ptr<llm::Cache> cache;
  if (!o.cache_path.empty()) {
    std::string err;
    cache = llm::Cache::open(o.cache_path, &err);
    if (!cache) {
      res.error = "cannot use the response cache " + o.cache_path + ": " + err + " (--no-cache runs without one)";
      return res;
    }
  }
  Journal journal;
  const json header = {{"mine_journal", 1},  {"corpus", corpus.hash}, {"exchanges", corpus.exchanges.size()},
                       {"provider", p.name}, {"model", p.model},      {"prompts", t.hash}};
  if (auto err = journal.open(o.out + ".journal", header, o.resume); !err.empty()) {
    res.error = err;
    return res;
  }
  Runner runner(p, o, journal, rep, cache.get());
  auto stop_here = [&]() -> Result& {
    if (!runner.fatal().empty()) {
      res.error = runner.fatal() + "; the answers so far are kept in " + o.out + ".journal (--resume)";
    } else if (!runner.interrupted().empty()) {
      res.interrupted = true;
      res.reason = runner.interrupted();
    } else {
      std::size_t failed = 0;
      for (const auto& [name, sc] : rep.steps) failed += sc.failed;
      res.error = std::to_string(failed) + " calls failed (first: " + runner.first_error() +
                  "); nothing was written. The answers so far are kept in " + o.out +
                  ".journal: run the same command with --resume to ask the failed calls again";
    }
    rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rep.cost_usd = p.cost(rep.usage);
    return res;
  };

  const auto& ex = corpus.exchanges;
  // 1. classify
  std::vector<int> label(ex.size(), -1);
  {
    std::vector<Call> calls;
    calls.reserve(ex.size());
    for (std::size_t i = 0; i < ex.size(); ++i) {
      json b = classify_body(p, t, ex[i], o.seed);
      calls.push_back({key_of("classify", b), std::move(b),
                       [](const std::string& c, json& out) { return check_classify(c, out); },
                       [&label, i](const json* a) {
                         if (a == nullptr) return;
                         const std::string l = (*a)["label"].get<std::string>();
                         label[i] = l == "non" ? 0 : l == "partial" ? 1 : 2;
                       }});
    }
    runner.prepare(calls.size());
    if (!runner.step("classify", calls, t)) return stop_here();
    for (int l : label)
      if (l >= 0) ++rep.label[l];
    if (o.classify_only) {
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      rep.cost_usd = p.cost(rep.usage);
      journal.remove();
      res.ok = true;
      return res;
    }
  }
  // 2. extract
  std::vector<std::vector<Candidate>> cands(ex.size());
  {
    std::vector<Call> calls;
    for (std::size_t i = 0; i < ex.size(); ++i) {
      if (label[i] < 1) continue;
      json b = extract_body(p, t, ex[i], o.seed);
      calls.push_back({key_of("extract", b), std::move(b),
                       [&ex, i](const std::string& c, json& out) { return check_extract(c, ex[i], out); },
                       [&cands, &rep, &o, i](const json* a) {
                         if (a == nullptr) return;
                         for (const auto& at : (*a)["attributes"]) {
                           if (cands[i].size() >= o.max_candidates) {
                             ++rep.capped;
                             continue;
                           }
                           Candidate c;
                           for (const auto& s : at["path"]) c.path.push_back(s.get<std::string>());
                           c.value = at["value"].get<std::string>();
                           c.evidence = at["evidence"].get<std::string>();
                           c.description = at["description"].get<std::string>();
                           c.evidence_found = at["found"].get<bool>();
                           cands[i].push_back(std::move(c));
                         }
                       }});
    }
    runner.prepare(calls.size());
    if (!runner.step("extract", calls, t)) return stop_here();
    for (const auto& cs : cands) {
      rep.candidates += cs.size();
      for (const auto& c : cs) rep.evidence_unmatched += c.evidence_found ? 0 : 1;
    }
  }
  // 3. validate
  std::vector<std::vector<char>> keep(ex.size());
  {
    std::vector<Call> calls;
    for (std::size_t i = 0; i < ex.size(); ++i) {
      if (cands[i].empty()) continue;
      json b = validate_body(p, t, ex[i], cands[i], o.seed);
      const std::size_t n = cands[i].size();
      keep[i].assign(n, 0);  // an off-schema review keeps nothing: unreviewed candidates are dropped
      calls.push_back({key_of("validate", b), std::move(b),
                       [n](const std::string& c, json& out) { return check_validate(c, n, out); },
                       [&keep, i](const json* a) {
                         if (a == nullptr) return;
                         const auto& k = (*a)["keep"];
                         for (std::size_t j = 0; j < k.size() && j < keep[i].size(); ++j)
                           keep[i][j] = k[j].get<int>() == 1 ? 1 : 0;
                       }});
    }
    runner.prepare(calls.size());
    if (!runner.step("validate", calls, t)) return stop_here();
  }
  // 4. merge (top level first: the clusters the map step names)
  tax::Forest forest;
  for (std::size_t i = 0; i < ex.size(); ++i)
    for (std::size_t j = 0; j < cands[i].size(); ++j) {
      if (keep[i][j] == 0) {
        ++rep.dropped;
        continue;
      }
      ++rep.kept;
      forest.add_path(cands[i][j].path, ex[i].id, cands[i][j].value, cands[i][j].description);
    }
  tax::MergeOptions mo = o.merge;
  std::unordered_map<std::string, std::vector<float>> vectors;
  if (o.embeddings) {
    mo.threshold = o.embedding_threshold;
    mo.score = [&](const std::string& parent, const std::string& a, const std::string& b) {
      const std::string ta = parent.empty() ? a : parent + " / " + a, tb = parent.empty() ? b : parent + " / " + b;
      std::vector<std::string> need;
      if (!vectors.contains(ta)) need.push_back(ta);
      if (!vectors.contains(tb) && tb != ta) need.push_back(tb);
      if (!need.empty()) {
        auto got = runner.embed(need);
        if (!got) return tax::name_similarity(a, b) >= o.merge.threshold ? 1.0 : 0.0;  // counted as failed
        for (std::size_t k = 0; k < need.size(); ++k) vectors[need[k]] = std::move((*got)[k]);
      }
      return cosine(vectors[ta], vectors[tb]);
    };
  }
  forest.merge_roots(mo, rep.merge);
  // 5. map the top level onto the categories
  {
    const auto roots = forest.roots();
    std::vector<json> answers(roots.size());
    std::vector<char> have(roots.size(), 0);
    std::vector<Call> calls;
    for (std::size_t k = 0; k < roots.size(); ++k) {
      std::vector<std::string> kids;
      for (std::size_t c : forest[roots[k]].children)
        if (!forest[c].dead) kids.push_back(forest.name(c));
      json b = map_body(p, t, forest.name(roots[k]), kids, o.categories, o.seed);
      calls.push_back({key_of("map", b), std::move(b),
                       [&o](const std::string& c, json& out) { return check_map(c, o.categories, out); },
                       [&answers, &have, k](const json* a) {
                         if (a == nullptr) return;
                         answers[k] = *a;
                         have[k] = 1;
                       }});
    }
    runner.prepare(calls.size());
    if (!runner.step("map", calls, t)) return stop_here();
    for (std::size_t k = 0; k < roots.size(); ++k) {
      const std::string from = forest.name(roots[k]);
      if (!have[k]) {
        rep.top_mapping.emplace_back(from, "(unmapped: off-schema answer)");
        continue;
      }
      const std::string cat = answers[k]["category"].get<std::string>();
      const bool is_new = cat == "NEW";
      const std::string to = is_new ? answers[k]["new_name"].get<std::string>() : cat;
      rep.top_mapping.emplace_back(from, is_new ? "NEW: " + to : to);
      forest.map_root(roots[k], to, !is_new, rep.merge);
    }
  }
  forest.merge_all(mo, rep.merge);
  // 6. post-merge validation: parent-child links
  {
    struct Link {
      std::size_t parent;
      std::vector<std::string> kids, parents;
    };
    std::vector<Link> links;
    std::vector<std::string> inner_paths;
    std::unordered_map<std::string, std::size_t> by_path;
    for (std::size_t v : forest.preorder()) {
      by_path[forest.path(v)] = v;
      bool inner = false;
      for (std::size_t c : forest[v].children) inner = inner || !forest[c].dead;
      if (!inner) continue;
      Link l{v, {}, {}};
      for (std::size_t c : forest[v].children)
        if (!forest[c].dead) l.kids.push_back(forest.name(c));
      links.push_back(std::move(l));
    }
    // Candidate parents: the inner nodes of the same top-level node (at most 80, preorder).
    for (auto& l : links) {
      std::size_t top = l.parent;
      while (forest.parent(top)) top = *forest.parent(top);
      const std::string prefix = forest.path(top);
      for (const auto& other : links) {
        const std::string op = forest.path(other.parent);
        if (other.parent != l.parent && (op == prefix || op.starts_with(prefix + "/")) && l.parents.size() < 80)
          l.parents.push_back(op);
      }
    }
    std::vector<json> moves(links.size());
    std::vector<Call> calls;
    for (std::size_t k = 0; k < links.size(); ++k) {
      json b = links_body(p, t, forest.path(links[k].parent), links[k].kids, links[k].parents, o.seed);
      calls.push_back({key_of("links", b), std::move(b),
                       [&links, k](const std::string& c, json& out) {
                         return check_links(c, links[k].kids, links[k].parents, out);
                       },
                       [&moves, k](const json* a) {
                         if (a != nullptr) moves[k] = (*a)["moves"];
                       }});
    }
    runner.prepare(calls.size());
    if (!runner.step("links", calls, t)) return stop_here();
    rep.links_checked = 0;
    for (const auto& l : links) rep.links_checked += l.kids.size();
    for (std::size_t k = 0; k < links.size(); ++k) {
      if (!moves[k].is_array()) continue;
      for (const auto& m : moves[k]) {
        const std::string parent_path = forest.path(links[k].parent);
        auto child = by_path.find(parent_path + "/" + m["child"].get<std::string>());
        auto to = by_path.find(m["to"].get<std::string>());
        if (child == by_path.end() || to == by_path.end() || forest[child->second].dead || forest[to->second].dead)
          continue;
        forest.move(child->second, to->second, mo, rep.merge);
        ++rep.links_moved;
      }
    }
    forest.fold_echoes(rep.merge);
  }
  // 7. write
  DiagnosticList diags;
  auto tx = forest.to_taxonomy(diags, tax::BuildOptions{false});
  if (!tx || diags.has_errors()) {
    res.error = "the mined taxonomy does not pass the taxonomy checks";
    for (const auto& d : diags.all())
      if (d.severity == Severity::error) {
        res.error += ": " + d.message;
        break;
      }
    return res;
  }
  rep.merge.output_nodes = tx->size();
  const auto st = tx->stats();
  rep.nodes = st.nodes;
  rep.leaves = st.leaves;
  for (tax::Vertex r : tx->roots()) rep.categories.emplace_back((*tx)[r].name, (*tx)[r].support);
  res.taxonomy_text = "# Mined by persona taxonomy mine from " + std::to_string(corpus.exchanges.size()) +
                      " exchanges (model " + p.model +
                      "). '+ support N': exchanges behind the node;\n"
                      "# the .provenance.json file beside this one lists them.\n" +
                      tax::to_tax(*tx);
  // Provenance: the exchanges, their kept candidates (with evidence), and each node's supporters.
  nlohmann::ordered_json prov;
  prov["corpus"] = corpus.hash;
  auto exs = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < ex.size(); ++i) {
    if (cands[i].empty()) continue;
    auto kept = nlohmann::ordered_json::array();
    for (std::size_t j = 0; j < cands[i].size(); ++j) {
      if (keep[i][j] == 0) continue;
      std::string path;
      for (const auto& s : cands[i][j].path) path += (path.empty() ? "" : "/") + s;
      kept.push_back({{"path", path},
                      {"value", cands[i][j].value},
                      {"evidence", cands[i][j].evidence},
                      {"evidence_found", cands[i][j].evidence_found}});
    }
    if (kept.empty()) continue;
    exs.push_back({{"id", ex[i].id},
                   {"file", ex[i].file},
                   {"line", ex[i].line},
                   {"turn", ex[i].turn},
                   {"label", label[i] == 2 ? "full" : "partial"},
                   {"attributes", kept}});
  }
  prov["exchanges"] = exs;
  nlohmann::ordered_json nodes = nlohmann::ordered_json::object();
  for (std::size_t v : forest.preorder()) {
    nlohmann::ordered_json n;
    const auto s = forest.subtree_sources(v);
    n["support"] = s.size();
    n["exchanges"] = s;
    if (forest[v].forms.size() > 1) {
      auto forms = nlohmann::ordered_json::object();
      for (const auto& [f, c] : forest[v].forms) forms[f] = c;
      n["names"] = forms;
    }
    nodes[forest.path(v)] = n;
  }
  prov["nodes"] = nodes;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.cost_usd = p.cost(rep.usage);
  std::string err;
  if (!files::write_atomic(o.out + ".provenance.json",
                           prov.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", err) ||
      !files::write_atomic(o.out + ".report.json",
                           rep.to_json().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n",
                           err) ||
      !files::write_atomic(o.out, res.taxonomy_text, err)) {
    res.error = err;
    return res;
  }
  journal.remove();
  res.ok = true;
  return res;
}

// ---- the dry run ----

Estimate estimate(const Corpus& c, const llm::Provider& p, const Templates& t, const Options& o,
                  double personalizable) {
  Estimate e;
  auto tokens = [](const json& b) { return static_cast<long>(b.dump().size() / 4); };
  // Completion sizes of a typical answer (tokens): a label and a short reason (~20); ~3 attributes of
  // ~35 tokens (a 3-level path, a value, a few words of evidence, a short description); one verdict of
  // ~15 tokens per candidate.
  constexpr long kClassifyOut = 20, kPerAttribute = 35, kAttributes = 3, kPerVerdict = 15;
  for (const auto& x : c.exchanges) {
    e.prompt_tokens += tokens(classify_body(p, t, x));
    e.completion_tokens += kClassifyOut;
  }
  e.calls_by_step["classify"] = c.exchanges.size();
  const double share = std::clamp(personalizable, 0.0, 1.0);
  long extract_prompt = 0, validate_prompt = 0;
  for (const auto& x : c.exchanges) {
    extract_prompt += tokens(extract_body(p, t, x));
    std::vector<Candidate> typical(kAttributes,
                                   Candidate{{"Category", "Subcategory", "Attribute"}, "value", "", "", true});
    validate_prompt += tokens(validate_body(p, t, x, typical));
  }
  const auto n = static_cast<std::size_t>(std::llround(share * static_cast<double>(c.exchanges.size())));
  e.calls_by_step["extract"] = n;
  e.calls_by_step["validate"] = n;
  e.prompt_tokens += static_cast<long>(std::llround(share * static_cast<double>(extract_prompt + validate_prompt)));
  e.completion_tokens += static_cast<long>(n) * (kAttributes * kPerAttribute + kAttributes * kPerVerdict);
  // Map and links: a few per category; small next to the per-exchange steps.
  const std::size_t cats = std::max<std::size_t>(o.categories.size(), 1);
  e.calls_by_step["map"] = cats;
  e.calls_by_step["links"] = std::min<std::size_t>(n, cats * 6);
  // A map request lists the categories (~400 tokens); a link check a node, its children and the
  // nodes of its category (~300).
  e.prompt_tokens += static_cast<long>(cats) * 400 + static_cast<long>(e.calls_by_step["links"]) * 300;
  e.completion_tokens += static_cast<long>(cats) * 20 + static_cast<long>(e.calls_by_step["links"]) * 60;
  for (const auto& [s, k] : e.calls_by_step) e.calls += k;
  llm::Usage u;
  u.prompt_tokens = e.prompt_tokens;
  u.completion_tokens = e.completion_tokens;
  e.cost_usd = p.cost(u);
  return e;
}

}  // namespace persona::mine
