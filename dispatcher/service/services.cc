#include "dispatcher/service/services.h"

#include "engine/common/sha256.h"
#include "proto/rpc/grpc_status.h"

namespace mw::rpc {

namespace {

grpc::Status Unauthenticated() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "missing or unknown credential (authorization: Bearer <token>)");
}

}  // namespace

Caller Authenticator::Identify(const grpc::ServerContext& context) const {
  const std::string token = BearerToken(context);
  if (token.empty()) return {};
  if (!operator_token_.empty() && SecretsEqual(token, operator_token_))
    return {Caller::kOperator, ""};
  if (!auditor_token_.empty() && SecretsEqual(token, auditor_token_)) return {Caller::kAuditor, ""};
  auto centre = engine_->AuthenticateCentre(token);
  if (centre.ok()) return {Caller::kCentre, *centre};
  return {};
}

// ---- OperatorService ----

grpc::Status OperatorServiceImpl::RequireOperator(const grpc::ServerContext& context,
                                                  bool read_only) const {
  Caller caller = auth_->Identify(context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind == Caller::kOperator || (read_only && caller.kind == Caller::kAuditor)) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, caller.kind == Caller::kAuditor
                                                               ? "auditors may read, not change"
                                                               : "operators only");
}

grpc::Status OperatorServiceImpl::SubmitContract(
    grpc::ServerContext* context, grpc::ServerReader<v1::SubmitContractRequest>* reader,
    v1::SubmitContractReply* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  v1::SubmitContractRequest msg;
  if (!reader->Read(&msg) || !msg.has_header()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first message must carry the contract header");
  }
  auto submission = engine_->BeginSubmission(msg.header());
  if (!submission.ok()) return ToGrpcStatus(submission.status());
  while (reader->Read(&msg)) {
    if (!msg.has_chunk()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "only input chunks may follow the header");
    }
    if (auto s = (*submission)->AddChunk(msg.chunk()); !s.ok()) return ToGrpcStatus(s);
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  auto result = (*submission)->Finish();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::GetJob(grpc::ServerContext* context,
                                         const v1::GetJobRequest* request, v1::Job* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  auto job = engine_->GetJob(request->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status());
  *reply = std::move(*job);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ListJobs(grpc::ServerContext* context,
                                           const v1::ListJobsRequest* request,
                                           v1::ListJobsReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  for (auto& job : engine_->ListJobs()) *reply->add_jobs() = std::move(job);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::WatchJob(grpc::ServerContext* context,
                                           const v1::GetJobRequest* request,
                                           grpc::ServerWriter<v1::JobEvent>* writer) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  uint64_t version = 0;
  while (!context->IsCancelled()) {
    // Wake at least every second to notice a cancelled call.
    auto next = engine_->WaitForJob(request->job_id(), version, absl::Seconds(1));
    if (!next.ok()) return ToGrpcStatus(next.status());
    if (next->second == version) continue;
    version = next->second;
    v1::JobEvent event;
    *event.mutable_job() = std::move(next->first);
    event.set_final(dispatch::IsFinal(event.job().state()));
    if (!writer->Write(event)) break;
    if (event.final()) break;
  }
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ExportResults(grpc::ServerContext* context,
                                                const v1::ExportResultsRequest* request,
                                                grpc::ServerWriter<v1::ResultRecord>* writer) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  return ToGrpcStatus(engine_->ExportResults(
      request->job_id(), [&](const v1::ResultRecord& r) { return writer->Write(r); }));
}

grpc::Status OperatorServiceImpl::ExportAnswers(grpc::ServerContext* context,
                                                const v1::ExportAnswersRequest* request,
                                                grpc::ServerWriter<v1::AnswerRow>* writer) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  return ToGrpcStatus(engine_->ExportAnswers(
      request->job_id(), [&](const v1::AnswerRow& r) { return writer->Write(r); }));
}

grpc::Status OperatorServiceImpl::AddCentre(grpc::ServerContext* context,
                                            const v1::AddCentreRequest* request,
                                            v1::AddCentreReply* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->AddCentre(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::RotateCentreCredential(
    grpc::ServerContext* context, const v1::RotateCentreCredentialRequest* request,
    v1::AddCentreReply* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->RotateCentreCredential(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ListCentres(grpc::ServerContext* context,
                                              const v1::ListCentresRequest* request,
                                              v1::ListCentresReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  for (auto& c : engine_->ListCentres()) *reply->add_centres() = std::move(c);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ListReviews(grpc::ServerContext* context,
                                              const v1::ListReviewsRequest* request,
                                              v1::ListReviewsReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  auto r = engine_->ListReviews(request->job_id(), request->include_decided());
  if (!r.ok()) return ToGrpcStatus(r.status());
  for (auto& review : *r) *reply->add_reviews() = std::move(review);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::DecideReview(grpc::ServerContext* context,
                                               const v1::DecideReviewRequest* request,
                                               v1::Review* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->DecideReview(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::FundJob(grpc::ServerContext* context,
                                          const v1::FundJobRequest* request, v1::Job* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->FundJob(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ControlJob(grpc::ServerContext* context,
                                             const v1::ControlJobRequest* request, v1::Job* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->ControlJob(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::Backup(grpc::ServerContext* context,
                                         const v1::BackupRequest* request, v1::BackupReply* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->Backup(request->dir());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ListDeadTasks(grpc::ServerContext* context,
                                                const v1::ListDeadTasksRequest* request,
                                                v1::ListDeadTasksReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  for (auto& t : engine_->ListDeadTasks(request->job_id())) *reply->add_tasks() = std::move(t);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::PromoteWorker(grpc::ServerContext* context,
                                                const v1::PromoteWorkerRequest* request,
                                                v1::PromoteWorkerReply* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->PromoteWorker(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::RedriveTask(grpc::ServerContext* context,
                                              const v1::RedriveTaskRequest* request,
                                              v1::DeadTask* reply) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  auto r = engine_->RedriveTask(*request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

// ---- CentreService ----

grpc::Status CentreServiceImpl::RequireCentre(const grpc::ServerContext& context,
                                              std::string* centre_id) const {
  Caller caller = auth_->Identify(context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind != Caller::kCentre) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "centre credentials only");
  }
  *centre_id = caller.centre_id;
  return grpc::Status::OK;
}

grpc::Status CentreServiceImpl::Register(grpc::ServerContext* context,
                                         const v1::RegisterRequest* request,
                                         v1::RegisterReply* reply) {
  std::string centre;
  if (auto s = RequireCentre(*context, &centre); !s.ok()) return s;
  auto r = engine_->Register(centre, *request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CentreServiceImpl::Lease(grpc::ServerContext* context, const v1::LeaseRequest* request,
                                      v1::LeaseReply* reply) {
  std::string centre;
  if (auto s = RequireCentre(*context, &centre); !s.ok()) return s;
  auto r = engine_->Lease(centre, *request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CentreServiceImpl::Heartbeat(grpc::ServerContext* context,
                                          const v1::HeartbeatRequest* request,
                                          v1::HeartbeatReply* reply) {
  std::string centre;
  if (auto s = RequireCentre(*context, &centre); !s.ok()) return s;
  auto r = engine_->Heartbeat(centre, *request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CentreServiceImpl::SubmitResults(grpc::ServerContext* context,
                                              const v1::SubmitResultsRequest* request,
                                              v1::SubmitResultsReply* reply) {
  std::string centre;
  if (auto s = RequireCentre(*context, &centre); !s.ok()) return s;
  auto r = engine_->SubmitResults(centre, *request);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

// The calling centre's id and the engine call's outcome, mapped once.
template <typename Reply, typename Call>
grpc::Status CentreCall(const Authenticator* auth, const grpc::ServerContext& context, Reply* reply,
                        Call call) {
  Caller caller = auth->Identify(context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind != Caller::kCentre) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "centre credentials only");
  }
  auto r = call(caller.centre_id);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status CentreServiceImpl::WithholdWage(grpc::ServerContext* context,
                                             const v1::WithholdWageRequest* request,
                                             v1::Withholding* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->WithholdWage(c, *request); });
}

grpc::Status CentreServiceImpl::DisputeWithholding(grpc::ServerContext* context,
                                                   const v1::DisputeWithholdingRequest* request,
                                                   v1::Withholding* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->DisputeWithholding(c, *request); });
}

grpc::Status CentreServiceImpl::ResolveDispute(grpc::ServerContext* context,
                                               const v1::ResolveDisputeRequest* request,
                                               v1::Withholding* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->ResolveDispute(c, *request); });
}

grpc::Status CentreServiceImpl::Reassign(grpc::ServerContext* context,
                                         const v1::ReassignRequest* request,
                                         v1::ReassignReply* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->Reassign(c, *request); });
}

grpc::Status CentreServiceImpl::ListCentreReviews(grpc::ServerContext* context,
                                                  const v1::ListReviewsRequest* request,
                                                  v1::ListReviewsReply* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->ListReviewsForCentre(c); });
}

grpc::Status CentreServiceImpl::DecideCentreReview(grpc::ServerContext* context,
                                                   const v1::DecideReviewRequest* request,
                                                   v1::Review* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->DecideReview(*request, c); });
}

grpc::Status CentreServiceImpl::ListWithholdings(grpc::ServerContext* context,
                                                 const v1::ListWithholdingsRequest* request,
                                                 v1::ListWithholdingsReply* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) -> absl::StatusOr<v1::ListWithholdingsReply> {
                      auto list = engine_->ListWithholdings(c);
                      if (!list.ok()) return list.status();
                      v1::ListWithholdingsReply out;
                      for (auto& w : *list) *out.add_withholdings() = std::move(w);
                      return out;
                    });
}

// ---- LedgerService ----

grpc::Status LedgerServiceImpl::GetStatement(grpc::ServerContext* context,
                                             const v1::StatementRequest* request,
                                             v1::Statement* reply) {
  Caller caller = auth_->Identify(*context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  auto r = engine_->GetStatement(*request, caller.centre_id);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ReadLedger(grpc::ServerContext* context,
                                           const v1::ReadLedgerRequest* request,
                                           grpc::ServerWriter<v1::LedgerRecord>* writer) {
  Caller caller = auth_->Identify(*context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind != Caller::kOperator && caller.kind != Caller::kAuditor) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "the whole ledger is for operators and auditors");
  }
  return ToGrpcStatus(
      engine_->ReadLedger([&](const v1::LedgerRecord& r) { return writer->Write(r); }));
}

// Payouts and reports are for operators.
template <typename Reply, typename Call>
grpc::Status OperatorCall(const Authenticator* auth, const grpc::ServerContext& context,
                          bool read_only, Reply* reply, Call call) {
  Caller caller = auth->Identify(context);
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind != Caller::kOperator && !(read_only && caller.kind == Caller::kAuditor)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "operators only");
  }
  auto r = call();
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::CreatePayout(grpc::ServerContext* context,
                                             const v1::CreatePayoutRequest* request,
                                             v1::PayoutBatch* reply) {
  return OperatorCall(auth_, *context, false, reply,
                      [&] { return engine_->CreatePayout(*request); });
}

grpc::Status LedgerServiceImpl::ApprovePayout(grpc::ServerContext* context,
                                              const v1::ApprovePayoutRequest* request,
                                              v1::PayoutBatch* reply) {
  return OperatorCall(auth_, *context, false, reply,
                      [&] { return engine_->ApprovePayout(*request); });
}

grpc::Status LedgerServiceImpl::ListHeldTime(grpc::ServerContext* context,
                                             const v1::ListHeldTimeRequest* request,
                                             v1::ListHeldTimeReply* reply) {
  return OperatorCall(auth_, *context, true, reply,
                      [&] { return engine_->ListHeldTime(request->centre()); });
}

grpc::Status LedgerServiceImpl::ReleaseHeldTime(grpc::ServerContext* context,
                                                const v1::ReleaseHeldTimeRequest* request,
                                                v1::HeldTime* reply) {
  return OperatorCall(auth_, *context, false, reply,
                      [&] { return engine_->ReleaseHeldTime(*request); });
}

grpc::Status LedgerServiceImpl::GetPayout(grpc::ServerContext* context,
                                          const v1::GetPayoutRequest* request,
                                          v1::PayoutBatch* reply) {
  return OperatorCall(auth_, *context, true, reply,
                      [&] { return engine_->GetPayout(request->batch_id()); });
}

grpc::Status LedgerServiceImpl::GetImpactReport(grpc::ServerContext* context,
                                                const v1::ImpactReportRequest* request,
                                                v1::ImpactReport* reply) {
  return OperatorCall(auth_, *context, true, reply,
                      [&] { return engine_->ImpactReport(request->job_id()); });
}

}  // namespace mw::rpc
