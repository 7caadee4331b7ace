#include <nlohmann/json.hpp>
#include <set>

#include "eventstore/error.h"
#include "scheduler/outbound_http.h"
#include "scheduler/repository.h"

namespace cairn {
namespace {

std::string published_key(const std::string& repo, const std::string& ca) { return "pub/" + repo + "/" + ca; }

}  // namespace

HttpRepository::HttpRepository(RepositoryConfig config, KeyValueStore& kv) : config_(std::move(config)), kv_(kv) {}

void HttpRepository::publish(const std::string& ca, const std::vector<PublishedObject>& objects) {
  OutboundHttp http(config_.url, 5, 10);
  httplib::Client& client = http.client;
  const std::string& prefix = http.prefix;
  httplib::Headers headers;
  if (!config_.token.empty()) headers.emplace("Authorization", "Bearer " + config_.token);
  auto fail = [&](const std::string& what) {
    throw Error(ErrorKind::Unavailable, "repository_unavailable", "repository '" + config_.name + "': " + what);
  };

  std::set<std::string> now;
  for (const auto& o : objects) {
    auto res = client.Put(prefix + "/" + o.path, headers, o.bytes, "application/octet-stream");
    if (!res) fail("PUT " + o.path + ": " + httplib::to_string(res.error()));
    if (res->status < 200 || res->status > 299) fail("PUT " + o.path + " answered " + std::to_string(res->status));
    now.insert(o.path);
  }
  std::set<std::string> before;
  if (auto stored = kv_.get(published_key(config_.name, ca))) {
    auto j = nlohmann::json::parse(*stored, nullptr, false);
    if (j.is_array())
      for (const auto& p : j)
        if (p.is_string()) before.insert(p.get<std::string>());
  }
  for (const auto& path : before) {
    if (now.count(path)) continue;
    auto res = client.Delete(prefix + "/" + path, headers);
    if (!res) fail("DELETE " + path + ": " + httplib::to_string(res.error()));
    if ((res->status < 200 || res->status > 299) && res->status != 404)
      fail("DELETE " + path + " answered " + std::to_string(res->status));
  }
  WriteBatch b;
  b.put(published_key(config_.name, ca), nlohmann::json(std::vector<std::string>(now.begin(), now.end())).dump());
  kv_.write(b, Durability::Sync);
}

}  // namespace cairn
