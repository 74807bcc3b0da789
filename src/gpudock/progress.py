"""Progress on a wait: after 2 s of silence, what gpudock waits for and the seconds ticking.

- In a terminal (stderr is a TTY): a spinner line on stderr, ``⠋ probing this host · 4 s``, redrawn four
  times a second and removed when the wait ends, so stdout (tables, JSON) is untouched.
- In a notebook (an IPython kernel): a display that updates every second and ends as one line saying
  what was waited for and how long. ``gpudock run`` executes notebooks headless with
  ``GPUDOCK_PROGRESS=0`` (its own per-notebook line ticks instead), so executed notebooks stay the same
  from run to run.
- Elsewhere (a pipe, a log file, CI) nothing: a log gets no redraws.

A wait that ends within the 2 s shows nothing at all. ``GPUDOCK_PROGRESS=0`` turns it off everywhere.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

AFTER_S = 2.0


def _enabled() -> bool:
    return os.environ.get("GPUDOCK_PROGRESS", "1") not in ("0", "false", "no", "off")


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (whose output a notebook shows)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and type(shell).__name__ == "ZMQInteractiveShell"


def line(what: str, started: float, detail: str = "") -> str:
    seconds = time.monotonic() - started
    return f"{what}{f' ({detail})' if detail else ''} · {seconds:.0f} s"


class _Terminal:
    def __init__(self, what: str, detail: Callable[[], str], started: float):
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner
        from rich.text import Text

        from .textsafety import printable

        spinner = Spinner("dots")

        def render():  # host text in ``detail`` is untrusted: plain Text, never markup
            spinner.update(text=Text(printable(line(what, started, detail()))))
            return spinner

        self.live = Live(get_renderable=render, console=Console(stderr=True), transient=True, refresh_per_second=4)

    def start(self) -> None:
        self.live.start()

    def stop(self, ok: bool) -> None:
        self.live.stop()


class _Notebook:
    def __init__(self, what: str, detail: Callable[[], str], started: float):
        self.what, self.detail, self.started = what, detail, started
        self.handle = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True)

    def _show(self, text: str) -> None:
        from IPython.display import display

        if self.handle is None:
            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": text}, raw=True)

    def _tick(self) -> None:
        while not self.done.wait(1.0):
            self._show(line(self.what, self.started, self.detail()))

    def start(self) -> None:
        self._show(line(self.what, self.started, self.detail()))
        self.thread.start()

    def stop(self, ok: bool) -> None:
        self.done.set()
        self.thread.join()
        seconds = time.monotonic() - self.started
        self._show(f"{self.what}: {'done' if ok else 'stopped'} after {seconds:.0f} s")


def _view(what: str, detail: Callable[[], str], started: float):
    if not _enabled():
        return None
    if in_notebook():
        return _Notebook(what, detail, started)
    if sys.stderr.isatty():
        return _Terminal(what, detail, started)
    return None


@contextmanager
def waiting(
    what: str, detail: Callable[[], str] = lambda: "", quiet: bool = False, after_s: float = AFTER_S
) -> Iterator[None]:
    """Show ``what`` (and ``detail()``, asked at each redraw) with the elapsed seconds once the wait passes
    ``after_s``; ``quiet`` shows nothing (a scheduler's health check wants one line only)."""
    started = time.monotonic()
    view = None if quiet else _view(what, detail, started)
    if view is None:
        yield
        return
    done = threading.Event()
    shown = threading.Event()

    def show_later():
        if not done.wait(after_s):
            view.start()
            shown.set()

    timer = threading.Thread(target=show_later, daemon=True)
    timer.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        done.set()
        timer.join()
        if shown.is_set():
            view.stop(ok)
