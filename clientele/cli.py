"""`clientele` command line: load datasets into the raw contract, make the demo brand, run dbt.

Errors a user can fix are printed as one line (`clientele: ...`) with exit code 2,
never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from clientele.errors import UserError

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _cmd_load(args: argparse.Namespace) -> int:
    from clientele import loaders

    if args.source == "olist":
        report = loaders.load_olist(Path(args.path), Path(args.out))
    else:
        report = loaders.load_online_retail(Path(args.path), Path(args.out))
    print(loaders.format_report(report))
    return 0


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
    vars_yaml = "{" + ", ".join(f"{k}: '{v}'" for k, v in all_vars.items()) + "}"
    return [
        dbt, *verb.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--vars", vars_yaml, *extra,
    ]


def _cmd_build(args: argparse.Namespace) -> int:
    raw = Path(args.raw)
    if not (raw / "orders.parquet").exists():
        raise UserError(f"{raw}: not a raw folder (no orders.parquet); run `clientele load` first")
    env = dict(os.environ)
    if args.db:
        env["CLIENTELE_DB"] = str(Path(args.db).resolve())
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    else:
        (PROJECT_DIR / "warehouse").mkdir(exist_ok=True)
    extra = list(args.dbt_args)
    if args.target_path:
        extra += ["--target-path", args.target_path]
    vars_ = {"as_of": args.as_of} if args.as_of else None
    cmd = dbt_command(args.verb, raw, extra, vars_)
    return subprocess.call(cmd, env=env, cwd=PROJECT_DIR)


def _cmd_bench(args: argparse.Namespace) -> int:
    from clientele import bench

    return bench.main(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from clientele import export

    names = [n.strip() for n in args.tables.split(",") if n.strip()] if args.tables else None
    manifest = export.publish(
        Path(args.db), Path(args.out), export.select_tables(names), keep=args.keep
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

    load = sub.add_parser("load", help="convert a public dataset into the raw contract")
    load.add_argument("source", choices=["olist", "online-retail"])
    load.add_argument("path", help="Olist CSV folder, or an Online Retail .parquet/.csv/.xlsx file")
    load.add_argument("--out", required=True, help="raw folder to write (replaced atomically)")
    load.set_defaults(func=_cmd_load)

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
    build.add_argument("--target-path", help="dbt target folder (default target/)")
    build.add_argument("--verb", default="build", help="dbt command: build, run, test, 'docs generate', ...")
    build.add_argument("dbt_args", nargs=argparse.REMAINDER, help="passed to dbt after --")
    build.set_defaults(func=_cmd_build)

    export = sub.add_parser("export", help="publish the public marts as Parquet, atomically")
    export.add_argument("--db", default="warehouse/clientele.duckdb", help="DuckDB file to read")
    export.add_argument("--out", default="exports", help="exports folder (readers use OUT/current)")
    export.add_argument("--tables", help="comma-separated tables (default: clientele.export)")
    export.add_argument("--keep", type=int, default=3, help="complete sets kept on disk (>= 2)")
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
    except KeyboardInterrupt:
        print("clientele: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
