#!/usr/bin/env python3
"""Serves a pseudo-terminal for the SIM7000 simulator (sim/pty.ts).

The slave end appears at the path given as argv[1] (a symlink to /dev/pts/N) in raw mode; a
link there to a pty that exists (another simulator's) is refused, a dangling one replaced.
Bytes a program writes to it come out on stdout; bytes arriving on stdin go to that program.
Prints "READY <slave path>" on stderr once the link exists. Ends on stdin EOF or SIGTERM and
removes the link. Output toward the program is dropped beyond 1 MiB when nobody reads it, as
on a serial line with nobody listening.
"""
import errno
import fcntl
import os
import pty
import select
import signal
import sys
import tty

MAX_PENDING = 1 << 20


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: pty-helper.py <link path>\n")
        return 2
    link = sys.argv[1]
    master, slave = pty.openpty()
    tty.setraw(slave)
    # The helper keeps the slave open: without it the master reports EIO whenever no program
    # has the port open, and output written meanwhile would be lost.
    name = os.ttyname(slave)
    if os.path.islink(link):
        # A link to a pty that still exists belongs to a simulator that is running: taking it
        # over would leave that one's program talking to nobody. A dangling link is stale.
        target = os.readlink(link)
        if os.path.exists(target):
            sys.stderr.write(f"ERROR {link} is in use: it links to {target}, a pty another program holds (another simulator?); stop that one or pick another path\n")
            return 1
        os.unlink(link)
    elif os.path.exists(link):
        sys.stderr.write(f"ERROR {link} exists and is not a symlink\n")
        return 1
    try:
        os.symlink(name, link)
    except OSError as error:
        sys.stderr.write(f"ERROR cannot create {link}: {error.strerror}\n")
        return 1
    fcntl.fcntl(master, fcntl.F_SETFL, fcntl.fcntl(master, fcntl.F_GETFL) | os.O_NONBLOCK)

    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    # Ctrl-C reaches the whole process group; the Node parent decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write(f"READY {name}\n")
    sys.stderr.flush()

    pending = bytearray()
    stdin_open = True
    try:
        while not stopping and stdin_open:
            readers = [master, 0]
            writers = [master] if pending else []
            try:
                readable, writable, _ = select.select(readers, writers, [], 0.5)
            except InterruptedError:
                continue
            if master in readable:
                try:
                    data = os.read(master, 65536)
                except OSError as error:
                    if error.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data:
                    os.write(1, data)
            if 0 in readable:
                data = os.read(0, 65536)
                if data:
                    pending += data
                    if len(pending) > MAX_PENDING:
                        del pending[: len(pending) - MAX_PENDING]
                else:
                    stdin_open = False
            if master in writable and pending:
                try:
                    written = os.write(master, pending)
                    del pending[:written]
                except OSError as error:
                    if error.errno != errno.EAGAIN:
                        raise
    finally:
        if os.path.islink(link) and os.readlink(link) == name:
            os.unlink(link)
        os.close(slave)
        os.close(master)
    return 0


if __name__ == "__main__":
    sys.exit(main())
