#include "qa/shapes.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace mw::qa {

namespace {

constexpr uint32_t kMaxCoordinate = (1u << 31) - 1;

// How alike two shapes of one kind are, for matching: a box's IoU, or for points 1 less their
// distance over one more than the reach; below 0 when they are not the same object.
double Likeness(const LabelledShape& a, const LabelledShape& b, const ShapeVoteOptions& o) {
  if (a.point != b.point || a.polygon.empty() != b.polygon.empty()) return -1;
  if (!a.point) {
    const double iou = Iou(a, b);
    return iou >= o.min_iou ? iou : -1;
  }
  const double d = std::hypot(static_cast<double>(a.x0) - static_cast<double>(b.x0),
                              static_cast<double>(a.y0) - static_cast<double>(b.y0));
  return d <= o.match_radius ? 1 - d / (o.match_radius + 1.0) : -1;
}

// A robust mean of `v`: the mean, once the lowest and the highest are dropped when there are
// four or more; rounded to a whole pixel.
uint32_t RobustMean(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  const size_t drop = v.size() >= 4 ? 1 : 0;
  double sum = 0;
  for (size_t i = drop; i + drop < v.size(); ++i) sum += v[i];
  return static_cast<uint32_t>(std::llround(sum / static_cast<double>(v.size() - 2 * drop)));
}

// The shape at the robust mean of each coordinate of `members`, or for polygons their medoid
// (their label left empty).
LabelledShape Middle(const std::vector<LabelledShape>& members) {
  if (!members.front().polygon.empty()) {
    size_t best = 0;
    double most = -1;
    for (size_t i = 0; i < members.size(); ++i) {
      double sum = 0;
      for (size_t j = 0; j < members.size(); ++j) {
        if (j != i) sum += Iou(members[i], members[j]);
      }
      if (sum > most) {
        most = sum;
        best = i;
      }
    }
    LabelledShape m = members[best];
    m.label.clear();
    // With as many corners each, every corner the robust mean of its counterparts: each member's
    // corners taken round from the one nearest the medoid's first, in the direction nearest.
    const size_t n = m.polygon.size() / 2;
    if (members.size() < 2 || std::any_of(members.begin(), members.end(), [&](const auto& x) {
          return x.polygon.size() != m.polygon.size();
        })) {
      return m;
    }
    std::vector<std::vector<uint32_t>> xs(n), ys(n);
    for (const LabelledShape& member : members) {
      const std::vector<uint32_t>& q = member.polygon;
      double nearest = -1;
      size_t shift = 0;
      bool reverse = false;
      for (size_t k = 0; k < n; ++k) {
        for (const bool r : {false, true}) {
          double d = 0;
          for (size_t i = 0; i < n; ++i) {
            const size_t j = r ? (k + n - i) % n : (k + i) % n;
            d += std::hypot(static_cast<double>(q[2 * j]) - m.polygon[2 * i],
                            static_cast<double>(q[2 * j + 1]) - m.polygon[2 * i + 1]);
          }
          if (nearest < 0 || d < nearest) {
            nearest = d;
            shift = k;
            reverse = r;
          }
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const size_t j = reverse ? (shift + n - i) % n : (shift + i) % n;
        xs[i].push_back(q[2 * j]);
        ys[i].push_back(q[2 * j + 1]);
      }
    }
    std::vector<uint32_t> corners;
    for (size_t i = 0; i < n; ++i) {
      corners.push_back(RobustMean(xs[i]));
      corners.push_back(RobustMean(ys[i]));
    }
    std::optional<LabelledShape> mean = Polygon("", std::move(corners));
    return mean.has_value() ? *std::move(mean) : m;
  }
  std::vector<uint32_t> x0, y0, x1, y1;
  for (const LabelledShape& s : members) {
    x0.push_back(s.x0);
    y0.push_back(s.y0);
    x1.push_back(s.x1);
    y1.push_back(s.y1);
  }
  LabelledShape m;
  m.point = members.front().point;
  m.x0 = RobustMean(x0);
  m.y0 = RobustMean(y0);
  if (!m.point) {
    m.x1 = std::max(RobustMean(x1), m.x0 + 1);
    m.y1 = std::max(RobustMean(y1), m.y0 + 1);
  }
  return m;
}

// The one-to-one matches of `a`'s shapes to `b`'s with the same label, the most alike first:
// the summed likeness (IoU, or 1 for a point) and how many matched.
std::pair<double, size_t> Match(const std::vector<LabelledShape>& a,
                                const std::vector<LabelledShape>& b, const ShapeVoteOptions& o) {
  std::vector<std::tuple<double, size_t, size_t>> pairs;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      if (a[i].label != b[j].label) continue;
      if (double l = Likeness(a[i], b[j], o); l >= 0) pairs.emplace_back(l, i, j);
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) {
    return std::get<0>(x) != std::get<0>(y) ? std::get<0>(x) > std::get<0>(y) : x < y;
  });
  std::vector<bool> used_a(a.size()), used_b(b.size());
  double sum = 0;
  size_t matched = 0;
  for (const auto& [l, i, j] : pairs) {
    if (used_a[i] || used_b[j]) continue;
    used_a[i] = used_b[j] = true;
    sum += a[i].point ? 1.0 : Iou(a[i], b[j]);
    ++matched;
  }
  return {sum, matched};
}

// The stretches of the row at height `y` inside the polygon `p` (x then y of each corner), by the
// even-odd rule, in order: [from, to) pairs, flattened into `xs` (cleared first).
void Inside(const std::vector<uint32_t>& p, double y, std::vector<double>* out) {
  std::vector<double>& xs = *out;
  xs.clear();
  const size_t n = p.size() / 2;
  for (size_t i = 0; i < n; ++i) {
    const double xa = p[2 * i], ya = p[2 * i + 1];
    const double xb = p[(2 * i + 2) % p.size()], yb = p[(2 * i + 3) % p.size()];
    if ((ya <= y && y < yb) || (yb <= y && y < ya))
      xs.push_back(xa + (y - ya) * (xb - xa) / (yb - ya));
  }
  std::sort(xs.begin(), xs.end());
}

double Length(const std::vector<double>& runs) {
  double sum = 0;
  for (size_t i = 0; i + 1 < runs.size(); i += 2) sum += runs[i + 1] - runs[i];
  return sum;
}

// The length two rows' stretches share.
double Shared(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  size_t i = 0, j = 0;
  while (i + 1 < a.size() && j + 1 < b.size()) {
    sum += std::max(0.0, std::min(a[i + 1], b[j + 1]) - std::max(a[i], b[j]));
    if (a[i + 1] < b[j + 1]) {
      i += 2;
    } else {
      j += 2;
    }
  }
  return sum;
}

// Twice the polygon's signed area (the shoelace formula).
double TwiceArea(const std::vector<uint32_t>& p) {
  double sum = 0;
  for (size_t i = 0; i + 1 < p.size(); i += 2) {
    const size_t j = (i + 2) % p.size();
    sum += static_cast<double>(p[i]) * p[j + 1] - static_cast<double>(p[j]) * p[i + 1];
  }
  return sum;
}

double PolygonIou(const LabelledShape& a, const LabelledShape& b) {
  const double top = std::min(a.y0, b.y0), bottom = std::max(a.y1, b.y1);
  if (std::min(a.x1, b.x1) <= std::max(a.x0, b.x0) ||
      std::min(a.y1, b.y1) <= std::max(a.y0, b.y0)) {
    return 0;
  }
  const int rows = static_cast<int>(std::min(64.0, bottom - top));
  const double step = (bottom - top) / rows;
  double in_a = 0, in_b = 0, both = 0;
  std::vector<double> ra, rb;
  ra.reserve(2 * kMaxPolygonCorners);
  rb.reserve(2 * kMaxPolygonCorners);
  for (int r = 0; r < rows; ++r) {
    const double y = top + (r + 0.5) * step;
    Inside(a.polygon, y, &ra);
    Inside(b.polygon, y, &rb);
    in_a += Length(ra);
    in_b += Length(rb);
    both += Shared(ra, rb);
  }
  return both <= 0 ? 0 : both / (in_a + in_b - both);
}

}  // namespace

std::optional<LabelledShape> Polygon(std::string label, std::vector<uint32_t> corners) {
  if (corners.size() < 6 || corners.size() % 2 != 0 || corners.size() > 2 * kMaxPolygonCorners ||
      TwiceArea(corners) == 0) {
    return std::nullopt;
  }
  LabelledShape s;
  s.label = std::move(label);
  s.x0 = s.y0 = kMaxCoordinate;
  for (size_t i = 0; i < corners.size(); i += 2) {
    s.x0 = std::min(s.x0, corners[i]);
    s.x1 = std::max(s.x1, corners[i]);
    s.y0 = std::min(s.y0, corners[i + 1]);
    s.y1 = std::max(s.y1, corners[i + 1]);
  }
  s.polygon = std::move(corners);
  return s;
}

std::string FormatShapes(const std::vector<LabelledShape>& shapes) {
  return absl::StrJoin(shapes, ";", [](std::string* out, const LabelledShape& s) {
    if (s.point) {
      absl::StrAppend(out, s.label, ":", s.x0, ",", s.y0);
    } else if (!s.polygon.empty()) {
      absl::StrAppend(out, s.label, ":", absl::StrJoin(s.polygon, ","));
    } else {
      absl::StrAppend(out, s.label, ":", s.x0, ",", s.y0, ",", s.x1, ",", s.y1);
    }
  });
}

std::optional<std::vector<LabelledShape>> ParseShapes(absl::string_view text) {
  std::vector<LabelledShape> out;
  if (text.empty()) return out;
  for (absl::string_view part : absl::StrSplit(text, ';')) {
    const size_t colon = part.rfind(':');
    if (colon == absl::string_view::npos || colon == 0) return std::nullopt;
    LabelledShape s;
    s.label = std::string(part.substr(0, colon));
    if (s.label.find(':') != std::string::npos) return std::nullopt;
    std::vector<absl::string_view> numbers = absl::StrSplit(part.substr(colon + 1), ',');
    if (numbers.size() < 2 || numbers.size() % 2 != 0 || numbers.size() > 2 * kMaxPolygonCorners) {
      return std::nullopt;
    }
    std::vector<uint32_t> v(std::max<size_t>(4, numbers.size()));
    for (size_t i = 0; i < numbers.size(); ++i) {
      if (numbers[i].empty() || numbers[i].size() > 10 ||
          numbers[i].find_first_not_of("0123456789") != absl::string_view::npos ||
          !absl::SimpleAtoi(numbers[i], &v[i]) || v[i] > kMaxCoordinate) {
        return std::nullopt;
      }
    }
    if (numbers.size() >= 6) {
      std::optional<LabelledShape> polygon = Polygon(std::move(s.label), std::move(v));
      if (!polygon.has_value()) return std::nullopt;
      out.push_back(*std::move(polygon));
      continue;
    }
    s.point = numbers.size() == 2;
    s.x0 = v[0];
    s.y0 = v[1];
    s.x1 = v[2];
    s.y1 = v[3];
    if (!s.point && (s.x0 >= s.x1 || s.y0 >= s.y1)) return std::nullopt;
    out.push_back(std::move(s));
  }
  return out;
}

double Iou(const LabelledShape& a, const LabelledShape& b) {
  if (a.point || b.point || a.polygon.empty() != b.polygon.empty()) return 0;
  if (!a.polygon.empty()) return PolygonIou(a, b);
  const double w =
      static_cast<double>(std::min(a.x1, b.x1)) - static_cast<double>(std::max(a.x0, b.x0));
  const double h =
      static_cast<double>(std::min(a.y1, b.y1)) - static_cast<double>(std::max(a.y0, b.y0));
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  const double area_a = (static_cast<double>(a.x1) - a.x0) * (static_cast<double>(a.y1) - a.y0);
  const double area_b = (static_cast<double>(b.x1) - b.x0) * (static_cast<double>(b.y1) - b.y0);
  return inter / (area_a + area_b - inter);
}

double ShapeAgreement(const std::vector<LabelledShape>& answer,
                      const std::vector<LabelledShape>& verdict, const ShapeVoteOptions& options) {
  if (answer.empty() && verdict.empty()) return 1;
  return Match(answer, verdict, options).first /
         static_cast<double>(std::max(answer.size(), verdict.size()));
}

ShapeVerdict VoteShapes(const std::vector<std::vector<LabelledShape>>& answers,
                        const ShapeVoteOptions& options) {
  struct Group {
    std::vector<LabelledShape> members;
    std::vector<size_t> from;  // the answer each member came from
    LabelledShape place;
  };
  std::vector<Group> groups;
  for (size_t a = 0; a < answers.size(); ++a) {
    // This answer's shapes to the groups so far, one to one, the most alike pairs first (so a
    // shape drawn early cannot take the group a later one matches better); the rest start
    // groups of their own.
    const std::vector<LabelledShape>& answer = answers[a];
    std::vector<std::tuple<double, size_t, size_t>> pairs;  // likeness, shape, group
    for (size_t i = 0; i < answer.size(); ++i) {
      for (size_t g = 0; g < groups.size(); ++g) {
        if (double l = Likeness(groups[g].place, answer[i], options); l >= 0) {
          pairs.emplace_back(l, i, g);
        }
      }
    }
    std::sort(pairs.begin(), pairs.end(), [](const auto& x, const auto& y) {
      return std::get<0>(x) != std::get<0>(y) ? std::get<0>(x) > std::get<0>(y) : x < y;
    });
    std::vector<size_t> to(answer.size(), groups.size());  // groups.size(): none yet
    std::vector<bool> taken(groups.size());
    for (const auto& [l, i, g] : pairs) {
      if (to[i] != groups.size() || taken[g]) continue;
      to[i] = g;
      taken[g] = true;
    }
    const size_t before = groups.size();
    for (size_t i = 0; i < answer.size(); ++i) {
      if (to[i] == before) {
        to[i] = groups.size();
        groups.push_back({});
      }
      Group& g = groups[to[i]];
      g.members.push_back(answer[i]);
      g.from.push_back(a);
      g.place = Middle(g.members);
    }
  }
  // A group most answers drew, the best supported first, at most `max_count` of them.
  std::stable_sort(groups.begin(), groups.end(), [](const Group& x, const Group& y) {
    return x.members.size() > y.members.size();
  });
  if (options.max_count > 0 && groups.size() > options.max_count) groups.resize(options.max_count);
  ShapeVerdict v;
  v.total = static_cast<int>(answers.size());
  for (const Group& g : groups) {
    if (g.members.size() * 2 <= answers.size()) continue;
    std::map<std::string, int> labels;
    for (const LabelledShape& m : g.members) ++labels[m.label];
    LabelledShape kept = g.place;
    int most = 0;
    for (const auto& [label, n] : labels) {
      if (n > most) {
        most = n;
        kept.label = label;
      }
    }
    v.shapes.push_back(std::move(kept));
  }
  std::sort(v.shapes.begin(), v.shapes.end(), [](const LabelledShape& x, const LabelledShape& y) {
    return std::tie(x.y0, x.x0, x.y1, x.x1, x.label, x.polygon) <
           std::tie(y.y0, y.x0, y.y1, y.x1, y.label, y.polygon);
  });
  double sum = 0;
  for (const auto& answer : answers) {
    if (answer.empty() && v.shapes.empty()) {
      sum += 1;
      ++v.votes;
      continue;
    }
    const auto [likeness, matched] = Match(answer, v.shapes, options);
    sum += likeness / static_cast<double>(std::max(answer.size(), v.shapes.size()));
    if (matched == answer.size() && matched == v.shapes.size()) ++v.votes;
  }
  v.confidence = answers.empty() ? 0 : sum / static_cast<double>(answers.size());
  return v;
}

}  // namespace mw::qa
