// DispatcherLink: the agent's side of CentreService. Every call carries the centre's credential
// and a deadline; errors come back as absl::Status with the gRPC code kept (UNAVAILABLE and
// DEADLINE_EXCEEDED mean "try again later").
#ifndef MW_WORKER_AGENT_DISPATCHER_LINK_H_
#define MW_WORKER_AGENT_DISPATCHER_LINK_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"

namespace mw::agent {

namespace v1 = ::microwork::v1;

class DispatcherLink {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<DispatcherLink>> Connect(
      const rpc::ChannelOptions& channel, std::string credential, absl::Duration timeout);

  [[nodiscard]] absl::StatusOr<v1::RegisterReply> Register(const v1::RegisterRequest& r);
  [[nodiscard]] absl::StatusOr<v1::LeaseReply> Lease(const v1::LeaseRequest& r);
  [[nodiscard]] absl::StatusOr<v1::HeartbeatReply> Heartbeat(const v1::HeartbeatRequest& r);
  [[nodiscard]] absl::StatusOr<v1::SubmitResultsReply> SubmitResults(
      const v1::SubmitResultsRequest& r);
  // Streams media file `media` (by its sha256, with the fetch_token its lease gave) from
  // `offset` into `sink` (false: stop), with a deadline long enough for a large file on a slow
  // link.
  [[nodiscard]] absl::Status FetchMedia(
      const v1::Media& media, uint64_t offset,
      const std::function<bool(absl::string_view data, bool last)>& sink);
  // For the workers' page, with a short deadline: a person is waiting.
  [[nodiscard]] absl::StatusOr<v1::ListWithholdingsReply> ListWithholdings();
  [[nodiscard]] absl::StatusOr<v1::Withholding> DisputeWithholding(
      const v1::DisputeWithholdingRequest& r);
  [[nodiscard]] absl::StatusOr<v1::Withholding> ResolveDispute(const v1::ResolveDisputeRequest& r);
  [[nodiscard]] absl::StatusOr<v1::IssueWorkRecordReply> IssueWorkRecord(
      const v1::IssueWorkRecordRequest& r);
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> GetCentrePayout(const std::string& batch_id);
  [[nodiscard]] absl::StatusOr<v1::PayoutBatch> SettlePayout(const v1::SettlePayoutRequest& r);
  [[nodiscard]] absl::StatusOr<v1::ShareVoiceReply> ShareVoice(const v1::ShareVoiceRequest& r);
  [[nodiscard]] absl::StatusOr<v1::Withholding> WithholdWage(const v1::WithholdWageRequest& r);
  [[nodiscard]] absl::StatusOr<v1::ReassignReply> Reassign(const v1::ReassignRequest& r);
  [[nodiscard]] absl::StatusOr<v1::ListReviewsReply> ListReviews();
  [[nodiscard]] absl::StatusOr<v1::Review> DecideReview(const v1::DecideReviewRequest& r);

 private:
  DispatcherLink() = default;
  std::string credential_;
  absl::Duration timeout_;
  std::unique_ptr<v1::CentreService::Stub> stub_;
};

// True for errors worth retrying after a pause.
bool Retryable(const absl::Status& s);

}  // namespace mw::agent

#endif  // MW_WORKER_AGENT_DISPATCHER_LINK_H_
