#include "services/utmctl/registry_commands.h"

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/volume_convert.h"
#include "services/utmctl/channel.h"
#include "services/utmctl/geo_commands.h"
#include "services/utmctl/intent_commands.h"
#include "services/utmctl/proto_json.h"
#include "services/utmctl/time_shift.h"
#include "utm/v1/registry.grpc.pb.h"

namespace utm::ctl {
namespace {

using Client = ServiceClient<v1::RegistryService>;

// "UA_TYPE_HELICOPTER_OR_MULTIROTOR" -> "helicopter-or-multirotor".
std::string UaTypeFlag(v1::UaType type) {
  std::string name = v1::UaType_Name(type).substr(8);
  absl::AsciiStrToLower(&name);
  absl::StrReplaceAll({{"_", "-"}}, &name);
  return name;
}

// The inverse, for --ua-type; a message listing the names otherwise.
absl::StatusOr<v1::UaType> ParseUaType(const std::string& flag) {
  std::string name = absl::StrCat("UA_TYPE_", flag);
  absl::AsciiStrToUpper(&name);
  absl::StrReplaceAll({{"-", "_"}}, &name);
  v1::UaType type;
  if (v1::UaType_Parse(name, &type)) return type;
  std::string names;
  for (int i = v1::UaType_MIN; i <= v1::UaType_MAX; ++i) {
    if (!v1::UaType_IsValid(i)) continue;
    absl::StrAppend(&names, names.empty() ? "" : ", ",
                    UaTypeFlag(static_cast<v1::UaType>(i)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--ua-type: '", flag, "' is none of ", names));
}

// One registration, human-readable: a line and its details.
void Print(const v1::AircraftRegistration& r) {
  const bool revoked = r.has_revoke_time();
  const bool expired =
      !revoked && r.has_expire_time() &&
      absl::FromUnixSeconds(r.expire_time().seconds()) <= absl::Now();
  std::cout << "registration " << r.serial_number() << ": "
            << (revoked   ? "REVOKED"
                : expired ? "EXPIRED"
                          : "IN FORCE")
            << ", " << r.mass_g() << " g, operator " << r.operator_id() << " ("
            << r.operator_registration_id() << "), version " << r.version()
            << "\n";
  if (!r.make_model().empty() || r.ua_type() != v1::UA_TYPE_NONE) {
    std::cout << "  aircraft: "
              << (r.make_model().empty() ? "-" : r.make_model()) << ", "
              << UaTypeFlag(r.ua_type()) << "\n";
  }
  std::cout << "  registered by " << r.registered_by() << " at "
            << Rfc3339(r.register_time())
            << (r.has_expire_time()
                    ? absl::StrCat(", expires ", Rfc3339(r.expire_time()))
                    : "")
            << "\n";
  if (revoked) {
    std::cout << "  revoked by " << r.revoked_by() << " at "
              << Rfc3339(r.revoke_time()) << ": " << r.revoke_reason() << "\n";
  }
}

int Answer(bool json, const grpc::Status& status,
           const google::protobuf::Message& response,
           const v1::AircraftRegistration& r) {
  if (!status.ok()) return ExitForStatus(status);
  if (json) {
    std::cout << ProtoJson(response) << "\n";
  } else {
    Print(r);
  }
  return 0;
}

}  // namespace

RegistryCommands::RegistryCommands(CLI::App* app) {
  registry_ = app->add_subcommand(
      "registry", "Register aircraft, revoke and read registrations");
  registry_->require_subcommand(1);
  registry_->fallthrough();
  AddConnectionFlags(registry_, &options_);

  register_ = registry_->add_subcommand(
      "register",
      "Register an aircraft, or replace its registration "
      "(regulator)");
  register_->add_option("serial", serial_, "Serial number (ANSI/CTA-2063-A)")
      ->required();
  register_->add_option("--mass-g", mass_g_, "Maximum take-off mass, grams")
      ->required();
  register_
      ->add_option("--operator", operator_id_,
                   "The operator who flies it (their token subject)")
      ->required();
  register_
      ->add_option("--operator-registration", operator_registration_,
                   "The operator's registration with the aviation authority")
      ->required();
  register_->add_option("--make-model", make_model_, "Make and model");
  register_->add_option(
      "--ua-type", ua_type_,
      "aeroplane, helicopter-or-multirotor, hybrid-lift, ...");
  register_->add_option(
      "--expires", expires_,
      "When it lapses: +DURATION (+8760h) or RFC 3339 (default: never)");
  register_->add_option(
      "--version", version_,
      "Replace this version of the registration in force (as last read)");

  revoke_ =
      registry_->add_subcommand("revoke", "Revoke a registration (regulator)");
  revoke_->add_option("serial", serial_, "Serial number")->required();
  revoke_->add_option("--reason", reason_, "Why; shown to the operator")
      ->required();

  get_ = registry_->add_subcommand(
      "get",
      "Show a registration (regulator, its operator, or law "
      "enforcement with --case)");
  get_->add_option("serial", serial_, "Serial number")->required();
  get_->add_option("--case", case_reference_,
                   "Law enforcement: the warrant, subpoena or court order id "
                   "(the read is audited)");

  list_ = registry_->add_subcommand(
      "list", "List registrations (regulator: all; operator: your own)");
  list_->add_option("--operator", operator_id_, "Only this operator's");
  list_->add_flag("--all", all_, "Revoked and expired ones too");
  for (CLI::App* c : {register_, revoke_, get_, list_}) c->fallthrough();
}

bool RegistryCommands::parsed() const { return registry_->parsed(); }

int RegistryCommands::Run() {
  if (register_->parsed()) return Register();
  if (revoke_->parsed()) return Revoke();
  if (get_->parsed()) return Get();
  if (list_->parsed()) return List();
  return kExitUsage;
}

int RegistryCommands::Register() {
  v1::RegisterAircraftRequest request;
  v1::AircraftRegistration* r = request.mutable_registration();
  r->set_serial_number(serial_);
  r->set_mass_g(mass_g_);
  r->set_operator_id(operator_id_);
  r->set_operator_registration_id(operator_registration_);
  r->set_make_model(make_model_);
  if (!ua_type_.empty()) {
    absl::StatusOr<v1::UaType> type = ParseUaType(ua_type_);
    if (!type.ok()) {
      std::cerr << type.status().message() << "\n";
      return kExitUsage;
    }
    r->set_ua_type(*type);
  }
  if (!expires_.empty()) {
    absl::StatusOr<absl::Time> at =
        ParseStartTime(expires_, RealClock::Get()->Now());
    if (!at.ok()) {
      std::cerr << absl::StrReplaceAll(at.status().message(),
                                       {{"--start", "--expires"}})
                << "\n";
      return kExitUsage;
    }
    *r->mutable_expire_time() = TimeToProto(*at);
  }
  request.set_version(version_);
  Client client(options_);
  v1::RegisterAircraftResponse response;
  const grpc::Status status = client.stub()->RegisterAircraft(
      client.Context().get(), request, &response);
  return Answer(options_.json, status, response, response.registration());
}

int RegistryCommands::Revoke() {
  v1::RevokeRegistrationRequest request;
  request.set_serial_number(serial_);
  request.set_reason(reason_);
  Client client(options_);
  v1::RevokeRegistrationResponse response;
  const grpc::Status status = client.stub()->RevokeRegistration(
      client.Context().get(), request, &response);
  return Answer(options_.json, status, response, response.registration());
}

int RegistryCommands::Get() {
  v1::GetRegistrationRequest request;
  request.set_serial_number(serial_);
  request.set_case_reference(case_reference_);
  Client client(options_);
  v1::GetRegistrationResponse response;
  const grpc::Status status = client.stub()->GetRegistration(
      client.Context().get(), request, &response);
  return Answer(options_.json, status, response, response.registration());
}

int RegistryCommands::List() {
  v1::ListRegistrationsRequest request;
  request.set_operator_id(operator_id_);
  request.set_include_inactive(all_);
  request.set_page_size(1000);
  Client client(options_);
  int count = 0;
  while (true) {
    v1::ListRegistrationsResponse response;
    const grpc::Status status = client.stub()->ListRegistrations(
        client.Context().get(), request, &response);
    if (!status.ok()) return ExitForStatus(status);
    for (const v1::AircraftRegistration& r : response.registrations()) {
      ++count;
      if (options_.json) {
        std::cout << ProtoJson(r) << "\n";
      } else {
        Print(r);
      }
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!options_.json) std::cout << count << " registration(s)\n";
  return 0;
}

}  // namespace utm::ctl
