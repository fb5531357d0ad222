#include "services/common/server.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace utm {
namespace {

using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

grpc::Status CheckHealth(int port, HealthCheckResponse* response) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  return stub->Check(&context, HealthCheckRequest(), response);
}

ServerOptions Loopback() {
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  return options;
}

TEST(Server, ServesHealthOnAPickedPort) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(Loopback(), {});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  HealthCheckResponse response;
  const grpc::Status status = CheckHealth((*server)->port(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
}

TEST(Server, RefusesCallsAfterShutdown) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(Loopback(), {});
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  (*server)->Shutdown(absl::Seconds(1));
  (*server)->Shutdown(absl::Seconds(1));  // idempotent
  HealthCheckResponse response;
  EXPECT_EQ(CheckHealth(port, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(Server, SecondServerOnTheSamePortIsRefused) {
  absl::StatusOr<std::unique_ptr<Server>> first = Server::Start(Loopback(), {});
  ASSERT_TRUE(first.ok()) << first.status();
  ServerOptions same;
  same.listen_address = absl::StrCat("127.0.0.1:", (*first)->port());
  absl::StatusOr<std::unique_ptr<Server>> second = Server::Start(same, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(
      second.status().message(),
      HasSubstr(absl::StrCat("cannot listen on ", same.listen_address)));
}

TEST(Server, MalformedAddressesAreRefused) {
  for (const std::string address :
       {"127.0.0.1:99999", "127.0.0.1", "127.0.0.1:-1", "127.0.0.1:http"}) {
    ServerOptions options;
    options.listen_address = address;
    absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, {});
    ASSERT_FALSE(server.ok()) << address;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(server.status().message(),
                HasSubstr("expected host:port with a port from 0 to 65535"));
  }
}

// A self-signed certificate for "localhost" (and 127.0.0.1), PEM.
struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;
};

SelfSigned MakeSelfSigned() {
  SelfSigned out;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name,
                                            "DNS:localhost,IP:127.0.0.1");
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data;
  long n = BIO_get_mem_data(bio, &data);
  out.cert_pem.assign(data, n);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(bio, &data);
  out.key_pem.assign(data, n);
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TEST(Server, ServesTlsWhenGivenACertificateAndKey) {
  const SelfSigned tls = MakeSelfSigned();
  const std::string dir = testing::TempDir();
  const std::string cert = dir + "/server-test-cert.pem";
  const std::string key = dir + "/server-test-key.pem";
  std::ofstream(cert) << tls.cert_pem;
  std::ofstream(key) << tls.key_pem;
  ServerOptions options = Loopback();
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, {});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string target = absl::StrCat("localhost:", (*server)->port());
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.cert_pem;
  auto secure = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::SslCredentials(ssl)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  HealthCheckResponse response;
  const grpc::Status status =
      secure->Check(&context, HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
  // A plaintext client gets nowhere.
  EXPECT_FALSE(CheckHealth((*server)->port(), &response).ok());
  // Half a configuration is refused.
  options.tls_key_file.clear();
  EXPECT_THAT(Server::Start(options, {}).status().message(),
              HasSubstr("TLS needs both a certificate and its key"));
  std::remove(cert.c_str());
  std::remove(key.c_str());
}

TEST(Server, DefaultListensOnLoopbackOnly) {
  EXPECT_EQ(ServerOptions().listen_address, "127.0.0.1:7400");
}

}  // namespace
}  // namespace utm
