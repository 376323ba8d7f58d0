"""Hand whole blocks to engines, one worker thread per engine; re-queue a lost engine's.

A block (rep) holds every (variant, workload, GOMAXPROCS) once and is the unit the
statistics pair on (harness/stats/paired.py), so it must run on one machine: the queue
hands out reps, never processes. Each engine's worker takes the next rep, runs its
unfinished processes in the plan's order and takes another, so a faster machine simply
runs more blocks. When an engine stops answering (`EngineLost`) its worker puts the rep
it was running back at the head of the queue and stops; the others finish it. The
runner (`run_block`) decides what happens to the processes that rep had already finished
on the lost engine (they move aside and the block reruns whole elsewhere).

A rep that a previous session left half-done on an engine still in the run waits for
that engine (`owner`), so its remaining processes join their block's machine.

Pure of Docker: the runner gives callables, tests give fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.runs.engines import EngineLost


@dataclass
class ShardOutcome:
    finished: dict[str, list[int]] = field(default_factory=dict)  # engine → reps it ran
    lost: dict[str, str] = field(default_factory=dict)  # engine → why
    unfinished: list[int] = field(default_factory=list)  # reps no engine could run


class BlockQueue:
    def __init__(
        self, reps: list[int], workers: list[str], owner: Callable[[int], str | None]
    ) -> None:
        self._reps = list(reps)
        self._live = set(workers)
        self._owner = owner
        self._changed = threading.Condition()

    def take(self, worker: str, stop: threading.Event) -> int | None:
        """The next rep for `worker`: the first that is its own, nobody's, or a lost
        engine's. While only reps of other live engines are left it waits (one of them
        may still be lost and its rep come back); None when nothing is left."""
        with self._changed:
            while self._reps and not stop.is_set():
                for index, rep in enumerate(self._reps):
                    owner = self._owner(rep)
                    if owner is None or owner == worker or owner not in self._live:
                        return self._reps.pop(index)
                self._changed.wait(timeout=1.0)
            return None

    def give_back(self, rep: int, worker: str) -> None:
        """`worker` was lost running `rep`: the rep goes first to the others."""
        with self._changed:
            self._live.discard(worker)
            self._reps.insert(0, rep)
            self._changed.notify_all()

    def retire(self, worker: str) -> None:
        with self._changed:
            self._live.discard(worker)
            self._changed.notify_all()

    def left(self) -> list[int]:
        with self._changed:
            return list(self._reps)


def run_sharded(
    reps: list[int],
    workers: list[str],
    run_block: Callable[[str, int], None],
    *,
    owner: Callable[[int], str | None] = lambda rep: None,
    stop: threading.Event | None = None,
    on_lost: Callable[[str, int, str], None] | None = None,
) -> ShardOutcome:
    """Run every rep on some worker; returns who ran what and what no one could.

    `run_block(worker, rep)` raises EngineLost when the worker's engine went away;
    `on_lost(worker, rep, reason)` is told before the rep is re-queued. Any other
    exception of a worker stops the others after their current process (`stop`) and is
    raised here once every thread has ended.
    """
    stop = stop or threading.Event()
    queue = BlockQueue(reps, workers, owner)
    outcome = ShardOutcome(finished={w: [] for w in workers})
    errors: list[BaseException] = []
    record_lock = threading.Lock()

    def work(worker: str) -> None:
        while not stop.is_set():
            rep = queue.take(worker, stop)
            if rep is None:
                break
            try:
                run_block(worker, rep)
            except EngineLost as exc:
                with record_lock:
                    outcome.lost[worker] = str(exc)
                if on_lost is not None:
                    on_lost(worker, rep, str(exc))
                queue.give_back(rep, worker)
                return
            except BaseException as exc:  # a bug or disk full: stop everyone, raise it
                with record_lock:
                    errors.append(exc)
                queue.give_back(rep, worker)
                stop.set()
                return
            with record_lock:
                outcome.finished[worker].append(rep)
        queue.retire(worker)

    threads = [threading.Thread(target=work, args=(w,), name=f"engine-{w}") for w in workers]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C: the workers stop after their current process
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
    outcome.unfinished = sorted(queue.left())
    return outcome
