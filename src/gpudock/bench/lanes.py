"""The CPU nbody kernels' block size, below both ``cpu.py`` (which lays the bodies out) and ``cpu_kernels.py``
(which loops over them), so neither imports the other for it."""

LANES = 32  # target bodies per inner block: two AVX-512 fp32 vectors, four fp64 ones
