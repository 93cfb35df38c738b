// mw staff add NAME --roles operator,finance,auditor | rotate NAME | revoke NAME | list
//
// The platform's people: each signs in with their own credential (--token-file), so the
// decisions they make (payout approvals, held time released, workers promoted, reviews) name
// them. The installation's operator token is the account "operator".
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct StaffOpts {
  std::string name, key, credential_out;
  std::vector<std::string> roles;
};

absl::StatusOr<v1::StaffRole> ParseRole(const std::string& role) {
  if (role == "operator") return v1::STAFF_OPERATOR;
  if (role == "finance") return v1::STAFF_FINANCE;
  if (role == "auditor") return v1::STAFF_AUDITOR;
  return absl::InvalidArgumentError(
      absl::StrCat("--roles: \"", role, "\" is not operator, finance or auditor"));
}

std::string RoleName(int role) {
  switch (role) {
    case v1::STAFF_OPERATOR:
      return "operator";
    case v1::STAFF_FINANCE:
      return "finance";
    case v1::STAFF_AUDITOR:
      return "auditor";
    default:
      return absl::StrCat("role ", role);
  }
}

std::string Roles(const v1::StaffAccount& a) {
  std::vector<std::string> names;
  for (int r : a.roles()) names.push_back(RoleName(r));
  return absl::StrJoin(names, ",");
}

// Writes the credential to `path` (0600), or prints it when `path` is empty.
absl::Status ShowCredential(const v1::StaffCredential& reply, const std::string& path) {
  if (reply.credential().empty()) {
    std::cout << "This repeats an earlier call of yours: its credential was shown then and is "
                 "never shown again (mw staff rotate "
              << reply.account().name() << " makes a new one).\n";
    return absl::OkStatus();
  }
  if (path.empty()) {
    std::cout << "Credential (for " << reply.account().name()
              << " alone, as their --token-file; it is not shown again): " << reply.credential()
              << "\n";
    return absl::OkStatus();
  }
  // Readable by its owner only from the moment it exists.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    if (fd >= 0) close(fd);
    return absl::NotFoundError(absl::StrCat(path, ": cannot write"));
  }
  const std::string text = reply.credential() + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (close(fd) != 0 || !written) {
    return absl::DataLossError(absl::StrCat(path, ": cannot write"));
  }
  std::cout << "Credential written to " << path << "\n";
  return absl::OkStatus();
}

absl::Status Add(const StaffOpts& o, const Connect& connect) {
  v1::AddStaffRequest req;
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("staff-add:", o.name) : o.key);
  req.set_name(o.name);
  for (const auto& r : o.roles) {
    MW_ASSIGN_OR_RETURN(v1::StaffRole role, ParseRole(r));
    req.add_roles(role);
  }
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::StaffCredential reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().AddStaff(ctx.get(), req, &reply)));
  std::cout << "Staff " << reply.account().name() << " (" << Roles(reply.account()) << ")\n";
  return ShowCredential(reply, o.credential_out);
}

absl::Status Rotate(const StaffOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::StaffRequest req;
  req.set_idempotency_key(
      o.key.empty() ? absl::StrCat("staff-rotate:", o.name, ":", ToHex(RandomBytes(8))) : o.key);
  req.set_name(o.name);
  v1::StaffCredential reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(
      rpc::FromGrpcStatus(client->ops().RotateStaffCredential(ctx.get(), req, &reply)));
  if (!reply.credential().empty()) {
    std::cout << "Staff " << reply.account().name()
              << ": a new credential; the old one is refused from now on\n";
  }
  return ShowCredential(reply, o.credential_out);
}

absl::Status Revoke(const StaffOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::StaffRequest req;
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("staff-revoke:", o.name) : o.key);
  req.set_name(o.name);
  v1::StaffAccount reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().RevokeStaff(ctx.get(), req, &reply)));
  std::cout << "Staff " << reply.name() << " revoked by " << reply.revoked_by()
            << ": their credential is refused from now on; their decisions keep their name\n";
  return absl::OkStatus();
}

absl::Status List(const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ListStaffReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ListStaff(ctx.get(), {}, &reply)));
  for (const auto& a : reply.staff()) {
    std::cout << a.name() << "  " << Roles(a) << "  added by " << a.created_by()
              << (a.revoked_at_ms() != 0 ? absl::StrCat("  revoked by ", a.revoked_by()) : "")
              << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddStaffCommands(CLI::App& app, Run* run) {
  auto* staff = app.add_subcommand("staff", "The platform's people: operators, finance, auditors");
  staff->require_subcommand(1);
  auto o = std::make_shared<StaffOpts>();
  auto* add = staff->add_subcommand("add", "Add a person with their roles and own credential");
  add->add_option("name", o->name, "Their account name (a-z, 0-9, -, _; never reused)")->required();
  add->add_option("--roles", o->roles, "operator, finance and/or auditor")
      ->delimiter(',')
      ->required();
  add->add_option("--key", o->key, "Idempotency key (default: derived from the name)");
  add->add_option("--credential-out", o->credential_out, "Write the credential to this file");
  add->callback([run, o] { *run = [o](const Connect& c) { return Add(*o, c); }; });
  auto* rotate = staff->add_subcommand(
      "rotate", "A new credential (an operator, or the person themself); the old one stops");
  rotate->add_option("name", o->name, "Account name")->required();
  rotate->add_option("--key", o->key, "Idempotency key (default: a fresh one)");
  rotate->add_option("--credential-out", o->credential_out, "Write the credential to this file");
  rotate->callback([run, o] { *run = [o](const Connect& c) { return Rotate(*o, c); }; });
  auto* revoke = staff->add_subcommand("revoke", "Refuse a person's credential from now on");
  revoke->add_option("name", o->name, "Account name")->required();
  revoke->add_option("--key", o->key, "Idempotency key (default: derived from the name)");
  revoke->callback([run, o] { *run = [o](const Connect& c) { return Revoke(*o, c); }; });
  staff->add_subcommand("list", "List the platform's people")->callback([run] { *run = List; });
}

}  // namespace mw::cli
