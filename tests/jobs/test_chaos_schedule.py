"""The chaos driver's parts that need no cluster: the seeded schedule and the process tree of a
TaskManager (``tests/support/chaos.py``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.support.chaos import CLUSTER, SNAPSHOT, STREAM, TASKMANAGER, ChaosConfig, process_tree, schedule
from tests.support.waiting import wait_until


def test_the_schedule_is_the_seeds():
    config = ChaosConfig(7, taskmanager_kills=20, cluster_kills=5, snapshot_kills=3)
    planned = schedule(config)
    assert planned == schedule(config)
    assert planned != schedule(ChaosConfig(8, 20, 5, 3))
    assert sorted(p.kind for p in planned) == sorted([TASKMANAGER] * 20 + [CLUSTER] * 5)
    assert [p.aimed_at for p in planned] == [SNAPSHOT] * 3 + [STREAM] * 22
    assert all(1 <= p.delay_s <= 5 for p in planned)
    assert len({p.victim % 2 for p in planned}) == 2, "both TaskManagers are victims"


def test_the_process_tree_holds_the_children_and_their_children():
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time; "
                               "subprocess.Popen(['sh', '-c', 'sleep 60 & wait']); "
                               "time.sleep(60)"])
    try:
        wait_until(lambda: len(process_tree(parent.pid)) == 3, 30, "the grandchild to start")
        tree = process_tree(parent.pid)
        assert tree[0] == parent.pid and os.getpid() not in tree
        assert [open(f"/proc/{pid}/comm").read().strip() for pid in tree[1:]] == ["sh", "sleep"]
    finally:
        for pid in reversed(process_tree(parent.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        parent.wait()
