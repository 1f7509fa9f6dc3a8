"""``bound_allocators`` and ``release_free_memory``: batches freed by threads are reused from the
arenas without faulting their pages in again, and what is free beyond ``ARENA_FREE_LIMIT`` goes
back to the system."""

import json
import subprocess
import sys

from tests.support.paths import ROOT

CHURN = """
import json, os, resource, sys, threading
from operators.runtime.allocators import ARENA_FREE_LIMIT, bound_allocators, release_free_memory

MIB = 1 << 20
bound_allocators()

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

small = []  # kept between the batches, so that the freed batches are holes inside the arenas

def churn(batches, size, keep):
    big = []
    for _ in range(batches):
        big.append(b"x" * size)  # a batch as it crosses the Beam boundary, written through
        if keep:
            small.append(b"k" * (64 << 10))
    del big[:]

def in_threads(threads, batches, size, keep):
    workers = [threading.Thread(target=churn, args=(batches, size, keep)) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()

threads, batches, size = (int(x) for x in sys.argv[1:])
base = rss()
in_threads(threads, batches, size * MIB, True)
freed = rss()
release_free_memory()
released = rss()
before = faults()
in_threads(threads, batches, size * MIB, False)
print(json.dumps({"kept": freed - base, "after_release": released - base, "reuse_faults": faults() - before,
                  "pages": threads * batches * size * MIB // os.sysconf("SC_PAGE_SIZE"), "limit": ARENA_FREE_LIMIT}))
"""


def churn(threads: int, batches: int, size_mib: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHURN, str(threads), str(batches), str(size_mib)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_free_memory_beyond_the_limit_goes_back_to_the_system():
    r = churn(threads=8, batches=10, size_mib=12)  # 960 MiB freed inside the arenas
    assert r["kept"] > r["limit"], f"the arenas kept {r['kept'] >> 20} MiB: the churn did not exceed the limit"
    assert r["after_release"] < 64 << 20, f"{r['after_release'] >> 20} MiB still resident after the release"


def test_freed_batches_under_the_limit_are_reused_without_page_faults():
    r = churn(threads=4, batches=4, size_mib=12)  # 192 MiB freed: kept for reuse
    assert r["after_release"] > 64 << 20, f"only {r['after_release'] >> 20} MiB kept: nothing left to reuse"
    assert r["reuse_faults"] < r["pages"] // 2, \
        f"{r['reuse_faults']:,} page faults writing {r['pages']:,} pages of batches again"
