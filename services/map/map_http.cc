#include "services/map/map_http.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "services/common/listen_address.h"

namespace utm::map {
namespace {

using nlohmann::json;

constexpr char kCookie[] = "utm_map_token";
constexpr size_t kMaxBodyBytes = 16 * 1024;

int HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatus(status.code());
  res.set_content(json{{"code", absl::StatusCodeToString(status.code())},
                       {"message", std::string(status.message())}}
                      .dump(),
                  "application/json");
}

// The value of our cookie in the request's Cookie header; empty if none.
std::string CookieToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Cookie");
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, kCookie) &&
        absl::ConsumePrefix(&part, "=")) {
      return std::string(part);
    }
  }
  return "";
}

// The Set-Cookie header that keeps `value` for `max_age_s` seconds (0:
// forgets it), out of the page's script's reach.
std::string SessionCookie(absl::string_view value, int64_t max_age_s,
                          bool tls) {
  return absl::StrCat(kCookie, "=", value,
                      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=",
                      max_age_s, tls ? "; Secure" : "");
}

// Who `token` speaks for, if it may see the map: a valid token carrying at
// least one scope this server knows.
absl::StatusOr<auth::Principal> MapCaller(const auth::Verifier& verifier,
                                          const std::string& token) {
  absl::StatusOr<auth::Principal> p = verifier.Verify(token);
  if (p.ok() && p->scopes.empty()) {
    return absl::PermissionDeniedError(
        "the token carries no scope this server knows");
  }
  return p;
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<std::unique_ptr<MapHttpServer>> MapHttpServer::Start(
    MapHttpOptions options, MapFeed* feed, const auth::Verifier* verifier,
    const Clock* clock) {
  std::unique_ptr<MapHttpServer> s(new MapHttpServer());
  absl::StatusOr<ListenAddress> address =
      ParseListenAddress(options.listen, "--http");
  if (!address.ok()) return address.status();
  const std::string host = address->host;
  int port = address->port;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--http with TLS needs both --tls-cert and --tls-key");
  }
  if (!options.tls_cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--http: cannot load the TLS certificate ", options.tls_cert_file,
          " or its key ", options.tls_key_file));
    }
    s->server_ = std::move(ssl);
    s->tls_ = true;
  } else {
    s->server_ = std::make_unique<httplib::Server>();
  }
  s->options_ = std::move(options);
  s->feed_ = feed;
  s->verifier_ = verifier;
  s->clock_ = clock;
  if (s->options_.assets != nullptr) {
    s->assets_ = s->options_.assets;
    s->asset_count_ = s->options_.asset_count;
  } else {
    s->assets_ = EmbeddedMapAssets(&s->asset_count_);
  }
  // One worker per event stream, and spares for the rest, so that streams
  // never starve the page and sign-in.
  const size_t threads =
      s->options_.max_streams + static_cast<size_t>(s->options_.spare_threads);
  s->server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(threads);
  };
  s->server_->set_payload_max_length(kMaxBodyBytes);
  s->server_->set_read_timeout(5, 0);
  const int64_t write_us = absl::ToInt64Microseconds(s->options_.write_timeout);
  s->server_->set_write_timeout(write_us / 1000000, write_us % 1000000);
  s->server_->set_keep_alive_max_count(20);
  s->server_->set_keep_alive_timeout(2);
  s->Routes();
  if (port == 0) {
    port = s->server_->bind_to_any_port(host);
    if (port < 0) {
      return absl::UnavailableError(
          absl::StrCat("--http: cannot listen on ", host, ":0"));
    }
  } else if (!s->server_->bind_to_port(host, port)) {
    return absl::UnavailableError(absl::StrCat(
        "--http: cannot listen on ", s->options_.listen, " (in use?)"));
  }
  s->port_ = port;
  httplib::Server* server = s->server_.get();
  s->thread_ = std::thread([server] { server->listen_after_bind(); });
  return s;
}

MapHttpServer::~MapHttpServer() { Shutdown(); }

void MapHttpServer::Shutdown() {
  if (!thread_.joinable()) return;
  feed_->CloseAll();  // streams end at once
  server_->stop();
  thread_.join();
}

void MapHttpServer::Routes() {
  httplib::Server& svr = *server_;
  svr.set_default_headers(
      {{"X-Content-Type-Options", "nosniff"},
       {"Referrer-Policy", "no-referrer"},
       {"Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: https: http:; "
        "style-src 'self' 'unsafe-inline'; connect-src 'self'"}});
  // Unknown paths and httplib's own refusals (413 for a body past the
  // limit, ...) answer JSON too.
  // (cpp-httplib 0.11.4 declares but never defines the overload taking a
  // void handler: this is the one returning HandlerResponse.)
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req,
         httplib::Response& res) -> httplib::Server::HandlerResponse {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        absl::Status s =
            res.status == 404
                ? absl::NotFoundError(absl::StrCat("no such path: ", req.path))
            : res.status == 413
                ? absl::InvalidArgumentError(absl::StrCat(
                      "body: larger than ", kMaxBodyBytes, " bytes"))
                : absl::InvalidArgumentError(absl::StrCat(
                      "the request was refused (HTTP ", res.status, ")"));
        const int status = res.status;
        SendError(res, s);
        res.status = status;
        return httplib::Server::HandlerResponse::Handled;
      }));

  // Static files.
  if (asset_count_ == 0) {
    svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(
          "This utmd was built without the map's web assets: run `npm ci` "
          "in web/ and rebuild (docs/map.md). The event stream "
          "(/api/events) works without them.\n",
          "text/plain; charset=utf-8");
    });
  }
  for (size_t i = 0; i < asset_count_; ++i) {
    const MapAsset* a = &assets_[i];
    auto serve = [a](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(reinterpret_cast<const char*>(a->data), a->size,
                      a->content_type);
    };
    svr.Get(a->path, serve);
    if (std::string(a->path) == "/index.html") svr.Get("/", serve);
  }

  svr.Get(
      "/api/config", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(json{{"tile_url", options_.tile_url},
                             {"tile_attribution", options_.tile_attribution}}
                            .dump(),
                        "application/json");
      });

  // Sign-in: the token once, then a cookie the page's script cannot read.
  svr.Post("/api/session", [this](const httplib::Request& req,
                                  httplib::Response& res) {
    // JSON only: a cross-site HTML form cannot send it, so another site
    // cannot sign a browser in under a token of its choosing.
    if (!absl::StartsWith(req.get_header_value("Content-Type"),
                          "application/json")) {
      SendError(res, absl::InvalidArgumentError(
                         "Content-Type: want application/json"));
      return;
    }
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      SendError(res, absl::InvalidArgumentError(
                         "body: want a JSON object {\"token\": \"<JWT>\"}"));
      return;
    }
    auto it = body.find("token");
    if (it == body.end() || !it->is_string() ||
        it->get<std::string>().empty()) {
      SendError(res, absl::InvalidArgumentError(
                         "body.token: required, a string (the JWT)"));
      return;
    }
    const std::string token = it->get<std::string>();
    absl::StatusOr<auth::Principal> p = MapCaller(*verifier_, token);
    if (!p.ok()) {
      SendError(res, p.status());
      return;
    }
    const int64_t max_age =
        std::max<int64_t>(0, absl::ToInt64Seconds(p->expires - clock_->Now()));
    res.set_header("Set-Cookie", SessionCookie(token, max_age, tls_));
    res.set_content(
        json{{"subject", p->subject}, {"expires", TimeText(p->expires)}}.dump(),
        "application/json");
  });
  svr.Get("/api/session",
          [this](const httplib::Request& req, httplib::Response& res) {
            const std::string token = CookieToken(req);
            if (token.empty()) {
              SendError(res, absl::UnauthenticatedError("not signed in"));
              return;
            }
            absl::StatusOr<auth::Principal> p = verifier_->Verify(token);
            if (!p.ok()) {
              SendError(res, p.status());
              return;
            }
            json scopes = json::array();
            for (auth::Scope s : p->scopes) {
              scopes.push_back(std::string(auth::ScopeName(s)));
            }
            res.set_content(json{{"subject", p->subject},
                                 {"scopes", std::move(scopes)},
                                 {"expires", TimeText(p->expires)}}
                                .dump(),
                            "application/json");
          });
  svr.Delete("/api/session",
             [this](const httplib::Request&, httplib::Response& res) {
               res.set_header("Set-Cookie", SessionCookie("", 0, tls_));
               res.status = 204;
             });

  // The event stream.
  svr.Get("/api/events", [this](const httplib::Request& req,
                                httplib::Response& res) {
    const std::string token = CookieToken(req);
    if (token.empty()) {
      SendError(res, absl::UnauthenticatedError(
                         "not signed in: POST /api/session first"));
      return;
    }
    absl::StatusOr<auth::Principal> p = MapCaller(*verifier_, token);
    if (!p.ok()) {
      SendError(res, p.status());
      return;
    }
    if (!req.has_param("bbox")) {
      SendError(res, absl::InvalidArgumentError(
                         "bbox: required (min_lat,min_lng,max_lat,max_lng)"));
      return;
    }
    absl::StatusOr<MapArea> area =
        ParseMapArea(req.get_param_value("bbox"), "bbox");
    if (!area.ok()) {
      SendError(res, area.status());
      return;
    }
    absl::StatusOr<std::shared_ptr<MapClient>> client =
        feed_->Connect(MapViewer::Of(*p), *area);
    if (!client.ok()) {
      SendError(res, client.status());
      return;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    const absl::Time expires = p->expires;
    std::shared_ptr<MapClient> held = *std::move(client);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, held, expires](size_t, httplib::DataSink& sink) {
          const absl::Time now = clock_->Now();
          if (now >= expires) {
            const std::string bye = "event: expired\ndata: {}\n\n";
            sink.write(bye.data(), bye.size());
            sink.done();
            return true;
          }
          std::vector<MapEvent> events;
          if (!feed_->Next(held.get(),
                           std::min(options_.keepalive, expires - now),
                           &events)) {
            sink.done();
            return true;
          }
          std::string text;
          for (const MapEvent& e : events) {
            absl::StrAppend(&text, "event: ", e.type, "\ndata: ", e.data,
                            "\n\n");
          }
          if (text.empty()) text = ": keep-alive\n\n";
          return sink.write(text.data(), text.size());
        },
        [this, held](bool) { feed_->Disconnect(held.get()); });
  });
}

}  // namespace utm::map
