// The distribution metrics: hand-computed cases (weighted and tied included), and a comparison
// with an independent implementation (scipy / numpy, tests/survey/scipy_check.py).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/rng.hpp"
#include "process.hpp"
#include "survey/metrics.hpp"

using namespace persona;
using namespace persona::survey;
using Catch::Detail::Approx;

TEST_CASE("ties are merged and weights add up when a distribution is built") {
  const Dist d = make_dist({3, 1, 3, 2, 1, 1}, {1, 0.5, 2, 1, 0.5, 1});
  REQUIRE(d.x == std::vector<double>{1, 2, 3});
  REQUIRE(d.w == std::vector<double>{2, 1, 3});
  CHECK(d.total() == Approx(6));
  CHECK(mean(d) == Approx((1 * 2 + 2 * 1 + 3 * 3) / 6.0));
  // Non-finite values and non-positive weights are dropped.
  const Dist e = make_dist({1, NAN, 2, 3}, {1, 1, 0, -1});
  CHECK(e.x == std::vector<double>{1});
}

TEST_CASE("KS, W1, JS and the mean difference match hand-computed values") {
  const Dist a = make_dist({1, 2, 3}), b = make_dist({2, 3, 4});
  CHECK(ks_statistic(a, b) == Approx(1.0 / 3));
  CHECK(wasserstein1(a, b) == Approx(1.0));  // a shift by one
  CHECK(std::fabs(mean(a) - mean(b)) == Approx(1.0));
  // Identical distributions: every distance is zero.
  CHECK(ks_statistic(a, a) == 0.0);
  CHECK(wasserstein1(a, a) == 0.0);
  const std::vector<double> p = {0.2, 0.3, 0.5};
  CHECK(js_divergence(p, p) == Approx(0.0).margin(1e-15));
  // Disjoint supports: JS divergence is 1 bit in base 2, ln 2 in nats.
  const std::vector<double> x = {1, 0}, y = {0, 1};
  CHECK(js_divergence(x, y, 2.0) == Approx(1.0));
  CHECK(js_divergence(x, y, std::exp(1.0)) == Approx(std::log(2.0)));
  // A hand-computed JS: p = (1/2, 1/2), q = (1, 0); m = (3/4, 1/4).
  const std::vector<double> p2 = {0.5, 0.5}, q2 = {1, 0};
  const double expected =
      0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5 * std::log2(0.5 / 0.25)) + 0.5 * (1.0 * std::log2(1.0 / 0.75));
  CHECK(js_divergence(p2, q2) == Approx(expected));
  // Unnormalised inputs are normalised first.
  const std::vector<double> p3 = {1, 1}, q3 = {7, 0};
  CHECK(js_divergence(p3, q3) == Approx(expected));
}

TEST_CASE("weighted KS and W1 follow the weighted CDFs") {
  // a puts 1/2 on 0 and 1/2 on 1; b puts everything on 0.
  const Dist a = make_dist({0, 1}, {0.5, 0.5}), b = make_dist({0}, {3});
  CHECK(ks_statistic(a, b) == Approx(0.5));
  CHECK(wasserstein1(a, b) == Approx(0.5));
  // Weights act like repeated values: {1 x3, 4 x1} equals the sample 1,1,1,4.
  const Dist w = make_dist({1, 4}, {3, 1}), s = make_dist({1, 1, 1, 4});
  const Dist t = make_dist({2, 3});
  CHECK(ks_statistic(w, t) == Approx(ks_statistic(s, t)));
  CHECK(wasserstein1(w, t) == Approx(wasserstein1(s, t)));
  // Ties across both samples: F jumps together at 2.
  const Dist u = make_dist({2, 2, 5}), v = make_dist({2, 5, 5});
  CHECK(ks_statistic(u, v) == Approx(1.0 / 3));
  CHECK(wasserstein1(u, v) == Approx(1.0 / 3 * 3));
}

TEST_CASE("code shares ignore other codes and binned shares clamp to the range") {
  const Dist d = make_dist({1, 2, 2, 9, -1});
  const auto s = code_shares(d, {1, 2, 3});
  REQUIRE(s.size() == 3);
  CHECK(s[0] == Approx(1.0 / 3));
  CHECK(s[1] == Approx(2.0 / 3));
  CHECK(s[2] == 0.0);
  const auto b = binned_shares(make_dist({0, 4.9, 5, 10, 12}), 0, 10, 2);
  CHECK(b[0] == Approx(2.0 / 5));
  CHECK(b[1] == Approx(3.0 / 5));
}

TEST_CASE("compare leaves the ordinal metrics empty for unordered options and normalises by the range") {
  ScaleInfo nominal{Scale::nominal, {1, 2, 3}, 1, 3, 10};
  const auto r = compare(nominal, make_dist({1, 1, 2}), make_dist({3}), {});
  CHECK(std::isnan(r.ks));
  CHECK(std::isnan(r.w1));
  CHECK(r.js_divergence == Approx(1.0));
  ScaleInfo ordinal{Scale::ordinal, {1, 2, 3, 4, 5}, 1, 5, 10};
  const auto o = compare(ordinal, make_dist({1}), make_dist({5}), {});
  CHECK(o.w1 == Approx(4));
  CHECK(o.w1_norm == Approx(1));
  CHECK(o.mean_diff_norm == Approx(1));
  // Reference conventions: the JS figure is the 19-bin natural-log distance.
  const auto ref = compare(ordinal, make_dist({1}), make_dist({5}), {.reference = true});
  CHECK(ref.js_distance == Approx(reference_js_distance(make_dist({1}), make_dist({5}))));
  CHECK(ref.js_divergence == Approx(ref.js_distance * ref.js_distance));
  CHECK(ref.w1 == Approx(4));
}

namespace {

using persona::test::read_file;

}  // namespace

TEST_CASE("the metrics agree with scipy's ks_2samp, wasserstein_distance and jensenshannon") {
  // Deterministic cases: small and large samples, heavy ties, fractional values (means of repeats),
  // weighted ones, one-point samples.
  nlohmann::json cases = nlohmann::json::array();
  std::vector<std::pair<Dist, Dist>> dists;
  std::vector<std::vector<double>> codes_of;
  for (std::uint64_t k = 0; k < 60; ++k) {
    Rng rng = Rng::derive(2024, k, "test:scipy");
    const int scale = std::vector<int>{2, 3, 4, 5, 10}[k % 5];
    const bool weighted = k % 3 == 2;
    const bool fractional = k % 7 == 3;
    auto sample = [&](std::size_t n, std::vector<double>& vals, std::vector<double>& wts) {
      for (std::size_t i = 0; i < n; ++i) {
        double v = 1 + static_cast<double>(rng.below(static_cast<std::uint64_t>(scale)));
        if (fractional) v = (v + 1 + static_cast<double>(rng.below(static_cast<std::uint64_t>(scale)))) / 2;
        vals.push_back(v);
        wts.push_back(0.1 + 3 * rng.uniform());
      }
    };
    std::vector<double> a, aw, b, bw;
    sample(1 + rng.below(k < 5 ? 3 : 80), a, aw);
    sample(1 + rng.below(k < 5 ? 3 : 80), b, bw);
    nlohmann::json c = {{"a", a}, {"b", b}};
    std::vector<double> codes;
    for (int v = 1; v <= scale; ++v) codes.push_back(v);
    if (!fractional) c["codes"] = codes;
    if (weighted) {
      c["aw"] = aw;
      c["bw"] = bw;
      dists.emplace_back(make_dist(a, aw), make_dist(b, bw));
    } else {
      dists.emplace_back(make_dist(a), make_dist(b));
    }
    codes_of.push_back(fractional ? std::vector<double>{} : codes);
    cases.push_back(c);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("persona-survey-scipy-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cases.json") << cases.dump();
  // Debian's interpreter, which has python3-scipy (a pyenv or venv python3 on PATH may not).
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const auto run = persona::test::run_command(python + " '" + std::string(PERSONA_TESTS_DIR) +
                                              "/survey/scipy_check.py' '" + (dir / "cases.json").string() + "'");
  INFO("scipy_check.py failed: " << run.err);
  REQUIRE(run.code == 0);  // a missing scipy fails here: python3-scipy is installed by .ci/setup
  const auto got = nlohmann::json::parse(run.out);
  REQUIRE(got.size() == cases.size());
  std::size_t ks_checked = 0, js_checked = 0, ref_checked = 0;
  for (std::size_t k = 0; k < cases.size(); ++k) {
    INFO("case " << k << ": " << cases[k].dump());
    const auto& [a, b] = dists[k];
    CHECK(wasserstein1(a, b) == Approx(got[k]["w1"].get<double>()).epsilon(1e-12).margin(1e-12));
    if (got[k].contains("ks")) {
      CHECK(ks_statistic(a, b) == Approx(got[k]["ks"].get<double>()).epsilon(1e-12).margin(1e-12));
      ++ks_checked;
    }
    if (got[k].contains("js2")) {
      const auto p = code_shares(a, codes_of[k]), q = code_shares(b, codes_of[k]);
      CHECK(js_divergence(p, q, 2.0) == Approx(got[k]["js2"].get<double>()).epsilon(1e-10).margin(1e-12));
      ++js_checked;
    }
    if (got[k].contains("ref_js")) {
      if (got[k]["ref_js"].is_null()) {
        CHECK(std::isnan(reference_js_distance(a, b)));
      } else {
        CHECK(reference_js_distance(a, b) == Approx(got[k]["ref_js"].get<double>()).epsilon(1e-10).margin(1e-12));
      }
      ++ref_checked;
    }
  }
  CHECK(ks_checked >= 30);
  CHECK(js_checked >= 40);
  CHECK(ref_checked >= 30);
  std::filesystem::remove_all(dir);
}
