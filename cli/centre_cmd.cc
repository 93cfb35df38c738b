// mw centre add ... | list
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/common/status_macros.h"
#include "proto/rpc/grpc_status.h"

namespace mw::cli {
namespace {

struct AddOpts {
  std::string id, region, currency, key, credential_out;
  int64_t floor_minor = 0;
  std::vector<std::string> languages;
  uint32_t capacity = 100;
  uint32_t share_weight = 1;
  uint32_t share_per_mille = 0;
};

absl::Status ShowCredential(const v1::AddCentreReply& reply, const std::string& path);

absl::Status Add(const AddOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::AddCentreRequest req;
  req.set_idempotency_key(o.key.empty() ? absl::StrCat("centre-add:", o.id) : o.key);
  v1::Centre* c = req.mutable_centre();
  c->set_id(o.id);
  c->set_region(o.region);
  c->set_currency(o.currency);
  c->set_wage_floor_minor_per_hour(o.floor_minor);
  for (const auto& l : o.languages) c->add_languages(l);
  c->set_capacity(o.capacity);
  c->set_share_weight(o.share_weight);
  c->set_centre_share_per_mille(o.share_per_mille);
  v1::AddCentreReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().AddCentre(ctx.get(), req, &reply)));
  std::cout << "Centre " << reply.centre().id() << " (" << reply.centre().region() << ") floor "
            << FormatMoney(reply.centre().wage_floor_minor_per_hour(), reply.centre().currency())
            << "/h\n";
  return ShowCredential(reply, o.credential_out);
}

// Writes the reply's credential to `path` (0600), or prints it when `path` is empty.
absl::Status ShowCredential(const v1::AddCentreReply& reply, const std::string& path) {
  if (reply.credential().empty()) {
    std::cout << "Its credential was replaced since (mw centre rotate-credential); the one this "
                 "made is no longer valid and is not shown.\n";
    return absl::OkStatus();
  }
  if (path.empty()) {
    std::cout << "Credential (give it to the centre's agent; it is not shown again): "
              << reply.credential() << "\n";
  } else {
    std::ofstream out(path, std::ios::trunc);
    if (!out) return absl::NotFoundError(absl::StrCat(path, ": cannot write"));
    out << reply.credential() << "\n";
    out.close();
    chmod(path.c_str(), 0600);
    std::cout << "Credential written to " << path << "\n";
  }
  return absl::OkStatus();
}

absl::Status Rotate(const AddOpts& o, const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::RotateCentreCredentialRequest req;
  req.set_idempotency_key(
      o.key.empty() ? absl::StrCat("centre-rotate:", o.id, ":", ToHex(RandomBytes(8))) : o.key);
  req.set_centre_id(o.id);
  v1::AddCentreReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(
      rpc::FromGrpcStatus(client->ops().RotateCentreCredential(ctx.get(), req, &reply)));
  std::cout << "Centre " << reply.centre().id()
            << ": a new credential; the old one is refused from now on (restart the centre's "
               "agent with the new one)\n";
  return ShowCredential(reply, o.credential_out);
}

absl::Status List(const Connect& connect) {
  MW_ASSIGN_OR_RETURN(auto client, connect());
  v1::ListCentresReply reply;
  auto ctx = client->Context();
  MW_RETURN_IF_ERROR(rpc::FromGrpcStatus(client->ops().ListCentres(ctx.get(), {}, &reply)));
  for (const auto& c : reply.centres()) {
    std::cout << c.id() << "  region " << c.region() << "  floor "
              << FormatMoney(c.wage_floor_minor_per_hour(), c.currency()) << "/h  languages "
              << absl::StrJoin(c.languages(), ",") << "  capacity " << c.capacity()
              << "  share weight " << std::max<uint32_t>(c.share_weight(), 1) << "  centre share "
              << c.centre_share_per_mille() << "/1000 of wages\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddCentreCommands(CLI::App& app, Run* run) {
  auto* centre = app.add_subcommand("centre", "Delivery centres");
  centre->require_subcommand(1);
  auto o = std::make_shared<AddOpts>();
  auto* add = centre->add_subcommand("add", "Register a centre and issue its credential");
  add->add_option("--id", o->id, "Centre id (a-z, 0-9, -, _)")->required();
  add->add_option("--region", o->region, "Region code, e.g. KE or IN-KA")->required();
  add->add_option("--currency", o->currency, "ISO 4217 currency of the wage floor")->required();
  add->add_option("--floor-minor", o->floor_minor,
                  "Hourly wage floor in minor units (e.g. 150 = 1.50)")
      ->required();
  add->add_option("--languages", o->languages, "Languages spoken at the centre")->delimiter(',');
  add->add_option("--capacity", o->capacity, "Assignments the centre may hold at once");
  add->add_option("--share-weight", o->share_weight,
                  "Its share of contended work relative to other centres (default 1)")
      ->check(CLI::Range(1, 1000));
  add->add_option("--share-per-mille", o->share_per_mille,
                  "What the centre keeps for running itself, in thousandths of each wage, paid "
                  "on top of the wage (default 0)")
      ->check(CLI::Range(0, 500));
  add->add_option("--key", o->key, "Idempotency key (default: derived from the id)");
  add->add_option("--credential-out", o->credential_out, "Write the credential to this file");
  add->callback([run, o] { *run = [o](const Connect& c) { return Add(*o, c); }; });
  auto* rotate = centre->add_subcommand(
      "rotate-credential", "Issue a centre a new credential; the old one stops working at once");
  rotate->add_option("--id", o->id, "Centre id")->required();
  rotate->add_option("--key", o->key, "Idempotency key (default: a fresh one)");
  rotate->add_option("--credential-out", o->credential_out, "Write the credential to this file");
  rotate->callback([run, o] { *run = [o](const Connect& c) { return Rotate(*o, c); }; });
  centre->add_subcommand("list", "List centres")->callback([run] { *run = List; });
}

}  // namespace mw::cli
