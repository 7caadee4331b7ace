// Load and check client for the kill -9 crash test (tests/crash/run.sh).
//
//   crash_client load  PORT TOKEN ACKS THREADS SECONDS
//     Issues certificates (server-generated keys) from THREADS threads and
//     revokes every fifth one it was told about, and from one more thread
//     creates an intermediate CA under "root" every 200 ms, until the server
//     stops answering or SECONDS pass. Only after an answer arrives is a
//     line appended to ACKS: "issued <serial> <base64 DER>", "revoked
//     <serial>" or "ca <handle>". Exits non-zero after an issuance or CA
//     creation answered with anything but success.
//   crash_client check PORT TOKEN ACKS
//     After a restart: every acknowledged certificate is stored with the same
//     DER, every acknowledged revocation is in the history and in the CRL,
//     no serial was issued twice, and every acknowledged CA is stored and
//     issues a certificate (its key survived). Exits non-zero naming what is wrong.
//   crash_client power-cut JOURNAL ROOT BASELINE
//     After a kill -9 of a server run under sync_journal.so: drops from ROOT
//     what was not yet durable, as a power cut would (power_cut.h).
#include <httplib.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "core/encoding.h"
#include "core/serial_number.h"
#include "tests/crash/power_cut.h"

using nlohmann::json;

namespace {

httplib::Headers auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::unique_ptr<httplib::Client> client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_connection_timeout(2, 0);
  c->set_tcp_nodelay(true);
  c->set_read_timeout(10, 0);
  return c;
}

int load(int port, const std::string& token, const std::string& acks_path, int threads, int seconds) {
  std::ofstream acks(acks_path, std::ios::app);
  std::mutex mutex;
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};  // an answer that is neither success nor the server going away
  std::atomic<int> issued{0}, revoked{0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  // Anything but 201 Created ends the load, and fails it.
  auto refused = [&](const httplib::Response& r, const char* doing) {
    if (r.status == 201) return false;
    std::cerr << "unexpected answer " << r.status << " " << doing << ": " << r.body << '\n';
    failed = true;
    stop = true;
    return true;
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto c = client(port);
      std::vector<std::string> mine;
      for (int i = 0; !stop && std::chrono::steady_clock::now() < deadline; ++i) {
        if (i % 5 == 4 && !mine.empty()) {
          std::string serial = mine.back();
          mine.pop_back();
          auto r = c->Post("/api/v1/cas/issuing/certificates/" + serial + "/revoke", auth(token),
                           R"({"reason":"keyCompromise"})", "application/json");
          if (!r) break;  // the server is gone
          if (r->status == 200) {
            std::lock_guard lock(mutex);
            acks << "revoked " << serial << '\n' << std::flush;
            ++revoked;
          }
          continue;
        }
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i) + ".crash.example";
        json body = {{"key_type", "ec-p256"}, {"subject", "CN=" + name}, {"sans", {{"dns", {name}}}}};
        auto r = c->Post("/api/v1/cas/issuing/certificates", auth(token), body.dump(), "application/json");
        if (!r) break;
        if (refused(*r, "issuing")) break;
        auto j = json::parse(r->body);
        std::string serial = j["certificate"]["serial"];
        auto cert = cairn::parse_certificate(j["certificate"]["certificate_pem"].get<std::string>());
        std::lock_guard lock(mutex);
        acks << "issued " << serial << ' ' << cairn::base64_encode(cairn::to_der(cert.get())) << '\n' << std::flush;
        mine.push_back(serial);
        ++issued;
      }
    });
  // One more thread creates an intermediate CA under "root" every 200 ms:
  // a new key file (synced, renamed, directory synced) besides the events.
  std::atomic<int> created{0};
  pool.emplace_back([&] {
    auto c = client(port);
    const auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    for (int i = 0; !stop && std::chrono::steady_clock::now() < deadline; ++i) {
      std::string handle = "crash-" + std::to_string(stamp) + "-" + std::to_string(i);
      json body = {{"handle", handle}, {"parent", "root"}, {"subject", "CN=" + handle}, {"key", "ec-p256"}};
      auto r = c->Post("/api/v1/cas", auth(token), body.dump(), "application/json");
      if (!r) break;
      if (refused(*r, "creating a CA")) break;
      {
        std::lock_guard lock(mutex);
        acks << "ca " << handle << '\n' << std::flush;
      }
      ++created;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (auto& th : pool) th.join();
  std::cout << "acknowledged " << issued << " issuances, " << revoked << " revocations and " << created
            << " new CAs\n";
  return failed ? 1 : 0;
}

int check(int port, const std::string& token, const std::string& acks_path) {
  auto c = client(port);
  std::ifstream in(acks_path);
  std::map<std::string, std::string> issued;
  std::set<std::string> revoked;
  std::vector<std::string> cas;
  std::string kind, serial, der;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    ls >> kind >> serial;
    if (kind == "issued") {
      ls >> der;
      issued[serial] = cairn::base64_decode(der);
    } else if (kind == "revoked") {
      revoked.insert(serial);
    } else if (kind == "ca") {
      cas.push_back(serial);  // the handle
    }
  }
  for (const auto& handle : cas) {  // stored, and its key is there to sign with
    auto r = c->Get("/api/v1/cas/" + handle, auth(token));
    if (!r || r->status != 200) {
      std::cerr << "LOST: acknowledged CA " << handle << " is not stored\n";
      return 1;
    }
    json body = {{"key_type", "ec-p256"}, {"subject", "CN=check." + handle}, {"sans", {{"dns", {"check." + handle}}}}};
    r = c->Post("/api/v1/cas/" + handle + "/certificates", auth(token), body.dump(), "application/json");
    if (!r || r->status != 201) {
      std::cerr << "BROKEN: acknowledged CA " << handle << " cannot issue: "
                << (r ? std::to_string(r->status) + " " + r->body : std::string("no answer")) << '\n';
      return 1;
    }
  }
  for (const auto& [s, d] : issued) {
    auto r = c->Get("/api/v1/cas/issuing/certificates/" + s + "/download?format=der", auth(token));
    if (!r || r->status != 200) {
      std::cerr << "LOST: acknowledged certificate " << s << " is not stored\n";
      return 1;
    }
    if (r->body != d) {
      std::cerr << "CHANGED: certificate " << s << " is stored with other DER\n";
      return 1;
    }
  }
  auto crl_res = c->Get("/crl/issuing.crl");
  if (!crl_res || crl_res->status != 200) {
    std::cerr << "no CRL\n";
    return 1;
  }
  auto crl = cairn::parse_crl(crl_res->body);
  for (const auto& s : revoked) {
    auto st = c->Get("/api/v1/cas/issuing/certificates/" + s, auth(token));
    if (!st || json::parse(st->body).value("status", "") != "revoked") {
      std::cerr << "LOST: acknowledged revocation of " << s << " is not in the history\n";
      return 1;
    }
    X509_REVOKED* entry = nullptr;
    auto asn1 = cairn::serial_to_asn1(s);
    if (X509_CRL_get0_by_serial(crl.get(), &entry, asn1.get()) != 1) {
      std::cerr << "MISSING: acknowledged revocation of " << s << " is not on the CRL\n";
      return 1;
    }
  }
  auto list = c->Get("/api/v1/cas/issuing/certificates", auth(token));
  if (!list || list->status != 200) {
    std::cerr << "cannot list certificates\n";
    return 1;
  }
  std::multiset<std::string> serials;
  for (const auto& cert : json::parse(list->body)["certificates"]) serials.insert(cert["serial"].get<std::string>());
  for (const auto& s : serials)
    if (serials.count(s) > 1) {
      std::cerr << "DUPLICATE serial " << s << '\n';
      return 1;
    }
  std::cout << "checked " << issued.size() << " acknowledged certificates, " << revoked.size()
            << " acknowledged revocations and " << cas.size() << " acknowledged CAs (" << serials.size()
            << " certificates stored)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "load" && argc == 7)
      return load(std::stoi(argv[2]), argv[3], argv[4], std::stoi(argv[5]), std::stoi(argv[6]));
    if (mode == "check" && argc == 5) return check(std::stoi(argv[2]), argv[3], argv[4]);
    if (mode == "power-cut" && argc == 5) return cairn::crash::power_cut(argv[2], argv[3], argv[4]);
  } catch (const std::exception& e) {
    std::cerr << "crash_client: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "usage: crash_client load PORT TOKEN ACKS THREADS SECONDS | check PORT TOKEN ACKS\n"
               "       | power-cut JOURNAL ROOT BASELINE\n";
  return 2;
}
