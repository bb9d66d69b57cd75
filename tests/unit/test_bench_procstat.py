"""CPU and memory of process trees from /proc, on a fake /proc."""

from pathlib import Path

from benchmarks.procstat import TICKS, Usage, cpu_ticks, descendants, rss_kib


def _proc(root: Path, pid: int, ppid: int, ticks: int, rss: int, name: str = "java") -> None:
    folder = root / str(pid)
    folder.mkdir(exist_ok=True)
    fields = ["S", str(ppid)] + ["0"] * 9 + [str(ticks), "0"] + ["0"] * 30
    (folder / "stat").write_text(f"{pid} ({name}) {' '.join(fields)}\n")
    (folder / "status").write_text(f"Name:\t{name}\nVmRSS:\t{rss} kB\n")


def test_parsing_survives_names_with_spaces() -> None:
    stat = "42 (a b) c) S 1 " + " ".join(["0"] * 9) + " 7 5 " + " ".join(["0"] * 30)
    assert cpu_ticks(stat) == 12
    assert rss_kib("Name:\tx\nVmRSS:\t  2048 kB\n") == 2048
    assert rss_kib("Name:\tkworker\n") == 0


def test_a_role_is_its_roots_and_their_descendants(tmp_path: Path) -> None:
    _proc(tmp_path, 10, 1, 100, 1000)
    _proc(tmp_path, 11, 10, 50, 500, "python worker")
    _proc(tmp_path, 20, 1, 999, 9999)
    assert descendants([10], tmp_path) == {10, 11}
    usage = Usage({"TaskManager": [10]}, proc=tmp_path)
    assert usage.sample() == {"TaskManager": 0.0}
    _proc(tmp_path, 10, 1, 100 + 2 * TICKS, 3000)
    _proc(tmp_path, 12, 10, TICKS, 100)  # a process that started since: all of it counts
    assert usage.sample() == {"TaskManager": 3.0}
    assert usage.peak_rss_kib == {"TaskManager": 3600}
