#include "qa/text.h"

#include <algorithm>
#include <map>

namespace mw::qa {
namespace {

std::vector<uint32_t> CodePoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t cp = len == 1 ? c : c & (0x3F >> (len - 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace

std::string NormalizeText(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && std::string(".,;:!?").find(out.back()) != std::string::npos) {
    out.pop_back();
  }
  return out;
}

int EditDistance(const std::string& a, const std::string& b) {
  const std::vector<uint32_t> x = CodePoints(a), y = CodePoints(b);
  std::vector<int> prev(y.size() + 1), cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= y.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] != y[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

TextEstimate TextAgreement(const std::vector<std::string>& answers) {
  TextEstimate e;
  if (answers.empty()) return e;
  std::map<std::string, std::pair<int, std::string>> groups;  // normalised -> (count, first)
  for (const auto& a : answers) {
    auto& g = groups[NormalizeText(a)];
    if (g.first++ == 0) g.second = a;
  }
  for (const auto& [norm, g] : groups) {
    if (g.first > e.support) {
      e.support = g.first;
      e.text = g.second;
    }
  }
  e.confidence = static_cast<double>(e.support) / answers.size();
  return e;
}

bool WithinDistance(const std::string& a, const std::string& b, double max_distance) {
  const std::string x = NormalizeText(a), y = NormalizeText(b);
  const size_t longer = std::max(CodePoints(x).size(), CodePoints(y).size());
  return longer == 0 || static_cast<double>(EditDistance(x, y)) / longer <= max_distance;
}

TextEstimate EditDistanceCluster(const std::vector<std::string>& answers, double max_distance) {
  TextEstimate e;
  const size_t n = answers.size();
  if (n == 0) return e;
  std::vector<std::string> norm;
  for (const auto& a : answers) norm.push_back(NormalizeText(a));
  int best = -1, best_support = 0, best_total = 0;
  for (size_t i = 0; i < n; ++i) {
    int support = 0, total = 0;
    for (size_t j = 0; j < n; ++j) {
      const int d = EditDistance(norm[i], norm[j]);
      const size_t longer = std::max(CodePoints(norm[i]).size(), CodePoints(norm[j]).size());
      const double rel = longer == 0 ? 0 : static_cast<double>(d) / longer;
      if (rel <= max_distance) {
        ++support;
        total += d;  // the medoid of its own cluster: outliers do not pull it
      }
    }
    const bool better = best < 0 || support > best_support ||
                        (support == best_support &&
                         (total < best_total || (total == best_total && norm[i] < norm[best])));
    if (better) {
      best = static_cast<int>(i);
      best_support = support;
      best_total = total;
    }
  }
  e.text = answers[best];
  e.support = best_support;
  e.confidence = static_cast<double>(best_support) / n;
  return e;
}

}  // namespace mw::qa
