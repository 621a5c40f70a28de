#include "server/http/connection_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace ag::server::http {

namespace {

// Address and port of a sockaddr as text, "" for other families.
bool describe(const sockaddr_storage& sa, std::string& addr, int& port) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        port = ntohs(in->sin_port);
    } else if (sa.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
        inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        port = ntohs(in6->sin6_port);
    } else {
        return false;
    }
    addr = buf;
    return true;
}

}  // namespace

int ConnectionProbe::find_fd() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        const int fd = std::atoi(entry.path().filename().c_str());
        struct stat st {};
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        sockaddr_storage local{}, peer{};
        socklen_t n_local = sizeof local, n_peer = sizeof peer;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &n_local) != 0) continue;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &n_peer) != 0) continue;
        std::string local_addr, peer_addr;
        int local_port = 0, peer_port = 0;
        if (!describe(local, local_addr, local_port) || !describe(peer, peer_addr, peer_port)) {
            continue;
        }
        if (local_port == local_port_ && peer_port == remote_port_ && peer_addr == remote_addr_) {
            return fd;
        }
    }
    return -1;
}

bool ConnectionProbe::alive() {
    if (fd_ == -2) fd_ = find_fd();
    if (fd_ < 0) return true;
    pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
    if (poll(&p, 1, 0) <= 0) return true;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return false;
    if (p.revents & POLLIN) {
        char c = 0;
        const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return false;
        return n > 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    return true;
}

}  // namespace ag::server::http
