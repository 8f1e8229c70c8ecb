#!/usr/bin/env python3
"""Helper of scripts/afr-stale-read.mjs: holds O_DIRECT fds on FILES in a FUSE mount and,
on a command line from stdin, writes or reads 4k blocks (each block: 8-byte tag + its index).
  write A B   write blocks A..B-1 of every file (no fsync, fd stays open)
  read A B    read blocks A..B-1 of every file through the open fds; print the zero / wrong ones
  reopen      read through new fds too (the next read uses both)
  stream A    from block A on, write one more block of every file each STREAM_MS ms (default 500; a thread) until the next command"""
import mmap, os, sys, threading, time

BS = 4096
INTERVAL = float(os.environ.get('STREAM_MS', '500')) / 1000
files = sys.argv[1:]
fds = [os.open(f, os.O_RDWR | os.O_CREAT | os.O_DIRECT, 0o644) for f in files]
buf = mmap.mmap(-1, BS)
extra = []

def block(i):
    return (b'GJSTALE!' + i.to_bytes(8, 'little')) * (BS // 16)

stop = threading.Event()
streamed = [0]

def stream(a):
    sbuf = mmap.mmap(-1, BS)
    i = a
    while not stop.is_set():
        for fd in fds:
            sbuf.seek(0); sbuf.write(block(i))
            os.pwritev(fd, [sbuf], i * BS)
        i += 1
        streamed[0] = i
        stop.wait(INTERVAL)

th = None
print('ready', flush=True)
for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    if th:
        stop.set(); th.join(); th = None
    if cmd[0] == 'stream':
        stop.clear()
        th = threading.Thread(target=stream, args=(int(cmd[1]),)); th.start()
        print('streaming', flush=True)
        continue
    if cmd[0] == 'upto':
        print(f'upto {streamed[0]}', flush=True)
        continue
    if cmd[0] == 'write':
        a, b = int(cmd[1]), int(cmd[2])
        for fd in fds:
            for i in range(a, b):
                buf.seek(0); buf.write(block(i))
                n = os.pwritev(fd, [buf], i * BS)
                assert n == BS, n
        print('written', flush=True)
    elif cmd[0] == 'reopen':
        extra = [os.open(f, os.O_RDONLY | os.O_DIRECT) for f in files]
        print('reopened', flush=True)
    elif cmd[0] == 'read':
        a, b = int(cmd[1]), int(cmd[2])
        out = []
        for k, fd in enumerate(fds + extra):
            name = files[k % len(files)] + ('' if k < len(fds) else ' (new fd)')
            zero = wrong = 0
            for i in range(a, b):
                n = os.preadv(fd, [buf], i * BS)
                data = bytes(buf[:n])
                if n == BS and data == block(i):
                    continue
                if data.count(0) == len(data):
                    zero += 1
                else:
                    wrong += 1
            out.append(f'{name}: {zero} zero, {wrong} wrong of {b - a}')
        print('read ' + ' | '.join(out), flush=True)
    elif cmd[0] == 'quit':
        break
