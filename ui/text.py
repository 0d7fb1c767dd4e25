"""Text a person typed or a data file brought, made safe for Markdown. The lowest floor of ui/: it imports
nothing from ui, so the sign-in gate (ui.auth) and the shared page helpers (ui.common) can both use it."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def md_escape(text) -> str:
    """Text a person typed (or a data file brought) made safe for Markdown: st.markdown / st.write / st.caption,
    st.success and friends, widget and expander labels, st.table cells. Every ASCII punctuation character is
    backslash-escaped (CommonMark), so no emphasis, heading, list, link, image, LaTeX, colour directive or raw
    HTML (``<``) survives and entities (``&lt;``) show as typed; line breaks become spaces."""
    flat = " ".join(str(text).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", flat)
