// Small inline-SVG charts for the HTML report: grouped vertical bars (histograms, tier mix) and
// grouped horizontal bars (categories, anchor labels). Static markup only: no script, no external
// resource; each bar carries a <title> with its exact value, which browsers show on hover. Colours
// come from CSS classes (`s0`, `s1`, ... per series) that the page defines.
//
//   svg::Chart c;  c.title = "Attributes per persona";  c.labels = {"200", "210", ...};
//   c.series = {{"file A", {3, 10, ...}}, {"file B", {...}}};
//   std::string markup = svg::vertical_bars(c);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace persona::report::svg {

// XML escaping of text and attribute values (& < > " ').
std::string escape(std::string_view s);

struct Series {
  std::string name;
  std::vector<double> values;  // one per label; negative and non-finite values are drawn as 0
};

struct Chart {
  std::string title;                // <title> of the whole chart (accessible name)
  std::vector<std::string> labels;  // one per bar group
  std::vector<Series> series;
  std::string value_format = "count";  // "count" (whole numbers) | "share" (0..1 shown as %) | "number"
  // Horizontal bars only, optional: one entry per series (in order; missing ones draw nothing),
  // each with one value per label like Series::values (a non-finite value draws nothing there).
  // lo/hi: an interval drawn as a whisker across the bar (e.g. a bootstrap confidence interval);
  // marks: a reference value drawn as a red tick (e.g. a noise floor), named by mark_name on hover.
  struct Extras {
    std::vector<double> lo, hi, marks;
  };
  std::vector<Extras> extras;
  std::string mark_name = "reference";
  int width = 560;
  int height = 220;  // vertical bars; horizontal bars grow with the number of labels
};

// Bars grouped by label, x = labels, y = value; y axis from 0 to the largest value.
std::string vertical_bars(const Chart& c);
// Bars grouped by label, one row per label (names on the left), x = value; with the series'
// intervals (whiskers) and marks (ticks) where given. The x axis reaches the largest of them all.
std::string horizontal_bars(const Chart& c);

// Groups integer counts (value -> how many) into at most `max_bins` bins of equal integer width;
// labels are "lo" or "lo-hi". Counts of several histograms are binned on one common range so that
// files compare bin by bin.
struct Binned {
  std::vector<std::string> labels;
  std::vector<std::vector<double>> counts;  // one vector per input histogram
};
Binned bin(const std::vector<const std::map<std::int64_t, std::uint64_t>*>& histograms, std::size_t max_bins);

// A number as the charts print it ("12", "0.35", "35.0%").
std::string format_value(double v, std::string_view format);

}  // namespace persona::report::svg
