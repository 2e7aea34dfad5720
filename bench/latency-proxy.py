#!/usr/bin/env python3
"""A TCP proxy that holds every chunk for half a round trip in each direction, so a local database server answers as
one across a network does (a migration Job's pod and a managed database in the same zone: about 0.5-1 ms a round
trip). Both tools of a benchmark go through the same proxy; the kernel here has no netem.

Usage: latency-proxy.py LISTEN_PORT TARGET_PORT RTT_MS      (serves until killed)
       latency-proxy.py --probe RTT_MS                     (median ms of 200 round trips through such a proxy to an echo)

Each direction of a connection has a reader thread and a writer thread: the reader stamps what it reads with the time
it is due, the writer sleeps until then (clock_nanosleep, tens of microseconds late at most, unlike an event loop's
millisecond timeouts) and sends. Order is kept; nothing is merged or split beyond what the kernel does.
"""
import queue
import socket
import statistics
import sys
import threading
import time


def forward(source: socket.socket, target: socket.socket, delay: float) -> None:
    pending: "queue.SimpleQueue[tuple[float, bytes] | None]" = queue.SimpleQueue()

    def read() -> None:
        try:
            while data := source.recv(65536):
                pending.put((time.monotonic() + delay, data))
        except OSError:
            pass
        pending.put(None)

    def write() -> None:
        try:
            while (item := pending.get()) is not None:
                due, data = item
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            source.close()
            target.close()

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=write, daemon=True).start()


def serve(listen_port: int, target_port: int, rtt_ms: float) -> None:
    delay = rtt_ms / 2000.0
    listener = socket.create_server(("127.0.0.1", listen_port), backlog=64)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", target_port))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        forward(client, server, delay)
        forward(server, client, delay)


def probe(rtt_ms: float, n: int = 200) -> float:
    """What a round trip through a proxy of RTT_MS really takes: one connection to a local echo server, n pings."""
    echo = socket.create_server(("127.0.0.1", 0))
    front = socket.create_server(("127.0.0.1", 0))

    def echo_one() -> None:
        conn, _ = echo.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := conn.recv(65536):
            conn.sendall(data)

    def proxy_one() -> None:
        client, _ = front.accept()
        server = socket.create_connection(echo.getsockname())
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        forward(client, server, rtt_ms / 2000.0)
        forward(server, client, rtt_ms / 2000.0)

    threading.Thread(target=echo_one, daemon=True).start()
    threading.Thread(target=proxy_one, daemon=True).start()
    times = []
    with socket.create_connection(front.getsockname()) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(n):
            start = time.perf_counter()
            s.sendall(b"x")
            s.recv(1)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        print(f"{probe(float(sys.argv[2])):.2f}")
    elif len(sys.argv) == 4:
        serve(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit(__doc__)
