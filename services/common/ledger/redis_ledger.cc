#include "services/common/ledger/redis_ledger.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/ledger/redis_ledger_lua.h"

namespace utm::ledger {

namespace {

using redis::Reply;

absl::Status Unexpected(absl::string_view what, const Reply& reply) {
  return absl::InternalError(
      absl::StrCat("redis ", what, ": unexpected reply ", reply.DebugString()));
}

absl::Status ErrorReply(absl::string_view what, const Reply& reply) {
  return absl::UnavailableError(
      absl::StrCat("redis ", what, ": ", reply.str));
}

std::string StreamId(uint64_t seq) { return absl::StrCat(seq, "-0"); }

// A Redis that lost its functions (restarted without persistence, or a new
// empty primary) answers this to FCALL.
bool FunctionMissing(const Reply& r) {
  return r.is_error() && absl::StrContains(r.str, "Function not found");
}

absl::StatusOr<uint64_t> SeqOfStreamId(absl::string_view id) {
  const size_t dash = id.find('-');
  uint64_t seq = 0;
  if (dash == absl::string_view::npos ||
      !absl::SimpleAtoi(id.substr(0, dash), &seq)) {
    return absl::DataLossError(
        absl::StrCat("ledger feed entry id \"", id, "\" is not <seq>-0"));
  }
  return seq;
}

// One feed entry from XRANGE/XREAD: [id, [field, value, ...]].
absl::StatusOr<Entry> ParseEntry(const Reply& r) {
  if (r.type != Reply::Type::kArray || r.elements.size() != 2 ||
      r.elements[1].type != Reply::Type::kArray) {
    return Unexpected("feed entry", r);
  }
  Entry e;
  absl::StatusOr<uint64_t> seq = SeqOfStreamId(r.elements[0].str);
  if (!seq.ok()) return seq.status();
  e.seq = *seq;
  const std::vector<Reply>& f = r.elements[1].elements;
  if (f.size() < 2 || f[0].str != "h" || (f.size() - 2) % 6 != 0) {
    return absl::DataLossError(
        absl::StrCat("ledger feed entry ", e.seq, " is malformed"));
  }
  e.hash = f[1].str;
  for (size_t i = 2; i < f.size(); i += 6) {
    if (f[i].str != "t" || f[i + 2].str != "k" ||
        (f[i + 4].str != "v" && f[i + 4].str != "d")) {
      return absl::DataLossError(
          absl::StrCat("ledger feed entry ", e.seq, " is malformed"));
    }
    if (f[i + 4].str == "v") {
      e.mutations.push_back(store::Put(f[i + 1].str, f[i + 3].str,
                                       f[i + 5].str));
    } else {
      e.mutations.push_back(store::Delete(f[i + 1].str, f[i + 3].str));
    }
  }
  return e;
}

absl::StatusOr<std::vector<Entry>> ParseEntries(const Reply& r) {
  std::vector<Entry> out;
  if (r.is_nil()) return out;
  if (r.type != Reply::Type::kArray) return Unexpected("feed range", r);
  for (const Reply& e : r.elements) {
    absl::StatusOr<Entry> entry = ParseEntry(e);
    if (!entry.ok()) return entry.status();
    out.push_back(*std::move(entry));
  }
  return out;
}

// The watermark's GET: nil (never raised) is 0.
absl::StatusOr<uint64_t> ParseWatermark(const Reply& r) {
  if (r.is_nil()) return 0;
  uint64_t seq = 0;
  if (r.type != Reply::Type::kString || !absl::SimpleAtoi(r.str, &seq)) {
    return Unexpected("durable watermark", r);
  }
  return seq;
}

absl::StatusOr<Position> ParsePosition(const Reply& r) {
  if (r.type != Reply::Type::kArray || r.elements.size() < 2 ||
      r.elements[0].type != Reply::Type::kInteger) {
    return Unexpected("position", r);
  }
  return Position{static_cast<uint64_t>(r.elements[0].integer),
                  r.elements[1].str};
}

}  // namespace

const char* RedisLedger::FunctionSource() { return kRedisLedgerLua; }

RedisLedger::RedisLedger(RedisLedgerOptions options)
    : options_(std::move(options)),
      pool_(options_.client, options_.pool_size) {}

RedisLedger::~RedisLedger() {
  {
    absl::MutexLock lock(&durable_mu_);
    stopping_ = true;
  }
  if (durable_thread_.joinable()) durable_thread_.join();
}

absl::StatusOr<std::unique_ptr<RedisLedger>> RedisLedger::Open(
    RedisLedgerOptions options) {
  std::unique_ptr<RedisLedger> ledger(new RedisLedger(std::move(options)));
  {
    absl::StatusOr<redis::Pool::Lease> c = ledger->pool_.Acquire();
    if (!c.ok()) return c.status();
    if (absl::Status s = ledger->LoadFunctions(**c); !s.ok()) return s;
  }
  if (ledger->options_.wait_replicas > 0) {
    RedisLedger* l = ledger.get();
    ledger->durable_thread_ = std::thread([l] { l->FlushDurable(); });
  }
  return ledger;
}

int RedisLedger::FunctionVersion(absl::string_view source) {
  constexpr absl::string_view kMarker = "\nlocal VERSION = ";
  const size_t at = source.find(kMarker);
  if (at == absl::string_view::npos) return 0;
  absl::string_view rest = source.substr(at + kMarker.size());
  int version = 0;
  if (!absl::SimpleAtoi(rest.substr(0, rest.find('\n')), &version)) return 0;
  return version;
}

absl::Status RedisLedger::LoadFunctions(redis::Client& client) const {
  return EnsureFunctions(client, options_.prefix, kRedisLedgerLua);
}

absl::Status RedisLedger::EnsureFunctions(redis::Client& client,
                                          absl::string_view prefix,
                                          absl::string_view source) {
  const int mine = FunctionVersion(source);
  const std::string token = absl::StrCat(prefix, "lib");
  auto refused = [&](const Reply& r) {
    return absl::FailedPreconditionError(absl::StrCat(
        "redis at ", client.address(),
        " refused the ledger's functions (Redis 7.0 or later is needed): ",
        r.str));
  };
  // Bounded: each retry means another replica loaded the library meanwhile,
  // and the next look sees its version.
  for (int attempt = 0; attempt < 5; ++attempt) {
    absl::StatusOr<std::vector<Reply>> look = client.Pipeline(
        {{"WATCH", token}, {"FCALL_RO", "utm_version", "0"}});
    if (!look.ok()) return look.status();
    const Reply& v = (*look)[1];
    int64_t have = 0, compatible_from = 0;
    if (FunctionMissing(v)) {
      // No library, or one from before versions (version 1).
      absl::StatusOr<Reply> list = client.Command(
          {"FUNCTION", "LIST", "LIBRARYNAME", "utm_ledger"});
      if (!list.ok()) return list.status();
      if (list->is_error()) return refused(*list);
      have = compatible_from = list->elements.empty() ? 0 : 1;
    } else if (v.is_error()) {
      (void)client.Command({"UNWATCH"});
      return refused(v);
    } else if (v.type == Reply::Type::kArray && v.elements.size() == 2 &&
               v.elements[0].type == Reply::Type::kInteger &&
               v.elements[1].type == Reply::Type::kInteger) {
      have = v.elements[0].integer;
      compatible_from = v.elements[1].integer;
    } else {
      (void)client.Command({"UNWATCH"});
      return Unexpected("utm_version", v);
    }
    if (have >= mine) {
      (void)client.Command({"UNWATCH"});
      if (compatible_from > mine) {
        return absl::FailedPreconditionError(absl::StrCat(
            "redis at ", client.address(), " runs ledger library version ",
            have, ", which serves replicas of version ", compatible_from,
            " and later; this replica runs version ", mine,
            ": upgrade this replica (the library is not downgraded)"));
      }
      return absl::OkStatus();  // the same, or newer and compatible
    }
    absl::StatusOr<std::vector<Reply>> load = client.Pipeline(
        {{"MULTI"},
         {"FUNCTION", "LOAD", "REPLACE", std::string(source)},
         {"INCR", token},
         {"EXEC"}});
    if (!load.ok()) return load.status();
    const Reply& exec = (*load)[3];
    if (exec.is_nil()) continue;  // another replica loaded meanwhile: look again
    if (exec.is_error()) return refused(exec);
    for (const Reply& r : exec.elements) {
      if (r.is_error()) return refused(r);
    }
    return absl::OkStatus();
  }
  return absl::UnavailableError(absl::StrCat(
      "redis at ", client.address(),
      ": the ledger's function library kept changing while this replica "
      "loaded version ", mine, "; retry"));
}

void RedisLedger::NoteDurable(const Position& p) {
  absl::MutexLock lock(&durable_mu_);
  if (p.seq > durable_pending_.seq) durable_pending_ = p;
}

void RedisLedger::FlushDurable() {
  while (true) {
    Position p;
    {
      absl::MutexLock lock(&durable_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(durable_mu_) {
        return stopping_ || durable_pending_.seq > durable_sent_;
      };
      durable_mu_.Await(absl::Condition(&ready));
      if (durable_pending_.seq <= durable_sent_) return;  // stopping
      p = durable_pending_;
    }
    const bool sent = SendDurable(p).ok();
    absl::MutexLock lock(&durable_mu_);
    if (sent) {
      durable_sent_ = std::max(durable_sent_, p.seq);
    } else if (stopping_) {
      return;
    } else {
      // Redis is away (a failover): the next attempt, or a later commit's,
      // raises the watermark once it is back.
      durable_mu_.AwaitWithTimeout(
          absl::Condition(&stopping_), absl::Milliseconds(5));
    }
  }
}

absl::Status RedisLedger::SendDurable(const Position& p) {
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  const std::vector<std::string> argv = {
      "FCALL", "utm_durable", "1", absl::StrCat(options_.prefix, "seq"),
      absl::StrCat(p.seq), p.hash};
  absl::StatusOr<Reply> r = (*c)->Command(argv);
  if (r.ok() && FunctionMissing(*r)) {
    if (absl::Status s = LoadFunctions(**c); !s.ok()) return s;
    r = (*c)->Command(argv);
  }
  if (!r.ok()) return r.status();
  if (r->is_error()) return ErrorReply("utm_durable", *r);
  return absl::OkStatus();
}

absl::StatusOr<Position> RedisLedger::Latest() {
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  const std::vector<std::string> argv = {
      "FCALL_RO", "utm_position", "1", absl::StrCat(options_.prefix, "seq")};
  absl::StatusOr<Reply> r = (*c)->Command(argv);
  if (r.ok() && FunctionMissing(*r)) {
    if (absl::Status s = LoadFunctions(**c); !s.ok()) return s;
    r = (*c)->Command(argv);
  }
  if (!r.ok()) return r.status();
  if (r->is_error()) return ErrorReply("utm_position", *r);
  return ParsePosition(*r);
}

absl::StatusOr<Position> RedisLedger::Load(
    const std::vector<std::string>& tables,
    const std::function<void(absl::string_view, absl::string_view,
                             absl::string_view)>& fn) {
  // The position first, then the tables: a record changed after the
  // position is read as it is now, and the entries after the position put
  // it right again when the follower applies them (every mutation is a
  // whole record, so applying it again is harmless).
  absl::StatusOr<Position> at = Latest();
  if (!at.ok()) return at.status();
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  for (const std::string& table : tables) {
    const std::string key = absl::StrCat(options_.prefix, "t:", table);
    std::string cursor = "0";
    do {
      absl::StatusOr<Reply> r =
          (*c)->Command({"HSCAN", key, cursor, "COUNT", "1000"});
      if (!r.ok()) return r.status();
      if (r->is_error()) return ErrorReply("HSCAN", *r);
      if (r->type != Reply::Type::kArray || r->elements.size() != 2 ||
          r->elements[1].elements.size() % 2 != 0) {
        return Unexpected("HSCAN", *r);
      }
      cursor = r->elements[0].str;
      const std::vector<Reply>& kv = r->elements[1].elements;
      for (size_t i = 0; i < kv.size(); i += 2) {
        fn(table, kv[i].str, kv[i + 1].str);
      }
    } while (cursor != "0");
  }
  return at;
}

absl::StatusOr<CommitResult> RedisLedger::CommitNow(
    const Guard& guard, const std::vector<Mutation>& mutations) {
  if (mutations.size() > options_.max_mutations) {
    return absl::InternalError(absl::StrCat(
        "a ledger commit of ", mutations.size(), " mutations exceeds ",
        options_.max_mutations));
  }
  std::vector<std::string> argv = {
      "FCALL",
      "utm_commit",
      "1",
      absl::StrCat(options_.prefix, "seq"),
      absl::StrCat(guard.base.seq),
      guard.base.hash,
      absl::StrCat(guard.reads.size()),
      absl::StrCat(guard.writes.size()),
      absl::StrCat(mutations.size()),
      absl::StrCat(options_.feed_max_entries)};
  argv.reserve(argv.size() + guard.reads.size() + guard.writes.size() +
               4 * mutations.size());
  argv.insert(argv.end(), guard.reads.begin(), guard.reads.end());
  argv.insert(argv.end(), guard.writes.begin(), guard.writes.end());
  for (const Mutation& m : mutations) {
    argv.push_back(m.value ? "p" : "d");
    argv.push_back(m.table);
    argv.push_back(m.key);
    argv.push_back(m.value ? *m.value : std::string());
  }
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  std::vector<std::vector<std::string>> commands = {std::move(argv)};
  if (options_.wait_replicas > 0) {
    commands.push_back(
        {"WAIT", absl::StrCat(options_.wait_replicas),
         absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout))});
  }
  absl::StatusOr<std::vector<Reply>> replies = (*c)->Pipeline(commands);
  if (replies.ok() && FunctionMissing((*replies)[0])) {
    // Nothing was written; load the functions and send it again.
    if (absl::Status s = LoadFunctions(**c); !s.ok()) return s;
    replies = (*c)->Pipeline(commands);
  }
  if (!replies.ok()) {
    return absl::UnavailableError(absl::StrCat(
        replies.status().message(),
        "; the outcome of the write is unknown: retry with the same request "
        "id"));
  }
  const Reply& r = (*replies)[0];
  if (r.is_error()) return ErrorReply("utm_commit", r);
  if (r.type != Reply::Type::kArray || r.elements.size() != 3 ||
      r.elements[1].type != Reply::Type::kInteger) {
    return Unexpected("utm_commit", r);
  }
  CommitResult result;
  result.position = Position{static_cast<uint64_t>(r.elements[1].integer),
                             r.elements[2].str};
  const std::string& verdict = r.elements[0].str;
  if (verdict == "moved") {
    result.status = CommitStatus::kMoved;
  } else if (verdict == "reload") {
    result.status = CommitStatus::kReload;
  } else if (verdict != "ok") {
    return Unexpected("utm_commit", r);
  }
  if (result.status == CommitStatus::kCommitted &&
      options_.wait_replicas > 0) {
    const Reply& w = (*replies)[1];
    if (w.type != Reply::Type::kInteger ||
        w.integer < options_.wait_replicas) {
      return absl::UnavailableError(absl::StrCat(
          "the write reached ",
          w.type == Reply::Type::kInteger ? w.integer : 0, " of ",
          options_.wait_replicas, " Redis replicas within ",
          absl::FormatDuration(options_.wait_timeout),
          "; its outcome is unknown: retry with the same request id"));
    }
    // WAIT confirmed this connection's writes, so this entry and (the
    // replication stream being one ordered log) every entry before it. A
    // check that wrote nothing confirmed nothing new.
    if (!mutations.empty() || !guard.writes.empty()) {
      NoteDurable(result.position);
    }
  }
  return result;
}

void RedisLedger::Commit(Guard guard, std::vector<Mutation> mutations,
                         Done done) {
  done(CommitNow(guard, mutations));
}

absl::StatusOr<std::vector<Entry>> RedisLedger::Read(const Position& after,
                                                     int max_entries,
                                                     absl::Duration wait) {
  absl::StatusOr<Tail> tail = ReadTail(after, max_entries, wait);
  if (!tail.ok()) return tail.status();
  return std::move(tail->entries);
}

absl::StatusOr<uint64_t> RedisLedger::Durable() {
  if (options_.wait_replicas == 0) {
    absl::StatusOr<Position> latest = Latest();
    if (!latest.ok()) return latest.status();
    return latest->seq;
  }
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  absl::StatusOr<Reply> r =
      (*c)->Command({"GET", absl::StrCat(options_.prefix, "durable")});
  if (!r.ok()) return r.status();
  return ParseWatermark(*r);
}

absl::Status RedisLedger::ConfirmDurable(const Position& upto) {
  if (options_.wait_replicas == 0 || upto.seq == 0) return absl::OkStatus();
  {
    absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
    if (!c.ok()) return c.status();
    absl::StatusOr<std::vector<Reply>> r = (*c)->Pipeline(
        {{"INCR", absl::StrCat(options_.prefix, "durable:probe")},
         {"WAIT", absl::StrCat(options_.wait_replicas),
          absl::StrCat(absl::ToInt64Milliseconds(options_.wait_timeout))}});
    if (!r.ok()) return r.status();
    const Reply& w = (*r)[1];
    if (w.type != Reply::Type::kInteger || w.integer < options_.wait_replicas) {
      return absl::UnavailableError(absl::StrCat(
          "ledger entries up to ", upto.seq, " reached ",
          w.type == Reply::Type::kInteger ? w.integer : 0, " of ",
          options_.wait_replicas, " Redis replicas within ",
          absl::FormatDuration(options_.wait_timeout)));
    }
  }
  return SendDurable(upto);
}

absl::Status RedisLedger::ForgetHistory(const Position& through) {
  if (through.seq == 0) return absl::OkStatus();
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  const std::vector<std::string> argv = {"FCALL",
                                         "utm_forget",
                                         "1",
                                         absl::StrCat(options_.prefix, "seq"),
                                         absl::StrCat(through.seq),
                                         through.hash};
  absl::StatusOr<Reply> r = (*c)->Command(argv);
  if (r.ok() && FunctionMissing(*r)) {
    if (absl::Status s = LoadFunctions(**c); !s.ok()) return s;
    r = (*c)->Command(argv);
  }
  if (!r.ok()) return r.status();
  if (r->is_error()) return ErrorReply("utm_forget", *r);
  if (r->type != Reply::Type::kArray || r->elements.size() != 3) {
    return Unexpected("utm_forget", *r);
  }
  if (r->elements[0].str == "lost") {
    return absl::AbortedError(absl::StrCat(
        "ledger entry ", through.seq,
        " is no longer in Redis' history (a failover lost it): what it "
        "committed may be lost too; repeat the erasure"));
  }
  if (r->elements[0].str != "ok") return Unexpected("utm_forget", *r);
  return absl::OkStatus();
}

absl::StatusOr<Tail> RedisLedger::ReadTail(const Position& after,
                                           int max_entries,
                                           absl::Duration wait) {
  absl::StatusOr<redis::Pool::Lease> c = pool_.Acquire();
  if (!c.ok()) return c.status();
  const std::string feed = absl::StrCat(options_.prefix, "feed");
  std::vector<std::vector<std::string>> commands;
  // The entry we stand on must still be there, with the hash we know.
  if (after.seq > 0) {
    commands.push_back(
        {"XRANGE", feed, StreamId(after.seq), StreamId(after.seq)});
  }
  std::vector<std::string> read = {"XREAD", "COUNT",
                                   absl::StrCat(max_entries)};
  // A blocked read must end well before the connection's command timeout.
  const int64_t wait_ms = absl::ToInt64Milliseconds(
      std::min(wait, options_.client.command_timeout / 2));
  if (wait_ms > 0) {
    read.push_back("BLOCK");
    read.push_back(absl::StrCat(wait_ms));
  }
  read.push_back("STREAMS");
  read.push_back(feed);
  read.push_back(StreamId(after.seq));
  commands.push_back(std::move(read));
  // After XREAD, so read once the blocked read returns: as fresh as the
  // entries, on the same server.
  if (options_.wait_replicas > 0) {
    commands.push_back({"GET", absl::StrCat(options_.prefix, "durable")});
  }
  absl::StatusOr<std::vector<Reply>> replies = (*c)->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  Tail tail;
  if (options_.wait_replicas > 0) {
    absl::StatusOr<uint64_t> durable = ParseWatermark(replies->back());
    if (!durable.ok()) return durable.status();
    tail.durable = *durable;
    replies->pop_back();
  }
  if (after.seq > 0) {
    const Reply& own = (*replies)[0];
    if (own.is_error()) return ErrorReply("XRANGE", own);
    absl::StatusOr<std::vector<Entry>> mine = ParseEntries(own);
    if (!mine.ok()) return mine.status();
    if (mine->empty() || (*mine)[0].hash != after.hash) {
      return absl::DataLossError(absl::StrCat(
          "ledger entry ", after.seq,
          mine->empty() ? " is no longer in the feed"
                        : " has another hash than this replica applied",
          "; reload"));
    }
  }
  const Reply& r = replies->back();
  if (r.is_error()) return ErrorReply("XREAD", r);
  // Without replicas to wait for, what is read is as durable as it gets.
  if (r.is_nil()) {
    if (options_.wait_replicas == 0) tail.durable = after.seq;
    return tail;
  }
  // XREAD answers [[stream, [entries...]]].
  if (r.type != Reply::Type::kArray || r.elements.empty() ||
      r.elements[0].elements.size() != 2) {
    return Unexpected("XREAD", r);
  }
  absl::StatusOr<std::vector<Entry>> entries =
      ParseEntries(r.elements[0].elements[1]);
  if (!entries.ok()) return entries.status();
  // A gap means entries were trimmed between the check and the read.
  uint64_t expect = after.seq + 1;
  for (const Entry& e : *entries) {
    if (e.seq != expect++) {
      return absl::DataLossError(absl::StrCat(
          "ledger entries after ", after.seq, " are no longer all in the "
          "feed; reload"));
    }
  }
  tail.entries = *std::move(entries);
  if (options_.wait_replicas == 0) tail.durable = expect - 1;
  return tail;
}

}  // namespace utm::ledger
