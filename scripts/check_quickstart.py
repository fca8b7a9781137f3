"""Run the README's quick start as a new user would, and check that what each command prints
matches what the README shows.

    .venv/bin/python scripts/check_quickstart.py      (run by `make test`)

The commands are the `$ ` lines of the ```console blocks in the README's "Quick start"
section, run one after another with bash in a fresh copy of the project (the files git
tracks, plus new ones not ignored; `.venv` linked, never rebuilt): no `.enrich` left over from
earlier work. The lines under a command are what it must print, in that order, among
everything it prints (stdout and stderr together); a line `...` stands for any lines left out,
and `...` inside a line for any text (a port, a duration). Each command must exit 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Quick start"
ELLIPSIS = "..."
COMMAND_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Step:
    command: str
    expected: tuple[str, ...]
    line: int  # of the command in the README, for messages


def quickstart_steps(readme: str) -> list[Step]:
    """The commands of the quick start and the lines each must print."""
    lines = readme.splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        raise SystemExit(f"README.md has no {SECTION!r} section") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    steps: list[Step] = []
    in_console = False
    command: tuple[str, int] | None = None
    expected: list[str] = []
    for number in range(start + 1, end):
        text = lines[number]
        if text.strip() == "```console":
            in_console = True
        elif text.strip() == "```" and in_console:
            in_console = False
        elif not in_console:
            continue
        elif text.startswith("$ "):
            if command is not None:
                steps.append(Step(command[0], tuple(expected), command[1]))
            command, expected = (text[2:], number + 1), []
            continue
        else:
            expected.append(text)
            continue
        if command is not None:  # a block ended: its last command is complete
            steps.append(Step(command[0], tuple(expected), command[1]))
            command, expected = None, []
    if not steps:
        raise SystemExit(f"README.md: no ```console block with `$ ` commands under {SECTION!r}")
    return steps


def _pattern(expected_line: str) -> re.Pattern[str]:
    parts = [re.escape(part.strip()) for part in expected_line.split(ELLIPSIS)]
    return re.compile(r"\s*" + r".*?".join(parts) + r"\s*")


def missing_lines(expected: tuple[str, ...], printed: str) -> list[str]:
    """The expected lines not found in `printed`, in order (an empty list: it matches).
    Whitespace at either end of a line is not compared: tables are padded to their widths."""
    actual = printed.splitlines()
    position = 0
    missing = []
    for line in expected:
        if line.strip() in ("", ELLIPSIS):
            continue
        pattern = _pattern(line)
        for index in range(position, len(actual)):
            if pattern.fullmatch(actual[index]):
                position = index + 1
                break
        else:
            missing.append(line)
    return missing


def fresh_copy(target: Path) -> None:
    """The project's files as a clean clone has them, with the working tree's content."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)  # mtimes kept: make sees .venv up to date
    (target / ".venv").symlink_to(ROOT / ".venv")


def main() -> int:
    steps = quickstart_steps((ROOT / "README.md").read_text(encoding="utf-8"))
    # The copy shares this checkout's .venv: bring it up to date here, so that `make` in the
    # copy finds it installed and never re-points it at the copy.
    subprocess.run(["make", "--quiet", "install"], cwd=ROOT, check=True)
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ENRICH_", "DAGSTER_", "OPENAI_"))  # a new user's shell
    }
    environment["TERM"] = "dumb"
    failures = 0
    with tempfile.TemporaryDirectory(prefix="quickstart-") as folder:
        workdir = Path(folder)
        fresh_copy(workdir)
        for step in steps:
            started = time.monotonic()
            result = subprocess.run(
                ["bash", "-c", step.command], cwd=workdir, env=environment, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=COMMAND_TIMEOUT_SECONDS,
            )  # fmt: skip
            took = time.monotonic() - started
            missing = missing_lines(step.expected, result.stdout)
            if result.returncode == 0 and not missing:
                print(f"ok    README.md:{step.line}  $ {step.command}  ({took:.1f}s)")
                continue
            failures += 1
            print(f"FAIL  README.md:{step.line}  $ {step.command}  (exit {result.returncode})")
            for line in missing:
                print(f"      the README shows, the command did not print: {line.strip()}")
            print(
                "      it printed:\n"
                + "\n".join(f"      | {x}" for x in result.stdout.splitlines())
            )
    print(f"quick start: {len(steps) - failures}/{len(steps)} commands as the README shows")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
