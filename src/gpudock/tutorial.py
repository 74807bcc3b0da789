"""What the notebooks call: one line per cell, the same output for the same snapshot.

``session(snapshot)`` probes this host once (or replays a saved snapshot); its methods print
what the deck showed as screenshots. Expected failures (a refused plan, no GPU) are printed,
never raised, because papermill fails a run on any error output.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .doctor import Report, check, probe_command
from .exceptions import GpudockError
from .images import NBODY_IMAGE
from .layout import render_plain
from .textsafety import printable
from .views import findings_text, generations_text, host_line

# Which layers of the doctor's rule table (gpudock.diagnose.LAYERS) each notebook talks about.
SECTION_LAYERS = {
    "docker": ("docker",),
    "driver": ("platform", "driver", "apt"),
    "toolkit": ("toolkit", "apt"),
    "gpu": ("container",),
}


class Session:
    """One notebook's view of a host: the doctor's Report of this host probed now, or of a saved snapshot."""

    def __init__(self, snapshot: str | Path = ""):
        self.source = str(snapshot) if snapshot else ""
        self.report: Report = check(snapshot or None, say=print)

    @property
    def snap(self):
        return self.report.snapshot

    @property
    def host(self):
        return self.report.host

    @property
    def findings(self):
        return self.report.findings

    @property
    def replay(self) -> bool:
        return bool(self.source)

    # --- the host --------------------------------------------------------------------------
    def show_host(self) -> None:
        if self.replay:
            print("replay of a saved snapshot: " + printable(Path(self.source).name))
            caption = replay_caption(self.source)
            if caption:
                print(caption)
        else:
            print("live: this host, probed just now")
        print(host_line(self.host))
        for gpu in self.host.gpus:
            print(f"GPU: {gpu['name']}, driver {gpu['driver_version']}, {gpu['memory_total']}")
        if not self.host.gpus:
            print("GPU: none reported by nvidia-smi")

    def layer(self, name: str | None) -> list:
        """The findings a notebook section talks about (all of them for None); a crashed rule shows everywhere."""
        return self.report.about(SECTION_LAYERS.get(name, (name,)) if name else None)

    def show_findings(self, layer: str | None = None) -> None:
        print(findings_text(self.layer(layer), verbose=True))  # the evidence of what works is the proof

    def show_command(self, probe_name: str) -> None:
        """A probe's command and its output, as the deck's screenshot would have shown it."""
        result = self.snap.command(probe_name)
        if result is None:
            print(f"({probe_name} was not probed" + (" in this snapshot)" if self.replay else ")"))
            return
        argv = (self.snap.data["commands"][probe_name] or {}).get("argv") or probe_command(probe_name)
        print("$ " + (shlex.join(argv) if argv else probe_name))
        print(result.text.rstrip() or "(no output)")
        status = (
            "timed out"
            if result.timed_out
            else f"exit status {result.rc}"
            if result.rc is not None
            else "exit status unknown"
        )
        print(f"[{status}]")

    # --- deck sections ------------------------------------------------------------------------
    def docker_hello(self) -> None:
        """Deck 1.1: `docker run hello-world`; offline, gpudock's FROM-scratch image stands in."""
        self.show_command("docker_hello")
        hello = self.snap.command("docker_hello")
        if self.replay or not hello or not hello.failed or "Hello from Docker" in hello.text:
            return
        if "Unable to find image" in hello.text or "pull" in hello.text:
            print(
                "\nhello-world cannot be pulled here (no registry). Building gpudock's local hello image instead "
                "(FROM scratch + the distribution's busybox-static):"
            )
            try:
                from .dockerops import hello

                print(hello(build=True).rstrip())
            except GpudockError as err:
                print(f"could not: {err}")

    def show_generations(self) -> None:
        """Deck 1.3, live: which NVIDIA Docker generations this host has."""
        print(generations_text(self.report.generations))

    def show_plan(self, step: str, apply: bool = False, **options) -> None:
        """Deck 1.4: today's install commands for this host; applied only when ``apply`` is True (live)."""
        from .install import plan_for

        try:
            plan = plan_for(step, self.report, **options)
        except GpudockError as refused:
            print(f"gpudock refuses: {refused}")
            return
        from .install.render import plan_view

        print(plain(plan_view(plan)))
        if not plan.steps:
            print("\nNothing to run on this host.")
            return
        if not apply:
            print(
                "\nNothing was run (apply = False). Set apply = True, or run `gpudock install "
                f"{step} --apply`, to run these steps."
            )
            return
        if self.replay:
            print("\nreplay: nothing is applied to a saved snapshot")
            return
        from .install import apply as apply_plan
        from .paths import new_log_dir

        try:
            result = apply_plan(plan, new_log_dir(None, f"install-{step}"), yes=True)
            print(f"log: {result.log}")
        except GpudockError as err:
            print(f"apply stopped: {err}")

    def gpu_container(self) -> None:
        """Deck's last step, part 1: a container that sees the GPU (`docker run --gpus all … nvidia-smi`)."""
        self.show_command("docker_gpu")
        if self.layer("gpu"):
            self.show_findings("gpu")
            return
        first = next((f for f in self.findings if f.severity == "error"), None)
        print("no container has seen a GPU here" + (f"; fix this first: {first.code}: {first.title}" if first else ""))

    def bench(self, results: str | Path = "", quick: bool = True, cpu: bool = True, nvidia_nbody: str = ""):
        """Deck's last step, part 2: measured numbers as tables; returns them for the figures (gpudock.bench.plot).

        ``results`` shows a saved `gpudock bench --json` file instead of measuring, e.g. figures recorded on
        another machine; in replay without it nothing is measured (a snapshot of another host measures nothing).
        """
        from .bench.results import Results
        from .bench.tables import result_views

        if results:
            loaded = Results.load(results)
            print(
                f"saved results: {printable(Path(results).name)}, measured "
                f"{printable(str(loaded.host.get('time', '?')))} on {printable(str(loaded.host.get('hostname', '?')))}"
            )
        elif self.replay:
            print("skipped in replay: benchmarks measure the live host (run without a snapshot, or give saved results)")
            return None
        else:
            from .bench.run import run_benchmarks
            from .progress import waiting

            what = "the GPUs and the CPU" if cpu else "the GPUs"
            with waiting(f"measuring {what}" + (" (quick sizes)" if quick else "")):
                loaded = run_benchmarks(quick=quick, cpu=cpu, progress=False, nvidia_nbody=nvidia_nbody or None)
        for view in result_views(loaded):
            print(plain(view))
        return loaded

    def check_image(self, image: str = NBODY_IMAGE) -> None:
        """Before `docker run`: will the image's kernels run on this host's GPUs? (`gpudock check-image`).

        In replay the image is not read (it lives on the host that has it, not in the snapshot): the cell
        shows the command and the snapshot's GPUs, as check-image would compare them.
        """
        from .image import check_image
        from .image.view import check_text, gpus_text

        print(f"$ gpudock check-image {image}")
        if self.replay and not Path(image).exists():
            print("replay: the image is read on the host that stores it; this snapshot's GPUs, as it would compare:")
            print(gpus_text(self.snap))
            return
        try:
            print(check_text(check_image(image, self.snap)))
        except GpudockError as err:
            print(f"not checked: {err}")

    def nbody_sample(self, pull: bool = False) -> None:
        """NVIDIA's nbody sample in a container (the deck's benchmark), when it can run here."""
        if self.replay:
            self.show_command("docker_nbody")
            return
        from .bench.container import nbody_sample
        from .progress import waiting

        try:
            with waiting("NVIDIA's nbody sample in a container"):
                result = nbody_sample(pull=pull)
            print(
                f"{result.device}: {result.value:,.1f} GFLOP/s at N={result.size} ({result.precision}), in a container"
            )
        except GpudockError as err:
            print(f"nbody sample not run: {err}")


def replay_caption(path: str | Path) -> str:
    """The one-line ``caption`` a replayed document may carry beside ``snapshot`` (what host it was), else ''.

    The snapshot was already read and validated by the doctor; this reads only that extra key, bounded, and
    never fails a cell: an unreadable file or a caption that is not text gives ''.
    """
    from .files import parse_json, read_json_text

    try:
        doc = parse_json(read_json_text(Path(path)), str(path))
    except GpudockError:
        return ""
    caption = doc.get("caption") if isinstance(doc, dict) else None
    return printable(" ".join(caption.split())[:240]) if isinstance(caption, str) else ""


def plain(renderable, width: int = 100) -> str:
    """A rich renderable as plain text: no ANSI codes in notebooks, slides or nbval comparisons."""
    return render_plain(renderable, width)


def session(snapshot: str | Path = "") -> Session:
    return Session(snapshot)
