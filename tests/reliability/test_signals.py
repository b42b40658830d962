"""Real interrupts and interpreter exit, each in a fresh Python process (a SIGINT
sent with os.kill, ``_thread.interrupt_main``, the script ending with runs active)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.subprocess

ROOT = Path(__file__).resolve().parents[2]


def scenario(name):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.scenarios", name],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result (rc {done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT ") :]), done


def assert_stopped_at_a_good_point(r):
    assert (r["state"], r["reason"]) == ("finished", "interrupted")
    assert r["at_good_point"] and r["finite"]
    assert r["weights"] == "end of epoch 1"  # the signal came during epoch 2 (index 1), batch 3
    assert r["history"] == [0]  # complete epochs only
    assert r["partial"] == [[1, r["partial"][0][1]]]  # the cut epoch, kept apart
    assert (r["reused"], r["reused_reason"]) == ("finished", "completed")


@pytest.mark.parametrize("name", ["sigint_blocking", "sigint_background"])
def test_a_real_sigint_stops_the_run_within_one_batch(name):
    r, _ = scenario(name)
    assert r["caught"]  # the KeyboardInterrupt still reaches the code that was running
    assert r["batches_after"] <= 1
    assert_stopped_at_a_good_point(r)


def test_interrupt_main_during_a_blocking_fit_stops_the_run():
    r, _ = scenario("interrupt_main_blocking")
    assert r["caught"]
    assert r["batches_after"] < 20  # simulated: seen at the next 50 ms poll, not after the run
    assert (r["state"], r["reason"]) == ("finished", "interrupted")
    assert r["at_good_point"] and r["finite"]
    assert (r["reused"], r["reused_reason"]) == ("finished", "completed")


def test_sigint_between_cells_stops_a_background_run_without_raising():
    """ipykernel ignores SIGINT between cells; the interrupt button must still stop training."""
    r, _ = scenario("sigint_between_cells")
    assert r["batches_after"] <= 1
    assert_stopped_at_a_good_point(r)


def test_sigint_during_lr_find_puts_the_model_back_and_leaves_it_reusable():
    r, _ = scenario("sigint_lr_find")
    assert r["caught"] and r["weights_restored"]
    assert (r["state"], r["reason"]) == ("finished", "interrupted")
    assert r["after_signal_s"] < 5
    assert (r["reused"], r["reused_reason"]) == ("finished", "completed")


@pytest.mark.parametrize(("name", "runs"), [("exit_two_runs", 2), ("script_ends", 1)])
def test_interpreter_exit_stops_active_runs_cleanly_and_says_so(name, runs):
    r, done = scenario(name)
    assert r["running"] == ["running"] * runs
    assert done.returncode == 0, done.stderr[-3000:]
    assert "terminate called" not in done.stderr
    assert done.stderr.count("transfer_widgets: the interpreter exited during run 1 of model") == runs
    assert "Call controller.wait()" in done.stderr
