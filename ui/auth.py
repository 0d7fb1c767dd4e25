"""Who is using this session: the sign-in gate and the role checks pages use to show or hide write controls.

Hiding a control is a courtesy; the rule is enforced in the analytics layer (``analytics.access.requires``
on every write function), which refuses a write by a role that may not do it whatever the page shows.

* No access file, served on localhost: no sign-in, everyone is ``access.LOCAL`` (admin).
* No access file, served on the network (``server.address`` unset or not loopback): the app refuses to
  serve any page and says how to write the file.
* An access file: sign-in with a user name and password (argon2id hashes), or single sign-on through
  ``st.login`` when the site configured ``[auth]`` in ``.streamlit/secrets.toml`` and ``[oidc]`` roles.
"""

from __future__ import annotations

import streamlit as st

from analytics import access
from ui.text import md_escape

_KEY = "_sop_user"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all (FileNotFoundError / StreamlitSecretNotFoundError)
        return False


def known_user() -> access.User | None:
    """The session's user without drawing anything: the signed-in user, ``access.LOCAL`` in the local no-login
    mode, or None while someone still has to sign in (or the app refuses to serve, or the access file is bad).

    app.py calls it before ``st.navigation`` so that the navigation (and so a deep link such as /summit) is known
    before the sign-in form is drawn: the page asked for is the page shown once signed in."""
    user = st.session_state.get(_KEY)
    if isinstance(user, access.User):
        return user
    try:
        cfg = access.load_config()
    except access.AccessConfigError:
        return None
    if cfg is None and access.is_loopback(st.get_option("server.address")):
        st.session_state[_KEY] = access.LOCAL
        return access.LOCAL
    return None


def gate() -> access.User:
    """The signed-in user; draws the sign-in form (or the refusal) and stops the script until there is one."""
    user = known_user()
    if user is not None:
        return user
    try:
        cfg = access.load_config()
    except access.AccessConfigError as e:
        st.error(f"The access file cannot be read, so nobody can sign in: {e}")
        st.stop()
    if cfg is None:
        st.error(access.no_config_message(st.get_option("server.address")))
        st.stop()
    _sign_in(cfg)
    st.stop()


def _sign_in(cfg: access.AccessConfig) -> None:
    st.title("Sign in to the S&OP dashboard")
    if cfg.uses_oidc and _oidc_configured():
        if st.user.is_logged_in:
            user = access.oidc_user(cfg, st.user.get("email"), st.user.get("name"))
            if user is not None:
                st.session_state[_KEY] = user
                st.rerun()
            st.error(f"{md_escape(st.user.get('email'))} has no role on this dashboard. "
                     "Ask an admin to add you to the access file.")
            st.button("Sign out", on_click=st.logout)
            return
        st.button("Sign in with your company account", type="primary", on_click=st.login)
    if cfg.users:
        with st.form("sign_in"):
            name = st.text_input("User name", key="signin_name")
            password = st.text_input("Password", type="password", key="signin_password")
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            name = name.strip()
            wait = access.SIGN_IN_THROTTLE.wait_seconds(name)
            if wait > 0:
                st.error(f"Too many failed sign-ins for this user name. Try again in {int(wait // 60) + 1} "
                         "minutes, or ask an admin to check the access file.")
                return
            user = access.authenticate(cfg, name, password)
            if user is None:
                access.SIGN_IN_THROTTLE.failed(name)
                st.error("Unknown user name or wrong password.")
            else:
                access.SIGN_IN_THROTTLE.succeeded(name)
                st.session_state[_KEY] = user
                st.session_state.pop("signin_password", None)
                st.rerun()


def user() -> access.User:
    """The session's user (runs the gate when a page is run without app.py, e.g. in tests)."""
    return gate()


def display_name() -> str:
    """The name to prefill in "who" fields: the signed-in user, blank in the local no-login mode."""
    u = user()
    return "" if u.source == "local" else u.name


def can(action: str) -> bool:
    return user().can(action)


def explain_refusal(action: str) -> None:
    """A short note where a write control would be, for users whose role may not use it."""
    need, what = access.ACTIONS[action]
    u = user()
    st.caption(f":material/lock: Signed in as {md_escape(u.name)} ({u.role}): to {what} you need the {need} role.")


def sidebar() -> None:
    """Who is signed in, and sign out (not shown for the local no-login mode)."""
    u = user()
    if u.source == "local":
        return
    with st.sidebar:
        st.caption(f"Signed in as **{md_escape(u.name)}** ({u.role})")
        if st.button("Sign out", key="sign_out"):
            st.session_state.pop(_KEY, None)
            if u.source == "oidc":
                st.logout()
            st.rerun()
