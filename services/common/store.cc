#include "services/common/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/dir_lock.h"
#include "services/common/log/log.h"
#include "services/common/metrics/metrics.h"
#include "services/common/store_crypto.h"
#include "services/common/store_format.h"
#include "services/common/store_keys.h"

namespace utm::store {

absl::StatusOr<std::optional<std::string>> Store::Get(absl::string_view table,
                                                      absl::string_view key) {
  std::optional<std::string> found;
  absl::Status s = Scan(table, [&](absl::string_view k, absl::string_view v) {
    if (k == key) found = std::string(v);
  });
  if (!s.ok()) return s;
  return found;
}

namespace {

namespace fs = std::filesystem;

// Hash maps: recovery inserts every record once, and nothing needs order.
using Table = absl::flat_hash_map<std::string, std::string>;
using Tables = absl::flat_hash_map<std::string, Table>;

absl::Status ErrnoStatus(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

void ApplyTo(Tables* tables, const std::vector<Mutation>& batch,
             int64_t* live_bytes) {
  for (const Mutation& m : batch) {
    Table& table = (*tables)[m.table];
    if (table.empty()) table.reserve(1024);
    auto it = table.find(m.key);
    if (it != table.end()) {
      *live_bytes -= static_cast<int64_t>(m.key.size() + it->second.size());
    }
    if (m.value) {
      *live_bytes += static_cast<int64_t>(m.key.size() + m.value->size());
      table.insert_or_assign(m.key, *m.value);
    } else if (it != table.end()) {
      table.erase(it);
    }
  }
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  std::string data;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status s = ErrnoStatus("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot sync", dir);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------

// A table's value for `key`, or nullopt.
std::optional<std::string> Lookup(const Tables& tables, absl::string_view table,
                                  absl::string_view key) {
  auto t = tables.find(table);
  if (t == tables.end()) return std::nullopt;
  auto it = t->second.find(key);
  if (it == t->second.end()) return std::nullopt;
  return it->second;
}

class MemoryStore final : public Store {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) override {
    absl::MutexLock lock(&mu_);
    return Lookup(tables_, table, key);
  }
  absl::Status Scan(absl::string_view table,
                    const std::function<void(absl::string_view,
                                             absl::string_view)>& fn) override {
    absl::MutexLock lock(&mu_);
    auto it = tables_.find(table);
    if (it == tables_.end()) return absl::OkStatus();
    for (const auto& [key, value] : it->second) fn(key, value);
    return absl::OkStatus();
  }
  Ticket Enqueue(std::vector<Mutation> batch) override {
    absl::MutexLock lock(&mu_);
    ApplyTo(&tables_, batch, &live_bytes_);
    return ++last_;
  }
  absl::Status Wait(Ticket) override { return absl::OkStatus(); }
  void OnDurable(Ticket, std::function<void(absl::Status)> done) override {
    done(absl::OkStatus());
  }

 private:
  absl::Mutex mu_;
  Tables tables_ ABSL_GUARDED_BY(mu_);
  int64_t live_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  Ticket last_ ABSL_GUARDED_BY(mu_) = 0;
};

class EmbeddedStore final : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedStore>> Open(
      const StoreOptions& options);
  ~EmbeddedStore() override;

  absl::Status Scan(absl::string_view table,
                    const std::function<void(absl::string_view,
                                             absl::string_view)>& fn) override;
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key) override;
  Ticket Enqueue(std::vector<Mutation> batch) override;
  absl::Status Wait(Ticket ticket) override;
  void OnDurable(Ticket ticket,
                 std::function<void(absl::Status)> done) override;
  void OnFailure(std::function<void(const absl::Status&)> fn) override;
  absl::Status Compact() override;

  const RecoveryStats& recovery() const { return recovery_; }
  WriteStats write_stats() {
    absl::MutexLock lock(&mu_);
    return write_stats_;
  }

 private:
  EmbeddedStore(const StoreOptions& options, DirLock lock)
      : options_(options), lock_(std::move(lock)), keys_(options) {}
  // <dir>/<name>.
  std::string Path(absl::string_view name) const {
    return (fs::path(options_.dir) / std::string(name)).string();
  }
  std::string Path(format::FileKind kind, uint64_t generation) const {
    return Path(format::FileName(kind, generation));
  }
  // fdatasync / fsync of the directory, unless StoreOptions::sync is off.
  absl::Status SyncFile(int fd, const std::string& path) const {
    if (options_.sync && ::fdatasync(fd) != 0) {
      return ErrnoStatus("cannot sync", path);
    }
    return absl::OkStatus();
  }
  absl::Status SyncDirIfDurable(const std::string& dir) const {
    return options_.sync ? FsyncDir(dir) : absl::OkStatus();
  }
  absl::Status Recover();
  // Waits until every batch enqueued before the call is applied (durable),
  // so that a read sees them: Scan, Get.
  absl::Status WaitForEnqueued();
  absl::Status CheckWrittenWith(const format::ParseResult& r,
                                crypto::Cipher* cipher,
                                const std::string& path) const;
  // Moves every store file into <dir>/damaged-<time>/ and starts a new
  // generation from what was recovered. StoreOptions::salvage only.
  absl::Status Salvage(uint64_t generation,
                       const std::vector<std::string>& problems);
  absl::Status OpenLog(uint64_t generation);
  void WriterLoop();
  // Writes a snapshot of `tables` as generation + 1 and switches to a new
  // log. Runs on the writer thread only (or before it starts).
  absl::Status Compact(const Tables& tables);
  // Records the failure, and answers everyone waiting with it.
  void Fail(absl::Status status);
  // At a clean close: the log's length and CRC, so that the next start can
  // tell any change to it from a torn tail.
  absl::Status WriteCleanMarker();

  const StoreOptions options_;
  const DirLock lock_;  // held for the life of the store
  // Its ciphers are used on the writer thread only (and in Open before it
  // starts): crypto::Cipher is not thread-safe.
  const KeyRing keys_;
  RecoveryStats recovery_;

  // Writer-thread state (and Open, before the thread starts).
  int log_fd_ = -1;
  uint64_t generation_ = 0;
  int64_t log_bytes_ = 0;
  uint32_t log_crc_ = 0;    // of the log's bytes so far
  std::string log_header_;  // the current log's file header, as read back
  std::optional<format::Encoder> log_encoder_;

  absl::Mutex mu_;
  std::deque<std::pair<Ticket, std::vector<Mutation>>> queue_
      ABSL_GUARDED_BY(mu_);
  Ticket enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  Ticket durable_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Compactions asked for by Compact(), and done (the writer's count of the
  // requests its last compaction covered).
  uint64_t compactions_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t compactions_done_ ABSL_GUARDED_BY(mu_) = 0;
  // State as of the last batch written to the log.
  Tables tables_ ABSL_GUARDED_BY(mu_);
  int64_t live_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  WriteStats write_stats_ ABSL_GUARDED_BY(mu_);
  // Callbacks waiting for their ticket to become durable.
  std::multimap<Ticket, std::function<void(absl::Status)>> waiting_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(const absl::Status&)>> failure_listeners_
      ABSL_GUARDED_BY(mu_);

  std::thread writer_;
};

absl::StatusOr<std::unique_ptr<EmbeddedStore>> EmbeddedStore::Open(
    const StoreOptions& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError(
        "store: the embedded backend needs a dir");
  }
  if (!options.key.empty() && options.key.size() != crypto::kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("store key: must be ", crypto::kKeyBytes, " bytes, not ",
                     options.key.size()));
  }
  if (options.old_key && !options.old_key->empty() &&
      options.old_key->size() != crypto::kKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("store old key: must be ", crypto::kKeyBytes,
                     " bytes, not ", options.old_key->size()));
  }
  if (absl::Status s = CheckKeys(options, KeyRing(options)); !s.ok()) return s;
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options.dir, ": ", error.message()));
  }
  absl::StatusOr<DirLock> lock = DirLock::Acquire(options.dir);
  if (!lock.ok()) return lock.status();
  std::unique_ptr<EmbeddedStore> store(
      new EmbeddedStore(options, *std::move(lock)));
  absl::Status s = store->Recover();
  if (!s.ok()) return s;
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

// The clean-close marker: "<log file name> <bytes> <crc32 hex>\n".
constexpr absl::string_view kCleanMarker = "CLEAN";

struct CleanMarker {
  std::string log;
  uint64_t bytes = 0;
  uint32_t crc = 0;
};

absl::StatusOr<CleanMarker> ParseCleanMarker(absl::string_view text) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(text), ' ');
  CleanMarker marker;
  if (fields.size() == 3 && absl::StartsWith(fields[0], "log-") &&
      absl::SimpleAtoi(fields[1], &marker.bytes) &&
      absl::SimpleHexAtoi(fields[2], &marker.crc)) {
    marker.log = std::string(fields[0]);
    return marker;
  }
  return absl::DataLossError("it does not read \"<log> <bytes> <crc>\"");
}

// A format-1 file (no header, so CheckKeys could not tell) is in the clear.
absl::Status EmbeddedStore::CheckWrittenWith(const format::ParseResult& r,
                                             crypto::Cipher* cipher,
                                             const std::string& path) const {
  if (r.format != 1 || cipher == nullptr || keys_.plain_allowed()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "store key: ", path,
      " is not encrypted (format 1), but a store key is "
      "given. Nothing was changed. To encrypt this store, start once with "
      "the key and --store-old-key none."));
}

absl::Status EmbeddedStore::Recover() {
  // The files: the newest snapshot names the generation; its log follows it.
  std::map<uint64_t, std::string> snapshots, logs;
  std::vector<fs::path> stale;
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir)) {
    const std::string name = e.path().filename().string();
    uint64_t g;
    if (absl::EndsWith(name, ".tmp")) {
      stale.push_back(e.path());  // an interrupted snapshot or marker
    } else if (absl::StartsWith(name, "snapshot-") &&
               absl::SimpleAtoi(absl::string_view(name).substr(9), &g)) {
      snapshots[g] = name;
    } else if (absl::StartsWith(name, "log-") &&
               absl::SimpleAtoi(absl::string_view(name).substr(4), &g)) {
      logs[g] = name;
    }
  }
  const uint64_t generation = snapshots.empty() ? 0 : snapshots.rbegin()->first;
  generation_ = generation;
  // Each entry is one damaged file: "<path>: <what>". Nothing is changed on
  // disk unless this stays empty (or an operator asked for a salvage).
  std::vector<std::string> problems;
  auto damaged = [&](const std::string& path, const format::Damage& d,
                     uint64_t size) {
    problems.push_back(
        absl::StrCat(path, ": ", d.what, " at byte ", d.offset, " of ", size));
  };
  for (auto it = logs.upper_bound(generation); it != logs.end(); ++it) {
    problems.push_back(absl::StrCat(
        Path(it->second), ": its snapshot ",
        format::FileName(format::FileKind::kSnapshot, it->first),
        " is missing (removed?); the log cannot be applied without it"));
  }
  bool legacy = false;  // a format-1 file: rewrite in format 2
  // A file not under StoreOptions::key (rotation): rewrite under it.
  bool rekey = false;

  absl::MutexLock lock(&mu_);
  if (!snapshots.empty()) {
    const std::string path = Path(snapshots.rbegin()->second);
    absl::StatusOr<std::string> data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    absl::StatusOr<crypto::Cipher*> cipher =
        keys_.For(*data, format::FileKind::kSnapshot, path);
    if (!cipher.ok()) return cipher.status();
    const format::ParseResult r = format::ParseFile(
        *data, format::FileKind::kSnapshot, generation, *cipher,
        [&](std::vector<Mutation> batch) {
          recovery_.snapshot_records += static_cast<int64_t>(batch.size());
          ApplyTo(&tables_, batch, &live_bytes_);
        });
    if (absl::Status s = CheckWrittenWith(r, *cipher, path); !s.ok()) return s;
    rekey |= (r.format == 3 ? *cipher : nullptr) != keys_.key();
    if (r.damage) damaged(path, *r.damage, data->size());
    legacy |= r.format == 1;
  }

  std::optional<CleanMarker> marker;
  const std::string marker_path = Path(kCleanMarker);
  if (fs::exists(marker_path)) {
    absl::StatusOr<std::string> text = ReadWholeFile(marker_path);
    if (!text.ok()) return text.status();
    absl::StatusOr<CleanMarker> parsed = ParseCleanMarker(*text);
    if (parsed.ok()) {
      marker = *parsed;
    } else {
      problems.push_back(
          absl::StrCat(marker_path, ": ", parsed.status().message()));
    }
  }
  recovery_.clean = marker.has_value();

  const std::string log_name =
      format::FileName(format::FileKind::kLog, generation);
  const std::string log_path = Path(log_name);
  recovery_.created = snapshots.empty() && !marker && !fs::exists(log_path);
  uint64_t log_valid = 0;
  uint64_t torn_at = 0;
  if (marker && marker->log != log_name) {
    problems.push_back(absl::StrCat(marker_path, ": names ", marker->log,
                                    " but the current log is ", log_name));
  }
  if (fs::exists(log_path)) {
    absl::StatusOr<std::string> data = ReadWholeFile(log_path);
    if (!data.ok()) return data.status();
    absl::StatusOr<crypto::Cipher*> cipher =
        keys_.For(*data, format::FileKind::kLog, log_path);
    if (!cipher.ok()) return cipher.status();
    const format::ParseResult r =
        format::ParseFile(*data, format::FileKind::kLog, generation, *cipher,
                          [&](std::vector<Mutation> batch) {
                            ++recovery_.log_batches;
                            ApplyTo(&tables_, batch, &live_bytes_);
                          });
    legacy |= r.format == 1;
    if (absl::Status s = CheckWrittenWith(r, *cipher, log_path); !s.ok()) {
      return s;
    }
    // An empty log takes the store's format when its header is written.
    rekey |=
        (r.format == 3 ? *cipher : nullptr) != keys_.key() && r.valid_bytes > 0;
    log_valid = r.valid_bytes;
    const size_t header_bytes = r.format == 3
                                    ? format::kEncryptedFileHeaderBytes
                                    : format::kFileHeaderBytes;
    if (r.format >= 2 && r.valid_bytes >= header_bytes) {
      log_header_ = data->substr(0, header_bytes);
    }
    if (marker && marker->log == log_name &&
        (data->size() != marker->bytes || format::Crc(*data) != marker->crc)) {
      std::string change;
      if (r.damage) {
        change = absl::StrCat(r.damage->what, " at byte ", r.damage->offset);
      } else if (data->size() < marker->bytes) {
        change = absl::StrCat("cut at byte ", data->size());
      } else if (data->size() > marker->bytes) {
        change = absl::StrCat("extended at byte ", marker->bytes);
      } else {
        change = "rewritten in place";
      }
      problems.push_back(absl::StrCat(
          log_path, ": changed since the store was closed cleanly (",
          data->size(), " bytes now, ", marker->bytes, " then: ", change, ")"));
    } else if (r.damage && (marker || !r.damage->incomplete)) {
      damaged(log_path, *r.damage, data->size());
    } else if (r.damage) {
      // A crash while appending: the last record never made it whole, so
      // it was never acknowledged.
      recovery_.torn_tail_bytes =
          static_cast<int64_t>(data->size() - r.valid_bytes);
      // A format-2 or -3 log cut inside its file header starts over empty
      // (its valid prefix is then 0).
      torn_at = r.valid_bytes;
    }
    log_crc_ = format::Crc(absl::string_view(*data).substr(0, log_valid));
  } else if (marker) {
    problems.push_back(absl::StrCat(log_path, ": missing, but ", marker_path,
                                    " says it held ", marker->bytes, " bytes"));
  }

  if (!problems.empty()) {
    if (options_.salvage) return Salvage(generation, problems);
    return absl::DataLossError(absl::StrCat(
        "the store in ", options_.dir,
        " is damaged: ", absl::StrJoin(problems, "; "),
        ". Nothing was changed. Restore the directory from a backup, or "
        "start once with --salvage to keep the damaged files aside and "
        "continue from the longest valid prefix of each (later writes are "
        "lost)."));
  }

  // Only now is anything on disk changed.
  if (recovery_.torn_tail_bytes > 0) {
    const off_t keep = static_cast<off_t>(torn_at);
    if (::truncate(log_path.c_str(), keep) != 0) {
      return ErrnoStatus("cannot truncate", log_path);
    }
    log_valid = static_cast<uint64_t>(keep);
    if (keep == 0) log_crc_ = 0;
  }
  if (marker) {
    // From the first new write on, the log no longer matches the marker.
    if (::unlink(marker_path.c_str()) != 0) {
      return ErrnoStatus("cannot remove", marker_path);
    }
    if (absl::Status s = SyncDirIfDurable(options_.dir); !s.ok()) return s;
  }
  // Everything older than the chosen generation is superseded.
  for (const auto& files : {snapshots, logs}) {
    for (const auto& [g, name] : files) {
      if (g < generation) stale.push_back(Path(name));
    }
  }
  for (const fs::path& p : stale) {
    std::error_code ignored;
    fs::remove(p, ignored);
  }
  log_bytes_ = static_cast<int64_t>(log_valid);
  recovery_.key_id =
      keys_.key() == nullptr ? "" : crypto::KeyIdHex(keys_.key()->key_id());
  if (rekey) {
    // Rotation: the old log is never appended to; a snapshot under the key
    // and a new log replace it (Compact removes the old files once the new
    // snapshot is durable, so a crash before leaves the old ones readable
    // with the old key).
    recovery_.rekeyed = true;
    return Compact(tables_);
  }
  if (absl::Status s = OpenLog(generation); !s.ok()) return s;
  // Files written before format 2: rewrite everything in format 2 now.
  if (legacy) return Compact(tables_);
  return absl::OkStatus();
}

absl::Status EmbeddedStore::Salvage(uint64_t generation,
                                    const std::vector<std::string>& problems) {
  std::string aside = Path(absl::StrCat(
      "damaged-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone())));
  for (int n = 2; fs::exists(aside); ++n) {
    aside = absl::StrCat(aside.substr(0, aside.rfind('Z') + 1), "-", n);
  }
  std::error_code error;
  fs::create_directory(aside, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", aside, ": ", error.message()));
  }
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name == "LOCK") continue;
    fs::rename(e.path(), fs::path(aside) / name, error);
    if (error) {
      return absl::UnavailableError(absl::StrCat(
          "cannot move ", e.path().string(), ": ", error.message()));
    }
  }
  if (absl::Status s = SyncDirIfDurable(aside); !s.ok()) return s;
  if (absl::Status s = SyncDirIfDurable(options_.dir); !s.ok()) return s;
  recovery_.salvaged_to = aside;
  recovery_.salvage_notes = problems;
  // A new generation holding what was recovered, in a fresh directory state.
  generation_ = generation;
  log_bytes_ = 0;
  mu_.AssertHeld();
  return Compact(tables_);
}

absl::Status EmbeddedStore::OpenLog(uint64_t generation) {
  const std::string path = Path(format::FileKind::kLog, generation);
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = fd;
  generation_ = generation;
  std::string bytes;
  if (log_bytes_ == 0) {
    // A new (or emptied) log starts with its header.
    log_encoder_ = format::Encoder::NewFile(format::FileKind::kLog, generation,
                                            keys_.key(), &bytes);
    log_crc_ = 0;
  } else {
    // An encrypted log gets a new salt before anything else is appended.
    log_encoder_ = format::Encoder::Resume(
        log_header_, static_cast<uint64_t>(log_bytes_), keys_.key(), &bytes);
  }
  if (!bytes.empty()) {
    if (absl::Status s = WriteAll(fd, bytes, path); !s.ok()) return s;
    if (absl::Status s = SyncFile(fd, path); !s.ok()) return s;
    log_bytes_ += static_cast<int64_t>(bytes.size());
    log_crc_ = format::ExtendCrc(log_crc_, bytes);
  }
  return SyncDirIfDurable(options_.dir);
}

absl::Status EmbeddedStore::WriteCleanMarker() {
  const std::string log_path = Path(format::FileKind::kLog, generation_);
  if (absl::Status s = SyncFile(log_fd_, log_path); !s.ok()) return s;
  const std::string path = Path(kCleanMarker);
  const std::string tmp = path + ".tmp";
  const int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", tmp);
  absl::Status s = WriteAll(
      fd,
      absl::StrFormat("%s %d %08x\n",
                      format::FileName(format::FileKind::kLog, generation_),
                      log_bytes_, log_crc_),
      tmp);
  if (s.ok()) s = SyncFile(fd, tmp);
  ::close(fd);
  if (!s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus("cannot rename", tmp);
  }
  return SyncDirIfDurable(options_.dir);
}

EmbeddedStore::~EmbeddedStore() {
  bool clean;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&mu_);
    clean = failed_.ok();
  }
  if (log_fd_ >= 0) {
    // A store that failed leaves no marker: the next start treats its log as
    // after a crash.
    if (clean) {
      if (absl::Status s = WriteCleanMarker(); !s.ok()) {
        UTM_LOG(kError) << "store: " << s.message();
      }
    }
    ::close(log_fd_);
  }
}

Store::Ticket EmbeddedStore::Enqueue(std::vector<Mutation> batch) {
  absl::MutexLock lock(&mu_);
  const Ticket ticket = ++enqueued_;
  queue_.emplace_back(ticket, std::move(batch));
  return ticket;
}

absl::Status EmbeddedStore::Wait(Ticket ticket) {
  absl::MutexLock lock(&mu_);
  auto done = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return durable_ >= ticket || !failed_.ok();
  };
  mu_.Await(absl::Condition(&done));
  if (durable_ >= ticket) return absl::OkStatus();
  return failed_;
}

void EmbeddedStore::OnDurable(Ticket ticket,
                              std::function<void(absl::Status)> done) {
  absl::Status decided;
  {
    absl::MutexLock lock(&mu_);
    if (durable_ < ticket && failed_.ok()) {
      waiting_.emplace(ticket, std::move(done));
      return;
    }
    decided = durable_ >= ticket ? absl::OkStatus() : failed_;
  }
  done(decided);
}

void EmbeddedStore::OnFailure(std::function<void(const absl::Status&)> fn) {
  absl::Status failed;
  {
    absl::MutexLock lock(&mu_);
    if (failed_.ok()) {
      failure_listeners_.push_back(std::move(fn));
      return;
    }
    failed = failed_;
  }
  fn(failed);
}

void EmbeddedStore::Fail(absl::Status status) {
  std::vector<std::function<void(absl::Status)>> waiting;
  std::vector<std::function<void(const absl::Status&)>> listeners;
  {
    absl::MutexLock lock(&mu_);
    failed_ = status;
    for (auto& [t, done] : waiting_) waiting.push_back(std::move(done));
    waiting_.clear();
    listeners.swap(failure_listeners_);
  }
  for (auto& done : waiting) done(status);
  for (auto& listener : listeners) listener(status);
}

absl::Status EmbeddedStore::WaitForEnqueued() {
  Ticket last;
  {
    absl::MutexLock lock(&mu_);
    last = enqueued_;
  }
  return last > 0 ? Wait(last) : absl::OkStatus();
}

absl::Status EmbeddedStore::Scan(
    absl::string_view table,
    const std::function<void(absl::string_view, absl::string_view)>& fn) {
  if (absl::Status s = WaitForEnqueued(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return absl::OkStatus();
  for (const auto& [key, value] : it->second) fn(key, value);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> EmbeddedStore::Get(
    absl::string_view table, absl::string_view key) {
  if (absl::Status s = WaitForEnqueued(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  return Lookup(tables_, table, key);
}

void EmbeddedStore::WriterLoop() {
  while (true) {
    std::deque<std::pair<Ticket, std::vector<Mutation>>> group;
    uint64_t only_compact = 0;
    Tables snapshot;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_ ||
               compactions_requested_ > compactions_done_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty() && compactions_requested_ > compactions_done_) {
        // Compact() with nothing to write: compact what is there, below.
        only_compact = compactions_requested_;
        if (failed_.ok()) {
          snapshot = tables_;
        } else {
          compactions_done_ = only_compact;  // Compact() reports failed_
          continue;
        }
      } else {
        if (queue_.empty()) return;  // stopping, and everything is written
        group.swap(queue_);
        if (!failed_.ok()) continue;  // refuse: Wait()/OnDurable report failed_
      }
    }
    if (only_compact > 0) {
      if (absl::Status c = Compact(snapshot); !c.ok()) {
        Fail(absl::UnavailableError(
            absl::StrCat("store failed while compacting: ", c.message())));
      }
      absl::MutexLock lock(&mu_);
      compactions_done_ = std::max(compactions_done_, only_compact);
      continue;
    }
    // Every batch waiting now shares one write and one sync.
    std::string bytes;
    for (const auto& [ticket, batch] : group) {
      log_encoder_->AppendBatch(&bytes, batch);
    }
    const std::string log_name = Path(format::FileKind::kLog, generation_);
    const absl::Time write_start = absl::Now();
    absl::Status s = WriteAll(log_fd_, bytes, log_name);
    if (s.ok() && options_.sync && ::fdatasync(log_fd_) != 0) {
      s = ErrnoStatus("cannot sync", log_name);
    }
    if (options_.sync_seconds != nullptr) {
      options_.sync_seconds->Observe(
          absl::ToDoubleSeconds(absl::Now() - write_start));
    }
    if (options_.group_size != nullptr) {
      options_.group_size->Observe(static_cast<double>(group.size()));
    }
    if (!s.ok()) {
      Fail(absl::UnavailableError(
          absl::StrCat("store failed: ", s.message(),
                       "; restart utmd to recover from disk")));
      continue;
    }
    log_crc_ = format::ExtendCrc(log_crc_, bytes);
    bool compact = false;
    uint64_t requested = 0;
    std::vector<std::function<void(absl::Status)>> ready;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [ticket, batch] : group) {
        ApplyTo(&tables_, batch, &live_bytes_);
      }
      durable_ = group.back().first;
      write_stats_.batches += static_cast<int64_t>(group.size());
      write_stats_.syncs += options_.sync ? 1 : 0;
      log_bytes_ += static_cast<int64_t>(bytes.size());
      compact = (log_bytes_ > options_.compact_after_bytes &&
                 log_bytes_ > 2 * live_bytes_) ||
                compactions_requested_ > compactions_done_;
      requested = compactions_requested_;
      if (compact) snapshot = tables_;  // copied, so Enqueue never waits on I/O
      const auto end = waiting_.upper_bound(durable_);
      for (auto it = waiting_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiting_.erase(waiting_.begin(), end);
    }
    for (auto& done : ready) done(absl::OkStatus());
    if (compact) {
      if (absl::Status c = Compact(snapshot); !c.ok()) {
        Fail(absl::UnavailableError(
            absl::StrCat("store failed while compacting: ", c.message())));
      }
      absl::MutexLock lock(&mu_);
      compactions_done_ = std::max(compactions_done_, requested);
    }
  }
}

absl::Status EmbeddedStore::Compact() {
  absl::MutexLock lock(&mu_);
  const uint64_t want = ++compactions_requested_;
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return compactions_done_ >= want;
  };
  mu_.Await(absl::Condition(&done));
  return failed_;
}

absl::Status EmbeddedStore::Compact(const Tables& tables) {
  const uint64_t next = generation_ + 1;
  const std::string final_path = Path(format::FileKind::kSnapshot, next);
  const std::string tmp_path = final_path + ".tmp";
  const int fd =
      ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", tmp_path);
  std::string bytes;
  format::Encoder encoder = format::Encoder::NewFile(
      format::FileKind::kSnapshot, next, keys_.key(), &bytes);
  std::vector<Mutation> chunk;
  uint64_t mutations = 0;
  absl::Status s;
  auto flush = [&] {
    encoder.AppendBatch(&bytes, chunk);
    mutations += chunk.size();
    chunk.clear();
    if (bytes.size() > (1 << 20)) {
      s.Update(WriteAll(fd, bytes, tmp_path));
      bytes.clear();
    }
  };
  for (const auto& [table, rows] : tables) {
    for (const auto& [key, value] : rows) {
      chunk.push_back(Put(table, key, value));
      if (chunk.size() == 1000) flush();
    }
  }
  if (!chunk.empty()) flush();
  encoder.AppendSnapshotEnd(&bytes, mutations);
  s.Update(WriteAll(fd, bytes, tmp_path));
  if (s.ok()) s = SyncFile(fd, tmp_path);
  ::close(fd);
  if (!s.ok()) return s;
  // The rename makes the snapshot count; the old generation is then garbage.
  // The directory is synced before the new log exists: a log is never on
  // disk without its snapshot.
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus("cannot rename", tmp_path);
  }
  if (absl::Status d = SyncDirIfDurable(options_.dir); !d.ok()) return d;
  const uint64_t old = generation_;
  log_bytes_ = 0;
  if (absl::Status o = OpenLog(next); !o.ok()) return o;
  std::error_code ignored;
  fs::remove(Path(format::FileKind::kLog, old), ignored);
  fs::remove(Path(format::FileKind::kSnapshot, old), ignored);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  if (options.backend == "memory") return std::make_unique<MemoryStore>();
  if (options.backend == "embedded") {
    absl::StatusOr<std::unique_ptr<EmbeddedStore>> store =
        EmbeddedStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("store backend \"", options.backend,
                   "\" is not one of: embedded, memory"));
}

std::optional<WriteStats> GetWriteStats(Store& store) {
  if (auto* e = dynamic_cast<EmbeddedStore*>(&store)) return e->write_stats();
  return std::nullopt;
}

std::optional<RecoveryStats> GetRecoveryStats(const Store& store) {
  if (const auto* e = dynamic_cast<const EmbeddedStore*>(&store)) {
    return e->recovery();
  }
  return std::nullopt;
}

}  // namespace utm::store
