// The `mw` subcommands. Each registers itself on the CLI11 app and runs against a Client.
// A command returns OK or the error to print; main maps it to the exit code.
#ifndef MW_CLI_COMMANDS_H_
#define MW_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "absl/status/status.h"
#include "cli/client.h"

namespace mw::cli {

// Runs the chosen command. `connect` makes the client only for commands that need one.
using Connect = std::function<absl::StatusOr<std::unique_ptr<Client>>()>;
using Run = std::function<absl::Status(const Connect& connect)>;

// Each adds its subcommands to `app` and sets `*run` when one of them is chosen.
void AddContractCommands(CLI::App& app, Run* run);
void AddJobCommands(CLI::App& app, Run* run);
void AddCentreCommands(CLI::App& app, Run* run);
void AddLedgerCommands(CLI::App& app, Run* run);
void AddQaCommands(CLI::App& app, Run* run);
void AddWithholdCommands(CLI::App& app, Run* run);
// REQUIRES: AddJobCommands ran first (it adds to "job").
void AddPayoutCommands(CLI::App& app, Run* run);
void AddAdminCommands(CLI::App& app, Run* run);
void AddStaffCommands(CLI::App& app, Run* run);
void AddRecordCommands(CLI::App& app, Run* run);
void AddVoiceCommands(CLI::App& app, Run* run);
void AddImportCommands(CLI::App& app, Run* run);

}  // namespace mw::cli

#endif  // MW_CLI_COMMANDS_H_
