// Durable storage behind one interface (LevelDB's db.h in spirit).
//
// A Store holds tables of key -> value byte strings. Services keep their
// working state in memory and use the store to make every change durable
// before they acknowledge it, and to rebuild that state at start-up. Two
// backends: the embedded store (memory + an append-only, checksummed log on
// local disk, with snapshots; the default, no dependencies) and, to come,
// Redis for many replicas. OpenStore() picks one from configuration. The
// embedded backend can keep its files encrypted at rest (StoreOptions::key;
// the format is in store_format.h, the key checks in store_keys.h).
//
// Ordering and durability: batches are applied in the order Enqueue() was
// called, atomically (all of a batch or none of it survives a crash), and a
// batch is durable once Wait() on its ticket returns OK. Concurrent batches
// share disk syncs (group commit), which is why the two steps are separate:
// a service enqueues while holding its own lock (fixing the order of its
// changes) and waits after releasing it.
//
// Typical usage:
//   UTM_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(options));
//   store->Scan("intents", [&](absl::string_view key, absl::string_view v)
//   {...}); Store::Ticket t; { absl::MutexLock l(&mu_); ...; t =
//   store->Enqueue({Put("intents", id, bytes)}); }
//   UTM_RETURN_IF_ERROR(store->Wait(t));
#ifndef UTM_SERVICES_COMMON_STORE_H_
#define UTM_SERVICES_COMMON_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace utm::metrics {
class Histogram;
}  // namespace utm::metrics

namespace utm::store {

// One change: a put when `value` is set, a delete otherwise.
struct Mutation {
  std::string table;
  std::string key;
  std::optional<std::string> value;
};

inline Mutation Put(std::string table, std::string key, std::string value) {
  return Mutation{std::move(table), std::move(key), std::move(value)};
}
inline Mutation Delete(std::string table, std::string key) {
  return Mutation{std::move(table), std::move(key), std::nullopt};
}

class Store {
 public:
  using Ticket = uint64_t;

  virtual ~Store() = default;

  // Calls `fn` for every record of `table`, in no particular order. Meant
  // for start-up; sees every batch enqueued before the call.
  virtual absl::Status Scan(
      absl::string_view table,
      const std::function<void(absl::string_view key, absl::string_view value)>&
          fn) = 0;

  // The value of `key` in `table`, seeing every batch enqueued before the
  // call; nullopt when there is none. The embedded store may wait for the
  // batches in flight (as Scan does). UNAVAILABLE when the store has
  // failed. The default scans the table: backends override it.
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view table, absl::string_view key);

  // Queues a batch behind every batch queued before it. Never blocks on I/O.
  virtual Ticket Enqueue(std::vector<Mutation> batch) = 0;

  // Blocks until the batch of `ticket` is durable. UNAVAILABLE when the
  // store has failed (a disk error): it then refuses every later batch too,
  // and the process should restart and recover from what is on disk.
  virtual absl::Status Wait(Ticket ticket) = 0;

  // Calls `done` once the batch of `ticket` is durable (OK) or the store has
  // failed (UNAVAILABLE): on the store's writer thread, or at once on the
  // caller's thread when that is already decided. `done` must be quick and
  // must not block: it delays every later batch.
  virtual void OnDurable(Ticket ticket,
                         std::function<void(absl::Status)> done) = 0;

  // Calls `fn` once, on an arbitrary thread, when the store fails (every
  // write answers UNAVAILABLE from then on; see Wait()), or at once if it
  // already has. For health reporting. `fn` must be quick. The memory
  // backend never fails.
  virtual void OnFailure(std::function<void(const absl::Status&)> fn) {
    (void)fn;
  }

  // Rewrites the backend's files so that nothing deleted or overwritten
  // before the call remains in them: the embedded store writes a snapshot
  // of the live records and removes the old log and snapshot (a deleted
  // record's bytes otherwise stay in the log until the next compaction).
  // For erasure. Blocks until done; UNAVAILABLE when the store has failed.
  // Backends without files (memory): OK at once.
  virtual absl::Status Compact() { return absl::OkStatus(); }

  // Enqueue + Wait.
  absl::Status Commit(std::vector<Mutation> batch) {
    return Wait(Enqueue(std::move(batch)));
  }
};

struct StoreOptions {
  // "embedded" or "memory" (nothing retained: for tests, and for operators
  // who fly without anything being kept). DEFAULT: embedded.
  std::string backend = "embedded";
  // Embedded: directory for the log and snapshots (created if missing).
  std::string dir;
  // Embedded: fdatasync each group of batches, and every new file and
  // directory change. DEFAULT: true. Turning it off keeps data across a
  // process crash but not across a power cut.
  bool sync = true;
  // Embedded: write a snapshot and start a new log once the log exceeds
  // this many bytes and twice the live data. DEFAULT: 64 MiB.
  int64_t compact_after_bytes = int64_t{64} << 20;
  // Embedded: when the files are damaged (see OpenStore), keep them aside in
  // <dir>/damaged-<UTC time>/ and start from the longest valid prefix of
  // each instead of refusing. Only when an operator asks (utmd --salvage):
  // writes after the damage are lost. DEFAULT: false.
  bool salvage = false;
  // Embedded: encryption at rest. When set (32 bytes), every file written
  // is sealed with AES-256-GCM under this key (format 3, see
  // store_format.h); table names, keys and values never reach the disk in
  // the clear. Opening a store whose files were written under another key,
  // or in the clear, fails with FAILED_PRECONDITION naming both key ids,
  // and nothing on disk is touched (not even <dir>/LOCK) — unless `old_key`
  // covers them. Load it with crypto::LoadKey (store_crypto.h).
  // DEFAULT: empty, files are written in the clear (format 2).
  std::string key;
  // Embedded: key rotation. The key the store was written under until now:
  // 32 bytes, or "" for a store written in the clear (to encrypt an existing
  // store, or with `key` empty to decrypt one). Files under `old_key` are
  // read, and at once a snapshot is written under `key` and the old files
  // removed (RecoveryStats::rekeyed); files already under `key` are read as
  // usual, so a restart with both keys after a crash mid-rotation still
  // works. nullopt: no rotation. DEFAULT: nullopt.
  std::optional<std::string> old_key;
  // Embedded: what each group commit costs, for metrics (not owned; must
  // outlive the store): seconds to write and sync it, and how many batches
  // it carried. DEFAULT: none.
  metrics::Histogram* sync_seconds = nullptr;
  metrics::Histogram* group_size = nullptr;
};

// Opens (recovering from disk) the configured backend; the embedded backend
// holds an exclusive lock on its directory (<dir>/LOCK) until the Store is
// destroyed. INVALID_ARGUMENT for a bad configuration, FAILED_PRECONDITION
// when another process (or Store) has the directory open, UNAVAILABLE for I/O
// errors, and DATA_LOSS, naming the file, the byte offset and what is wrong,
// when the files are damaged: a snapshot that does not check out, a log with
// anything but a torn tail, a log changed since the store was last closed
// cleanly (cut, extended or rewritten: its length and CRC are kept at a clean
// close), or a log without its snapshot. On DATA_LOSS nothing is changed on
// disk. FAILED_PRECONDITION, before anything on disk is touched, when the
// files are encrypted under a key other than StoreOptions::key (or old_key),
// or encrypted while no key is given, or in the clear while a key is given
// (without old_key = ""). A torn tail — a last record cut short by the end of
// the file, as a crash while appending leaves it — is dropped, and only when
// the store was not closed cleanly.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

// What recovery found, for logs and tests.
struct RecoveryStats {
  int64_t snapshot_records = 0;
  int64_t log_batches = 0;
  int64_t torn_tail_bytes = 0;  // dropped from the end of the log
  bool clean = false;           // the store had been closed cleanly
  bool created = false;         // there was no store: a new, empty one was made
  // With StoreOptions::salvage, when damage was found: where the damaged
  // files were moved, and what was left out (one line per file).
  std::string salvaged_to;
  std::vector<std::string> salvage_notes;
  // The id of the key the store is now written under (crypto::KeyIdHex), or
  // "" for a store in the clear; `rekeyed` when files under
  // StoreOptions::old_key were rewritten under the key at this start.
  std::string key_id;
  bool rekeyed = false;
};

// The embedded backend's recovery statistics; nullopt for other backends.
std::optional<RecoveryStats> GetRecoveryStats(const Store& store);

// Since opening: batches written and disk syncs (group commit makes the
// second smaller than the first under concurrency). Embedded backend only.
struct WriteStats {
  int64_t batches = 0;
  int64_t syncs = 0;
};
std::optional<WriteStats> GetWriteStats(Store& store);

}  // namespace utm::store

#endif  // UTM_SERVICES_COMMON_STORE_H_
