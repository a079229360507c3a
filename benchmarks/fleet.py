"""Time to a complete fleet table against the minimum LCS's limit allows, and peak memory at 600 environments.

Not a test. The simulator (scenario `fleet`: 3 LCS projects, 20 environments each, LCS limited to 6
calls per project per minute, 2 environments a page) runs in this process; the fleet reader runs in
a fresh child process each time (a probe: this file with --probe), so its timing and its peak RSS
are its own. Times start when the read starts (sign-in is before it).

1. **Time.** LCS's minute is `60 / --speed` real seconds (default 10: 6 s, long beside a local round
   trip, as a real minute is beside a real one). Each run measures, each in a fresh probe:
   - the read against the limit (the aim): first row shown, first row complete, table complete;
   - the baseline: the same read with the limit off in the simulator and in the reader, i.e.
     everything the read does besides waiting for LCS's window.
   The minimum the limit allows is the wait it forces (with P pages a project, a seventh call can
   only go a window after the first was answered: (ceil(P / 6) - 1) windows) plus the baseline; the
   ratio read / minimum is the aim (at most 1.1). The baseline part is generous: a perfect reader
   overlaps some of it with the forced wait, so the ratio against the forced wait alone is printed too.
   First rows in under 1 s is the other aim.
2. **Memory.** Peak RSS of a probe that reads 600 environments (200 a project, LCS's minute 60 ms)
   against one that signs in and reads nothing, and one that reads the 60; reported, no aim.

    .venv/bin/python benchmarks/fleet.py [--repeat 3] [--speed 10]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
PROJECTS = ["1234567", "2345678", "3456789"]
CALLS, MINUTE = 6, 60.0  # LCS: "6 calls for each project per minute" (reference-environment-metadata.md)
FREE = 10**9  # calls per window: no limit


# -- the probe (child process) ----------------------------------------------------------------------


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return math.nan


def probe(config: Path, speed: float, limit: int, projects: list[str], read: bool) -> None:
    from dwtui.services.activity import ActivityLog
    from dwtui.services.config import load_config, select_profile
    from dwtui.services.fleet import FleetReader
    from dwtui.services.fleet_cache import FleetCache
    from dwtui.services.rate_limit import SlidingWindowLimiter
    from dwtui.services.secrets import SecretStore
    from dwtui.services.session import Session

    profile = select_profile(load_config(config), "sim")
    limiter = SlidingWindowLimiter(limit, MINUTE / speed)
    session = Session(
        profile, secrets=SecretStore(memory_only=True), activity=ActivityLog(), lcs_limiter=limiter
    )
    session.auth.finish_device_flow(session.auth.start_device_flow(), lambda: False)
    signed_in_rss = _peak_rss_mib()
    cache = FleetCache(Path(tempfile.mkdtemp(prefix="dwtui-bench-")) / "fleet-cache.json")
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def on_row(row: Any) -> None:
        now = time.perf_counter() - started
        marks.setdefault("first_row_s", now)
        if row.complete:
            marks.setdefault("first_complete_s", now)
        else:
            marks["last_listed_s"] = now  # the last LCS page's rows appear

    rows = 0
    if read:
        result = FleetReader(session, cache=cache).read(projects, on_row)
        assert result.complete and not result.faults, result.faults
        rows = len(result.rows)
    marks["complete_s"] = time.perf_counter() - started
    session.close()
    print(
        json.dumps(
            {**marks, "rows": rows, "signed_in_rss_mib": signed_in_rss, "peak_rss_mib": _peak_rss_mib()}
        )
    )


# -- the parent --------------------------------------------------------------------------------------


def run_probe(speed: float, per_project: int, limited: bool, read: bool = True) -> tuple[dict[str, Any], int]:
    """One probe against a fresh simulator; its report and the LCS calls a project took."""
    from dwtui.sim import fleet_world
    from dwtui.sim.server import SimServer

    sim = SimServer("fleet", speed=speed, device_code_lifetime=600.0)
    fleet_world.populate(sim.world, per_project=per_project)
    if not limited:
        sim.world.lcs_throttle = None
    with sim, tempfile.TemporaryDirectory(prefix="dwtui-bench-") as folder:
        config = Path(folder) / "sim.toml"
        sim.write_config(config, environment="")
        argv = [
            sys.executable,
            str(HERE),
            "--probe",
            str(config),
            "--speed",
            str(speed),
            "--limit",
            str(CALLS if limited else FREE),
            "--projects",
            ",".join(PROJECTS),
        ]
        if not read:
            argv.append("--no-read")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise SystemExit(f"probe failed ({done.returncode}):\n{done.stderr}")
        report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        statuses = [r["status"] for r in sim.requests() if r["service"] == "lcs"]
        if 429 in statuses:
            raise SystemExit("the reader tripped LCS's limit (429)")
        pages = len(statuses) // len(PROJECTS)
    return report, pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--speed", type=float, default=10.0, help="simulator speed for the timing (default 10)"
    )
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=CALLS, help=argparse.SUPPRESS)
    parser.add_argument("--projects", default=",".join(PROJECTS), help=argparse.SUPPRESS)
    parser.add_argument("--no-read", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe is not None:
        probe(args.probe, args.speed, args.limit, args.projects.split(","), not args.no_read)
        return 0

    window = MINUTE / args.speed
    print(f"Time: 60 environments in 3 projects, LCS's minute = {window:g} s (speed {args.speed:g})")
    ratios, strict, firsts = [], [], []
    for attempt in range(1, args.repeat + 1):
        limited, pages = run_probe(args.speed, 20, limited=True)
        free, _ = run_probe(args.speed, 20, limited=False)
        forced = (math.ceil(pages / CALLS) - 1) * window
        minimum = forced + free["complete_s"]
        ratio = limited["complete_s"] / minimum
        ratios.append(ratio)
        strict.append(limited["complete_s"] / forced if forced else math.nan)
        firsts.append(limited["first_row_s"])
        print(
            f"  run {attempt}: {pages} LCS pages a project; complete {limited['complete_s']:.2f} s "
            f"(first row {limited['first_row_s']:.3f} s, "
            f"first complete row {limited['first_complete_s']:.3f} s); "
            f"baseline without the limit {free['complete_s']:.2f} s; forced wait {forced:.2f} s; "
            f"minimum {minimum:.2f} s; ratio {ratio:.3f} (against the forced wait alone {strict[-1]:.3f}; "
            f"last page listed at {limited['last_listed_s']:.2f} s, its rows read "
            f"{limited['complete_s'] - limited['last_listed_s']:.2f} s later)"
        )
    ratio, first = statistics.median(ratios), max(firsts)
    print(f"median ratio {ratio:.3f} (aim <= 1.1); slowest first row {first:.3f} s (aim < 1 s)")

    print("\nMemory: peak RSS of the reader's process (LCS's minute = 0.06 s, speed 1000)")
    idle, _ = run_probe(1000.0, 20, limited=True, read=False)
    sixty, _ = run_probe(1000.0, 20, limited=True)
    many, pages = run_probe(1000.0, 200, limited=True)
    assert many["rows"] == 600, many["rows"]
    base = idle["peak_rss_mib"]
    for label, report in (
        ("signed in, nothing read", idle),
        ("60 environments", sixty),
        ("600 environments", many),
    ):
        print(
            f"  {label:<24} {report['peak_rss_mib']:6.1f} MiB "
            f"({report['peak_rss_mib'] / base:.2f}x the signed-in process) in {report['complete_s']:.2f} s"
        )
    per_row = (many["peak_rss_mib"] - sixty["peak_rss_mib"]) / 540 * 1024
    print(f"  about {per_row:.0f} KiB more per environment between 60 and 600 ({pages} LCS pages a project)")
    met = ratio <= 1.1 and first < 1.0
    print("aims (ratio <= 1.1, first rows < 1 s): " + ("met" if met else "NOT met"))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
