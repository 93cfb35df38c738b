// The workers' voice on the pages (issue 24): a worker rates the jobs they worked on and files
// complaints (/voice), flags the task in front of them (/task/flag); a manager answers
// complaints and sees flags and ratings (a section of /manage); the workers' representative sees
// the same in aggregate only. Ratings are shown only for groups of at least five raters
// (engine/record/voice.h); nobody but the worker and the managers sees a complaint's words
// before it escalates, and nobody sees who flagged or rated what.
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/common/ids.h"
#include "engine/record/voice.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/page_parts.h"
#include "worker-agent/web/web_server.h"

namespace mw::agent::web {

namespace {

constexpr size_t kJobsToRate = 10;       // the worker's most recent jobs
constexpr int64_t kRateWindowDays = 90;  // jobs worked on in this many days can be rated
constexpr size_t kAnsweredShown = 10;    // answered complaints on the manager's page
constexpr size_t kFlagsShown = 20;
constexpr const char* kScales[] = {"clarity", "time_estimate", "pay_fairness"};
constexpr v1::ComplaintTopic kTopics[] = {v1::COMPLAINT_PAY, v1::COMPLAINT_TREATMENT,
                                          v1::COMPLAINT_SAFETY, v1::COMPLAINT_DATA};

std::string TopicText(const Messages& m, const std::string& lang, v1::ComplaintTopic t) {
  return m.Text(lang, absl::StrCat("topic_", voice::TopicName(t)));
}

// "4 days" or "5 hours": how long a complaint has waited.
std::string Age(const Messages& m, const std::string& lang, int64_t now_ms, int64_t then_ms) {
  const int64_t hours = std::max<int64_t>(0, now_ms - then_ms) / 3'600'000;
  return hours < 48 ? m.Text(lang, "age_hours", {{"n", absl::StrCat(hours)}})
                    : m.Text(lang, "age_days", {{"n", absl::StrCat(hours / 24)}});
}

// One summary's means, as a line: "clarity 4.2 · time 3.0 · pay 2.5 (7 workers)".
Html SummaryLine(const Messages& m, const std::string& lang, const v1::RatingSummary& s) {
  return Escape(m.Text(lang, "rating_line",
                       {{"clarity", voice::OneDecimal(s.clarity())},
                        {"time", voice::OneDecimal(s.time_estimate())},
                        {"pay", voice::OneDecimal(s.pay_fairness())},
                        {"n", absl::StrCat(s.raters())}}));
}

// The summaries as a list, each with its sorted comments.
Html SummaryList(const Messages& m, const std::string& lang, const char* id,
                 const std::vector<v1::RatingSummary>& list) {
  Html out = HtmlCat("<ul id=\"", Escape(id), "\">");
  for (const auto& s : list) {
    out.Append("<li><b>", Escape(s.job_id().empty() ? s.client() : s.job_id()), "</b> ");
    if (!s.job_id().empty() && !s.client().empty()) out.Append("(", Escape(s.client()), ") ");
    out.Append(SummaryLine(m, lang, s));
    for (const auto& comment : s.comments()) out.Append("<br><q>", Escape(comment), "</q>");
    out.Append("</li>");
  }
  return HtmlCat(out, "</ul>");
}

// The job an earning is from ("" for one whose task id does not parse).
std::string JobOf(const v1::EarningRecord& e) {
  auto ref = ParseTaskId(e.task_id());
  return ref.ok() ? ref->job_id : "";
}

}  // namespace

Html WebServer::ClientRating(const Call& c, const std::string& client) const {
  if (client.empty()) return "";
  std::optional<v1::RatingSummary> s = state_->voice().ClientSummary(client);
  if (!s.has_value()) return "";
  const Messages& m = Messages::Get();
  return HtmlCat("<p id=\"client-rating\">",
                 Escape(m.Text(c.lang, "client_rated", {{"client", client}})), "<br>",
                 SummaryLine(m, c.lang, *s), "</p>");
}

void WebServer::VoicePage(Call& c) {
  const Messages& m = Messages::Get();
  const std::string& worker = c.session.worker;
  const int64_t now = clock_->NowMs();
  Html body = HtmlCat("<p>", Escape(m.Text(c.lang, "voice_help")), "</p>");

  // The jobs they worked on lately, most recent first, each with its rating form.
  absl::StatusOr<std::vector<v1::EarningRecord>> earned =
      state_->Earnings(worker, now - kRateWindowDays * 86'400'000);
  if (!earned.ok()) {
    RecordUnreadable(c, earned.status());
    return;
  }
  std::vector<std::string> jobs;
  for (auto it = earned->rbegin(); it != earned->rend() && jobs.size() < kJobsToRate; ++it) {
    const std::string job = JobOf(*it);
    if (!job.empty() && std::find(jobs.begin(), jobs.end(), job) == jobs.end()) {
      jobs.push_back(job);
    }
  }
  body.Append("<h2>", Escape(m.Text(c.lang, "rate_title")), "</h2><p>",
              Escape(m.Text(c.lang, "rate_help", {{"n", absl::StrCat(voice::kMinRaters)}})),
              "</p>");
  if (jobs.empty()) body.Append("<p id=\"no-jobs\">", Escape(m.Text(c.lang, "rate_none")), "</p>");
  for (const std::string& job : jobs) {
    const std::optional<v1::WorkRating> mine = state_->voice().RatingOf(worker, job);
    const std::optional<v1::RatingSummary> others = state_->voice().JobSummary(job);
    if (mine.has_value()) {  // given once: shown, not asked again
      body.Append("<div class=\"card\" id=\"rate-", Escape(job), "\"><h3>", Escape(job),
                  "</h3><p class=\"done\">",
                  Escape(m.Text(c.lang, "your_rating",
                                {{"clarity", absl::StrCat(mine->clarity())},
                                 {"time", absl::StrCat(mine->time_estimate())},
                                 {"pay", absl::StrCat(mine->pay_fairness())}})),
                  "</p>");
      if (!mine->comment().empty()) body.Append("<q>", Escape(mine->comment()), "</q>");
      body.Append("<p><small>", Escape(m.Text(c.lang, "rated_already")), "</small></p>");
      if (others.has_value()) body.Append("<p>", SummaryLine(m, c.lang, *others), "</p>");
      body.Append("</div>");
      continue;
    }
    body.Append("<form method=\"post\" action=\"/voice/rate\" class=\"card\" id=\"rate-",
                Escape(job), "\">", c.FormToken(), Hidden("job", job), "<h3>", Escape(job),
                "</h3>");
    if (others.has_value()) body.Append("<p>", SummaryLine(m, c.lang, *others), "</p>");
    for (const char* scale : kScales) {
      body.Append("<fieldset class=\"scale\"><legend>",
                  Escape(m.Text(c.lang, absl::StrCat("scale_", scale))), "</legend>");
      for (uint32_t v = 1; v <= 5; ++v) {
        body.Append("<label><input type=\"radio\" name=\"", Escape(scale), "\" value=\"", v,
                    "\" required> ", v, "</label>");
      }
      body.Append("<small>", Escape(m.Text(c.lang, absl::StrCat("scale_", scale, "_ends"))),
                  "</small></fieldset>");
    }
    body.Append("<label>", Escape(m.Text(c.lang, "comment")),
                "<textarea name=\"comment\" rows=\"2\" maxlength=\"", voice::kMaxNoteChars,
                "\"></textarea></label><button>", Escape(m.Text(c.lang, "send_rating")),
                "</button></form>");
  }

  // How the workers of every centre rated clients (groups of five or more).
  const std::vector<v1::RatingSummary> clients = state_->voice().ClientSummaries();
  if (!clients.empty()) {
    body.Append("<h2>", Escape(m.Text(c.lang, "clients_rated")), "</h2>",
                SummaryList(m, c.lang, "client-ratings", clients));
  }

  // Complaints: a new one, then theirs with the answers.
  body.Append("<h2>", Escape(m.Text(c.lang, "complaints_title")), "</h2><p>",
              Escape(m.Text(c.lang, "complaint_help")),
              "</p><form method=\"post\" action=\"/voice/complain\" id=\"complain\">",
              c.FormToken(), "<label for=\"topic\">", Escape(m.Text(c.lang, "topic")),
              "</label><select name=\"topic\" id=\"topic\">");
  for (v1::ComplaintTopic t : kTopics) {
    body.Append("<option value=\"", static_cast<int>(t), "\">", Escape(TopicText(m, c.lang, t)),
                "</option>");
  }
  body.Append("</select><label>", Escape(m.Text(c.lang, "complaint_text")),
              "<textarea name=\"text\" id=\"complaint-text\" rows=\"4\" required maxlength=\"",
              voice::kMaxComplaintChars, "\"></textarea></label><button class=\"primary\">",
              Escape(m.Text(c.lang, "send_complaint")), "</button></form>");
  const std::vector<v1::Complaint> mine = state_->voice().ComplaintsOf(worker);
  body.Append("<div id=\"my-complaints\">");
  for (const v1::Complaint& k : mine) {
    body.Append("<div class=\"card\" id=\"complaint-", Escape(k.id()), "\"><b>#", Escape(k.id()),
                " &middot; ", Escape(TopicText(m, c.lang, k.topic())), "</b> &middot; ",
                Escape(LocalDate(c.lang, k.filed_at_ms())), "<br><q>", Escape(k.text()),
                "</q><br>");
    if (k.answered()) {
      body.Append("<span class=\"answer\">",
                  Escape(m.Text(c.lang, "complaint_answered",
                                {{"name", k.answered_by()},
                                 {"date", LocalDate(c.lang, k.answered_at_ms())}})),
                  "</span><br><q class=\"answer-text\">", Escape(k.answer()), "</q>");
    } else {
      body.Append("<span class=\"waiting\">",
                  Escape(m.Text(c.lang, k.escalated() ? "complaint_escalated" : "complaint_open",
                                {{"age", Age(m, c.lang, now, k.filed_at_ms())}})),
                  "</span>");
    }
    body.Append("</div>");
  }
  body.Append("</div>");
  Render(c, m.Text(c.lang, "voice_title"), body);
}

void WebServer::Refused(Call& c, const std::string& why, int status) {
  c.res.status = status;
  c.notice = HtmlCat("<p class=\"notice error\" id=\"error\">",
                     Escape(Messages::Get().Text(c.lang, why)), "</p>");
  VoicePage(c);
}

void WebServer::Rate(Call& c) {
  const std::string job = c.req.get_param_value("job");
  v1::WorkRating r;
  r.set_job_id(job);
  r.set_worker(c.session.worker);
  r.set_comment(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("comment"))));
  uint32_t v[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) (void)absl::SimpleAtoi(c.req.get_param_value(kScales[i]), &v[i]);
  r.set_clarity(v[0]);
  r.set_time_estimate(v[1]);
  r.set_pay_fairness(v[2]);
  // Only a job of theirs: one they were paid for on this centre's records.
  absl::StatusOr<std::vector<v1::EarningRecord>> earned = state_->Earnings(c.session.worker, 0);
  const bool theirs = earned.ok() && std::any_of(earned->begin(), earned->end(),
                                                 [&](const auto& e) { return JobOf(e) == job; });
  absl::Status s = theirs ? state_->voice().Rate(r, clock_->NowMs())
                          : absl::InvalidArgumentError("job: not a job you worked on here");
  if (!s.ok()) {
    spdlog::info("event=rating_refused job={} why=\"{}\"", job, std::string(s.message()));
    return Refused(c, !theirs                    ? "rating_not_yours"
                      : absl::IsAlreadyExists(s) ? "rated_already"
                                                 : "rating_invalid");
  }
  if (hooks_.answer_saved) hooks_.answer_saved();  // the sync loop shares it soon
  c.Redirect("/voice?notice=rating_saved");
}

void WebServer::Complain(Call& c) {
  int topic = 0;
  (void)absl::SimpleAtoi(c.req.get_param_value("topic"), &topic);
  const std::string text(absl::StripAsciiWhitespace(c.req.get_param_value("text")));
  absl::StatusOr<v1::Complaint> filed = state_->voice().File(
      c.session.worker, static_cast<v1::ComplaintTopic>(topic), text, clock_->NowMs());
  if (!filed.ok()) {
    const bool too_many = absl::IsResourceExhausted(filed.status());
    return Refused(c, too_many ? "complaints_too_many" : "complaint_invalid", too_many ? 429 : 400);
  }
  spdlog::info("event=complaint_filed id={} topic={}", filed->id(),
               voice::TopicName(filed->topic()));
  if (hooks_.answer_saved) hooks_.answer_saved();
  c.Redirect("/voice?notice=complaint_sent");
}

void WebServer::FlagTask(Call& c) {
  const std::string aid = FormValue(c.req, "aid");
  // Only a task the worker holds now (the one on their screen).
  std::optional<v1::Assignment> held;
  for (const auto& a : state_->HeldBy(c.session.worker)) {
    if (a.assignment().assignment_id() == aid) held = a.assignment();
  }
  int kind = 0;
  (void)absl::SimpleAtoi(FormValue(c.req, "kind"), &kind);
  v1::TaskFlag f;
  f.set_task_id(held.has_value() ? held->task_id() : "");
  f.set_kind(static_cast<v1::FlagKind>(kind));
  f.set_note(std::string(absl::StripAsciiWhitespace(FormValue(c.req, "note"))));
  f.set_worker(c.session.worker);
  absl::Status s = held.has_value() ? state_->voice().Flag(f, clock_->NowMs())
                                    : absl::InvalidArgumentError("aid: not a task you hold");
  if (!s.ok()) {
    c.res.status = 400;
    c.notice = HtmlCat(
        "<p class=\"notice error\" id=\"error\">",
        Escape(Messages::Get().Text(c.lang, held.has_value() ? "flag_invalid" : "task_gone")),
        "</p>");
    return TaskPage(c);
  }
  spdlog::info("event=task_flagged task={} kind={}", f.task_id(), voice::FlagName(f.kind()));
  if (hooks_.answer_saved) hooks_.answer_saved();
  c.Redirect("/task?notice=flag_saved");
}

Html WebServer::VoiceSection(Call& c) {
  const Messages& m = Messages::Get();
  const int64_t now = clock_->NowMs();
  const bool rep = c.session.rep;
  const std::vector<v1::Complaint> all = state_->voice().Complaints();
  Html out = HtmlCat("<h2>", Escape(m.Text(c.lang, "voice_title")), "</h2><div id=\"voice\">");

  // Complaints: the representative sees counts per topic and the oldest open one's age; a
  // manager sees each open one with its words and answers it.
  std::map<v1::ComplaintTopic, std::pair<int, int>> by_topic;  // open, answered
  int64_t oldest_open = 0;
  for (const auto& k : all) {
    auto& [open, answered] = by_topic[k.topic()];
    (k.answered() ? answered : open) += 1;
    if (!k.answered() && (oldest_open == 0 || k.filed_at_ms() < oldest_open)) {
      oldest_open = k.filed_at_ms();
    }
  }
  out.Append("<h3>", Escape(m.Text(c.lang, "complaints_title")),
             "</h3><table id=\"complaint-counts\"><tr><th>", Escape(m.Text(c.lang, "topic")),
             "</th><th>", Escape(m.Text(c.lang, "open")), "</th><th>",
             Escape(m.Text(c.lang, "answered")), "</th></tr>");
  for (v1::ComplaintTopic t : kTopics) {
    out.Append("<tr><td>", Escape(TopicText(m, c.lang, t)), "</td><td>", by_topic[t].first,
               "</td><td>", by_topic[t].second, "</td></tr>");
  }
  out.Append("</table>");
  if (oldest_open > 0) {
    out.Append("<p id=\"oldest-open\">",
               Escape(m.Text(c.lang, "oldest_open", {{"age", Age(m, c.lang, now, oldest_open)}})),
               "</p>");
  }
  if (!rep) {
    size_t answered_shown = 0;
    out.Append("<div id=\"complaints\">");
    for (const auto& k : all) {
      if (k.answered() && answered_shown++ >= kAnsweredShown) continue;
      out.Append("<div class=\"card\" id=\"complaint-", Escape(k.id()), "\"><b>#", Escape(k.id()),
                 " &middot; ", Escape(TopicText(m, c.lang, k.topic())), "</b> &middot; ",
                 Escape(LocalDate(c.lang, k.filed_at_ms())));
      if (!k.answered()) {
        out.Append(" &middot; <span class=\"age\">",
                   Escape(m.Text(c.lang, k.escalated() ? "complaint_escalated" : "complaint_open",
                                 {{"age", Age(m, c.lang, now, k.filed_at_ms())}})),
                   "</span>");
      }
      out.Append("<br><q>", Escape(k.text()), "</q>");
      if (k.answered()) {
        out.Append("<br>",
                   Escape(m.Text(c.lang, "complaint_answered",
                                 {{"name", k.answered_by()},
                                  {"date", LocalDate(c.lang, k.answered_at_ms())}})),
                   "<br><q>", Escape(k.answer()), "</q>");
      } else {
        out.Append("<form method=\"post\" action=\"/manage/complaint\">", c.FormToken(),
                   Hidden("id", k.id()), "<label>", Escape(m.Text(c.lang, "your_answer")),
                   "<textarea name=\"answer\" rows=\"3\" required maxlength=\"",
                   voice::kMaxComplaintChars, "\"></textarea></label><button>",
                   Escape(m.Text(c.lang, "send_answer")), "</button></form>");
      }
      out.Append("</div>");
    }
    out.Append("</div>");

    // Flags on tasks, newest first, without who flagged them.
    const std::vector<v1::TaskFlag> flags = state_->voice().Flags();
    out.Append("<h3>", Escape(m.Text(c.lang, "flags_title")), "</h3><ul id=\"flags\">");
    for (size_t i = 0; i < flags.size() && i < kFlagsShown; ++i) {
      // The stage, not the item: managers know who held which task.
      const std::string& task = flags[i].task_id();
      out.Append("<li>", Escape(task.substr(0, task.rfind('/'))), " &middot; ",
                 Escape(m.Text(c.lang, absl::StrCat("flag_", voice::FlagName(flags[i].kind())))),
                 flags[i].note().empty()
                     ? Html()
                     : HtmlCat(" &middot; <q>", Escape(flags[i].note()), "</q>"),
                 "</li>");
    }
    if (flags.empty()) out.Append("<li>", Escape(m.Text(c.lang, "flags_none")), "</li>");
    out.Append("</ul>");
  }

  // Ratings: this centre's per job, then every centre's per client, five raters or more.
  const std::vector<v1::WorkRating> here = state_->voice().Ratings();
  const std::vector<v1::RatingSummary> jobs = voice::Summarise(here, voice::By::kJob);
  std::set<std::string> rated_jobs;
  for (const auto& r : here) rated_jobs.insert(r.job_id());
  out.Append("<h3>", Escape(m.Text(c.lang, "ratings_here")), "</h3>",
             SummaryList(m, c.lang, "job-ratings", jobs));
  if (rated_jobs.size() > jobs.size()) {
    out.Append("<p id=\"ratings-hidden\">",
               Escape(m.Text(c.lang, "ratings_hidden",
                             {{"jobs", absl::StrCat(rated_jobs.size() - jobs.size())},
                              {"n", absl::StrCat(voice::kMinRaters)}})),
               "</p>");
  }
  const std::vector<v1::RatingSummary> clients = state_->voice().ClientSummaries();
  if (!clients.empty()) {
    out.Append("<h3>", Escape(m.Text(c.lang, "clients_rated")), "</h3>",
               SummaryList(m, c.lang, "client-ratings", clients));
  }
  return HtmlCat(out, "</div>");
}

void WebServer::AnswerComplaint(Call& c) {
  const Messages& m = Messages::Get();
  const std::string id = c.req.get_param_value("id");
  const std::string answer(absl::StripAsciiWhitespace(c.req.get_param_value("answer")));
  absl::StatusOr<v1::Complaint> done =
      state_->voice().Answer(id, answer, c.session.manager_name, clock_->NowMs());
  if (!done.ok()) {
    c.res.status = done.status().code() == absl::StatusCode::kNotFound ? 404 : 400;
    return ManagerPage(c, HtmlCat("<p class=\"notice error\" id=\"error\">",
                                  Escape(done.status().message()), "</p>"));
  }
  spdlog::info("event=complaint_answered id={} by={}", id, c.session.manager_name);
  if (hooks_.answer_saved) hooks_.answer_saved();
  ManagerPage(c, HtmlCat("<p class=\"notice\" id=\"notice\">",
                         Escape(m.Text(c.lang, "complaint_answer_saved")), "</p>"));
}

}  // namespace mw::agent::web
