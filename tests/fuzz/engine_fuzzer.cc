// libFuzzer target: the dispatcher's request handlers. The first byte picks a handler; the rest
// is parsed as its request message (what a gRPC client could send) and handed to a real Engine
// on a RocksDB under /dev/shm, with two centres and a running job. Every call must return a
// status, never crash; every so often the ledger must still audit clean and no live lease may
// lack a timer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/contract/contract_file.h"
#include "engine/dispatch/engine.h"
#include "engine/ledger/audit_store.h"
#include "testing/temp_dir.h"

namespace {

namespace v1 = microwork::v1;

constexpr char kContract[] = R"(
name: Fuzz
client: acme
currency: USD
budget_minor: 100000000
inputs:
  - {name: items, format: FORMAT_CSV, inline_text: "id,text\n1,a\n2,b\n3,c\n4,d\n5,e\n"}
  - {name: checks, format: FORMAT_CSV, inline_text: "id,text,answer\ng1,x,yes\n"}
stages:
  - {name: rows, split: {input: items, by: SPLIT_ROWS}}
  - name: label
    after: [rows]
    human:
      instructions: {en: "?"}
      answer: {single_choice: {options: ["yes", "no"]}}
      piece_rate_minor: 5
      estimated_seconds: 20
      overlap: 2
      qa: {method: MAJORITY_VOTE, confidence_target: 0.9, max_overlap: 3, gold_per_thousand: 200}
      gold_input: checks
  - {name: out, after: [label], merge: {}}
)";

struct World {
  mw::testing::TempDir dir;
  mw::FakeClock clock;
  std::unique_ptr<mw::dispatch::Engine> engine;
  uint64_t calls = 0;

  World() {
    engine = std::move(mw::dispatch::Engine::Open(dir.Sub("db"), &clock, {}).value());
    for (const char* id : {"alpha", "beta"}) {
      v1::AddCentreRequest add;
      add.set_idempotency_key(id);
      add.mutable_centre()->set_id(id);
      add.mutable_centre()->set_region("KE");
      add.mutable_centre()->set_currency("USD");
      add.mutable_centre()->set_wage_floor_minor_per_hour(100);
      add.mutable_centre()->set_capacity(50);
      (void)engine->AddCentre(add);
      v1::RegisterRequest reg;
      reg.add_workers()->set_worker("w1");
      reg.add_workers()->set_worker("w2");
      (void)engine->Register(id, reg);
    }
    v1::ContractHeader header;
    header.set_idempotency_key("job");
    header.set_wait_for_centres(true);  // the engine under fuzz, not the routing refusal
    *header.mutable_contract() = mw::contract::ParseContract(kContract, "fuzz").value();
    auto sub = engine->BeginSubmission(header);
    (void)(*sub)->Finish();
  }
};

World& TheWorld() {
  static World* world = new World();
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("TMPDIR", "/dev/shm", 0);  // synced writes on tmpfs: fast
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = TheWorld();
  mw::dispatch::Engine& e = *w.engine;
  const std::string centre = data[0] & 0x80 ? "beta" : "alpha";
  const void* body = data + 1;
  const int n = static_cast<int>(size - 1);
  switch (data[0] & 0x0f) {
    case 0: {
      v1::LeaseRequest r;
      if (r.ParseFromArray(body, n)) (void)e.Lease(centre, r);
      break;
    }
    case 1: {
      v1::SubmitResultsRequest r;
      if (r.ParseFromArray(body, n)) (void)e.SubmitResults(centre, r);
      break;
    }
    case 2: {
      v1::HeartbeatRequest r;
      if (r.ParseFromArray(body, n)) (void)e.Heartbeat(centre, r);
      break;
    }
    case 3: {
      v1::RegisterRequest r;
      if (r.ParseFromArray(body, n)) (void)e.Register(centre, r);
      break;
    }
    case 4: {
      v1::AddCentreRequest r;
      if (r.ParseFromArray(body, n)) (void)e.AddCentre(r);
      break;
    }
    case 5: {
      v1::StatementRequest r;
      if (r.ParseFromArray(body, n)) (void)e.GetStatement(r, centre);
      break;
    }
    case 6: {
      v1::DecideReviewRequest r;
      if (r.ParseFromArray(body, n)) (void)e.DecideReview(r);
      break;
    }
    case 7: {
      v1::WithholdWageRequest r;
      if (r.ParseFromArray(body, n)) (void)e.WithholdWage(centre, r);
      break;
    }
    case 8: {
      v1::FundJobRequest r;
      if (r.ParseFromArray(body, n)) (void)e.FundJob(r);
      break;
    }
    case 9: {
      v1::CreatePayoutRequest r;
      if (r.ParseFromArray(body, n)) (void)e.CreatePayout(r);
      break;
    }
    case 10: {
      v1::RedriveTaskRequest r;
      if (r.ParseFromArray(body, n)) (void)e.RedriveTask(r);
      break;
    }
    case 11: {
      v1::ContractHeader r;
      if (r.ParseFromArray(body, n)) {
        auto sub = e.BeginSubmission(r);
        if (sub.ok()) (void)(*sub)->Finish();
      }
      break;
    }
    case 12: {
      v1::ControlJobRequest r;
      if (r.ParseFromArray(body, n)) (void)e.ControlJob(r);
      break;
    }
    case 13: {
      v1::ApprovePayoutRequest r;
      if (r.ParseFromArray(body, n)) (void)e.ApprovePayout(r);
      break;
    }
    case 14: {
      if (data[0] & 0x40) {
        v1::ResolveDisputeRequest r;
        if (r.ParseFromArray(body, n)) (void)e.ResolveDispute(centre, r);
      } else {
        v1::DisputeWithholdingRequest r;
        if (r.ParseFromArray(body, n)) (void)e.DisputeWithholding(centre, r);
      }
      break;
    }
    default:
      // Time passes: leases expire, retries back off, dead letters happen.
      w.clock.AdvanceMs(int64_t{1000} * (1 + data[0]));
      (void)e.ExpireLeases();
      break;
  }
  if (++w.calls % 500 == 0) {
    mw::ledger::Auditor auditor;
    if (!mw::ledger::AuditStore(*e.store(), &auditor).ok()) std::abort();
    if (e.Stats().leases_without_timer != 0) std::abort();
  }
  return 0;
}
