// The step kinds of a program (internal to the engine; the public interface is engine::Step).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/program.hpp"

namespace persona::engine {

// How many times a step asks again for what an answer lacked before keeping what it has.
inline constexpr int kReasksMissing = 2;  // keys absent or not JSON
inline constexpr int kReasksShape = 1;    // list sizes, word ranges
// A fill value a coherence rule forbids is asked again once, quoting the rule; the slot keeps this
// reason until the re-ask's answer arrives (a second forbidden value is then rejected).
inline constexpr const char* kRuleReasked = "rejected once: asked again";

class AnchorStep final : public Step {
 public:
  AnchorStep(const Model& m, std::size_t anchor) : m_(m), i_(anchor) {}
  [[nodiscard]] Kind kind() const override { return Kind::anchor; }
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::string detail() const override;
  std::optional<Ask> run(Persona& p, Scratch& s) const override;

 private:
  const Model& m_;
  std::size_t i_;
};

// One story call: consecutive story steps of the recipe answered together.
class StoryStep final : public Step {
 public:
  StoryStep(const Model& m, std::vector<std::size_t> group, std::uint32_t index)
      : m_(m), group_(std::move(group)), index_(index) {}
  [[nodiscard]] Kind kind() const override { return Kind::story; }
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::string detail() const override;
  [[nodiscard]] Estimate estimate() const override;
  std::optional<Ask> run(Persona& p, Scratch& s) const override;
  std::optional<Ask> apply(Persona& p, Scratch& s, const Ask& ask, Answer& a) const override;
  [[nodiscard]] const std::vector<std::size_t>& group() const { return group_; }

 private:
  const Model& m_;
  std::vector<std::size_t> group_;
  std::uint32_t index_;
};

class SelectStep final : public Step {
 public:
  SelectStep(const Model& m, std::uint32_t index) : m_(m), index_(index) {}
  [[nodiscard]] Kind kind() const override { return Kind::select; }
  [[nodiscard]] std::string name() const override { return "select attributes"; }
  [[nodiscard]] std::string detail() const override;
  // Offline similarity: selects at once. Embeddings: asks for the core's embedding first.
  std::optional<Ask> run(Persona& p, Scratch& s) const override;
  std::optional<Ask> apply(Persona& p, Scratch& s, const Ask& ask, Answer& a) const override;

 private:
  const Model& m_;
  std::uint32_t index_;
};

// Fill batch k: slots [k*batch, (k+1)*batch) of the selection (none for a persona with fewer).
class FillStep final : public Step {
 public:
  FillStep(const Model& m, std::size_t k, std::uint32_t index) : m_(m), k_(k), index_(index) {}
  [[nodiscard]] Kind kind() const override { return Kind::fill; }
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] std::string detail() const override;
  [[nodiscard]] Estimate estimate() const override;
  std::optional<Ask> run(Persona& p, Scratch& s) const override;
  std::optional<Ask> apply(Persona& p, Scratch& s, const Ask& ask, Answer& a) const override;

 private:
  const Model& m_;
  std::size_t k_;
  std::uint32_t index_;
};

class NarrativeStep final : public Step {
 public:
  NarrativeStep(const Model& m, std::uint32_t index) : m_(m), index_(index) {}
  [[nodiscard]] Kind kind() const override { return Kind::narrative; }
  [[nodiscard]] std::string name() const override { return "narrative"; }
  [[nodiscard]] std::string detail() const override;
  [[nodiscard]] Estimate estimate() const override;
  std::optional<Ask> run(Persona& p, Scratch& s) const override;
  std::optional<Ask> apply(Persona& p, Scratch& s, const Ask& ask, Answer& a) const override;

 private:
  const Model& m_;
  std::uint32_t index_;
};

// Draws the persona's latent facts (coherence::Rules::begin: partner, children, religion, ... from
// Rng::derive(seed, index, "fact:" + name), conditioned on the anchors) and adds them to p.facts.
// Run by the last anchor step, else by the selection; a no-op once done for this persona.
void bind_facts(const Model& m, Persona& p);
// The selection itself (select.cpp), shared by SelectStep and explain_selection(). `offline`: rank
// by Model::offline_scorer() (the persona's core embedding failed) rather than Model::scorer().
void select_attributes(const Model& m, Persona& p, Scratch& scratch, bool offline = false);
// Slots [first, last) of fill batch k.
std::pair<std::size_t, std::size_t> batch_range(const Model& m, const Persona& p, std::size_t k);
// The number of fill steps of a recipe: ceil(max_count / batch).
std::size_t fill_steps(const lang::Recipe& r);

// Negative filler ("No ...", "None", "N/A", "does not ...") in a free-text answer.
bool negative_filler(std::string_view value);

// The tone a story step's answer is asked in for this persona: "" when the step declares none, its
// one tone, or one of its `random(...)` tones, equally likely, from Rng::derive(seed, index,
// "tone:" + output) -- the same for a persona whatever the scheduler or a re-ask.
std::string_view tone_of(const lang::StoryStep& step, const Persona& p);

}  // namespace persona::engine
