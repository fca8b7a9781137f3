"""Progress of a long command, on stderr: a live bar on a terminal; anywhere else (a pipe, a
log file, CI) whole lines about every tenth of the way, never carriage returns that pile up
into one unreadable line."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from enrichment_pipelines.cli.common import err

LINES_PER_TASK = 10  # off a terminal: about one line per tenth of the work


class CliProgress:
    """`with CliProgress("crawled", total) as progress: progress.advance()`; `update` sets
    the count (and the total, when it was not known at the start) and a detail text. With
    `shown=False` it shows nothing (work too small to need it)."""

    def __init__(self, description: str, total: int, *, shown: bool = True) -> None:
        self.description, self.total, self.completed, self.detail = description, total, 0, ""
        self.shown = shown
        self._bar: Progress | None = None
        self._printed: int | None = None

    def __enter__(self) -> CliProgress:
        if self.shown and err.is_terminal:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=err,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, detail="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.shown and self.completed and self._printed != self.completed:
            self._line()  # where it stopped, whatever the step (nothing done: nothing said)

    def advance(self, detail: str = "") -> None:
        self.update(self.completed + 1, detail=detail)

    def update(self, completed: int, *, total: int | None = None, detail: str = "") -> None:
        self.completed, self.detail = completed, detail
        self.total = self.total if total is None else total
        if self._bar is not None:
            self._bar.update(self._task, completed=completed, total=self.total, detail=detail)
            return
        if not self.shown:
            return
        step = max(1, self.total // LINES_PER_TASK)
        last = self._printed or 0
        if completed >= self.total or completed // step > last // step:
            self._line()

    def _line(self) -> None:
        self._printed = self.completed
        detail = f" ({self.detail})" if self.detail else ""
        err.print(f"{self.description} {self.completed}/{self.total}{detail}", highlight=False)
