"""CDI (Container Device Interface): GPU containers without the NVIDIA Container Toolkit.

The fourth generation of "how a container gets the GPU" (after nvidia-docker 1.0's flags, nvidia-docker2's
runtime and the toolkit's ``--gpus``): a spec file in ``/etc/cdi`` tells the engine which device nodes,
libraries and programs a device such as ``nvidia.com/gpu=all`` adds to a container. Docker reads specs from
Engine 25 (``features.cdi``; on by default from 28.2), Podman natively.

- ``spec``: read a spec (bounded, strict like the engines) and write one;
- ``tree`` / ``discover``: a host tree (live or ``--root``) and the loaded driver found in it;
- ``generate``: the spec for that driver (``gpudock cdi generate``);
- ``check``: the checks ``gpudock cdi check`` and the doctor's CDI codes share;
- ``snapview``: the same questions answered from a snapshot (the doctor);
- ``command``: the two subcommands.
"""
