// The manager's payouts: the payment file a mobile-money rail takes for an approved batch of
// this centre, made here with the roster's phone numbers (they never leave the centre
// otherwise), and the import of the rail's result file, which settles each line at the
// dispatcher (what was not paid goes back to the worker's balance).
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "engine/common/status_macros.h"
#include "worker-agent/payouts/mobile_money.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/page_parts.h"
#include "worker-agent/web/web_server.h"

namespace mw::agent::web {
namespace {

Html RailChoice(const Messages& m, const std::string& lang) {
  return HtmlCat("<label>", Escape(m.Text(lang, "payout_rail")),
                 "<select name=\"rail\"><option value=\"mpesa\">M-Pesa</option><option "
                 "value=\"mtn-momo\">MTN MoMo</option></select></label>");
}

Html BatchField(const Messages& m, const std::string& lang) {
  return HtmlCat("<label>", Escape(m.Text(lang, "payout_batch")),
                 "<input type=\"text\" name=\"batch\" required maxlength=\"80\" "
                 "placeholder=\"payout-nairobi-1\" autocomplete=\"off\"></label>");
}

}  // namespace

Html WebServer::PayoutsSection(Call& c) {
  const Messages& m = Messages::Get();
  return HtmlCat("<h2>", Escape(m.Text(c.lang, "payouts")), "</h2><div id=\"payouts\"><p>",
                 Escape(m.Text(c.lang, "payouts_help")),
                 "</p><form method=\"post\" action=\"/manage/payouts/file\" class=\"card\">",
                 c.FormToken(), BatchField(m, c.lang), RailChoice(m, c.lang), "<button>",
                 Escape(m.Text(c.lang, "payout_file")),
                 "</button></form><form method=\"post\" action=\"/manage/payouts/results\" "
                 "class=\"card\">",
                 c.FormToken(), BatchField(m, c.lang), RailChoice(m, c.lang), "<label>",
                 Escape(m.Text(c.lang, "payout_results")),
                 "<textarea name=\"results\" rows=\"6\" required></textarea></label><button>",
                 Escape(m.Text(c.lang, "payout_import")), "</button></form></div>");
}

absl::StatusOr<std::pair<payouts::Rail, v1::PayoutBatch>> WebServer::ChosenPayout(Call& c) {
  const std::optional<payouts::Rail> rail = payouts::ParseRail(c.req.get_param_value("rail"));
  if (!rail.has_value()) return absl::InvalidArgumentError("rail: expected mpesa or mtn-momo");
  if (!hooks_.payout || !hooks_.settle_payout) {
    return absl::UnavailableError(Messages::Get().Text(c.lang, "payouts_offline"));
  }
  MW_ASSIGN_OR_RETURN(
      v1::PayoutBatch batch,
      hooks_.payout(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("batch")))));
  return std::make_pair(*rail, std::move(batch));
}

void WebServer::PayoutError(Call& c, absl::string_view text) {
  ManagerPage(c, HtmlCat("<p class=\"notice error\" id=\"error\">", Escape(text), "</p>"));
}

void WebServer::PaymentFileDownload(Call& c) {
  auto chosen = ChosenPayout(c);
  if (!chosen.ok()) return PayoutError(c, chosen.status().message());
  const auto& [rail, batch] = *chosen;
  // account "worker:<centre>/<pseudonym>" -> the roster's contact for the pseudonym
  auto phone_of = [this](const std::string& account) -> std::string {
    const auto worker = state_->Worker(account.substr(account.rfind('/') + 1));
    return worker.has_value() ? worker->contact() : "";
  };
  absl::StatusOr<std::string> file = payouts::PaymentFile(rail, batch, phone_of);
  if (!file.ok()) return PayoutError(c, file.status().message());
  spdlog::info("event=web_payment_file batch={} rail={} by={}", batch.id(),
               c.req.get_param_value("rail"), c.session.manager_name);
  c.res.set_header("Content-Disposition", absl::StrCat("attachment; filename=\"", batch.id(), "-",
                                                       c.req.get_param_value("rail"), ".csv\""));
  c.res.set_header("Cache-Control", "no-store");  // phone numbers: kept by no cache
  c.res.set_content(*file, "text/csv; charset=utf-8");
}

void WebServer::ImportPayoutResults(Call& c) {
  const Messages& m = Messages::Get();
  auto chosen = ChosenPayout(c);
  if (!chosen.ok()) return PayoutError(c, chosen.status().message());
  const auto& [rail, batch] = *chosen;
  // A pasted file arrives with the browser's CRLF line ends.
  std::string results = absl::StrReplaceAll(c.req.get_param_value("results"), {{"\r\n", "\n"}});
  absl::StatusOr<v1::SettlePayoutRequest> settle = payouts::ReadResults(rail, batch, results);
  if (!settle.ok()) return PayoutError(c, settle.status().message());
  settle->set_settled_by(c.session.manager_name);
  payouts::KeySettlement(&*settle);
  absl::StatusOr<v1::PayoutBatch> settled = hooks_.settle_payout(*settle);
  if (!settled.ok()) return PayoutError(c, settled.status().message());
  int paid = 0, failed = 0;
  for (const auto& l : settle->lines()) (l.outcome() == v1::PAYOUT_LINE_PAID ? paid : failed)++;
  spdlog::info("event=web_payout_results batch={} paid={} failed={} by={}", batch.id(), paid,
               failed, c.session.manager_name);
  ManagerPage(
      c, HtmlCat("<p class=\"notice\" id=\"notice\">",
                 Escape(m.Text(c.lang, "payout_imported",
                               {{"paid", absl::StrCat(paid)}, {"failed", absl::StrCat(failed)}})),
                 "</p>"));
}

}  // namespace mw::agent::web
