#include "services/common/listen_address.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace utm {

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view address,
                                                 absl::string_view what) {
  const size_t colon = address.rfind(':');
  ListenAddress parsed;
  parsed.port = -1;
  if (colon != absl::string_view::npos && colon > 0) {
    absl::string_view host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    parsed.host = std::string(host);
  }
  const absl::string_view port =
      colon == absl::string_view::npos ? "" : address.substr(colon + 1);
  if (parsed.host.empty() || port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &parsed.port) || parsed.port < 0 ||
      parsed.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", address,
                     "\": expected host:port with a port from 0 to 65535"));
  }
  return parsed;
}

}  // namespace utm
