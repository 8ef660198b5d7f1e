#!/usr/bin/env python3
"""A userspace WAN relay for loopback: one-way delay and rate per
direction, and a count of round trips (this kernel has no netem).

A round trip is counted each time the client sends after it has been
waiting for the server: the client's first bytes (the TCP handshake the
client waits for is counted apart, as 1), and every later burst of
client bytes that follows server bytes.  That is the number of times the
client had to wait for the server before it could send more.  "waits"
leaves out the sends of a pipelining client made while earlier bytes
were still on the link either way (the next batch of an export asked for
while the last one streams in, an import's next APPEND while the one
before goes out): those cost the link no time.

    relay = Relay(("127.0.0.1", 993), delay_ms=15, rate_bps=100e6)
    relay.start(); ... connect to relay.port ...; relay.stop()
    relay.stats()  -> {"connections", "round_trips", "waits", "bytes_up", "bytes_down",
                       "flights": [[C|S, bytes, first s, last s], ...]}
    (a flight's times: when its first and last bytes reached the relay,
    from the end of the connection's TCP handshake)

As a program: wanrelay.py LISTEN_PORT TARGET_HOST TARGET_PORT
[--delay MS] [--rate MBIT] prints the counts of each connection.
"""

import argparse
import heapq
import socket
import threading
import time


class _Pipe:
    """One direction: bytes leave no sooner than delay after they arrived,
    and no faster than rate."""

    def __init__(self, delay_s, rate_bps):
        self.delay = delay_s
        self.rate = rate_bps
        self.free_at = 0.0  # when the serialiser is free

    def due(self, n, now):
        start = max(now, self.free_at)
        tx = (n * 8.0 / self.rate) if self.rate else 0.0
        self.free_at = start + tx
        return self.free_at + self.delay


class Relay:
    def __init__(self, target, delay_ms=0.0, rate_bps=0.0, up_rate_bps=None, host="127.0.0.1"):
        self.target = target
        self.delay = delay_ms / 1000.0
        self.rate_down = rate_bps
        self.rate_up = rate_bps if up_rate_bps is None else up_rate_bps
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []
        self.live = []  # connections still open (a --share master's)
        self.stopping = False
        self.thread = None
        self.active = 0  # connections not yet finished

    def start(self):
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass

    def reset(self):
        """Count from now: finished connections forgotten, open ones (a
        --share master's) counted afresh, their next flight a round trip."""
        with self.lock:
            self.conns = []
            for rec in self.live:
                rec.update(round_trips=0, waits=0, up=0, down=0, flights=[], reused=True)

    def idle(self, timeout=10.0):
        """Wait until every connection has finished (its counts are in)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.active == 0:
                    return True
            time.sleep(0.01)
        return False

    def stats(self):
        with self.lock:
            done = list(self.conns) + list(self.live)
        return {
            "connections": sum(1 for c in done if not c.get("reused")),
            "round_trips": sum(c["round_trips"] for c in done),
            "waits": sum(c["waits"] for c in done),
            "bytes_up": sum(c["up"] for c in done),
            "bytes_down": sum(c["down"] for c in done),
            "flights": [f for c in done for f in c["flights"]],
        }

    def _accept(self):
        while not self.stopping:
            try:
                cs, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
            threading.Thread(target=self._serve, args=(cs,), daemon=True).start()

    def _serve(self, cs):
        # 1: the TCP handshake
        rec = {"round_trips": 1, "waits": 1, "up": 0, "down": 0, "flights": []}
        with self.lock:
            self.live.append(rec)
        try:
            ss = socket.create_connection(self.target)
        except OSError:
            cs.close()
            with self.lock:
                self.active -= 1
            return
        # The TCP handshake's round trip on the link.
        time.sleep(2 * self.delay)
        for s in (cs, ss):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up, down = _Pipe(self.delay, self.rate_up), _Pipe(self.delay, self.rate_down)
        t_open = time.monotonic()
        queue = []  # (due, seq, dest, data)
        seq = 0
        cv = threading.Condition()
        state = {"waiting": True, "open": 2, "down_pending": 0, "up_pending": 0}

        def reader(src, dst, pipe, is_up):
            nonlocal seq
            while True:
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                now = time.monotonic()
                with cv:
                    if data:
                        fl = rec["flights"]
                        t = now - t_open
                        if fl and fl[-1][0] == ("C" if is_up else "S"):
                            fl[-1][1] += len(data)
                            fl[-1][3] = t
                        else:
                            fl.append(["C" if is_up else "S", len(data), t, t])
                        if is_up:
                            rec["up"] += len(data)
                            if state["waiting"] and (rec["up"] > len(data) or rec.get("reused")):
                                rec["round_trips"] += 1
                                # a wait only when the link is idle both
                                # ways (not a pipelined send)
                                if state["down_pending"] == 0 and state["up_pending"] == 0:
                                    rec["waits"] += 1
                            state["up_pending"] += len(data)
                            state["waiting"] = False
                        else:
                            rec["down"] += len(data)
                            state["down_pending"] += len(data)
                            state["waiting"] = True
                        heapq.heappush(queue, (pipe.due(len(data), now), seq, dst, data))
                    else:
                        heapq.heappush(queue, (pipe.due(0, now), seq, dst, None))
                    seq += 1
                    cv.notify()
                if not data:
                    return

        def writer():
            closed = 0
            while closed < 2:
                with cv:
                    while not queue:
                        cv.wait()
                    due, _, dst, data = queue[0]
                    now = time.monotonic()
                    if due > now:
                        cv.wait(due - now)
                        continue
                    heapq.heappop(queue)
                try:
                    if data is None:
                        closed += 1
                        dst.shutdown(socket.SHUT_WR)
                    else:
                        dst.sendall(data)
                except OSError:
                    closed += 1
                if data is not None:
                    with cv:
                        state["down_pending" if dst is cs else "up_pending"] -= len(data)
            cs.close()
            ss.close()

        tu = threading.Thread(target=reader, args=(cs, ss, up, True), daemon=True)
        td = threading.Thread(target=reader, args=(ss, cs, down, False), daemon=True)
        tw = threading.Thread(target=writer, daemon=True)
        for t in (tu, td, tw):
            t.start()
        tw.join()
        with self.lock:
            self.live.remove(rec)
            self.conns.append(rec)
            self.active -= 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--delay", type=float, default=0.0, help="one-way delay, ms")
    ap.add_argument("--rate", type=float, default=0.0, help="Mbit/s each way (0: no limit)")
    a = ap.parse_args()
    r = Relay((a.host, a.port), a.delay, a.rate * 1e6)
    r.lsock.close()
    r.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    r.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    r.lsock.bind(("127.0.0.1", a.listen_port))
    r.lsock.listen(16)
    r.start()
    try:
        while True:
            time.sleep(1)
            print(r.stats(), flush=True)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
