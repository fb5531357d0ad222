#include "services/utmctl/intent_list_command.h"

#include <grpcpp/client_context.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/proto_json.h"
#include "utm/v1/strategic.grpc.pb.h"

namespace utm::ctl {

IntentListCommand::IntentListCommand(CLI::App* intent,
                                     const IntentOptions* options)
    : list_(intent->add_subcommand(
          "list", "List your own intents (by your token's subject)")),
      options_(options) {
  list_->add_option("--state", states_,
                    "Only intents in this state, repeatable: accepted, "
                    "activated, nonconforming, contingent, ended, cancelled "
                    "(default: the first four)");
  list_->add_option("--page-size", page_size_,
                    "Intents per call (default: the server's, 100)")
      ->check(CLI::Range(1, 1000));
}

int IntentListCommand::Run() const {
  v1::ListIntentsRequest request;
  for (const std::string& name : states_) {
    v1::IntentState state;
    if (!v1::IntentState_Parse(
            absl::StrCat("INTENT_STATE_", absl::AsciiStrToUpper(name)),
            &state) ||
        state == v1::INTENT_STATE_UNSPECIFIED) {
      std::cerr << "--state \"" << name
                << "\": want accepted, activated, nonconforming, contingent, "
                   "ended or cancelled\n";
      return 2;
    }
    request.add_states(state);
  }
  request.set_page_size(page_size_);
  ServiceClient<v1::StrategicCoordination> client(*options_);
  int count = 0;
  while (true) {
    v1::ListIntentsResponse response;
    const grpc::Status status =
        client.stub()->ListIntents(client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::FlightIntent& intent : response.intents()) {
      ++count;
      if (options_->json) {
        std::cout << ProtoJson(intent) << "\n";
        continue;
      }
      // "INTENT_STATE_ACCEPTED" -> "ACCEPTED".
      std::cout << absl::StrFormat(
          "intent %s: %s, priority %d, version %d, %d volume(s)%s\n",
          intent.id(), v1::IntentState_Name(intent.state()).substr(13),
          intent.priority(), intent.version(), intent.volumes_size(),
          intent.no_retention() ? ", not retained" : "");
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options_->json) std::cout << count << " intent(s)\n";
  return 0;
}

}  // namespace utm::ctl
