// netsock: the socket options Node's net and dgram cannot set.
//
// BGP needs TCP MD5 signatures (RFC 2385), the IP TTL / hop limit (single-hop eBGP sends TTL 1,
// multi-hop 255, GTSM checks a minimum), and binding to a VRF device. A key must be on the
// socket before connect() sends the SYN, so the addon creates TCP sockets itself and hands bare
// fds to Node (new net.Socket({fd}) / server.listen({fd})); once handed over it forgets them.
//
// BFD needs the TTL of every received datagram (RFC 5881 GTSM), which only recvmsg() ancillary
// data carries, so UDP sockets for BFD stay owned by the addon (class UdpSocket), watched with
// uv_poll on Node's loop: no threads, callbacks in order on the JS thread.
//
// Layer 2 needs raw frames: ARP requests and replies through AF_PACKET (the kernel adds the
// Ethernet header), Neighbor Solicitations through a raw ICMPv6 socket that joins the
// solicited-node groups of the Service IPs (class RawSocket; JS builds and parses packets).
//
// Received BGP routes go into the kernel through rtnetlink: a NETLINK_ROUTE socket (optionally
// made inside another network namespace), bytes in and out; JS builds and parses the messages.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <netinet/tcp.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string>
#include <vector>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

namespace {

// ---- errors -------------------------------------------------------------------------------

// An Error shaped like Node's system errors: message "syscall CODE (detail)", .code, .errno, .syscall.
Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& detail = "") {
  const char* code = uv_err_name(uv_translate_sys_error(err));
  std::string msg = std::string(syscall) + " " + code + " (" + strerror(err) + ")";
  if (!detail.empty()) msg += ": " + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

void ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail = "") {
  ErrnoError(env, syscall, err, detail).ThrowAsJavaScriptException();
}

void ThrowType(Napi::Env env, const std::string& msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
}

// A throw inside a callback that libuv invoked has no JS caller to land in: report it as an
// uncaught exception, with its stack, as Node does for its own callbacks.
void RethrowPending(Napi::Env env) {
  if (env.IsExceptionPending()) {
    Napi::Error e = env.GetAndClearPendingException();
    napi_fatal_exception(env, e.Value());
  }
}

// ---- addresses ----------------------------------------------------------------------------

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

// Parses a literal address of the given family ("fe80::1%eth0" carries a scope). An IPv4
// literal for an IPv6 socket becomes ::ffff:a.b.c.d, the form a dual-stack socket sees.
bool ParseAddr(int family, const std::string& text, int port, SockAddr* out) {
  std::memset(&out->ss, 0, sizeof out->ss);
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out->ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (text.empty()) sin->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (inet_pton(AF_INET, text.c_str(), &sin->sin_addr) != 1) return false;
    out->len = sizeof *sin;
    return true;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out->ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(static_cast<uint16_t>(port));
  out->len = sizeof *sin6;
  if (text.empty()) { sin6->sin6_addr = in6addr_any; return true; }
  std::string host = text;
  size_t pct = host.find('%');
  if (pct != std::string::npos) {
    std::string zone = host.substr(pct + 1);
    host = host.substr(0, pct);
    unsigned idx = if_nametoindex(zone.c_str());
    if (idx == 0) idx = static_cast<unsigned>(std::strtoul(zone.c_str(), nullptr, 10));
    if (idx == 0) return false;
    sin6->sin6_scope_id = idx;
  }
  if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) != 1) return false;
  sin6->sin6_addr.s6_addr[10] = 0xff;
  sin6->sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(&sin6->sin6_addr.s6_addr[12], &v4, 4);
  return true;
}

// Formats a received address; ::ffff:a.b.c.d on a dual-stack socket stays in IPv6 form.
void FormatAddr(const sockaddr_storage& ss, std::string* address, int* port, int* family) {
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {0};
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    *port = ntohs(sin->sin_port);
    *family = 4;
  } else {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
    *port = ntohs(sin6->sin6_port);
    *family = 6;
  }
  *address = buf;
}

int FamilyArg(Napi::Value v) {
  if (!v.IsNumber()) return -1;
  int f = v.As<Napi::Number>().Int32Value();
  return f == 4 ? AF_INET : f == 6 ? AF_INET6 : -1;
}

// ---- options shared by every socket we create ---------------------------------------------

std::string OptString(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

int OptInt(Napi::Object o, const char* key, int dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : dflt;
}

bool SetInt(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0;
}

int SetMd5(int fd, int family, const std::string& peer, const std::string* password, std::string* why) {
  tcp_md5sig sig{};
  SockAddr a;
  if (!ParseAddr(family, peer, 0, &a)) { *why = "invalid peer address " + peer; return EINVAL; }
  std::memcpy(&sig.tcpm_addr, &a.ss, a.len);
  if (password != nullptr) {
    if (password->size() > TCP_MD5SIG_MAXKEYLEN) { *why = "password longer than 80 bytes"; return EINVAL; }
    sig.tcpm_keylen = static_cast<uint16_t>(password->size());
    std::memcpy(sig.tcpm_key, password->data(), password->size());
  }
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) == 0) return 0;
  int err = errno;
  if (password == nullptr && err == ENOENT) return 0;  // deleting a key that was never set
  *why = "TCP_MD5SIG for " + peer;
  return err;
}

// Creates a non-blocking TCP or UDP socket with the options common to all: TTL / hop limit,
// GTSM minimum, VRF device, SO_REUSEADDR, then bind() when a local address or port is given.
// Returns the fd, or -1 with a JS exception pending.
int MakeSocket(Napi::Env env, Napi::Object o, int type, const char* addrKey, const char* portKey, bool bindAlways) {
  int family = FamilyArg(o.Get("family"));
  if (family < 0) { ThrowType(env, "family must be 4 or 6"); return -1; }
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { ThrowErrno(env, "socket", errno); return -1; }
  auto fail = [&](const char* syscall, const std::string& detail) {
    int err = errno;
    close(fd);
    ThrowErrno(env, syscall, err, detail);
    return -1;
  };
  bool v6 = family == AF_INET6;
  int ttl = OptInt(o, "ttl", -1);
  if (ttl >= 0) {
    if (!SetInt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, ttl)) return fail("setsockopt", "ttl");
    if (type == SOCK_DGRAM &&
        !SetInt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, ttl)) return fail("setsockopt", "multicast ttl");
  }
  int minTtl = OptInt(o, "minTtl", -1);
  if (minTtl >= 0 && !SetInt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MINHOPCOUNT : IP_MINTTL, minTtl)) return fail("setsockopt", "minTtl");
  std::string dev = OptString(o, "bindToDevice");
  if (!dev.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), static_cast<socklen_t>(dev.size())) != 0) {
    return fail("setsockopt", "SO_BINDTODEVICE " + dev);
  }
  Napi::Value reuse = o.Get("reuseAddress");
  if ((!reuse.IsBoolean() || reuse.As<Napi::Boolean>().Value()) && !SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1)) return fail("setsockopt", "SO_REUSEADDR");
  std::string local = OptString(o, addrKey);
  int localPort = OptInt(o, portKey, 0);
  if (v6 && (!local.empty() && local != "::")) SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  if (bindAlways || !local.empty() || localPort != 0) {
    SockAddr a;
    if (!ParseAddr(family, local, localPort, &a)) { close(fd); ThrowType(env, "invalid local address " + local); return -1; }
    if (bind(fd, reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0) return fail("bind", local + " port " + std::to_string(localPort));
  }
  return fd;
}

bool ApplyMd5Option(Napi::Env env, int fd, int family, Napi::Object o) {
  Napi::Value m = o.Get("md5");
  if (!m.IsObject()) return true;
  Napi::Object md5 = m.As<Napi::Object>();
  std::string peer = OptString(md5, "address");
  std::string pw = OptString(md5, "password");
  std::string why;
  int err = SetMd5(fd, family, peer, &pw, &why);
  if (err == 0) return true;
  close(fd);
  ThrowErrno(env, "setsockopt", err, why);
  return false;
}

// ---- TCP ----------------------------------------------------------------------------------

// A connect in progress: uv_poll waits for writability, uv_timer bounds the wait.
struct ConnectReq {
  uv_poll_t poll;
  uv_timer_t timer;
  int fd;
  int closing = 0;
  bool done = false;
  napi_env env;
  Napi::FunctionReference cb;
  Napi::AsyncContext* ctx;
};

void FreeWhenClosed(uv_handle_t* h) {
  auto* req = static_cast<ConnectReq*>(h->data);
  if (--req->closing == 0) {
    delete req->ctx;
    delete req;
  }
}

void FinishConnect(ConnectReq* req, int err) {
  if (req->done) return;
  req->done = true;
  // The poll handle must be closed before Node sees the fd: libuv refuses (EEXIST) to watch an
  // fd that another handle of the same loop watches. uv_close removes it from epoll at once.
  uv_poll_stop(&req->poll);
  uv_timer_stop(&req->timer);
  req->closing = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&req->poll), FreeWhenClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&req->timer), FreeWhenClosed);
  Napi::Env env(req->env);
  Napi::HandleScope scope(env);
  std::vector<napi_value> args;
  if (err == 0) {
    args = {env.Null(), Napi::Number::New(env, req->fd)};
  } else {
    close(req->fd);
    args = {ErrnoError(env, "connect", err).Value()};
  }
  req->cb.MakeCallback(env.Global(), args, *req->ctx);
  RethrowPending(env);
}

void OnConnectWritable(uv_poll_t* h, int status, int events) {
  auto* req = static_cast<ConnectReq*>(h->data);
  int err = 0;
  socklen_t len = sizeof err;
  // libuv reports POLLERR as UV_EBADF; the socket's own error is the real reason.
  if (getsockopt(req->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0 && status < 0) err = EIO;
  FinishConnect(req, err);
}

// libuv runs due timers before it polls: after a stall of the JS thread (a long synchronous pass)
// the deadline fires before the handshake that completed meanwhile is seen. Ask the socket first.
void OnConnectTimeout(uv_timer_t* h) {
  auto* req = static_cast<ConnectReq*>(h->data);
  struct pollfd p = {req->fd, POLLOUT, 0};
  if (poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(req->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    FinishConnect(req, err);
    return;
  }
  FinishConnect(req, ETIMEDOUT);
}

// tcpConnect({family, address, port, localAddress?, localPort?, md5?, ttl?, minTtl?,
//             bindToDevice?, timeoutMs?}, cb(err, fd))
Napi::Value TcpConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) { ThrowType(env, "tcpConnect(options, callback)"); return env.Undefined(); }
  Napi::Object o = info[0].As<Napi::Object>();
  int family = FamilyArg(o.Get("family"));
  SockAddr peer;
  std::string address = OptString(o, "address");
  if (family < 0 || !ParseAddr(family, address, OptInt(o, "port", 0), &peer)) {
    ThrowType(env, "tcpConnect: invalid family or address '" + address + "'");
    return env.Undefined();
  }
  int fd = MakeSocket(env, o, SOCK_STREAM, "localAddress", "localPort", false);
  if (fd < 0) return env.Undefined();
  if (!ApplyMd5Option(env, fd, family, o)) return env.Undefined();
  SetInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&peer.ss), peer.len);
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "connect", err, address);
    return env.Undefined();
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* req = new ConnectReq();
  req->fd = fd;
  req->env = env;
  req->cb = Napi::Persistent(info[1].As<Napi::Function>());
  req->ctx = new Napi::AsyncContext(env, "netsock.tcpConnect");
  uv_poll_init_socket(loop, &req->poll, fd);
  uv_timer_init(loop, &req->timer);
  req->poll.data = req;
  req->timer.data = req;
  uv_poll_start(&req->poll, UV_WRITABLE, OnConnectWritable);
  int timeoutMs = OptInt(o, "timeoutMs", 30000);
  uv_timer_start(&req->timer, OnConnectTimeout, static_cast<uint64_t>(timeoutMs > 0 ? timeoutMs : 1), 0);
  return env.Undefined();
}

// tcpListen({family, address, port, backlog?, ttl?, minTtl?, bindToDevice?}) -> fd
Napi::Value TcpListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) { ThrowType(env, "tcpListen(options)"); return env.Undefined(); }
  Napi::Object o = info[0].As<Napi::Object>();
  int fd = MakeSocket(env, o, SOCK_STREAM, "address", "port", true);
  if (fd < 0) return env.Undefined();
  if (listen(fd, OptInt(o, "backlog", 128)) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "listen", err);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// setMd5Key(fd, family, peerAddress, password | undefined). On a listener the key is copied
// into every connection accepted from that peer; on a live socket it takes effect at once.
Napi::Value SetMd5Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family = FamilyArg(info[1]);
  if (!info[0].IsNumber() || family < 0 || !info[2].IsString()) { ThrowType(env, "setMd5Key(fd, family, peerAddress, password?)"); return env.Undefined(); }
  std::string pw;
  bool set = info[3].IsString();
  if (set) pw = info[3].As<Napi::String>().Utf8Value();
  std::string why;
  int err = SetMd5(info[0].As<Napi::Number>().Int32Value(), family, info[2].As<Napi::String>().Utf8Value(), set ? &pw : nullptr, &why);
  if (err != 0) ThrowErrno(env, "setsockopt", err, why);
  return env.Undefined();
}

Napi::Value SetsockoptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4) { ThrowType(env, "setsockoptInt(fd, level, name, value)"); return env.Undefined(); }
  int v = info[3].As<Napi::Number>().Int32Value();
  if (setsockopt(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                 info[2].As<Napi::Number>().Int32Value(), &v, sizeof v) != 0) ThrowErrno(env, "setsockopt", errno);
  return env.Undefined();
}

Napi::Value GetsockoptInt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3) { ThrowType(env, "getsockoptInt(fd, level, name)"); return env.Undefined(); }
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(),
                 info[2].As<Napi::Number>().Int32Value(), &v, &len) != 0) { ThrowErrno(env, "getsockopt", errno); return env.Undefined(); }
  return Napi::Number::New(env, v);
}

// Closes an fd that was never handed to Node (cleanup on a failed hand-over).
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// ---- rtnetlink ----------------------------------------------------------------------------

// netlinkOpen(netnsPath?): a NETLINK_ROUTE socket bound with a kernel-chosen port id. With a path
// (/run/netns/NAME) the socket is made inside that namespace: this thread enters it for the
// socket() call and leaves at once, as `ip -n` does; the socket stays in it for its life.
Napi::Value NetlinkOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int self = -1;
  if (info.Length() > 0 && info[0].IsString()) {
    std::string path = info[0].As<Napi::String>().Utf8Value();
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) { ThrowErrno(env, "open", errno, "/proc/thread-self/ns/net"); return env.Undefined(); }
    int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) { int e = errno; close(self); ThrowErrno(env, "open", e, path); return env.Undefined(); }
    int rc = setns(target, CLONE_NEWNET);
    int e = errno;
    close(target);
    if (rc != 0) { close(self); ThrowErrno(env, "setns", e, path); return env.Undefined(); }
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int socketErr = errno;
  if (self >= 0) {
    // Back to our own namespace: staying in the other one would move every later socket there.
    if (setns(self, CLONE_NEWNET) != 0) abort();
    close(self);
  }
  if (fd < 0) { ThrowErrno(env, "socket", socketErr, "AF_NETLINK"); return env.Undefined(); }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int e = errno; close(fd); ThrowErrno(env, "bind", e, "AF_NETLINK"); return env.Undefined();
  }
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);  // error strings in ACKs (best effort)
  return Napi::Number::New(env, fd);
}

// netlinkSend(fd, buffer): one datagram to the kernel (one or more netlink messages).
Napi::Value NetlinkSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsBuffer()) { ThrowType(env, "netlinkSend(fd, buffer)"); return env.Undefined(); }
  auto buf = info[1].As<Napi::Buffer<uint8_t>>();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do n = sendto(info[0].As<Napi::Number>().Int32Value(), buf.Data(), buf.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, "sendto", errno, "AF_NETLINK");
  return env.Undefined();
}

// netlinkRecv(fd): one queued datagram, or null when none is queued. rtnetlink answers requests
// while sendto() runs (and fills a dump's next part during recv), so nothing here ever waits.
Napi::Value NetlinkRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  ssize_t size;
  do size = recv(fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  while (size < 0 && errno == EINTR);
  if (size < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, "recv", errno, "AF_NETLINK");
    return env.Undefined();
  }
  auto out = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(size));
  ssize_t n;
  do n = recv(fd, out.Data(), out.Length(), MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) { ThrowErrno(env, "recv", errno, "AF_NETLINK"); return env.Undefined(); }
  return out;
}

// ---- sockets the addon keeps and watches --------------------------------------------------

// An fd the addon owns, watched with uv_poll on Node's loop and delivering to one JS callback:
// start, close, ref and unref shared by UdpSocket and RawSocket; T::OnReadable reads the fd.
template <typename T>
class PolledSocket : public Napi::ObjectWrap<T> {
 public:
  explicit PolledSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info) {}
  ~PolledSocket() override { if (fd_ >= 0 && poll_ == nullptr) close(fd_); }

 protected:
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool refd_ = true;
  Napi::FunctionReference onMessage_;
  Napi::AsyncContext* ctx_ = nullptr;

  Napi::Value StartPolling(const Napi::CallbackInfo& info, const char* name) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { ThrowType(env, "socket is closed"); return env.Undefined(); }
    if (poll_ != nullptr || !info[0].IsFunction()) { ThrowType(env, "start(callback) once"); return env.Undefined(); }
    onMessage_ = Napi::Persistent(info[0].As<Napi::Function>());
    ctx_ = new Napi::AsyncContext(env, name);
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    uv_poll_init_socket(loop, poll_, fd_);
    poll_->data = static_cast<T*>(this);
    uv_poll_start(poll_, UV_READABLE, T::OnReadable);
    if (!refd_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    this->Ref();  // no GC while the loop may call us
    return env.Undefined();
  }

  static void FreePoll(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (fd_ < 0) return info.Env().Undefined();
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), FreePoll);
      poll_ = nullptr;
      onMessage_.Reset();
      delete ctx_;
      ctx_ = nullptr;
      this->Unref();
    }
    close(fd_);
    fd_ = -1;
    return info.Env().Undefined();
  }

  Napi::Value DoRef(const Napi::CallbackInfo& info) {
    refd_ = true;
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value DoUnref(const Napi::CallbackInfo& info) {
    refd_ = false;
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
};

// ---- UDP with received TTL ------------------------------------------------------------------

class UdpSocket : public PolledSocket<UdpSocket> {
  friend class PolledSocket<UdpSocket>;
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "UdpSocket", {
      InstanceMethod("start", &UdpSocket::Start),
      InstanceMethod("send", &UdpSocket::Send),
      InstanceMethod("address", &UdpSocket::Address),
      InstanceMethod("close", &UdpSocket::Close),
      InstanceMethod("ref", &UdpSocket::DoRef),
      InstanceMethod("unref", &UdpSocket::DoUnref),
      InstanceAccessor("fd", &UdpSocket::Fd, nullptr),
    });
  }

  // new UdpSocket({family, localAddress?, localPort?, ttl?, bindToDevice?, reuseAddress?})
  explicit UdpSocket(const Napi::CallbackInfo& info) : PolledSocket<UdpSocket>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) { ThrowType(env, "new UdpSocket(options)"); return; }
    Napi::Object o = info[0].As<Napi::Object>();
    family_ = FamilyArg(o.Get("family"));
    Napi::Value reuse = o.Get("reuseAddress");
    if (!reuse.IsBoolean()) o.Set("reuseAddress", Napi::Boolean::New(env, false));
    fd_ = MakeSocket(env, o, SOCK_DGRAM, "localAddress", "localPort", true);
    if (fd_ < 0) return;
    bool v6 = family_ == AF_INET6;
    if (!SetInt(fd_, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, 1)) {
      int err = errno;
      close(fd_);
      fd_ = -1;
      ThrowErrno(env, "setsockopt", err, "IP_RECVTTL");
    }
  }


 private:
  int family_ = AF_INET;

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  // start(cb(err, msg, address, port, family, ttl)): begin delivering datagrams.
  Napi::Value Start(const Napi::CallbackInfo& info) { return StartPolling(info, "netsock.UdpSocket"); }

  static void OnReadable(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<UdpSocket*>(h->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // At most 64 datagrams per wake-up so one busy socket cannot starve the loop.
    for (int i = 0; i < 64 && self->fd_ >= 0; i++) {
      char data[65536];
      char control[256];
      sockaddr_storage from{};
      iovec iov{data, sizeof data};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = recvmsg(self->fd_, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        self->onMessage_.MakeCallback(env.Global(), {ErrnoError(env, "recvmsg", errno).Value()}, *self->ctx_);
        RethrowPending(env);
        break;
      }
      int ttl = -1;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
          std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        }
      }
      std::string address;
      int port = 0, fam = 4;
      FormatAddr(from, &address, &port, &fam);
      self->onMessage_.MakeCallback(env.Global(), {
        env.Null(), Napi::Buffer<char>::Copy(env, data, static_cast<size_t>(n)), Napi::String::New(env, address),
        Napi::Number::New(env, port), Napi::Number::New(env, fam), Napi::Number::New(env, ttl)}, *self->ctx_);
      RethrowPending(env);
    }
  }

  // send(buf, port, address): datagrams are sent at once or not at all (EAGAIN is an error).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) { ThrowType(env, "socket is closed"); return env.Undefined(); }
    if (!info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsString()) { ThrowType(env, "send(buffer, port, address)"); return env.Undefined(); }
    auto buf = info[0].As<Napi::Buffer<char>>();
    SockAddr to;
    std::string address = info[2].As<Napi::String>().Utf8Value();
    if (!ParseAddr(family_, address, info[1].As<Napi::Number>().Int32Value(), &to)) { ThrowType(env, "invalid address " + address); return env.Undefined(); }
    ssize_t n = sendto(fd_, buf.Data(), buf.Length(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to.ss), to.len);
    if (n < 0) ThrowErrno(env, "sendto", errno, address);
    return env.Undefined();
  }

  Napi::Value Address(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) { ThrowErrno(env, "getsockname", fd_ < 0 ? EBADF : errno); return env.Undefined(); }
    std::string address;
    int port = 0, fam = 4;
    FormatAddr(ss, &address, &port, &fam);
    Napi::Object r = Napi::Object::New(env);
    r.Set("address", address);
    r.Set("port", port);
    r.Set("family", fam);
    return r;
  }

};


// ---- raw frames for layer 2 ----------------------------------------------------------------

// new RawSocket({kind: 'packet', ifindex, protocol}): AF_PACKET/SOCK_DGRAM bound to one interface
//   and one ethertype (0: receives nothing, only sends). Messages arrive without the Ethernet
//   header; info = {ifindex, pkttype, address: source MAC (Buffer)}. With nsFilter, a classic BPF
//   filter passes only ICMPv6 Neighbor Solicitations (IPv6 next header 58, ICMPv6 type 135):
//   unlike a raw ICMPv6 socket this also sees solicitations unicast to an address the kernel
//   does not own (the Service IP, in neighbour unreachability detection).
// new RawSocket({kind: 'icmp6', ifname, icmpTypes}): raw ICMPv6 bound to one interface, passing
//   only the given ICMPv6 types; info = {ifindex, address: source IPv6, hopLimit}.
class RawSocket : public PolledSocket<RawSocket> {
  friend class PolledSocket<RawSocket>;
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RawSocket", {
      InstanceMethod("start", &RawSocket::Start),
      InstanceMethod("sendPacket", &RawSocket::SendPacket),
      InstanceMethod("joinGroup", &RawSocket::JoinGroup),
      InstanceMethod("leaveGroup", &RawSocket::LeaveGroup),
      InstanceMethod("close", &RawSocket::Close),
      InstanceMethod("unref", &RawSocket::DoUnref),
    });
  }

  explicit RawSocket(const Napi::CallbackInfo& info) : PolledSocket<RawSocket>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) { ThrowType(env, "new RawSocket(options)"); return; }
    Napi::Object o = info[0].As<Napi::Object>();
    std::string kind = OptString(o, "kind");
    if (kind == "packet") {
      int ifindex = OptInt(o, "ifindex", 0);
      int proto = OptInt(o, "protocol", 0);
      fd_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(static_cast<uint16_t>(proto)));
      if (fd_ < 0) { ThrowErrno(env, "socket", errno, "AF_PACKET"); return; }
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(static_cast<uint16_t>(proto));
      sll.sll_ifindex = ifindex;
      Napi::Value nsFilter = o.Get("nsFilter");
      if (nsFilter.IsBoolean() && nsFilter.As<Napi::Boolean>().Value()) {
        // SOCK_DGRAM: offsets count from the IPv6 header.
        static sock_filter code[] = {
          BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 3),
          BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 40),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, 0xffff),
          BPF_STMT(BPF_RET | BPF_K, 0),
        };
        sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
        if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) { Fail(env, "setsockopt", "SO_ATTACH_FILTER"); return; }
      }
      if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) Fail(env, "bind", "AF_PACKET ifindex " + std::to_string(ifindex));
      return;
    }
    if (kind != "icmp6") { ThrowType(env, "RawSocket kind must be 'packet' or 'icmp6'"); return; }
    icmp6_ = true;
    std::string ifname = OptString(o, "ifname");
    fd_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
    if (fd_ < 0) { ThrowErrno(env, "socket", errno, "raw ICMPv6"); return; }
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    Napi::Value types = o.Get("icmpTypes");
    if (types.IsArray()) {
      Napi::Array a = types.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) ICMP6_FILTER_SETPASS(a.Get(i).As<Napi::Number>().Int32Value(), &filter);
    }
    // The filter is an ICMPv6-level option (level IPPROTO_IPV6 gives EINVAL).
    if (setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) { Fail(env, "setsockopt", "ICMP6_FILTER"); return; }
    if (setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, ifname.c_str(), static_cast<socklen_t>(ifname.size())) != 0) { Fail(env, "setsockopt", "SO_BINDTODEVICE " + ifname); return; }
    if (!SetInt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)) { Fail(env, "setsockopt", "IPV6_RECVHOPLIMIT"); return; }
    if (!SetInt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) { Fail(env, "setsockopt", "IPV6_RECVPKTINFO"); return; }
  }


 private:
  bool icmp6_ = false;

  void Fail(Napi::Env env, const char* syscall, const std::string& detail) {
    int err = errno;
    close(fd_);
    fd_ = -1;
    ThrowErrno(env, syscall, err, detail);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) { return StartPolling(info, "netsock.RawSocket"); }

  static void OnReadable(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<RawSocket*>(h->data);
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    for (int i = 0; i < 64 && self->fd_ >= 0; i++) {
      char data[2048];
      char control[256];
      sockaddr_storage from{};
      iovec iov{data, sizeof data};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = recvmsg(self->fd_, &msg, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        self->onMessage_.MakeCallback(env.Global(), {ErrnoError(env, "recvmsg", errno).Value()}, *self->ctx_);
        RethrowPending(env);
        break;
      }
      Napi::Object meta = Napi::Object::New(env);
      if (self->icmp6_) {
        int hops = -1;
        int ifindex = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level != IPPROTO_IPV6) continue;
          if (c->cmsg_type == IPV6_HOPLIMIT) std::memcpy(&hops, CMSG_DATA(c), sizeof hops);
          if (c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi{};
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            ifindex = static_cast<int>(pi.ipi6_ifindex);
          }
        }
        std::string address;
        int port = 0, fam = 6;
        FormatAddr(from, &address, &port, &fam);
        meta.Set("address", address);
        meta.Set("hopLimit", hops);
        meta.Set("ifindex", ifindex);
      } else {
        auto* sll = reinterpret_cast<sockaddr_ll*>(&from);
        meta.Set("ifindex", sll->sll_ifindex);
        meta.Set("pkttype", static_cast<int>(sll->sll_pkttype));
        meta.Set("address", Napi::Buffer<char>::Copy(env, reinterpret_cast<char*>(sll->sll_addr), sll->sll_halen > 8 ? 8 : sll->sll_halen));
      }
      self->onMessage_.MakeCallback(env.Global(), {env.Null(), Napi::Buffer<char>::Copy(env, data, static_cast<size_t>(n)), meta}, *self->ctx_);
      RethrowPending(env);
    }
  }

  // sendPacket(payload, ifindex, ethertype, destinationMac): the kernel adds the Ethernet header
  // with the interface's own MAC as the source.
  Napi::Value SendPacket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || icmp6_) { ThrowType(env, "sendPacket needs an open packet socket"); return env.Undefined(); }
    if (!info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsBuffer()) { ThrowType(env, "sendPacket(buffer, ifindex, ethertype, mac)"); return env.Undefined(); }
    auto buf = info[0].As<Napi::Buffer<char>>();
    auto mac = info[3].As<Napi::Buffer<char>>();
    if (mac.Length() != 6) { ThrowType(env, "mac must be 6 bytes"); return env.Undefined(); }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = info[1].As<Napi::Number>().Int32Value();
    sll.sll_protocol = htons(static_cast<uint16_t>(info[2].As<Napi::Number>().Int32Value()));
    sll.sll_halen = 6;
    std::memcpy(sll.sll_addr, mac.Data(), 6);
    if (sendto(fd_, buf.Data(), buf.Length(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
      ThrowErrno(env, "sendto", errno, "AF_PACKET ifindex " + std::to_string(sll.sll_ifindex));
    }
    return env.Undefined();
  }

  Napi::Value Group(const Napi::CallbackInfo& info, int op, const char* what) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || !icmp6_) { ThrowType(env, std::string(what) + " needs an open icmp6 socket"); return env.Undefined(); }
    if (!info[0].IsString() || !info[1].IsNumber()) { ThrowType(env, std::string(what) + "(address, ifindex)"); return env.Undefined(); }
    ipv6_mreq mreq{};
    std::string group = info[0].As<Napi::String>().Utf8Value();
    if (inet_pton(AF_INET6, group.c_str(), &mreq.ipv6mr_multiaddr) != 1) { ThrowType(env, "invalid group " + group); return env.Undefined(); }
    mreq.ipv6mr_interface = info[1].As<Napi::Number>().Uint32Value();
    if (setsockopt(fd_, IPPROTO_IPV6, op, &mreq, sizeof mreq) != 0) ThrowErrno(env, "setsockopt", errno, std::string(what) + " " + group);
    return env.Undefined();
  }

  Napi::Value JoinGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_JOIN_GROUP, "joinGroup"); }
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info) { return Group(info, IPV6_LEAVE_GROUP, "leaveGroup"); }

};

Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* k, int v) { c.Set(k, Napi::Number::New(env, v)); };
  set("AF_INET", AF_INET);
  set("AF_INET6", AF_INET6);
  set("SOL_SOCKET", SOL_SOCKET);
  set("SO_REUSEADDR", SO_REUSEADDR);
  set("SO_RCVBUF", SO_RCVBUF);
  set("SO_SNDBUF", SO_SNDBUF);
  set("SO_DOMAIN", SO_DOMAIN);
  set("IPPROTO_IP", IPPROTO_IP);
  set("IPPROTO_IPV6", IPPROTO_IPV6);
  set("IPPROTO_TCP", IPPROTO_TCP);
  set("IP_TTL", IP_TTL);
  set("IP_MINTTL", IP_MINTTL);
  set("IP_RECVTTL", IP_RECVTTL);
  set("IP_TOS", IP_TOS);
  set("IPV6_UNICAST_HOPS", IPV6_UNICAST_HOPS);
  set("IPV6_MINHOPCOUNT", IPV6_MINHOPCOUNT);
  set("IPV6_RECVHOPLIMIT", IPV6_RECVHOPLIMIT);
  set("IPV6_V6ONLY", IPV6_V6ONLY);
  set("TCP_NODELAY", TCP_NODELAY);
  set("TCP_MD5SIG", TCP_MD5SIG);
  set("TCP_MAXSEG", TCP_MAXSEG);
  return c;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpConnect", Napi::Function::New(env, TcpConnect, "tcpConnect"));
  exports.Set("tcpListen", Napi::Function::New(env, TcpListen, "tcpListen"));
  exports.Set("setMd5Key", Napi::Function::New(env, SetMd5Key, "setMd5Key"));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetsockoptInt, "setsockoptInt"));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetsockoptInt, "getsockoptInt"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("UdpSocket", UdpSocket::Init(env));
  exports.Set("RawSocket", RawSocket::Init(env));
  exports.Set("netlinkOpen", Napi::Function::New(env, NetlinkOpen, "netlinkOpen"));
  exports.Set("netlinkSend", Napi::Function::New(env, NetlinkSend, "netlinkSend"));
  exports.Set("netlinkRecv", Napi::Function::New(env, NetlinkRecv, "netlinkRecv"));
  exports.Set("constants", Constants(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netsock, Init)
