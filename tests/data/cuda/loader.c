/* gpudock's fixture loader for the GPU truth table (docs/image-check.md): it asks the CUDA driver to load
 * code the way a CUDA program does at start, and says what the driver answered.
 *
 *   loader LIB.so          load the fat binary at LIB's symbol gpudock_fixture_fatbin (its .nv_fatbin
 *                          section), run add_one on 1024 ints and check every one
 *   loader --ptx FILE.ptx  JIT-compile a PTX text only (times the driver's compiler)
 *
 * One JSON line on stdout: {"status": "ok"|"error", "stage", "error", "code", "load_ms", "total_ms"}.
 * It needs only the driver (dlopen of libcuda.so.1): no CUDA toolkit, no runtime library.
 * Built here with: gcc -O2 -o loader tests/data/cuda/loader.c -ldl
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef int CUdevice;
typedef void *CUcontext, *CUmodule, *CUfunction;
typedef unsigned long long CUdeviceptr;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *cuda;
static double started, load_ms = -1;

static void *sym(const char *name) {
    void *f = dlsym(cuda, name);
    if (!f) {
        printf("{\"status\": \"error\", \"stage\": \"dlsym\", \"error\": \"%s missing\", \"code\": -1}\n", name);
        exit(1);
    }
    return f;
}

static void check(CUresult r, const char *stage) {
    if (r == 0) return;
    const char *name = "?";
    CUresult (*errname)(CUresult, const char **) = (CUresult(*)(CUresult, const char **))sym("cuGetErrorName");
    errname(r, &name);
    printf("{\"status\": \"error\", \"stage\": \"%s\", \"error\": \"%s\", \"code\": %d, \"load_ms\": %.1f, "
           "\"total_ms\": %.1f}\n", stage, name, r, load_ms, now_ms() - started);
    exit(1);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (fread(buf, 1, n, f) != (size_t)n) { perror(path); exit(2); }
    buf[n] = 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv) {
    started = now_ms();
    if (argc < 2) { fprintf(stderr, "usage: loader LIB.so | loader --ptx FILE.ptx\n"); return 2; }
    int ptx_only = argc == 3 && strcmp(argv[1], "--ptx") == 0;
    const void *image;
    if (ptx_only) {
        image = read_file(argv[2]);
    } else {
        void *lib = dlopen(argv[1], RTLD_NOW);
        if (!lib) { printf("{\"status\": \"error\", \"stage\": \"dlopen\", \"error\": \"%s\", \"code\": -1}\n", dlerror()); return 1; }
        image = dlsym(lib, "gpudock_fixture_fatbin");
        if (!image) { printf("{\"status\": \"error\", \"stage\": \"dlsym\", \"error\": \"no fat binary\", \"code\": -1}\n"); return 1; }
    }
    cuda = dlopen("libcuda.so.1", RTLD_NOW);
    if (!cuda) { printf("{\"status\": \"error\", \"stage\": \"driver\", \"error\": \"no libcuda.so.1\", \"code\": -1}\n"); return 1; }
    CUresult (*cuInit)(unsigned) = sym("cuInit");
    CUresult (*cuDeviceGet)(CUdevice *, int) = sym("cuDeviceGet");
    CUresult (*cuCtxCreate)(CUcontext *, unsigned, CUdevice) = sym("cuCtxCreate_v2");
    CUresult (*cuModuleLoadData)(CUmodule *, const void *) = sym("cuModuleLoadData");
    CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *) = sym("cuModuleGetFunction");
    CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = sym("cuMemAlloc_v2");
    CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t) = sym("cuMemcpyHtoD_v2");
    CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = sym("cuMemcpyDtoH_v2");
    CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                               void *, void **, void **) = sym("cuLaunchKernel");
    CUresult (*cuCtxSynchronize)(void) = sym("cuCtxSynchronize");
    CUdevice dev;
    CUcontext ctx;
    CUmodule mod;
    check(cuInit(0), "init");
    check(cuDeviceGet(&dev, 0), "device");
    check(cuCtxCreate(&ctx, 0, dev), "context");
    double t0 = now_ms();
    CUresult loaded = cuModuleLoadData(&mod, image);
    load_ms = now_ms() - t0;
    check(loaded, "load");
    if (!ptx_only) {
        enum { N = 1024 };
        static int host[N];
        for (int i = 0; i < N; ++i) host[i] = i;
        CUfunction fn;
        CUdeviceptr x;
        int n = N;
        check(cuModuleGetFunction(&fn, mod, "add_one"), "function");
        check(cuMemAlloc(&x, sizeof host), "alloc");
        check(cuMemcpyHtoD(x, host, sizeof host), "copy");
        void *args[] = {&x, &n};
        check(cuLaunchKernel(fn, N / 256, 1, 1, 256, 1, 1, 0, 0, args, 0), "launch");
        check(cuCtxSynchronize(), "sync");
        check(cuMemcpyDtoH(host, x, sizeof host), "copy back");
        for (int i = 0; i < N; ++i)
            if (host[i] != i + 1) { printf("{\"status\": \"error\", \"stage\": \"verify\", \"error\": \"wrong result at %d\", \"code\": -1}\n", i); return 1; }
    }
    printf("{\"status\": \"ok\", \"stage\": \"done\", \"error\": null, \"code\": 0, \"load_ms\": %.1f, \"total_ms\": %.1f}\n",
           load_ms, now_ms() - started);
    return 0;
}
