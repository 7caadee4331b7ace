// Scale benchmark for bench/run.sh: a CA with many certificates, driven
// in-process through CaManager on a real RocksDB directory (the HTTP layer is
// measured by bench_client). Prints one JSON object:
//   issue_rate        certificates/s issued while building the CA (threads)
//   issue_ms_p50 / issue_ms_p999 / issue_ms_max   latency of those issuances
//                      (the maximum shows the snapshots taken in the CA's turn)
//   snapshot_encode_ms  encoding the whole final state (its size:
//                      snapshot_bytes, from load); a snapshot pays this in
//                      the CA's turn only for the chunks of the certificate
//                      index that changed since the last one (the first
//                      after a start: all of them)
//   revoke_to_crl_ms_N  median ms from a revoke request to the new CRL read
//                      back from storage, with N certificates revoked (3 s
//                      after the bulk revocations that got there);
//                      revoke_to_crl_max_ms_N the slowest of the 5
//   crl_full_build_ms / crl_bytes / crl_entries   a CRL of every revoked
//                      certificate built from scratch (no kept entries)
// and, with `load`, in a fresh process on the same directory:
//   cold_start_snapshot_ms     the CA loaded as the server does at start
//                              (latest snapshot, then the events after it)
//   rss_bytes_per_certificate  resident memory that load added, per certificate
//   replay_events_per_s, cold_start_replay_ms   every event, no snapshot
//   snapshot_turn_all_chunks_ms / snapshot_turn_unchanged_ms   a snapshot's
//                              work in the CA's turn when every chunk of the
//                              index is written (the first after a start) and
//                              when none changed; snapshot_record_bytes
// (the operating system's page cache is warm: the data was just written).
// Usage: scale_bench DIR CERTIFICATES [THREADS]; scale_bench load DIR.
// Revocation points are 1,000, 100,000 and 1,000,000 where CERTIFICATES
// allows.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "core/ca_manager.h"
#include "core/encoding.h"
#include "core/key_store.h"
#include "eventstore/rocksdb_kv_store.h"
#include "eventstore/snapshot_pieces.h"
#include "objects/ca_objects_store.h"

using namespace cairn;
using Steady = std::chrono::steady_clock;

namespace {

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

std::string make_csr(int i) {
  EvpPkeyPtr key = generate_key(KeyAlgorithm::EcP256);
  X509ReqPtr req(X509_REQ_new());
  std::string cn = "scale-" + std::to_string(i) + ".example";
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  return to_der(req.get());
}

// The store's pieces, counting the bytes read.
struct CountingPieceSource final : SnapshotPieceSource {
  CountingPieceSource(const KeyValueStore& kv, std::string prefix) : source(kv, std::move(prefix)) {}
  void read(const SnapshotPieceRef& piece, const std::function<void(std::string_view)>& visit) const override {
    source.read(piece, [&](std::string_view b) {
      bytes += b.size();
      visit(b);
    });
  }
  KvSnapshotPieceSource source;
  mutable size_t bytes = 0;
};

}  // namespace

int load(const std::string& dir) {
  auto kv = RocksDbKvStore::open(dir + "/db");
  SystemClock clock;
  nlohmann::json out;
  size_t certificates = 0;
  {
    size_t before = rss_bytes();
    AggregateStore<CertAuth> cold(*kv, clock);
    auto t0 = Steady::now();
    certificates = cold.read("issuing", [](const CertAuth& state, uint64_t) { return state.certificates().size(); });
    out["cold_start_snapshot_ms"] = ms_since(t0);
    out["rss_bytes_per_certificate"] = static_cast<double>(rss_bytes() - before) / static_cast<double>(certificates);
  }
  AggregateStore<CertAuth> store(*kv, clock);
  {
    // What the cold start above consists of: the snapshot (read, decoded)
    // and the events after it.
    auto t1 = Steady::now();
    store.log().read_snapshot("issuing", [&](std::string_view raw) {
      out["snapshot_read_ms"] = ms_since(t1);
      SnapshotRecordView snap = decode_snapshot_record_view(raw);
      auto t2 = Steady::now();
      CountingPieceSource pieces(*kv, store.log().prefix("issuing"));
      CertAuth decoded = CertAuth::decode_snapshot(snap.state, pieces);
      out["snapshot_decode_ms"] = ms_since(t2);
      out["snapshot_bytes"] = snap.state.size() + pieces.bytes;
      out["events_after_snapshot"] = store.log().head("issuing").version - snap.version;
    });
  }
  auto t0 = Steady::now();
  CertAuth state = store.replay("issuing");
  double ms = ms_since(t0);
  uint64_t events = store.log().head("issuing").version;
  out["events"] = events;
  out["replay_events_per_s"] = static_cast<double>(events) / (ms / 1000);
  out["cold_start_replay_ms"] = ms;
  if (state.certificates().size() != certificates) return 1;
  {
    // A snapshot's work in the CA's turn (encoding, digests, the unlogged
    // write of the new pieces): the first after a start writes every chunk;
    // with nothing changed, only the record (tables, revocation order,
    // references). Pieces of a version no record names: erased by the next
    // snapshot written on this directory.
    auto take = [&](uint64_t version) {
      SnapshotPieceWriter pieces(store.log().prefix("issuing"), version);
      std::string record;
      auto t = Steady::now();
      CertAuth::encode_snapshot_pieces(state, record, pieces);
      if (!pieces.new_pieces().empty()) kv->write(pieces.new_pieces(), Durability::Unlogged);
      return std::pair{ms_since(t), record.size()};
    };
    out["snapshot_turn_all_chunks_ms"] = take(events + 1).first;
    auto [unchanged_ms, record_bytes] = take(events + 2);
    out["snapshot_turn_unchanged_ms"] = unchanged_ms;
    out["snapshot_record_bytes"] = record_bytes;
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "load") return load(argv[2]);
  if (argc < 3) {
    std::fprintf(stderr, "usage: scale_bench DIR CERTIFICATES [THREADS] | scale_bench load DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const size_t total = std::stoul(argv[2]);
  const int threads = argc > 3 ? std::stoi(argv[3]) : 8;

  auto kv = RocksDbKvStore::open(dir + "/db");
  MemoryKeyStore keys;
  Signer signer(keys);
  SystemClock clock;
  CaManager manager(*kv, signer, clock, CaManagerConfig{"http://127.0.0.1:8080", 500, nullptr});
  CaObjectsStore objects(*kv, signer, clock, CaObjectsConfig{});
  objects.attach(manager.store());
  manager.create_ca("bench", CreateCaRequest{"root", "CN=Scale Root", "ec-p256", "", 3650});
  manager.create_ca("bench", CreateCaRequest{"issuing", "CN=Scale Issuing", "ec-p256", "root", 1825});

  std::vector<std::string> csrs;
  for (int i = 0; i < 64; ++i) csrs.push_back(make_csr(i));
  std::vector<std::vector<std::string>> serials(static_cast<size_t>(threads));
  std::vector<std::vector<float>> latencies(static_cast<size_t>(threads));
  std::atomic<size_t> next{0};
  auto started = Steady::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (size_t i; (i = next++) < total;) {
        IssueRequest r;
        r.csr = csrs[i % csrs.size()];
        r.profile = "server";
        SubjectAltNames names;
        names.dns = {"scale-" + std::to_string(i % csrs.size()) + ".example"};
        r.sans = names;
        auto t0 = Steady::now();
        serials[static_cast<size_t>(t)].push_back(manager.issue("bench", "issuing", r).certificate.serial);
        latencies[static_cast<size_t>(t)].push_back(static_cast<float>(ms_since(t0)));
      }
    });
  for (auto& w : workers) w.join();
  double issue_ms = ms_since(started);
  std::vector<std::string> all;
  for (auto& s : serials) all.insert(all.end(), s.begin(), s.end());
  std::fprintf(stderr, "issued %zu certificates in %.1f s\n", all.size(), issue_ms / 1000);

  nlohmann::json out;
  out["certificates"] = all.size();
  out["issue_threads"] = threads;
  out["issue_rate"] = static_cast<double>(all.size()) / (issue_ms / 1000);
  {
    std::vector<float> all_latencies;
    for (auto& l : latencies) all_latencies.insert(all_latencies.end(), l.begin(), l.end());
    std::sort(all_latencies.begin(), all_latencies.end());
    auto at = [&](double q) { return all_latencies[std::min(all_latencies.size() - 1, static_cast<size_t>(q * all_latencies.size()))]; };
    if (!all_latencies.empty()) {
      out["issue_ms_p50"] = at(0.5);
      out["issue_ms_p999"] = at(0.999);
      out["issue_ms_max"] = all_latencies.back();
    }
  }
  manager.store().read("issuing", [&](const CertAuth& state, uint64_t) {
    auto t0 = Steady::now();
    std::string encoded = CertAuth::encode_snapshot(state);
    out["snapshot_encode_ms"] = ms_since(t0);
  });

  // Revocation latency at growing revoked counts. Bulk revocations (one
  // command of up to 100,000) bring the CA to each point.
  size_t revoked = 0;
  for (size_t point : {size_t{1000}, size_t{100000}, size_t{1000000}}) {
    if (point + 5 > all.size()) break;
    while (revoked + 1 < point) {
      size_t n = std::min(kMaxBulkRevocations, point - 1 - revoked);
      std::vector<std::string> batch(all.begin() + static_cast<long>(revoked),
                                     all.begin() + static_cast<long>(revoked + n));
      manager.revoke_many("bench", "issuing", batch, "superseded");
      revoked += n;
    }
    std::vector<double> samples;
    // The bulk revocations above leave RocksDB flushing and compacting for
    // a moment; measured at once, the first revocations waited for that
    // I/O (about 78 ms each at 100,000 revoked in a CA of a million,
    // against about 20 once it is done).
    std::this_thread::sleep_for(std::chrono::seconds(3));
    for (int i = 0; i < 5; ++i) {
      auto t0 = Steady::now();
      manager.revoke("bench", "issuing", all[revoked], "keyCompromise");
      auto crl = objects.crl("issuing");
      samples.push_back(ms_since(t0));
      if (!crl) return 1;
      ++revoked;
    }
    std::fprintf(stderr, "revocation at %zu revoked, in order: %.2f %.2f %.2f %.2f %.2f ms\n", point, samples[0],
                 samples[1], samples[2], samples[3], samples[4]);
    std::sort(samples.begin(), samples.end());
    out["revoke_to_crl_ms_" + std::to_string(point)] = samples[2];
    out["revoke_to_crl_max_ms_" + std::to_string(point)] = samples[4];
    std::fprintf(stderr, "revocation at %zu revoked: %.2f ms (median of 5)\n", point, samples[2]);
  }

  // A full CRL from scratch: a fresh objects store has no kept entries.
  {
    CaObjectsStore fresh(*kv, signer, clock, CaObjectsConfig{});
    WriteBatch batch;
    auto t0 = Steady::now();
    manager.store().read("issuing", [&](const CertAuth& state, uint64_t) {
      fresh.before_save("issuing", state, {CaEvent{CertificateRevoked{}}}, batch);
    });
    out["crl_full_build_ms"] = ms_since(t0);
    auto crl = parse_crl(objects.crl("issuing")->der);
    out["crl_entries"] = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get()));
    out["crl_bytes"] = objects.crl("issuing")->der.size();
  }

  std::printf("%s\n", out.dump().c_str());
  return 0;
}
