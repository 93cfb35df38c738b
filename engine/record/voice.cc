#include "engine/record/voice.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/ids.h"
#include "engine/contract/csv_reader.h"

namespace mw::voice {

int64_t Characters(absl::string_view s) {
  if (!contract::IsValidUtf8(s)) return -1;
  // Every character has one leading byte: count the bytes that do not continue one.
  return std::count_if(s.begin(), s.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

absl::Status CheckText(absl::string_view field, absl::string_view text, size_t max_chars,
                       bool may_be_empty) {
  const int64_t n = Characters(text);
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8 text"));
  if (n == 0 && !may_be_empty) return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
  if (static_cast<size_t>(n) > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", max_chars, " characters, got ", n));
  }
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || c == 0x7F) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": a control character (code ", static_cast<int>(c), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRating(const v1::WorkRating& r) {
  if (r.job_id().empty() || r.job_id().size() > 200 || r.job_id().find('/') != std::string::npos) {
    return absl::InvalidArgumentError("job_id: expected a job's id");
  }
  for (auto [name, v] :
       {std::pair{"clarity", r.clarity()}, std::pair{"time_estimate", r.time_estimate()},
        std::pair{"pay_fairness", r.pay_fairness()}}) {
    if (v < 1 || v > 5) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": expected 1 to 5, got ", v));
    }
  }
  return CheckText("comment", r.comment(), kMaxNoteChars, /*may_be_empty=*/true);
}

absl::Status CheckFlag(const v1::TaskFlag& f) {
  if (f.task_id().size() > 300) return absl::InvalidArgumentError("task_id: too long");
  if (absl::Status s = ParseTaskId(f.task_id()).status(); !s.ok()) return s;
  if (f.kind() != v1::FLAG_HARMFUL && f.kind() != v1::FLAG_WRONG) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: expected harmful or wrong, got ", static_cast<int>(f.kind())));
  }
  return CheckText("note", f.note(), kMaxNoteChars, /*may_be_empty=*/true);
}

absl::Status CheckComplaint(v1::ComplaintTopic topic, absl::string_view text) {
  if (topic < v1::COMPLAINT_PAY || topic > v1::COMPLAINT_DATA) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topic: expected pay, treatment, safety or data, got ", static_cast<int>(topic)));
  }
  return CheckText("text", text, kMaxComplaintChars, /*may_be_empty=*/false);
}

std::vector<const v1::WorkRating*> Published(const std::vector<v1::WorkRating>& ratings) {
  // Each job's ratings, its raters in the order they first rated it.
  std::map<std::string, std::vector<const v1::WorkRating*>> by_job;
  for (const v1::WorkRating& r : ratings) by_job[r.job_id()].push_back(&r);
  std::vector<const v1::WorkRating*> out;
  for (auto& [job, list] : by_job) {
    std::sort(list.begin(), list.end(), [](const v1::WorkRating* a, const v1::WorkRating* b) {
      if (a->rated_at_ms() != b->rated_at_ms()) return a->rated_at_ms() < b->rated_at_ms();
      return a->worker() < b->worker();
    });
    const size_t shown = list.size() / kMinRaters * kMinRaters;
    out.insert(out.end(), list.begin(), list.begin() + static_cast<std::ptrdiff_t>(shown));
  }
  return out;
}

std::vector<v1::RatingSummary> Summarise(const std::vector<v1::WorkRating>& ratings, By by) {
  struct Group {
    std::string client;
    std::set<std::string> raters;
    uint64_t n = 0;
    uint64_t clarity = 0, time = 0, pay = 0;
    std::vector<std::string> comments;
  };
  std::map<std::string, Group> groups;
  for (const v1::WorkRating* r : Published(ratings)) {
    Group& g = groups[by == By::kJob ? r->job_id() : r->client()];
    g.client = r->client();
    g.raters.insert(r->worker());
    ++g.n;
    g.clarity += r->clarity();
    g.time += r->time_estimate();
    g.pay += r->pay_fairness();
    if (!r->comment().empty()) g.comments.push_back(r->comment());
  }
  // Means to one decimal: the exact figures of two snapshots would tell more than the page says.
  auto mean = [](uint64_t sum, uint64_t n) { return std::round(10.0 * sum / n) / 10.0; };
  std::vector<v1::RatingSummary> out;
  for (auto& [key, g] : groups) {
    v1::RatingSummary& s = out.emplace_back();
    if (by == By::kJob) s.set_job_id(key);
    s.set_client(g.client);
    s.set_raters(static_cast<uint32_t>(g.raters.size()));
    s.set_clarity(mean(g.clarity, g.n));
    s.set_time_estimate(mean(g.time, g.n));
    s.set_pay_fairness(mean(g.pay, g.n));
    std::sort(g.comments.begin(), g.comments.end());
    for (size_t i = 0; i < g.comments.size() && i < kMaxComments; ++i) {
      s.add_comments(std::move(g.comments[i]));
    }
  }
  return out;
}

std::string OneDecimal(double v) { return absl::StrFormat("%.1f", v); }

const char* TopicName(v1::ComplaintTopic t) {
  switch (t) {
    case v1::COMPLAINT_PAY:
      return "pay";
    case v1::COMPLAINT_TREATMENT:
      return "treatment";
    case v1::COMPLAINT_SAFETY:
      return "safety";
    case v1::COMPLAINT_DATA:
      return "data";
    default:
      return "unknown";
  }
}

const char* FlagName(v1::FlagKind k) {
  switch (k) {
    case v1::FLAG_HARMFUL:
      return "harmful";
    case v1::FLAG_WRONG:
      return "wrong";
    default:
      return "unknown";
  }
}

}  // namespace mw::voice
