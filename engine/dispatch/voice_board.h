// VoiceBoard: the workers' voice as the dispatcher keeps it (issue 24): every centre's workers'
// ratings of jobs and flags on tasks, and every centre's complaints, for the operator and, summed
// up, for the workers deciding whether to take a client's next job. It is the one home of these
// records in the dispatcher's memory; the store keeps every change in the caller's batch (kMeta:
// keys::Rating, keys::Flag, keys::Complaint).
//
// What a centre sends is a claim. A rating or flag counts only from a worker of that centre who
// did work on the job (the engine says who did), and is kept under a hash of the worker's account
// instead of the pseudonym, once per worker and job (or task): a centre cannot stuff a client's
// ratings with workers it does not have. A complaint arrives without the worker and, until it
// escalates, without its text. Ratings are shown only summed up, in groups of at least five
// raters (voice::Summarise).
//
//   VoiceBoard board;
//   MW_RETURN_IF_ERROR(board.Load(store));
//   v1::ShareVoiceReply reply = board.Take(centre, request, now_ms, facts, &batch);
//
// Not thread-safe: the engine calls it under its lock.
#ifndef MW_ENGINE_DISPATCH_VOICE_BOARD_H_
#define MW_ENGINE_DISPATCH_VOICE_BOARD_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "engine/storage/store.h"
#include "microwork/v1/records.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::dispatch {

class VoiceBoard {
 public:
  // Open complaints kept per centre: past it a centre's new complaints are refused (kept ones
  // still update). Flags kept per worker: past it their new flags are refused.
  static constexpr size_t kMaxOpenPerCentre = 10'000;
  static constexpr size_t kMaxFlagsPerWorker = 200;
  // Summaries in one reply to a centre.
  static constexpr size_t kMaxSummaries = 200;

  // What the board needs to know of the rest of the dispatcher.
  struct Facts {
    // The job's client; nullopt for an unknown job.
    std::function<std::optional<std::string>(const std::string& job_id)> client_of;
    // Whether the worker account did work on the job.
    std::function<bool(const std::string& account, const std::string& job_id)> worked_on;
  };

  // Reads every record; DATA_LOSS naming a key whose record does not parse. Makes the secret
  // RaterOf hashes with on first use (kept in kMeta, synced).
  [[nodiscard]] absl::Status Load(storage::Store* store);

  // Takes what `centre` shares: each entry is checked and kept, or refused with the reason in the
  // reply (at the entry's index); nothing of a refused entry is kept. A rating is given once (the
  // same again is a resend). The reply also carries the summaries of the jobs the centre's
  // workers rated and of every client (kMaxSummaries of each), and the operator's answers the
  // centre does not have yet.
  // INVALID_ARGUMENT, changing nothing, for more than voice::kMaxPerShare entries of a kind.
  [[nodiscard]] absl::StatusOr<microwork::v1::ShareVoiceReply> Take(
      const std::string& centre, const microwork::v1::ShareVoiceRequest& request, int64_t now_ms,
      const Facts& facts, storage::Batch* batch);

  // What the operator reads: summaries (jobs of `client` only, when given), flags newest first,
  // complaints open ones oldest first then answered ones newest first (at most 1,000 of each).
  microwork::v1::VoiceReport Report(const std::string& client, int64_t now_ms) const;

  // The operator `by` answers an escalated complaint. INVALID_ARGUMENT for a bad answer,
  // NOT_FOUND for an unknown one, FAILED_PRECONDITION for one not escalated or answered already.
  [[nodiscard]] absl::StatusOr<microwork::v1::Complaint> Answer(
      const microwork::v1::AnswerComplaintRequest& request, const std::string& by, int64_t now_ms,
      storage::Batch* batch);

  // What the board keeps for a worker account in place of its pseudonym: a hash keyed with a
  // secret of this installation, so knowing the accounts does not give who rated what.
  std::string RaterOf(const std::string& account) const;

 private:
  std::string TakeRating(const std::string& centre, const microwork::v1::WorkRating& r,
                         int64_t now_ms, const Facts& facts, storage::Batch* batch);
  std::string TakeFlag(const std::string& centre, const microwork::v1::TaskFlag& f, int64_t now_ms,
                       const Facts& facts, storage::Batch* batch);
  std::string TakeComplaint(const std::string& centre, const microwork::v1::Complaint& c,
                            int64_t now_ms, storage::Batch* batch);

  std::map<std::pair<std::string, std::string>, microwork::v1::WorkRating> ratings_;  // job, rater
  std::map<std::pair<std::string, std::string>, microwork::v1::TaskFlag> flags_;      // task, rater
  std::map<std::pair<std::string, std::string>, microwork::v1::Complaint>
      complaints_;  // centre, id
  std::map<std::string, size_t> open_per_centre_;
  std::map<std::string, size_t> flags_per_rater_;
  std::string secret_;
};

}  // namespace mw::dispatch

#endif  // MW_ENGINE_DISPATCH_VOICE_BOARD_H_
