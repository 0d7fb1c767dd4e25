"""Roles, the server-side check on every write path, the audit log and backups."""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
from datetime import date

import pytest

import analytics
from analytics import __main__ as cli
from analytics import access, backup, db, demand, ingest, kpis

VIEWER = access.User("vera", "viewer")
PLANNER = access.User("paul", "planner")
ADMIN = access.User("ada", "admin")


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_write_functions() -> dict[str, object]:
    """Every function in the analytics package decorated with access.requires, found by walking the package."""
    found = {}
    for mod in pkgutil.walk_packages(analytics.__path__, "analytics."):
        if mod.name.endswith("__main__"):
            continue
        m = importlib.import_module(mod.name)
        for name, obj in vars(m).items():
            if callable(obj) and hasattr(obj, "write_action") and getattr(obj, "__module__", None) == m.__name__:
                found[f"{m.__name__}.{name}"] = obj
    return found


def small_folder(tmp_path):
    """A complete, tiny replace-mode import: one product, one customer, one order line."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "products.csv").write_text("sku,name,family,unit_cost,unit_price,work_center,hours_per_unit\n"
                                         "Z,Zed,F9,1,2,W1,0.1\n")
    (folder / "customers.csv").write_text("customer_id,name,region,segment\nK1,Kay,North,Retail\n")
    (folder / "orders.csv").write_text("order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,"
                                       "quantity,unit_price\nQ1,1,K1,Z,2026-03-01,2026-03-05,2026-03-05,2,2\n")
    return folder


EXPECTED_WRITES = {
    "analytics.backup.restore": "backup",
    "analytics.demand.save_override": "override",
    "analytics.demo.build_demo": "demo",
    "analytics.forecasting.batch.backfill": "forecast",
    "analytics.forecasting.batch.run_forecast": "forecast",
    "analytics.ingest.write.import_folder": "import",
    "analytics.ingest.write.import_frames": "import",
    "analytics.ingest.map.save_mapping": "mapping",
    "analytics.ingest.mapfile.save_mapping_file": "mapping",
    "analytics.ingest.write.import_mapped": "import",
    "analytics.kpis.save_targets": "targets",
    "analytics.planning.requests.answer_request": "request",
    "analytics.planning.requests.create_request": "request",
    "analytics.planning.scenarios.store.mark_recommended": "scenario",
    "analytics.planning.scenarios.store.save_scenario": "scenario",
    "analytics.planning.store.save_plan": "plan",
    "analytics.summit.decisions.add_decision": "decision",
    "analytics.summit.decisions.record_pulse": "pulse",
    "analytics.summit.decisions.update_action": "action",
    "analytics.summit.store.start_summit": "summit",
}


def test_every_write_path_is_guarded_with_the_expected_action():
    found = {k: f.write_action for k, f in all_write_functions().items()}
    assert found == EXPECTED_WRITES


@pytest.mark.parametrize("name", sorted(EXPECTED_WRITES))
def test_each_write_function_refuses_a_viewer_and_changes_nothing(tiny_db, name):
    fn = all_write_functions()[name]
    before = digest(tiny_db)
    # The check runs before the body: placeholder arguments are never looked at.
    with pytest.raises(access.PermissionDenied, match=r"vera \(viewer\) may not"):
        fn(tiny_db, *([None] * 6), user=VIEWER)
    assert digest(tiny_db) == before
    assert not (tiny_db.parent / "backups").exists()


@pytest.mark.parametrize("name", sorted(EXPECTED_WRITES))
def test_each_write_function_refuses_without_a_user(tiny_db, name):
    fn = all_write_functions()[name]
    with access.default_user(None), pytest.raises(access.PermissionDenied, match="Not signed in"):
        fn(tiny_db, *([None] * 6))


def test_role_ladder():
    planner_may = {a for a in access.ACTIONS if PLANNER.can(a)}
    assert planner_may == {"forecast", "override", "plan", "scenario", "request"}
    assert all(ADMIN.can(a) for a in access.ACTIONS)
    assert not any(VIEWER.can(a) for a in access.ACTIONS)
    with pytest.raises(access.PermissionDenied, match="needs the admin role"):
        kpis.save_targets(None, {}, user=PLANNER)


def test_the_writer_refuses_a_write_outside_a_checked_function(tiny_db):
    before = digest(tiny_db)
    with pytest.raises(access.PermissionDenied, match="outside a checked write function"):
        with db.writer(tiny_db) as con:
            con.execute("DELETE FROM orders")
    assert digest(tiny_db) == before


def test_override_writes_one_audit_row_with_before_and_after(tiny_db):
    # A's consensus for 2026-04 in the tiny company is 9 (conftest TINY_ROWS).
    changed = demand.save_override(tiny_db, "sku", "A", {date(2026, 4, 1): 12}, "units", "Promo at C1", "Paul",
                                   snapshot_date=date(2026, 3, 20), user=PLANNER)
    assert changed == 1
    con = db.open_reader(tiny_db)
    log = access.audit_frame(con)
    row = log.iloc[0]
    assert (row["user_name"], row["role"], row["action"], row["target"]) == ("paul", "planner", "override", "sku A")
    assert json.loads(row["before_json"]) == {"2026-04-01": 9.0}
    assert json.loads(row["after_json"]) == {"2026-04-01": 12.0}
    assert json.loads(row["details_json"])["reason"] == "Promo at C1"


def test_failed_write_leaves_no_audit_row(tiny_db):
    n = len(access.audit_frame(db.open_reader(tiny_db)))
    with pytest.raises(ValueError):
        demand.save_override(tiny_db, "sku", "NOPE", {date(2026, 4, 1): 9}, "units", "x", "Paul", user=PLANNER)
    assert len(access.audit_frame(db.open_reader(tiny_db))) == n


def test_targets_audit_keeps_old_and_new_values(tiny_db):
    old = kpis.targets(db.open_reader(tiny_db))["nps"]
    kpis.save_targets(tiny_db, {"nps": (40.0, 5.0)}, user=ADMIN)
    row = access.audit_frame(db.open_reader(tiny_db)).iloc[0]
    assert row["action"] == "targets" and row["target"] == "nps"
    assert json.loads(row["after_json"]) == {"nps": [40.0, 5.0]}
    assert json.loads(row["before_json"]) == {"nps": list(old)}


def test_audit_log_survives_a_replace_all_import_and_a_new_demo(tiny_db, tmp_path):
    kpis.save_targets(tiny_db, {"nps": (40.0, 5.0)}, user=ADMIN)
    folder = small_folder(tmp_path)
    report = ingest.import_folder(tiny_db, folder, mode="replace", user=ADMIN)
    assert report.ok, report.as_text()
    log = access.audit_frame(db.open_reader(tiny_db))
    assert log["action"].tolist()[:2] == ["import", "targets"]
    assert json.loads(log.iloc[0]["after_json"]) == {"products": 1, "customers": 1, "orders": 1}
    assert json.loads(log.iloc[0]["before_json"])["products"] == 3


def test_imports_keep_backups_pruned_to_n_and_restore_keeps_the_audit_log(tiny_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_ACCESS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SOP_BACKUPS_KEEP", "2")
    original_orders = db.open_reader(tiny_db).execute("SELECT count(*) FROM orders").fetchall()[0][0]
    folder = small_folder(tmp_path)
    assert ingest.import_folder(tiny_db, folder, mode="replace", user=ADMIN).ok
    assert db.open_reader(tiny_db).execute("SELECT count(*) FROM orders").fetchall()[0][0] == 1
    found = backup.list_backups(tiny_db)
    assert [b.reason for b in found] == ["import"]
    # The backup is the database as it was before the import.
    assert db.open_reader(found[0].path).execute("SELECT count(*) FROM orders").fetchall()[0][0] == original_orders
    # Keep 2: a third and fourth write that back up leave the newest two.
    assert ingest.import_folder(tiny_db, folder, mode="upsert", user=ADMIN).ok
    assert ingest.import_folder(tiny_db, folder, mode="upsert", user=ADMIN).ok
    assert len(backup.list_backups(tiny_db)) == 2
    oldest = backup.list_backups(tiny_db)[-1]
    with pytest.raises(access.PermissionDenied):
        backup.restore(tiny_db, oldest.path.name, user=PLANNER)
    version_before = db.data_version(db.open_reader(tiny_db))
    backup.restore(tiny_db, found[0].path.name if found[0].path.exists() else oldest.path.name, user=ADMIN)
    con = db.open_reader(tiny_db)
    assert db.data_version(con) == version_before + 1, "the version keeps counting so caches re-read"
    log = access.audit_frame(con)
    assert log.iloc[0]["action"] == "backup" and log.iloc[0]["user_name"] == "ada"
    # The fixture's own write and the three imports: the audit log is the current one, not the backup's.
    assert (log["action"] == "import").sum() == 4


def test_restore_of_the_first_backup_brings_back_the_original_rows(tiny_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SOP_ACCESS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("SOP_BACKUPS_KEEP", "1")
    n_orders = db.open_reader(tiny_db).execute("SELECT count(*) FROM orders").fetchall()[0][0]
    folder = small_folder(tmp_path)
    assert ingest.import_folder(tiny_db, folder, mode="replace", user=ADMIN).ok
    (only,) = backup.list_backups(tiny_db)
    # keep = 1 and the restore itself backs up first: the backup being restored must not be pruned before use.
    backup.restore(tiny_db, only.path.name, user=ADMIN)
    assert db.open_reader(tiny_db).execute("SELECT count(*) FROM orders").fetchall()[0][0] == n_orders


def test_cli_backup_list_and_restore(tiny_db, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOP_ACCESS", str(tmp_path / "none.toml"))
    assert cli.main(["backup", "take", "--db", str(tiny_db)]) == 0
    assert capsys.readouterr().out.startswith("kept ")
    assert cli.main(["backup", "list", "--db", str(tiny_db)]) == 0
    out = capsys.readouterr().out
    name = out.split()[0]
    assert name.startswith("tiny.duckdb.") and "manual" in out
    assert cli.main(["backup", "restore", name, "--db", str(tiny_db)]) == 0
    assert cli.main(["audit", "--db", str(tiny_db)]) == 0
    assert "backup" in capsys.readouterr().out
    csv_path = tmp_path / "audit.csv"
    assert cli.main(["audit", "--db", str(tiny_db), "--csv", str(csv_path)]) == 0
    assert csv_path.read_text(encoding="utf-8-sig").startswith("audit_id,")


def test_passwords_are_stored_only_as_argon2id_hashes(tmp_path):
    path = tmp_path / "access.toml"
    access.save_user("alice", "planner", "correct horse battery", path)
    text = path.read_text()
    assert "correct horse" not in text and "$argon2id$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    cfg = access.load_config(path)
    assert access.authenticate(cfg, "alice", "correct horse battery") == access.User("alice", "planner", "password")
    assert access.authenticate(cfg, "alice", "wrong password") is None
    assert access.authenticate(cfg, "mallory", "correct horse battery") is None
    with pytest.raises(access.AccessConfigError, match="at least 8"):
        access.save_user("bob", "viewer", "short", path)
    assert access.remove_user("alice", path)


def test_cli_users_add_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    import io

    path = tmp_path / "access.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    assert cli.main(["users", "add", "ops", "--role", "admin", "--file", str(path), "--password-stdin"]) == 0
    assert access.authenticate(access.load_config(path), "ops", "s3cret-enough").role == "admin"


def test_malformed_access_files_are_named(tmp_path):
    p = tmp_path / "access.toml"
    p.write_text('[users.x]\nrole = "boss"\npassword_hash = "h"\n')
    with pytest.raises(access.AccessConfigError, match="user 'x' needs role"):
        access.load_config(p)
    p.write_text("not = [toml")
    with pytest.raises(access.AccessConfigError, match="not valid TOML"):
        access.load_config(p)
    p.write_text('[oidc]\ndefault_role = "viewer"\n[oidc.roles]\n"Boss@Example.com" = "admin"\n')
    cfg = access.load_config(p)
    assert access.oidc_user(cfg, "boss@example.com").role == "admin"
    assert access.oidc_user(cfg, "someone@example.com").role == "viewer"


def test_loopback_detection():
    assert access.is_loopback("localhost") and access.is_loopback("127.0.0.1") and access.is_loopback("::1")
    assert not access.is_loopback(None) and not access.is_loopback("") and not access.is_loopback("0.0.0.0")


def test_a_forecast_run_keeps_a_backup_first(tiny_db, tmp_path, monkeypatch):
    from analytics.forecasting import batch

    monkeypatch.setenv("SOP_ACCESS", str(tmp_path / "none.toml"))
    with pytest.raises(access.PermissionDenied):
        batch.run_forecast(tiny_db, 3, workers=1, user=VIEWER)
    batch.run_forecast(tiny_db, 3, workers=1, user=PLANNER)
    (b,) = backup.list_backups(tiny_db)
    assert b.reason == "forecast"
    assert db.open_reader(b.path).execute("SELECT count(*) FROM forecast_runs").fetchall()[0][0] == 0
    assert db.open_reader(tiny_db).execute("SELECT count(*) FROM forecast_runs").fetchall()[0][0] == 1
    row = access.audit_frame(db.open_reader(tiny_db)).iloc[0]
    assert (row["action"], row["user_name"], row["target"]) == ("forecast", "paul", "forecast run 1")


def test_sign_in_throttle_counts_failures_per_name_in_a_window():
    now = [1000.0]
    t = access.SignInThrottle(limit=5, window=900, clock=lambda: now[0])
    for _ in range(4):
        t.failed("Vera")
        now[0] += 10
    assert t.wait_seconds("vera") == 0  # four failures: may still try (names compare case-insensitively)
    t.failed("vera")  # the fifth, at t=1040; the first was at t=1000
    assert t.wait_seconds("VERA") == 1000 + 900 - 1040
    assert t.wait_seconds("ada") == 0  # other names are not affected
    now[0] = 1000 + 900  # the first failure has left the window: four remain
    assert t.wait_seconds("vera") == 0
    t.failed("vera")
    assert t.wait_seconds("vera") > 0
    t.succeeded("vera")  # a good sign-in clears the count
    assert t.wait_seconds("vera") == 0
