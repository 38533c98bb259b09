import Foundation
import Glibc  // Linux sockets; the host side runs on Linux
import ThingSet

/// ThingSet binary mode over TCP (spec §10.1) on the host: a listening socket and its
/// connections, each an independent channel with its own roles. Requests are cut from each
/// stream by their CBOR structure; an incomplete request that stalls for a second is answered
/// `A8` and dropped; answers leave in one `send`.
public final class ThingSetTCPServer {
    struct Connection {
        var fd: Int32
        var buffer: [UInt8] = []
        var lastByte = Date()
        var channel = ThingSetChannel()
    }

    let listener: Int32
    var connections: [Connection] = []
    /// The port actually bound (useful when 0 was asked for).
    public let port: UInt16
    public static let stallTimeout: TimeInterval = 1
    public static let maximumRequest = 2048

    public enum Failure: Error, CustomStringConvertible {
        case socket(String)
        case address(String)
        public var description: String {
            switch self {
            case .socket(let why): "cannot listen: \(why)"
            case .address(let a): "not an IPv4 address: \(a)"
            }
        }
    }

    public init(host: String, port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket(String(cString: strerror(errno))) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw Failure.address(host)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Failure.socket("\(host):\(port): \(why)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: actual.sin_port)
        self.listener = fd
    }

    deinit {
        for c in connections { close(c.fd) }
        close(listener)
    }

    /// Waits up to `timeoutMs` for activity, accepts connections, reads, and calls `handle`
    /// for every complete request with its connection's channel; sends what it returns.
    public func poll(timeoutMs: Int32, _ handle: ([UInt8], inout ThingSetChannel) -> [UInt8]) {
        var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        for c in connections { fds.append(pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)) }
        let ready = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMs) }
        if ready > 0 {
            if fds[0].revents & Int16(POLLIN) != 0 {
                let fd = accept(listener, nil, nil)
                if fd >= 0 { connections.append(Connection(fd: fd)) }
            }
            var closed: [Int] = []
            for (k, p) in fds.dropFirst().enumerated() where p.revents != 0 {
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(connections[k].fd, &chunk, chunk.count, 0)
                if n <= 0 {
                    closed.append(k)
                    continue
                }
                connections[k].buffer += chunk[0..<n]
                connections[k].lastByte = Date()
            }
            for k in closed.reversed() {
                close(connections[k].fd)
                connections.remove(at: k)
            }
        }
        for k in connections.indices { serve(k, handle) }
    }

    private func serve(_ k: Int, _ handle: ([UInt8], inout ThingSetChannel) -> [UInt8]) {
        while !connections[k].buffer.isEmpty {
            let frame = connections[k].buffer.withUnsafeBufferPointer { ThingSetRequest.binaryFrame($0) }
            switch frame {
            case .complete(let n):
                let request = Array(connections[k].buffer[0..<n])
                connections[k].buffer.removeFirst(n)
                let answer = handle(request, &connections[k].channel)
                if !answer.isEmpty { send(k, answer) }
            case .incomplete:
                if connections[k].buffer.count > ThingSetTCPServer.maximumRequest {
                    connections[k].buffer = []
                    send(k, [ThingSetStatus.requestTooLarge.rawValue, 0xF6, 0xF6])
                } else if Date().timeIntervalSince(connections[k].lastByte) >= ThingSetTCPServer.stallTimeout {
                    connections[k].buffer = []
                    send(k, [ThingSetStatus.requestIncomplete.rawValue, 0xF6, 0xF6])
                }
                return
            case .malformed:
                connections[k].buffer = []
                send(k, [ThingSetStatus.badRequest.rawValue, 0xF6, 0xF6])
            case .notARequest:
                connections[k].buffer = []
            }
        }
    }

    private func send(_ k: Int, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(connections[k].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
