// Serves a metrics Registry over HTTP for Prometheus to scrape: GET /metrics on the node's LibeventLoop, with
// libevent's evhttp. This file and http_server.cc are the only code that touches evhttp.
//
// How an application serves its metrics (on the loop thread, or before the loop runs):
//
//   metrics::Registry registry;  // Outlives the server and every writer of its series.
//   metrics::MetricsHttpServer::Options options;
//   options.port = 9090;         // On 127.0.0.1 unless options.host says otherwise.
//   auto server = metrics::MetricsHttpServer::Start(loop.get(), &registry, options);
//   if (!server.ok()) ...        // A bad address or a port in use.
//
// Requests are answered on the loop thread, between the loop's other callbacks: a render costs about 20 us
// per 100 families of 8 series (registry_benchmark), and reads only the registry's atomics, never loop state.
#ifndef LIBP2P_METRICS_HTTP_SERVER_H_
#define LIBP2P_METRICS_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "libp2p/base/clock.h"
#include "libp2p/base/libevent_loop.h"
#include "libp2p/base/status.h"
#include "libp2p/metrics/registry.h"

struct evhttp;
struct evhttp_request;

namespace libp2p::metrics {

// The content type of the Prometheus text exposition format 0.0.4.
inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// An HTTP/1.1 server that answers GET `path` with the registry's exposition (200), any other method on that
// path with 405 (and `Allow: GET`), and any other path with 404. What a client can hold is bounded: the
// request headers and body have size limits (a request over them gets 400 or 413 and its connection is
// closed), and a connection that sends or reads nothing for `timeout` is closed without a reply. evhttp in
// libevent 2.1 has no limit on the number of connections: expose the port to the scraper only (a firewall, or
// a loopback address).
class MetricsHttpServer {
 public:
  struct Options {
    // Where to listen: an IPv4 or IPv6 literal (no name lookup), e.g. "127.0.0.1", "0.0.0.0", "::1".
    std::string host = "127.0.0.1";
    // 0 picks a free port (see port()).
    uint16_t port = 0;
    // The path that serves the metrics (the query string is ignored).
    std::string path = "/metrics";
    // The most bytes of request line and headers, and of request body, that a request may have.
    size_t max_headers_bytes = 8 * 1024;
    size_t max_body_bytes = 1024;
    // A connection idle this long while reading a request or writing a reply is closed.
    Duration timeout = std::chrono::seconds(10);
  };

  // Listens on `options.host`:`options.port` and serves `registry` on `loop`. Both are observers and must
  // outlive the server; call on the loop thread, or before the loop runs. Fails with kInvalidArgument for a
  // host that is not an IP literal or an empty or relative path, kUnavailable when the address cannot be
  // bound (a port in use, an address not on this machine) or listened on, kPermissionDenied for a port we may
  // not bind, and kInternal when libevent fails.
  static StatusOr<std::unique_ptr<MetricsHttpServer>> Start(LibeventLoop* loop, const Registry* registry,
                                                            Options options);

  // Closes the listening socket and every open connection. On the loop thread (or while the loop is not
  // running), and not from inside a request callback.
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The port listened on: the one asked for, or the one picked for port 0.
  uint16_t port() const { return port_; }
  // Requests answered so far, by outcome. Loop thread.
  uint64_t scrapes() const { return scrapes_; }
  uint64_t refused() const { return refused_; }

 private:
  struct HttpDeleter {
    void operator()(evhttp* http) const;
  };

  MetricsHttpServer(const Registry* registry, Options options);
  static void OnRequest(evhttp_request* request, void* arg);
  void Handle(evhttp_request* request);

  const Registry* const registry_;
  const Options options_;
  std::unique_ptr<evhttp, HttpDeleter> http_;
  uint16_t port_ = 0;
  uint64_t scrapes_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace libp2p::metrics

#endif  // LIBP2P_METRICS_HTTP_SERVER_H_
