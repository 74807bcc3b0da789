"""The layers stacked as the container sees them: a file is visible unless a layer above replaces or deletes it.

OCI image spec, layer.md ("Whiteouts"): ``.wh.NAME`` in an upper layer deletes NAME (and all under it)
from the layers below; ``.wh..wh..opq`` in a folder hides everything the layers below hold in that
folder; a file in an upper layer replaces the same path below, and a non-folder replaces a folder below.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from .layer import Item, LayerFacts
from .scan import FileKernels


def _ancestors(path: str) -> list[str]:
    out = []
    while True:
        path = posixpath.dirname(path)
        if not path:
            return out
        out.append(path)


def hidden(path: str, uppers: Sequence[LayerFacts]) -> bool:
    """Whether a file at ``path`` in some layer is replaced or deleted by one of the layers above it."""
    above = _ancestors(path)
    for upper in uppers:
        if path in upper.nondirs or path in upper.whiteouts:
            return True
        for folder in above:
            if folder in upper.nondirs or folder in upper.whiteouts or folder in upper.opaque:
                return True
        if "" in upper.opaque:
            return True
    return False


def visible(layers: Sequence[LayerFacts]) -> tuple[dict[str, FileKernels], dict[str, Item]]:
    """The kernels and named items the image's file system shows; ``layers`` from the bottom up."""
    kernels: dict[str, FileKernels] = {}
    items: dict[str, Item] = {}
    for index, layer in enumerate(layers):
        uppers = layers[index + 1 :]
        for path, found in layer.kernels.items():
            if not hidden(path, uppers):
                kernels[path] = found
        for path, item in layer.items.items():
            if not hidden(path, uppers):
                items[path] = item
    return kernels, items
