#include "services/remoteid/uas_id.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace utm::remoteid {
namespace {

using ::testing::HasSubstr;

TEST(SerialNumber, AcceptsCta2063aSerials) {
  // From the F3411 test flights: code 1AKG, length A (10), AN8G70R7JS.
  EXPECT_TRUE(CheckSerialNumber("1AKGAAN8G70R7JS", "id").ok());
  // Code ULYK, length 5, 63L5G.
  EXPECT_TRUE(CheckSerialNumber("ULYK563L5G", "id").ok());
  // Longest: length F (15), 20 characters.
  EXPECT_TRUE(CheckSerialNumber("ABCDF123456789ABCDE", "id").ok() == false);
  EXPECT_TRUE(CheckSerialNumber("ABCDF123456789ABCDEF", "id").ok());
}

TEST(SerialNumber, RefusesWhatTheStandardRulesOut) {
  for (const char* bad :
       {"WRONG", "1AKGA", "1AKG1AB", "1AKG0", "1AKGG1", "1OKG1A", "1IKG1A",
        "1akg1a", "1AKG1 ", "ABCDF123456789ABCDEFG"}) {
    const absl::Status s = CheckSerialNumber(bad, "flights[0].uas_id");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("flights[0].uas_id: ")) << bad;
  }
  // The length character and the count that follows must agree.
  EXPECT_THAT(CheckSerialNumber("1AKG3AB", "id").message(),
              HasSubstr("length character '3' says 3 serial characters, and "
                        "2 follow"));
}

TEST(RegistrationId, NationalityMarkDotId) {
  EXPECT_TRUE(CheckRegistrationId("CHE.F39MQFITKH9E5", "id").ok());
  EXPECT_TRUE(CheckRegistrationId("N.123ABC", "id").ok());
  for (const char* bad : {"WRONG", ".ABC", "CHE.", "che.abc", "CHE.AB C",
                          "CHE.0123456789ABCDEFG"}) {
    EXPECT_EQ(CheckRegistrationId(bad, "id").code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(UtmId, IsAUuid) {
  EXPECT_TRUE(CheckUtmId("d22a1cef-a3e0-437f-92b5-44c1453f4068", "id").ok());
  EXPECT_FALSE(CheckUtmId("!", "id").ok());
  EXPECT_FALSE(CheckUtmId("d22a1cef-a3e0-437f-92b5-44c1453f406g", "id").ok());
  EXPECT_FALSE(CheckUtmId("d22a1cefa-3e0-437f-92b5-44c1453f4068", "id").ok());
}

TEST(UasId, DispatchesByTypeAndRefusesUnspecified) {
  EXPECT_TRUE(CheckUasId(v1::UAS_ID_TYPE_SESSION_ID, "s-1", "f", "t").ok());
  EXPECT_FALSE(CheckUasId(v1::UAS_ID_TYPE_SESSION_ID, "", "f", "t").ok());
  EXPECT_FALSE(CheckUasId(v1::UAS_ID_TYPE_SERIAL_NUMBER, "s-1", "f", "t").ok());
  const absl::Status s =
      CheckUasId(v1::UAS_ID_TYPE_UNSPECIFIED, "s-1", "f", "flights[2].t");
  EXPECT_THAT(s.message(), HasSubstr("flights[2].t"));
}

}  // namespace
}  // namespace utm::remoteid
