// The dispatcher's gRPC services. Each method authenticates the caller, validates the request's
// shape, calls the Engine, and maps the status once. No business rules live here.
#ifndef MW_DISPATCHER_SERVICE_SERVICES_H_
#define MW_DISPATCHER_SERVICE_SERVICES_H_

#include <string>

#include "engine/dispatch/engine.h"
#include "engine/record/signing_key.h"
#include "microwork/v1/services.grpc.pb.h"

namespace mw::rpc {

namespace v1 = ::microwork::v1;

// Who is calling: one of the platform's people (with their account), a centre (with its id), or
// nobody known.
struct Caller {
  enum Kind { kNone, kStaff, kCentre } kind = kNone;
  std::string centre_id;
  v1::StaffAccount staff;  // kStaff: the account signed in

  bool Has(v1::StaffRole role) const;
  // "staff:<name>" or "centre:<id>", as decisions record who was signed in.
  std::string Label() const;
};

// Resolves bearer tokens. Thread-safe; borrows `engine`, which must outlive it.
class Authenticator {
 public:
  // The installation's token files are two accounts of their own: `operator_token` is
  // "operator" (operator and finance), `auditor_token` is "auditor" (reads, changes nothing).
  // An empty token disables its account. Other people have accounts of their own (AddStaff).
  Authenticator(dispatch::Engine* engine, std::string operator_token, std::string auditor_token)
      : engine_(engine),
        operator_token_(std::move(operator_token)),
        auditor_token_(std::move(auditor_token)) {}
  Caller Identify(const grpc::ServerContext& context) const;

 private:
  dispatch::Engine* engine_;
  std::string operator_token_;
  std::string auditor_token_;
};

class OperatorServiceImpl final : public v1::OperatorService::Service {
 public:
  OperatorServiceImpl(dispatch::Engine* engine, const Authenticator* auth)
      : engine_(engine), auth_(auth) {}

  grpc::Status SubmitContract(grpc::ServerContext* context,
                              grpc::ServerReader<v1::SubmitContractRequest>* reader,
                              v1::SubmitContractReply* reply) override;
  grpc::Status FindMedia(grpc::ServerContext* context, const v1::FindMediaRequest* request,
                         v1::FindMediaReply* reply) override;
  grpc::Status GetJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                      v1::Job* reply) override;
  grpc::Status ListJobs(grpc::ServerContext* context, const v1::ListJobsRequest* request,
                        v1::ListJobsReply* reply) override;
  grpc::Status WatchJob(grpc::ServerContext* context, const v1::GetJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override;
  grpc::Status ExportResults(grpc::ServerContext* context, const v1::ExportResultsRequest* request,
                             grpc::ServerWriter<v1::ResultPage>* writer) override;
  grpc::Status ExportAnswers(grpc::ServerContext* context, const v1::ExportAnswersRequest* request,
                             grpc::ServerWriter<v1::AnswerPage>* writer) override;
  grpc::Status AddCentre(grpc::ServerContext* context, const v1::AddCentreRequest* request,
                         v1::AddCentreReply* reply) override;
  grpc::Status RotateCentreCredential(grpc::ServerContext* context,
                                      const v1::RotateCentreCredentialRequest* request,
                                      v1::AddCentreReply* reply) override;
  grpc::Status ListCentres(grpc::ServerContext* context, const v1::ListCentresRequest* request,
                           v1::ListCentresReply* reply) override;
  grpc::Status ListReviews(grpc::ServerContext* context, const v1::ListReviewsRequest* request,
                           v1::ListReviewsReply* reply) override;
  grpc::Status DecideReview(grpc::ServerContext* context, const v1::DecideReviewRequest* request,
                            v1::Review* reply) override;
  grpc::Status FundJob(grpc::ServerContext* context, const v1::FundJobRequest* request,
                       v1::Job* reply) override;
  grpc::Status ControlJob(grpc::ServerContext* context, const v1::ControlJobRequest* request,
                          v1::Job* reply) override;
  grpc::Status Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                      v1::BackupReply* reply) override;
  grpc::Status ListDeadTasks(grpc::ServerContext* context, const v1::ListDeadTasksRequest* request,
                             v1::ListDeadTasksReply* reply) override;
  grpc::Status PromoteWorker(grpc::ServerContext* context, const v1::PromoteWorkerRequest* request,
                             v1::PromoteWorkerReply* reply) override;
  grpc::Status RedriveTask(grpc::ServerContext* context, const v1::RedriveTaskRequest* request,
                           v1::DeadTask* reply) override;
  grpc::Status AddStaff(grpc::ServerContext* context, const v1::AddStaffRequest* request,
                        v1::StaffCredential* reply) override;
  grpc::Status RotateStaffCredential(grpc::ServerContext* context, const v1::StaffRequest* request,
                                     v1::StaffCredential* reply) override;
  grpc::Status RevokeStaff(grpc::ServerContext* context, const v1::StaffRequest* request,
                           v1::StaffAccount* reply) override;
  grpc::Status ListStaff(grpc::ServerContext* context, const v1::ListStaffRequest* request,
                         v1::ListStaffReply* reply) override;
  grpc::Status GetVoice(grpc::ServerContext* context, const v1::GetVoiceRequest* request,
                        v1::VoiceReport* reply) override;
  grpc::Status AnswerComplaint(grpc::ServerContext* context,
                               const v1::AnswerComplaintRequest* request,
                               v1::Complaint* reply) override;

 private:
  // OK for an operator, and for any of the platform's people when `read_only`; UNAUTHENTICATED
  // or PERMISSION_DENIED otherwise. `caller`, when given, receives who it was.
  grpc::Status RequireOperator(const grpc::ServerContext& context, bool read_only = false,
                               Caller* caller = nullptr) const;
  dispatch::Engine* engine_;
  const Authenticator* auth_;
};

class CentreServiceImpl final : public v1::CentreService::Service {
 public:
  // `installation_key` signs the dispatcher's half of work records (IssueWorkRecord); null
  // leaves that call FAILED_PRECONDITION.
  CentreServiceImpl(dispatch::Engine* engine, const Authenticator* auth,
                    const record::SigningKey* installation_key = nullptr)
      : engine_(engine), auth_(auth), installation_key_(installation_key) {}

  grpc::Status Register(grpc::ServerContext* context, const v1::RegisterRequest* request,
                        v1::RegisterReply* reply) override;
  grpc::Status Lease(grpc::ServerContext* context, const v1::LeaseRequest* request,
                     v1::LeaseReply* reply) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const v1::HeartbeatRequest* request,
                         v1::HeartbeatReply* reply) override;
  grpc::Status FetchMedia(grpc::ServerContext* context, const v1::FetchMediaRequest* request,
                          grpc::ServerWriter<v1::MediaChunk>* writer) override;
  grpc::Status SubmitResults(grpc::ServerContext* context, const v1::SubmitResultsRequest* request,
                             v1::SubmitResultsReply* reply) override;
  grpc::Status WithholdWage(grpc::ServerContext* context, const v1::WithholdWageRequest* request,
                            v1::Withholding* reply) override;
  grpc::Status DisputeWithholding(grpc::ServerContext* context,
                                  const v1::DisputeWithholdingRequest* request,
                                  v1::Withholding* reply) override;
  grpc::Status Reassign(grpc::ServerContext* context, const v1::ReassignRequest* request,
                        v1::ReassignReply* reply) override;
  grpc::Status ListCentreReviews(grpc::ServerContext* context,
                                 const v1::ListReviewsRequest* request,
                                 v1::ListReviewsReply* reply) override;
  grpc::Status DecideCentreReview(grpc::ServerContext* context,
                                  const v1::DecideReviewRequest* request,
                                  v1::Review* reply) override;
  grpc::Status ResolveDispute(grpc::ServerContext* context,
                              const v1::ResolveDisputeRequest* request,
                              v1::Withholding* reply) override;
  grpc::Status IssueWorkRecord(grpc::ServerContext* context,
                               const v1::IssueWorkRecordRequest* request,
                               v1::IssueWorkRecordReply* reply) override;
  grpc::Status GetCentrePayout(grpc::ServerContext* context, const v1::GetPayoutRequest* request,
                               v1::PayoutBatch* reply) override;
  grpc::Status SettlePayout(grpc::ServerContext* context, const v1::SettlePayoutRequest* request,
                            v1::PayoutBatch* reply) override;
  grpc::Status ShareVoice(grpc::ServerContext* context, const v1::ShareVoiceRequest* request,
                          v1::ShareVoiceReply* reply) override;
  grpc::Status ListWithholdings(grpc::ServerContext* context,
                                const v1::ListWithholdingsRequest* request,
                                v1::ListWithholdingsReply* reply) override;

 private:
  // The calling centre's id, or UNAUTHENTICATED / PERMISSION_DENIED.
  grpc::Status RequireCentre(const grpc::ServerContext& context, std::string* centre_id) const;
  dispatch::Engine* engine_;
  const Authenticator* auth_;
  const record::SigningKey* installation_key_;
};

class LedgerServiceImpl final : public v1::LedgerService::Service {
 public:
  LedgerServiceImpl(dispatch::Engine* engine, const Authenticator* auth)
      : engine_(engine), auth_(auth) {}

  grpc::Status GetStatement(grpc::ServerContext* context, const v1::StatementRequest* request,
                            v1::Statement* reply) override;
  grpc::Status ReadLedger(grpc::ServerContext* context, const v1::ReadLedgerRequest* request,
                          grpc::ServerWriter<v1::LedgerRecord>* writer) override;
  grpc::Status CreatePayout(grpc::ServerContext* context, const v1::CreatePayoutRequest* request,
                            v1::PayoutBatch* reply) override;
  grpc::Status ApprovePayout(grpc::ServerContext* context, const v1::ApprovePayoutRequest* request,
                             v1::PayoutBatch* reply) override;
  grpc::Status GetPayout(grpc::ServerContext* context, const v1::GetPayoutRequest* request,
                         v1::PayoutBatch* reply) override;
  grpc::Status GetImpactReport(grpc::ServerContext* context, const v1::ImpactReportRequest* request,
                               v1::ImpactReport* reply) override;
  grpc::Status ListHeldTime(grpc::ServerContext* context, const v1::ListHeldTimeRequest* request,
                            v1::ListHeldTimeReply* reply) override;
  grpc::Status ReleaseHeldTime(grpc::ServerContext* context,
                               const v1::ReleaseHeldTimeRequest* request,
                               v1::HeldTime* reply) override;

 private:
  dispatch::Engine* engine_;
  const Authenticator* auth_;
};

}  // namespace mw::rpc

#endif  // MW_DISPATCHER_SERVICE_SERVICES_H_
