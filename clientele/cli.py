"""`clientele` command line: start, load and check a raw folder, make the demo brand, run dbt, export.

Errors a user can fix are printed as one line (`clientele: ...`) with exit code 2,
never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from clientele.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _cmd_load(args: argparse.Namespace) -> int:
    from clientele import loaders

    if args.source == "olist":
        report = loaders.load_olist(Path(args.path), Path(args.out))
    elif args.source == "mapping":
        from clientele import mapping

        report = mapping.load_mapping(Path(args.path), Path(args.out))
    else:
        report = loaders.load_online_retail(Path(args.path), Path(args.out))
    print(loaders.format_report(report))
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from clientele import mapping, rawcheck

    raw = Path(args.raw)
    written = rawcheck.init_folder(raw)
    print(f"wrote the empty contract into {raw}: {len(written)} tables, described in "
          f"{raw / 'CONTRACT.md'}")
    if args.mapping:
        target = Path(args.mapping)
        if target.exists():
            raise UserError(f"{target}: exists; choose another name for the mapping template")
        target.write_text(mapping.template(str(raw)))
        print(f"wrote a mapping template to {target}: edit it, then "
              f"clientele load mapping {target} --out {raw}")
    print(f"next: fill the tables (or load mapping), then clientele check {raw}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from clientele import rawcheck

    problems = rawcheck.check_folder(Path(args.raw))
    for problem in problems:
        if problem.level != rawcheck.NOTE or args.notes:
            print(f"{problem.level}: {problem}")
    stops = sum(p.level == rawcheck.STOP for p in problems)
    rows = sum(p.level == rawcheck.ROWS for p in problems)
    notes = sum(p.level == rawcheck.NOTE for p in problems)
    print(f"{args.raw}: {stops} problem(s) that stop a build, {rows} kind(s) of rows the build "
          f"will quarantine, {notes} note(s){'' if args.notes else ' (--notes shows them)'}")
    return 2 if stops else 1 if rows else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from clientele import demo

    truth = Path(args.truth_out) if args.truth_out else Path(args.out).parent / "truth"
    demo.generate(
        customers=args.customers,
        seed=args.seed,
        out=Path(args.out),
        truth_out=truth,
        bad_row_rate=args.bad_row_rate,
    )
    return 0


def dbt_command(
    verb: str, raw: Path, extra: list[str], vars_: dict[str, str] | None = None
) -> list[str]:
    """The dbt invocation for a raw folder, with its own database and target folder."""
    dbt = str(Path(sys.executable).parent / "dbt")
    all_vars = {"raw_path": str(raw.resolve()), **(vars_ or {})}
    vars_yaml = json.dumps(all_vars)  # JSON is YAML, and quotes any path or value safely
    return [
        dbt, *verb.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--vars", vars_yaml, *extra,
    ]


def _check_as_of(value: str, raw: Path) -> None:
    """One line for an as_of nothing can be computed as of (dbt's int_as_of says the same
    for plain dbt users, after staging)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--as-of {value}: not a date (YYYY-MM-DD)") from None
    if day > date.today():
        raise UserError(f"--as-of {value}: after today ({date.today()}); nothing is known yet")
    import duckdb

    path = str(raw / "orders.parquet").replace("'", "''")
    try:
        first = duckdb.sql(f"select min(try_cast(ordered_at as date)) from read_parquet('{path}')"
                           ).fetchone()[0]
    except duckdb.Error:
        return  # an unreadable column: staging quarantines it and int_as_of decides
    if first is not None and day < first:
        raise UserError(f"--as-of {value}: before the first order in {raw}/orders.parquet "
                        f"({first}); nothing to compute as of")


def _check_not_in_use(db: Path) -> None:
    """DuckDB allows one writer: say so in one line rather than let dbt print tracebacks
    (a reader such as a BI tool holding the file; warehouse.hold has checked that it is a
    DuckDB file and that no other `clientele build` or export runs on it)."""
    if not db.exists():
        return
    import duckdb

    try:
        duckdb.connect(str(db)).close()
    except duckdb.IOException as exc:
        holder = re.search(r"\(PID (\d+)\)", str(exc))
        who = f" by process {holder.group(1)}" if holder else ""
        raise UserError(f"{db}: in use{who} (another build or reader); wait for it to finish "
                        "or build into another --db") from None
    except duckdb.Error as exc:
        raise UserError(f"{db}: not a DuckDB database ({str(exc).splitlines()[0]})") from None


def _parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise UserError(f"--var {text}: expected NAME=VALUE (a var of dbt_project.yml)")
    return name.strip(), value.strip()


def _cmd_build(args: argparse.Namespace) -> int:
    from clientele import rawcheck, warehouse

    raw = Path(args.raw)
    rawcheck.require_buildable(raw)
    if args.as_of:
        _check_as_of(args.as_of, raw)
    env = dict(os.environ)
    # glibc gives each thread that allocates its own arena and keeps freed pages in them:
    # with DuckDB's, BLAS's and torch's threads in one process, the resident size then
    # grows well past what the models hold. Two arenas keep it close (the user's value wins).
    env.setdefault("MALLOC_ARENA_MAX", "2")
    # One BLAS thread from the start: the Python models share dbt's process, and OpenBLAS
    # ignores a thread count set from a thread other than the main one once the main
    # thread has set one, so seam.bounded_threads alone could leave a fit on 2 threads in
    # one build and 1 in the next (different last bits; the ALS lists then differ).
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.db:
        env["CLIENTELE_DB"] = str(Path(args.db).resolve())
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    else:
        (PROJECT_DIR / "warehouse").mkdir(exist_ok=True)
    db = Path(env.get("CLIENTELE_DB", PROJECT_DIR / "warehouse/clientele.duckdb"))
    extra = list(args.dbt_args)
    if args.target_path:
        extra += ["--target-path", args.target_path]
    vars_ = dict(_parse_var(v) for v in args.var)
    if args.as_of:
        vars_["as_of"] = args.as_of
    cmd = dbt_command(args.verb, raw, extra, vars_)
    with warehouse.hold(db, build=True):
        _check_not_in_use(db)
        return subprocess.call(cmd, env=env, cwd=PROJECT_DIR)


def _cmd_bench(args: argparse.Namespace) -> int:
    from clientele import bench

    return bench.main(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from clientele import export

    names = [n.strip() for n in args.tables.split(",") if n.strip()] if args.tables else None
    manifest = export.publish(
        Path(args.db), Path(args.out), export.select_tables(names), keep=args.keep,
        personal_columns=args.with_personal_columns,
    )
    built = [t["table"] for t in manifest["tables"] if t["status"] == "built"]
    missing = [t["table"] for t in manifest["tables"] if t["status"] != "built"]
    print(f"published {Path(args.out) / export.CURRENT} -> {manifest['set']} "
          f"(as_of {manifest['as_of']}): {len(built)} tables")
    if missing:
        print(f"not built yet (empty placeholders): {', '.join(missing)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientele", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", help="convert a dataset into the raw contract")
    load.add_argument("source", choices=["mapping", "olist", "online-retail"],
                      help="mapping: your own CSV/Parquet exports, described by a mapping file")
    load.add_argument("path", help="mapping .yml file, Olist CSV folder, or an Online Retail "
                                   ".parquet/.csv/.xlsx file")
    load.add_argument("--out", required=True, help="raw folder to write (replaced atomically)")
    load.set_defaults(func=_cmd_load)

    init = sub.add_parser("init", help="write the raw contract empty, with its columns and types")
    init.add_argument("raw", help="new raw folder")
    init.add_argument("--mapping", help="also write a commented mapping template to this file")
    init.set_defaults(func=_cmd_init)

    check = sub.add_parser("check", help="survey a raw folder: one line per problem")
    check.add_argument("raw", help="raw folder")
    check.add_argument("--notes", action="store_true", help="also show notes (optional tables...)")
    check.set_defaults(func=_cmd_check)

    demo = sub.add_parser("demo", help="generate the synthetic demo brand")
    demo.add_argument("--customers", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--out", required=True, help="raw folder to write")
    demo.add_argument("--truth-out", help="folder for the latent truth (default: OUT/../truth)")
    demo.add_argument("--bad-row-rate", type=float, default=0.002,
                      help="share of deliberately bad rows, to exercise the quarantine")
    demo.set_defaults(func=_cmd_demo)

    build = sub.add_parser("build", help="run dbt (build by default) on a raw folder")
    build.add_argument("--raw", required=True, help="raw folder written by `load` or `demo`")
    build.add_argument("--db", help="DuckDB file (default warehouse/clientele.duckdb)")
    build.add_argument("--as-of", help="compute everything as of this date (YYYY-MM-DD)")
    build.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                       help="set a dbt var of dbt_project.yml (repeatable)")
    build.add_argument("--target-path", help="dbt target folder (default target/)")
    build.add_argument("--verb", default="build", help="dbt command: build, run, test, 'docs generate', ...")
    build.add_argument("dbt_args", nargs=argparse.REMAINDER, help="passed to dbt after --")
    build.set_defaults(func=_cmd_build)

    export = sub.add_parser("export", help="publish the public marts as Parquet, atomically")
    export.add_argument("--db", default="warehouse/clientele.duckdb", help="DuckDB file to read")
    export.add_argument("--out", default="exports", help="exports folder (readers use OUT/current)")
    export.add_argument("--tables", help="comma-separated tables (default: clientele.export)")
    export.add_argument("--keep", type=int, default=3, help="complete sets kept on disk (>= 2)")
    export.add_argument("--with-personal-columns", action="store_true",
                        help="also export quasi-identifiers (city, gender, birth year, raw records)")
    export.set_defaults(func=_cmd_export)

    bench = sub.add_parser("bench", help="benchmark generation and dbt build at several sizes")
    bench.add_argument("--sizes", default="10000,100000", help="comma-separated customer counts")
    bench.add_argument("--out", default="bench", help="folder for data, results.json, results.md")
    bench.add_argument("--seed", type=int, default=42)
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "dbt_args", None) and args.dbt_args[0] == "--":
        args.dbt_args = args.dbt_args[1:]
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except (UserError, FileNotFoundError, PermissionError) as exc:
        print(f"clientele: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder that vanished: the user's to fix
        print(f"clientele: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clientele: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
