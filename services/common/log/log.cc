#include "services/common/log/log.h"

#include <grpc/support/log.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cinttypes>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace utm::log {

namespace {

struct State {
  Options options;
  std::shared_ptr<spdlog::logger> logger;
};

State& GetState() {
  static State* state = [] {
    auto* s = new State;
    // The message is the whole line: rendered by Render(), so "%v".
    s->logger = std::make_shared<spdlog::logger>(
        "utm", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->logger->set_pattern("%v");
    s->logger->set_level(spdlog::level::trace);
    s->logger->flush_on(spdlog::level::trace);
    return s;
  }();
  return *state;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

void GrpcLog(gpr_log_func_args* args) {
  const Level level = args->severity == GPR_LOG_SEVERITY_ERROR  ? Level::kError
                      : args->severity == GPR_LOG_SEVERITY_INFO ? Level::kInfo
                                                                : Level::kDebug;
  Line line(level);
  line.With("source", "grpc");
  if (Sensitive()) {
    line.With("file", args->file != nullptr ? args->file : "");
    line.With("line", args->line);
  }
  line << (args->message != nullptr ? args->message : "");
}

}  // namespace

void Configure(Options options) { GetState().options = std::move(options); }

absl::StatusOr<Format> ParseFormat(absl::string_view text) {
  if (text == "text") return Format::kText;
  if (text == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", text, "\": expected text or json"));
}

absl::StatusOr<Level> ParseLevel(absl::string_view text) {
  for (Level level :
       {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (text == LevelName(level)) return level;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "log level \"", text, "\": expected debug, info, warning or error"));
}

bool Enabled(Level level) { return level >= GetState().options.level; }

bool Sensitive() { return GetState().options.sensitive; }

void CaptureGrpcLogs() { gpr_set_log_function(&GrpcLog); }

std::string Render(const Options& options, Level level,
                   absl::string_view message, const std::vector<Field>& fields,
                   absl::Time time) {
  // Messages are written as one line: a trailing newline (as the old
  // "...\n" habit leaves) is dropped, inner ones are kept escaped in JSON.
  message = absl::StripTrailingAsciiWhitespace(message);
  if (options.format == Format::kText) {
    std::string line = absl::StrCat(options.program, ": ", message);
    for (const Field& field : fields) {
      // Quoted (C escapes) where a bare value would not read back as one.
      const bool bare =
          !field.value.empty() &&
          field.value.find_first_of(" \"=\\\t\n") == std::string::npos;
      absl::StrAppend(
          &line, " ", field.key, "=",
          bare ? field.value
               : absl::StrCat("\"", absl::CEscape(field.value), "\""));
    }
    return line;
  }
  nlohmann::ordered_json json;
  json["time"] =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
  json["level"] = LevelName(level);
  json["logger"] = options.program;
  json["msg"] = std::string(message);
  for (const Field& field : fields) {
    if (field.number) {
      json[field.key] = nlohmann::json::parse(field.value, nullptr,
                                              /*allow_exceptions=*/false);
    } else {
      json[field.key] = field.value;
    }
  }
  // Invalid UTF-8 in a message (a hostile request's text, logged only when
  // sensitive) is replaced, never thrown on.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Line::Line(Level level) : level_(level), enabled_(Enabled(level)) {}

Line::~Line() {
  if (!enabled_) return;
  const State& state = GetState();
  state.logger->info(
      Render(state.options, level_, message_.str(), fields_, absl::Now()));
}

Line& Line::With(absl::string_view key, absl::string_view value) {
  if (enabled_) fields_.push_back({std::string(key), std::string(value)});
  return *this;
}

Line& Line::With(absl::string_view key, int64_t value) {
  if (enabled_) {
    fields_.push_back({std::string(key), absl::StrCat(value), true});
  }
  return *this;
}

Line& Line::With(absl::string_view key, double value) {
  if (enabled_) {
    fields_.push_back({std::string(key), absl::StrCat(value), true});
  }
  return *this;
}

}  // namespace utm::log
