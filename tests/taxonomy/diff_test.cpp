// `tax::diff` and `persona taxonomy diff A B`: added, removed, moved and changed nodes, the text and
// JSON forms, and the exit codes (0 equal, 1 different, 2 unreadable input or usage error).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "process.hpp"
#include "test_support.hpp"

using namespace persona;

namespace {

constexpr const char* kBase =
    "Lifestyle | How a person lives\n"
    "  Sleep | Sleep habits\n"
    "    Chronotype | Mornings or evenings\n"
    "      = morning @0.25 | evening @0.75\n"
    "    Bedtime | When the person goes to bed\n"
    "      = early | late\n"
    "      ? age >= 12\n"
    "  Pets | Animals at home\n"
    "    Pet Ownership | Which pets the person has\n"
    "      Dog Owner | Has a dog\n"
    "        = yes | no\n"
    "      Cat Owner | Has a cat\n"
    "        = yes | no\n"
    "Hobbies | Free time\n"
    "  Music | Music in the person's life\n"
    "    Music Taste | What the person listens to\n"
    "      = jazz | rock | pop\n";

tax::Taxonomy load(const std::string& text, const std::string& file) {
  DiagnosticList diags;
  tax::LoadOptions opts;
  opts.vectors = false;
  auto t = tax::load_tax_text(text, file, diags, opts);
  INFO(tax_test::dump(diags));
  REQUIRE(t);
  REQUIRE_FALSE(diags.has_errors());
  return std::move(*t);
}

// kBase with `from` replaced by `to` (which must occur).
std::string edit(const std::string& from, const std::string& to, std::string text = kBase) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

}  // namespace

TEST_CASE("two loads of the same taxonomy have no differences", "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  const auto b = load(kBase, "b.tax");
  const auto d = tax::diff(a, b);
  CHECK(d.equal());
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  CHECK(d.moved.empty());
  CHECK(d.changed.empty());
  CHECK(d.to_text() == "no differences (11 nodes)\n");
  const auto j = nlohmann::json::parse(d.to_json());
  CHECK(j["equal"] == true);
  CHECK(j["counts"]["changed"] == 0);
}

TEST_CASE("stdlib.core compared with itself has no differences", "[taxonomy][diff]") {
  DiagnosticList diags;
  tax::LoadOptions opts;
  opts.vectors = false;
  auto a = tax::load_stdlib("core", diags, opts);
  auto b = tax::load_stdlib("core", diags, opts);
  REQUIRE(a);
  REQUIRE(b);
  const auto d = tax::diff(*a, *b);
  CHECK(d.equal());
  CHECK(d.a_nodes > 1000);
}

TEST_CASE("a node only in B is added and a node only in A is removed, with their subtrees", "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  const auto b = load(edit("  Music | Music in the person's life\n    Music Taste | What the person listens to\n      "
                           "= jazz | rock | pop\n",
                           "  Reading | Books\n    Favourite Genre | The genre read most\n      = crime | romance\n"),
                      "b.tax");
  const auto d = tax::diff(a, b);
  CHECK_FALSE(d.equal());
  CHECK(d.added == std::vector<std::string>{"Hobbies/Reading", "Hobbies/Reading/Favourite Genre"});
  CHECK(d.removed == std::vector<std::string>{"Hobbies/Music", "Hobbies/Music/Music Taste"});
  CHECK(d.moved.empty());
  // Hobbies lost a child and gained one, but its own fields did not change.
  CHECK(d.changed.empty());
  CHECK(d.to_text() ==
        "- Hobbies/Music\n"
        "- Hobbies/Music/Music Taste\n"
        "+ Hobbies/Reading\n"
        "+ Hobbies/Reading/Favourite Genre\n"
        "2 added, 2 removed, 0 moved, 0 changed (11 nodes in A, 11 in B)\n");
}

TEST_CASE("a changed description, option, weight, condition, weighting and leaf status are each reported",
          "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  std::string text = edit("Chronotype | Mornings or evenings", "Chronotype | Preference for mornings or evenings");
  text = edit("= morning @0.25 | evening @0.75", "= morning @0.4 | evening @0.6", text);
  text =
      edit("      = early | late\n      ? age >= 12\n", "      = early | late | very late\n      ? age >= 16\n", text);
  text = edit("      = jazz | rock | pop\n",
              "      = jazz | rock | pop\n      ~ when age >= 60: jazz @3 | rock @1 | pop @1\n", text);
  text = edit("      Cat Owner | Has a cat\n        = yes | no\n",
              "      Cat Owner | Has a cat\n        Number of Cats | How many cats\n          = one | two or more\n",
              text);
  const auto b = load(text, "b.tax");
  const auto d = tax::diff(a, b);
  REQUIRE(d.changed.size() == 4);
  CHECK(d.added == std::vector<std::string>{"Lifestyle/Pets/Pet Ownership/Cat Owner/Number of Cats"});
  CHECK(d.removed.empty());

  const auto& bed = d.changed[2];
  CHECK(bed.path == "Lifestyle/Sleep/Bedtime");
  CHECK(bed.values_added == std::vector<std::string>{"very late"});
  CHECK(bed.values_removed.empty());
  CHECK(bed.conditions_added == std::vector<std::string>{"age >= 16"});
  CHECK(bed.conditions_removed == std::vector<std::string>{"age >= 12"});

  const auto& chrono = d.changed[3];
  CHECK(chrono.path == "Lifestyle/Sleep/Chronotype");
  CHECK(chrono.description);
  CHECK(chrono.description_a == "Mornings or evenings");
  CHECK(chrono.description_b == "Preference for mornings or evenings");
  REQUIRE(chrono.weights.size() == 2);
  CHECK(chrono.weights[0].label == "morning");
  CHECK(chrono.weights[0].a == Approx(0.25));
  CHECK(chrono.weights[0].b == Approx(0.4));

  const auto& cat = d.changed[1];
  CHECK(cat.path == "Lifestyle/Pets/Pet Ownership/Cat Owner");
  CHECK(cat.leaf_changed);
  CHECK(cat.leaf_a);
  CHECK_FALSE(cat.leaf_b);
  CHECK(cat.values_removed == std::vector<std::string>{"yes", "no"});

  const auto& taste = d.changed[0];
  CHECK(taste.path == "Hobbies/Music/Music Taste");
  CHECK(taste.weightings_added.size() == 1);

  const std::string text_out = d.to_text();
  CHECK(text_out.find("~ Lifestyle/Sleep/Chronotype: description \"Mornings or evenings\" -> \"Preference for "
                      "mornings or evenings\"; weight \"morning\" 0.25 -> 0.4; weight \"evening\" 0.75 -> 0.6\n") !=
        std::string::npos);
  CHECK(text_out.find("~ Lifestyle/Sleep/Bedtime: values +\"very late\"; conditions +\"age >= 16\" -\"age >= "
                      "12\"\n") != std::string::npos);
  CHECK(text_out.find("~ Lifestyle/Pets/Pet Ownership/Cat Owner: leaf -> inner; values -\"yes\" -\"no\"\n") !=
        std::string::npos);
  CHECK(text_out.find("~ Hobbies/Music/Music Taste: weightings +\"when age >= 60") != std::string::npos);
  // Sorted by path: Hobbies before Lifestyle.
  CHECK(text_out.find("~ Hobbies/") < text_out.find("~ Lifestyle/"));

  const auto j = nlohmann::json::parse(d.to_json());
  CHECK(j["equal"] == false);
  CHECK(j["counts"]["changed"] == 4);
  CHECK(j["counts"]["added"] == 1);
  CHECK(j["changed"][3]["description"]["b"] == "Preference for mornings or evenings");
  CHECK(j["changed"][3]["values"]["weights"][0]["b"].get<double>() == Approx(0.4));
  CHECK(j["changed"][1]["leaf"]["a"] == true);
  CHECK(j["changed"][2]["conditions"]["removed"][0] == "age >= 12");
}

TEST_CASE("a long description is cut at 60 bytes with an ellipsis in the text form but kept whole in JSON",
          "[taxonomy][diff]") {
  const std::string longer = "Which pets the person has, counting every animal that lives in the household today";
  const auto a = load(kBase, "a.tax");
  const auto b = load(edit("Pet Ownership | Which pets the person has", "Pet Ownership | " + longer), "b.tax");
  const auto d = tax::diff(a, b);
  REQUIRE(d.changed.size() == 1);
  CHECK(d.to_text().starts_with("~ Lifestyle/Pets/Pet Ownership: description \"Which pets the person has\" -> \"" +
                                longer.substr(0, 60) + "...\"\n"));
  CHECK(nlohmann::json::parse(d.to_json())["changed"][0]["description"]["b"] == longer);
}

TEST_CASE("options in another order are reported as reordered, not as added or removed", "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  const auto b = load(edit("= jazz | rock | pop", "= pop | jazz | rock"), "b.tax");
  const auto d = tax::diff(a, b);
  REQUIRE(d.changed.size() == 1);
  CHECK(d.changed[0].values_reordered);
  CHECK(d.changed[0].values_added.empty());
  CHECK(d.changed[0].values_removed.empty());
  CHECK(d.to_text().starts_with("~ Hobbies/Music/Music Taste: values reordered\n"));
}

TEST_CASE("a node under another parent with the same name and description is moved, and its subtree with it",
          "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  // Pets moves from Lifestyle to Hobbies; Dog Owner's options change on the way.
  std::string text = edit(
      "  Pets | Animals at home\n    Pet Ownership | Which pets the person has\n      Dog Owner | Has a dog\n        = "
      "yes | no\n      Cat Owner | Has a cat\n        = yes | no\n",
      "");
  text +=
      "  Pets | Animals at home\n    Pet Ownership | Which pets the person has\n      Dog Owner | Has a dog\n"
      "        = yes | no | used to\n      Cat Owner | Has a cat\n        = yes | no\n";
  const auto b = load(text, "b.tax");
  const auto d = tax::diff(a, b);
  REQUIRE(d.moved.size() == 1);
  CHECK(d.moved[0].from == "Lifestyle/Pets");
  CHECK(d.moved[0].to == "Hobbies/Pets");
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  REQUIRE(d.changed.size() == 1);
  CHECK(d.changed[0].path == "Hobbies/Pets/Pet Ownership/Dog Owner");
  CHECK(d.changed[0].from_path == "Lifestyle/Pets/Pet Ownership/Dog Owner");
  CHECK(d.to_text() ==
        "~ Hobbies/Pets/Pet Ownership/Dog Owner: values +\"used to\"\n"
        "> Lifestyle/Pets -> Hobbies/Pets\n"
        "0 added, 0 removed, 1 moved, 1 changed (11 nodes in A, 11 in B)\n");
  const auto j = nlohmann::json::parse(d.to_json());
  CHECK(j["moved"][0]["from"] == "Lifestyle/Pets");
  CHECK(j["changed"][0]["from"] == "Lifestyle/Pets/Pet Ownership/Dog Owner");
}

TEST_CASE("a node whose name and description changed with its parent is removed and added, not moved",
          "[taxonomy][diff]") {
  const auto a = load(kBase, "a.tax");
  std::string text = edit("    Music Taste | What the person listens to\n      = jazz | rock | pop\n", "");
  text = edit("    Bedtime | When the person goes to bed\n",
              "    Music Taste | What the person listens to most\n      = jazz | rock | pop\n"
              "    Bedtime | When the person goes to bed\n",
              text);
  const auto b = load(text, "b.tax");
  const auto d = tax::diff(a, b);
  CHECK(d.moved.empty());
  CHECK(d.added == std::vector<std::string>{"Lifestyle/Sleep/Music Taste"});
  CHECK(d.removed == std::vector<std::string>{"Hobbies/Music/Music Taste"});
}

TEST_CASE("persona taxonomy diff exits 0 when equal, 1 when different and 2 when a side cannot be loaded",
          "[taxonomy][diff][cli]") {
  const auto dir = test::scratch_dir("taxonomy-diff");
  test::write_file(dir / "a.tax", kBase);
  test::write_file(dir / "same.tax", kBase);
  test::write_file(dir / "b.tax", edit("= jazz | rock | pop", "= jazz | rock | pop | folk"));
  test::write_file(dir / "broken.tax", "Lifestyle | x\n      Too Deep | y\n");
  const std::string bin = PERSONA_BIN;
  const std::string a = (dir / "a.tax").string();

  auto o = test::run_command(bin + " taxonomy diff " + a + " " + (dir / "same.tax").string());
  CHECK(o.code == 0);
  CHECK(o.out == "no differences (11 nodes)\n");

  o = test::run_command(bin + " taxonomy diff " + a + " " + (dir / "b.tax").string());
  CHECK(o.code == 1);
  CHECK(o.out.starts_with("~ Hobbies/Music/Music Taste: values +\"folk\"\n"));

  o = test::run_command(bin + " taxonomy diff " + a + " " + (dir / "b.tax").string() + " --json");
  CHECK(o.code == 1);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j["a"] == a);
  CHECK(j["counts"]["changed"] == 1);
  CHECK(j["changed"][0]["values"]["added"][0] == "folk");

  o = test::run_command(bin + " taxonomy diff stdlib.core stdlib.core");
  CHECK(o.code == 0);
  CHECK(o.out.starts_with("no differences ("));

  const std::string json = tax_test::data("small.json");
  o = test::run_command(bin + " taxonomy diff " + json + " " + json);
  CHECK(o.code == 0);
  CHECK(o.out.starts_with("no differences ("));

  o = test::run_command(bin + " taxonomy diff stdlib.core " + a);
  CHECK(o.code == 1);
  CHECK(o.out.find("- Demographic Information\n") != std::string::npos);
  CHECK(o.out.find("+ Lifestyle\n") != std::string::npos);

  o = test::run_command(bin + " taxonomy diff " + a + " " + (dir / "missing.tax").string());
  CHECK(o.code == 2);
  CHECK(o.out.empty());
  CHECK(o.err.find("missing.tax") != std::string::npos);
  CHECK(o.err.find("cannot load B") != std::string::npos);

  o = test::run_command(bin + " taxonomy diff " + (dir / "broken.tax").string() + " " + a);
  CHECK(o.code == 2);
  CHECK(o.err.find("broken.tax:2") != std::string::npos);
  CHECK(o.err.find("cannot load A") != std::string::npos);

  // An existing file whose name starts with "stdlib." is a file, not a standard-library name.
  test::write_file(dir / "stdlib.small.tax", kBase);
  o = test::run_command(bin + " taxonomy diff stdlib.small.tax " + a, "", dir.string());
  CHECK(o.code == 0);
  CHECK(o.err.empty());

  o = test::run_command(bin + " taxonomy diff stdlib.nonexistent " + a);
  CHECK(o.code == 2);
  CHECK(o.err.find("cannot load A 'stdlib.nonexistent'") != std::string::npos);

  o = test::run_command(bin + " taxonomy diff " + a);
  CHECK(o.code == 2);
  CHECK(o.out.empty());
}
