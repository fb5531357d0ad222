// Broadcast Remote ID frames decoded per second on one core, with a baseline
// in the same run: copying the same payloads (the least a receiver front end
// does with a frame). The pool holds 4096 payloads from a fixed seed, a mix
// of what a ground receiver hears: 75 % single messages as Bluetooth 4
// legacy advertising carries them (two thirds Location, the rest Basic ID,
// System, Operator ID and Self-ID) and 25 % five-message packs as Wi-Fi
// beacons, NAN and Bluetooth 5 long range carry them. Each iteration runs
// over the whole pool.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "services/remoteid/broadcast/assembler.h"
#include "services/remoteid/broadcast/odid.h"

namespace utm::remoteid::broadcast {
namespace {

constexpr int kPool = 4096;
constexpr int kTransmitters = 256;

struct Frame {
  std::string transmitter;
  std::string payload;
};

void Put16(std::string& m, int i, uint16_t v) {
  m[i] = static_cast<char>(v & 0xFF);
  m[i + 1] = static_cast<char>(v >> 8);
}
void Put32(std::string& m, int i, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int k = 0; k < 4; ++k) m[i + k] = static_cast<char>((u >> (8 * k)) & 0xFF);
}

std::string Text(uint8_t header, const std::string& s) {
  std::string m(25, '\0');
  m[0] = static_cast<char>(header);
  m.replace(2, s.size(), s);
  return m;
}

const std::vector<Frame>& Pool() {
  static const std::vector<Frame>* const pool = [] {
    auto* v = new std::vector<Frame>();
    std::mt19937_64 rng(20261206);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<double> u(0, 1);
    auto location = [&] {
      std::string m(25, '\0');
      m[0] = 0x12;
      m[1] = static_cast<char>(0x20 | (u(rng) < 0.5 ? 0x02 : 0));
      m[2] = static_cast<char>(byte(rng) % 180);
      m[3] = static_cast<char>(byte(rng) % 120);
      m[4] = static_cast<char>(byte(rng) % 40 - 20);
      Put32(m, 5, static_cast<int32_t>((47 + u(rng)) * 1e7));
      Put32(m, 9, static_cast<int32_t>((8 + u(rng)) * 1e7));
      Put16(m, 13, static_cast<uint16_t>(2800 + byte(rng)));
      Put16(m, 15, static_cast<uint16_t>(2900 + byte(rng)));
      Put16(m, 17, static_cast<uint16_t>(2000 + byte(rng)));
      m[19] = 0x4B;
      m[20] = 0x43;
      Put16(m, 21, static_cast<uint16_t>(u(rng) * 36000));
      m[23] = 0x02;
      return m;
    };
    auto basic_id = [&](int t) {
      std::string m = Text(0x02, absl::StrCat("1596F3C1BE", 1000 + t));
      m[1] = 0x12;
      return m;
    };
    auto system = [&] {
      std::string m(25, '\0');
      m[0] = 0x42;
      m[1] = 0x05;
      Put32(m, 2, static_cast<int32_t>((47 + u(rng)) * 1e7));
      Put32(m, 6, static_cast<int32_t>((8 + u(rng)) * 1e7));
      Put16(m, 10, 1);
      m[17] = 0x12;
      Put16(m, 18, 2900);
      Put32(m, 20, 250000000);
      return m;
    };
    for (int i = 0; i < kPool; ++i) {
      Frame f;
      const int t = static_cast<int>(rng() % kTransmitters);
      f.transmitter = absl::StrCat("02:00:00:00:", t / 16, ":", t % 16);
      const double kind = u(rng);
      if (kind < 0.5) {
        f.payload = location();
      } else if (kind < 0.6) {
        f.payload = basic_id(t);
      } else if (kind < 0.65) {
        f.payload = system();
      } else if (kind < 0.7) {
        f.payload = Text(0x52, "FIN87astrdge12k8");
      } else if (kind < 0.75) {
        f.payload = Text(0x32, "Survey flight");
      } else {
        f.payload = std::string("\xF2\x19\x05", 3) + basic_id(t) + location() +
                    Text(0x32, "Survey flight") + system() +
                    Text(0x52, "FIN87astrdge12k8");
      }
      v->push_back(std::move(f));
    }
    return v;
  }();
  return *pool;
}

void Count(benchmark::State& state) {
  int64_t bytes = 0;
  for (const Frame& f : Pool()) bytes += f.payload.size();
  state.SetItemsProcessed(state.iterations() * kPool);
  state.SetBytesProcessed(state.iterations() * bytes);
}

void BM_CopyFramesBaseline(benchmark::State& state) {
  const std::vector<Frame>& pool = Pool();
  for (auto _ : state) {
    for (const Frame& f : pool) {
      std::string copy = f.payload;
      benchmark::DoNotOptimize(copy.data());
      benchmark::ClobberMemory();
    }
  }
  Count(state);
}
BENCHMARK(BM_CopyFramesBaseline);

void BM_DecodeMessages(benchmark::State& state) {
  const std::vector<Frame>& pool = Pool();
  for (auto _ : state) {
    for (const Frame& f : pool) {
      absl::StatusOr<std::vector<Message>> m = DecodeMessages(f.payload);
      if (!m.ok()) state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(m);
    }
  }
  Count(state);
}
BENCHMARK(BM_DecodeMessages);

// Decoding plus the assembler (256 transmitters, one receiver): what one
// receiver stream costs up to the aircraft reports.
void BM_DecodeAndAssemble(benchmark::State& state) {
  const std::vector<Frame>& pool = Pool();
  Assembler assembler;
  absl::Time now = absl::FromUnixSeconds(1772359200);
  int64_t reports = 0;
  for (auto _ : state) {
    for (const Frame& f : pool) {
      absl::StatusOr<std::vector<Message>> m = DecodeMessages(f.payload);
      if (!m.ok()) state.SkipWithError("decode failed");
      now += absl::Milliseconds(1);
      reports += assembler.Add("rx-1", f.transmitter, now, *m).size();
    }
  }
  state.counters["reports_per_frame"] =
      static_cast<double>(reports) / (state.iterations() * kPool);
  Count(state);
}
BENCHMARK(BM_DecodeAndAssemble);

}  // namespace
}  // namespace utm::remoteid::broadcast
