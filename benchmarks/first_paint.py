"""Time to first paint and peak memory of `dwtui --demo` against a bare Textual app, in one run.

Each app runs in a real pseudo-terminal (120x40), as a fresh process, several times, interleaved.
"first paint" is the time from just before the process is started to the moment Textual has
written the first screen to the terminal (see paint_probe.py). "peak RSS at first paint" is the
child's maximum resident set size at that moment; "peak RSS settled" lets each app run --settle
seconds more (dwtui --demo then fills its panes, starts the simulator, signs in and reads).
The exit status is 0 when dwtui's median first paint is within AIM times the bare app's, else 1.

    .venv/bin/python benchmarks/first_paint.py [--repeat 5] [--settle 4]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
APPS = {
    "dwtui --demo": ["dwtui", "--demo", "--speed", "50"],
    "bare Textual app": ["bare"],
}


@dataclass
class Sample:
    first_paint_s: float
    peak_rss_mib: float


AIM = 1.5  # issue 13: first paint within 1.5x of a bare Textual app


def _drain(fd: int) -> None:
    # The child blocks if nobody reads its terminal; what it paints is not needed.
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def measure(argv: list[str], settle: float) -> Sample:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    read_end, write_end = os.pipe()
    env = {
        **os.environ,
        "PAINT_PROBE_FD": str(write_end),
        "PAINT_PROBE_SETTLE": str(settle),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
        "LINES": "40",
    }
    started = time.time()
    child = subprocess.Popen(
        [sys.executable, str(HERE / "paint_probe.py"), *argv],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        pass_fds=(write_end,),
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    os.close(write_end)
    drainer = threading.Thread(target=_drain, args=(controller,), daemon=True)
    drainer.start()
    with os.fdopen(read_end) as report:
        line = report.readline()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    os.close(controller)
    drainer.join(timeout=5)
    if not line:
        raise RuntimeError(f"{' '.join(argv)} exited ({child.returncode}) before its first paint")
    painted_at, peak_at_paint = line.split()
    # ru_maxrss is in KiB on Linux. With --settle 0 the peak is the one at the first paint, which
    # the probe read then; otherwise it is the whole run's.
    peak_kib = int(peak_at_paint) if settle == 0 else usage.ru_maxrss
    return Sample(float(painted_at) - started, peak_kib / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--settle", type=float, default=4.0, help="seconds to run on for the settled RSS")
    args = parser.parse_args()

    paint: dict[str, list[Sample]] = {name: [] for name in APPS}
    settled: dict[str, list[Sample]] = {name: [] for name in APPS}
    for argv in APPS.values():  # warm the OS file cache so the first sample is not an outlier
        measure(argv, 0)
    for _ in range(args.repeat):
        for name, argv in APPS.items():
            paint[name].append(measure(argv, 0))
    for name, argv in APPS.items():
        settled[name].append(measure(argv, args.settle))

    print(f"{args.repeat} runs each, 120x40 pseudo-terminal, Python {sys.version.split()[0]}")
    print(
        f"{'app':<20}{'first paint median':>20}{'min':>9}{'max':>9}"
        f"{'peak RSS at paint':>19}{'peak RSS settled':>18}"
    )
    medians: dict[str, tuple[float, float, float]] = {}
    for name in APPS:
        times = [s.first_paint_s for s in paint[name]]
        rss = statistics.median(s.peak_rss_mib for s in paint[name])
        rss_settled = max(s.peak_rss_mib for s in settled[name])
        medians[name] = (statistics.median(times), rss, rss_settled)
        print(
            f"{name:<20}{statistics.median(times) * 1000:>17.0f} ms{min(times) * 1000:>6.0f} ms"
            f"{max(times) * 1000:>6.0f} ms{rss:>15.1f} MiB{rss_settled:>14.1f} MiB"
        )
    ours, bare = medians["dwtui --demo"], medians["bare Textual app"]
    ratio = ours[0] / bare[0]
    print(
        f"\nratio dwtui/bare: first paint {ratio:.2f}x, peak RSS at first paint "
        f"{ours[1] / bare[1]:.2f}x, peak RSS settled {ours[2] / bare[2]:.2f}x"
    )
    met = ratio <= AIM
    print(f"aim: first paint within {AIM}x of the bare app: {'met' if met else 'NOT met'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
