"""Server side of `gpudock lab` (imported by the JupyterLab server only): jupytext's contents manager, plus
the kernel's ``language_info`` in a notebook that has none.

When a kernel starts, JupyterLab writes the kernel's ``language_info`` into the notebook's metadata.
A Markdown notebook has none (jupytext does not keep it), so that write would mark every notebook
unsaved the moment it opens. Served with the ``language_info`` of the kernel that will run it (the
kernel `gpudock lab` defines runs this very Python), the write changes nothing. jupytext leaves
``language_info`` out of the Markdown again when the notebook is saved.
"""

from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

from .lab import KERNEL_NAME


def kernel_language_info() -> dict:
    """What ipykernel reports as language_info in its kernel_info reply, for this Python."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


class TutorialContentsManager(build_async_jupytext_contents_manager_class(AsyncLargeFileManager)):
    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook" and model.get("content") is not None:
            metadata = model["content"].setdefault("metadata", {})
            if (metadata.get("kernelspec") or {}).get("name") == KERNEL_NAME and "language_info" not in metadata:
                metadata["language_info"] = kernel_language_info()
        return model
