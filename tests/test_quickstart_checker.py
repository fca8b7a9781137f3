"""The checker of the README's quick start (`scripts/check_quickstart.py`): what it reads
from the README and when it says a command's output matches."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_quickstart.py"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_quickstart", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_quickstart"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


README = """# project

## Quick start

```console
$ make demo
serving ... demo websites
...
demo finished in ...s
```

Then:

```console
$ enrich status
credits  100
$ enrich quality
```

```
$ not a console block: not run
```

## Next section

```console
$ not in the quick start
```
"""


def test_reads_the_commands_and_their_output_from_the_quick_start(checker: ModuleType) -> None:
    steps = checker.quickstart_steps(README)
    assert [(step.command, step.expected, step.line) for step in steps] == [
        ("make demo", ("serving ... demo websites", "...", "demo finished in ...s"), 6),
        ("enrich status", ("credits  100",), 15),
        ("enrich quality", (), 17),
    ]


def test_the_readme_has_a_quick_start_the_checker_can_run(checker: ModuleType) -> None:
    steps = checker.quickstart_steps((SCRIPT.parent.parent / "README.md").read_text())
    assert steps and all(step.command for step in steps)


@pytest.mark.parametrize(
    ("printed", "missing"),
    [
        ("serving 220 demo websites\nother\ndemo finished in 31.8s\n", []),
        ("  serving 3 demo websites   \ndemo finished in 1s", []),  # padding is not compared
        ("demo finished in 31.8s\nserving 220 demo websites\n", ["demo finished in ...s"]),
        ("serving 220 demo sites\ndemo finished in 31.8s\n", ["serving ... demo websites"]),
    ],
)
def test_expected_lines_must_appear_in_order(
    checker: ModuleType, printed: str, missing: list[str]
) -> None:
    expected = ("serving ... demo websites", "...", "demo finished in ...s")
    assert checker.missing_lines(expected, printed) == missing
