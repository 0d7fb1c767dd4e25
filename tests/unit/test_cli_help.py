"""The command line explains itself: `python -m analytics --help` and every command's `--help` run, and every
option and argument says what it does (analytics/__main__.py)."""

from __future__ import annotations

import argparse

import pytest

from analytics.__main__ import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_top_level_help_names_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m analytics")
    # the description's list of commands is the parser's, in the same order
    assert "{" + ",".join(_commands()) + "}" in build_parser().description


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_help_runs_and_every_option_says_what_it_does(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    assert f"usage: python -m analytics {command}" in capsys.readouterr().out
    silent = [
        a.dest
        for a in _commands()[command]._actions
        if not isinstance(a, argparse._HelpAction) and not (a.help or "").strip()
    ]
    assert not silent, f"{command}: options without help: {silent}"


def test_kpis_help_states_the_level_and_the_default_source(capsys):
    with pytest.raises(SystemExit):
        main(["kpis", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--level {sku,family}" in out and "family-months" in out
    assert "default: consensus if the data has it, else the best source there is" in out
