// The metrics server over real TCP on 127.0.0.1. The test's client is a non-blocking socket watched by the
// same loop as the server, so one thread drives both and every wait ends on an event (the server closing the
// connection), with a limit that fails the test instead of hanging it.
#include "libp2p/metrics/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "libp2p/base/event_loop.h"

namespace libp2p::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Response {
  bool closed = false;  // The server closed the connection (what each exchange waits for).
  std::string raw;      // Everything the server sent.

  int status() const {
    if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || raw.size() < 12) return -1;
    return std::stoi(raw.substr(9, 3));
  }
  std::string headers() const { return raw.substr(0, raw.find("\r\n\r\n") + 2); }
  std::string body() const {
    const size_t end = raw.find("\r\n\r\n");
    return end == std::string::npos ? "" : raw.substr(end + 4);
  }
  bool HasHeader(const std::string& line) const {
    return headers().find("\r\n" + line + "\r\n") != std::string::npos;
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = LibeventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(loop).value();
    auto counter = registry_.AddCounterFamily("requests_total", "Requests.", {"path"});
    ASSERT_TRUE(counter.ok());
    requests_ = &(*counter)->WithLabels({"/a"});
    requests_->Add(3);
  }

  std::unique_ptr<MetricsHttpServer> StartServer(MetricsHttpServer::Options options = {}) {
    auto server = MetricsHttpServer::Start(loop_.get(), &registry_, std::move(options));
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    if (!server.ok()) return nullptr;
    EXPECT_NE((*server)->port(), 0);
    return std::move(server).value();
  }

  // Connects to 127.0.0.1:`port`, sends `request` and reads until the server closes the connection or
  // `limit` passes.
  Response Exchange(uint16_t port, const std::string& request, Duration limit = seconds(10)) {
    Response response;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
    size_t sent = 0;
    std::unique_ptr<FdWatcher> watcher;
    watcher = loop_->WatchFd(fd, kFdWritable | kFdReadable, [&](uint32_t ready) {
      if ((ready & kFdWritable) != 0) {
        if (sent < request.size()) {
          const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
          if (n > 0) sent += static_cast<size_t>(n);
        }
        if (sent == request.size()) watcher->SetInterest(kFdReadable);
      }
      if ((ready & kFdReadable) != 0) {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
          response.raw.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          response.closed = true;
          watcher->SetInterest(0);
        }
      }
    });
    loop_->RunUntil([&] { return response.closed; }, limit);
    watcher.reset();
    ::close(fd);
    return response;
  }

  static std::string Get(const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  }

  Registry registry_;
  Counter* requests_ = nullptr;
  std::unique_ptr<LibeventLoop> loop_;  // Declared after the registry: destroyed before it.
};

TEST_F(HttpServerTest, ServesTheExposition) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const Response r = Exchange(server->port(), Get("/metrics"));
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.status(), 200) << r.raw;
  EXPECT_TRUE(r.HasHeader("Content-Type: text/plain; version=0.0.4; charset=utf-8")) << r.raw;
  EXPECT_EQ(r.body(),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{path=\"/a\"} 3\n");
  EXPECT_TRUE(r.HasHeader("Content-Length: " + std::to_string(r.body().size()))) << r.raw;
  EXPECT_EQ(server->scrapes(), 1u);
}

TEST_F(HttpServerTest, EachScrapeSeesTheCurrentValues) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  EXPECT_NE(Exchange(server->port(), Get("/metrics")).body().find("requests_total{path=\"/a\"} 3\n"),
            std::string::npos);
  requests_->Inc();
  EXPECT_NE(Exchange(server->port(), Get("/metrics?x=1")).body().find("requests_total{path=\"/a\"} 4\n"),
            std::string::npos);
  EXPECT_EQ(server->scrapes(), 2u);
}

TEST_F(HttpServerTest, OtherPathsAreNotFound) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  for (const char* target : {"/", "/metrics/", "/metricsx", "/other"}) {
    const Response r = Exchange(server->port(), Get(target));
    EXPECT_EQ(r.status(), 404) << target << ": " << r.raw;
    EXPECT_EQ(r.body(), "not found\n");
  }
  EXPECT_EQ(server->scrapes(), 0u);
  EXPECT_EQ(server->refused(), 4u);
}

TEST_F(HttpServerTest, OtherMethodsAreNotAllowed) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  for (const char* method : {"POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"}) {
    const Response r =
        Exchange(server->port(), std::string(method) +
                                     " /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                                     "0\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(r.status(), 405) << method << ": " << r.raw;
    EXPECT_TRUE(r.HasHeader("Allow: GET")) << r.raw;
  }
  EXPECT_EQ(server->scrapes(), 0u);
}

TEST_F(HttpServerTest, ACustomPath) {
  MetricsHttpServer::Options options;
  options.path = "/prom";
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(Exchange(server->port(), Get("/prom")).status(), 200);
  EXPECT_EQ(Exchange(server->port(), Get("/metrics")).status(), 404);
}

TEST_F(HttpServerTest, OversizedHeadersAreRefused) {
  MetricsHttpServer::Options options;
  options.max_headers_bytes = 512;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const std::string request =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(4096, 'a') +
      "\r\nConnection: close\r\n\r\n";
  const Response r = Exchange(server->port(), request);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.status(), 400) << r.raw;  // What libevent 2.1 answers to headers over the limit.
  EXPECT_EQ(server->scrapes(), 0u);
}

TEST_F(HttpServerTest, OversizedBodyIsRefused) {
  MetricsHttpServer::Options options;
  options.max_body_bytes = 16;
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  const Response r = Exchange(server->port(),
                              "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n"
                              "Connection: close\r\n\r\n" +
                                  std::string(64, 'b'));
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.status(), 413) << r.raw;
}

TEST_F(HttpServerTest, AnIdleConnectionIsClosed) {
  MetricsHttpServer::Options options;
  options.timeout = milliseconds(100);
  auto server = StartServer(options);
  ASSERT_NE(server, nullptr);
  // Half a request, then nothing: the server gives up on it after its timeout.
  const Response r = Exchange(server->port(), "GET /metrics HTTP/1.1\r\n");
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.raw, "");  // Closed without a reply.
  EXPECT_EQ(server->scrapes(), 0u);
}

TEST_F(HttpServerTest, DestroyedWithAConnectionOpen) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const Response r = Exchange(server->port(), "GET /metrics HTTP/1.1\r\n", milliseconds(20));
  EXPECT_FALSE(r.closed);
  server.reset();  // Frees the open connection (ASan's leak check would see it otherwise).
}

TEST_F(HttpServerTest, PortInUse) {
  auto first = StartServer();
  ASSERT_NE(first, nullptr);
  MetricsHttpServer::Options options;
  options.port = first->port();
  auto second = MetricsHttpServer::Start(loop_.get(), &registry_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
  // The first one still serves.
  EXPECT_EQ(Exchange(first->port(), Get("/metrics")).status(), 200);
}

TEST_F(HttpServerTest, BadOptions) {
  for (const char* host : {"", "localhost", "256.0.0.1", "1.2.3", "::g", "[::1"}) {
    MetricsHttpServer::Options options;
    options.host = host;
    auto server = MetricsHttpServer::Start(loop_.get(), &registry_, options);
    ASSERT_FALSE(server.ok()) << host;
    EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument) << host;
  }
  MetricsHttpServer::Options options;
  options.path = "metrics";
  EXPECT_EQ(MetricsHttpServer::Start(loop_.get(), &registry_, options).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace libp2p::metrics
