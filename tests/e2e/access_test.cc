// The access-control matrix over real gRPC against the real mw-dispatcher: callers without a
// credential, with a wrong one, an auditor trying to change things, operators and auditors
// using centre calls, centres using operator calls, and centre B reaching for centre A's leases,
// results and workers. Each denied call gets UNAUTHENTICATED or PERMISSION_DENIED, and the
// state is byte for byte what it was before.
#include <signal.h>

#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw {
namespace {

namespace v1 = ::microwork::v1;
using grpc::StatusCode;
using testing::Subprocess;

const std::string kBin = MW_BIN_DIR;
const std::string kSource = MW_SOURCE_DIR;

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dispatcher_ = std::make_unique<Subprocess>(
        std::vector<std::string>{kBin + "/mw-dispatcher", "--data-dir", dir_.Sub("d"), "--listen",
                                 "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                 "--auditor-token-file", dir_.Sub("auditor.token")},
        dir_.Sub("d.log"));
    server_ = testing::ReadyField(dispatcher_->ReadLineContaining("mw-dispatcher ready"), "grpc");
    auto channel = *rpc::MakeChannel({.target = server_});
    ops_ = v1::OperatorService::NewStub(channel);
    centres_ = v1::CentreService::NewStub(channel);
    ledger_ = v1::LedgerService::NewStub(channel);
    operator_ = Read(dir_.Sub("d/operator.token"));
    auditor_ = Read(dir_.Sub("auditor.token"));

    // Two centres, one worker each, a job, and one lease at each centre.
    for (const char* id : {"alpha", "beta"}) {
      v1::AddCentreRequest add;
      add.set_idempotency_key(id);
      add.mutable_centre()->set_id(id);
      add.mutable_centre()->set_region("KE");
      add.mutable_centre()->set_currency("USD");
      add.mutable_centre()->set_wage_floor_minor_per_hour(100);
      add.mutable_centre()->set_capacity(10);
      v1::AddCentreReply reply;
      ASSERT_TRUE(ops_->AddCentre(Ctx(operator_).get(), add, &reply).ok());
      (std::string(id) == "alpha" ? alpha_ : beta_) = reply.credential();
      v1::RegisterRequest reg;
      v1::WorkerOnDuty* w = reg.add_workers();
      w->set_worker(absl::StrCat("w-", id));
      w->add_languages("en");
      v1::RegisterReply r;
      ASSERT_TRUE(centres_->Register(Ctx(reply.credential()).get(), reg, &r).ok());
    }
    ASSERT_EQ(testing::Run({kBin + "/mw", "--server", server_, "--token-file",
                            dir_.Sub("d/operator.token"), "contract", "submit",
                            kSource + "/examples/demo/contract.yaml"})
                  .exit_code,
              0);
    v1::LeaseRequest lease;
    lease.set_idempotency_key("a1");
    lease.add_credits()->set_worker("w-alpha");
    lease.mutable_credits(0)->set_count(2);
    ASSERT_TRUE(centres_->Lease(Ctx(alpha_).get(), lease, &alpha_lease_).ok());
    ASSERT_EQ(alpha_lease_.assignments_size(), 2);
    // One of alpha's answers, recorded, so there is a contribution to reach for.
    v1::SubmitResultsRequest submit;
    *submit.add_results() = Result(alpha_lease_.assignments(0), "alpha-r0");
    v1::SubmitResultsReply receipts;
    ASSERT_TRUE(centres_->SubmitResults(Ctx(alpha_).get(), submit, &receipts).ok());
  }

  void TearDown() override {
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0);
  }

  static std::string Read(const std::string& path) {
    return std::string(absl::StripAsciiWhitespace(testing::Run({"/bin/cat", path}).out));
  }
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    return rpc::MakeContext(token, absl::Seconds(20));
  }
  static v1::Result Result(const v1::Assignment& a, const std::string& id) {
    v1::Result r;
    r.set_result_id(id);
    r.set_assignment_id(a.assignment_id());
    r.set_epoch(a.epoch());
    r.set_worker(a.worker());
    r.mutable_answer()->set_choice("positive");
    r.set_active_seconds(20);
    return r;
  }

  // Everything a denied call might have changed, as bytes.
  std::string Snapshot() {
    std::string out;
    v1::ListJobsReply jobs;
    EXPECT_TRUE(ops_->ListJobs(Ctx(operator_).get(), {}, &jobs).ok());
    out += jobs.SerializeAsString();
    v1::ListCentresReply centres;
    EXPECT_TRUE(ops_->ListCentres(Ctx(operator_).get(), {}, &centres).ok());
    out += centres.SerializeAsString();
    auto ctx = Ctx(operator_);
    auto reader = ledger_->ReadLedger(ctx.get(), {});
    v1::LedgerRecord rec;
    while (reader->Read(&rec)) out += rec.SerializeAsString();
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Subprocess> dispatcher_;
  std::string server_, operator_, auditor_, alpha_, beta_;
  std::unique_ptr<v1::OperatorService::Stub> ops_;
  std::unique_ptr<v1::CentreService::Stub> centres_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
  v1::LeaseReply alpha_lease_;
};

TEST_F(AccessTest, EveryDeniedCallIsRefusedAndChangesNothing) {
  const std::string before = Snapshot();
  const std::string nobody = "", wrong = "mwo_not-a-real-token";

  struct Row {
    std::string what;
    std::string token;
    std::function<grpc::Status(grpc::ClientContext*)> call;
    StatusCode expected;
  };
  v1::AddCentreRequest add;
  add.set_idempotency_key("evil");
  add.mutable_centre()->set_id("gamma");
  v1::FundJobRequest fund;
  fund.set_idempotency_key("f");
  fund.set_job_id("job-1");
  fund.set_amount_minor(1);
  v1::ControlJobRequest cancel;
  cancel.set_idempotency_key("c");
  cancel.set_job_id("job-1");
  cancel.set_action(v1::JOB_CANCEL);
  v1::LeaseRequest lease;
  lease.set_idempotency_key("l");
  lease.add_credits()->set_worker("w-beta");
  lease.mutable_credits(0)->set_count(1);
  v1::SubmitResultsRequest foreign;  // beta answering alpha's assignment
  *foreign.add_results() = Result(alpha_lease_.assignments(1), "beta-steals");
  v1::HeartbeatRequest beat;
  beat.add_assignment_ids(alpha_lease_.assignments(1).assignment_id());
  v1::StatementRequest alpha_centre, alpha_worker, job_statement;
  alpha_centre.set_centre("alpha");
  alpha_worker.set_worker_account("worker:alpha/w-alpha");
  job_statement.set_job_id("job-1");
  v1::CreatePayoutRequest payout;
  payout.set_idempotency_key("p");
  payout.set_centre("alpha");
  v1::BackupRequest backup;
  backup.set_dir(dir_.Sub("stolen-backup"));
  v1::RedriveTaskRequest redrive;
  redrive.set_idempotency_key("r");
  redrive.set_task_id("job-1/sentiment/0");
  v1::ExportResultsRequest exp;
  exp.set_job_id("job-1");

  auto add_centre = [&](grpc::ClientContext* c) {
    v1::AddCentreReply r;
    return ops_->AddCentre(c, add, &r);
  };
  auto fund_job = [&](grpc::ClientContext* c) {
    v1::Job r;
    return ops_->FundJob(c, fund, &r);
  };
  auto cancel_job = [&](grpc::ClientContext* c) {
    v1::Job r;
    return ops_->ControlJob(c, cancel, &r);
  };
  auto list_jobs = [&](grpc::ClientContext* c) {
    v1::ListJobsReply r;
    return ops_->ListJobs(c, {}, &r);
  };
  auto do_backup = [&](grpc::ClientContext* c) {
    v1::BackupReply r;
    return ops_->Backup(c, backup, &r);
  };
  auto do_redrive = [&](grpc::ClientContext* c) {
    v1::DeadTask r;
    return ops_->RedriveTask(c, redrive, &r);
  };
  auto export_results = [&](grpc::ClientContext* c) {
    auto reader = ops_->ExportResults(c, exp);
    v1::ResultPage r;
    while (reader->Read(&r)) {
    }
    return reader->Finish();
  };
  auto do_lease = [&](grpc::ClientContext* c) {
    v1::LeaseReply r;
    return centres_->Lease(c, lease, &r);
  };
  auto submit_foreign = [&](grpc::ClientContext* c) {
    v1::SubmitResultsReply r;
    return centres_->SubmitResults(c, foreign, &r);
  };
  auto heartbeat_foreign = [&](grpc::ClientContext* c) {
    v1::HeartbeatReply r;
    return centres_->Heartbeat(c, beat, &r);
  };
  auto statement = [&](const v1::StatementRequest& req) {
    return [&, req](grpc::ClientContext* c) {
      v1::Statement r;
      return ledger_->GetStatement(c, req, &r);
    };
  };
  auto read_ledger = [&](grpc::ClientContext* c) {
    auto reader = ledger_->ReadLedger(c, {});
    v1::LedgerRecord r;
    while (reader->Read(&r)) {
    }
    return reader->Finish();
  };
  auto centre_reviews = [&](grpc::ClientContext* c) {
    v1::ListReviewsReply r;
    return centres_->ListCentreReviews(c, {}, &r);
  };
  v1::DecideReviewRequest decide;  // beta naming one of alpha's people as the reviewer
  decide.set_idempotency_key("d");
  decide.set_task_id("job-1/sentiment/0");
  decide.set_label("positive");
  decide.set_reviewer("alpha/w-alpha");
  decide.set_reason("looks positive");
  auto decide_review = [&](grpc::ClientContext* c) {
    v1::Review r;
    return centres_->DecideCentreReview(c, decide, &r);
  };
  auto create_payout = [&](grpc::ClientContext* c) {
    v1::PayoutBatch r;
    return ledger_->CreatePayout(c, payout, &r);
  };

  const std::vector<Row> rows = {
      {"AddCentre without a credential", nobody, add_centre, StatusCode::UNAUTHENTICATED},
      {"AddCentre with a wrong credential", wrong, add_centre, StatusCode::UNAUTHENTICATED},
      {"AddCentre as the auditor", auditor_, add_centre, StatusCode::PERMISSION_DENIED},
      {"AddCentre as a centre", beta_, add_centre, StatusCode::PERMISSION_DENIED},
      {"FundJob as the auditor", auditor_, fund_job, StatusCode::PERMISSION_DENIED},
      {"FundJob as a centre", beta_, fund_job, StatusCode::PERMISSION_DENIED},
      {"cancelling a job as the auditor", auditor_, cancel_job, StatusCode::PERMISSION_DENIED},
      {"cancelling a job as a centre", beta_, cancel_job, StatusCode::PERMISSION_DENIED},
      {"ListJobs without a credential", nobody, list_jobs, StatusCode::UNAUTHENTICATED},
      {"ListJobs as a centre", beta_, list_jobs, StatusCode::PERMISSION_DENIED},
      {"Backup as the auditor", auditor_, do_backup, StatusCode::PERMISSION_DENIED},
      {"Backup as a centre", beta_, do_backup, StatusCode::PERMISSION_DENIED},
      {"RedriveTask as the auditor", auditor_, do_redrive, StatusCode::PERMISSION_DENIED},
      {"ExportResults (client data) as the auditor", auditor_, export_results,
       StatusCode::PERMISSION_DENIED},
      {"ExportResults as a centre", beta_, export_results, StatusCode::PERMISSION_DENIED},
      {"Lease without a credential", nobody, do_lease, StatusCode::UNAUTHENTICATED},
      {"Lease with a wrong credential", wrong, do_lease, StatusCode::UNAUTHENTICATED},
      {"Lease as the operator", operator_, do_lease, StatusCode::PERMISSION_DENIED},
      {"Lease as the auditor", auditor_, do_lease, StatusCode::PERMISSION_DENIED},
      {"beta submits a result for alpha's assignment", beta_, submit_foreign,
       StatusCode::PERMISSION_DENIED},
      {"beta heartbeats alpha's lease", beta_, heartbeat_foreign, StatusCode::PERMISSION_DENIED},
      {"beta reads alpha's workers' statement", beta_, statement(alpha_centre),
       StatusCode::PERMISSION_DENIED},
      {"beta reads one of alpha's workers' statement", beta_, statement(alpha_worker),
       StatusCode::PERMISSION_DENIED},
      {"a centre reads a job's statement", beta_, statement(job_statement),
       StatusCode::PERMISSION_DENIED},
      {"GetStatement without a credential", nobody, statement(alpha_centre),
       StatusCode::UNAUTHENTICATED},
      {"a centre reads the whole ledger", alpha_, read_ledger, StatusCode::PERMISSION_DENIED},
      {"ReadLedger with a wrong credential", wrong, read_ledger, StatusCode::UNAUTHENTICATED},
      {"CreatePayout as the auditor", auditor_, create_payout, StatusCode::PERMISSION_DENIED},
      {"CreatePayout as a centre", alpha_, create_payout, StatusCode::PERMISSION_DENIED},
      {"a centre's review queue without a credential", nobody, centre_reviews,
       StatusCode::UNAUTHENTICATED},
      {"a centre's review queue as the operator", operator_, centre_reviews,
       StatusCode::PERMISSION_DENIED},
      {"beta decides a review naming alpha's worker", beta_, decide_review,
       StatusCode::PERMISSION_DENIED},
      {"DecideCentreReview as the operator", operator_, decide_review,
       StatusCode::PERMISSION_DENIED},
  };
  for (const Row& row : rows) {
    auto ctx = Ctx(row.token);
    grpc::Status s = row.call(ctx.get());
    EXPECT_EQ(s.error_code(), row.expected) << row.what << ": " << s.error_message();
  }
  EXPECT_EQ(Snapshot(), before) << "a denied call changed the state";

  // The same calls by those entitled succeed: the matrix is not refusing everything.
  EXPECT_TRUE(list_jobs(Ctx(auditor_).get()).ok());
  EXPECT_TRUE(read_ledger(Ctx(auditor_).get()).ok());
  EXPECT_TRUE(statement(alpha_centre)(Ctx(alpha_).get()).ok());
  EXPECT_TRUE(statement(alpha_centre)(Ctx(auditor_).get()).ok());
  EXPECT_TRUE(do_lease(Ctx(beta_).get()).ok());
  EXPECT_TRUE(export_results(Ctx(operator_).get()).ok());
  EXPECT_TRUE(centre_reviews(Ctx(alpha_).get()).ok());
}

// The platform's people are accounts: each signs in with their own credential, may do what their
// roles allow, and every decision records the account that made it, not a name they type.
TEST_F(AccessTest, ThePlatformsPeopleAreAccountsWithTheirOwnRoles) {
  auto add = [&](const std::string& name, std::vector<v1::StaffRole> roles, const std::string& key,
                 v1::StaffCredential* reply) {
    v1::AddStaffRequest r;
    r.set_idempotency_key(key);
    r.set_name(name);
    for (auto role : roles) r.add_roles(role);
    return ops_->AddStaff(Ctx(operator_).get(), r, reply);
  };
  v1::StaffCredential wanjiru, baraka, otieno, amina, replay;
  ASSERT_TRUE(add("wanjiru", {v1::STAFF_FINANCE}, "s1", &wanjiru).ok());
  ASSERT_TRUE(add("baraka", {v1::STAFF_FINANCE}, "s2", &baraka).ok());
  ASSERT_TRUE(add("otieno", {v1::STAFF_OPERATOR}, "s3", &otieno).ok());
  ASSERT_TRUE(add("amina", {v1::STAFF_AUDITOR}, "s4", &amina).ok());
  EXPECT_EQ(wanjiru.account().created_by(), "operator");
  ASSERT_TRUE(add("wanjiru", {v1::STAFF_FINANCE}, "s1", &replay).ok());  // a replay
  EXPECT_EQ(replay.account().name(), "wanjiru");
  EXPECT_EQ(replay.credential(), "");  // shown once, never kept
  EXPECT_EQ(add("wanjiru", {v1::STAFF_FINANCE}, "s5", &replay).error_code(),
            StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(add("operator", {v1::STAFF_FINANCE}, "s6", &replay).error_code(),
            StatusCode::ALREADY_EXISTS);

  const std::string before = Snapshot();
  // Each role may do its own part only.
  v1::CreatePayoutRequest create;
  create.set_idempotency_key("p1");
  create.set_centre("alpha");
  v1::PayoutBatch batch;
  grpc::Status s = ledger_->CreatePayout(Ctx(otieno.credential()).get(), create, &batch);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "finance only (otieno is not)");
  v1::StaffCredential none;
  s = ops_->AddStaff(Ctx(amina.credential()).get(), {}, &none);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "auditors may read, not change");
  s = ops_->AddStaff(Ctx(wanjiru.credential()).get(), {}, &none);
  EXPECT_EQ(s.error_message(), "operators only");
  v1::ListStaffReply list;
  EXPECT_EQ(ops_->ListStaff(Ctx(alpha_).get(), {}, &list).error_code(),
            StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(ops_->ListStaff(Ctx(amina.credential()).get(), {}, &list).ok());
  EXPECT_EQ(list.staff_size(), 4);
  // Nobody records a decision as somebody else.
  v1::ReleaseHeldTimeRequest release;
  release.set_idempotency_key("h1");
  release.set_worker_account("worker:alpha/w-alpha");
  release.set_job_id("job-1");
  release.set_seconds(1);
  release.set_decided_by("baraka");
  release.set_reason("seen on the camera");
  v1::HeldTime held;
  s = ledger_->ReleaseHeldTime(Ctx(wanjiru.credential()).get(), release, &held);
  EXPECT_EQ(s.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "decided_by: you are signed in as wanjiru; a decision records the account that made "
            "it");
  // Only an operator, or the person themself, rotates a credential.
  v1::StaffRequest rotate;
  rotate.set_idempotency_key("r1");
  rotate.set_name("baraka");
  v1::StaffCredential rotated;
  EXPECT_EQ(
      ops_->RotateStaffCredential(Ctx(wanjiru.credential()).get(), rotate, &rotated).error_code(),
      StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Snapshot(), before);

  // A finance person creates and approves a payout; the batch names them.
  ASSERT_TRUE(ledger_->CreatePayout(Ctx(wanjiru.credential()).get(), create, &batch).ok());
  v1::ApprovePayoutRequest approve;
  approve.set_idempotency_key("a1");
  approve.set_batch_id(batch.id());
  approve.set_approved_by("someone-else");
  EXPECT_EQ(ledger_->ApprovePayout(Ctx(wanjiru.credential()).get(), approve, &batch).error_code(),
            StatusCode::PERMISSION_DENIED);
  approve.clear_approved_by();
  ASSERT_TRUE(ledger_->ApprovePayout(Ctx(wanjiru.credential()).get(), approve, &batch).ok());
  EXPECT_EQ(batch.state(), v1::PAYOUT_APPROVED);
  EXPECT_EQ(batch.approved_by(), "wanjiru");

  // Wanjiru rotates her own credential: the old one is refused at once.
  rotate.set_name("wanjiru");
  ASSERT_TRUE(ops_->RotateStaffCredential(Ctx(wanjiru.credential()).get(), rotate, &rotated).ok());
  v1::ListJobsReply jobs;
  EXPECT_EQ(ops_->ListJobs(Ctx(wanjiru.credential()).get(), {}, &jobs).error_code(),
            StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ops_->ListJobs(Ctx(rotated.credential()).get(), {}, &jobs).ok());
  // An operator revokes Baraka; nobody revokes themself.
  v1::StaffRequest revoke;
  revoke.set_idempotency_key("v1");
  revoke.set_name("baraka");
  v1::StaffAccount revoked;
  ASSERT_TRUE(ops_->RevokeStaff(Ctx(otieno.credential()).get(), revoke, &revoked).ok());
  EXPECT_EQ(revoked.revoked_by(), "otieno");
  EXPECT_EQ(ops_->ListJobs(Ctx(baraka.credential()).get(), {}, &jobs).error_code(),
            StatusCode::UNAUTHENTICATED);
  revoke.set_idempotency_key("v2");
  revoke.set_name("otieno");
  EXPECT_EQ(ops_->RevokeStaff(Ctx(otieno.credential()).get(), revoke, &revoked).error_code(),
            StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace mw
