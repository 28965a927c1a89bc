"""A rank that dies ends the whole job with a clear error within 30 s, instead of leaving the others waiting
in an all-reduce forever."""
import time
from pathlib import Path

import pytest

PROGRAM = str(Path(__file__).resolve().parent / "failing_program.py")


@pytest.mark.parametrize("how,message", [("kill", "rank 1 with PID"), ("raise", "rank 1 failed; aborting all 2"),
                                         ("exit", "failing_program.py ended with status 3 on rank 1; aborting all 2")])
def test_a_dead_rank_ends_the_job(mpirun, how, message):
    start = time.monotonic()
    launcher = ["-m", "fukaku", "run"] if how == "exit" else []  # a plain sys.exit is caught by fukaku run
    result = mpirun(*launcher, PROGRAM, how, timeout=30)  # a hang fails the test at 30 s
    elapsed = time.monotonic() - start
    assert result.returncode != 0 and "should not have" not in result.stdout
    assert message in result.stdout + result.stderr
    if how == "kill":
        assert "signal 9" in result.stdout + result.stderr
    elif how == "raise":
        assert "rank 1 lost its data shard" in result.stderr
    assert elapsed < 30
