#include "worker-agent/payouts/mobile_money.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "engine/common/money.h"
#include "engine/common/plain_text.h"
#include "engine/common/proto_bytes.h"
#include "engine/common/sha256.h"
#include "engine/contract/csv_reader.h"

namespace mw::agent::payouts {
namespace {

namespace v1 = ::microwork::v1;

constexpr size_t kMaxResultBytes = 16 << 20;
constexpr char kMpesaHeader[] = "OriginatorConversationID,CommandID,Amount,PartyB,Remarks,Occasion";
constexpr char kMpesaResultHeader[] =
    "OriginatorConversationID,ResultCode,ResultDesc,TransactionID";
constexpr char kMomoHeader[] =
    "externalId,partyIdType,partyId,amount,currency,payerMessage,payeeNote";
constexpr char kMomoResultHeader[] = "externalId,status,reason,financialTransactionId";

std::string TransferId(const v1::PayoutBatch& batch, const std::string& account) {
  return absl::StrCat("payout:", batch.id(), ":", account);
}

// Minor units per whole unit of `currency`: what a rail paying whole units pays at least.
int64_t Unit(const std::string& currency) {
  int64_t unit = 1;
  for (int i = 0; i < MinorDigits(currency); ++i) unit *= 10;
  return unit;
}

// At most `n` bytes of `s`, never splitting a UTF-8 character.
std::string Cut(absl::string_view s, size_t n) {
  if (s.size() <= n) return std::string(s);
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

const char* RailName(Rail rail) { return rail == Rail::kMpesa ? "M-Pesa" : "MTN MoMo"; }

}  // namespace

std::optional<Rail> ParseRail(absl::string_view name) {
  if (name == "mpesa") return Rail::kMpesa;
  if (name == "mtn-momo") return Rail::kMtnMomo;
  return std::nullopt;
}

std::string RailNumber(Rail rail, absl::string_view contact) {
  // "+254 (0)712 ..." writes the trunk 0 a caller inside the country dials: not a digit of it.
  const std::string without_trunk =
      absl::StrReplaceAll(absl::StripAsciiWhitespace(contact), {{"(0)", ""}});
  contact = without_trunk;
  std::string digits;
  for (char c : contact) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && !(c == '+' && digits.empty())) {
      return "";  // not a phone number (an e-mail address, a note)
    }
  }
  const bool international = absl::StartsWith(contact, "+");
  if (rail == Rail::kMtnMomo) {
    // The rail needs the country: an international number, written with its "+".
    const bool plausible =
        international && digits.size() >= 11 && digits.size() <= 15 && digits[0] != '0';
    return plausible ? digits : "";
  }
  if (!international && digits.size() == 10 && digits[0] == '0') digits = "254" + digits.substr(1);
  if (!international && digits.size() == 9) digits = "254" + digits;
  const bool kenyan = digits.size() == 12 && absl::StartsWith(digits, "254") &&
                      (digits[3] == '7' || digits[3] == '1');
  return kenyan ? digits : "";
}

absl::StatusOr<std::string> PaymentFile(Rail rail, const v1::PayoutBatch& batch,
                                        const PhoneOf& phone_of) {
  if (batch.state() != v1::PAYOUT_APPROVED) {
    return absl::FailedPreconditionError(
        absl::StrCat(batch.id(), " is not approved: nothing may be paid yet"));
  }
  if (rail == Rail::kMpesa && batch.currency() != "KES") {
    return absl::FailedPreconditionError(
        absl::StrCat("M-Pesa pays KES; ", batch.id(), " is in ", batch.currency()));
  }
  const int64_t unit = Unit(batch.currency());
  std::vector<std::string> unreachable;
  std::string out = absl::StrCat(rail == Rail::kMpesa ? kMpesaHeader : kMomoHeader, "\n");
  for (const v1::PayoutLine& line : batch.lines()) {
    const int64_t whole = line.amount_minor() / unit;
    if (line.outcome() != v1::PAYOUT_LINE_AWAITING || whole == 0) continue;
    const std::string number = RailNumber(rail, phone_of(line.worker_account()));
    if (number.empty()) {
      unreachable.push_back(line.worker_account());
      continue;
    }
    const std::string id = TransferId(batch, line.worker_account());
    if (rail == Rail::kMpesa) {
      // SalaryPayment: the one command that also reaches numbers not registered with M-Pesa.
      absl::StrAppend(&out, CsvField(id), ",SalaryPayment,", whole, ",", number, ",",
                      CsvField(Cut(absl::StrCat("Pay for work, ", batch.id()), 100)), ",",
                      CsvField(Cut(batch.id(), 100)), "\n");
    } else {
      absl::StrAppend(&out, CsvField(id), ",MSISDN,", number, ",", whole, ",", batch.currency(),
                      ",", CsvField(Cut(absl::StrCat("Pay for work, ", batch.id()), 160)), ",",
                      CsvField(Cut(batch.id(), 160)), "\n");
    }
  }
  if (!unreachable.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no phone number ", RailName(rail), " takes for ", absl::StrJoin(unreachable, ", "),
        rail == Rail::kMpesa ? " (expected 07XXXXXXXX, 01XXXXXXXX or +254...)"
                             : " (expected an international number, +<country><number>)",
        "; fix their contact on the roster first"));
  }
  return out;
}

absl::StatusOr<v1::SettlePayoutRequest> ReadResults(Rail rail, const v1::PayoutBatch& batch,
                                                    absl::string_view file) {
  if (file.size() > kMaxResultBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the result file: expected at most ", kMaxResultBytes, " bytes"));
  }
  const int64_t unit = Unit(batch.currency());
  absl::flat_hash_map<std::string, const v1::PayoutLine*> lines;
  for (const v1::PayoutLine& l : batch.lines()) lines[TransferId(batch, l.worker_account())] = &l;
  v1::SettlePayoutRequest settle;
  settle.set_batch_id(batch.id());
  absl::flat_hash_set<std::string> seen;
  absl::Status status;
  contract::CsvReader reader;
  auto on_row = [&](contract::CsvReader::Row row) {
    if (!status.ok()) return;
    const std::string where = absl::StrCat("the result file, line ", row.line, ": ");
    if (!row.error.empty() || row.fields.size() != 4) {
      status = absl::InvalidArgumentError(absl::StrCat(
          where, "expected 4 fields", row.error.empty() ? "" : absl::StrCat(" (", row.error, ")")));
      return;
    }
    if (row.line == 1) {
      const std::string header = absl::StrJoin(row.fields, ",");
      const char* want = rail == Rail::kMpesa ? kMpesaResultHeader : kMomoResultHeader;
      if (header != want)
        status = absl::InvalidArgumentError(absl::StrCat(where, "expected ", want));
      return;
    }
    const std::string& id = row.fields[0];
    auto line = lines.find(id);
    if (line == lines.end()) {
      status = absl::InvalidArgumentError(absl::StrCat(where, "\"", absl::CHexEscape(Cut(id, 100)),
                                                       "\" is not a line of ", batch.id()));
      return;
    }
    if (!seen.insert(id).second) {
      status = absl::InvalidArgumentError(absl::StrCat(where, id, " appears twice"));
      return;
    }
    const std::string& result = row.fields[1];
    bool paid;
    int code;
    if (rail == Rail::kMpesa) {
      // Only an exact 0 is paid; a blank or garbled code is not a failure to pay again.
      if (!absl::SimpleAtoi(result, &code) || absl::StrCat(code) != result) {
        status = absl::InvalidArgumentError(
            absl::StrCat(where, "ResultCode: expected a whole number (0: paid), got \"",
                         absl::CHexEscape(Cut(result, 20)), "\""));
        return;
      }
      paid = code == 0;
    } else if (result == "PENDING") {
      return;  // no result yet: it stays awaiting
    } else if (result == "SUCCESSFUL" || result == "FAILED" || result == "REJECTED") {
      paid = result == "SUCCESSFUL";
    } else {
      status = absl::InvalidArgumentError(
          absl::StrCat(where, "status: expected SUCCESSFUL, FAILED, REJECTED or PENDING"));
      return;
    }
    if (paid && row.fields[3].empty()) {
      status = absl::InvalidArgumentError(
          absl::StrCat(where, "a paid row names the rail's transaction id"));
      return;
    }
    v1::SettlePayoutRequest::Line* out = settle.add_lines();
    out->set_worker_account(line->second->worker_account());
    out->set_outcome(paid ? v1::PAYOUT_LINE_PAID : v1::PAYOUT_LINE_FAILED);
    out->set_paid_minor(paid ? line->second->amount_minor() / unit * unit : 0);
    out->set_reason(Cut(row.fields[2], 200));
    out->set_rail_reference(Cut(row.fields[3], 64));
  };
  reader.Feed(file, on_row);
  reader.Finish(on_row);
  if (!status.ok()) return status;
  // What the payment file left out, below the rail's smallest unit, goes back to the balance.
  for (const v1::PayoutLine& l : batch.lines()) {
    if (l.outcome() != v1::PAYOUT_LINE_AWAITING || l.amount_minor() / unit > 0) continue;
    v1::SettlePayoutRequest::Line* out = settle.add_lines();
    out->set_worker_account(l.worker_account());
    out->set_outcome(v1::PAYOUT_LINE_FAILED);
    out->set_reason(absl::StrCat("below ", RailName(rail), "'s smallest unit (1 ", batch.currency(),
                                 "): paid with a later batch"));
  }
  return settle;
}

void KeySettlement(v1::SettlePayoutRequest* settle) {
  settle->clear_idempotency_key();
  settle->set_idempotency_key(
      absl::StrCat("settle:", settle->batch_id(), ":",
                   absl::BytesToHexString(Sha256(DeterministicBytes(*settle))).substr(0, 32)));
}

}  // namespace mw::agent::payouts
