// A deterministic stand-in for the model in mining tests and the mining benchmark (never linked
// into the product): a keyword lexicon (tests/data/mine/lexicon.json) answers every mining step as a
// careful model would. Plug it into the fake server: `server.set_script(miner.script())`.
//
//   classify: 0 lexicon hits in the user's text -> non, 1 -> partial, 2 or more -> full
//   extract:  one attribute per hit: the entry's path and description, the keyword as evidence
//   validate: keeps every candidate
//   map:      the category tax::map_category gives the node (when listed), else NEW
//   links:    every child fits, except one whose name mentions an allergy when a listed node
//             mentions health: it moves there
#pragma once

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "llm/fake/fake_server.hpp"
#include "merge.hpp"
#include "taxonomy.hpp"

namespace persona::mine::fake {

class Miner {
 public:
  struct Entry {
    std::vector<std::string> keywords;
    std::vector<std::string> path;
    std::string description;
  };

  static std::optional<Miner> load(const std::filesystem::path& lexicon) {
    std::ifstream in(lexicon);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (!j.is_array()) return std::nullopt;
    Miner m;
    for (const auto& e : j) {
      Entry x;
      for (const auto& k : e["keywords"]) x.keywords.push_back(lower(k.get<std::string>()));
      for (const auto& p : e["path"]) x.path.push_back(p.get<std::string>());
      x.description = e.value("description", "");
      m.lexicon_.push_back(std::move(x));
    }
    return m;
  }

  // The lexicon entries whose keywords occur in `text`, with the matched words as written.
  [[nodiscard]] std::vector<std::pair<const Entry*, std::string>> hits(const std::string& text) const {
    const std::string l = lower(text);
    std::vector<std::pair<const Entry*, std::string>> out;
    for (const auto& e : lexicon_)
      for (const auto& k : e.keywords) {
        const auto at = find_word(l, k);
        if (at == std::string::npos) continue;
        out.emplace_back(&e, text.substr(at, k.size()));
        break;
      }
    return out;
  }

  [[nodiscard]] std::optional<std::string> answer(const nlohmann::json& request) const {
    std::string schema;
    if (request.contains("response_format") && request["response_format"].contains("json_schema"))
      schema = request["response_format"]["json_schema"].value("name", "");
    std::string user;
    for (const auto& m : request.value("messages", nlohmann::json::array()))
      if (m.value("role", "") == "user") {
        user = m.value("content", "");
        break;
      }
    using json = nlohmann::json;
    if (schema == "mine_classify") {
      const auto h = hits(user_text(user));
      return json{{"label", h.empty()       ? "non"
                            : h.size() == 1 ? "partial"
                                            : "full"},
                  {"reason", "keyword count"}}
          .dump();
    }
    if (schema == "mine_extract") {
      json attrs = json::array();
      for (const auto& [e, word] : hits(user_text(user)))
        attrs.push_back({{"path", e->path}, {"value", ""}, {"evidence", word}, {"description", e->description}});
      return json{{"attributes", attrs}}.dump();
    }
    if (schema == "mine_validate") {
      json verdicts = json::array();
      const std::string block = between(user, "<candidates>\n", "\n</candidates>");
      std::istringstream lines(block);
      std::string line;
      while (std::getline(lines, line)) {
        const auto dot = line.find('.');
        if (dot == std::string::npos) continue;
        verdicts.push_back({{"index", std::stoi(line.substr(0, dot))}, {"keep", true}, {"reason", "an attribute"}});
      }
      return json{{"verdicts", verdicts}}.dump();
    }
    if (schema == "mine_map") {
      const std::string node = between(user, "<node>", "</node>");
      if (auto c = tax::map_category(node); c && user.find("- " + std::string(c->first)) != std::string::npos)
        return json{{"category", std::string(c->first)}, {"new_name", ""}}.dump();
      std::string best;
      double score = 0.2;  // below this nothing fits: a new category
      for (auto cat : tax::categories())
        if (const double x = tax::name_similarity(node, cat);
            x > score && user.find("- " + std::string(cat)) != std::string::npos) {
          best = std::string(cat);
          score = x;
        }
      if (!best.empty()) return json{{"category", best}, {"new_name", ""}}.dump();
      return json{{"category", "NEW"}, {"new_name", node}}.dump();
    }
    if (schema == "mine_links") {
      json links = json::array();
      const std::string kids = between(user, "Children:\n", "\nExisting nodes:");
      const std::string parents = user.substr(std::min(user.size(), user.find("Existing nodes:\n") + 16));
      std::string health;
      std::istringstream pl(parents);
      std::string p;
      while (std::getline(pl, p))
        if (p.starts_with("- ") && lower(p).find("health") != std::string::npos && health.empty()) health = p.substr(2);
      std::istringstream kl(kids);
      std::string k;
      while (std::getline(kl, k)) {
        if (!k.starts_with("- ")) continue;
        const std::string child = k.substr(2);
        const bool move = !health.empty() && lower(child).find("allerg") != std::string::npos;
        links.push_back({{"child", child}, {"fits", !move}, {"better_parent", move ? health : ""}});
      }
      return json{{"links", links}}.dump();
    }
    return std::nullopt;
  }

  [[nodiscard]] llm::fake::Script script() const {
    return [this](const nlohmann::json& r) { return answer(r); };
  }
  [[nodiscard]] const std::vector<Entry>& lexicon() const { return lexicon_; }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

 private:
  static std::string between(const std::string& s, const std::string& a, const std::string& b) {
    const auto i = s.find(a);
    if (i == std::string::npos) return {};
    const auto j = s.find(b, i + a.size());
    return s.substr(i + a.size(), j == std::string::npos ? std::string::npos : j - i - a.size());
  }
  // The user's words of the exchange in a prompt ("User: ..." up to "Assistant: ").
  static std::string user_text(const std::string& prompt) {
    std::string ex = between(prompt, "<exchange>\n", "\n</exchange>");
    if (ex.starts_with("User: ")) ex = ex.substr(6);
    if (const auto a = ex.find("\nAssistant: "); a != std::string::npos) ex.resize(a);
    return ex;
  }
  static bool word_char(unsigned char c) { return std::isalnum(c) != 0 || c == '-' || c == '\''; }
  // Whole-word match for ASCII keywords; substring for keywords with other characters.
  static std::size_t find_word(const std::string& hay, const std::string& k) {
    const bool ascii = std::all_of(k.begin(), k.end(), [](unsigned char c) { return c < 0x80; });
    for (std::size_t at = hay.find(k); at != std::string::npos; at = hay.find(k, at + 1)) {
      if (!ascii) return at;
      const bool left = at == 0 || !word_char(static_cast<unsigned char>(hay[at - 1]));
      const bool right = at + k.size() >= hay.size() || !word_char(static_cast<unsigned char>(hay[at + k.size()]));
      if (left && right) return at;
    }
    return std::string::npos;
  }
  std::vector<Entry> lexicon_;
};

}  // namespace persona::mine::fake
