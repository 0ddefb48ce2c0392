"""Helpers of the tests that start servers: a free loopback port, and stopping a process
started with ``start_new_session=True`` together with everything it spawned."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(process: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM to the process group (dagster dev or the daemon, their code servers and run
    workers), then SIGKILL to whatever is left of it, the leader's children included."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    try:  # the leader gone, children may linger in its group
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
