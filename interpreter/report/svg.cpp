// Inline SVG bar charts.
#include "report/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/text.hpp"

namespace persona::report::svg {

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += ' ';
        else
          out += c;
    }
  }
  return out;
}

std::string format_value(double v, std::string_view format) {
  if (!std::isfinite(v)) return "-";
  if (format == "share") return fmt::format("{:.1f}%", v * 100.0);
  if (format == "count") return text::format_number(std::round(v));
  return fmt::format("{:.3g}", v);
}

namespace {

double clean(double v) { return std::isfinite(v) && v > 0 ? v : 0.0; }

double largest(const Chart& c) {
  double m = 0;
  for (const auto& s : c.series)
    for (double v : s.values) m = std::max(m, clean(v));
  for (const auto& e : c.extras)
    for (const auto* vs : {&e.hi, &e.marks})
      for (double v : *vs) m = std::max(m, clean(v));
  return m;
}

double at(const std::vector<double>& v, std::size_t i) {
  return i < v.size() ? v[i] : std::numeric_limits<double>::quiet_NaN();
}

// A round number >= m for the axis end (1, 2, 2.5, 5 x 10^k).
double nice_ceiling(double m) {
  if (m <= 0) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(m)));
  for (double f : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (f * p >= m * (1 - 1e-12)) return f * p;
  return 10 * p;
}

std::string shorten(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  return std::string(text::utf8_prefix(s, max_bytes - 3)) + "...";
}

std::string head(const Chart& c, int w, int h) {
  std::string out = fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{}" height="{}" viewBox="0 0 {} {}" role="img">)",
      w, h, w, h);
  out += "<title>" + escape(c.title) + "</title>";
  return out;
}

std::string legend(const Chart& c, int x, int y) {
  std::string out;
  if (c.series.size() < 2) return out;
  for (std::size_t s = 0; s < c.series.size(); ++s) {
    out += fmt::format(R"(<rect class="s{}" x="{}" y="{}" width="10" height="10"/>)", s % 6, x, y - 9);
    out += fmt::format(R"(<text x="{}" y="{}" class="legend">{}</text>)", x + 14, y,
                       escape(shorten(c.series[s].name, 40)));
    x += 24 + static_cast<int>(std::min<std::size_t>(40, c.series[s].name.size())) * 6;
  }
  return out;
}

// Axis ticks: a count axis ending at 5 has its middle tick at 2.5, not "3".
std::string tick_text(double v, std::string_view format) {
  if (format == "count" && v != std::floor(v)) return format_value(v, "number");
  return format_value(v, format);
}

}  // namespace

std::string vertical_bars(const Chart& c) {
  const int w = c.width, h = c.height;
  const int left = 48, right = 8, top = c.series.size() > 1 ? 22 : 10, bottom = 34;
  const double plot_w = w - left - right, plot_h = h - top - bottom;
  const double ymax = nice_ceiling(largest(c));
  std::string out = head(c, w, h);
  out += legend(c, left, 14);
  // axes and gridlines at 0, 1/2, 1
  for (int k = 0; k <= 2; ++k) {
    const double y = top + plot_h - plot_h * k / 2.0;
    out += fmt::format(R"(<line class="grid" x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}"/>)", left, y, w - right, y);
    out += fmt::format(R"(<text class="tick" x="{}" y="{:.1f}" text-anchor="end">{}</text>)", left - 4, y + 4,
                       escape(tick_text(ymax * k / 2.0, c.value_format)));
  }
  const std::size_t n = c.labels.size();
  if (n == 0 || c.series.empty()) {
    out += fmt::format(R"(<text class="empty" x="{}" y="{}" text-anchor="middle">no data</text>)", w / 2, h / 2);
    return out + "</svg>";
  }
  const double group = plot_w / static_cast<double>(n);
  const double bar = std::max(1.0, group * 0.8 / static_cast<double>(c.series.size()));
  const std::size_t label_every = std::max<std::size_t>(1, (n + 7) / 8);
  for (std::size_t i = 0; i < n; ++i) {
    const double gx = left + group * static_cast<double>(i) + group * 0.1;
    for (std::size_t s = 0; s < c.series.size(); ++s) {
      const double v = i < c.series[s].values.size() ? clean(c.series[s].values[i]) : 0.0;
      const double bh = plot_h * v / ymax;
      out += fmt::format(R"(<rect class="s{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">)", s % 6,
                         gx + bar * static_cast<double>(s), top + plot_h - bh, bar, bh);
      out += "<title>" + escape(c.series[s].name.empty() ? c.labels[i] : c.series[s].name + ", " + c.labels[i]) + ": " +
             escape(format_value(v, c.value_format)) + "</title></rect>";
    }
    if (i % label_every == 0)
      out += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", gx + group * 0.4,
                         h - bottom + 14, escape(shorten(c.labels[i], 12)));
  }
  out += fmt::format(R"(<line class="axis" x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}"/>)", left, top + plot_h, w - right,
                     top + plot_h);
  return out + "</svg>";
}

std::string horizontal_bars(const Chart& c) {
  const std::size_t n = c.labels.size();
  const int row = 6 + 12 * static_cast<int>(std::max<std::size_t>(1, c.series.size()));
  const int top = c.series.size() > 1 ? 24 : 8, bottom = 20;
  const int w = c.width, h = top + bottom + row * static_cast<int>(std::max<std::size_t>(1, n));
  const int left = 230, right = 64;
  const double plot_w = w - left - right;
  const double xmax = nice_ceiling(largest(c));
  std::string out = head(c, w, h);
  out += legend(c, left, 14);
  if (n == 0 || c.series.empty()) {
    out += fmt::format(R"(<text class="empty" x="{}" y="{}" text-anchor="middle">no data</text>)", w / 2, top + 14);
    return out + "</svg>";
  }
  for (std::size_t i = 0; i < n; ++i) {
    const int y = top + row * static_cast<int>(i);
    out += fmt::format(R"(<text class="label" x="{}" y="{}" text-anchor="end">{}</text>)", left - 6, y + row / 2 + 4,
                       escape(shorten(c.labels[i], 38)));
    for (std::size_t s = 0; s < c.series.size(); ++s) {
      const double v = i < c.series[s].values.size() ? clean(c.series[s].values[i]) : 0.0;
      const double bw = plot_w * v / xmax;
      const int by = y + 3 + 12 * static_cast<int>(s);
      const Chart::Extras none;
      const Chart::Extras& x = s < c.extras.size() ? c.extras[s] : none;
      const double lo = at(x.lo, i), hi = at(x.hi, i), mark = at(x.marks, i);
      const bool interval = std::isfinite(lo) && std::isfinite(hi);
      std::string value = format_value(v, c.value_format);
      if (interval)
        value += " [" + format_value(clean(lo), c.value_format) + ", " + format_value(clean(hi), c.value_format) + "]";
      out += fmt::format(R"(<rect class="s{}" x="{}" y="{}" width="{:.1f}" height="10">)", s % 6, left, by, bw);
      out += "<title>" + escape(c.series[s].name.empty() ? c.labels[i] : c.series[s].name + ", " + c.labels[i]) + ": " +
             escape(value) + "</title></rect>";
      double end = left + bw;
      if (interval) {
        const double x1 = left + plot_w * clean(lo) / xmax, x2 = left + plot_w * clean(hi) / xmax;
        out +=
            fmt::format(R"(<path class="ci" d="M{:.1f} {}V{}M{:.1f} {}H{:.1f}M{:.1f} {}V{}"><title>{}</title></path>)",
                        x1, by + 1, by + 9, x1, by + 5, x2, x2, by + 1, by + 9, escape(value));
        end = std::max(end, x2);
      }
      if (std::isfinite(mark)) {
        const double xm = left + plot_w * clean(mark) / xmax;
        out += fmt::format(R"(<line class="mark" x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}"><title>{}</title></line>)", xm,
                           by - 1, xm, by + 11, escape(c.mark_name + ": " + format_value(clean(mark), c.value_format)));
        end = std::max(end, xm);
      }
      out += fmt::format(R"(<text class="value" x="{:.1f}" y="{}">{}</text>)", end + 3, by + 9,
                         escape(format_value(v, c.value_format)));
    }
  }
  out += fmt::format(R"(<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>)", left, top, left, h - bottom);
  out += fmt::format(R"(<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>)", w - right, h - 6,
                     escape(format_value(xmax, c.value_format)));
  return out + "</svg>";
}

Binned bin(const std::vector<const std::map<std::int64_t, std::uint64_t>*>& histograms, std::size_t max_bins) {
  Binned b;
  b.counts.resize(histograms.size());
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
  for (const auto* h : histograms)
    if (h != nullptr && !h->empty()) {
      lo = std::min(lo, h->begin()->first);
      hi = std::max(hi, h->rbegin()->first);
    }
  if (lo > hi || max_bins == 0) return b;
  const std::int64_t span = hi - lo + 1;
  const auto bins = static_cast<std::int64_t>(std::min<std::size_t>(max_bins, static_cast<std::size_t>(span)));
  const std::int64_t width = (span + bins - 1) / bins;
  const std::int64_t count = (span + width - 1) / width;
  for (std::int64_t k = 0; k < count; ++k) {
    const std::int64_t a = lo + k * width, z = a + width - 1;
    b.labels.push_back(width == 1 ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(z));
  }
  for (std::size_t i = 0; i < histograms.size(); ++i) {
    b.counts[i].assign(static_cast<std::size_t>(count), 0.0);
    if (histograms[i] == nullptr) continue;
    for (const auto& [v, c] : *histograms[i])
      b.counts[i][static_cast<std::size_t>((v - lo) / width)] += static_cast<double>(c);
  }
  return b;
}

}  // namespace persona::report::svg
