"""blackhole.py ADDRESS PORT - a DNS server that never answers.

The test world delegates its "timeout" zones here, so lookups below them time out
the way they do when an authoritative server is unreachable. It reads and drops
every UDP datagram and holds TCP connections open without a word.
"""
import socket
import sys
import threading


def hold(conn):
    # Keep the connection open until the client gives up.
    while conn.recv(4096):
        pass
    conn.close()


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, port))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, port))

    def accept():
        while True:
            conn, _ = tcp.accept()
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    while True:
        udp.recvfrom(65535)


if __name__ == "__main__":
    main()
