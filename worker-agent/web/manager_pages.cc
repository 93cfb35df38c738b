// The centre manager's pages: the roster, who holds what, reservations, disputes and the outbox.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/money.h"
#include "engine/common/status_macros.h"
#include "engine/dispatch/answers.h"
#include "worker-agent/web/decision_keys.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/page_parts.h"
#include "worker-agent/web/web_server.h"

namespace mw::agent::web {

namespace {

// A worker's (or the centre's) work in some window, from the dispatcher's receipts.
struct Tally {
  uint32_t tasks = 0;  // answers, not skips
  uint64_t seconds = 0;
  std::map<std::string, int64_t> earned;  // by currency
  uint32_t checks = 0, checks_right = 0;

  void Add(const v1::EarningRecord& e) {
    if (!e.skipped()) ++tasks;
    seconds += e.active_seconds();
    if (e.wage_minor() > 0) earned[e.currency()] += e.wage_minor();
    checks += e.check();
    checks_right += e.check() && e.check_correct();
  }
  void Add(const Tally& t) {
    tasks += t.tasks;
    seconds += t.seconds;
    for (const auto& [currency, minor] : t.earned) earned[currency] += minor;
  }
  // "3 · 0:12 · 0.15 USD": tasks, time on task (h:mm), earnings.
  Html Text() const {
    std::vector<std::string> money;
    for (const auto& [currency, minor] : earned) money.push_back(FormatMoney(minor, currency));
    return HtmlCat(tasks, " &middot; ",
                   Escape(absl::StrFormat("%d:%02d", seconds / 3600, seconds / 60 % 60)),
                   " &middot; ", money.empty() ? Html("0") : Escape(absl::StrJoin(money, " + ")));
  }
};

// "en, sw" -> {"en", "sw"}: a form field's comma-separated words, trimmed, empty ones dropped.
std::vector<std::string> CommaList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view v : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(v));
  }
  return out;
}

}  // namespace

void WebServer::ManagerPage(Call& c, const Html& notice) {
  const Messages& m = Messages::Get();
  if (!notice.empty()) c.notice = notice;
  if (c.must_renew) {  // a code someone else issued opens only this
    Render(c, m.Text(c.lang, "manager_title"),
           HtmlCat("<p id=\"must-renew\">", Escape(m.Text(c.lang, "must_renew")),
                   "</p><form method=\"post\" action=\"/manage/managers/code\">", c.FormToken(),
                   Hidden("name", c.session.manager_name), "<button class=\"primary\">",
                   Escape(m.Text(c.lang, "choose_own_code")), "</button></form>"));
    return;
  }
  if (c.session.rep) {  // the workers' representative reads the voice in aggregate, nothing else
    Render(c, m.Text(c.lang, "voice_title"),
           HtmlCat("<p id=\"signed-in-as\">",
                   Escape(m.Text(c.lang, "signed_in_as", {{"name", c.session.manager_name}})),
                   "</p>", VoiceSection(c)));
    return;
  }
  std::vector<std::string> on_duty;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [t, s] : sessions_) {
      if (!s.manager) on_duty.push_back(s.worker);
    }
  }
  // One person signed in on two devices counts once.
  std::sort(on_duty.begin(), on_duty.end());
  on_duty.erase(std::unique(on_duty.begin(), on_duty.end()), on_duty.end());
  // The roster with each person's day so far (from the dispatcher's receipts) and, for
  // newcomers, how their paid training goes; a last row sums the centre's day.
  const int64_t day_start = centre::LocalDayStart(clock_->NowMs());
  Html body = HtmlCat(
      "<p id=\"signed-in-as\">",
      Escape(m.Text(c.lang, "signed_in_as", {{"name", c.session.manager_name}})), "</p><h2>",
      Escape(m.Text(c.lang, "roster")), "</h2><table id=\"roster\"><tr><th>",
      Escape(m.Text(c.lang, "name")), "</th><th>", Escape(m.Text(c.lang, "on_duty")), "</th><th>",
      Escape(m.Text(c.lang, "held")), "</th><th>", Escape(m.Text(c.lang, "today_totals")),
      "</th><th>", Escape(m.Text(c.lang, "training")), "</th></tr>");
  Tally centre_day;
  size_t centre_held = 0;
  const std::vector<v1::RosterEntry> roster = state_->Roster();
  for (const auto& w : roster) {
    absl::StatusOr<std::vector<v1::EarningRecord>> earned =
        state_->Earnings(w.pseudonym(), day_start);
    if (!earned.ok()) {  // the page says so, rather than show a total that leaves some out
      c.res.status = 500;
      c.res.set_content(absl::StrCat("The earnings of ", w.pseudonym(),
                                     " cannot be read: ", earned.status().ToString()),
                        "text/plain");
      return;
    }
    Tally day;
    for (const auto& e : *earned) day.Add(e);
    centre_day.Add(day);
    const size_t held = state_->HeldFor(w.pseudonym());
    centre_held += held;
    if (w.simulated()) continue;
    const bool on = std::find(on_duty.begin(), on_duty.end(), w.pseudonym()) != on_duty.end();
    Html training = Escape(m.Text(c.lang, w.training_level() > 0 ? "trained" : "newcomer"));
    if (w.training_level() == 0) {
      Tally ever;  // a newcomer's history is short
      absl::StatusOr<std::vector<v1::EarningRecord>> history = state_->Earnings(w.pseudonym(), 0);
      if (history.ok()) {
        for (const auto& e : *history) ever.Add(e);
      }
      if (ever.checks > 0) {
        training.Append("<br><small>",
                        Escape(m.Text(c.lang, "checks_right",
                                      {{"right", absl::StrCat(ever.checks_right)},
                                       {"total", absl::StrCat(ever.checks)}})),
                        "</small>");
      }
    }
    // The tick belongs to the form below the table, which acts on every ticked worker.
    const Html who =
        w.name().empty()
            ? Html("-")
            : HtmlCat("<label><input type=\"checkbox\" name=\"workers\" value=\"",
                      Escape(w.pseudonym()), "\" form=\"act\"> ", Escape(w.name()), "</label>");
    body.Append("<tr><td>", who, "<small>", Escape(w.pseudonym()), " &middot; ",
                Escape(absl::StrJoin(w.languages(), ",")),
                w.skills().empty() ? Html() : Html(" &middot; "),
                Escape(absl::StrJoin(w.skills(), ",")), "</small></td><td>",
                Escape(m.Text(c.lang, on ? "yes" : "no")), "</td><td>", held, "</td><td>",
                day.Text(), "</td><td>", training, "</td></tr>");
  }
  body.Append("<tr id=\"totals\"><th>", Escape(m.Text(c.lang, "everyone")), "</th><th>",
              on_duty.size(), "</th><th>", centre_held, "</th><th>", centre_day.Text(),
              "</th><th></th></tr></table>");
  body.Append(ActOnTicked(c));
  body.Append("<h2>", Escape(m.Text(c.lang, "add_worker")),
              "</h2><form method=\"post\" action=\"/manage/add\" id=\"add\">", c.FormToken());
  for (const char* f : {"name", "contact", "languages", "skills"}) {
    body.Append("<label>", Escape(m.Text(c.lang, f)), "<input type=\"text\" name=\"", Escape(f),
                "\"", std::string(f) == "name" ? Html(" required") : Html(),
                std::string(f) == "languages" ? Html(" value=\"en\"") : Html(), "></label>");
  }
  body.Append("<button class=\"primary\">", Escape(m.Text(c.lang, "add_worker")),
              "</button></form>");
  // Who holds what: each held task can be moved to another worker; stages can be reserved for
  // chosen workers (the others are leased none of it).
  auto name_of = [&](const std::string& pseudonym) {
    for (const auto& w : roster) {
      if (w.pseudonym() == pseudonym && !w.name().empty()) return w.name();
    }
    return pseudonym;
  };
  body.Append("<h2>", Escape(m.Text(c.lang, "work_in_hand")), "</h2><table id=\"held\"><tr><th>",
              Escape(m.Text(c.lang, "name")), "</th><th>", Escape(m.Text(c.lang, "task")),
              "</th><th>", Escape(m.Text(c.lang, "move_to")), "</th></tr>");
  // One list of people for every row (the page stays small however many tasks are held), and
  // at most kHeldRows rows.
  constexpr size_t kHeldRows = 60;
  std::set<std::string> stages_seen;
  size_t rows = 0, more = 0;
  for (const auto& w : roster) {
    for (const auto& held : state_->HeldBy(w.pseudonym())) {
      const v1::Assignment& a = held.assignment();
      stages_seen.insert(absl::StrCat(a.job_id(), "/", a.stage()));
      if (++rows > kHeldRows) {
        ++more;
        continue;
      }
      body.Append("<tr><td>", Escape(name_of(w.pseudonym())), "</td><td>", Escape(a.task_id()),
                  held.opened_at_ms() > 0 ? Html(" &#9654;") : Html(),
                  "</td><td><form method=\"post\" action=\"/manage/move\">", c.FormToken(),
                  Hidden("aid", a.assignment_id()),
                  "<input type=\"text\" name=\"to\" list=\"people\" required size=\"10\">"
                  "<button>",
                  Escape(m.Text(c.lang, "move")), "</button></form></td></tr>");
    }
  }
  if (more > 0) body.Append("<tr><td colspan=\"3\">+", more, "</td></tr>");
  body.Append("</table><datalist id=\"people\">");
  for (const auto& other : roster) {
    if (other.name().empty()) continue;
    body.Append("<option value=\"", Escape(other.pseudonym()), "\">", Escape(other.name()),
                "</option>");
  }
  body.Append("</datalist>");
  body.Append("<datalist id=\"stages\">");
  for (const auto& st : stages_seen) body.Append("<option value=\"", Escape(st), "\">");
  body.Append("</datalist>", Reservations(c, name_of));
  // Disputes waiting for a person: the worker's side beside the reason, decided with a reason.
  if (hooks_.withholdings) {
    body.Append("<h2>", Escape(m.Text(c.lang, "disputes")), "</h2><div id=\"disputes\">");
    auto withheld = hooks_.withholdings();
    int open = 0;
    if (!withheld.ok()) {
      body.Append("<p>", Escape(m.Text(c.lang, "disputes_offline")), "</p>");
    } else {
      for (const auto& w : *withheld) {
        if (w.dispute() != v1::DISPUTE_OPEN) continue;
        ++open;
        body.Append("<form method=\"post\" action=\"/manage/resolve\" class=\"card\">",
                    c.FormToken(), "<p><b>", Escape(w.worker_account()), "</b> &middot; ",
                    Escape(w.assignment_id()), "<br>", Escape(v1::WithholdReason_Name(w.reason())),
                    " &mdash; ", Escape(w.note()), " (", Escape(w.decided_by()), ")<br>&ldquo;",
                    Escape(w.worker_statement()), "&rdquo;</p>", Hidden("aid", w.assignment_id()),
                    "<label>", Escape(m.Text(c.lang, "resolution")),
                    "<input type=\"text\" name=\"resolution\" required></label>",
                    "<button name=\"restore\" value=\"1\" class=\"primary\">",
                    Escape(m.Text(c.lang, "restore_pay")),
                    "</button> <button name=\"restore\" value=\"0\">",
                    Escape(m.Text(c.lang, "uphold")), "</button></form>");
      }
      if (open == 0) body.Append("<p>", Escape(m.Text(c.lang, "no_disputes")), "</p>");
    }
    body.Append("</div>");
  }
  // Withholding an answer's pay: for a published reason only, in the name of who is signed in;
  // the worker sees it and may dispute it.
  if (hooks_.withhold) {
    Html reasons;
    for (int r = 1; r <= v1::WithholdReason_MAX; ++r) {
      if (!v1::WithholdReason_IsValid(r)) continue;
      const std::string name = v1::WithholdReason_Name(static_cast<v1::WithholdReason>(r));
      reasons.Append("<option value=\"", Escape(name), "\">",
                     Escape(m.Text(c.lang, absl::AsciiStrToLower(name))), "</option>");
    }
    body.Append("<h2>", Escape(m.Text(c.lang, "withhold_title")),
                "</h2><form method=\"post\" action=\"/manage/withhold\" id=\"withhold\">",
                c.FormToken(), "<p>", Escape(m.Text(c.lang, "withhold_help")), "</p><label>",
                Escape(m.Text(c.lang, "withhold_aid")),
                "<input type=\"text\" name=\"aid\" required></label><label>",
                Escape(m.Text(c.lang, "withhold_reason")), "<select name=\"reason\">", reasons,
                "</select></label><label>", Escape(m.Text(c.lang, "withhold_note")),
                "<input type=\"text\" name=\"note\" required></label><button>",
                Escape(m.Text(c.lang, "withhold_button")), "</button></form>");
  }
  body.Append(ReviewQueue(c, name_of), VoiceSection(c), PayoutsSection(c), ManagersSection(c));
  const centre::OutboxStats outbox = state_->Outbox();
  body.Append("<h2>", Escape(m.Text(c.lang, "outbox")), "</h2><p id=\"outbox\">",
              Escape(m.Text(c.lang, "outbox_depth", {{"n", absl::StrCat(outbox.depth)}})), "<br>",
              Escape(m.Text(c.lang, "quarantined", {{"n", absl::StrCat(outbox.quarantined)}})),
              "<br>", Escape(m.Text(c.lang, "online")), ": ",
              Escape(m.Text(c.lang, !hooks_.online || hooks_.online() ? "yes" : "no")), "</p>");
  Render(c, m.Text(c.lang, "manager_title"), body);
}

// Teams, and the stages or batches of items reserved for chosen workers or a team: the other
// workers are leased none of them. One form makes a team of the ticked workers; another reserves
// a stage, or items first..last of it, for the ticked workers and/or a team.
Html WebServer::ActOnTicked(Call& c) {
  const Messages& m = Messages::Get();
  auto field = [&](const char* label, const Html& input) {
    return HtmlCat("<label>", Escape(m.Text(c.lang, label)), input, "</label>");
  };
  auto button = [&](const char* action, const char* label) {
    return HtmlCat("<button formaction=\"/manage/", Escape(action), "\">",
                   Escape(m.Text(c.lang, label)), "</button>");
  };
  Html out = HtmlCat(
      "<h2>", Escape(m.Text(c.lang, "for_ticked")),
      "</h2><form method=\"post\" action=\"/manage/duty\" id=\"act\">", c.FormToken(),
      button("trained", "mark_trained"), button("code", "new_code"), button("forget", "forget"),
      "<p>", Escape(m.Text(c.lang, "trained_help")), "</p>",
      // On duty for given skills: the dispatcher offers the stages that ask for them.
      field("duty_skills",
            "<input type=\"text\" name=\"skills\" placeholder=\"transcribe,translate\">"),
      button("duty", "put_on_duty"),
      field("team_name", "<input type=\"text\" name=\"team_name\" placeholder=\"night-shift\">"),
      button("team", "make_team"), "<h3>", Escape(m.Text(c.lang, "reservations")), "</h3>",
      field("stage",
            "<input type=\"text\" name=\"stage\" list=\"stages\" placeholder=\"job-1/label\">"),
      field("batch_from", "<input type=\"number\" name=\"first\" min=\"0\" inputmode=\"numeric\">"),
      field("batch_to", "<input type=\"number\" name=\"last\" min=\"0\" inputmode=\"numeric\">"));
  const std::vector<v1::Team> teams = state_->Teams();
  if (!teams.empty()) {
    Html options = HtmlCat("<select name=\"team\"><option value=\"\">",
                           Escape(m.Text(c.lang, "no_team")), "</option>");
    for (const auto& t : teams) {
      options.Append("<option value=\"", Escape(t.name()), "\">", Escape(t.name()), "</option>");
    }
    out.Append(field("team", HtmlCat(options, "</select>")));
  }
  out.Append(button("reserve", "reserve"), "</form>");
  return out;
}

Html WebServer::Reservations(Call& c,
                             const std::function<std::string(const std::string&)>& name_of) {
  const Messages& m = Messages::Get();
  const std::vector<v1::Team> teams = state_->Teams();
  const std::vector<v1::StageReservation> reservations = state_->Reservations();
  if (teams.empty() && reservations.empty()) return "";
  Html out = HtmlCat("<h2>", Escape(m.Text(c.lang, "teams")), "</h2><div id=\"teams\">");
  for (const auto& t : teams) {
    std::vector<std::string> names;
    for (const auto& w : t.members()) names.push_back(name_of(w));
    out.Append("<form method=\"post\" action=\"/manage/disband\" class=\"card\">", c.FormToken(),
               "<b>", Escape(t.name()), "</b>: ", Escape(absl::StrJoin(names, ", ")), " (",
               Escape(t.made_by()), ")", Hidden("team", t.name()), " <button>",
               Escape(m.Text(c.lang, "disband")), "</button></form>");
  }
  out.Append("</div><h2>", Escape(m.Text(c.lang, "reservations")),
             "</h2><div id=\"reservations\">");
  for (const auto& r : reservations) {
    std::vector<std::string> names;
    for (const auto& w : r.workers()) names.push_back(name_of(w));
    if (!r.team().empty()) names.push_back(absl::StrCat(m.Text(c.lang, "team"), " ", r.team()));
    out.Append("<form method=\"post\" action=\"/manage/unreserve\" class=\"card\">", c.FormToken(),
               "<b>", Escape(r.stage()), "</b>",
               r.batch() ? HtmlCat(" ", Escape(m.Text(c.lang, "items",
                                                      {{"first", absl::StrCat(r.first_item())},
                                                       {"last", absl::StrCat(r.last_item())}})))
                         : "",
               ": ", Escape(absl::StrJoin(names, ", ")), " (", Escape(r.reserved_by()), ")",
               Hidden("id", centre::AgentState::ReservationId(r)), " <button>",
               Escape(m.Text(c.lang, "unreserve")), "</button></form>");
  }
  out.Append("</div>");
  return out;
}

absl::Status WebServer::ReservationAction(Call& c, const std::string& action,
                                          const std::string& by) {
  const Messages& m = Messages::Get();
  const auto& req = c.req;
  std::vector<std::string> workers;
  for (size_t i = 0; i < req.get_param_value_count("workers"); ++i) {
    workers.push_back(req.get_param_value("workers", i));
  }
  const std::string team(absl::StripAsciiWhitespace(req.get_param_value("team")));
  if (action == "unreserve") return state_->ClearReservation(req.get_param_value("id"));
  if (action == "disband") {
    MW_RETURN_IF_ERROR(state_->DisbandTeam(team));
    spdlog::info("event=web_team_disbanded team={}", team);
    return absl::OkStatus();
  }
  if (by.empty()) {  // teams and reservations say who made them
    return absl::InvalidArgumentError(
        m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "decided_by")}}));
  }
  if (action == "team") {
    v1::Team t;
    t.set_name(std::string(absl::StripAsciiWhitespace(req.get_param_value("team_name"))));
    for (auto& w : workers) t.add_members(std::move(w));
    t.set_made_by(by);
    MW_RETURN_IF_ERROR(state_->SaveTeam(t));
    spdlog::info("event=web_team_saved team={} members={} by=\"{}\"", t.name(),
                 absl::StrJoin(t.members(), ","), by);
    return absl::OkStatus();
  }
  v1::StageReservation r;
  r.set_stage(std::string(absl::StripAsciiWhitespace(req.get_param_value("stage"))));
  for (auto& w : workers) r.add_workers(std::move(w));
  r.set_team(team);
  r.set_reserved_by(by);
  // A batch needs both ends; one end alone is a mistake, not the whole stage.
  const std::string first(absl::StripAsciiWhitespace(req.get_param_value("first")));
  const std::string last(absl::StripAsciiWhitespace(req.get_param_value("last")));
  if (!first.empty() || !last.empty()) {
    uint64_t a = 0, b = 0;
    if (!absl::SimpleAtoi(first, &a) || !absl::SimpleAtoi(last, &b)) {
      return absl::InvalidArgumentError(
          absl::StrCat("items: give both the first and the last item number, got \"", first,
                       "\" and \"", last, "\""));
    }
    r.set_batch(true);
    r.set_first_item(a);
    r.set_last_item(b);
  }
  MW_RETURN_IF_ERROR(state_->Reserve(r));
  spdlog::info("event=web_reserved id={} workers={} team={} by=\"{}\"",
               centre::AgentState::ReservationId(r), absl::StrJoin(r.workers(), ","), r.team(), by);
  return absl::OkStatus();
}

// Results the vote left below their confidence target, oldest first: the item, what each worker
// answered, and a form in the stage's answer shape to decide it, with who reviews and why. The
// reviewer is paid the stage's piece rate; no one reviews a task they answered.
Html WebServer::ReviewQueue(Call& c,
                            const std::function<std::string(const std::string&)>& name_of) {
  if (!hooks_.reviews) return "";
  const Messages& m = Messages::Get();
  Html out = HtmlCat("<h2>", Escape(m.Text(c.lang, "reviews")), "</h2><div id=\"reviews\"><p>",
                     Escape(m.Text(c.lang, "reviews_help")), "</p>");
  auto list = hooks_.reviews();
  if (!list.ok()) {
    out.Append("<p>", Escape(m.Text(c.lang, "disputes_offline")), "</p></div>");
    return out;
  }
  if (list->reviews().empty()) {
    out.Append("<p>", Escape(m.Text(c.lang, "no_reviews")), "</p>");
  }
  // A few at a time keeps the page small on a phone; the rest come as these are decided. An
  // item's images and clips are shown (fetched for the manager, /manage/media/), and a shapes
  // stage is decided by drawing on the image, as its workers did.
  constexpr int kShown = 10;
  const bool media = options_.media != nullptr && hooks_.fetch_media != nullptr;
  const MediaView view{.phone = options_.phone,
                       .replay = m.Text(c.lang, "clip_replay"),
                       .slower = m.Text(c.lang, "clip_slower"),
                       .prefix = "/manage/media/"};
  for (int i = 0; i < list->reviews_size() && i < kShown; ++i) {
    const v1::Review& r = list->reviews(i);
    const v1::StageSpec* spec = nullptr;
    for (const auto& s : list->specs()) {
      if (s.job_id() == r.job_id() && s.stage() == r.stage()) spec = &s;
    }
    if (spec == nullptr) continue;
    out.Append(
        "<form method=\"post\" action=\"/manage/review\" class=\"card\">", c.FormToken(), "<p><b>",
        Escape(r.task_id()), "</b> &middot; ",
        Escape(m.Text(c.lang, "confidence",
                      {{"percent", absl::StrCat(static_cast<int>(r.confidence() * 100 + 0.5))}})),
        "</p>", ItemFields(spec->human(), r.item(), media ? &view : nullptr));
    out.Append("<p>", Escape(m.Text(c.lang, "answers_given")), "<br>");
    for (int j = 0; j < r.workers_size() && j < r.labels_size(); ++j) {
      out.Append(Escape(name_of(r.workers(j))), ": <i>", Escape(r.labels(j)), "</i><br>");
    }
    out.Append("</p>", Hidden("task", r.task_id()),
               AnswerFields(spec->human().answer(), r.item(), m, c.lang, media ? &view : nullptr),
               "<label>", Escape(m.Text(c.lang, "reviewer")),
               "<input type=\"text\" name=\"reviewer\" list=\"people\" required></label><label>",
               Escape(m.Text(c.lang, "resolution")),
               "<input type=\"text\" name=\"reason\" required></label><button "
               "class=\"primary\">",
               Escape(m.Text(c.lang, "decide")), "</button></form>");
  }
  if (list->reviews_size() > kShown) {
    out.Append("<p>+", list->reviews_size() - kShown, "</p>");
  }
  out.Append("</div>");
  return out;
}

absl::Status WebServer::DecideReview(Call& c) {
  const Messages& m = Messages::Get();
  v1::DecideReviewRequest r;
  r.set_task_id(c.req.get_param_value("task"));
  r.set_reviewer(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("reviewer"))));
  r.set_reason(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("reason"))));
  if (r.reviewer().empty()) {
    return absl::InvalidArgumentError(
        m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "reviewer")}}));
  }
  if (r.reason().empty()) {
    return absl::InvalidArgumentError(
        m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "resolution")}}));
  }
  if (!state_->Worker(r.reviewer()).has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("reviewer: no worker ", r.reviewer(), " here"));
  }
  if (!hooks_.reviews || !hooks_.decide_review) {
    return absl::UnavailableError(m.Text(c.lang, "disputes_offline"));
  }
  // The stage's answer shape comes from the dispatcher's list, not from the form.
  auto list = hooks_.reviews();
  if (!list.ok()) return absl::UnavailableError(m.Text(c.lang, "disputes_offline"));
  const v1::Review* review = nullptr;
  for (const auto& open : list->reviews()) {
    if (open.task_id() == r.task_id()) review = &open;
  }
  if (review == nullptr) {
    return absl::NotFoundError(absl::StrCat("task ", r.task_id(), " is not waiting for review"));
  }
  for (const auto& spec : list->specs()) {
    if (spec.job_id() != review->job_id() || spec.stage() != review->stage()) continue;
    MW_ASSIGN_OR_RETURN(v1::Answer answer,
                        ParseAnswer(c.req, spec.human().answer(), review->item()));
    // A text decision keeps the words as written; the others travel as their label.
    r.set_label(answer.has_text() ? answer.text() : dispatch::AnswerLabel(answer));
  }
  r.set_manager(c.session.manager_name);
  r.set_idempotency_key(DecisionKey(r));
  MW_ASSIGN_OR_RETURN(v1::Review decided, hooks_.decide_review(r));
  spdlog::info("event=web_review_decided task={} reviewer={} label=\"{}\"", decided.task_id(),
               decided.reviewer(), decided.label());
  return absl::OkStatus();
}

void WebServer::ManagerAction(Call& c, const std::string& action) {
  const Messages& m = Messages::Get();
  auto error = [&](const std::string& text) {
    c.res.status = 400;
    ManagerPage(c, HtmlCat("<p class=\"notice error\" id=\"error\">", Escape(text), "</p>"));
  };
  if (action == "withhold") {
    v1::WithholdWageRequest r;
    r.set_assignment_id(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("aid"))));
    r.set_note(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("note"))));
    r.set_decided_by(c.session.manager_name);  // who is signed in, never a name typed
    v1::WithholdReason reason = v1::WITHHOLD_REASON_UNSPECIFIED;
    if (!v1::WithholdReason_Parse(c.req.get_param_value("reason"), &reason) ||
        reason == v1::WITHHOLD_REASON_UNSPECIFIED) {
      return error(
          m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "withhold_reason")}}));
    }
    r.set_reason(reason);
    if (r.assignment_id().empty() || r.note().empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "withhold_note")}}));
    }
    r.set_idempotency_key(DecisionKey(r));
    if (!hooks_.withhold) return error(m.Text(c.lang, "disputes_offline"));
    auto withheld = hooks_.withhold(r);
    if (!withheld.ok()) return error(std::string(withheld.status().message()));
    spdlog::info("event=web_wage_withheld assignment={} by={}", r.assignment_id(), r.decided_by());
    return ManagerPage(c, HtmlCat("<p class=\"notice\" id=\"notice\">",
                                  Escape(m.Text(c.lang, "withheld")), "</p>"));
  }
  if (action == "resolve") {
    v1::ResolveDisputeRequest r;
    r.set_assignment_id(c.req.get_param_value("aid"));
    r.set_decided_by(c.session.manager_name);  // who is signed in, never a name typed
    r.set_resolution(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("resolution"))));
    r.set_restore(c.req.get_param_value("restore") == "1");
    r.set_idempotency_key(DecisionKey(r));
    if (r.decided_by().empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "decided_by")}}));
    }
    if (r.resolution().empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "resolution")}}));
    }
    if (!hooks_.resolve) return error(m.Text(c.lang, "disputes_offline"));
    if (absl::Status s = hooks_.resolve(r); !s.ok()) return error(std::string(s.message()));
    spdlog::info("event=web_dispute_resolved assignment={} restore={}", r.assignment_id(),
                 r.restore());
    return ManagerPage(c, HtmlCat("<p class=\"notice\" id=\"notice\">",
                                  Escape(m.Text(c.lang, "dispute_decided")), "</p>"));
  }
  auto done = [&](const std::string& key) {
    return ManagerPage(
        c, HtmlCat("<p class=\"notice\" id=\"notice\">", Escape(m.Text(c.lang, key)), "</p>"));
  };
  if (action == "review") {
    if (absl::Status s = DecideReview(c); !s.ok()) return error(std::string(s.message()));
    return done("review_decided");
  }
  const std::string& by = c.session.manager_name;  // every decision names who is signed in
  if (action == "move") {
    v1::ReassignRequest r;
    r.set_assignment_id(c.req.get_param_value("aid"));
    r.set_to_worker(c.req.get_param_value("to"));
    r.set_decided_by(by);
    r.set_idempotency_key(DecisionKey(r));
    if (by.empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "decided_by")}}));
    }
    if (!hooks_.reassign) return error(m.Text(c.lang, "disputes_offline"));
    auto moved = hooks_.reassign(r);
    if (!moved.ok()) return error(std::string(moved.status().message()));
    if (absl::Status s = state_->MoveAssignment(r.assignment_id(), *moved); !s.ok()) {
      return error(std::string(s.message()));
    }
    if (hooks_.answer_saved) hooks_.answer_saved();  // the first worker's buffer refills
    spdlog::info("event=web_task_moved assignment={} to={} by=\"{}\"", r.assignment_id(),
                 r.to_worker(), by);
    return done("moved");
  }
  if (action == "reserve" || action == "unreserve" || action == "team" || action == "disband") {
    if (absl::Status s = ReservationAction(c, action, by); !s.ok()) {
      return error(std::string(s.message()));
    }
    return done(action == "reserve"     ? "reserved"
                : action == "unreserve" ? "unreserved"
                : action == "team"      ? "team_made"
                                        : "team_disbanded");
  }
  std::vector<std::string> ticked;
  for (size_t i = 0; i < c.req.get_param_value_count("workers"); ++i) {
    ticked.push_back(c.req.get_param_value("workers", i));
  }
  if (c.req.has_param("worker")) ticked.push_back(c.req.get_param_value("worker"));
  if (action == "add") {
    v1::RosterEntry e;
    e.set_name(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("name"))));
    e.set_contact(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("contact"))));
    if (e.name().empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "name")}}));
    }
    for (auto& l : CommaList(c.req.get_param_value("languages"))) e.add_languages(std::move(l));
    for (auto& k : CommaList(c.req.get_param_value("skills"))) e.add_skills(std::move(k));
    auto added = state_->AddWorker(e);
    if (!added.ok()) return error(std::string(added.status().message()));
    ticked = {added->pseudonym()};
    if (hooks_.roster_changed) hooks_.roster_changed();
    spdlog::info("event=web_worker_added worker={}", added->pseudonym());
  }
  // Every ticked name is checked before anything changes.
  if (ticked.empty()) return error("workers: tick at least one");
  std::vector<v1::RosterEntry> workers;
  for (const auto& p : ticked) {
    auto worker = state_->Worker(p);
    if (!worker.has_value()) return error(absl::StrCat("worker: no worker ", p));
    workers.push_back(*std::move(worker));
  }
  if (action == "duty") {
    const std::vector<std::string> skills = CommaList(c.req.get_param_value("skills"));
    for (const auto& w : workers) {
      if (absl::Status s = state_->SetSkills(w.pseudonym(), skills); !s.ok()) {
        return error(std::string(s.message()));
      }
      spdlog::info("event=web_worker_skills worker={} skills={}", w.pseudonym(),
                   absl::StrJoin(skills, ","));
    }
    if (hooks_.roster_changed) hooks_.roster_changed();  // the dispatcher hears at once
    return done("duty_set");
  }
  if (action == "forget") {
    for (const auto& w : workers) {
      const std::string& pseudonym = w.pseudonym();
      if (absl::Status s = state_->ForgetWorker(pseudonym); !s.ok()) {
        return error(std::string(s.message()));
      }
      EndSessions(pseudonym);
      if (hooks_.set_on_duty) hooks_.set_on_duty(pseudonym, false);
      spdlog::info("event=web_worker_forgotten worker={}", pseudonym);
    }
    return done("forgotten");
  }
  if (action == "trained") {
    for (const auto& w : workers) {
      if (absl::Status s = state_->SetTrainingLevel(w.pseudonym(), 1); !s.ok()) {
        return error(std::string(s.message()));
      }
      spdlog::info("event=web_worker_trained worker={}", w.pseudonym());
    }
    if (hooks_.roster_changed) hooks_.roster_changed();  // the dispatcher hears at once
    return done("marked_trained");
  }
  // A new sign-in code for each: shown once, here.
  Html codes = "<p class=\"notice\" id=\"notice\">";
  for (const auto& w : workers) {
    auto code = state_->IssueSignInCode(w.pseudonym());
    if (!code.ok()) return error(std::string(code.status().message()));
    EndSessions(w.pseudonym());  // a new code is for a lost or shared one: sign in again
    spdlog::info("event=web_new_code worker={}", w.pseudonym());
    codes.Append(Escape(m.Text(c.lang, "code_for", {{"name", w.name()}})), " <b ",
                 workers.size() == 1 ? Html("id") : Html("class"), "=\"code\">", Escape(*code),
                 "</b><br>");
  }
  ManagerPage(c, HtmlCat(codes, Escape(m.Text(c.lang, "code_once")), "</p>"));
}

// The centre's managers: each signs in with their own code, and every decision on this page
// names the one signed in. Any manager adds one (the code is shown once, here), gives one a new
// code (ending their sessions) or revokes one (never themself).
Html WebServer::ManagersSection(Call& c) {
  const Messages& m = Messages::Get();
  Html out = HtmlCat("<h2>", Escape(m.Text(c.lang, "managers")), "</h2><div id=\"managers\">");
  for (const v1::CentreManager& mgr : state_->Managers()) {
    out.Append("<form method=\"post\" class=\"card\">", c.FormToken(), "<b>", Escape(mgr.name()),
               "</b> &middot; ");
    if (mgr.role() == v1::CENTRE_ROLE_WORKER_REP) {
      out.Append(Escape(m.Text(c.lang, "role_rep")), " &middot; ");
    }
    out.Append(Escape(m.Text(c.lang, "added_by", {{"name", mgr.added_by()}})));
    if (mgr.revoked()) {
      out.Append(" &middot; ", Escape(m.Text(c.lang, "revoked_by", {{"name", mgr.revoked_by()}})));
    } else {
      // Only the installation's manager gives somebody else a code; anyone renews their own.
      if (mgr.name() == c.session.manager_name ||
          c.session.manager_name == centre::ManagerBook::kInstallationManager) {
        out.Append(" <button formaction=\"/manage/managers/code\">",
                   Escape(m.Text(c.lang, "new_code")), "</button>");
      }
      if (mgr.name() != c.session.manager_name) {
        out.Append(" <button formaction=\"/manage/managers/revoke\">",
                   Escape(m.Text(c.lang, "revoke")), "</button>");
      }
    }
    out.Append(Hidden("name", mgr.name()), "</form>");
  }
  out.Append("<form method=\"post\" action=\"/manage/managers/add\">", c.FormToken(), "<label>",
             Escape(m.Text(c.lang, "name")),
             "<input type=\"text\" name=\"name\" required maxlength=\"40\" "
             "autocomplete=\"off\"></label><label>",
             Escape(m.Text(c.lang, "role")), "<select name=\"role\"><option value=\"manager\">",
             Escape(m.Text(c.lang, "role_manager")), "</option><option value=\"rep\">",
             Escape(m.Text(c.lang, "role_rep")), "</option></select></label><button>",
             Escape(m.Text(c.lang, "add_manager")), "</button></form></div>");
  return out;
}

void WebServer::ManagerAccountAction(Call& c, const std::string& action) {
  const Messages& m = Messages::Get();
  const std::string name(absl::StripAsciiWhitespace(c.req.get_param_value("name")));
  const std::string& by = c.session.manager_name;
  absl::StatusOr<std::string> code = absl::UnknownError("");
  if (action == "revoke") {
    if (absl::Status s = state_->RevokeManager(name, by); !s.ok()) {
      c.res.status = 400;
      return ManagerPage(
          c, HtmlCat("<p class=\"notice error\" id=\"error\">", Escape(s.message()), "</p>"));
    }
    EndManagerSessions(absl::AsciiStrToLower(name));
    spdlog::info("event=web_manager_revoked manager={} by={}", name, by);
    return ManagerPage(c, HtmlCat("<p class=\"notice\" id=\"notice\">",
                                  Escape(m.Text(c.lang, "manager_revoked")), "</p>"));
  }
  const bool own = absl::AsciiStrToLower(name) == by;
  if (action == "code" && !own && by != centre::ManagerBook::kInstallationManager) {
    c.res.status = 403;
    return ManagerPage(c, HtmlCat("<p class=\"notice error\" id=\"error\">",
                                  Escape(m.Text(c.lang, "only_installation_codes")), "</p>"));
  }
  const v1::CentreRole role =
      c.req.get_param_value("role") == "rep" ? v1::CENTRE_ROLE_WORKER_REP : v1::CENTRE_ROLE_MANAGER;
  code = action == "add" ? state_->AddManager(name, by, role) : state_->NewManagerCode(name, by);
  if (!code.ok()) {
    c.res.status = 400;
    return ManagerPage(c, HtmlCat("<p class=\"notice error\" id=\"error\">",
                                  Escape(code.status().message()), "</p>"));
  }
  if (action == "code") EndManagerSessions(absl::AsciiStrToLower(name));
  spdlog::info("event=web_manager_code manager={} by={} new={}", name, by, action == "add");
  const Html shown = HtmlCat("<p class=\"notice\" id=\"notice\">",
                             Escape(m.Text(c.lang, "code_for", {{"name", name}})),
                             " <b id=\"code\">", Escape(*code), "</b><br>",
                             Escape(m.Text(c.lang, own ? "own_code_once" : "code_once")), "</p>");
  if (own) {  // this session was opened with the old code: it is over; sign in with the new one
    c.signed_in = false;
    Render(
        c, m.Text(c.lang, "manager_title"),
        HtmlCat(shown, "<p><a href=\"/signin\">", Escape(m.Text(c.lang, "sign_in")), "</a></p>"));
    return;
  }
  ManagerPage(c, shown);
}

}  // namespace mw::agent::web
