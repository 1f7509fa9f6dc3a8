"""``bound_allocators``: large buffers freed by many threads go back to the system instead of
staying in glibc's arenas."""

import subprocess
import sys

from tests.support.paths import ROOT

CHURN = """
import ctypes, sys, threading
from operators.runtime.allocators import bound_allocators

class MallInfo(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo
bound_allocators()

def churn():
    kept = []
    for i in range(40):
        kept.append(bytes(8 << (20 + i % 3)))  # 8, 16, 32 MiB: batches as they cross the Beam boundary
        del kept[:-2]
        small = [bytes(1000) for _ in range(200)]

threads = [threading.Thread(target=churn) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(libc.mallinfo2().fordblks)
"""


def test_large_buffers_freed_by_threads_leave_the_arenas():
    out = subprocess.run([sys.executable, "-c", CHURN], cwd=ROOT, capture_output=True, text=True, check=True)
    free_in_arenas = int(out.stdout.split()[-1])
    assert free_in_arenas < 4 << 20, f"{free_in_arenas:,} bytes free inside glibc's arenas"
