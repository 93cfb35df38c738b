#include "worker-agent/dispatcher_link.h"

#include <algorithm>

#include "proto/rpc/grpc_status.h"

namespace mw::agent {

namespace {
constexpr absl::Duration kInteractive = absl::Seconds(3);
}  // namespace

absl::StatusOr<std::unique_ptr<DispatcherLink>> DispatcherLink::Connect(
    const rpc::ChannelOptions& channel, std::string credential, absl::Duration timeout) {
  auto ch = rpc::MakeChannel(channel);
  if (!ch.ok()) return ch.status();
  std::unique_ptr<DispatcherLink> link(new DispatcherLink());
  link->credential_ = std::move(credential);
  link->timeout_ = timeout;
  link->stub_ = v1::CentreService::NewStub(*ch);
  return link;
}

template <typename Reply, typename Call>
absl::StatusOr<Reply> Invoke(const std::string& credential, absl::Duration timeout, Call call) {
  Reply reply;
  auto ctx = rpc::MakeContext(credential, timeout);
  grpc::Status s = call(ctx.get(), &reply);
  if (!s.ok()) return rpc::FromGrpcStatus(s);
  return reply;
}

absl::StatusOr<v1::RegisterReply> DispatcherLink::Register(const v1::RegisterRequest& r) {
  return Invoke<v1::RegisterReply>(credential_, timeout_, [&](auto* ctx, auto* reply) {
    return stub_->Register(ctx, r, reply);
  });
}

absl::StatusOr<v1::LeaseReply> DispatcherLink::Lease(const v1::LeaseRequest& r) {
  return Invoke<v1::LeaseReply>(
      credential_, timeout_, [&](auto* ctx, auto* reply) { return stub_->Lease(ctx, r, reply); });
}

absl::StatusOr<v1::HeartbeatReply> DispatcherLink::Heartbeat(const v1::HeartbeatRequest& r) {
  return Invoke<v1::HeartbeatReply>(credential_, timeout_, [&](auto* ctx, auto* reply) {
    return stub_->Heartbeat(ctx, r, reply);
  });
}

absl::StatusOr<v1::SubmitResultsReply> DispatcherLink::SubmitResults(
    const v1::SubmitResultsRequest& r) {
  return Invoke<v1::SubmitResultsReply>(credential_, timeout_, [&](auto* ctx, auto* reply) {
    return stub_->SubmitResults(ctx, r, reply);
  });
}

absl::Status DispatcherLink::FetchMedia(
    const v1::Media& media, uint64_t offset,
    const std::function<bool(absl::string_view data, bool last)>& sink) {
  auto ctx = rpc::MakeContext(credential_, std::max(timeout_, absl::Minutes(10)));
  v1::FetchMediaRequest request;
  request.set_sha256(media.sha256());
  request.set_offset(offset);
  request.set_token(media.fetch_token());
  std::unique_ptr<grpc::ClientReader<v1::MediaChunk>> reader =
      stub_->FetchMedia(ctx.get(), request);
  v1::MediaChunk chunk;
  while (reader->Read(&chunk)) {
    if (!sink(chunk.data(), chunk.last())) {
      ctx->TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) return rpc::FromGrpcStatus(s);
  return absl::OkStatus();
}

absl::StatusOr<v1::ListWithholdingsReply> DispatcherLink::ListWithholdings() {
  return Invoke<v1::ListWithholdingsReply>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->ListWithholdings(ctx, {}, reply);
  });
}

absl::StatusOr<v1::Withholding> DispatcherLink::DisputeWithholding(
    const v1::DisputeWithholdingRequest& r) {
  return Invoke<v1::Withholding>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->DisputeWithholding(ctx, r, reply);
  });
}

absl::StatusOr<v1::Withholding> DispatcherLink::ResolveDispute(const v1::ResolveDisputeRequest& r) {
  return Invoke<v1::Withholding>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->ResolveDispute(ctx, r, reply);
  });
}

absl::StatusOr<v1::IssueWorkRecordReply> DispatcherLink::IssueWorkRecord(
    const v1::IssueWorkRecordRequest& r) {
  return Invoke<v1::IssueWorkRecordReply>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->IssueWorkRecord(ctx, r, reply);
  });
}

absl::StatusOr<v1::PayoutBatch> DispatcherLink::GetCentrePayout(const std::string& batch_id) {
  v1::GetPayoutRequest r;
  r.set_batch_id(batch_id);
  return Invoke<v1::PayoutBatch>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->GetCentrePayout(ctx, r, reply);
  });
}

absl::StatusOr<v1::PayoutBatch> DispatcherLink::SettlePayout(const v1::SettlePayoutRequest& r) {
  return Invoke<v1::PayoutBatch>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->SettlePayout(ctx, r, reply);
  });
}

absl::StatusOr<v1::ShareVoiceReply> DispatcherLink::ShareVoice(const v1::ShareVoiceRequest& r) {
  return Invoke<v1::ShareVoiceReply>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->ShareVoice(ctx, r, reply);
  });
}

absl::StatusOr<v1::Withholding> DispatcherLink::WithholdWage(const v1::WithholdWageRequest& r) {
  return Invoke<v1::Withholding>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->WithholdWage(ctx, r, reply);
  });
}

absl::StatusOr<v1::ReassignReply> DispatcherLink::Reassign(const v1::ReassignRequest& r) {
  return Invoke<v1::ReassignReply>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->Reassign(ctx, r, reply);
  });
}

absl::StatusOr<v1::ListReviewsReply> DispatcherLink::ListReviews() {
  return Invoke<v1::ListReviewsReply>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->ListCentreReviews(ctx, {}, reply);
  });
}

absl::StatusOr<v1::Review> DispatcherLink::DecideReview(const v1::DecideReviewRequest& r) {
  return Invoke<v1::Review>(credential_, kInteractive, [&](auto* ctx, auto* reply) {
    return stub_->DecideCentreReview(ctx, r, reply);
  });
}

bool Retryable(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsResourceExhausted(s) ||
         absl::IsAborted(s) || absl::IsInternal(s) || absl::IsUnknown(s);
}

}  // namespace mw::agent
