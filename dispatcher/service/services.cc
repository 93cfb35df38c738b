#include "dispatcher/service/services.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

#include "dispatcher/service/pages.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "engine/record/work_record.h"
#include "formats/result_rows.h"
#include "proto/rpc/grpc_status.h"

namespace mw::rpc {

namespace {

grpc::Status Unauthenticated() {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "missing or unknown credential (authorization: Bearer <token>)");
}

Caller Staff(const std::string& name, std::vector<v1::StaffRole> roles) {
  Caller c{.kind = Caller::kStaff};
  c.staff.set_name(name);
  for (v1::StaffRole r : roles) c.staff.add_roles(r);
  return c;
}

// OK when the caller is one of the platform's people holding `role` (any of them when `role`
// is unspecified); UNAUTHENTICATED or PERMISSION_DENIED, saying what was needed, otherwise.
grpc::Status Require(const Caller& caller, v1::StaffRole role) {
  if (caller.kind == Caller::kNone) return Unauthenticated();
  if (caller.kind == Caller::kStaff && (role == v1::STAFF_ROLE_UNSPECIFIED || caller.Has(role))) {
    return grpc::Status::OK;
  }
  if (caller.kind == Caller::kStaff && caller.staff.roles_size() == 1 &&
      caller.Has(v1::STAFF_AUDITOR)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "auditors may read, not change");
  }
  if (caller.kind == Caller::kCentre && role == v1::STAFF_ROLE_UNSPECIFIED) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "the platform's people only (a centre's credential is for its agent)");
  }
  if (role == v1::STAFF_FINANCE) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        caller.kind == Caller::kStaff
                            ? absl::StrCat("finance only (", caller.staff.name(), " is not)")
                            : "finance only");
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "operators only");
}

// A decision's person is the account signed in: `*field` empty takes its name; another name is
// refused, so nobody records a decision as somebody else.
grpc::Status SignedBy(const Caller& caller, absl::string_view what, std::string* field) {
  if (field->empty() || *field == caller.staff.name()) {
    *field = caller.staff.name();
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat(what, ": you are signed in as ", caller.staff.name(),
                                   "; a decision records the account that made it"));
}

}  // namespace

bool Caller::Has(v1::StaffRole role) const {
  return kind == kStaff && dispatch::HasRole(staff, role);
}

std::string Caller::Label() const {
  switch (kind) {
    case kStaff:
      return absl::StrCat("staff:", staff.name());
    case kCentre:
      return absl::StrCat("centre:", centre_id);
    case kNone:
      break;
  }
  return "";
}

Caller Authenticator::Identify(const grpc::ServerContext& context) const {
  const std::string token = BearerToken(context);
  if (token.empty()) return {};
  if (!operator_token_.empty() && SecretsEqual(token, operator_token_)) {
    return Staff("operator", {v1::STAFF_OPERATOR, v1::STAFF_FINANCE});
  }
  if (!auditor_token_.empty() && SecretsEqual(token, auditor_token_)) {
    return Staff("auditor", {v1::STAFF_AUDITOR});
  }
  if (auto staff = engine_->AuthenticateStaff(token); staff.ok()) {
    return Caller{.kind = Caller::kStaff, .staff = *std::move(staff)};
  }
  if (auto centre = engine_->AuthenticateCentre(token); centre.ok()) {
    return Caller{.kind = Caller::kCentre, .centre_id = *centre};
  }
  return {};
}

// ---- OperatorService ----

grpc::Status OperatorServiceImpl::RequireOperator(const grpc::ServerContext& context,
                                                  bool read_only, Caller* caller) const {
  Caller who = auth_->Identify(context);
  grpc::Status s = Require(who, read_only ? v1::STAFF_ROLE_UNSPECIFIED : v1::STAFF_OPERATOR);
  if (s.ok() && caller != nullptr) *caller = std::move(who);
  return s;
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
    absl::Status s;
    switch (msg.part_case()) {
      case v1::SubmitContractRequest::kChunk:
        s = (*submission)->AddChunk(msg.chunk());
        break;
      case v1::SubmitContractRequest::kMediaFile:
        s = (*submission)->AddMediaFile(msg.media_file());
        break;
      case v1::SubmitContractRequest::kMediaChunk:
        s = (*submission)->AddMediaChunk(msg.media_chunk());
        break;
      default:
        s = absl::InvalidArgumentError("only media files and input chunks may follow the header");
    }
    if (!s.ok()) return ToGrpcStatus(s);
  }
  if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  auto result = (*submission)->Finish();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *reply = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::FindMedia(grpc::ServerContext* context,
                                            const v1::FindMediaRequest* request,
                                            v1::FindMediaReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  auto missing = engine_->MissingMedia({request->sha256().begin(), request->sha256().end()});
  if (!missing.ok()) return ToGrpcStatus(missing.status());
  for (std::string& sha : *missing) reply->add_missing(std::move(sha));
  reply->set_max_file_bytes(engine_->media_caps().file.max_file_bytes);
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
                                                grpc::ServerWriter<v1::ResultPage>* writer) {
  if (auto s = RequireOperator(*context); !s.ok()) return s;
  if (request->format() != v1::EXPORT_RECORDS) {
    std::optional<formats::ResultText::Format> format;
    if (request->format() == v1::EXPORT_CSV) format = formats::ResultText::Format::kCsv;
    if (request->format() == v1::EXPORT_JSONL) format = formats::ResultText::Format::kJsonl;
    if (!format.has_value()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("format: ", request->format(),
                                       " is none of EXPORT_RECORDS, EXPORT_CSV, EXPORT_JSONL"));
    }
    formats::ResultText text(*format);
    return ToGrpcStatus(SendTextPages<v1::ResultPage, v1::ResultRecord>(
        writer, [&](const v1::ResultRecord& row, std::string* out) { text.Append(row, out); },
        [&](const std::function<bool(v1::ResultRecord &&)>& put) {
          return engine_->ExportResults(request->job_id(), put);
        }));
  }
  return ToGrpcStatus(SendPages<v1::ResultPage, v1::ResultRecord>(
      writer, &v1::ResultPage::add_results,
      [&](const std::function<bool(v1::ResultRecord &&)>& put) {
        return engine_->ExportResults(request->job_id(), put);
      }));
}

grpc::Status OperatorServiceImpl::ExportAnswers(grpc::ServerContext* context,
                                                const v1::ExportAnswersRequest* request,
                                                grpc::ServerWriter<v1::AnswerPage>* writer) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  return ToGrpcStatus(SendPages<v1::AnswerPage, v1::AnswerRow>(
      writer, &v1::AnswerPage::add_answers, [&](const std::function<bool(v1::AnswerRow &&)>& put) {
        return engine_->ExportAnswers(request->job_id(), put);
      }));
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
  Caller caller;
  if (auto s = RequireOperator(*context, false, &caller); !s.ok()) return s;
  auto r = engine_->DecideReview(*request, "", caller.Label());
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
  Caller caller;
  if (auto s = RequireOperator(*context, false, &caller); !s.ok()) return s;
  v1::PromoteWorkerRequest signed_request = *request;
  if (auto s = SignedBy(caller, "decided_by", signed_request.mutable_decided_by()); !s.ok()) {
    return s;
  }
  auto r = engine_->PromoteWorker(signed_request);
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

grpc::Status OperatorServiceImpl::AddStaff(grpc::ServerContext* context,
                                           const v1::AddStaffRequest* request,
                                           v1::StaffCredential* reply) {
  Caller caller;
  if (auto s = RequireOperator(*context, false, &caller); !s.ok()) return s;
  auto r = engine_->AddStaff(*request, caller.staff.name());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::RotateStaffCredential(grpc::ServerContext* context,
                                                        const v1::StaffRequest* request,
                                                        v1::StaffCredential* reply) {
  // Operators, or the person themself (whatever their roles).
  Caller caller = auth_->Identify(*context);
  const bool themself = caller.kind == Caller::kStaff && caller.staff.name() == request->name();
  if (!themself) {
    if (auto s = Require(caller, v1::STAFF_OPERATOR); !s.ok()) return s;
  }
  auto r = engine_->RotateStaffCredential(*request, caller.staff.name());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::RevokeStaff(grpc::ServerContext* context,
                                              const v1::StaffRequest* request,
                                              v1::StaffAccount* reply) {
  Caller caller;
  if (auto s = RequireOperator(*context, false, &caller); !s.ok()) return s;
  if (caller.staff.name() == request->name()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "an operator may not revoke themself (another operator may)");
  }
  auto r = engine_->RevokeStaff(*request, caller.staff.name());
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::ListStaff(grpc::ServerContext* context,
                                            const v1::ListStaffRequest* request,
                                            v1::ListStaffReply* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  for (auto& a : engine_->ListStaff()) *reply->add_staff() = std::move(a);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::GetVoice(grpc::ServerContext* context,
                                           const v1::GetVoiceRequest* request,
                                           v1::VoiceReport* reply) {
  if (auto s = RequireOperator(*context, /*read_only=*/true); !s.ok()) return s;
  *reply = engine_->GetVoice(*request);
  return grpc::Status::OK;
}

grpc::Status OperatorServiceImpl::AnswerComplaint(grpc::ServerContext* context,
                                                  const v1::AnswerComplaintRequest* request,
                                                  v1::Complaint* reply) {
  Caller caller;
  if (auto s = RequireOperator(*context, false, &caller); !s.ok()) return s;
  v1::AnswerComplaintRequest r = *request;
  if (auto s = SignedBy(caller, "answered_by", r.mutable_answered_by()); !s.ok()) return s;
  auto answered = engine_->AnswerComplaint(r, r.answered_by());
  if (!answered.ok()) return ToGrpcStatus(answered.status());
  *reply = std::move(*answered);
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

grpc::Status CentreServiceImpl::FetchMedia(grpc::ServerContext* context,
                                           const v1::FetchMediaRequest* request,
                                           grpc::ServerWriter<v1::MediaChunk>* writer) {
  std::string centre;
  if (auto s = RequireCentre(*context, &centre); !s.ok()) return s;
  absl::Status s = engine_->ReadMedia(centre, request->sha256(), request->token(),
                                      request->offset(), [&](absl::string_view data, bool last) {
                                        v1::MediaChunk chunk;
                                        chunk.set_sha256(request->sha256());
                                        chunk.set_data(std::string(data));
                                        chunk.set_last(last);
                                        return !context->IsCancelled() && writer->Write(chunk);
                                      });
  return ToGrpcStatus(s);
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

grpc::Status CentreServiceImpl::IssueWorkRecord(grpc::ServerContext* context,
                                                const v1::IssueWorkRecordRequest* request,
                                                v1::IssueWorkRecordReply* reply) {
  return CentreCall(
      auth_, *context, reply,
      [&](const std::string& c) -> absl::StatusOr<v1::IssueWorkRecordReply> {
        if (installation_key_ == nullptr) {
          return absl::FailedPreconditionError("this dispatcher has no installation key");
        }
        if (request->centre_key().size() != record::kPublicKeyBytes) {
          return absl::InvalidArgumentError(
              absl::StrCat("centre_key: expected an Ed25519 public key of ",
                           record::kPublicKeyBytes, " bytes, got ", request->centre_key().size()));
        }
        MW_ASSIGN_OR_RETURN(record::WorkFacts facts, engine_->WorkFacts(c, request->worker()));
        v1::IssueWorkRecordReply issued;
        issued.set_text(record::IssueDispatcherHalf(facts, request->centre_key(),
                                                    absl::FromUnixMillis(engine_->clock()->NowMs()),
                                                    *installation_key_));
        return issued;
      });
}

grpc::Status CentreServiceImpl::GetCentrePayout(grpc::ServerContext* context,
                                                const v1::GetPayoutRequest* request,
                                                v1::PayoutBatch* reply) {
  return CentreCall(auth_, *context, reply, [&](const std::string& c) {
    return engine_->GetCentrePayout(c, request->batch_id());
  });
}

grpc::Status CentreServiceImpl::SettlePayout(grpc::ServerContext* context,
                                             const v1::SettlePayoutRequest* request,
                                             v1::PayoutBatch* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->SettlePayout(c, *request); });
}

grpc::Status CentreServiceImpl::ShareVoice(grpc::ServerContext* context,
                                           const v1::ShareVoiceRequest* request,
                                           v1::ShareVoiceReply* reply) {
  return CentreCall(auth_, *context, reply,
                    [&](const std::string& c) { return engine_->ShareVoice(c, *request); });
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
  return CentreCall(auth_, *context, reply, [&](const std::string& c) {
    return engine_->DecideReview(*request, c, absl::StrCat("centre:", c));
  });
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
  if (caller.kind != Caller::kStaff) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "the whole ledger is for the platform's people");
  }
  return ToGrpcStatus(
      engine_->ReadLedger([&](const v1::LedgerRecord& r) { return writer->Write(r); }));
}

// Payouts and held time are decided by finance; any of the platform's people may read them.
template <typename Reply, typename Call>
grpc::Status FinanceCall(const Authenticator* auth, const grpc::ServerContext& context,
                         bool read_only, Reply* reply, Call call) {
  Caller caller = auth->Identify(context);
  if (auto s = Require(caller, read_only ? v1::STAFF_ROLE_UNSPECIFIED : v1::STAFF_FINANCE);
      !s.ok()) {
    return s;
  }
  auto r = call(caller);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *reply = std::move(*r);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::CreatePayout(grpc::ServerContext* context,
                                             const v1::CreatePayoutRequest* request,
                                             v1::PayoutBatch* reply) {
  return FinanceCall(auth_, *context, false, reply,
                     [&](const Caller&) { return engine_->CreatePayout(*request); });
}

grpc::Status LedgerServiceImpl::ApprovePayout(grpc::ServerContext* context,
                                              const v1::ApprovePayoutRequest* request,
                                              v1::PayoutBatch* reply) {
  return FinanceCall(
      auth_, *context, false, reply, [&](const Caller& caller) -> absl::StatusOr<v1::PayoutBatch> {
        v1::ApprovePayoutRequest r = *request;
        if (auto s = SignedBy(caller, "approved_by", r.mutable_approved_by()); !s.ok()) {
          return FromGrpcStatus(s);
        }
        return engine_->ApprovePayout(r);
      });
}

grpc::Status LedgerServiceImpl::ListHeldTime(grpc::ServerContext* context,
                                             const v1::ListHeldTimeRequest* request,
                                             v1::ListHeldTimeReply* reply) {
  return FinanceCall(auth_, *context, true, reply,
                     [&](const Caller&) { return engine_->ListHeldTime(request->centre()); });
}

grpc::Status LedgerServiceImpl::ReleaseHeldTime(grpc::ServerContext* context,
                                                const v1::ReleaseHeldTimeRequest* request,
                                                v1::HeldTime* reply) {
  return FinanceCall(
      auth_, *context, false, reply, [&](const Caller& caller) -> absl::StatusOr<v1::HeldTime> {
        v1::ReleaseHeldTimeRequest r = *request;
        if (auto s = SignedBy(caller, "decided_by", r.mutable_decided_by()); !s.ok()) {
          return FromGrpcStatus(s);
        }
        return engine_->ReleaseHeldTime(r);
      });
}

grpc::Status LedgerServiceImpl::GetPayout(grpc::ServerContext* context,
                                          const v1::GetPayoutRequest* request,
                                          v1::PayoutBatch* reply) {
  return FinanceCall(auth_, *context, true, reply,
                     [&](const Caller&) { return engine_->GetPayout(request->batch_id()); });
}

grpc::Status LedgerServiceImpl::GetImpactReport(grpc::ServerContext* context,
                                                const v1::ImpactReportRequest* request,
                                                v1::ImpactReport* reply) {
  return FinanceCall(auth_, *context, true, reply,
                     [&](const Caller&) { return engine_->ImpactReport(request->job_id()); });
}

}  // namespace mw::rpc
