"""Admins: the audit log (who changed what, when, from what to what), database backups and restore, and who
may do what."""

import pandas as pd
import streamlit as st

from analytics import access, backup, db
from analytics.presentation import DATETIME, DECIMAL, Column
from ui import auth, common
from ui.tables import show_table

common.entry_guard()
st.title("Audit log & backups")
if not auth.can("backup"):
    auth.explain_refusal("backup")
    st.stop()

path = common.db_path()
log_tab, backup_tab, roles_tab = st.tabs(["Audit log", "Backups", "Who may do what"])

with log_tab:
    try:
        log = access.audit_frame(common.con())
    except db.DatabaseError as e:
        st.error(str(e))
        log = pd.DataFrame()
    if log.empty:
        st.info("Nothing has been written through the dashboard or the command line yet.")
    else:
        c1, c2 = st.columns(2)
        users = c1.multiselect("User", sorted(log["user_name"].unique()), key="ad_users")
        actions = c2.multiselect("Action", sorted(log["action"].unique()), key="ad_actions")
        keep = pd.Series(True, index=log.index)
        if users:
            keep &= log["user_name"].isin(users)
        if actions:
            keep &= log["action"].isin(actions)
        shown = log[keep]
        st.caption(f"{len(shown):,} of {len(log):,} writes, newest first. Before/after values are kept where they "
                   f"are small (up to {access.AUDIT_VALUE_LIMIT:,} characters each). Every row was written in the "
                   "same transaction as the change it describes.")
        show_table(shown, {"target": "Target"})
        common.downloads("audit_log", shown, key="ad_log")

with backup_tab:
    found = backup.list_backups(path)
    st.write(f"A copy of the database is kept before every import and every forecast run: the newest "
             f"{backup.keep_count()} are kept in `{backup.folder(path)}` (set `[backups] keep` in the access file). "
             "Restoring brings back that copy's data; the audit log is kept and records the restore, and the file "
             "being replaced is itself kept as a backup.")
    if not found:
        st.info("No backup yet: the first import or forecast run makes one.")
    else:
        show_table(pd.DataFrame([{"backup": b.path.name, "taken": b.taken_at, "before": b.reason, "MB": b.size_mb}
                                 for b in found]), {"backup": "Backup", "taken": Column("Taken (UTC)", DATETIME),
                                                    "before": "Before", "MB": Column("Size", DECIMAL, unit="MB")})
        with st.form("ad_restore"):
            name = st.selectbox("Backup to restore", [b.path.name for b in found], key="ad_backup")
            sure = st.checkbox("I understand that every change since this backup is undone (the audit log stays).",
                               key="ad_sure")
            if st.form_submit_button("Restore", type="primary"):
                if not sure:
                    st.warning("Tick the box to confirm.")
                else:
                    try:
                        with st.spinner("Restoring…"):
                            b = backup.restore(path, name, user=auth.user())
                        st.cache_data.clear()
                        st.success(f"Restored the data as it was at {b.taken_at:%Y-%m-%d %H:%M:%S} UTC "
                                   f"(before {b.reason}).")
                    except (db.DatabaseError, FileNotFoundError, PermissionError) as e:
                        st.error(common.escape(e))
    st.caption("Command line: `python -m analytics backup list` · `backup take` · `backup restore NAME`.")

with roles_tab:
    show_table(pd.DataFrame([{"action": what, "least role": need, "audit name": key}
                             for key, (need, what) in access.ACTIONS.items()]), {"audit name": "Name in the audit log"})
    try:
        cfg = access.load_config()
    except access.AccessConfigError as e:
        cfg = None
        st.error(common.escape(e))
    if cfg is None:
        st.info("No access file: the dashboard runs without sign-in and only on this machine (localhost). To serve it "
                "on the network, add users: `python -m analytics users add NAME --role admin`.")
    else:
        show_table(pd.DataFrame(
            [{"user": n, "role": s["role"], "sign-in": "password"} for n, s in sorted(cfg.users.items())]
            + [{"user": e, "role": r, "sign-in": "single sign-on"} for e, r in sorted(cfg.oidc_roles.items())]))
        st.caption(f"Access file: `{cfg.path}`. Users are added and removed on the command line "
                   "(`python -m analytics users add|remove|list`); passwords are stored only as argon2id hashes.")
