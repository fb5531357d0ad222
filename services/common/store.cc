#include "services/common/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace utm::store {
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

// ---------------------------------------------------------------------------
// Record format. A file is a sequence of records:
//   u32 payload length (little-endian) | u32 CRC-32 of payload | payload
// A payload is one batch: varint count, then per mutation
//   u8 op (1 put, 2 delete) | varint+bytes table | varint+bytes key
//   | (put only) varint+bytes value

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytes(std::string* out, absl::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(absl::string_view* in, std::string* out) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

uint32_t Crc(absl::string_view payload) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(payload.data()),
            static_cast<uInt>(payload.size())));
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

void AppendRecord(std::string* out, const std::vector<Mutation>& batch) {
  std::string payload;
  PutVarint(&payload, batch.size());
  for (const Mutation& m : batch) {
    payload.push_back(m.value ? 1 : 2);
    PutBytes(&payload, m.table);
    PutBytes(&payload, m.key);
    if (m.value) PutBytes(&payload, *m.value);
  }
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, Crc(payload));
  out->append(payload);
}

bool DecodeBatch(absl::string_view payload, std::vector<Mutation>* batch) {
  uint64_t n;
  if (!GetVarint(&payload, &n)) return false;
  batch->clear();
  for (uint64_t i = 0; i < n; ++i) {
    if (payload.empty()) return false;
    const uint8_t op = static_cast<uint8_t>(payload[0]);
    payload.remove_prefix(1);
    Mutation m;
    if ((op != 1 && op != 2) || !GetBytes(&payload, &m.table) ||
        !GetBytes(&payload, &m.key)) {
      return false;
    }
    if (op == 1) {
      std::string value;
      if (!GetBytes(&payload, &value)) return false;
      m.value = std::move(value);
    }
    batch->push_back(std::move(m));
  }
  return payload.empty();
}

// Reads records from `data`; returns the length of the valid prefix and
// calls `fn` for each batch in it.
size_t ReadRecords(absl::string_view data,
                   const std::function<void(std::vector<Mutation>)>& fn) {
  size_t offset = 0;
  std::vector<Mutation> batch;
  while (data.size() - offset >= 8) {
    const uint32_t length = GetU32(data.data() + offset);
    const uint32_t crc = GetU32(data.data() + offset + 4);
    if (data.size() - offset - 8 < length) break;
    const absl::string_view payload = data.substr(offset + 8, length);
    if (Crc(payload) != crc || !DecodeBatch(payload, &batch)) break;
    fn(std::move(batch));
    offset += 8 + length;
  }
  return offset;
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

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot sync", dir);
  return absl::OkStatus();
}

std::string FileName(absl::string_view kind, uint64_t generation) {
  return absl::StrFormat("%s-%020d", kind, generation);
}

// ---------------------------------------------------------------------------

class MemoryStore final : public Store {
 public:
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
  Ticket Enqueue(std::vector<Mutation> batch) override;
  absl::Status Wait(Ticket ticket) override;
  void OnDurable(Ticket ticket,
                 std::function<void(absl::Status)> done) override;

  const RecoveryStats& recovery() const { return recovery_; }
  WriteStats write_stats() {
    absl::MutexLock lock(&mu_);
    return write_stats_;
  }

 private:
  explicit EmbeddedStore(const StoreOptions& options) : options_(options) {}
  // <dir>/<kind>-<generation>.
  std::string Path(absl::string_view kind, uint64_t generation) const {
    return (fs::path(options_.dir) / FileName(kind, generation)).string();
  }
  absl::Status Recover();
  absl::Status OpenLog(uint64_t generation);
  void WriterLoop();
  // Writes a snapshot of `tables` as generation + 1 and switches to a new
  // log. Runs on the writer thread only.
  absl::Status Compact(const Tables& tables);

  const StoreOptions options_;
  RecoveryStats recovery_;

  // Writer-thread state (and Open, before the thread starts).
  int log_fd_ = -1;
  uint64_t generation_ = 0;
  int64_t log_bytes_ = 0;

  absl::Mutex mu_;
  std::deque<std::pair<Ticket, std::vector<Mutation>>> queue_
      ABSL_GUARDED_BY(mu_);
  Ticket enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  Ticket durable_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // State as of the last batch written to the log.
  Tables tables_ ABSL_GUARDED_BY(mu_);
  int64_t live_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  WriteStats write_stats_ ABSL_GUARDED_BY(mu_);
  // Callbacks waiting for their ticket to become durable.
  std::multimap<Ticket, std::function<void(absl::Status)>> waiting_
      ABSL_GUARDED_BY(mu_);

  std::thread writer_;
};

absl::StatusOr<std::unique_ptr<EmbeddedStore>> EmbeddedStore::Open(
    const StoreOptions& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError(
        "store: the embedded backend needs a dir");
  }
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options.dir, ": ", error.message()));
  }
  std::unique_ptr<EmbeddedStore> store(new EmbeddedStore(options));
  absl::Status s = store->Recover();
  if (!s.ok()) return s;
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

absl::Status EmbeddedStore::Recover() {
  // The newest complete snapshot names the generation; its log follows it.
  uint64_t generation = 0;
  bool have_snapshot = false;
  std::vector<fs::path> stale;
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir)) {
    const std::string name = e.path().filename().string();
    uint64_t g;
    if (absl::StartsWith(name, "snapshot-") &&
        absl::SimpleAtoi(absl::string_view(name).substr(9), &g)) {
      if (!have_snapshot || g > generation) generation = g;
      have_snapshot = true;
    } else if (absl::EndsWith(name, ".tmp")) {
      stale.push_back(e.path());  // an interrupted snapshot
    }
  }
  absl::MutexLock lock(&mu_);
  if (have_snapshot) {
    const std::string path = Path("snapshot", generation);
    absl::StatusOr<std::string> data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    const size_t valid = ReadRecords(*data, [&](std::vector<Mutation> batch) {
      recovery_.snapshot_records += static_cast<int64_t>(batch.size());
      ApplyTo(&tables_, batch, &live_bytes_);
    });
    if (valid != data->size()) {
      return absl::DataLossError(absl::StrCat(path, " is damaged at byte ",
                                              valid, " of ", data->size(),
                                              "; restore it from a backup"));
    }
  }
  const std::string log_path = Path("log", generation);
  if (fs::exists(log_path)) {
    absl::StatusOr<std::string> data = ReadWholeFile(log_path);
    if (!data.ok()) return data.status();
    const size_t valid = ReadRecords(*data, [&](std::vector<Mutation> batch) {
      ++recovery_.log_batches;
      ApplyTo(&tables_, batch, &live_bytes_);
    });
    if (valid != data->size()) {
      // A crash while appending leaves at most one partial record; drop it so
      // new records follow the last whole one.
      recovery_.torn_tail_bytes = static_cast<int64_t>(data->size() - valid);
      if (::truncate(log_path.c_str(), static_cast<off_t>(valid)) != 0) {
        return ErrnoStatus("cannot truncate", log_path);
      }
    }
    log_bytes_ = static_cast<int64_t>(valid);
  }
  // Everything older than the chosen generation is superseded.
  for (const fs::directory_entry& e : fs::directory_iterator(options_.dir)) {
    const std::string name = e.path().filename().string();
    for (absl::string_view kind : {"snapshot-", "log-"}) {
      uint64_t g;
      if (absl::StartsWith(name, kind) &&
          absl::SimpleAtoi(absl::string_view(name).substr(kind.size()), &g) &&
          g < generation) {
        stale.push_back(e.path());
      }
    }
  }
  for (const fs::path& p : stale) {
    std::error_code ignored;
    fs::remove(p, ignored);
  }
  return OpenLog(generation);
}

absl::Status EmbeddedStore::OpenLog(uint64_t generation) {
  const std::string path = Path("log", generation);
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot open", path);
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = fd;
  generation_ = generation;
  if (options_.sync) return SyncDir(options_.dir);
  return absl::OkStatus();
}

EmbeddedStore::~EmbeddedStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  if (log_fd_ >= 0) ::close(log_fd_);
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

absl::Status EmbeddedStore::Scan(
    absl::string_view table,
    const std::function<void(absl::string_view, absl::string_view)>& fn) {
  Ticket last;
  {
    absl::MutexLock lock(&mu_);
    last = enqueued_;
  }
  if (last > 0) {
    absl::Status s = Wait(last);
    if (!s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return absl::OkStatus();
  for (const auto& [key, value] : it->second) fn(key, value);
  return absl::OkStatus();
}

void EmbeddedStore::WriterLoop() {
  while (true) {
    std::deque<std::pair<Ticket, std::vector<Mutation>>> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is written
      group.swap(queue_);
      if (!failed_.ok()) continue;  // refuse: Wait()/OnDurable report failed_
    }
    // Every batch waiting now shares one write and one sync.
    std::string bytes;
    for (const auto& [ticket, batch] : group) AppendRecord(&bytes, batch);
    const std::string log_name = Path("log", generation_);
    absl::Status s = WriteAll(log_fd_, bytes, log_name);
    if (s.ok() && options_.sync && ::fdatasync(log_fd_) != 0) {
      s = ErrnoStatus("cannot sync", log_name);
    }
    bool compact = false;
    Tables snapshot;
    std::vector<std::function<void(absl::Status)>> ready;
    absl::Status outcome;
    {
      absl::MutexLock lock(&mu_);
      if (!s.ok()) {
        failed_ = absl::UnavailableError(
            absl::StrCat("store failed: ", s.message(),
                         "; restart utmd to recover from disk"));
        outcome = failed_;
        for (auto& [t, done] : waiting_) ready.push_back(std::move(done));
        waiting_.clear();
      }
    }
    if (!s.ok()) {
      for (auto& done : ready) done(outcome);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [ticket, batch] : group) {
        ApplyTo(&tables_, batch, &live_bytes_);
      }
      durable_ = group.back().first;
      write_stats_.batches += static_cast<int64_t>(group.size());
      write_stats_.syncs += options_.sync ? 1 : 0;
      log_bytes_ += static_cast<int64_t>(bytes.size());
      compact = log_bytes_ > options_.compact_after_bytes &&
                log_bytes_ > 2 * live_bytes_;
      if (compact) snapshot = tables_;  // copied, so Enqueue never waits on I/O
      const auto end = waiting_.upper_bound(durable_);
      for (auto it = waiting_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiting_.erase(waiting_.begin(), end);
    }
    for (auto& done : ready) done(absl::OkStatus());
    if (compact) {
      absl::Status c = Compact(snapshot);
      if (!c.ok()) {
        std::vector<std::function<void(absl::Status)>> failed;
        absl::Status status;
        {
          absl::MutexLock lock(&mu_);
          failed_ = absl::UnavailableError(
              absl::StrCat("store failed while compacting: ", c.message()));
          status = failed_;
          for (auto& [t, done] : waiting_) failed.push_back(std::move(done));
          waiting_.clear();
        }
        for (auto& done : failed) done(status);
      }
    }
  }
}

absl::Status EmbeddedStore::Compact(const Tables& tables) {
  const uint64_t next = generation_ + 1;
  const std::string final_path = Path("snapshot", next);
  const std::string tmp_path = final_path + ".tmp";
  const int fd =
      ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("cannot create", tmp_path);
  std::string bytes;
  std::vector<Mutation> chunk;
  absl::Status s;
  auto flush = [&] {
    AppendRecord(&bytes, chunk);
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
  s.Update(WriteAll(fd, bytes, tmp_path));
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("cannot sync", tmp_path);
  ::close(fd);
  if (!s.ok()) return s;
  // The rename makes the snapshot count; the old generation is then garbage.
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return ErrnoStatus("cannot rename", tmp_path);
  }
  const uint64_t old = generation_;
  absl::Status o = OpenLog(next);
  if (!o.ok()) return o;
  log_bytes_ = 0;
  std::error_code ignored;
  fs::remove(Path("log", old), ignored);
  fs::remove(Path("snapshot", old), ignored);
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
                   "\" is not one of: embedded, memory (redis arrives later)"));
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
