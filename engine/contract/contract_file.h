// Contract files: YAML or JSON, mapped one to one onto microwork.v1.Contract through protobuf's
// JSON mapping (YAML is converted to JSON first), so the file and the API are one schema.
// Unknown fields are errors. Field names may be the proto names (piece_rate_minor) or their JSON
// names (pieceRateMinor); enums are written by name.
//
//   auto contract = LoadContractFile("examples/demo/contract.yaml");
//   // INVALID_ARGUMENT: "contract.yaml:14: stages[1].human.piece_rate_minor: expected an
//   //                    integer (int64), got "abc""
#ifndef MW_ENGINE_CONTRACT_CONTRACT_FILE_H_
#define MW_ENGINE_CONTRACT_CONTRACT_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/contract/validate.h"
#include "microwork/v1/contract.pb.h"

namespace mw::contract {

// Parses contract text; `filename` only names the source in errors. INVALID_ARGUMENT for bad
// syntax, an unknown field or a wrong type, naming the line (when known) and the field path.
[[nodiscard]] absl::StatusOr<microwork::v1::Contract> ParseContract(absl::string_view text,
                                                                    absl::string_view filename);

// The semantic `errors` found in the contract parsed from `text` (ValidateContract's, or any
// with a field path) as one INVALID_ARGUMENT, a line each: "FILE:LINE: path: message", LINE being
// the field's (or its nearest parent's) in `text`.
[[nodiscard]] absl::Status LocatedErrors(absl::string_view text, absl::string_view filename,
                                         const std::vector<ContractError>& errors);

// Reads and parses `path`. NOT_FOUND when it cannot be read.
[[nodiscard]] absl::StatusOr<microwork::v1::Contract> LoadContractFile(const std::string& path);

}  // namespace mw::contract

#endif  // MW_ENGINE_CONTRACT_CONTRACT_FILE_H_
