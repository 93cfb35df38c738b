// Contract validation: every error at once, each with its field path and what was expected.
//
//   std::vector<ContractError> errors = ValidateContract(contract, Limits());
//   for (const auto& e : errors) std::cerr << e.path << ": " << e.message << "\n";
//   // stages[2].human.piece_rate_minor: must be a positive amount in minor units, got 0
#ifndef MW_ENGINE_CONTRACT_VALIDATE_H_
#define MW_ENGINE_CONTRACT_VALIDATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "microwork/v1/contract.pb.h"

namespace mw::contract {

struct ContractError {
  std::string path;     // "stages[2].human.piece_rate_minor", or "" for the whole contract
  std::string message;  // what is wrong and what was expected
  bool operator==(const ContractError& o) const { return path == o.path && message == o.message; }
  // For test failure messages.
  friend void PrintTo(const ContractError& e, std::ostream* os) {
    *os << "{" << e.path << ": " << e.message << "}";
  }
};

// The installation's caps; a contract's own caps may only lower them.
struct Limits {
  uint64_t max_items = 10'000'000;
  uint32_t max_depth = 16;
  uint32_t max_stages = 32;
  uint32_t max_overlap = 15;
  uint32_t max_estimated_seconds = 3600;
  uint32_t max_text_length = 10'000;
};

// Checks fields, references, the DAG (acyclic, every `after` resolves, depth within caps) and
// that the dispatcher can run the shape. Returns an empty vector when the contract is valid.
std::vector<ContractError> ValidateContract(const microwork::v1::Contract& contract,
                                            const Limits& limits);

// Why `name` cannot name a media file or folder (what is wrong and what was expected), or ""
// when it is a relative path that stays inside its folder: no empty, "." or ".." part, no
// leading "/", no backslash or control character, valid UTF-8, at most 255 bytes. The client
// and the dispatcher apply the same rule.
std::string MediaNameProblem(absl::string_view name);

// Whether `value` of a media field is a URL for the client to fetch: it starts with "http://"
// or "https://" (in any case).
bool IsMediaUrl(absl::string_view value);

// Why `value`, a media field's value, names no file (MediaNameProblem), or, for a URL, why it
// cannot be one: a host, at most 2048 bytes, no space or control character. "" when it can.
std::string MediaValueProblem(absl::string_view value);

// INVALID_ARGUMENT listing every error on its own line ("path: message"), or OK when none.
absl::Status ErrorsToStatus(const std::vector<ContractError>& errors);

// Stages in an order where every stage comes after the ones it consumes.
// REQUIRES: ValidateContract returned no errors.
std::vector<int> TopologicalOrder(const microwork::v1::Contract& contract);

}  // namespace mw::contract

#endif  // MW_ENGINE_CONTRACT_VALIDATE_H_
