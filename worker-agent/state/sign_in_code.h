// Sign-in codes for the workers' page: twelve digits, the worker's four-digit number and eight
// secret ones ("0417 2958 3306"). Only an argon2id verifier of the secret is kept (salted,
// 19 MiB and two passes: OWASP's minimum for argon2id), found by the number; a stolen roster
// gives a guesser one slow, memory-hard try per guess and per worker.
//
//   IssuedCode issued = NewSignInCode(417);   // hand issued.code over once; keep the verifier
//   auto typed = ParseSignInCode("0417 2958 3306");
//   bool ok = typed && typed->number == 417 && VerifySignInCode(issued.verifier, typed->secret);
#ifndef MW_WORKER_AGENT_STATE_SIGN_IN_CODE_H_
#define MW_WORKER_AGENT_STATE_SIGN_IN_CODE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace mw::centre {

inline constexpr uint32_t kFirstSignInNumber = 1000;
inline constexpr uint32_t kLastSignInNumber = 9999;

struct IssuedCode {
  std::string code;      // 12 digits: the number, then the secret
  std::string verifier;  // argon2id's encoded hash of the secret, salt and parameters included
};

// A fresh code for the worker numbered `number` (kFirstSignInNumber to kLastSignInNumber).
IssuedCode NewSignInCode(uint32_t number);

struct TypedCode {
  uint32_t number = 0;
  std::string secret;  // 8 digits
};
// What a worker typed, with any spaces or dashes; nullopt unless it is twelve digits whose first
// four are a valid number.
std::optional<TypedCode> ParseSignInCode(absl::string_view typed);

// Whether `secret` matches `verifier`. Takes the hash's time whatever the answer; an empty
// verifier (no such worker) is checked against a dummy, so a wrong number takes as long.
bool VerifySignInCode(const std::string& verifier, absl::string_view secret);

// A manager's code opens every worker's personal data, so it is longer: twenty digits, the
// manager's number (kFirstManagerNumber to kLastManagerNumber) and sixteen secret ones. Verified
// with VerifySignInCode like a worker's.
inline constexpr uint32_t kFirstManagerNumber = 100;
inline constexpr uint32_t kLastManagerNumber = 999;
IssuedCode NewManagerCode(uint32_t number);
// Nullopt unless it is twenty digits (spaces and dashes aside) starting with a manager's number.
std::optional<TypedCode> ParseManagerCode(absl::string_view typed);

}  // namespace mw::centre

#endif  // MW_WORKER_AGENT_STATE_SIGN_IN_CODE_H_
