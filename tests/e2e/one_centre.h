// OneCentre: the real mw-dispatcher (loopback, a port of the OS's choosing) with one centre added
// through mw and played by the test over CentreService, for end-to-end tests of what a centre
// does with the dispatcher (records, payouts). The dispatcher is stopped with SIGTERM at the end
// and must exit 0.
//
//   OneCentre d(&dir, "alpha", {"--currency", "USD", "--floor-minor", "150"}, kContract);
//   d.Answer("w1", 2, "positive");
//   EXPECT_EQ(d.Mw({"ledger", "verify"}).exit_code, 0);
#ifndef MW_TESTS_E2E_ONE_CENTRE_H_
#define MW_TESTS_E2E_ONE_CENTRE_H_

#include <signal.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "microwork/v1/services.grpc.pb.h"
#include "proto/rpc/channel.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace mw::e2e {

class OneCentre {
 public:
  // Starts the dispatcher in `dir`, adds centre `id` (region KE, with `add_args`) and submits
  // `contract`; check ok() before going on.
  OneCentre(testing::TempDir* dir, std::string id, const std::vector<std::string>& add_args,
            const std::string& contract)
      : dir_(dir), id_(std::move(id)) {
    dispatcher_ = std::make_unique<testing::Subprocess>(
        std::vector<std::string>{Bin("mw-dispatcher"), "--data-dir", dir_->Sub("d"), "--listen",
                                 "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"},
        dir_->Sub("d.log"));
    server_ = testing::ReadyField(dispatcher_->ReadLineContaining("mw-dispatcher ready"), "grpc");
    if (server_.empty()) return;
    std::vector<std::string> add = {"centre",
                                    "add",
                                    "--id",
                                    id_,
                                    "--region",
                                    "KE",
                                    "--credential-out",
                                    dir_->Sub("centre.cred")};
    add.insert(add.end(), add_args.begin(), add_args.end());
    std::ofstream(dir_->Sub("contract.yaml")) << contract;
    ok_ = Mw(add).exit_code == 0 &&
          Mw({"contract", "submit", dir_->Sub("contract.yaml")}).exit_code == 0;
    std::ifstream in(dir_->Sub("centre.cred"));
    credential_ = std::string(absl::StripAsciiWhitespace(
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())));
    centre_ = microwork::v1::CentreService::NewStub(*rpc::MakeChannel({.target = server_}));
  }

  ~OneCentre() {
    dispatcher_->Signal(SIGTERM);
    EXPECT_EQ(dispatcher_->Wait(), 0);
  }

  bool ok() const { return ok_; }
  const std::string& server() const { return server_; }
  static std::string Bin(const std::string& name) { return absl::StrCat(MW_BIN_DIR, "/", name); }

  // mw as the operator.
  testing::CommandResult Mw(std::vector<std::string> args) const {
    std::vector<std::string> argv = {Bin("mw"), "--server", server_, "--token-file",
                                     dir_->Sub("d/operator.token")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::Run(argv);
  }

  // The centre's calls, with its credential.
  microwork::v1::CentreService::Stub& centre() { return *centre_; }
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    return rpc::MakeContext(credential_, absl::Seconds(20));
  }

  // `worker` (speaking `languages`) goes on duty, leases `count` tasks and answers each `choice`.
  void Answer(const std::string& worker, int count, const std::string& choice,
              const std::vector<std::string>& languages = {}) {
    microwork::v1::RegisterRequest reg;
    reg.add_workers()->set_worker(worker);
    for (const auto& l : languages) reg.mutable_workers(0)->add_languages(l);
    microwork::v1::RegisterReply registered;
    ASSERT_TRUE(centre_->Register(Ctx().get(), reg, &registered).ok());
    microwork::v1::LeaseRequest lease;
    lease.set_idempotency_key(absl::StrCat(worker, "-lease"));
    lease.add_credits()->set_worker(worker);
    lease.mutable_credits(0)->set_count(count);
    microwork::v1::LeaseReply leased;
    ASSERT_TRUE(centre_->Lease(Ctx().get(), lease, &leased).ok());
    ASSERT_EQ(leased.assignments_size(), count);
    microwork::v1::SubmitResultsRequest submit;
    for (const auto& a : leased.assignments()) {
      microwork::v1::Result* r = submit.add_results();
      r->set_result_id(absl::StrCat("r-", a.assignment_id()));
      r->set_assignment_id(a.assignment_id());
      r->set_epoch(a.epoch());
      r->set_worker(worker);
      r->mutable_answer()->set_choice(choice);
      r->set_active_seconds(20);
    }
    microwork::v1::SubmitResultsReply receipts;
    ASSERT_TRUE(centre_->SubmitResults(Ctx().get(), submit, &receipts).ok());
  }

 private:
  testing::TempDir* dir_;
  std::string id_, server_, credential_;
  bool ok_ = false;
  std::unique_ptr<testing::Subprocess> dispatcher_;
  std::unique_ptr<microwork::v1::CentreService::Stub> centre_;
};

}  // namespace mw::e2e

#endif  // MW_TESTS_E2E_ONE_CENTRE_H_
