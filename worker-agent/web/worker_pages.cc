// The worker's pages: the task and its answer form, the welfare rules between tasks, what they
// earned (with disputes), and their own data to take away.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/dispatch/answers.h"
#include "engine/record/work_record.h"
#include "google/protobuf/util/json_util.h"
#include "worker-agent/web/decision_keys.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/page_parts.h"
#include "worker-agent/web/web_server.h"
#include "worker-agent/welfare.h"

namespace mw::agent::web {

namespace {

constexpr size_t kMaxRecent = 20;

// The instructions in the worker's language, else English, else any.
std::string Instructions(const v1::HumanStage& stage, const std::string& lang) {
  if (auto it = stage.instructions().find(lang); it != stage.instructions().end()) {
    return it->second;
  }
  if (auto it = stage.instructions().find("en"); it != stage.instructions().end()) {
    return it->second;
  }
  return stage.instructions().empty() ? "" : stage.instructions().begin()->second;
}

struct Window {
  uint32_t tasks = 0;
  int64_t wage_minor = 0;
  uint64_t active_seconds = 0;
};

}  // namespace

// ---- Work ----

Html WebServer::Welfare(Call& c) {
  const WelfareLimits limits{.max_minutes_per_day = options_.max_minutes_per_day,
                             .max_minutes_per_week = options_.max_minutes_per_week,
                             .distressing_per_day = options_.distressing_per_day,
                             .break_after_minutes = options_.break_after_minutes};
  if (!limits.any()) return "";
  const Messages& m = Messages::Get();
  const std::string& worker = c.session.worker;
  const int64_t now = clock_->NowMs();
  const std::array<int64_t, 3> starts = PeriodStarts(now);
  absl::StatusOr<centre::WorkDone> today = state_->WorkSince(worker, starts[0]);
  absl::StatusOr<centre::WorkDone> week =
      limits.max_minutes_per_week > 0 ? state_->WorkSince(worker, starts[1]) : centre::WorkDone();
  if (!today.ok() || !week.ok()) {  // limits that cannot be checked stop work, and say why
    spdlog::error("event=work_record_unreadable worker={} error=\"{}\"", worker,
                  (today.ok() ? week.status() : today.status()).ToString());
    // Off duty, as past a limit: nothing more is leased for them meanwhile.
    if (hooks_.set_on_duty) hooks_.set_on_duty(worker, false);
    c.res.status = 500;
    return HtmlCat("<p class=\"notice\" id=\"record-unreadable\">",
                   Escape(m.Text(c.lang, "record_unreadable")), "</p>");
  }
  int64_t stretch_start = 0;
  {
    absl::MutexLock l(&mu_);
    if (auto it = sessions_.find(TokenKey(c.token)); it != sessions_.end()) {
      if (now - it->second.last_answer_ms < kPauseMs) stretch_start = it->second.stretch_start_ms;
    }
  }
  const WelfareCheck check = CheckWelfare(limits, *today, *week, stretch_start, now);
  auto hours = [](uint32_t minutes) { return absl::StrFormat("%.1f", minutes / 60.0); };
  std::string stop;
  if (check.stop == WelfareCheck::kDayLimit) {
    stop = m.Text(c.lang, "limit_day", {{"hours", hours(limits.max_minutes_per_day)}});
  } else if (check.stop == WelfareCheck::kWeekLimit) {
    stop = m.Text(c.lang, "limit_week", {{"hours", hours(limits.max_minutes_per_week)}});
  }
  if (!stop.empty()) {
    spdlog::info("event=welfare_limit worker={} active_seconds_today={}", worker,
                 today->active_seconds);
    if (hooks_.set_on_duty) hooks_.set_on_duty(worker, false);  // its buffer goes back
    return HtmlCat("<p class=\"notice\" id=\"limit\">", Escape(stop), "</p>");
  }
  // Past the exposure cap, distressing tasks are passed back (skipped, so others get them).
  if (check.pass_distressing) {
    bool passed = false;
    for (auto next = state_->PeekNext(worker);
         next.has_value() && next->spec().human().distressing(); next = state_->PeekNext(worker)) {
      v1::Result r = centre::ResultFor(next->assignment(), worker, now);
      r.mutable_answer()->set_skipped(true);
      r.mutable_answer()->set_skip_reason("welfare: daily exposure cap");
      if (absl::Status s = state_->SaveAnswer(r); !s.ok()) break;
      passed = true;
    }
    if (passed) {
      if (hooks_.answer_saved) hooks_.answer_saved();
      c.notice.Append(
          "<p class=\"notice\" id=\"exposure\">",
          Escape(m.Text(c.lang, "exposure_cap", {{"n", absl::StrCat(today->distressing)}})),
          "</p>");
    }
  }
  if (check.break_minutes > 0) {
    c.notice.Append(
        "<p class=\"notice\" id=\"break\">",
        Escape(m.Text(c.lang, "break_reminder", {{"minutes", absl::StrCat(check.break_minutes)}})),
        "</p>");
  }
  return "";
}

void WebServer::RecordUnreadable(Call& c, const absl::Status& why) {
  spdlog::error("event=work_record_unreadable worker={} error=\"{}\"", c.session.worker,
                why.ToString());
  const Messages& m = Messages::Get();
  Render(c, m.Text(c.lang, "earnings_title"),
         HtmlCat("<p class=\"notice\" id=\"record-unreadable\">",
                 Escape(m.Text(c.lang, "record_unreadable")), "</p>"));
  c.res.status = 500;
}

void WebServer::TaskPage(Call& c) {
  const Messages& m = Messages::Get();
  if (Html stop = Welfare(c); !stop.empty()) {
    Render(c, m.Text(c.lang, "next_task"), stop);
    return;
  }
  if (hooks_.set_on_duty) hooks_.set_on_duty(c.session.worker, true);  // e.g. the next day
  auto next = state_->PeekNext(c.session.worker);
  if (!next.has_value()) {
    Render(c, m.Text(c.lang, "next_task"),
           HtmlCat("<p id=\"no-task\">", Escape(m.Text(c.lang, "no_task")),
                   "</p><p><a href=\"/task\">", Escape(m.Text(c.lang, "check_again")), "</a></p>"),
           /*refresh=*/20);
    return;
  }
  const v1::Assignment& a = next->assignment();
  const v1::HumanStage& stage = next->spec().human();
  const uint32_t est = std::max<uint32_t>(stage.estimated_seconds(), 1);
  const int64_t hourly = EarnedPerHour(a.piece_rate_minor(), est);
  const Html pay = HtmlCat(
      "<dl><dt>", Escape(m.Text(c.lang, "pay")), "</dt><dd class=\"pay\" id=\"pay\">",
      Escape(LocalMoney(c.lang, a.piece_rate_minor(), a.currency())), "</dd><dt>",
      Escape(m.Text(c.lang, "time")), "</dt><dd>",
      Escape(m.Text(c.lang, "minutes", {{"n", absl::StrCat((est + 59) / 60)}})), " &middot; ",
      Escape(m.Text(c.lang, "per_hour", {{"rate", LocalMoney(c.lang, hourly, a.currency())}})),
      "</dd></dl>");
  const Html instructions =
      HtmlCat("<h2>", Escape(m.Text(c.lang, "instructions")), "</h2><p id=\"instructions\">",
              Escape(Instructions(stage, c.lang)),
              "</p><button type=\"button\" class=\"say\" data-say=\"instructions\">",
              Escape(m.Text(c.lang, "read_aloud")), "</button>");
  if (next->opened_at_ms() == 0) {
    // Before starting: what it pays and how long it takes, then the choice.
    Render(c, m.Text(c.lang, "next_task"),
           HtmlCat(pay, ClientRating(c, next->spec().client()), "<p>",
                   Escape(m.Text(c.lang, "before_start")), "</p>", instructions,
                   "<form method=\"post\" action=\"/task/start\">", c.FormToken(),
                   Hidden("aid", a.assignment_id()), "<button class=\"primary\" id=\"start\">",
                   Escape(m.Text(c.lang, "start")), "</button></form>"));
    return;
  }
  const MediaView view{options_.phone, m.Text(c.lang, "clip_replay"),
                       m.Text(c.lang, "clip_slower")};
  const Html item =
      HtmlCat("<div id=\"item\">",
              ItemFields(stage, a.item(), options_.media != nullptr ? &view : nullptr), "</div>");
  const Html ids =
      HtmlCat(Hidden("aid", a.assignment_id()), Hidden("epoch", absl::StrCat(a.epoch())),
              Hidden("hidden_ms", "0"), c.FormToken());
  Html reasons;
  for (const char* r : {"skip_unclear", "skip_unreadable", "skip_upsetting", "skip_other"}) {
    reasons.Append("<option value=\"", Escape(r), "\">", Escape(m.Text(c.lang, r)), "</option>");
  }
  Render(c, m.Text(c.lang, "next_task"),
         HtmlCat(pay, instructions, "<h2>", Escape(m.Text(c.lang, "item")), "</h2>", item,
                 // Multipart: a long answer in a script of three bytes a character fits
                 // (a URL-encoded form is capped at 8 KB by the HTTP library).
                 "<form method=\"post\" action=\"/task/answer\" id=\"answer\" "
                 "enctype=\"multipart/form-data\" data-idle-ms=\"",
                 std::max<int64_t>(120'000, int64_t{est} * 2000), "\"><h2>",
                 Escape(m.Text(c.lang, "your_answer")), "</h2>", ids,
                 AnswerFields(stage.answer(), a.item(), m, c.lang,
                              options_.media != nullptr ? &view : nullptr),
                 "<button class=\"primary\" id=\"save\">", Escape(m.Text(c.lang, "save_answer")),
                 "</button></form><form method=\"post\" action=\"/task/skip\" "
                 "id=\"skip\"><h2>",
                 Escape(m.Text(c.lang, "skip")), "</h2>", ids, "<label for=\"reason\">",
                 Escape(m.Text(c.lang, "skip_reason")),
                 "</label><select name=\"reason\" id=\"reason\">", reasons, "</select><button>",
                 Escape(m.Text(c.lang, "skip")), "</button></form><details id=\"flag\"><summary>",
                 Escape(m.Text(c.lang, "flag_title")),
                 "</summary><form method=\"post\" action=\"/task/flag\">", ids,
                 "<select name=\"kind\" id=\"flag-kind\"><option value=\"1\">",
                 Escape(m.Text(c.lang, "flag_harmful")), "</option><option value=\"2\">",
                 Escape(m.Text(c.lang, "flag_wrong")), "</option></select><label>",
                 Escape(m.Text(c.lang, "flag_note")),
                 "<textarea name=\"note\" rows=\"2\" maxlength=\"500\"></textarea></label><button>",
                 Escape(m.Text(c.lang, "send_flag")), "</button></form></details>"));
}

void WebServer::StartTask(Call& c) {
  if (!Welfare(c).empty()) {
    c.Redirect("/task");
    return;
  }
  auto next = state_->PeekNext(c.session.worker);
  if (next.has_value() && next->assignment().assignment_id() == c.req.get_param_value("aid")) {
    (void)state_->OpenNext(c.session.worker);  // the clock on the task starts now
  }
  c.Redirect("/task");
}

void WebServer::Answer(Call& c, bool skip) {
  const Messages& m = Messages::Get();
  const std::string aid = FormValue(c.req, "aid");
  auto next = state_->PeekNext(c.session.worker);
  if (!next.has_value() || next->assignment().assignment_id() != aid || next->opened_at_ms() == 0) {
    // Sent twice (the first is saved) or no longer held: never an error the worker must handle.
    for (const auto& r : state_->PendingFor(c.session.worker)) {
      if (r.assignment_id() == aid) {
        c.Redirect("/task");
        return;
      }
    }
    c.Redirect("/task?notice=task_gone");
    return;
  }
  const v1::Assignment& a = next->assignment();
  const v1::HumanStage& stage = next->spec().human();
  const int64_t now = clock_->NowMs();
  v1::Result r = centre::ResultFor(a, c.session.worker, now);
  if (skip) {
    r.mutable_answer()->set_skipped(true);
    std::string reason = FormValue(c.req, "reason");
    if (reason.rfind("skip_", 0) != 0) reason = "skip_other";
    r.mutable_answer()->set_skip_reason(reason.substr(5));
  } else {
    auto answer = ParseAnswer(c.req, stage.answer(), a.item());
    if (!answer.ok()) {
      c.res.status = 400;
      c.notice = HtmlCat("<p class=\"notice error\" id=\"error\">",
                         Escape(m.Text(c.lang, "answer_problem",
                                       {{"detail", std::string(answer.status().message())}})),
                         "</p>");
      TaskPage(c);
      return;
    }
    *r.mutable_answer() = *std::move(answer);
  }
  int64_t hidden_ms = 0;
  if (!absl::SimpleAtoi(FormValue(c.req, "hidden_ms"), &hidden_ms)) hidden_ms = 0;
  r.set_active_seconds(ActiveSeconds(next->opened_at_ms(), now, hidden_ms));
  if (absl::Status s = state_->SaveAnswer(r); !s.ok()) {
    spdlog::error("event=web_save_failed worker={} error=\"{}\"", c.session.worker, s.ToString());
    c.res.status = 503;
    c.res.set_content("The answer could not be saved; please press the button again.",
                      "text/plain; charset=utf-8");
    return;
  }
  spdlog::info("event=web_answer worker={} assignment={} skipped={} active_seconds={}",
               c.session.worker, aid, skip, r.active_seconds());
  if (hooks_.answer_saved) hooks_.answer_saved();
  {
    absl::MutexLock l(&mu_);
    if (auto it = sessions_.find(TokenKey(c.token)); it != sessions_.end()) {
      Session& s = it->second;
      s.stretch_start_ms = StretchStart(s.last_answer_ms, s.stretch_start_ms, now,
                                        std::max<int64_t>(0, now - next->opened_at_ms()));
      s.last_answer_ms = now;
    }
  }
  if (skip) {
    c.Redirect("/task?notice=skipped");
  } else {
    c.Redirect(
        absl::StrCat("/task?notice=saved&pay=", httplib::detail::encode_query_param(LocalMoney(
                                                    c.lang, a.piece_rate_minor(), a.currency()))));
  }
}

// ---- Earnings and disputes ----

void WebServer::EarningsPage(Call& c) {
  const Messages& m = Messages::Get();
  const std::array<int64_t, 3> starts = PeriodStarts(clock_->NowMs());
  const int64_t earliest = std::min({starts[0], starts[1], starts[2]});
  absl::StatusOr<std::vector<v1::EarningRecord>> earnings =
      state_->Earnings(c.session.worker, earliest);
  if (!earnings.ok()) {
    RecordUnreadable(c, earnings.status());
    return;
  }
  Window windows[3];
  std::string currency;
  for (const auto& e : *earnings) {
    if (currency.empty()) currency = e.currency();
    for (int w = 0; w < 3; ++w) {
      if (e.answered_at_ms() < starts[w]) continue;
      windows[w].tasks += !e.skipped();
      windows[w].wage_minor += e.wage_minor();
      windows[w].active_seconds += e.active_seconds();
    }
  }
  Html body = "<table id=\"totals\">";
  const char* names[3] = {"today", "this_week", "this_period"};
  for (int w = 0; w < 3; ++w) {
    const Window& win = windows[w];
    body.Append("<tr><th>", Escape(m.Text(c.lang, names[w])), "</th><td id=\"", Escape(names[w]),
                "\"><b>", Escape(LocalMoney(c.lang, win.wage_minor, currency)), "</b><br>",
                Escape(m.Text(c.lang, "tasks_count", {{"n", absl::StrCat(win.tasks)}})));
    if (win.active_seconds > 0) {
      const int64_t hourly = EarnedPerHour(win.wage_minor, win.active_seconds);
      body.Append("<br>", Escape(m.Text(c.lang, "hourly",
                                        {{"rate", LocalMoney(c.lang, hourly, currency)}})));
    }
    body.Append("</td></tr>");
  }
  body.Append("</table>");
  const size_t waiting = state_->PendingFor(c.session.worker).size();
  if (waiting > 0) {
    body.Append("<p class=\"notice\">",
                Escape(m.Text(c.lang, "waiting_to_send", {{"n", absl::StrCat(waiting)}})), "</p>");
  }
  body.Append("<h2>", Escape(m.Text(c.lang, "recent_work")), "</h2>");
  if (earnings->empty()) {
    body.Append("<p>", Escape(m.Text(c.lang, "no_work_yet")), "</p>");
  } else {
    body.Append("<table id=\"recent\"><tr><th>", Escape(m.Text(c.lang, "when")), "</th><th>",
                Escape(m.Text(c.lang, "task")), "</th><th>", Escape(m.Text(c.lang, "pay")),
                "</th></tr>");
    size_t shown = 0;
    for (auto it = earnings->rbegin(); it != earnings->rend() && shown < kMaxRecent;
         ++it, ++shown) {
      const std::string when = LocalDate(c.lang, it->answered_at_ms());
      body.Append("<tr><td>", Escape(when), "</td><td>", Escape(it->stage()));
      if (it->late()) body.Append(" (", Escape(m.Text(c.lang, "late")), ")");
      if (!it->feedback().empty()) {
        body.Append("<br><i>", Escape(it->feedback()), "</i>");
      }
      body.Append("</td><td>",
                  it->skipped() ? Escape(m.Text(c.lang, "skipped_label"))
                                : Escape(LocalMoney(c.lang, it->wage_minor(), it->currency())),
                  "</td></tr>");
    }
    body.Append("</table>");
  }

  // Pay held back by a person, and the worker's side of it.
  body.Append("<h2>", Escape(m.Text(c.lang, "disputes_title")), "</h2><p>",
              Escape(m.Text(c.lang, "disputes_help")), "</p>");
  absl::StatusOr<std::vector<v1::Withholding>> held =
      hooks_.withholdings
          ? hooks_.withholdings()
          : absl::StatusOr<std::vector<v1::Withholding>>(std::vector<v1::Withholding>());
  if (!held.ok()) {
    body.Append("<p>", Escape(m.Text(c.lang, "disputes_offline")), "</p>");
  } else {
    int mine = 0;
    for (const auto& w : *held) {
      // The centre's withholdings: this worker's are those on their own assignments.
      if (auto parts = ParseAssignmentId(w.assignment_id());
          !parts.ok() || parts->second != c.session.worker) {
        continue;
      }
      ++mine;
      body.Append("<div class=\"notice\"><b>",
                  Escape(w.assignment_id().substr(0, w.assignment_id().rfind('@'))),
                  "</b> &middot; ", Escape(LocalMoney(c.lang, w.amount_minor(), w.currency())),
                  "<br>", Escape(m.Text(c.lang, "reason")), ": ",
                  Escape(v1::WithholdReason_Name(w.reason())), " &mdash; ", Escape(w.note()),
                  "<br>", Escape(m.Text(c.lang, "dispute_state")), ": ",
                  Escape(v1::DisputeState_Name(w.dispute())));
      if (w.dispute() == v1::DISPUTE_NONE) {
        body.Append("<form method=\"post\" action=\"/dispute\">", c.FormToken(),
                    Hidden("aid", w.assignment_id()), "<label>",
                    Escape(m.Text(c.lang, "your_side")),
                    "<textarea name=\"statement\" rows=\"3\" required></textarea></label>"
                    "<button>",
                    Escape(m.Text(c.lang, "dispute")), "</button></form>");
      }
      body.Append("</div>");
    }
    if (mine == 0) body.Append("<p>", Escape(m.Text(c.lang, "disputes_none")), "</p>");
  }
  Render(c, m.Text(c.lang, "earnings_title"), body);
}

void WebServer::Dispute(Call& c) {
  const std::string aid = c.req.get_param_value("aid");
  const std::string statement(absl::StripAsciiWhitespace(c.req.get_param_value("statement")));
  // Only the worker's own assignment: "<task>@<pseudonym>".
  const auto parts = ParseAssignmentId(aid);
  if (!parts.ok() || parts->second != c.session.worker || statement.empty() || !hooks_.dispute) {
    c.res.status = 400;
    c.res.set_content("aid: expected one of your own tasks; statement: required",
                      "text/plain; charset=utf-8");
    return;
  }
  v1::DisputeWithholdingRequest req;
  req.set_assignment_id(aid);
  req.set_worker_statement(statement);
  req.set_idempotency_key(DecisionKey(req));
  absl::Status s = hooks_.dispute(req);
  if (!s.ok()) {
    spdlog::warn("event=web_dispute_failed worker={} error=\"{}\"", c.session.worker, s.ToString());
    c.Redirect("/earnings?notice=disputes_offline");
    return;
  }
  c.Redirect("/earnings?notice=dispute_sent");
}

// ---- The worker's own data ----

void WebServer::DataPage(Call& c, bool json) {
  const Messages& m = Messages::Get();
  auto w = state_->Worker(c.session.worker);
  if (!w.has_value()) {
    c.Redirect("/signin");
    return;
  }
  v1::RosterEntry shown = *w;
  shown.clear_sign_in_code_sha256();  // not theirs to need, and secrets
  shown.clear_sign_in_verifier();
  if (json) {
    nlohmann::json out;
    std::string entry;
    (void)google::protobuf::util::MessageToJsonString(shown, &entry);
    out["roster_entry"] = nlohmann::json::parse(entry);
    absl::StatusOr<std::vector<v1::EarningRecord>> earnings = state_->Earnings(c.session.worker, 0);
    if (!earnings.ok()) {
      RecordUnreadable(c, earnings.status());
      return;
    }
    out["earnings"] = nlohmann::json::array();
    for (const auto& e : *earnings) {
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(e, &text);
      out["earnings"].push_back(nlohmann::json::parse(text));
    }
    out["waiting_to_send"] = nlohmann::json::array();
    for (const auto& r : state_->PendingFor(c.session.worker)) {
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(r, &text);
      out["waiting_to_send"].push_back(nlohmann::json::parse(text));
    }
    c.res.set_header("Content-Disposition", "attachment; filename=\"my-data.json\"");
    c.res.set_content(out.dump(2), "application/json");
    return;
  }
  Html body = HtmlCat(
      "<p>", Escape(m.Text(c.lang, "my_data_help", {{"pseudonym", shown.pseudonym()}})),
      "</p><dl id=\"data\"><dt>", Escape(m.Text(c.lang, "name")), "</dt><dd>", Escape(shown.name()),
      "</dd><dt>", Escape(m.Text(c.lang, "contact")), "</dt><dd>", Escape(shown.contact()),
      "</dd><dt>", Escape(m.Text(c.lang, "languages")), "</dt><dd>",
      Escape(absl::StrJoin(shown.languages(), ", ")), "</dd><dt>", Escape(m.Text(c.lang, "skills")),
      "</dt><dd>", Escape(absl::StrJoin(shown.skills(), ", ")),
      "</dd></dl><p><a href=\"/me.json\">", Escape(m.Text(c.lang, "download_data")), "</a></p>",
      // The work record: signed, theirs to show anyone; the name only if they choose.
      "<h2>", Escape(m.Text(c.lang, "record_title")), "</h2><p>",
      Escape(m.Text(c.lang, "record_help")),
      "</p><form method=\"get\" action=\"/record.txt\" id=\"record\"><label><input "
      "type=\"checkbox\" name=\"name\" value=\"1\"> ",
      Escape(m.Text(c.lang, "record_show_name")), "</label> <button type=\"submit\">",
      Escape(m.Text(c.lang, "record_download")), "</button></form><p><a href=\"/verify\">",
      Escape(m.Text(c.lang, "verify_title")), "</a></p>");
  Render(c, m.Text(c.lang, "my_data_title"), body);
}

void WebServer::WorkRecord(Call& c) {
  auto w = state_->Worker(c.session.worker);
  if (!w.has_value()) {
    c.Redirect("/signin");
    return;
  }
  std::optional<std::string> name;
  if (c.req.get_param_value("name") == "1" && !w->name().empty()) name = w->name();
  absl::StatusOr<std::string> text = hooks_.work_record ? hooks_.work_record(c.session.worker, name)
                                                        : absl::UnavailableError("no dispatcher");
  if (!text.ok()) {
    spdlog::warn("event=web_work_record_failed worker={} error=\"{}\"", c.session.worker,
                 text.status().ToString());
    const absl::StatusCode code = text.status().code();
    c.Redirect(code == absl::StatusCode::kNotFound          ? "/me?notice=record_empty"
               : code == absl::StatusCode::kInvalidArgument ? "/me?notice=record_bad_name"
                                                            : "/me?notice=record_offline");
    return;
  }
  c.res.set_header("Content-Disposition", "attachment; filename=\"work-record.txt\"");
  c.res.set_content(*text, "text/plain; charset=utf-8");
}

// Anyone on the centre's network may check a record pasted here: nothing is kept.
void WebServer::VerifyPage(Call& c) {
  const Messages& m = Messages::Get();
  Html result;
  if (c.req.method == "POST") {
    std::string text = c.req.get_param_value("record");
    // Browsers send a textarea's lines with CRLF; the record's lines are LF.
    absl::StrReplaceAll({{"\r\n", "\n"}}, &text);
    if (!text.empty() && text.back() != '\n') text.push_back('\n');
    absl::StatusOr<record::VerifiedRecord> v = record::VerifyRecord(text);
    if (!v.ok()) {
      result = HtmlCat("<p class=\"notice error\" id=\"error\">",
                       Escape(m.Text(c.lang, "verify_failed")), " ", Escape(v.status().message()),
                       "</p>");
    } else {
      // Intact signatures prove no change since signing; who signed is what the keys say. This
      // centre knows its own key; the platform's is compared with the one the operator publishes.
      const bool ours =
          !options_.centre_public_key.empty() && v->centre_key == options_.centre_public_key;
      result = HtmlCat("<p class=\"notice\" id=\"verified\">",
                       Escape(m.Text(c.lang, ours ? "verify_ok_here" : "verify_ok_elsewhere",
                                     {{"worker", v->worker},
                                      {"centre", v->centre},
                                      {"centre_key", record::Fingerprint(v->centre_key)},
                                      {"dispatcher", record::Fingerprint(v->dispatcher_key)}})),
                       "</p>");
    }
  }
  Render(c, m.Text(c.lang, "verify_title"),
         HtmlCat(result, "<p>", Escape(m.Text(c.lang, "verify_help")),
                 "</p><form method=\"post\" action=\"/verify\">", c.FormToken(),
                 "<textarea name=\"record\" rows=\"12\" required></textarea><button "
                 "type=\"submit\">",
                 Escape(m.Text(c.lang, "verify_button")), "</button></form>"));
}

}  // namespace mw::agent::web
