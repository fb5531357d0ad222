// The forms of a UAS id (ASTM F3411-22a UASID) and their checks.
//
//   Serial number, ANSI/CTA-2063-A: a 4-character manufacturer code, one
//   length character ('1'-'9', 'A'-'F' for 10-15) and a manufacturer's
//   serial of that length; every character a digit or an upper-case letter
//   other than 'O' and 'I'. E.g. "1AKGAAN8G70R7JS" (code 1AKG, 10
//   characters AN8G70R7JS).
//   CAA registration id (F3411-22a): "<nationality mark>.<CAA-assigned
//   id>", upper-case letters and digits, at most 20 characters in all.
//   UTM id: a UUID (F3411-22a: version 4), lower or upper-case hex.
//   Session id: 1..20 printable ASCII characters.
#ifndef UTM_SERVICES_REMOTEID_UAS_ID_H_
#define UTM_SERVICES_REMOTEID_UAS_ID_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "utm/v1/remote_id.pb.h"

namespace utm::remoteid {

// OK, or INVALID_ARGUMENT naming `field` and what is wrong, e.g.
// `flights[0].uas_id: "WRONG" is not an ANSI/CTA-2063-A serial number
// (6 to 20 characters: 4 of manufacturer code, 1 of length, the serial)`.
absl::Status CheckSerialNumber(absl::string_view id, absl::string_view field);
absl::Status CheckRegistrationId(absl::string_view id, absl::string_view field);
absl::Status CheckUtmId(absl::string_view id, absl::string_view field);
absl::Status CheckSessionId(absl::string_view id, absl::string_view field);

// The check for `type` (INVALID_ARGUMENT for UNSPECIFIED or an unknown
// type, naming `type_field`).
absl::Status CheckUasId(v1::UasIdType type, absl::string_view id,
                        absl::string_view field, absl::string_view type_field);

}  // namespace utm::remoteid

#endif  // UTM_SERVICES_REMOTEID_UAS_ID_H_
