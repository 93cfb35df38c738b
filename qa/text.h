// Aggregation of short free-text answers for one task (transcriptions, names, amounts as typed).
#ifndef MW_QA_TEXT_H_
#define MW_QA_TEXT_H_

#include <string>
#include <vector>

namespace mw::qa {

struct TextEstimate {
  std::string text;       // a representative answer, as one worker typed it
  double confidence = 0;  // share of answers that agree with it
  int support = 0;        // answers that agree with it
};

// Lowercase (ASCII), whitespace trimmed and collapsed, trailing . , ; : ! ? removed.
std::string NormalizeText(const std::string& s);

// Levenshtein distance over Unicode code points (UTF-8 in).
int EditDistance(const std::string& a, const std::string& b);

// The normalised answer most workers gave; ties go to the normalised form that sorts first.
TextEstimate TextAgreement(const std::vector<std::string>& answers);

// Whether `a` and `b` are within `max_distance` of each other: edit distance over the longer
// length, after normalising (two empty answers agree).
bool WithinDistance(const std::string& a, const std::string& b, double max_distance);

// Answers within `max_distance` (edit distance / longer length, after normalising) of each other
// agree. Picks the answer that agrees with the most others; ties go to the one closest to those
// it agrees with (the medoid of its group), then to byte order. Support counts itself.
TextEstimate EditDistanceCluster(const std::vector<std::string>& answers,
                                 double max_distance = 0.2);

}  // namespace mw::qa

#endif  // MW_QA_TEXT_H_
