"""Progress bars and notes on stderr while a run measures (rich); quiet for tests and --json."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class Ui:
    """Progress bars and messages (rich); quiet=True for tests."""

    def __init__(self, console: Console | None = None, quiet: bool = False) -> None:
        self.console = console or Console(stderr=True, quiet=quiet)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )

    @contextmanager
    def task(self, description: str, total: float) -> Iterator[Callable[[float], None]]:
        task_id = self.progress.add_task(description, total=total)

        def update(done: float) -> None:
            self.progress.update(task_id, completed=done)

        try:
            yield update
        finally:
            self.progress.update(task_id, completed=total)

    def note(self, text: str) -> None:
        self.progress.console.print(text)
