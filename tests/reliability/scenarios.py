"""Faults that need a process of their own: real signals and interpreter exit.

``python -m tests.reliability.scenarios NAME`` runs one scenario and prints one
JSON line starting with ``RESULT`` (what the parent test asserts on)."""

from __future__ import annotations

import _thread
import json
import signal
import sys
import threading
import time

from tests.reliability.faults import At, GoodPoints, expected_weights, finite, make, same, sigint


def summary(ctl, points, at=None, **extra):
    return {
        "state": ctl.state,
        "reason": ctl.runs[-1]["reason"],
        "weights": ctl.runs[-1]["weights"],
        "at_good_point": same(ctl.model.get_weights(), expected_weights(ctl, points)),
        "finite": finite(ctl.model.get_weights()),
        "history": list(ctl.history.get("epoch", [])),
        "partial": [(p["epoch"], p["batches"]) for p in ctl.partial_epochs],
        "batches_after": None if at is None else at.batches_after,
        **extra,
    }


def reuse(ctl):
    ctl.fit(1, block=True)
    return {"reused": ctl.state, "reused_reason": ctl.runs[-1]["reason"]}


def interrupted_blocking(send):
    ctl, points = make(), GoodPoints()
    at = At(1, 2, send)
    caught = False
    try:
        ctl.fit(30, block=True, callbacks=[points, at])
    except KeyboardInterrupt:
        caught = True
    return {**summary(ctl, points, at, caught=caught), **reuse(ctl)}


def sigint_blocking():
    return interrupted_blocking(sigint)


def interrupt_main_blocking():
    return interrupted_blocking(_thread.interrupt_main)


def sigint_background():
    """fit() returned; the main thread is busy elsewhere when Ctrl-C comes."""
    ctl, points = make(), GoodPoints()
    at = At(1, 2, sigint)
    caught = False
    ctl.fit(30, callbacks=[points, at])
    try:
        while ctl.running:
            time.sleep(0.01)
    except KeyboardInterrupt:
        caught = True
    ctl.wait()
    return {**summary(ctl, points, at, caught=caught), **reuse(ctl)}


def sigint_between_cells():
    """As ipykernel between cells: SIGINT ignored, then the interrupt button."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctl, points = make(), GoodPoints()
    at = At(1, 2, sigint)
    ctl.fit(30, callbacks=[points, at])
    ctl.wait(120)
    return {**summary(ctl, points, at), **reuse(ctl)}


def sigint_lr_find():
    ctl = make(samples=256)
    before = ctl.model.get_weights()
    sent = {}

    def later():
        while ctl.state != "running":
            time.sleep(0.01)
        time.sleep(1.5)
        sent["at"] = time.monotonic()
        sigint()

    threading.Thread(target=later, daemon=True).start()
    caught = False
    try:
        ctl.lr_find(start=1e-7, end=1e-6, steps=100_000)
    except KeyboardInterrupt:
        caught = True
    return {
        "caught": caught,
        "state": ctl.state,
        "reason": ctl.runs[-1]["reason"],
        "after_signal_s": time.monotonic() - sent["at"],
        "weights_restored": same(ctl.model.get_weights(), before),
        **reuse(ctl),
    }


def exit_with_runs(n):
    ctls = [make(samples=512) for _ in range(n)]
    ats = [At(0, 1, lambda: None) for _ in ctls]
    for ctl, at in zip(ctls, ats, strict=True):
        ctl.fit(200, callbacks=[at])
    for at in ats:
        assert at.fired.wait(120)
    print("ENDING", time.monotonic(), flush=True)
    return {"running": [c.state for c in ctls]}


def exit_two_runs():
    return exit_with_runs(2)


def script_ends():
    return exit_with_runs(1)


SCENARIOS = {
    f.__name__: f
    for f in (
        sigint_blocking,
        interrupt_main_blocking,
        sigint_background,
        sigint_between_cells,
        sigint_lr_find,
        exit_two_runs,
        script_ends,
    )
}

if __name__ == "__main__":
    result = SCENARIOS[sys.argv[1]]()
    print("RESULT " + json.dumps(result), flush=True)
