// A worker's portable work record: the facts of their verified work at one centre, which they
// take away to show anyone, who can check it offline.
//
// The record is plain UTF-8 text, one fact per line, readable as it is and printable on a page.
// It has two halves:
//   - the dispatcher's: the facts by pseudonym (it never knows names), the centre's public key,
//     then "Dispatcher signature: ed25519:<sig>" over every byte before that line, made with the
//     installation's key, named in the half ("Dispatcher key: ed25519:<key>");
//   - the centre's: the worker's name only if they chose to show it, the date, then
//     "Centre signature: ed25519:<sig>" over every byte before that line, made with the key the
//     dispatcher's half names. That line ends the record.
// So a changed byte anywhere fails one of the two signatures, and the centre cannot put a name
// on another worker's facts without its own signature saying so.
//
//   std::string half = IssueDispatcherHalf(facts, centre_key.public_key(), now, installation);
//   MW_ASSIGN_OR_RETURN(std::string record, Attest(half, "Amina Wanjiru", now, centre_key));
//   MW_ASSIGN_OR_RETURN(VerifiedRecord v, VerifyRecord(record));
#ifndef MW_ENGINE_RECORD_WORK_RECORD_H_
#define MW_ENGINE_RECORD_WORK_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/record/signing_key.h"

namespace mw::record {

// The worker's quality on one kind of work (a skill in a language; "" for none asked).
struct KindFacts {
  std::string skill, language;
  uint64_t checks = 0, checks_right = 0;
  uint64_t verdicts = 0, agreed = 0;  // answers with a verdict, and those that matched it
  double estimate = 0;                // in [0, 1]
};

// What the dispatcher knows of one worker's verified work at one centre.
struct WorkFacts {
  std::string centre, worker;  // the centre's id and its pseudonym for the worker
  uint64_t jobs = 0, answers = 0, active_seconds = 0;
  uint64_t checks = 0, checks_right = 0, verdicts = 0, agreed = 0;
  int64_t first_ms = 0, last_ms = 0;  // when the first and latest answers came; 0: not known
  std::vector<KindFacts> kinds;
};

// The dispatcher's half of a record, signed by `installation`. `centre_key` is the centre's
// public key (32 bytes), which the record names as the one whose signature ends it.
std::string IssueDispatcherHalf(const WorkFacts& facts, absl::string_view centre_key,
                                absl::Time issued, const SigningKey& installation);

// The whole record: `half` (checked first: signed by its dispatcher key, naming `centre`'s key)
// with the worker's name when given (one line of at most 100 characters, no control
// characters) and `centre`'s signature. INVALID_ARGUMENT, naming the line, for a half that does
// not verify or names another key, or a name that is not one plain line.
absl::StatusOr<std::string> Attest(absl::string_view half, std::optional<std::string> name,
                                   absl::Time attested, const SigningKey& centre);

struct VerifiedRecord {
  std::string dispatcher_key, centre_key;  // 32 bytes each
  std::string centre, worker;
  std::optional<std::string> name;
};

// Checks both signatures and the record's shape. INVALID_ARGUMENT naming the line and what was
// expected for anything else, including a record of more than 64 KiB.
absl::StatusOr<VerifiedRecord> VerifyRecord(absl::string_view text);

// The first 16 bytes of the key's SHA-256 in hex, in eight groups of four: what an operator
// publishes so a reader can check the dispatcher key a record names.
std::string Fingerprint(absl::string_view public_key);

}  // namespace mw::record

#endif  // MW_ENGINE_RECORD_WORK_RECORD_H_
