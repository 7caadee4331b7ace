#include "api/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "api/router.h"
#include "eventstore/error.h"

namespace cairn::api {

struct HttpServer::Impl {
  ApiServices services;
  HttpServerOptions options;
  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<Router> router;
  std::atomic<bool> stop_requested{false};
  std::atomic<int> listen_socket{-1};  // the last socket httplib created to listen on
};

namespace {

constexpr int kListenBacklog = 1024;

std::string code_for_status(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "body_too_large";
    case 414: return "uri_too_long";
    case 431: return "headers_too_large";
    default: return status >= 500 ? "internal_error" : "http_error";
  }
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.tls_setup) {
    auto tls = std::make_unique<httplib::SSLServer>(impl_->options.tls_setup);
    if (!tls->is_valid())
      throw Error(ErrorKind::Internal, "tls_setup_failed", "cannot set up the TLS listener");
    impl_->server = std::move(tls);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  auto& s = *impl_->server;
  int threads = impl_->options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(impl_->options.max_body_bytes);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle
  // and the client's delayed ACK add ~40 ms to every answer.
  s.set_tcp_nodelay(true);
  // Remember the listening socket: httplib listens with a backlog of 5,
  // which drops connections when many clients connect at once (see bind()).
  s.set_socket_options([impl = impl_.get()](socket_t sock) {
    httplib::default_socket_options(sock);
    impl->listen_socket = static_cast<int>(sock);
  });
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_keep_alive_timeout(5);
  s.set_keep_alive_max_count(1000);
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string code = code_for_status(res.status);
    std::string message = res.status == 404 ? "no such endpoint"
                          : res.status == 413 ? "the request body is too large"
                                              : "the request could not be handled";
    send_error(res, res.status, code, message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    spdlog::error("{} {}: unhandled exception", req.method, req.path);
    send_error(res, 500, "internal_error", "internal error");
  });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::info("{} {} {} from {}", req.method, req.path, res.status, req.remote_addr);
  });
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  auto& s = *impl_->server;
  const auto& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = s.bind_to_any_port(o.host);
    if (port <= 0) port = -1;
  } else if (!s.bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port < 0)
    throw Error(ErrorKind::Unavailable, "bind_failed",
                "cannot listen on " + o.host + ":" + std::to_string(o.port));
  // A second listen() on a listening socket only changes its backlog (Linux);
  // the kernel caps it at net.core.somaxconn.
  if (impl_->listen_socket >= 0 && ::listen(impl_->listen_socket, kListenBacklog) != 0)
    spdlog::warn("could not raise the listen backlog: {}", std::strerror(errno));
  return port;
}

void HttpServer::run(const ApiServices& services) {
  if (!services.manager || !services.objects || !services.auth || !services.tokens ||
      !services.checkpoints || !services.ocsp || !services.tasks || !services.metrics)
    throw Error(ErrorKind::Internal, "not_configured", "HTTP server started without services");
  impl_->services = services;
  impl_->router = std::make_unique<Router>(*impl_->server, impl_->services);
  register_public_routes(*impl_->router);
  register_ca_routes(*impl_->router);
  register_certificate_routes(*impl_->router);
  register_request_routes(*impl_->router);
  register_history_routes(*impl_->router);
  register_token_routes(*impl_->router);
  register_audit_routes(*impl_->router);
  register_task_routes(*impl_->router);
  register_child_routes(*impl_->router);
  register_service_routes(*impl_->router);
  if (!impl_->options.repository_dir.empty() &&
      !impl_->server->set_mount_point("/repo", impl_->options.repository_dir))
    throw Error(ErrorKind::InvalidInput, "invalid_repository",
                "cannot serve " + impl_->options.repository_dir + " at /repo/: not a directory");
  if (impl_->stop_requested) return;
  impl_->server->listen_after_bind();
}

void HttpServer::stop() {
  if (!impl_) return;
  impl_->stop_requested = true;
  impl_->server->stop();
}

bool HttpServer::running() const { return impl_->server->is_running(); }

}  // namespace cairn::api
