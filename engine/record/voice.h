// The workers' voice (issue 24): what a rating, a flag on a task and a complaint may hold, checked
// the same way by the centre's agent (before it keeps one) and by the dispatcher (before it takes
// one from a centre), and how ratings are summed up so nobody is singled out: per job and per
// client, only in groups of at least kMinRaters, comments sorted.
//
//   MW_RETURN_IF_ERROR(voice::CheckRating(rating));     // INVALID_ARGUMENT naming the field
//   std::vector<v1::RatingSummary> jobs = voice::Summarise(ratings, voice::By::kJob);
#ifndef MW_ENGINE_RECORD_VOICE_H_
#define MW_ENGINE_RECORD_VOICE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::voice {

namespace v1 = ::microwork::v1;

inline constexpr size_t kMaxNoteChars = 500;        // a rating's comment, a flag's note
inline constexpr size_t kMaxComplaintChars = 2000;  // a complaint's text, an answer
// An answer as the centre keeps it: a manager's, and an operator's added below it when both
// answered before either knew of the other.
inline constexpr size_t kMaxAnswerChars = 2 * kMaxComplaintChars + 200;
inline constexpr uint32_t kMinRaters = 5;    // smaller groups are never shown
inline constexpr size_t kMaxPerShare = 500;  // entries of each kind in one ShareVoice
inline constexpr size_t kMaxComments = 20;   // comments shown with one summary

// The number of characters (code points) in `s`, or -1 when it is not valid UTF-8.
int64_t Characters(absl::string_view s);

// A text a worker or a person of the centre wrote: valid UTF-8, no control characters other
// than line breaks and tabs, 1 (0 when `may_be_empty`) to `max_chars` characters.
// INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckText(absl::string_view field, absl::string_view text, size_t max_chars,
                       bool may_be_empty);

// A rating: a job id, the three scores each 1 to 5, a comment of at most kMaxNoteChars.
absl::Status CheckRating(const v1::WorkRating& r);
// A flag: a task id "<job>/<stage>/<item>", a known kind, a note of at most kMaxNoteChars.
absl::Status CheckFlag(const v1::TaskFlag& f);
// A complaint as a worker files it: a known topic and 1 to kMaxComplaintChars of text.
absl::Status CheckComplaint(v1::ComplaintTopic topic, absl::string_view text);

// The ratings that may be shown (`ratings` holds one per job and worker, never changed once
// given): of each job, its raters in the order they rated it, in whole groups of kMinRaters: the
// first five once there are five, the first ten once there are ten. So a summary changes only by
// five new raters at once, never by one, and a job below five raters adds nothing to its
// client's summary (which could otherwise be subtracted from it).
std::vector<const v1::WorkRating*> Published(const std::vector<v1::WorkRating>& ratings);

enum class By { kJob, kClient };
// The published ratings grouped by job (each summary carries the job's client) or by client:
// distinct raters (WorkRating.worker, whatever form it has), means to one decimal, comments
// sorted (at most kMaxComments; empty ones left out).
std::vector<v1::RatingSummary> Summarise(const std::vector<v1::WorkRating>& ratings, By by);

// A mean as the pages show it: one decimal, "4.2".
std::string OneDecimal(double v);

const char* TopicName(v1::ComplaintTopic t);  // "pay", "treatment", "safety", "data"
const char* FlagName(v1::FlagKind k);         // "harmful", "wrong"

}  // namespace mw::voice

#endif  // MW_ENGINE_RECORD_VOICE_H_
