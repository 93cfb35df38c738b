#include "worker-agent/web/web_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/ids.h"
#include "engine/common/money.h"
#include "engine/common/sha256.h"
#include "engine/dispatch/answers.h"
#include "google/protobuf/util/json_util.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"

namespace mw::agent::web {

namespace {

constexpr char kSessionCookie[] = "mw_session";
constexpr char kLangCookie[] = "mw_lang";
constexpr size_t kMaxRecent = 20;

std::string Cookie(const httplib::Request& req, absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(req.get_header_value("Cookie"), ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

// A local path to go back to, never another site.
std::string SafeBack(const std::string& back) {
  if (back.empty() || back[0] != '/' || (back.size() > 1 && back[1] == '/')) return "/";
  return back;
}

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

std::string Hidden(absl::string_view name, absl::string_view value) {
  return absl::StrCat("<input type=\"hidden\" name=\"", Escape(name), "\" value=\"", Escape(value),
                      "\">");
}

// Counts time the page is hidden, and pauses longer than `idle_ms` without a touch or key, into
// every form's hidden_ms field as it is sent.
std::string IdleScript(int64_t idle_ms) {
  return absl::StrCat(
      "<script>(function(){var hid=0,h0=0,last=Date.now(),gap=", idle_ms,
      ";document.addEventListener('visibilitychange',function(){if(document.hidden){h0=Date."
      "now();}else if(h0){hid+=Date.now()-h0;h0=0;last=Date.now();}});['click','keydown',"
      "'touchstart','input'].forEach(function(e){document.addEventListener(e,function(){var "
      "n=Date.now();if(n-last>gap)hid+=n-last-gap;last=n;},true);});document.querySelectorAll("
      "'form').forEach(function(f){f.addEventListener('submit',function(){var n=Date.now();if("
      "n-last>gap)hid+=n-last-gap;var i=f.querySelector('[name=hidden_ms]');if(i)i.value=hid;});"
      "});})();</script>");
}

// The answer form's fields for the stage's schema.
std::string AnswerFields(const v1::AnswerSchema& schema, const Messages& m,
                         const std::string& lang) {
  std::string out;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSingleChoice:
      for (const auto& o : schema.single_choice().options()) {
        absl::StrAppend(&out, "<label class=\"opt\"><input type=\"radio\" name=\"choice\" value=\"",
                        Escape(o), "\" required> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kMultiChoice:
      for (const auto& o : schema.multi_choice().options()) {
        absl::StrAppend(&out,
                        "<label class=\"opt\"><input type=\"checkbox\" name=\"choices\" value=\"",
                        Escape(o), "\"> ", Escape(o), "</label>");
      }
      break;
    case v1::AnswerSchema::kText: {
      const uint32_t max = schema.text().max_length() > 0 ? schema.text().max_length() : 2000;
      absl::StrAppend(&out, "<p>",
                      Escape(m.Text(lang, "answer_text_limits",
                                    {{"min", absl::StrCat(schema.text().min_length())},
                                     {"max", absl::StrCat(max)}})),
                      "</p><textarea name=\"text\" rows=\"4\" maxlength=\"", max, "\" minlength=\"",
                      schema.text().min_length(), "\" required></textarea>");
      break;
    }
    case v1::AnswerSchema::kNumber: {
      const auto& n = schema.number();
      absl::StrAppend(
          &out, "<p>",
          Escape(m.Text(lang, "answer_number_limits",
                        {{"min", absl::StrCat(n.min())}, {"max", absl::StrCat(n.max())}})),
          "</p><input type=\"number\" name=\"number\" inputmode=\"decimal\" step=\"",
          n.integer() ? "1" : "any", "\" min=\"", n.min(), "\" max=\"", n.max(), "\" required>");
      break;
    }
    default:
      break;
  }
  return out;
}

// The answer the form carries, in the schema's shape; INVALID_ARGUMENT says what is missing or
// wrong (CheckAnswer's words).
absl::StatusOr<v1::Answer> ParseAnswer(const httplib::Request& req,
                                       const v1::AnswerSchema& schema) {
  v1::Answer a;
  switch (schema.kind_case()) {
    case v1::AnswerSchema::kSingleChoice:
      if (req.get_param_value("choice").empty()) {
        return absl::InvalidArgumentError("choose one of the options");
      }
      a.set_choice(req.get_param_value("choice"));
      break;
    case v1::AnswerSchema::kMultiChoice: {
      auto* set = a.mutable_choices();
      for (size_t i = 0; i < req.get_param_value_count("choices"); ++i) {
        set->add_options(req.get_param_value("choices", i));
      }
      break;
    }
    case v1::AnswerSchema::kText:
      a.set_text(req.get_param_value("text"));
      break;
    case v1::AnswerSchema::kNumber:
      if (req.get_param_value("number").empty()) return absl::InvalidArgumentError("give a number");
      a.set_number(req.get_param_value("number"));
      break;
    default:
      return absl::FailedPreconditionError("this task has no answer schema");
  }
  if (absl::Status s = dispatch::CheckAnswer(schema, a); !s.ok()) return s;
  return a;
}

// Where today, this week (from Monday) and this month begin, in the centre's local time.
std::array<int64_t, 3> PeriodStarts(int64_t now_ms) {
  const absl::TimeZone tz = absl::LocalTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(absl::FromUnixMillis(now_ms), tz);
  const int since_monday = static_cast<int>(absl::GetWeekday(today));  // monday == 0
  return {centre::LocalDayStart(now_ms),
          absl::ToUnixMillis(absl::FromCivil(today - since_monday, tz)),
          absl::ToUnixMillis(absl::FromCivil(absl::CivilMonth(today), tz))};
}

constexpr int64_t kPauseMs = 10 * 60 * 1000;  // a pause this long ends a stretch of work

struct Window {
  uint32_t tasks = 0;
  int64_t wage_minor = 0;
  uint64_t active_seconds = 0;
};

}  // namespace

struct WebServer::Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::string lang = "en";
  std::string token;
  Session session;
  bool signed_in = false;
  std::string notice;  // HTML

  void Redirect(const std::string& to) { res.set_redirect(to, 303); }
};

absl::StatusOr<std::unique_ptr<WebServer>> WebServer::Start(centre::AgentState* state,
                                                            const Clock* clock, Hooks hooks,
                                                            Options options) {
  const size_t colon = options.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web-listen: expected host:port, got \"", options.listen, "\""));
  }
  const std::string host = options.listen.substr(0, colon);
  std::unique_ptr<WebServer> web(new WebServer(state, clock, std::move(hooks), std::move(options)));
  web->Routes();
  web->RestoreSessions();
  if (port == 0) {
    web->port_ = web->server_->bind_to_any_port(host);
  } else if (web->server_->bind_to_port(host, port)) {
    web->port_ = port;
  } else {
    web->port_ = -1;
  }
  if (web->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", web->options_.listen));
  }
  httplib::Server* server = web->server_.get();
  web->thread_ = std::thread([server] { server->listen_after_bind(); });
  // httplib 0.11 loses a stop() that comes before its accept loop runs; wait for the loop.
  for (int i = 0; i < 5000 && !server->is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  return web;
}

WebServer::WebServer(centre::AgentState* state, const Clock* clock, Hooks hooks, Options options)
    : state_(state),
      clock_(clock),
      hooks_(std::move(hooks)),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {}

WebServer::~WebServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

namespace {

// Sessions are found by the SHA-256 of the cookie's token, in memory and in the store.
std::string TokenKey(const std::string& token) { return ToHex(Sha256(token)); }

}  // namespace

std::string WebServer::NewSession(Session s) {
  const std::string token = ToHex(RandomBytes(16));
  v1::WebSession kept;
  kept.set_worker(s.worker);
  kept.set_manager(s.manager);
  kept.set_created_at_ms(clock_->NowMs());
  if (absl::Status st = state_->SaveSession(TokenKey(token), kept); !st.ok()) {
    spdlog::warn("event=session_not_kept error=\"{}\"", st.ToString());  // memory still has it
  }
  absl::MutexLock l(&mu_);
  sessions_[TokenKey(token)] = std::move(s);
  return token;
}

void WebServer::RestoreSessions() {
  const int64_t oldest = clock_->NowMs() - options_.session_hours * 3'600'000;
  (void)state_->DeleteSessions(
      [&](const std::string&, const v1::WebSession& s) { return s.created_at_ms() < oldest; });
  std::vector<std::string> workers;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [hash, kept] : state_->Sessions()) {
      Session s;
      s.worker = kept.worker();
      s.manager = kept.manager();
      sessions_[hash] = s;
      if (!s.manager) workers.push_back(s.worker);
    }
  }
  if (hooks_.set_on_duty) {
    for (const auto& w : workers) hooks_.set_on_duty(w, true);
  }
}

void WebServer::Routes() {
  enum class Need { kNobody, kWorker, kManager };
  auto route = [this](Need need, std::function<void(Call&)> fn) {
    return [this, need, fn](const httplib::Request& req, httplib::Response& res) {
      Call c{req, res};
      c.token = Cookie(req, kSessionCookie);
      {
        absl::MutexLock l(&mu_);
        if (auto it = sessions_.find(TokenKey(c.token)); it != sessions_.end()) {
          c.session = it->second;
          c.signed_in = true;
        }
      }
      const Messages& m = Messages::Get();
      c.lang = Cookie(req, kLangCookie);
      if (!m.Has(c.lang) && c.signed_in && !c.session.manager) {
        if (auto w = state_->Worker(c.session.worker); w.has_value()) c.lang = w->ui_language();
      }
      if (!m.Has(c.lang)) c.lang = "en";
      const bool allowed = need == Need::kNobody ||
                           (need == Need::kWorker && c.signed_in && !c.session.manager) ||
                           (need == Need::kManager && c.signed_in && c.session.manager);
      if (!allowed) {
        c.Redirect("/signin");
        return;
      }
      if (auto n = req.get_param_value("notice"); !n.empty()) {
        std::vector<std::pair<std::string, std::string>> args;
        if (req.has_param("pay")) args.emplace_back("pay", req.get_param_value("pay"));
        c.notice = absl::StrCat("<p class=\"notice\" id=\"notice\">",
                                Escape(m.Text(c.lang, n, args)), "</p>");
      }
      fn(c);
    };
  };
  server_->Get("/", route(Need::kNobody, [](Call& c) {
                 c.Redirect(!c.signed_in ? "/signin" : c.session.manager ? "/manage" : "/task");
               }));
  server_->Get("/signin", route(Need::kNobody, [this](Call& c) { SignInPage(c, ""); }));
  server_->Post("/signin", route(Need::kNobody, [this](Call& c) { SignIn(c); }));
  server_->Post("/signout", route(Need::kNobody, [this](Call& c) { SignOut(c); }));
  server_->Get("/lang", route(Need::kNobody, [this](Call& c) { Language(c); }));
  server_->Get("/task", route(Need::kWorker, [this](Call& c) { TaskPage(c); }));
  server_->Post("/task/start", route(Need::kWorker, [this](Call& c) { StartTask(c); }));
  server_->Post("/task/answer", route(Need::kWorker, [this](Call& c) { Answer(c, false); }));
  server_->Post("/task/skip", route(Need::kWorker, [this](Call& c) { Answer(c, true); }));
  server_->Get("/earnings", route(Need::kWorker, [this](Call& c) { EarningsPage(c); }));
  server_->Post("/dispute", route(Need::kWorker, [this](Call& c) { Dispute(c); }));
  server_->Get("/me", route(Need::kWorker, [this](Call& c) { DataPage(c, false); }));
  server_->Get("/me.json", route(Need::kWorker, [this](Call& c) { DataPage(c, true); }));
  server_->Get("/manage", route(Need::kManager, [this](Call& c) { ManagerPage(c, ""); }));
  for (const char* action :
       {"add", "code", "forget", "trained", "resolve", "move", "reserve", "unreserve"}) {
    server_->Post(absl::StrCat("/manage/", action),
                  route(Need::kManager, [this, action](Call& c) { ManagerAction(c, action); }));
  }
}

std::string WebServer::Nav(const Call& c) const {
  const Messages& m = Messages::Get();
  std::string nav = "<nav>";
  if (c.signed_in && !c.session.manager) {
    absl::StrAppend(&nav, "<a href=\"/task\">", Escape(m.Text(c.lang, "nav_task")),
                    "</a><a href=\"/earnings\">", Escape(m.Text(c.lang, "nav_earnings")),
                    "</a><a href=\"/me\">", Escape(m.Text(c.lang, "nav_data")), "</a>");
  }
  const std::string back = Escape(c.req.path);
  for (const auto& l : m.languages()) {
    if (l == c.lang) continue;
    absl::StrAppend(&nav, "<a href=\"/lang?to=", l, "&amp;back=", back, "\" lang=\"", l, "\">",
                    Escape(m.Text(l, "language_name")), "</a>");
  }
  if (c.signed_in) {
    absl::StrAppend(&nav,
                    "<form method=\"post\" action=\"/signout\" style=\"margin:0\"><button "
                    "style=\"width:auto;min-height:40px;margin:0\">",
                    Escape(m.Text(c.lang, "sign_out")), "</button></form>");
  }
  return absl::StrCat(nav, "</nav>");
}

void WebServer::Render(Call& c, const std::string& title, const std::string& body, int refresh) {
  std::string notice = c.notice;
  if (hooks_.online && !hooks_.online()) {
    absl::StrAppend(&notice, "<p class=\"notice\" id=\"offline\">",
                    Escape(Messages::Get().Text(c.lang, "offline")), "</p>");
  }
  c.res.set_header("Cache-Control", "no-store");
  c.res.set_content(Page({.lang = c.lang,
                          .title = title,
                          .nav = Nav(c),
                          .notice = notice,
                          .refresh_seconds = refresh},
                         absl::StrCat("<h1>", Escape(title), "</h1>", body)),
                    "text/html; charset=utf-8");
}

// ---- Signing in ----

void WebServer::SignInPage(Call& c, const std::string& error) {
  const Messages& m = Messages::Get();
  if (!error.empty()) {
    c.notice = absl::StrCat("<p class=\"notice error\" id=\"error\">", Escape(error), "</p>");
  }
  Render(c, m.Text(c.lang, "sign_in"),
         absl::StrCat("<form method=\"post\" action=\"/signin\"><label for=\"code\">",
                      Escape(m.Text(c.lang, "sign_in_code")),
                      "</label><input type=\"password\" id=\"code\" name=\"code\" "
                      "inputmode=\"numeric\" autocomplete=\"off\" required><p>",
                      Escape(m.Text(c.lang, "sign_in_help")), "</p><button class=\"primary\">",
                      Escape(m.Text(c.lang, "sign_in")), "</button></form>"));
}

void WebServer::SignIn(Call& c) {
  const std::string code(absl::StripAsciiWhitespace(c.req.get_param_value("code")));
  Session s;
  if (!options_.manager_code.empty() && code == options_.manager_code) {
    s.manager = true;
  } else {
    auto worker = state_->SignIn(code);
    if (!worker.ok()) {
      c.res.status = 401;
      SignInPage(c, Messages::Get().Text(c.lang, "sign_in_wrong"));
      return;
    }
    s.worker = worker->pseudonym();
    if (Cookie(c.req, kLangCookie).empty() && Messages::Get().Has(worker->ui_language())) {
      c.lang = worker->ui_language();
    }
    if (hooks_.set_on_duty) hooks_.set_on_duty(s.worker, true);
  }
  spdlog::info("event=web_sign_in role={} worker={}", s.manager ? "manager" : "worker", s.worker);
  const std::string token = NewSession(s);
  c.res.set_header("Set-Cookie",
                   absl::StrCat(kSessionCookie, "=", token, "; Path=/; HttpOnly; SameSite=Strict"));
  c.Redirect(s.manager ? "/manage" : "/task");
}

void WebServer::SignOut(Call& c) {
  if (c.signed_in) {
    {
      absl::MutexLock l(&mu_);
      sessions_.erase(TokenKey(c.token));
    }
    const std::string key = TokenKey(c.token);
    (void)state_->DeleteSessions(
        [&](const std::string& hash, const v1::WebSession&) { return hash == key; });
    if (!c.session.manager && hooks_.set_on_duty) hooks_.set_on_duty(c.session.worker, false);
  }
  c.res.set_header("Set-Cookie",
                   absl::StrCat(kSessionCookie, "=; Path=/; Max-Age=0; SameSite=Strict"));
  c.Redirect("/signin");
}

void WebServer::Language(Call& c) {
  const std::string to = c.req.get_param_value("to");
  if (Messages::Get().Has(to)) {
    c.res.set_header("Set-Cookie", absl::StrCat(kLangCookie, "=", to,
                                                "; Path=/; Max-Age=31536000; SameSite=Strict"));
    if (c.signed_in && !c.session.manager) {
      if (absl::Status s = state_->SetLanguage(c.session.worker, to); !s.ok()) {
        spdlog::warn("event=web_language_not_saved error=\"{}\"", s.ToString());
      }
    }
  }
  c.Redirect(SafeBack(c.req.get_param_value("back")));
}

// ---- Work ----

std::string WebServer::Welfare(Call& c) {
  if (options_.max_minutes_per_day == 0 && options_.max_minutes_per_week == 0 &&
      options_.distressing_per_day == 0 && options_.break_after_minutes == 0) {
    return "";
  }
  const Messages& m = Messages::Get();
  const std::string& worker = c.session.worker;
  const int64_t now = clock_->NowMs();
  const std::array<int64_t, 3> starts = PeriodStarts(now);
  const centre::WorkDone today = state_->WorkSince(worker, starts[0]);
  auto hours = [](uint32_t minutes) { return absl::StrFormat("%.1f", minutes / 60.0); };
  std::string stop;
  if (options_.max_minutes_per_day > 0 &&
      today.active_seconds >= uint64_t{options_.max_minutes_per_day} * 60) {
    stop = m.Text(c.lang, "limit_day", {{"hours", hours(options_.max_minutes_per_day)}});
  } else if (options_.max_minutes_per_week > 0 &&
             state_->WorkSince(worker, starts[1]).active_seconds >=
                 uint64_t{options_.max_minutes_per_week} * 60) {
    stop = m.Text(c.lang, "limit_week", {{"hours", hours(options_.max_minutes_per_week)}});
  }
  if (!stop.empty()) {
    spdlog::info("event=welfare_limit worker={} active_seconds_today={}", worker,
                 today.active_seconds);
    if (hooks_.set_on_duty) hooks_.set_on_duty(worker, false);  // its buffer goes back
    return absl::StrCat("<p class=\"notice\" id=\"limit\">", Escape(stop), "</p>");
  }
  // Past the exposure cap, distressing tasks are passed back (skipped, so others get them).
  if (options_.distressing_per_day > 0 && today.distressing >= options_.distressing_per_day) {
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
      absl::StrAppend(
          &c.notice, "<p class=\"notice\" id=\"exposure\">",
          Escape(m.Text(c.lang, "exposure_cap", {{"n", absl::StrCat(today.distressing)}})), "</p>");
    }
  }
  if (options_.break_after_minutes > 0) {
    int64_t stretch_start = 0;
    {
      absl::MutexLock l(&mu_);
      if (auto it = sessions_.find(TokenKey(c.token)); it != sessions_.end()) {
        if (now - it->second.last_answer_ms < kPauseMs) stretch_start = it->second.stretch_start_ms;
      }
    }
    const int64_t minutes = stretch_start > 0 ? (now - stretch_start) / 60'000 : 0;
    if (minutes >= options_.break_after_minutes) {
      absl::StrAppend(
          &c.notice, "<p class=\"notice\" id=\"break\">",
          Escape(m.Text(c.lang, "break_reminder", {{"minutes", absl::StrCat(minutes)}})), "</p>");
    }
  }
  return "";
}

void WebServer::TaskPage(Call& c) {
  const Messages& m = Messages::Get();
  if (std::string stop = Welfare(c); !stop.empty()) {
    Render(c, m.Text(c.lang, "next_task"), stop);
    return;
  }
  if (hooks_.set_on_duty) hooks_.set_on_duty(c.session.worker, true);  // e.g. the next day
  auto next = state_->PeekNext(c.session.worker);
  if (!next.has_value()) {
    Render(c, m.Text(c.lang, "next_task"),
           absl::StrCat("<p id=\"no-task\">", Escape(m.Text(c.lang, "no_task")),
                        "</p><p><a href=\"/task\">", Escape(m.Text(c.lang, "check_again")),
                        "</a></p>"),
           /*refresh=*/20);
    return;
  }
  const v1::Assignment& a = next->assignment();
  const v1::HumanStage& stage = next->spec().human();
  const uint32_t est = std::max<uint32_t>(stage.estimated_seconds(), 1);
  const int64_t hourly = a.piece_rate_minor() * 3600 / est;
  const std::string pay = absl::StrCat(
      "<dl><dt>", Escape(m.Text(c.lang, "pay")), "</dt><dd class=\"pay\" id=\"pay\">",
      Escape(FormatMoney(a.piece_rate_minor(), a.currency())), "</dd><dt>",
      Escape(m.Text(c.lang, "time")), "</dt><dd>",
      Escape(m.Text(c.lang, "minutes", {{"n", absl::StrCat((est + 59) / 60)}})), " &middot; ",
      Escape(m.Text(c.lang, "per_hour", {{"rate", FormatMoney(hourly, a.currency())}})),
      "</dd></dl>");
  const std::string instructions =
      absl::StrCat("<h2>", Escape(m.Text(c.lang, "instructions")), "</h2><p id=\"instructions\">",
                   Escape(Instructions(stage, c.lang)),
                   "</p><button type=\"button\" class=\"say\" onclick=\"say('instructions')\">",
                   Escape(m.Text(c.lang, "read_aloud")), "</button>");
  if (next->opened_at_ms() == 0) {
    // Before starting: what it pays and how long it takes, then the choice.
    Render(c, m.Text(c.lang, "next_task"),
           absl::StrCat(pay, "<p>", Escape(m.Text(c.lang, "before_start")), "</p>", instructions,
                        "<form method=\"post\" action=\"/task/start\">",
                        Hidden("aid", a.assignment_id()), "<button class=\"primary\" id=\"start\">",
                        Escape(m.Text(c.lang, "start")), "</button></form>"));
    return;
  }
  std::string item = "<dl id=\"item\">";
  const auto& show = stage.show_fields();
  for (const auto& f : a.item().fields()) {
    if (!show.empty() && std::find(show.begin(), show.end(), f.name()) == show.end()) continue;
    absl::StrAppend(&item, "<dt>", Escape(f.name()), "</dt><dd>", Escape(f.value()), "</dd>");
  }
  absl::StrAppend(&item, "</dl>");
  const std::string ids =
      absl::StrCat(Hidden("aid", a.assignment_id()), Hidden("epoch", absl::StrCat(a.epoch())),
                   Hidden("hidden_ms", "0"));
  std::string reasons;
  for (const char* r : {"skip_unclear", "skip_unreadable", "skip_upsetting", "skip_other"}) {
    absl::StrAppend(&reasons, "<option value=\"", r, "\">", Escape(m.Text(c.lang, r)), "</option>");
  }
  Render(
      c, m.Text(c.lang, "next_task"),
      absl::StrCat(pay, instructions, "<h2>", Escape(m.Text(c.lang, "item")), "</h2>", item,
                   "<form method=\"post\" action=\"/task/answer\" id=\"answer\"><h2>",
                   Escape(m.Text(c.lang, "your_answer")), "</h2>", ids,
                   AnswerFields(stage.answer(), m, c.lang),
                   "<button class=\"primary\" id=\"save\">", Escape(m.Text(c.lang, "save_answer")),
                   "</button></form><form method=\"post\" action=\"/task/skip\" "
                   "id=\"skip\"><h2>",
                   Escape(m.Text(c.lang, "skip")), "</h2>", ids, "<label for=\"reason\">",
                   Escape(m.Text(c.lang, "skip_reason")),
                   "</label><select name=\"reason\" id=\"reason\">", reasons, "</select><button>",
                   Escape(m.Text(c.lang, "skip")), "</button></form>",
                   IdleScript(std::max<int64_t>(120'000, int64_t{est} * 2000))));
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
  const std::string aid = c.req.get_param_value("aid");
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
    std::string reason = c.req.get_param_value("reason");
    if (reason.rfind("skip_", 0) != 0) reason = "skip_other";
    r.mutable_answer()->set_skip_reason(reason.substr(5));
  } else {
    auto answer = ParseAnswer(c.req, stage.answer());
    if (!answer.ok()) {
      c.res.status = 400;
      c.notice = absl::StrCat("<p class=\"notice error\" id=\"error\">",
                              Escape(m.Text(c.lang, "answer_problem",
                                            {{"detail", std::string(answer.status().message())}})),
                              "</p>");
      TaskPage(c);
      return;
    }
    *r.mutable_answer() = *std::move(answer);
  }
  const int64_t open_ms = std::max<int64_t>(0, now - next->opened_at_ms());
  int64_t hidden_ms = 0;
  if (!absl::SimpleAtoi(c.req.get_param_value("hidden_ms"), &hidden_ms)) hidden_ms = 0;
  hidden_ms = std::clamp<int64_t>(hidden_ms, 0, open_ms);
  r.set_active_seconds(static_cast<uint32_t>((open_ms - hidden_ms + 999) / 1000));
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
      if (s.last_answer_ms == 0 || now - s.last_answer_ms >= kPauseMs) {
        s.stretch_start_ms = now - open_ms;
      }
      s.last_answer_ms = now;
    }
  }
  if (skip) {
    c.Redirect("/task?notice=skipped");
  } else {
    c.Redirect(absl::StrCat(
        "/task?notice=saved&pay=",
        httplib::detail::encode_query_param(FormatMoney(a.piece_rate_minor(), a.currency()))));
  }
}

// ---- Earnings and disputes ----

void WebServer::EarningsPage(Call& c) {
  const Messages& m = Messages::Get();
  const absl::TimeZone tz = absl::LocalTimeZone();
  const std::array<int64_t, 3> starts = PeriodStarts(clock_->NowMs());
  const int64_t earliest = std::min({starts[0], starts[1], starts[2]});
  std::vector<v1::EarningRecord> earnings = state_->Earnings(c.session.worker, earliest);
  Window windows[3];
  std::string currency;
  for (const auto& e : earnings) {
    if (currency.empty()) currency = e.currency();
    for (int w = 0; w < 3; ++w) {
      if (e.answered_at_ms() < starts[w]) continue;
      windows[w].tasks += !e.skipped();
      windows[w].wage_minor += e.wage_minor();
      windows[w].active_seconds += e.active_seconds();
    }
  }
  std::string body = "<table id=\"totals\">";
  const char* names[3] = {"today", "this_week", "this_period"};
  for (int w = 0; w < 3; ++w) {
    const Window& win = windows[w];
    absl::StrAppend(&body, "<tr><th>", Escape(m.Text(c.lang, names[w])), "</th><td id=\"", names[w],
                    "\"><b>", Escape(FormatMoney(win.wage_minor, currency)), "</b><br>",
                    Escape(m.Text(c.lang, "tasks_count", {{"n", absl::StrCat(win.tasks)}})));
    if (win.active_seconds > 0) {
      const int64_t hourly =
          win.wage_minor * 3600 / static_cast<int64_t>(std::max<uint64_t>(win.active_seconds, 1));
      absl::StrAppend(&body, "<br>",
                      Escape(m.Text(c.lang, "hourly", {{"rate", FormatMoney(hourly, currency)}})));
    }
    absl::StrAppend(&body, "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  const size_t waiting = state_->PendingFor(c.session.worker).size();
  if (waiting > 0) {
    absl::StrAppend(&body, "<p class=\"notice\">",
                    Escape(m.Text(c.lang, "waiting_to_send", {{"n", absl::StrCat(waiting)}})),
                    "</p>");
  }
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "recent_work")), "</h2>");
  if (earnings.empty()) {
    absl::StrAppend(&body, "<p>", Escape(m.Text(c.lang, "no_work_yet")), "</p>");
  } else {
    absl::StrAppend(&body, "<table id=\"recent\"><tr><th>", Escape(m.Text(c.lang, "when")),
                    "</th><th>", Escape(m.Text(c.lang, "task")), "</th><th>",
                    Escape(m.Text(c.lang, "pay")), "</th></tr>");
    size_t shown = 0;
    for (auto it = earnings.rbegin(); it != earnings.rend() && shown < kMaxRecent; ++it, ++shown) {
      const std::string when =
          absl::FormatTime("%d/%m %H:%M", absl::FromUnixMillis(it->answered_at_ms()), tz);
      absl::StrAppend(&body, "<tr><td>", when, "</td><td>", Escape(it->stage()));
      if (it->late()) absl::StrAppend(&body, " (", Escape(m.Text(c.lang, "late")), ")");
      if (!it->feedback().empty()) {
        absl::StrAppend(&body, "<br><i>", Escape(it->feedback()), "</i>");
      }
      absl::StrAppend(&body, "</td><td>",
                      it->skipped() ? Escape(m.Text(c.lang, "skipped_label"))
                                    : Escape(FormatMoney(it->wage_minor(), it->currency())),
                      "</td></tr>");
    }
    absl::StrAppend(&body, "</table>");
  }

  // Pay held back by a person, and the worker's side of it.
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "disputes_title")), "</h2><p>",
                  Escape(m.Text(c.lang, "disputes_help")), "</p>");
  absl::StatusOr<std::vector<v1::Withholding>> held =
      hooks_.withholdings
          ? hooks_.withholdings()
          : absl::StatusOr<std::vector<v1::Withholding>>(std::vector<v1::Withholding>());
  if (!held.ok()) {
    absl::StrAppend(&body, "<p>", Escape(m.Text(c.lang, "disputes_offline")), "</p>");
  } else {
    int mine = 0;
    const std::string suffix = absl::StrCat("/", c.session.worker);
    for (const auto& w : *held) {
      if (!absl::EndsWith(w.worker_account(), suffix)) continue;
      ++mine;
      absl::StrAppend(&body, "<div class=\"notice\"><b>",
                      Escape(w.assignment_id().substr(0, w.assignment_id().rfind('@'))),
                      "</b> &middot; ", Escape(FormatMoney(w.amount_minor(), w.currency())), "<br>",
                      Escape(m.Text(c.lang, "reason")), ": ",
                      Escape(v1::WithholdReason_Name(w.reason())), " &mdash; ", Escape(w.note()),
                      "<br>", Escape(m.Text(c.lang, "dispute_state")), ": ",
                      Escape(v1::DisputeState_Name(w.dispute())));
      if (w.dispute() == v1::DISPUTE_NONE) {
        absl::StrAppend(&body, "<form method=\"post\" action=\"/dispute\">",
                        Hidden("aid", w.assignment_id()), "<label>",
                        Escape(m.Text(c.lang, "your_side")),
                        "<textarea name=\"statement\" rows=\"3\" required></textarea></label>"
                        "<button>",
                        Escape(m.Text(c.lang, "dispute")), "</button></form>");
      }
      absl::StrAppend(&body, "</div>");
    }
    if (mine == 0) absl::StrAppend(&body, "<p>", Escape(m.Text(c.lang, "disputes_none")), "</p>");
  }
  Render(c, m.Text(c.lang, "earnings_title"), body);
}

void WebServer::Dispute(Call& c) {
  const std::string aid = c.req.get_param_value("aid");
  const std::string statement(absl::StripAsciiWhitespace(c.req.get_param_value("statement")));
  // Only the worker's own assignment: "<task>@<pseudonym>".
  if (!absl::EndsWith(aid, absl::StrCat("@", c.session.worker)) || statement.empty() ||
      !hooks_.dispute) {
    c.res.status = 400;
    c.res.set_content("aid: expected one of your own tasks; statement: required",
                      "text/plain; charset=utf-8");
    return;
  }
  v1::DisputeWithholdingRequest req;
  req.set_idempotency_key(absl::StrCat("dispute:", aid));
  req.set_assignment_id(aid);
  req.set_worker_statement(statement);
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
  shown.clear_sign_in_code_sha256();  // not theirs to need, and a secret
  if (json) {
    nlohmann::json out;
    std::string entry;
    (void)google::protobuf::util::MessageToJsonString(shown, &entry);
    out["roster_entry"] = nlohmann::json::parse(entry);
    out["earnings"] = nlohmann::json::array();
    for (const auto& e : state_->Earnings(c.session.worker, 0)) {
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
  std::string body = absl::StrCat(
      "<p>", Escape(m.Text(c.lang, "my_data_help", {{"pseudonym", shown.pseudonym()}})),
      "</p><dl id=\"data\"><dt>", Escape(m.Text(c.lang, "name")), "</dt><dd>", Escape(shown.name()),
      "</dd><dt>", Escape(m.Text(c.lang, "contact")), "</dt><dd>", Escape(shown.contact()),
      "</dd><dt>", Escape(m.Text(c.lang, "languages")), "</dt><dd>",
      Escape(absl::StrJoin(shown.languages(), ", ")), "</dd><dt>", Escape(m.Text(c.lang, "skills")),
      "</dt><dd>", Escape(absl::StrJoin(shown.skills(), ", ")),
      "</dd></dl><p><a href=\"/me.json\">", Escape(m.Text(c.lang, "download_data")), "</a></p>");
  Render(c, m.Text(c.lang, "my_data_title"), body);
}

// ---- The centre manager ----

void WebServer::ManagerPage(Call& c, const std::string& notice) {
  const Messages& m = Messages::Get();
  if (!notice.empty()) c.notice = notice;
  std::vector<std::string> on_duty;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [t, s] : sessions_) {
      if (!s.manager) on_duty.push_back(s.worker);
    }
  }
  std::string body =
      absl::StrCat("<h2>", Escape(m.Text(c.lang, "roster")), "</h2><table id=\"roster\"><tr><th>",
                   Escape(m.Text(c.lang, "name")), "</th><th>", Escape(m.Text(c.lang, "on_duty")),
                   "</th><th>", Escape(m.Text(c.lang, "held")), "</th><th>",
                   Escape(m.Text(c.lang, "training")), "</th><th></th></tr>");
  for (const auto& w : state_->Roster()) {
    if (w.simulated()) continue;
    const bool on = std::find(on_duty.begin(), on_duty.end(), w.pseudonym()) != on_duty.end();
    absl::StrAppend(&body, "<tr><td>", Escape(w.name().empty() ? "-" : w.name()), "<br><small>",
                    Escape(w.pseudonym()), " &middot; ", Escape(absl::StrJoin(w.languages(), ",")),
                    "</small></td><td>", Escape(m.Text(c.lang, on ? "yes" : "no")), "</td><td>",
                    state_->HeldFor(w.pseudonym()), "</td><td>",
                    Escape(m.Text(c.lang, w.training_level() > 0 ? "trained" : "newcomer")),
                    "</td><td>");
    if (!w.name().empty() && w.training_level() == 0) {
      absl::StrAppend(&body, "<form method=\"post\" action=\"/manage/trained\">",
                      Hidden("worker", w.pseudonym()), "<button>",
                      Escape(m.Text(c.lang, "mark_trained")), "</button></form>");
    }
    if (!w.name().empty()) {
      for (const char* action : {"code", "forget"}) {
        absl::StrAppend(
            &body, "<form method=\"post\" action=\"/manage/", action, "\">",
            Hidden("worker", w.pseudonym()), "<button>",
            Escape(m.Text(c.lang, std::string(action) == "code" ? "new_code" : "forget")),
            "</button></form>");
      }
    }
    absl::StrAppend(&body, "</td></tr>");
  }
  absl::StrAppend(&body, "</table>");
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "add_worker")),
                  "</h2><form method=\"post\" action=\"/manage/add\" id=\"add\">");
  for (const char* f : {"name", "contact", "languages", "skills"}) {
    absl::StrAppend(&body, "<label>", Escape(m.Text(c.lang, f)), "<input type=\"text\" name=\"", f,
                    "\"", std::string(f) == "name" ? " required" : "",
                    std::string(f) == "languages" ? " value=\"en\"" : "", "></label>");
  }
  absl::StrAppend(&body, "<button class=\"primary\">", Escape(m.Text(c.lang, "add_worker")),
                  "</button></form>");
  // Who holds what: each held task can be moved to another worker; stages can be reserved for
  // chosen workers (the others are leased none of it).
  const auto roster = state_->Roster();
  auto name_of = [&](const std::string& pseudonym) {
    for (const auto& w : roster) {
      if (w.pseudonym() == pseudonym && !w.name().empty()) return w.name();
    }
    return pseudonym;
  };
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "work_in_hand")),
                  "</h2><table id=\"held\"><tr><th>", Escape(m.Text(c.lang, "name")), "</th><th>",
                  Escape(m.Text(c.lang, "task")), "</th><th>", Escape(m.Text(c.lang, "move_to")),
                  "</th></tr>");
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
      absl::StrAppend(&body, "<tr><td>", Escape(name_of(w.pseudonym())), "</td><td>",
                      Escape(a.task_id()), held.opened_at_ms() > 0 ? " &#9654;" : "",
                      "</td><td><form method=\"post\" action=\"/manage/move\">",
                      Hidden("aid", a.assignment_id()),
                      "<input type=\"text\" name=\"to\" list=\"people\" required size=\"10\">"
                      "<input type=\"text\" name=\"by\" required size=\"10\" placeholder=\"",
                      Escape(m.Text(c.lang, "decided_by")), "\"><button>",
                      Escape(m.Text(c.lang, "move")), "</button></form></td></tr>");
    }
  }
  if (more > 0) absl::StrAppend(&body, "<tr><td colspan=\"3\">+", more, "</td></tr>");
  absl::StrAppend(&body, "</table><datalist id=\"people\">");
  for (const auto& other : roster) {
    if (other.name().empty()) continue;
    absl::StrAppend(&body, "<option value=\"", Escape(other.pseudonym()), "\">",
                    Escape(other.name()), "</option>");
  }
  absl::StrAppend(&body, "</datalist>");
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "reservations")),
                  "</h2><div id=\"reservations\">");
  for (const auto& r : state_->Reservations()) {
    std::vector<std::string> names;
    for (const auto& w : r.workers()) names.push_back(name_of(w));
    absl::StrAppend(&body, "<form method=\"post\" action=\"/manage/unreserve\" class=\"card\"><b>",
                    Escape(r.stage()), "</b>: ", Escape(absl::StrJoin(names, ", ")), " (",
                    Escape(r.reserved_by()), ")", Hidden("stage", r.stage()), " <button>",
                    Escape(m.Text(c.lang, "unreserve")), "</button></form>");
  }
  absl::StrAppend(&body, "<form method=\"post\" action=\"/manage/reserve\" id=\"reserve\"><label>",
                  Escape(m.Text(c.lang, "stage")),
                  "<input type=\"text\" name=\"stage\" list=\"stages\" "
                  "required placeholder=\"job-1/label\"></label><datalist id=\"stages\">");
  for (const auto& st : stages_seen) {
    absl::StrAppend(&body, "<option value=\"", Escape(st), "\">");
  }
  absl::StrAppend(&body, "</datalist>");
  for (const auto& w : roster) {
    if (w.name().empty()) continue;
    absl::StrAppend(&body, "<label><input type=\"checkbox\" name=\"workers\" value=\"",
                    Escape(w.pseudonym()), "\"> ", Escape(w.name()), "</label>");
  }
  absl::StrAppend(&body, "<label>", Escape(m.Text(c.lang, "decided_by")),
                  "<input type=\"text\" name=\"by\" required></label><button>",
                  Escape(m.Text(c.lang, "reserve")), "</button></form></div>");
  // Disputes waiting for a person: the worker's side beside the reason, decided with a reason.
  if (hooks_.withholdings) {
    absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "disputes")),
                    "</h2><div id=\"disputes\">");
    auto withheld = hooks_.withholdings();
    int open = 0;
    if (!withheld.ok()) {
      absl::StrAppend(&body, "<p>", Escape(m.Text(c.lang, "disputes_offline")), "</p>");
    } else {
      for (const auto& w : *withheld) {
        if (w.dispute() != v1::DISPUTE_OPEN) continue;
        ++open;
        absl::StrAppend(
            &body, "<form method=\"post\" action=\"/manage/resolve\" class=\"card\"><p><b>",
            Escape(w.worker_account()), "</b> &middot; ", Escape(w.assignment_id()), "<br>",
            Escape(v1::WithholdReason_Name(w.reason())), " &mdash; ", Escape(w.note()), " (",
            Escape(w.decided_by()), ")<br>&ldquo;", Escape(w.worker_statement()), "&rdquo;</p>",
            Hidden("aid", w.assignment_id()), "<label>", Escape(m.Text(c.lang, "decided_by")),
            "<input type=\"text\" name=\"decided_by\" required></label><label>",
            Escape(m.Text(c.lang, "resolution")),
            "<input type=\"text\" name=\"resolution\" required></label>",
            "<button name=\"restore\" value=\"1\" class=\"primary\">",
            Escape(m.Text(c.lang, "restore_pay")),
            "</button> <button name=\"restore\" value=\"0\">", Escape(m.Text(c.lang, "uphold")),
            "</button></form>");
      }
      if (open == 0) absl::StrAppend(&body, "<p>", Escape(m.Text(c.lang, "no_disputes")), "</p>");
    }
    absl::StrAppend(&body, "</div>");
  }
  const centre::OutboxStats outbox = state_->Outbox();
  absl::StrAppend(&body, "<h2>", Escape(m.Text(c.lang, "outbox")), "</h2><p id=\"outbox\">",
                  Escape(m.Text(c.lang, "outbox_depth", {{"n", absl::StrCat(outbox.depth)}})),
                  "<br>",
                  Escape(m.Text(c.lang, "quarantined", {{"n", absl::StrCat(outbox.quarantined)}})),
                  "<br>", Escape(m.Text(c.lang, "online")), ": ",
                  Escape(m.Text(c.lang, !hooks_.online || hooks_.online() ? "yes" : "no")), "</p>");
  Render(c, m.Text(c.lang, "manager_title"), body);
}

void WebServer::ManagerAction(Call& c, const std::string& action) {
  const Messages& m = Messages::Get();
  auto error = [&](const std::string& text) {
    c.res.status = 400;
    ManagerPage(c, absl::StrCat("<p class=\"notice error\" id=\"error\">", Escape(text), "</p>"));
  };
  if (action == "resolve") {
    v1::ResolveDisputeRequest r;
    r.set_assignment_id(c.req.get_param_value("aid"));
    r.set_decided_by(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("decided_by"))));
    r.set_resolution(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("resolution"))));
    r.set_restore(c.req.get_param_value("restore") == "1");
    r.set_idempotency_key(
        absl::StrCat("resolve:", r.assignment_id(), ":", r.decided_by(), ":", r.restore()));
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
    return ManagerPage(c, absl::StrCat("<p class=\"notice\" id=\"notice\">",
                                       Escape(m.Text(c.lang, "dispute_decided")), "</p>"));
  }
  auto done = [&](const std::string& key) {
    return ManagerPage(
        c, absl::StrCat("<p class=\"notice\" id=\"notice\">", Escape(m.Text(c.lang, key)), "</p>"));
  };
  const std::string by(absl::StripAsciiWhitespace(c.req.get_param_value("by")));
  if (action == "move") {
    v1::ReassignRequest r;
    r.set_assignment_id(c.req.get_param_value("aid"));
    r.set_to_worker(c.req.get_param_value("to"));
    r.set_decided_by(by);
    r.set_idempotency_key(absl::StrCat("move:", r.assignment_id(), ":", r.to_worker()));
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
  if (action == "reserve") {
    v1::StageReservation r;
    r.set_stage(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("stage"))));
    for (size_t i = 0; i < c.req.get_param_value_count("workers"); ++i) {
      r.add_workers(c.req.get_param_value("workers", i));
    }
    r.set_reserved_by(by);
    if (by.empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "decided_by")}}));
    }
    if (absl::Status s = state_->Reserve(r); !s.ok()) return error(std::string(s.message()));
    spdlog::info("event=web_stage_reserved stage={} workers={} by=\"{}\"", r.stage(),
                 absl::StrJoin(r.workers(), ","), by);
    return done("reserved");
  }
  if (action == "unreserve") {
    if (absl::Status s = state_->ClearReservation(c.req.get_param_value("stage")); !s.ok()) {
      return error(std::string(s.message()));
    }
    return done("unreserved");
  }
  std::string pseudonym = c.req.get_param_value("worker");
  if (action == "add") {
    v1::RosterEntry e;
    e.set_name(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("name"))));
    e.set_contact(std::string(absl::StripAsciiWhitespace(c.req.get_param_value("contact"))));
    if (e.name().empty()) {
      return error(m.Text(c.lang, "required_field", {{"field", m.Text(c.lang, "name")}}));
    }
    for (const char* field : {"languages", "skills"}) {
      for (absl::string_view v :
           absl::StrSplit(c.req.get_param_value(field), ',', absl::SkipWhitespace())) {
        const std::string value(absl::StripAsciiWhitespace(v));
        if (std::string(field) == "languages") {
          e.add_languages(value);
        } else {
          e.add_skills(value);
        }
      }
    }
    auto added = state_->AddWorker(e);
    if (!added.ok()) return error(std::string(added.status().message()));
    pseudonym = added->pseudonym();
    if (hooks_.roster_changed) hooks_.roster_changed();
    spdlog::info("event=web_worker_added worker={}", pseudonym);
  }
  auto worker = state_->Worker(pseudonym);
  if (!worker.has_value()) return error(absl::StrCat("worker: no worker ", pseudonym));
  if (action == "forget") {
    if (absl::Status s = state_->ForgetWorker(pseudonym); !s.ok()) {
      return error(std::string(s.message()));
    }
    {
      absl::MutexLock l(&mu_);
      absl::erase_if(sessions_, [&](const auto& kv) { return kv.second.worker == pseudonym; });
    }
    (void)state_->DeleteSessions(
        [&](const std::string&, const v1::WebSession& s) { return s.worker() == pseudonym; });
    if (hooks_.set_on_duty) hooks_.set_on_duty(pseudonym, false);
    spdlog::info("event=web_worker_forgotten worker={}", pseudonym);
    return ManagerPage(c, absl::StrCat("<p class=\"notice\" id=\"notice\">",
                                       Escape(m.Text(c.lang, "forgotten")), "</p>"));
  }
  if (action == "trained") {
    if (absl::Status s = state_->SetTrainingLevel(pseudonym, 1); !s.ok()) {
      return error(std::string(s.message()));
    }
    if (hooks_.roster_changed) hooks_.roster_changed();  // the dispatcher hears at once
    spdlog::info("event=web_worker_trained worker={}", pseudonym);
    return ManagerPage(c, absl::StrCat("<p class=\"notice\" id=\"notice\">",
                                       Escape(m.Text(c.lang, "marked_trained")), "</p>"));
  }
  auto code = state_->IssueSignInCode(pseudonym);
  if (!code.ok()) return error(std::string(code.status().message()));
  ManagerPage(c, absl::StrCat("<p class=\"notice\" id=\"notice\">",
                              Escape(m.Text(c.lang, "code_for", {{"name", worker->name()}})),
                              " <b id=\"code\">", *code, "</b><br>",
                              Escape(m.Text(c.lang, "code_once")), "</p>"));
}

}  // namespace mw::agent::web
