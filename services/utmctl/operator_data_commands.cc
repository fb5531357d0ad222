#include "services/utmctl/operator_data_commands.h"

#include <algorithm>
#include <iostream>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/export_archive.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "utm/v1/operator.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::OperatorService>;

// Archives larger than this are refused while receiving (a server that
// sends without end must not fill the disk or the memory).
constexpr size_t kMaxArchiveBytes = size_t{4} << 30;

// A path the archive may hold: relative, no "..", no empty part.
bool SafePath(const std::string& path) {
  if (path.empty() || path.size() > 255 || path[0] == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

OperatorDataCommands::OperatorDataCommands(CLI::App* operator_command,
                                           const ConnectionOptions* options)
    : options_(options) {
  export_ = operator_command->add_subcommand(
      "export",
      "Everything utmd holds about you as one tar.gz archive of documented "
      "JSON files (its README.md says what each holds)");
  export_->add_option("--out", out_, "The archive to write (.tar.gz)")
      ->required();
  erase_ = operator_command->add_subcommand(
      "erase",
      "Erase everything utmd holds about you (flights must have ended). It "
      "cannot be undone");
  erase_
      ->add_option("--confirm", confirm_,
                   "Your own operator id (the token's subject), to confirm")
      ->required();
}

bool OperatorDataCommands::parsed() const {
  return export_->parsed() || erase_->parsed();
}

int OperatorDataCommands::Run() {
  if (export_->parsed()) return Export();
  if (erase_->parsed()) return Erase();
  return kExitUsage;
}

int OperatorDataCommands::Export() {
  Client client(*options_);
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  std::unique_ptr<grpc::ClientReader<v1::ArchivePiece>> reader =
      client.stub()->ExportData(context.get(), v1::ExportDataRequest());
  std::map<std::string, std::string> files;
  std::string last;
  size_t total = 0;
  v1::ArchivePiece piece;
  while (reader->Read(&piece)) {
    if (!SafePath(piece.path()) ||
        (piece.path() != last && files.count(piece.path()) > 0)) {
      context->TryCancel();
      std::cerr << "the server sent a bad file name: \""
                << absl::CHexEscape(piece.path().substr(0, 100)) << "\"\n";
      return kExitServer;
    }
    total += piece.data().size();
    if (total > kMaxArchiveBytes) {
      context->TryCancel();
      std::cerr << "the archive is larger than " << (kMaxArchiveBytes >> 30)
                << " GiB; stopped\n";
      return kExitServer;
    }
    last = piece.path();
    files[last].append(piece.data());
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ExitForStatus(status);
  if (absl::Status whole = CheckArchiveManifest(files); !whole.ok()) {
    std::cerr << "the export is incomplete: " << whole.message() << "\n";
    return kExitServer;
  }
  if (absl::Status written = WriteTarGz(out_, files); !written.ok()) {
    std::cerr << written.message() << "\n";
    return kExitIo;
  }
  for (const auto& [path, bytes] : files) {
    std::cout << path << " " << bytes.size() << " bytes\n";
  }
  std::cout << "wrote " << out_ << ": " << files.size()
            << " files, checked against manifest.json\n";
  return 0;
}

int OperatorDataCommands::Erase() {
  Client client(*options_);
  v1::EraseDataRequest request;
  request.set_confirm(confirm_);
  v1::EraseDataResponse response;
  // An erasure waits for the store, the ledger and the audit log: longer
  // than a usual call.
  std::unique_ptr<grpc::ClientContext> context = client.StreamContext();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::minutes(5));
  const grpc::Status status =
      client.stub()->EraseData(context.get(), request, &response);
  if (!status.ok()) return ExitForStatus(status);
  if (options_->json) {
    std::cout << ProtoJson(response) << "\n";
    return 0;
  }
  std::cout << "erased: " << response.intents_erased() << " intents, "
            << response.flight_logs_erased() << " flight logs, "
            << response.registrations_erased() << " registrations"
            << (response.settings_erased() ? ", your data settings" : "")
            << "\n";
  if (response.registrations_kept_size() > 0) {
    std::cout << "kept (in force, the registry's record): registrations";
    for (const std::string& serial : response.registrations_kept()) {
      std::cout << " " << serial;
    }
    std::cout << "\n";
  }
  std::cout << "pseudonymised: " << response.audit_entries_pseudonymised()
            << " audit entries now say " << response.pseudonym()
            << " instead of your id\n";
  return 0;
}

}  // namespace utm::ctl
