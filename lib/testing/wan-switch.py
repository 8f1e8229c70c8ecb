#!/usr/bin/python3
# An emulated WAN for withCluster (lib/testing/cluster.ts): a learning Ethernet switch in
# userspace with one TAP device per host, that delivers every frame ONE_WAY_MS after it
# arrived, so every packet between two hosts (glusterd, portmap, bricks) sees a round
# trip of 2 * ONE_WAY_MS. This kernel has no netem; TUN/TAP it has.
#
#   wan-switch.py ONE_WAY_MS TAP...
# creates the TAP devices in the current network namespace, prints "ready", then reads
# commands on stdin: "block TAP" (drop every frame from and to it: a partition),
# "unblock TAP". It exits at EOF on stdin (its parent is gone).
# Python 3 is there wherever GlusterFS is: glusterfs-common depends on it.
import collections, fcntl, os, select, struct, sys, time

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000

def tap(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TAP | IFF_NO_PI))
    return fd

def main():
    delay = float(sys.argv[1]) / 1000.0
    names = sys.argv[2:]
    fds = [tap(n) for n in names]
    port = {n: i for i, n in enumerate(names)}
    blocked = set()
    where = {}                       # MAC -> port
    queue = collections.deque()      # (due, [out ports], frame): FIFO, the delay is constant
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b''
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, outs, frame = queue.popleft()
            for o in outs:
                if o in blocked:
                    continue
                try:
                    os.write(fds[o], frame)
                except (BlockingIOError, OSError):
                    pass             # a full or down device drops, as a real link would
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        ready, _, _ = select.select(fds + [stdin], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            if fd == stdin:
                try:
                    chunk = os.read(stdin, 4096)
                except BlockingIOError:
                    continue
                if not chunk:
                    return
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    words = line.decode().split()
                    if len(words) == 2 and words[1] in port:
                        (blocked.add if words[0] == 'block' else blocked.discard)(port[words[1]])
                continue
            i = fds.index(fd)
            for _ in range(64):
                try:
                    frame = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    break
                if i in blocked or len(frame) < 14:
                    continue
                where[frame[6:12]] = i
                dst = where.get(frame[0:6])
                outs = [dst] if dst is not None and dst != i and not frame[0] & 1 else [o for o in range(len(fds)) if o != i]
                if delay <= 0:
                    for o in outs:
                        if o not in blocked:
                            try:
                                os.write(fds[o], frame)
                            except (BlockingIOError, OSError):
                                pass
                else:
                    queue.append((now + delay, outs, frame))

if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
