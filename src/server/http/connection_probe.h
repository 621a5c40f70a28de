// Finds the socket of an accepted HTTP connection (by its local/remote address pair) and tells
// whether the peer has closed it, without reading any data. Used to abort work for clients that
// left while they were waiting for a non-streaming answer (cpp-httplib 0.11 has no such hook).
#pragma once

#include <string>

namespace ag::server::http {

class ConnectionProbe {
public:
    ConnectionProbe(std::string remote_addr, int remote_port, int local_port)
        : remote_addr_(std::move(remote_addr)), remote_port_(remote_port),
          local_port_(local_port) {}

    /// False once the peer closed or reset the connection; true if unknown.
    bool alive();

private:
    int find_fd() const;

    std::string remote_addr_;
    int remote_port_;
    int local_port_;
    int fd_ = -2;  // -2: not searched yet, -1: not found
};

}  // namespace ag::server::http
