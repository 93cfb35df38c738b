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
#include "worker-agent/web/page_parts.h"

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

// A local path to go back to, never another site: browsers read "//host" and "/\\host" as
// another host, so a path must not start with either, and carries no backslash or control
// character at all.
std::string SafeBack(const std::string& back) {
  if (back.empty() || back[0] != '/' || (back.size() > 1 && back[1] == '/')) return "/";
  for (char ch : back) {
    if (ch == '\\' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) return "/";
  }
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
  if (!options.manager_code.empty() && options.manager_code.size() < kMinManagerCode) {
    return absl::InvalidArgumentError(
        absl::StrCat("--manager-code-file: the code must have at least ", kMinManagerCode,
                     " characters, got ", options.manager_code.size()));
  }
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
      server_(std::make_unique<httplib::Server>()),
      throttle_(options_.sign_in_limits) {
  server_->set_default_headers(SecurityHeaders());
  server_->set_payload_max_length(kMaxBodyBytes);
  // A neighbour holding connections open with half-sent requests is cut off after this.
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_keep_alive_timeout(5);
  // Runs on the headers, before any body is read.
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST") return httplib::Server::HandlerResponse::Unhandled;
    uint64_t length = 0;
    const bool chunked = req.has_header("Transfer-Encoding");
    if (chunked || !absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) ||
        length > kMaxBodyBytes) {
      res.status = length > kMaxBodyBytes ? 413 : 411;  // 411: no length given
      res.set_header("Connection", "close");
      res.set_content(absl::StrCat("Refused: a form is sent with a Content-Length of at most ",
                                   kMaxBodyBytes, " bytes."),
                      "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string why = CrossSiteReason(req);
    if (why.empty()) return httplib::Server::HandlerResponse::Unhandled;
    spdlog::warn("event=web_cross_site_refused path={} remote={} why=\"{}\"", req.path,
                 req.remote_addr, why);
    res.status = 403;
    res.set_content("Refused: this form was sent from another site.", "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
}

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
  s.created_at_ms = kept.created_at_ms();
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
      s.created_at_ms = kept.created_at_ms();
      sessions_[hash] = s;
      if (!s.manager) workers.push_back(s.worker);
    }
  }
  if (hooks_.set_on_duty) {
    for (const auto& w : workers) hooks_.set_on_duty(w, true);
  }
}

void WebServer::EndSessions(const std::string& pseudonym) {
  {
    absl::MutexLock l(&mu_);
    absl::erase_if(sessions_, [&](const auto& kv) {
      return !kv.second.manager && kv.second.worker == pseudonym;
    });
  }
  (void)state_->DeleteSessions([&](const std::string&, const v1::WebSession& s) {
    return !s.manager() && s.worker() == pseudonym;
  });
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
          if (clock_->NowMs() - it->second.created_at_ms < options_.session_hours * 3'600'000) {
            c.session = it->second;
            c.signed_in = true;
          } else {
            sessions_.erase(it);  // too old: sign in again (the store drops it at restart)
          }
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
  for (const char* action : {"add", "code", "forget", "trained", "resolve", "move", "reserve",
                             "unreserve", "review", "team", "disband", "duty"}) {
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
                    "<form method=\"post\" action=\"/signout\" class=\"inline\"><button "
                    "class=\"small\">",
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
  const std::string& address = c.req.remote_addr;
  if (const int64_t wait_ms = throttle_.WaitMs(address, clock_->NowMs()); wait_ms > 0) {
    const int64_t minutes = (wait_ms + 59'999) / 60'000;
    spdlog::warn("event=web_sign_in_throttled remote={} wait_ms={}", address, wait_ms);
    c.res.status = 429;
    c.res.set_header("Retry-After", absl::StrCat((wait_ms + 999) / 1000));
    SignInPage(c,
               Messages::Get().Text(c.lang, "sign_in_wait", {{"minutes", absl::StrCat(minutes)}}));
    return;
  }
  Session s;
  if (!options_.manager_code.empty() && SecretsEqual(code, options_.manager_code)) {
    s.manager = true;
  } else {
    auto worker = state_->SignIn(code);
    if (!worker.ok()) {
      throttle_.Failed(address, clock_->NowMs());
      spdlog::info("event=web_sign_in_wrong remote={}", address);
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
                   "</p><button type=\"button\" class=\"say\" data-say=\"instructions\">",
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
                   // Multipart: a long answer in a script of three bytes a character fits
                   // (a URL-encoded form is capped at 8 KB by the HTTP library).
                   "<form method=\"post\" action=\"/task/answer\" id=\"answer\" "
                   "enctype=\"multipart/form-data\" data-idle-ms=\"",
                   std::max<int64_t>(120'000, int64_t{est} * 2000), "\"><h2>",
                   Escape(m.Text(c.lang, "your_answer")), "</h2>", ids,
                   AnswerFields(stage.answer(), m, c.lang),
                   "<button class=\"primary\" id=\"save\">", Escape(m.Text(c.lang, "save_answer")),
                   "</button></form><form method=\"post\" action=\"/task/skip\" "
                   "id=\"skip\"><h2>",
                   Escape(m.Text(c.lang, "skip")), "</h2>", ids, "<label for=\"reason\">",
                   Escape(m.Text(c.lang, "skip_reason")),
                   "</label><select name=\"reason\" id=\"reason\">", reasons, "</select><button>",
                   Escape(m.Text(c.lang, "skip")), "</button></form>"));
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
  if (!absl::SimpleAtoi(FormValue(c.req, "hidden_ms"), &hidden_ms)) hidden_ms = 0;
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
  shown.clear_sign_in_code_sha256();  // not theirs to need, and secrets
  shown.clear_sign_in_verifier();
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

}  // namespace mw::agent::web
