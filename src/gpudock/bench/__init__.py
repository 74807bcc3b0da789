"""Benchmarks: N-body, matrix multiply, memory bandwidth; on the GPU (CuPy), the CPU (NumPy) and in a container."""
