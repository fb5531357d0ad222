// utmd: the UTM deconfliction server. One process serves every service of
// the product; see README.md and docs/architecture.md.
//
// Signals: SIGTERM or SIGINT drain the server (new calls refused, calls in
// flight get --shutdown-grace) and exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/server.h"

int main(int argc, char** argv) {
  CLI::App app{"utmd: UTM airspace deconfliction server"};
  utm::ServerOptions options;
  std::string data_dir = "utmd-data";
  double grace_s = 10;
  app.add_option("--listen", options.listen_address,
                 "host:port to serve gRPC on (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir,
                 "Directory for durable state (created if missing)")
      ->capture_default_str();
  app.add_option("--shutdown-grace", grace_s,
                 "Seconds calls in flight get to finish on SIGTERM")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  // Block the stop signals in every thread (gRPC's included) and take them
  // synchronously below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    std::cerr << "utmd: cannot create --data-dir " << data_dir << ": "
              << error.message() << "\n";
    return 1;
  }

  absl::StatusOr<std::unique_ptr<utm::Server>> server =
      utm::Server::Start(options, /*services=*/{});
  if (!server.ok()) {
    std::cerr << "utmd: " << server.status() << "\n";
    return 1;
  }
  const std::string host =
      options.listen_address.substr(0, options.listen_address.rfind(':'));
  std::cout << "utmd: listening on " << host << ":" << (*server)->port()
            << " (data in " << data_dir << ")" << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "utmd: " << strsignal(signal_number) << ", draining for up to "
            << grace_s << " s" << std::endl;
  (*server)->Shutdown(absl::Seconds(grace_s));
  std::cout << "utmd: stopped" << std::endl;
  return 0;
}
