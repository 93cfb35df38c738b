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
#include "worker-agent/state/sign_in_code.h"
#include "worker-agent/web/html.h"
#include "worker-agent/web/messages.h"
#include "worker-agent/web/page_parts.h"

namespace mw::agent::web {

namespace {

constexpr char kSessionCookie[] = "mw_session";
constexpr char kLangCookie[] = "mw_lang";
// Before sign-in: the sign-in form's token, also sent as this cookie (double submit). Another
// site can neither read the cookie nor set it, so it cannot sign a phone into someone else's
// code (whose work would then be paid to them).
constexpr char kSignInCookie[] = "mw_signin";

// A token as NewSignInToken makes them: 32 lowercase hex digits.
bool IsSignInToken(absl::string_view t) {
  return t.size() == 32 && std::all_of(t.begin(), t.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

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
      server_(std::make_unique<GuardedServer>(options_.connection_limits)),
      throttle_(options_.sign_in_limits) {
  server_->set_default_headers(SecurityHeaders());
  server_->set_payload_max_length(kMaxBodyBytes);
  // A neighbour holding connections open with half-sent requests is cut off by each request's
  // deadline (GuardedServer); a reader too slow to take the reply, after this.
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

std::string WebServer::TokenKey(const std::string& token) { return ToHex(Sha256(token)); }

std::string WebServer::FormTokenOf(const std::string& session_token) {
  // A different input from TokenKey's: the stored session key does not give the form token.
  return ToHex(Sha256(absl::StrCat("form-token\n", session_token)));
}

std::string WebServer::NewSession(Session s) {
  const std::string token = ToHex(RandomBytes(16));
  v1::WebSession kept;
  kept.set_worker(s.worker);
  kept.set_manager(s.manager);
  kept.set_manager_name(s.manager_name);
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
  // Managers sign in again after a restart: a manager's session is only as good as the code it
  // was opened with, and which that was is not kept.
  (void)state_->DeleteSessions(
      [&](const std::string&, const v1::WebSession& s) { return s.manager(); });
  std::vector<std::string> workers;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [hash, kept] : state_->Sessions()) {
      if (kept.manager()) continue;
      Session s;
      s.worker = kept.worker();
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

void WebServer::EndManagerSessions(const std::string& name) {
  {
    absl::MutexLock l(&mu_);
    absl::erase_if(sessions_, [&](const auto& kv) {
      return kv.second.manager && kv.second.manager_name == name;
    });
  }
  (void)state_->DeleteSessions([&](const std::string&, const v1::WebSession& s) {
    return s.manager() && (s.manager_name().empty() ? centre::ManagerBook::kInstallationManager
                                                    : s.manager_name()) == name;
  });
}

std::string WebServer::InstallationMark() const {
  if (options_.manager_code.empty()) return "";
  return absl::StrCat("i", ToHex(Sha256(options_.manager_code)).substr(0, 16));
}

void WebServer::Routes() {
  // kReader: a manager or the workers' representative (who may only read); kManager: a manager.
  enum class Need { kNobody, kWorker, kReader, kManager };
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
      // A manager's session is as good as the code it was opened with: a new code, a revocation
      // or another installation code ends it.
      if (c.signed_in && c.session.manager) {
        std::string mark;
        if (c.session.manager_name == centre::ManagerBook::kInstallationManager) {
          mark = InstallationMark();
        } else if (auto now = state_->CurrentManagerCode(c.session.manager_name); now) {
          mark = now->mark;
          c.must_renew = now->code_by != now->name;
          c.session.rep = now->rep;
        }
        if (mark.empty() || !SecretsEqual(mark, c.session.code_mark)) {
          absl::MutexLock l(&mu_);
          sessions_.erase(TokenKey(c.token));
          c.signed_in = false;
          c.must_renew = false;
          c.session = Session();
        }
      }
      if (c.signed_in) c.form_token = FormTokenOf(c.token);
      if (c.signed_in && req.method == "POST" &&
          !SecretsEqual(FormValue(req, kFormTokenField), c.form_token)) {
        // A form the person did not send from this page (another site's, or a stale copy).
        spdlog::warn("event=web_form_token_refused path={} remote={}", req.path, req.remote_addr);
        c.res.status = 403;
        c.res.set_content(
            "Refused: this form did not come from this page. Go back, reload the "
            "page and send it again.",
            "text/plain; charset=utf-8");
        return;
      }
      const Messages& m = Messages::Get();
      c.lang = Cookie(req, kLangCookie);
      if (!m.Has(c.lang) && c.signed_in && !c.session.manager) {
        if (auto w = state_->Worker(c.session.worker); w.has_value()) c.lang = w->ui_language();
      }
      if (!m.Has(c.lang)) c.lang = "en";
      const bool allowed =
          need == Need::kNobody || (need == Need::kWorker && c.signed_in && !c.session.manager) ||
          // A representative on a manager's route is refused below, saying why.
          ((need == Need::kReader || need == Need::kManager) && c.signed_in && c.session.manager);
      if (!allowed) {
        c.Redirect("/signin");
        return;
      }
      // A representative may choose their own code (ManagerAccountAction allows only that).
      if (need == Need::kManager && c.signed_in && c.session.rep &&
          req.path != "/manage/managers/code") {
        c.res.status = 403;
        c.res.set_content(
            "Refused: the workers' representative reads the centre's ratings and complaints; "
            "deciding is for its managers.",
            "text/plain; charset=utf-8");
        return;
      }
      if ((need == Need::kManager || need == Need::kReader) && c.must_renew &&
          req.path != "/manage" && req.path != "/manage/managers/code") {
        c.res.status = 403;
        c.res.set_content(
            "Refused: your code was issued by someone else. Choose your own code on the manager's "
            "page first; until then nothing is decided in your name.",
            "text/plain; charset=utf-8");
        return;
      }
      if (auto n = req.get_param_value("notice"); !n.empty()) {
        std::vector<std::pair<std::string, std::string>> args;
        if (req.has_param("pay")) args.emplace_back("pay", req.get_param_value("pay"));
        c.notice =
            HtmlCat("<p class=\"notice\" id=\"notice\">", Escape(m.Text(c.lang, n, args)), "</p>");
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
  // A POST: choosing a language changes the worker's record, and a link on another site must
  // not do that.
  server_->Post("/lang", route(Need::kNobody, [this](Call& c) { Language(c); }));
  server_->Get("/task", route(Need::kWorker, [this](Call& c) { TaskPage(c); }));
  server_->Post("/task/start", route(Need::kWorker, [this](Call& c) { StartTask(c); }));
  server_->Post("/task/answer", route(Need::kWorker, [this](Call& c) { Answer(c, false); }));
  server_->Post("/task/skip", route(Need::kWorker, [this](Call& c) { Answer(c, true); }));
  server_->Get("/earnings", route(Need::kWorker, [this](Call& c) { EarningsPage(c); }));
  server_->Post("/dispute", route(Need::kWorker, [this](Call& c) { Dispute(c); }));
  server_->Get("/me", route(Need::kWorker, [this](Call& c) { DataPage(c, false); }));
  server_->Get("/me.json", route(Need::kWorker, [this](Call& c) { DataPage(c, true); }));
  server_->Get("/record.txt", route(Need::kWorker, [this](Call& c) { WorkRecord(c); }));
  server_->Get(R"(/media/([0-9a-f]{64}))", route(Need::kWorker, [this](Call& c) { MediaFile(c); }));
  server_->Get("/verify", route(Need::kNobody, [this](Call& c) { VerifyPage(c); }));
  server_->Post("/verify", route(Need::kNobody, [this](Call& c) { VerifyPage(c); }));
  server_->Get("/voice", route(Need::kWorker, [this](Call& c) { VoicePage(c); }));
  server_->Post("/voice/rate", route(Need::kWorker, [this](Call& c) { Rate(c); }));
  server_->Post("/voice/complain", route(Need::kWorker, [this](Call& c) { Complain(c); }));
  server_->Post("/task/flag", route(Need::kWorker, [this](Call& c) { FlagTask(c); }));
  server_->Get("/manage", route(Need::kReader, [this](Call& c) { ManagerPage(c, ""); }));
  server_->Get(R"(/manage/media/([0-9a-f]{64}))",
               route(Need::kManager, [this](Call& c) { ReviewMediaFile(c); }));
  server_->Post("/manage/complaint",
                route(Need::kManager, [this](Call& c) { AnswerComplaint(c); }));
  server_->Post("/manage/payouts/file",
                route(Need::kManager, [this](Call& c) { PaymentFileDownload(c); }));
  server_->Post("/manage/payouts/results",
                route(Need::kManager, [this](Call& c) { ImportPayoutResults(c); }));
  for (const char* action : {"add", "code", "forget", "trained", "resolve", "withhold", "move",
                             "reserve", "unreserve", "review", "team", "disband", "duty"}) {
    server_->Post(absl::StrCat("/manage/", action),
                  route(Need::kManager, [this, action](Call& c) { ManagerAction(c, action); }));
  }
  for (const char* action : {"add", "code", "revoke"}) {
    server_->Post(
        absl::StrCat("/manage/managers/", action),
        route(Need::kManager, [this, action](Call& c) { ManagerAccountAction(c, action); }));
  }
}

Html WebServer::Nav(const Call& c) const {
  const Messages& m = Messages::Get();
  Html nav = "<nav>";
  if (c.signed_in && !c.session.manager) {
    nav.Append("<a href=\"/task\">", Escape(m.Text(c.lang, "nav_task")),
               "</a><a href=\"/earnings\">", Escape(m.Text(c.lang, "nav_earnings")),
               "</a><a href=\"/voice\">", Escape(m.Text(c.lang, "nav_voice")),
               "</a><a href=\"/me\">", Escape(m.Text(c.lang, "nav_data")), "</a>");
  }
  for (const auto& l : m.languages()) {
    if (l == c.lang) continue;
    nav.Append("<form method=\"post\" action=\"/lang\" class=\"inline\">", c.FormToken(),
               Hidden("to", l), Hidden("back", c.req.path), "<button class=\"small\" lang=\"",
               Escape(l), "\">", Escape(m.Text(l, "language_name")), "</button></form>");
  }
  if (c.signed_in) {
    nav.Append("<form method=\"post\" action=\"/signout\" class=\"inline\">", c.FormToken(),
               "<button "
               "class=\"small\">",
               Escape(m.Text(c.lang, "sign_out")), "</button></form>");
  }
  return HtmlCat(nav, "</nav>");
}

void WebServer::Render(Call& c, const std::string& title, const Html& body, int refresh) {
  Html notice = c.notice;
  if (hooks_.online && !hooks_.online()) {
    notice.Append("<p class=\"notice\" id=\"offline\">",
                  Escape(Messages::Get().Text(c.lang, "offline")), "</p>");
  }
  c.res.set_header("Cache-Control", "no-store");
  c.res.set_content(
      Page({.lang = c.lang,
            .dir = Messages::Get().Text(c.lang, "text_direction") == "rtl" ? "rtl" : "ltr",
            .title = title,
            .nav = Nav(c),
            .notice = notice,
            .refresh_seconds = refresh},
           HtmlCat("<h1>", Escape(title), "</h1>", body)),
      "text/html; charset=utf-8");
}

// ---- Signing in ----

void WebServer::SignInPage(Call& c, const std::string& error) {
  const Messages& m = Messages::Get();
  if (!c.signed_in) {
    std::string pre = Cookie(c.req, kSignInCookie);
    if (!IsSignInToken(pre)) {
      pre = ToHex(RandomBytes(16));
      c.res.set_header("Set-Cookie", absl::StrCat(kSignInCookie, "=", pre,
                                                  "; Path=/signin; HttpOnly; SameSite=Strict"));
    }
    c.form_token = pre;
  }
  if (!error.empty()) {
    c.notice = HtmlCat("<p class=\"notice error\" id=\"error\">", Escape(error), "</p>");
  }
  Render(c, m.Text(c.lang, "sign_in"),
         HtmlCat("<form method=\"post\" action=\"/signin\">", c.FormToken(), "<label for=\"code\">",
                 Escape(m.Text(c.lang, "sign_in_code")),
                 "</label><input type=\"password\" id=\"code\" name=\"code\" "
                 "inputmode=\"numeric\" autocomplete=\"off\" required><p>",
                 Escape(m.Text(c.lang, "sign_in_help")), "</p><button class=\"primary\">",
                 Escape(m.Text(c.lang, "sign_in")), "</button></form>"));
}

void WebServer::SignIn(Call& c) {
  if (!c.signed_in) {
    const std::string pre = Cookie(c.req, kSignInCookie);
    if (!IsSignInToken(pre) || !SecretsEqual(FormValue(c.req, kFormTokenField), pre)) {
      spdlog::warn("event=web_form_token_refused path={} remote={}", c.req.path, c.req.remote_addr);
      c.res.status = 403;
      c.res.set_content(
          "Refused: this sign-in form did not come from this page. Open the sign-in page again.",
          "text/plain; charset=utf-8");
      return;
    }
  }
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
    s.manager_name = centre::ManagerBook::kInstallationManager;
    s.code_mark = InstallationMark();
  } else if (centre::ParseManagerCode(code).has_value()) {
    auto manager = state_->SignInManager(code);
    if (!manager.ok()) {
      throttle_.Failed(address, clock_->NowMs());
      spdlog::info("event=web_sign_in_wrong remote={} role=manager", address);
      c.res.status = 401;
      SignInPage(c, Messages::Get().Text(c.lang, "sign_in_wrong"));
      return;
    }
    s.manager = true;
    s.manager_name = manager->name;
    s.code_mark = manager->mark;
    s.rep = manager->rep;
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
  spdlog::info("event=web_sign_in role={} worker={} manager={}", s.manager ? "manager" : "worker",
               s.worker, s.manager_name);
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

}  // namespace mw::agent::web
