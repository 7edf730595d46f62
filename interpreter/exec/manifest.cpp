// Run fingerprints (what a resume must match, what `persona diff` compares) and the manifest.
#include <filesystem>

#include "base/files.hpp"
#include "exec/exec.hpp"

#ifndef PERSONA_VERSION
#define PERSONA_VERSION "0.0.0"
#endif

namespace persona::exec {

using json = nlohmann::ordered_json;

namespace {

std::string file_hash(const std::string& path) {
  auto got = files::read(path, {.max_bytes = 1ull << 30, .require_utf8 = false});
  return got.ok() ? files::sha256_hex(*got.text) : std::string("unreadable");
}

json params_json(const lang::Recipe& r) {
  json params = json::object();
  for (const auto& [k, v] : r.model.params) {
    if (const double* d = std::get_if<double>(&v))
      params[k] = *d;
    else
      params[k] = std::get<std::string>(v);
  }
  return params;
}

}  // namespace

json fingerprint(const engine::Program& prog, const RunOptions& opts) {
  const auto& m = prog.model();
  const auto& r = m.recipe();
  json fp;
  fp["engine"] = PERSONA_VERSION;
  // The recipe's meaning, statement by statement: the program's steps, model and output settings.
  json statements = json::array();
  for (std::size_t i = 0; i < prog.size(); ++i) statements.push_back({prog.step(i).name(), prog.step(i).detail()});
  statements.push_back({"model", r.model.provider + " " + params_json(r).dump()});
  json out = json::object();
  for (const auto& [k, v] : r.output) {
    if (k == "path") continue;  // where the output goes is not what it holds
    if (const double* d = std::get_if<double>(&v))
      out[k] = *d;
    else
      out[k] = std::get<std::string>(v);
  }
  statements.push_back({"output", out.dump()});
  fp["recipe"] = {{"name", r.name}, {"version", r.version}, {"statements", statements}};
  // Every file the personas depend on, by content.
  json inputs = json::object();
  inputs["taxonomy " + r.taxonomy] = m.taxonomy().content_hash();
  for (const auto& a : m.anchors())
    if (a.table != nullptr && !a.table->where.file.empty())
      inputs["table " + a.table->name] = file_hash(a.table->where.file);
  for (const auto& [name, hash] : opts.inputs) inputs[name] = hash;
  fp["inputs"] = inputs;
  json model = {{"backend", opts.llm == nullptr ? "offline" : "llm"}};
  if (opts.llm != nullptr) {
    const auto& s = opts.llm->setup();
    model["provider"] = s.provider.name;
    model["style"] = llm::to_string(s.provider.style);
    model["model"] = s.provider.model;
    model["temperature"] = s.temperature;
    model["max_tokens"] = s.max_tokens;
    model["prompts"] = s.templates.fingerprint;
  }
  fp["model"] = model;
  fp["run"] = {{"seed", opts.seed},
               {"count", opts.count},
               {"shard", std::to_string(opts.shard_k) + "/" + std::to_string(opts.shard_n)},
               {"format", std::string(record::to_string(opts.format))}};
  return fp;
}

std::vector<std::string> fingerprint_differences(const json& was, const json& now, const std::string& earlier) {
  auto text = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
  std::vector<std::string> out;
  for (const auto& [section, value] : now.items()) {
    if (!was.contains(section)) {
      out.push_back(earlier + " has no '" + section + "' in its record (an older version)");
      continue;
    }
    const json& old = was[section];
    if (old == value) continue;
    if (section == "recipe" && value.is_object() && value.contains("statements")) {
      const json& a = old.contains("statements") ? old["statements"] : json::array();
      const json& b = value["statements"];
      const std::size_t before = out.size();
      // Statements are keyed by what they are ("anchor age", "fill batch 2"): a statement added in
      // the middle is one difference, not a shift of every later one.
      auto find = [&](const json& list, const json& key) -> const json* {
        for (const auto& st : list)
          if (st.is_array() && st.size() == 2 && st[0] == key) return &st;
        return nullptr;
      };
      for (const auto& st : b) {
        if (!st.is_array() || st.size() != 2) continue;
        const json* was_st = find(a, st[0]);
        if (was_st == nullptr)
          out.push_back("the recipe changed: '" + text(st[0]) + "' was added");
        else if ((*was_st)[1] != st[1])
          out.push_back("the recipe changed: " + text(st[0]) + " was `" + text((*was_st)[1]) + "`, now `" +
                        text(st[1]) + "`");
      }
      for (const auto& st : a)
        if (st.is_array() && st.size() == 2 && find(b, st[0]) == nullptr)
          out.push_back("the recipe changed: '" + text(st[0]) + "' was removed");
      if (out.size() == before) out.emplace_back("the recipe's name or version changed");
      continue;
    }
    if (value.is_object() && old.is_object()) {
      for (const auto& [k, v] : value.items()) {
        if (!old.contains(k))
          out.push_back(section + " " + k + " is new (not in " + earlier + ")");
        else if (old[k] != v)
          out.push_back(section + ": " + k + " changed (was " + text(old[k]) + ", now " + text(v) + ")");
      }
      for (const auto& [k, v] : old.items())
        if (!value.contains(k)) out.push_back(section + " " + k + " is gone (" + earlier + " had " + text(v) + ")");
      continue;
    }
    out.push_back(section + " changed (was " + text(old) + ", now " + text(value) + ")");
  }
  for (const auto& [section, value] : was.items())
    if (!now.contains(section)) out.push_back(section + " is gone (" + earlier + " had " + text(value) + ")");
  return out;
}

std::string fingerprint_difference(const json& was, const json& now) {
  auto all = fingerprint_differences(was, now, "the interrupted run");
  return all.empty() ? std::string() : all.front();
}

json manifest(const engine::Program& prog, const RunOptions& opts, const RunResult& res, const std::string& started,
              const std::string& finished) {
  const auto& m = prog.model();
  const auto& r = m.recipe();
  const RunTotals& t = res.totals;
  json j;
  j["engine"] = {{"name", "persona"}, {"version", PERSONA_VERSION}};
  j["recipe"] = {
      {"name", r.name}, {"version", r.version}, {"file", r.file}, {"files", r.files}, {"text_hash", r.text_hash}};
  const auto st = m.taxonomy().stats();
  j["taxonomy"] = {{"name", r.taxonomy},
                   {"content_hash", m.taxonomy().content_hash()},
                   {"nodes", st.nodes},
                   {"leaves", st.leaves},
                   {"leaves_restating_anchors", m.restating_leaves()}};
  json tables = json::array();
  for (const auto& a : m.anchors())
    if (a.table != nullptr)
      tables.push_back(
          {{"anchor", a.anchor->name}, {"table", a.table->name}, {"source", a.table->source}, {"year", a.table->year}});
  j["tables"] = tables;
  json model = {{"backend", opts.llm == nullptr ? "offline" : "llm"}};
  if (opts.llm != nullptr) {
    const auto& s = opts.llm->setup();
    model["provider"] = s.provider.name;
    model["name"] = s.provider.model;
    model["style"] = llm::to_string(s.provider.style);
    if (!s.config_file.empty()) model["config"] = s.config_file;
    // The prices the cost was computed at (`persona merge` recomputes the cost of summed usage).
    model["prices"] = {{"input_per_mtok", s.provider.price_input_per_mtok},
                       {"cached_input_per_mtok", s.provider.price_cached_input_per_mtok},
                       {"output_per_mtok", s.provider.price_output_per_mtok}};
  } else {
    model["provider"] = r.model.provider;
  }
  model["params"] = params_json(r);
  j["model"] = model;
  j["seed"] = opts.seed;
  const engine::Estimate e = prog.estimate();
  j["parameters"] = {
      {"count", opts.count},
      {"threads", std::max(1u, opts.threads)},
      {"shard", std::to_string(opts.shard_k) + "/" + std::to_string(opts.shard_n)},
      {"attributes",
       {{"min_count", r.attributes.min_count},
        {"max_count", r.attributes.max_count},
        {"tiers", {r.attributes.near, r.attributes.mid, r.attributes.far}},
        {"walk", r.attributes.walk},
        {"prefer", r.attributes.prefer},
        {"batch", r.attributes.batch},
        {"context_tokens", r.attributes.context_tokens}}},
      {"narrative",
       {{"voice", r.narrative.voice}, {"min_words", r.narrative.min_words}, {"max_words", r.narrative.max_words}}},
      {"command_line", opts.command_line}};
  if (opts.population) {
    json targets = json::array();
    for (const auto& rep : opts.population->reports())
      targets.push_back(
          {{"target", rep.target}, {"groups", rep.groups}, {"personas_off", rep.off}, {"raking_gap", rep.raking_gap}});
    j["population"] = {{"summary", opts.population->summary()},
                       {"cells", opts.population->cell_count()},
                       {"residual", opts.population->residual()},
                       {"targets", targets}};
  }
  if (!r.attributes.panels.empty()) j["parameters"]["attributes"]["panel"] = r.attributes.panels;
  j["output"] = {{"path", opts.out}, {"bytes", t.bytes}, {"format", std::string(record::to_string(opts.format))}};
  if (opts.format == record::Format::csv) j["output"]["files"] = record::output_files(opts.format, opts.out);
  json statuses = json::object();
  for (const auto& [k, v] : status_kinds(t)) statuses[k] = v;
  // `panel` only when the recipe has one, so the counts of other runs keep their shape.
  json tiers = {{"near", t.tier[0]}, {"mid", t.tier[1]}, {"far", t.tier[2]}};
  if (t.tier[3] > 0) tiers["panel"] = t.tier[3];
  j["counts"] = {
      {"personas", t.personas},
      {"attributes", t.attributes},
      {"filled", t.filled},
      {"not_filled", t.not_filled},
      {"not_filled_by_status", statuses},
      {"attributes_min", t.min_attributes},
      {"attributes_max", t.max_attributes},
      {"tiers", tiers},
      {"sources", {{"options", t.source[0]}, {"lexicon", t.source[1]}, {"llm", t.source[2]}, {"table", t.source[3]}}},
      {"resumed", t.resumed},
      {"reasked", t.reasks},
      {"personas_with_problems", t.with_problems},
      {"problems", t.problems}};
  const bool offline = opts.llm == nullptr;
  j["totals"] = {{"calls", t.usage.calls},
                 {"prompt_tokens", t.usage.prompt_tokens},
                 {"completion_tokens", t.usage.completion_tokens},
                 {"cached_tokens", t.usage.cached_tokens},
                 {"cost_usd", offline ? 0.0 : cost_usd(opts.llm->setup().provider, t.usage)},
                 {"estimate_per_persona",
                  {{"calls", offline ? 0 : e.calls},
                   {"prompt_tokens", offline ? 0 : e.prompt_tokens},
                   {"completion_tokens", offline ? 0 : e.completion_tokens}}}};
  if (!offline) {
    const auto stats = res.stats.to_json();
    j["llm"] = json::parse(stats.dump());
  }
  j["fingerprint"] = fingerprint(prog, opts);
  j["timestamps"] = {{"started", started}, {"finished", finished}, {"seconds", t.seconds}};
  return j;
}

}  // namespace persona::exec
