#!/usr/bin/env python3
"""Thread-local storage stays small: glibc gives every thread of a process a copy of the
executable's static TLS block (.tdata + .tbss) at the top of its stack and clears it when the
thread starts, so a 1 MiB `static __thread` buffer costs 1 MiB of resident memory in every
thread (HTTP, ingest, store, ...), whether or not the thread ever uses it. That is how 11 MB
of sargasd's 43 MB with one camera went (docs/PERFORMANCE.md, "Memory per camera").

Usage: tls_budget.py BUDGET_BYTES BINARY...; reads each ELF file's PT_TLS program header."""
import struct
import sys

PT_TLS = 7


def tls_size(path):
    with open(path, "rb") as f:
        data = f.read(1 << 16)
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise SystemExit("%s: not a 64-bit little-endian ELF file" % path)
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", ph, i * phentsize)
        if p_type == PT_TLS:
            return struct.unpack_from("<Q", ph, i * phentsize + 0x28)[0]  # p_memsz
    return 0


def main():
    budget = int(sys.argv[1])
    bad = 0
    for path in sys.argv[2:]:
        n = tls_size(path)
        print("%s: %d bytes of static TLS per thread (budget %d)" % (path, n, budget))
        if n > budget:
            print("FAIL %s: %d bytes of thread-local storage, more than %d: every thread pays for it; "
                  "keep large buffers in the heap or in the structure of the thread that uses them"
                  % (path, n, budget))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
