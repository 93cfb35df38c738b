#include "cli/common.h"

#include "proto/rpc/grpc_status.h"

namespace mw::cli {

absl::Status AuditRemoteLedger(Client& client, ledger::Auditor* auditor) {
  auto ctx = client.LongContext();
  auto reader = client.ledger().ReadLedger(ctx.get(), {});
  v1::LedgerRecord rec;
  absl::Status violation;
  while (reader->Read(&rec)) {
    if (rec.has_account()) auditor->AddAccount(rec.account());
    if (rec.has_transfer() && violation.ok()) violation = auditor->AddTransfer(rec.transfer());
    if (rec.has_time_bound()) auditor->AddTimeBound(rec.time_bound());
  }
  if (absl::Status s = rpc::FromGrpcStatus(reader->Finish()); !s.ok()) return s;
  return violation.ok() ? auditor->Finish() : violation;
}

}  // namespace mw::cli
