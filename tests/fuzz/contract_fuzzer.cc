// libFuzzer target: contract files (YAML or JSON) through the parser, the validator and the
// planner. Every input must end in a contract or a clear error; nothing may crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/contract/contract_file.h"
#include "engine/contract/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto contract = mw::contract::ParseContract(text, "fuzz.yaml");
  if (!contract.ok()) {
    // A rejection names where: the file, then what was wrong.
    if (contract.status().message().rfind("fuzz.yaml", 0) != 0) std::abort();
    return 0;
  }
  auto errors = mw::contract::ValidateContract(*contract, mw::contract::Limits());
  if (errors.empty()) {
    if (mw::contract::TopologicalOrder(*contract).size() !=
        static_cast<size_t>(contract->stages_size())) {
      std::abort();  // a valid contract is a DAG: every stage gets a place in the order
    }
  }
  for (const auto& e : errors) {
    if (e.message.empty()) std::abort();  // every error says what was expected
  }
  return 0;
}
