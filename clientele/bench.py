"""Benchmark: generate the demo brand at several sizes and run the full dbt build on each.

Each step runs as its own subprocess so that its wall time and peak memory are
its own. Two memory figures are kept: the largest RSS of any one process of the
step (`os.wait4`; dbt runs as a grandchild of `clientele build`), and the peak of
the whole process tree's summed RSS, sampled every quarter second while the step
runs. The samples are matched with the start and end of every dbt node in
`run_results.json`: each model gets its wall time and the tree's peak RSS while it
ran, with the nodes that ran beside it at that peak (dbt runs two at a time), so
a memory peak is attributed to the models running then. Results go to
`<out>/results.json` and `<out>/results.md`, rewritten after every step so a
failure or an interruption keeps what was measured. A failing step is
recorded and the benchmark goes on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clientele.contract import TABLES

log = logging.getLogger(__name__)
PROJECT_DIR = Path(__file__).resolve().parent.parent
TOP_MODELS = 15


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    versions = {}
    for package in ("duckdb", "dbt-core", "dbt-duckdb", "pandas", "pyarrow", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(),
        # Other work on the machine inflates wall times (not CPU times): say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "memory_gb": mem_gb,
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def tree_rss_mb(root: int) -> float:
    """Summed resident memory (MB) of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)  # fields[1] is the parent pid
        rss[pid] = int(fields[21])  # resident pages
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total * os.sysconf("SC_PAGE_SIZE") / 1024**2


class MemorySampler(threading.Thread):
    """Samples a process tree's summed RSS every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []  # (unix time, MB)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.samples.append((time.time(), round(tree_rss_mb(self.pid), 1)))
            except OSError:
                pass
            self._stop_event.wait(self.interval)

    def stop(self) -> list[tuple[float, float]]:
        self._stop_event.set()
        self.join()
        return self.samples


def run_step(cmd: list[str], log_path: Path) -> dict[str, Any]:
    """Run one command; its wall time, exit code, the largest RSS of one of its processes
    and the peak of its process tree's summed RSS (MB), with the sampled timeline."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log.info("running: %s", " ".join(cmd))
    started = time.perf_counter()
    with log_path.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_DIR)
        sampler = MemorySampler(proc.pid)
        sampler.start()
        # wait4, not Popen.wait: it returns this child's own resource usage.
        _, status, usage = os.wait4(proc.pid, 0)
        samples = sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return {
        "command": cmd,
        "exit_code": proc.returncode,
        "ok": proc.returncode == 0,
        "seconds": round(seconds, 2),
        # ru_maxrss is in KiB on Linux: the largest single process, not a sum; Linux keeps the
        # launcher's high-water mark across fork+exec, so the tree peak is the figure to quote.
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mb": max((mb for _, mb in samples), default=None),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "log": str(log_path),
        "rss_samples": samples,
    }


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def node_memory(target: Path, samples: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Per dbt node: wall time, the tree's peak RSS while it ran and what ran beside it."""
    path = target / "run_results.json"
    if not path.exists() or not samples:
        return []
    spans = []
    for r in json.loads(path.read_text()).get("results", []):
        timing = {t["name"]: t for t in r.get("timing", [])}
        start = _epoch((timing.get("compile") or timing.get("execute") or {}).get("started_at"))
        end = _epoch((timing.get("execute") or {}).get("completed_at"))
        if start is not None and end is not None:
            spans.append((r["unique_id"], start, end, r.get("status")))
    rows = []
    for node, start, end, status in spans:
        window = [(t, mb) for t, mb in samples if start <= t <= end]
        if not window:  # shorter than one sample interval: the nearest sample
            window = [min(samples, key=lambda s, start=start: abs(s[0] - start))]
        at, peak = max(window, key=lambda s: s[1])
        beside = sorted(n for n, s, e, _ in spans if n != node and s <= at <= e)
        before = [mb for t, mb in samples if t <= start]
        rows.append({"node": node, "status": status, "seconds": round(end - start, 2),
                     "peak_tree_rss_mb": peak,
                     "rss_at_start_mb": before[-1] if before else None,
                     "beside_at_peak": beside})
    return sorted(rows, key=lambda r: (-r["seconds"], r["node"]))


def table_rows(raw: Path) -> dict[str, int | None]:
    """Rows per contract table, read from the Parquet footers (no data is loaded)."""
    rows: dict[str, int | None] = {}
    for table in TABLES:
        path = raw / f"{table.name}.parquet"
        rows[table.name] = pq.read_metadata(path).num_rows if path.exists() else None
    return rows


def model_timings(target: Path) -> dict[str, Any]:
    """Statuses and the slowest nodes from dbt's run_results.json, if the build wrote one."""
    path = target / "run_results.json"
    if not path.exists():
        return {"found": False}
    data = json.loads(path.read_text())
    results = data.get("results", [])
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.get("status", "unknown")] = statuses.get(r.get("status", "unknown"), 0) + 1
    timed = sorted(
        ({"node": r.get("unique_id"), "status": r.get("status"),
          "seconds": round(float(r.get("execution_time") or 0.0), 2)} for r in results),
        key=lambda x: (-x["seconds"], x["node"] or ""),
    )
    return {
        "found": True,
        "nodes": len(results),
        "statuses": dict(sorted(statuses.items())),
        "elapsed": data.get("elapsed_time"),
        "slowest": timed[:TOP_MODELS],
    }


def bench_size(size: int, out: Path, seed: int) -> dict[str, Any]:
    """Generate one size, build it, and gather what was measured."""
    root = out / "data" / str(size)
    raw, truth = root / "raw", root / "truth"
    db, target = root / "clientele.duckdb", root / "target"
    py = sys.executable
    result: dict[str, Any] = {"customers": size}
    result["generate"] = run_step(
        [py, "-m", "clientele.cli", "demo", "--customers", str(size), "--seed", str(seed),
         "--out", str(raw.resolve()), "--truth-out", str(truth.resolve())],
        root / "demo.log",
    )
    result["generate"].pop("rss_samples", None)
    if not result["generate"]["ok"]:
        log.error("generation of %d customers failed, see %s", size, result["generate"]["log"])
        return result
    result["rows"] = table_rows(raw)
    report = raw / "_load_report.json"
    if report.exists():
        summary = json.loads(report.read_text())
        result["figures"] = {k: summary.get(k) for k in (
            "prospect_share", "repeat_rate", "mean_orders_per_buyer",
            "top5pct_products_revenue_share", "bad_rows_total")}
    # A fresh database each time: building over a previous one would measure less work.
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    result["build"] = run_step(
        [py, "-m", "clientele.cli", "build", "--raw", str(raw.resolve()), "--db",
         str(db.resolve()), "--target-path", str(target.resolve())],
        root / "build.log",
    )
    result["build"]["dbt"] = model_timings(target)
    samples = result["build"].pop("rss_samples", [])
    result["build"]["nodes"] = node_memory(target, samples)
    (root / "rss_timeline.csv").write_text(
        "unix_time,tree_rss_mb\n" + "".join(f"{t:.2f},{mb}\n" for t, mb in samples))
    result["build"]["rss_timeline"] = str(root / "rss_timeline.csv")
    if db.exists():
        result["build"]["db_size_mb"] = round(db.stat().st_size / 1024**2, 1)
    if not result["build"]["ok"]:
        log.error("dbt build on %d customers failed (exit %s), see %s", size,
                  result["build"]["exit_code"], result["build"]["log"])
    return result


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec) if spec else str(value)


def to_markdown(results: dict[str, Any]) -> str:
    """results.json as a readable page."""
    m = results["machine"]
    lines = [
        "# clientele benchmark",
        "",
        f"Measured {results['started']} on {m['nproc']} CPU(s), {m['memory_gb']} GB RAM, "
        f"{m['cpu_model']}; Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + ".",
        f"Seed {results['seed']}. Tree peak: the summed RSS of the step's whole process tree, "
        "sampled every 0.25 s; max process: the largest RSS of one process (os.wait4).",
        "",
        f"Load average when the benchmark started: {m.get('load_average_1m')} "
        "(wall times grow with other work on the machine; CPU times much less).",
        "",
        "| customers | generate wall (s) | generate CPU (s) | generate peak RSS (MB) "
        "| build wall (s) | build CPU (s) | build tree peak (MB) | build max process (MB) "
        "| build | dbt nodes | orders | order_lines | web_events | email_events |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---|:---|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        g, b = r.get("generate", {}), r.get("build", {})
        rows = r.get("rows", {})
        dbt = b.get("dbt", {})
        nodes = ", ".join(f"{k} {v}" for k, v in dbt.get("statuses", {}).items()) or "-"
        status = "-" if not b else ("ok" if b.get("ok") else f"failed ({b.get('exit_code')})")
        lines.append(
            f"| {r['customers']:,} | {_fmt(g.get('seconds'))} | {_fmt(g.get('cpu_seconds'))} "
            f"| {_fmt(g.get('peak_rss_mb'))} | {_fmt(b.get('seconds'))} "
            f"| {_fmt(b.get('cpu_seconds'))} | {_fmt(b.get('peak_tree_rss_mb'))} "
            f"| {_fmt(b.get('peak_rss_mb'))} | {status} | {nodes} "
            f"| {_fmt(rows.get('orders'), ',')} | {_fmt(rows.get('order_lines'), ',')} "
            f"| {_fmt(rows.get('web_events'), ',')} | {_fmt(rows.get('email_events'), ',')} |"
        )
    for r in results["runs"]:
        slowest = r.get("build", {}).get("dbt", {}).get("slowest", [])
        if r.get("figures"):
            f = r["figures"]
            lines += ["", f"## {r['customers']:,} customers", "",
                      "Figures: " + ", ".join(f"{k} {v}" for k, v in f.items()) + "."]
        if r.get("rows"):
            lines += ["", "Rows: " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()
                                                if v is not None) + "."]
        nodes = r.get("build", {}).get("nodes", [])
        if nodes:
            shown = {n["node"] for n in nodes[:TOP_MODELS]}
            shown |= {n["node"] for n in sorted(nodes, key=lambda n: -n["peak_tree_rss_mb"])[:5]}
            lines += ["", f"Slowest dbt nodes and the highest memory peaks ({len(shown)} of "
                      f"{len(nodes)}; peak = process tree while the node ran):", "",
                      "| node | status | wall (s) | tree RSS at start (MB) | tree peak (MB) "
                      "| running beside it at the peak |", "|:---|:---|---:|---:|---:|:---|"]
            lines += [f"| {n['node']} | {n['status']} | {n['seconds']} "
                      f"| {_fmt(n['rss_at_start_mb'])} | {n['peak_tree_rss_mb']} "
                      f"| {', '.join(b.split('.')[-1] for b in n['beside_at_peak']) or '-'} |"
                      for n in nodes if n["node"] in shown]
        elif slowest:
            lines += ["", f"Slowest dbt nodes ({len(slowest)}):", "", "| node | status | s |",
                      "|:---|:---|---:|"]
            lines += [f"| {s['node']} | {s['status']} | {s['seconds']} |" for s in slowest]
    return "\n".join(lines) + "\n"


def _write(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "results.md").write_text(to_markdown(results))


def main(args: argparse.Namespace) -> int:
    """`clientele bench`: 0 when every step succeeded, 1 otherwise (all sizes still run)."""
    sizes = [int(s) for s in str(args.sizes).replace(" ", "").split(",") if s]
    out = Path(args.out)
    results: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "seed": args.seed,
        "sizes": sizes,
        "machine": machine_info(),
        "runs": [],
    }
    failed = False
    for size in sizes:
        log.info("benchmark: %d customers", size)
        try:
            run = bench_size(size, out, args.seed)
        except Exception as exc:  # keep going: one size's failure must not lose the others
            log.exception("benchmark of %d customers failed", size)
            run = {"customers": size, "error": repr(exc)}
        failed |= "error" in run or not run.get("generate", {}).get("ok", False) or not run.get(
            "build", {}).get("ok", False)
        results["runs"].append(run)
        _write(out, results)
        g, b = run.get("generate", {}), run.get("build", {})
        log.info("%d customers: generate %ss / %s MB, build %ss / %s MB tree peak (%s)", size,
                 g.get("seconds"), g.get("peak_rss_mb"), b.get("seconds"),
                 b.get("peak_tree_rss_mb"),
                 "ok" if b.get("ok") else "failed")
    log.info("wrote %s and %s", out / "results.json", out / "results.md")
    return 1 if failed else 0
