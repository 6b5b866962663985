"""The CLI's help frame is Vietnamese too: click's own words and every placeholder."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from dxkit.cli import cli
from dxkit.core import i18n

# Words of click's English frame that must never show in Vietnamese help.
ENGLISH_FRAME = re.compile(r"\b(Usage|Options|Commands|default|required|OPTIONS|COMMAND|ARGS|"
                           r"TEXT|DIRECTORY|FILE|INTEGER|FLOAT|RANGE|version)\b")


def commands(group: click.Group = cli, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[str, ...]]:
    yield path
    ctx = click.Context(group, info_name="dxkit")
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if isinstance(sub, click.Group):
            yield from commands(sub, (*path, name))
        elif sub is not None:
            yield (*path, name)


@pytest.fixture
def vietnamese() -> Iterator[None]:
    before = i18n.language()
    i18n.set_language("vi")
    yield
    i18n.set_language(before)


@pytest.mark.parametrize("path", list(commands()), ids=lambda p: " ".join(p) or "dxkit")
def test_help_has_no_english_frame(path: tuple[str, ...]):
    result = CliRunner().invoke(cli, ["--lang", "vi", *path, "--help"], prog_name="dxkit")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Cách dùng: dxkit")
    frame = "\n".join(line for line in result.output.splitlines()
                      if line.startswith(("Cách dùng", "  -")) or line.endswith(":"))
    # Option names (--json) and choice values (csv|xlsx) are typed as they are: drop them.
    frame = re.sub(r"--[\w-]+|\b[A-Z_]+(\|[A-Z_]+)+\b", "", frame)
    assert not ENGLISH_FRAME.search(frame), frame


def test_defaults_are_shown_in_vietnamese():
    result = CliRunner().invoke(cli, ["--lang", "vi", "households", "search", "--help"])
    assert "[mặc định: 50]" in result.output
    assert "[default" not in result.output


def test_version_is_vietnamese_and_english():
    assert "phiên bản" in CliRunner().invoke(cli, ["--lang", "vi", "--version"]).output
    assert "version" in CliRunner().invoke(cli, ["--lang", "en", "--version"]).output


def test_english_help_keeps_the_english_frame():
    result = CliRunner().invoke(cli, ["--lang", "en", "households", "search", "--help"],
                                prog_name="dxkit")
    assert result.output.startswith("Usage: dxkit households search [OPTIONS] QUERY")
