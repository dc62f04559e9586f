"""Worker processes that end with their parent, and runs that stop at once on Ctrl-C or SIGTERM.

`process_pool(workers, preload)` starts local worker processes for a batch or an uncertainty
analysis. Each worker ends when the process that started it ends, however it ends (even by
`kill -9`, which runs no clean-up): on Linux the kernel sends it SIGKILL when its parent dies
(prctl PR_SET_PDEATHSIG), and everywhere a watchdog thread in the worker checks once a second
that the starting process is still alive. Workers ignore Ctrl-C: the starting process decides
what stopping means and ends them (`stop_workers`).

`StopOnSignal(on_stop)` makes Ctrl-C (SIGINT) and SIGTERM stop a command-line run promptly,
even while HiGHS is inside a long solve (when Python cannot run a signal handler until the
solve returns): Python's C-level handler writes the signal's number to a pipe the moment it
arrives, a thread waiting on that pipe runs `on_stop(signal number)` (mark the output stopped,
end the workers) and the process exits with 128 + the signal's number (130 for Ctrl-C, 143 for
SIGTERM), as a shell expects.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 1.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


def alive(pid: int) -> bool:
    """Is process `pid` running (a zombie, killed but not yet reaped, counts as ended)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): the signal test is all there is
    return stat[stat.rindex(")") + 2:].split()[0] not in ("Z", "X")


def end_with_parent(parent: int) -> None:
    """Worker initializer: this process ends when process `parent` ends; Ctrl-C is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog below still ends it
            pass
    if not alive(parent):  # the parent ended before the death signal was set
        os._exit(1)

    def watch() -> None:
        while alive(parent):
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def process_pool(workers: int, preload: list[str]) -> ProcessPoolExecutor:
    """Local worker processes that end with this one.

    Workers start from a clean process, never forked from this one (whose HiGHS threads must
    not be copied into them): a fork server that has imported `preload` once starts them
    fastest; elsewhere they are spawned.
    """
    import multiprocessing

    # A run stopped at once (StopOnSignal) leaves the pool's semaphores to multiprocessing's
    # resource tracker, which removes them and warns of "leaked semaphore objects": true, and
    # handled, so it is not shown to a user who pressed Ctrl-C. (The tracker takes its -W
    # options from this process's when it starts.)
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=end_with_parent, initargs=(os.getpid(),))


def stop_workers(pool: ProcessPoolExecutor | None) -> None:
    """End a pool's workers now (a running solve is abandoned), then shut the pool down."""
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.kill()
        except (OSError, AttributeError, ValueError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)


class StopOnSignal:
    """Within this block, Ctrl-C or SIGTERM runs `on_stop(signal)` and ends the process.

    Only the main thread can install signal handlers: elsewhere (a test calling the command
    line from a thread) the block does nothing.
    """

    def __init__(self, on_stop: Callable[[int], None], echo=print):
        self.on_stop, self.echo = on_stop, echo
        self.active = False

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is not threading.main_thread():
            return self
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._old_handlers = {s: signal.signal(s, _noted) for s in STOP_SIGNALS}
        self._old_fd = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._wait, name="stop-on-signal", daemon=True)
        self._thread.start()
        self.active = True
        return self

    def _wait(self) -> None:
        while True:
            try:
                data = os.read(self._read, 1)
            except OSError:
                return
            if not data or data[0] == 0:  # the block ended
                return
            number = data[0]
            if number in STOP_SIGNALS:
                break
        try:
            name = "Ctrl-C" if number == signal.SIGINT else signal.Signals(number).name
            self.echo(f"Stopped by {name}.")
            self.on_stop(number)
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(128 + number)

    def __exit__(self, *exc) -> None:
        if not self.active:
            return
        signal.set_wakeup_fd(self._old_fd)
        for number, handler in self._old_handlers.items():
            signal.signal(number, handler)
        try:
            os.write(self._write, b"\0")
        except OSError:
            pass
        self._thread.join(timeout=5)
        os.close(self._write)
        os.close(self._read)
        self.active = False


def _noted(number, frame) -> None:
    """The Python-level handler: nothing to do, the waiting thread acts on the signal."""
