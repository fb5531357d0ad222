// The archive `utmctl operator export` writes: the files an export
// streamed, checked against its manifest.json, as a tar.gz. Pure but for
// WriteTarGz's file.
#ifndef UTM_SERVICES_UTMCTL_EXPORT_ARCHIVE_H_
#define UTM_SERVICES_UTMCTL_EXPORT_ARCHIVE_H_

#include <map>
#include <string>

#include "absl/status/status.h"

namespace utm::ctl {

// The archive's files checked against its manifest.json: OK, or
// DATA_LOSS naming the first file that is missing, extra, or whose size or
// SHA-256 differs. `files` maps each path to its bytes.
absl::Status CheckArchiveManifest(
    const std::map<std::string, std::string>& files);

// Writes `files` as a gzip-compressed tar archive (POSIX pax) at `path`,
// mode 0600 (it holds personal data), through a temporary file renamed
// into place: UNAVAILABLE naming the file when it cannot.
absl::Status WriteTarGz(const std::string& path,
                        const std::map<std::string, std::string>& files);

}  // namespace utm::ctl

#endif  // UTM_SERVICES_UTMCTL_EXPORT_ARCHIVE_H_
