// utmd's log: one line per event on stderr, as text (the default) or as one
// JSON object per line for log pipelines (--log-format json).
//
// Text lines read "utmd: <message>" followed by any fields as key=value;
// JSON lines carry "time" (RFC 3339, UTC), "level", "logger", "msg" and the
// fields. Lines about a call carry its "request_id", the id also returned to
// the client in the response metadata (services/common/rpc_observer.h).
//
// What may be logged: operator identities (token subjects), coordinates,
// peer addresses and the texts of refused requests only when
// Options::sensitive is set (--log-sensitive, for debugging); code that logs
// such a value asks Sensitive() first.
//
// Typical usage:
//   utm::log::Options options;
//   options.format = utm::log::Format::kJson;
//   utm::log::Configure(options);
//   UTM_LOG(kInfo) << "port " << port << " claimed";
//   UTM_LOG(kWarning).With("request_id", id) << "call failed";
#ifndef UTM_SERVICES_COMMON_LOG_LOG_H_
#define UTM_SERVICES_COMMON_LOG_LOG_H_

#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace utm::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kText, kJson };

struct Options {
  Format format = Format::kText;
  // Lines below it are dropped. DEFAULT: info (debug adds one line per call).
  Level level = Level::kInfo;
  // Identities, coordinates, peers and refusal texts may be logged.
  // DEFAULT: off.
  bool sensitive = false;
  // "logger" of JSON lines and the prefix of text lines.
  std::string program = "utmd";
};

// Sets the process's log options (once, before serving; not thread-safe with
// concurrent logging). Until called: text, info, not sensitive, "utmd".
void Configure(Options options);

// "text" or "json"; "debug", "info", "warning" or "error". INVALID_ARGUMENT
// naming the accepted words otherwise.
absl::StatusOr<Format> ParseFormat(absl::string_view text);
absl::StatusOr<Level> ParseLevel(absl::string_view text);

bool Enabled(Level level);
bool Sensitive();

// Routes gRPC's own log lines (gpr_log) into this log, so that a JSON log
// holds nothing but JSON.
void CaptureGrpcLogs();

// A field of a line: its value as text lines write it, and whether JSON
// writes it as a number.
struct Field {
  std::string key;
  std::string value;
  bool number = false;
};

// Renders one line as the log writes it (without the newline).
std::string Render(const Options& options, Level level,
                   absl::string_view message, const std::vector<Field>& fields,
                   absl::Time time);

// One line: a message built with <<, and fields; written (whole, in one
// write) when destroyed. Cheap when its level is disabled.
class Line {
 public:
  explicit Line(Level level);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& With(absl::string_view key, absl::string_view value);
  Line& With(absl::string_view key, const char* value) {
    return With(key, absl::string_view(value));
  }
  Line& With(absl::string_view key, const std::string& value) {
    return With(key, absl::string_view(value));
  }
  Line& With(absl::string_view key, int64_t value);
  Line& With(absl::string_view key, int value) {
    return With(key, static_cast<int64_t>(value));
  }
  Line& With(absl::string_view key, double value);

  template <typename T>
  Line& operator<<(const T& value) {
    if (enabled_) message_ << value;
    return *this;
  }

 private:
  const Level level_;
  const bool enabled_;
  std::ostringstream message_;
  std::vector<Field> fields_;
};

}  // namespace utm::log

#define UTM_LOG(level) ::utm::log::Line(::utm::log::Level::level)

#endif  // UTM_SERVICES_COMMON_LOG_LOG_H_
