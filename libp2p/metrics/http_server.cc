#include "libp2p/metrics/http_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace libp2p::metrics {
namespace {

struct BufferDeleter {
  void operator()(evbuffer* buffer) const { evbuffer_free(buffer); }
};
using BufferPtr = std::unique_ptr<evbuffer, BufferDeleter>;

// Every method evhttp knows: the ones it does not let through it answers itself, with 501 and no Allow
// header.
constexpr uint16_t kAllMethods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                 EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                 EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH;

// `host` as an IPv4 or IPv6 literal (an IPv6 one may be in brackets) with `port`; false when it is neither.
bool ParseAddress(const std::string& host, uint16_t port, sockaddr_storage* addr, socklen_t* len) {
  *addr = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (::inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Status SocketError(const std::string& what, const std::string& where, int error) {
  std::string message = what + " " + where + ": " + std::strerror(error);
  if (error == EACCES) return PermissionDeniedError(std::move(message));
  return UnavailableError(std::move(message));
}

// A bound, listening, non-blocking socket.
StatusOr<int> Listen(const sockaddr_storage& addr, socklen_t len, const std::string& where) {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("cannot create a socket for", where, errno);
  // Lets a restarted node bind again while its old connections are in TIME_WAIT; on Linux it does not let two
  // sockets listen on one port.
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd, 64) != 0) {
    const int error = errno;
    ::close(fd);
    return SocketError("cannot listen on", where, error);
  }
  return fd;
}

void SendText(evhttp_request* request, int code, const char* reason, std::string_view body,
              std::string_view content_type) {
  BufferPtr buffer(evbuffer_new());
  if (buffer == nullptr) {
    evhttp_send_error(request, HTTP_INTERNAL, nullptr);
    return;
  }
  evbuffer_add(buffer.get(), body.data(), body.size());
  evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type",
                    std::string(content_type).c_str());
  // evhttp moves the buffer's contents to the connection.
  evhttp_send_reply(request, code, reason, buffer.get());
}

}  // namespace

void MetricsHttpServer::HttpDeleter::operator()(evhttp* http) const { evhttp_free(http); }

MetricsHttpServer::MetricsHttpServer(const Registry* registry, Options options)
    : registry_(registry), options_(std::move(options)) {}

MetricsHttpServer::~MetricsHttpServer() = default;

StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(LibeventLoop* loop,
                                                                      const Registry* registry,
                                                                      Options options) {
  if (options.path.empty() || options.path.front() != '/') {
    return InvalidArgumentError("metrics path \"" + options.path + "\" does not start with /");
  }
  sockaddr_storage addr;
  socklen_t addr_len = 0;
  if (!ParseAddress(options.host, options.port, &addr, &addr_len)) {
    return InvalidArgumentError("metrics host \"" + options.host + "\" is not an IP address");
  }
  const std::string where = options.host + ":" + std::to_string(options.port);

  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(registry, std::move(options)));
  server->http_.reset(evhttp_new(loop->native_base()));
  if (server->http_ == nullptr) return InternalError("evhttp_new failed");
  evhttp* http = server->http_.get();
  const Options& o = server->options_;
  evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(o.max_headers_bytes));
  evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(o.max_body_bytes));
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(o.timeout).count();
  const timeval timeout{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  evhttp_set_timeout_tv(http, &timeout);
  evhttp_set_allowed_methods(http, kAllMethods);
  evhttp_set_gencb(http, &MetricsHttpServer::OnRequest, server.get());

  ASSIGN_OR_RETURN(const int fd, Listen(addr, addr_len, where));
  // From here on the evhttp owns the socket and closes it when it is freed.
  if (evhttp_accept_socket_with_handle(http, fd) == nullptr) {
    ::close(fd);
    return InternalError("evhttp_accept_socket failed for " + where);
  }
  sockaddr_storage bound;
  socklen_t bound_len = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return InternalError(std::string("getsockname failed: ") + std::strerror(errno));
  }
  server->port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                   : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return server;
}

void MetricsHttpServer::OnRequest(evhttp_request* request, void* arg) {
  static_cast<MetricsHttpServer*>(arg)->Handle(request);
}

void MetricsHttpServer::Handle(evhttp_request* request) {
  constexpr std::string_view kPlainText = "text/plain; charset=utf-8";
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  if (path == nullptr || options_.path != path) {
    ++refused_;
    SendText(request, HTTP_NOTFOUND, "Not Found", "not found\n", kPlainText);
    return;
  }
  if (evhttp_request_get_command(request) != EVHTTP_REQ_GET) {
    ++refused_;
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET");
    SendText(request, HTTP_BADMETHOD, "Method Not Allowed", "method not allowed\n", kPlainText);
    return;
  }
  ++scrapes_;
  SendText(request, HTTP_OK, "OK", registry_->Render(), kExpositionContentType);
}

}  // namespace libp2p::metrics
