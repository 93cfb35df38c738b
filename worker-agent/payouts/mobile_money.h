// Payout files for mobile-money rails, made at the centre: the only place that holds workers'
// phone numbers (the roster's contact), which never leave it otherwise.
//
// Two rails:
//   - M-Pesa B2C (Safaricom, KES): one SalaryPayment per line, which also reaches numbers not
//     registered with M-Pesa; numbers as 2547XXXXXXXX or 2541XXXXXXXX; whole shillings; remarks
//     and occasion at most 100 characters.
//       OriginatorConversationID,CommandID,Amount,PartyB,Remarks,Occasion
//     and its results (one per line, from the B2C result callbacks):
//       OriginatorConversationID,ResultCode,ResultDesc,TransactionID     (ResultCode 0: paid)
//   - MTN MoMo disbursements (the batch's currency, whole units): numbers in international form.
//       externalId,partyIdType,partyId,amount,currency,payerMessage,payeeNote
//     and its results:
//       externalId,status,reason,financialTransactionId                  (status SUCCESSFUL)
//
// The ledger's transfer id of each line ("payout:<batch>:<worker account>") is the line's
// reference on the rail (OriginatorConversationID, externalId), so each result names its line
// exactly. Whether a rail refuses an id it has seen is the rail's: send a file once, and import
// its results before making another for the lines still awaiting. What a rail cannot carry
// (below its smallest unit) is left out of the file and returned to the worker's balance when
// the results are imported. A paid row must name the rail's transaction id.
#ifndef MW_WORKER_AGENT_PAYOUTS_MOBILE_MONEY_H_
#define MW_WORKER_AGENT_PAYOUTS_MOBILE_MONEY_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "microwork/v1/ledger.pb.h"
#include "microwork/v1/services.pb.h"

namespace mw::agent::payouts {

enum class Rail { kMpesa, kMtnMomo };

// "mpesa" or "mtn-momo"; nullopt for anything else.
std::optional<Rail> ParseRail(absl::string_view name);

// The phone number of a worker account's person, from the roster ("" when there is none).
using PhoneOf = std::function<std::string(const std::string& worker_account)>;

// The rail's payment file for an approved batch. FAILED_PRECONDITION for a batch not approved
// or in a currency the rail does not pay (M-Pesa: KES); INVALID_ARGUMENT naming every worker
// whose number is missing or not one the rail takes, so the manager fixes the roster first.
absl::StatusOr<std::string> PaymentFile(Rail rail, const microwork::v1::PayoutBatch& batch,
                                        const PhoneOf& phone_of);

// The rail's result file read into a settlement of `batch`: every line the file names, and
// every line the payment file left out (below the rail's smallest unit) as FAILED with that
// reason. INVALID_ARGUMENT naming the file's line for a row that does not parse or names a line
// of another batch; the file is at most 16 MiB.
absl::StatusOr<microwork::v1::SettlePayoutRequest> ReadResults(
    Rail rail, const microwork::v1::PayoutBatch& batch, absl::string_view file);

// Sets the settlement's idempotency key from everything else in it (the batch, the person, the
// lines): the same import again is a replay, and a different one is not taken for it.
void KeySettlement(microwork::v1::SettlePayoutRequest* settle);

// The number as the rail takes it (M-Pesa: 2547XXXXXXXX from +254 7.., 07.., 7..; MTN: the
// digits of an international number), or "" when it is not one.
std::string RailNumber(Rail rail, absl::string_view contact);

}  // namespace mw::agent::payouts

#endif  // MW_WORKER_AGENT_PAYOUTS_MOBILE_MONEY_H_
