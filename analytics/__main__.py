"""Command line: python -m analytics {demo,import,kpis,forecast,promise,users,backup,audit,docs} ...

This is what a site runs every month to refresh the data from its ERP exports. `--help` after a command says
what each of its options does.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from analytics import db


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {s!r}") from e


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_db(p):
        p.add_argument("--db", help=f"DuckDB file (default: $SOP_DB or {db.DEFAULT_DB})")

    p = sub.add_parser("demo", help="generate the demo company into a database (replaces its data), with a current "
                       "forecast run and last month's summit held")
    add_db(p)
    p.add_argument("--scale", type=float, default=1.0, help="multiply customers and order lines (80 gives ~10 million lines)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed and as-of give the same company)")
    p.add_argument("--as-of", type=_date, help="last day of history (default: last day of the previous month)")
    p.add_argument("--if-missing", action="store_true", help="do nothing if the database already exists")
    p.add_argument("--data-only", action="store_true",
                   help="only the data: no forecast run and no summit held last month (a first start has both)")

    p = sub.add_parser("import", help="load a folder of CSV/XLSX/Parquet files: named after the contract tables, "
                                      "or any files with a mapping file")
    add_db(p)
    p.add_argument("folder", help="folder with products.csv, customers.xlsx, orders.parquet, ... or the files the "
                                  "mapping names")
    p.add_argument("--mapping", help="a mapping file (TOML): which file or SQL feeds each table and column "
                                     "(see the README and mappings/)")
    p.add_argument("--mode", choices=["replace", "upsert"], default="replace",
                   help="replace: the folder becomes the data (tables without a file are emptied, except the forecast "
                        "history, which is kept); "
                        "upsert: rows are inserted or replace the row with the same key")
    p.add_argument("--source", help="name of a saved source system: its mapping file (saved from the import page) "
                                    "or its saved column mappings")

    p = sub.add_parser("kpis", help="compute the KPIs for a date range")
    add_db(p)
    p.add_argument("--start", type=_date, required=True, help="first day of the range")
    p.add_argument("--end", type=_date, required=True, help="last day of the range")
    p.add_argument("--as-of", type=_date, help="as-of date (default: latest date in the data)")
    p.add_argument("--lag", type=int, default=1, help="forecast lag in months (default 1)")
    p.add_argument("--source", help="forecast source (default: consensus if the data has it, else the best source "
                                    "there is: statistical, then sales; the output says which)")
    p.add_argument("--level", choices=["sku", "family"], default="sku",
                   help="forecast accuracy and bias over sku-months (default) or family-months (a family's SKUs "
                        "summed first)")
    for name in ("family", "sku", "region", "segment", "customer", "work-center"):
        p.add_argument(f"--{name}", action="append", help=f"filter on {name} (repeat for several)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")

    p = sub.add_parser(
        "forecast",
        help="forecast every active SKU and family into a new statistical snapshot, or any series from a CSV",
        description="With --db: forecast every active SKU (and family) from the order history, write a "
        "'statistical' snapshot dated the as-of date, the model leaderboard and the backtests. With --input: "
        "forecast a long CSV (series_id, period, value) into --output (series_id, period, model, forecast, "
        "lo80, hi80, lo95, hi95).",
    )
    add_db(p)
    p.add_argument("--horizon", type=int, default=18, help="months ahead (default 18)")
    p.add_argument("--as-of", type=_date, help="as-of date (default: latest date in the data)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument("--dask", metavar="ADDRESS", help="run the batch on a Dask cluster (e.g. tcp://scheduler:8786)")
    p.add_argument(
        "--input",
        help="CSV with series_id, period, value (also unique_id, ds, y or sku, date, qty; period a date or a "
        "month number 1, 2, 3 ...), forecast instead of the database",
    )
    p.add_argument("--output", help="where --input mode writes its forecasts (CSV)")
    p.add_argument("--model", default="auto", metavar="MODEL",
                   help="auto (default: per demand class, backtested) or one model for every series: Combo, ARIMA, "
                   "ETS, DampedETS, Theta, ThetaQ, HoltWinters, SES, SeasonalNaive, Naive, MovingAverage, IMAPA, ADIDA, "
                   "TSB, SBA, Croston")
    p.add_argument("--backfill", type=int, metavar="N",
                   help="instead of one run: a statistical snapshot as of each of the last N month-ends, each from "
                        "the orders before it only (forecast accuracy and value added from the first import)")

    p = sub.add_parser(
        "promise",
        help="can an order line ship on a date? available-to-promise / capable-to-promise against a fresh plan",
    )
    add_db(p)
    p.add_argument("--sku", required=True, help="the SKU ordered")
    p.add_argument("--qty", type=float, required=True, help="the quantity ordered")
    p.add_argument("--date", type=_date, required=True, help="the requested date (YYYY-MM-DD)")
    p.add_argument("--price", type=float, help="the quoted unit price (default: the product's list price)")
    p.add_argument("--strategy", choices=["chase", "level", "optimised"], default="optimised",
                   help="the plan to promise against (default optimised)")
    p.add_argument("--horizon", type=int, default=18, help="plan months (default 18)")
    p.add_argument("--as-of", type=_date, help="as-of date (default: latest date in the data)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("users", help="add, remove or list the users of the access file (roles viewer/planner/admin)")
    p.add_argument("action", choices=["add", "remove", "list", "example"],
                   help="add NAME (asks for a password; an existing NAME gets the new role and password), remove "
                   "NAME, list the users, or print an example access file")
    p.add_argument("name", nargs="?", help="user name (add/remove)")
    p.add_argument("--role", choices=["viewer", "planner", "admin"], default="viewer",
                   help="for add (default viewer): a viewer reads; a planner also runs forecasts, overrides, "
                   "saves plans and scenarios and raises requests; an admin also imports, holds summits, sets "
                   "targets and takes or restores backups")
    p.add_argument("--file", help="access file (default: $SOP_ACCESS or access.toml)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead of asking")

    p = sub.add_parser("backup", help="list, take or restore the database copies kept before imports and forecast runs")
    add_db(p)
    p.add_argument("action", choices=["list", "take", "restore"],
                   help="list the kept copies, take a copy now, or restore the copy NAME (the current file is "
                   "copied first)")
    p.add_argument("name", nargs="?", help="the backup file name to restore (see `backup list`)")

    p = sub.add_parser("audit", help="print or export the audit log (who changed what, when)")
    add_db(p)
    p.add_argument("--limit", type=int, default=50, help="newest rows to print (default 50; 0 = all)")
    p.add_argument("--csv", help="write the whole log to this CSV file instead")

    p = sub.add_parser("docs", help="regenerate the README's data-contract and KPI-definition sections from the code")
    p.add_argument("--write", default="README.md", help="the README to update (default README.md)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from analytics import access

    with access.default_user(access.SYSTEM):  # whoever can run the CLI can already write the database file
        return _run(args)


def _run(args) -> int:
    from analytics import access

    try:
        if args.command == "demo":
            from analytics import demo

            path = db.resolve_db_path(args.db)
            if args.if_missing and path.exists():
                print(f"{path} exists; leaving it as it is.")
                return 0
            summary = demo.build_demo(path, scale=args.scale, seed=args.seed, as_of=args.as_of, progress=_progress)
            if not args.data_only:  # a first start tells its story: a forecast run, last month's summit held
                try:
                    summary["first_start"] = demo.first_start(path, progress=_progress)
                except Exception as e:  # noqa: BLE001 - the data is built and usable: say so, do not fail `make run`
                    print(f"\nwarning: the demo data is built, but its first-start story (forecast run, last "
                          f"month's summit) could not be made: {type(e).__name__}: {e}", file=sys.stderr)
            print(json.dumps(summary, indent=2, default=str))
            return 0
        if args.command == "import":
            from analytics import ingest

            report = ingest.import_folder(args.db, args.folder, mode=args.mode, source=args.source,
                                          mapping=args.mapping, progress=_progress)
            print(report.as_text())
            return 0 if report.ok else 1
        if args.command == "kpis":
            from analytics import kpis

            return kpis.cli(args)
        if args.command == "forecast":
            from analytics.forecasting import batch

            if args.horizon < 1:
                print("error: --horizon must be at least 1", file=sys.stderr)
                return 2
            if args.model not in batch.MODEL_CHOICES:
                print(f"error: --model must be one of: {', '.join(batch.MODEL_CHOICES)}", file=sys.stderr)
                return 2
            if args.input:
                if not args.output:
                    print("error: --input needs --output", file=sys.stderr)
                    return 2
                out = batch.forecast_csv(args.input, args.output, args.horizon, workers=args.workers,
                                         dask_address=args.dask, progress=_progress, model=args.model)
                print(f"wrote {len(out):,} rows for {out['series_id'].nunique():,} series to {args.output}")
                return 0
            if args.backfill is not None:
                if args.backfill < 1:
                    print("error: --backfill must be at least 1", file=sys.stderr)
                    return 2
                report = batch.backfill(args.db, args.backfill, args.horizon, as_of=args.as_of,
                                        workers=args.workers, dask_address=args.dask, progress=_progress,
                                        model=args.model)
                print(report.as_text())
                return 0
            report = batch.run_forecast(args.db, args.horizon, as_of=args.as_of, workers=args.workers,
                                        dask_address=args.dask, progress=_progress, model=args.model)
            print(report.as_text())
            return 0
        if args.command == "promise":
            from analytics.planning import requests as planning_requests

            return planning_requests.promise_cli(args)
        if args.command == "users":
            return _users(args)
        if args.command == "backup":
            from analytics import backup

            path = db.resolve_db_path(args.db)
            if args.action == "list":
                found = backup.list_backups(path)
                for b in found:
                    print(f"{b.path.name}  {b.taken_at:%Y-%m-%d %H:%M:%S} UTC  before {b.reason:<8} {b.size_mb:8.1f} MB")
                print(f"{len(found)} backup(s) in {backup.folder(path)} (keeping the newest {backup.keep_count()})")
                return 0
            if args.action == "take":
                made = backup.take_now(path, "manual")
                print(f"kept {made}" if made else "backups are turned off ([backups] keep = 0)")
                return 0
            if not args.name:
                print("error: backup restore needs the backup's name (see `backup list`)", file=sys.stderr)
                return 2
            b = backup.restore(path, args.name)
            print(f"restored {path} from {b.path.name} (taken {b.taken_at:%Y-%m-%d %H:%M:%S} UTC, before {b.reason}); "
                  "the file it replaced is kept as a backup too")
            return 0
        if args.command == "audit":
            from analytics import exports

            con = db.open_reader(args.db)
            try:
                log = access.audit_frame(con, None if (args.csv or args.limit == 0) else args.limit)
            finally:
                con.close()
            if args.csv:
                with open(args.csv, "wb") as fh:
                    fh.write(exports.to_csv_bytes(log))
                print(f"wrote {len(log):,} audit rows to {args.csv}")
            else:
                print(log.drop(columns=["details_json"]).to_string(index=False) if len(log) else "the audit log is empty")
            return 0
        if args.command == "docs":
            from pathlib import Path

            from analytics import docs

            docs.write(Path(args.write))
            print(f"updated {args.write}")
            return 0
    except (db.DatabaseError, ValueError, FileNotFoundError, PermissionError) as e:  # a message, not a traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 1


def _users(args) -> int:
    import getpass

    from analytics import access

    path = args.file or access.access_file()
    if args.action == "example":
        print(access.EXAMPLE)
        return 0
    if args.action == "list":
        cfg = access.load_config(path)
        if cfg is None:
            print(f"no access file at {path}: the app runs without login on localhost only")
            return 0
        for name, spec in sorted(cfg.users.items()):
            print(f"{name:<24} {spec['role']}")
        for email, role in sorted(cfg.oidc_roles.items()):
            print(f"{email:<24} {role} (single sign-on)")
        return 0
    if not args.name:
        print(f"error: users {args.action} needs a user name", file=sys.stderr)
        return 2
    if args.action == "remove":
        print(f"removed {args.name}" if access.remove_user(args.name, path) else f"no user {args.name} in {path}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    written = access.save_user(args.name, args.role, password, path)
    print(f"{args.name} ({args.role}) saved in {written} (argon2id hash only)")
    return 0


def _progress(fraction: float, message: str) -> None:
    width = 30
    done = int(round(fraction * width))
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {fraction:5.0%} {message[:60]:<60}")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
