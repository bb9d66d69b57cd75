import os
from pathlib import Path

from flink_jobs.stack.process import ManagedProcess


def test_start_find_and_stop_by_recorded_pid(tmp_path: Path) -> None:
    proc = ManagedProcess("sleeper", tmp_path / "run", tmp_path / "logs")
    assert proc.pid() is None
    pid = proc.start(["sleep", "60"], dict(os.environ), tmp_path)
    assert proc.pid() == pid
    assert proc.stop(timeout=5) is True
    assert proc.pid() is None
    assert proc.stop() is False


def test_a_recycled_pid_is_not_taken_for_ours(tmp_path: Path) -> None:
    proc = ManagedProcess("other", tmp_path / "run", tmp_path / "logs")
    proc.run_dir.mkdir(parents=True)
    # Our own pid, but with a start time that is not ours: someone else's process.
    proc.pid_file.write_text(f"{os.getpid()} 1\n")
    assert proc.pid() is None
    assert proc.stop() is False
    assert proc.pid_file.exists() is False


def test_output_goes_to_the_log(tmp_path: Path) -> None:
    proc = ManagedProcess("echo", tmp_path / "run", tmp_path / "logs")
    proc.start(["sh", "-c", "echo hello"], dict(os.environ), tmp_path)
    for _ in range(50):
        if "hello" in proc.tail():
            break
        import time

        time.sleep(0.1)
    assert proc.tail() == "hello"
