"""``gpudock bench`` and ``gpudock bench compare``."""

from __future__ import annotations

from ..exitcodes import ExitCode
from .parser import Parser, command, say


def add_bench(sub) -> None:
    bench = command(
        sub,
        "bench",
        help="GPU (CuPy) and CPU benchmarks; `bench compare A.json B.json`",
        description="Measure the GPUs (CuPy) and the CPU baseline and print one table. The results are also "
        "kept as the last figures `doctor --prometheus` exports.",
        example=(
            "gpudock bench --quick                # under 30 s on an H200",
            "gpudock bench --out mine.json        # keep the results file",
            "gpudock bench compare docs/benchmarks/h200-host.json mine.json",
        ),
    )
    bench.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats (under 30 s on an H200)")
    bench.add_argument("--json", action="store_true", help="print the results JSON (no progress bar)")
    bench.add_argument("--out", metavar="FILE", help="also write the results JSON here")
    bench.add_argument("--no-cpu", action="store_true", help="skip the CPU baseline")
    bench.add_argument("--no-gpu", action="store_true", help="skip the GPUs")
    bench.add_argument(
        "--nvidia-nbody", metavar="PATH", help="also run NVIDIA's nbody sample binary at the same N (reference rows)"
    )
    bench.add_argument(
        "--only",
        metavar="KINDS",
        type=bench_kinds,
        help="only these kinds: nbody,gemm,copy,transfer,cpu",
    )
    bench.add_argument("-v", "--verbose", action="store_true", help="also show repeats and each benchmark's note")
    bench.set_defaults(func=bench_command)
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="{compare}", parser_class=Parser)
    compare = command(
        bench_sub,
        "compare",
        help="compare two results files (B against A), also from different machines",
        description="Pair the points of two results files on benchmark, precision and size (the device, "
        "thread count and place are notes), and give each pair a verdict against the measured spread.",
        example=(
            "gpudock bench compare a.json b.json",
            "gpudock bench compare docs/benchmarks/h200-host.json mine.json",
        ),
    )
    compare.add_argument("a", metavar="A.json", help="the results to compare against")
    compare.add_argument("b", metavar="B.json", help="the results to compare")
    compare.set_defaults(func=compare_command)


def bench_kinds(text: str) -> tuple[str, ...]:
    import argparse

    from ..bench.run import KINDS

    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"unknown kind {', '.join(unknown) or '(none)'}: use {','.join(KINDS)}")
    return kinds


def bench_command(args) -> ExitCode:
    from ..bench.run import run_benchmarks
    from ..bench.tables import print_results
    from ..files import check_writable
    from ..metrics import remember_bench

    if args.out:  # before the benchmark runs, not after: results are never measured and then lost
        check_writable(args.out)
    results = run_benchmarks(
        quick=args.quick,
        cpu=not args.no_cpu,
        gpu=not args.no_gpu,
        progress=not args.json,
        say=say,
        nvidia_nbody=args.nvidia_nbody,
        only=args.only,
    )
    # printed first, saved second: a disk that filled meanwhile loses the file, never the measurement;
    # saved even when printing fails (`| head` closed the pipe): the reader left, the file is still wanted
    try:
        if args.json:
            print(results.to_json(), flush=True)
        else:
            print_results(results, verbose=args.verbose)
    finally:
        if args.out:
            results.save(args.out)
        remember_bench(results, say)
    return ExitCode.OK


def compare_command(args) -> ExitCode:
    from ..bench.compare import compare, print_comparison
    from ..bench.results import Results
    from ..exceptions import NoComparablePoints

    a, b = Results.load(args.a), Results.load(args.b)
    rows = compare(a, b)
    if not rows:
        raise NoComparablePoints(args.a, args.b)
    print_comparison(rows, args.a, args.b, a, b)
    return ExitCode.OK
