"""``gpudock check-image`` (will this image run here?) and ``gpudock cdi generate|check`` (gpudock.cdi.command)."""

from __future__ import annotations

from ..exitcodes import ExitCode
from .parser import Parser, command


def add_check_image(sub) -> None:
    check = command(
        sub,
        "check-image",
        help="will this image run here? its CUDA kernels and needs against this host's GPUs and driver",
        example=(
            "gpudock check-image nvcr.io/nvidia/pytorch:25.01-py3",
            "gpudock check-image image.tar --gpu 12.0   # a docker save tarball, a GPU",
            "gpudock check-image my/app --snapshot s.json --json",
        ),
    )
    check.add_argument(
        "image", metavar="IMAGE", help="a local image name, a `docker save` tarball or an OCI layout folder"
    )
    check.add_argument("--snapshot", metavar="FILE", help="compare with a saved snapshot's GPUs and driver")
    check.add_argument(
        "--gpu", action="append", default=[], metavar="CC", help="compare with a GPU of this compute capability (12.0)"
    )
    check.add_argument("--json", action="store_true", help="print what was read and each GPU's verdict as JSON")
    check.add_argument("--max-size", metavar="SIZE", default="64G", help="read at most this much of the image (64G)")
    check.add_argument("-v", "--verbose", action="store_true", help="also show the evidence of what is fine")
    check.set_defaults(func=check_image_command)


def check_image_command(args) -> ExitCode:
    from ..image import Limits, check_image
    from ..image.limits import parse_size
    from ..image.view import check_json, print_check

    limits = Limits(max_bytes=parse_size(args.max_size))
    result = check_image(args.image, args.snapshot, args.gpu, limits)
    if args.json:
        print(check_json(result))
    else:
        print_check(result, verbose=args.verbose)
    return ExitCode.OK if result.ok else ExitCode.PROBLEM


def add_cdi(sub) -> None:
    from ..cdi.command import add_parser

    add_parser(sub, Parser)
