// Deterministic randomness. Every random draw in persona derives from (recipe seed, persona index,
// step), never from shared mutable state, so threads, shards and resumes never change a persona.
//
//   Rng rng = Rng::derive(seed, index, "anchor:age");   // one stream per (seed, index, step)
//   double u = rng.uniform();                            // [0, 1)
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace persona {

// 64-bit FNV-1a: stable across platforms and runs (std::hash is not).
constexpr std::uint64_t stable_hash(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// xoshiro256** seeded through splitmix64. Small, fast, and good enough for sampling.
class Rng {
 public:
  using result_type = std::uint64_t;

  explicit Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) {
      x = splitmix64(x);
      w = x;
    }
  }

  // The stream for one step of one persona. THE derivation: every random draw of the project
  // comes from here (the overload below only skips hashing the step name again).
  static Rng derive(std::uint64_t seed, std::uint64_t index, std::string_view step) {
    return derive_hashed(seed, index, stable_hash(step));
  }
  // Same, with stable_hash(step) computed once by the caller (hot paths).
  static Rng derive_hashed(std::uint64_t seed, std::uint64_t index, std::uint64_t step_hash) {
    return Rng(splitmix64(splitmix64(seed) ^ splitmix64(index + 0x632be59bd9b4e019ULL) ^ step_hash));
  }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }

  result_type operator()() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform double in [0, 1).
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }
  // Standard normal (Box-Muller, one value per call; deterministic).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace persona
