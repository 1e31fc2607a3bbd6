/* cuda_probe.c — `--device cuda[:N]` before a model opens (model.h's
 * gq_device_check_cuda).
 *
 * Why dlopen: calling the CUDA backend from here would link cudart and
 * cuBLAS into every gqla-eval process, and loading cuBLASLt alone costs
 * about 220 MB of resident memory at start-up (measured: `--version` 12 MB
 * without it, 230 MB with it), on CPU runs that never touch a GPU.  The
 * probe opens the CUDA runtime (its path found by CMake) only when asked. */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#ifdef GQLA_CUDART_PATH
#include <dlfcn.h>
#endif

int gq_device_check_cuda(int index, gq_error *err)
{
#ifdef GQLA_CUDART_PATH
    void *rt = dlopen(GQLA_CUDART_PATH, RTLD_NOW | RTLD_LOCAL);
    if (!rt)
        return gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: cannot load the CUDA runtime %s (%s)", index,
                            GQLA_CUDART_PATH, dlerror());
    typedef int (*count_fn)(int *);
    typedef const char *(*error_fn)(int);
    count_fn count = NULL;
    error_fn error_string = NULL;
    /* POSIX's way from a void * to a function pointer (dlsym(3)). */
    *(void **)&count = dlsym(rt, "cudaGetDeviceCount");
    *(void **)&error_string = dlsym(rt, "cudaGetErrorString");
    int n = 0, e = count ? count(&n) : -1;
    int rc;
    if (e != 0 || n == 0) {
        rc = gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: no CUDA device is available (%s); run with --device cpu",
                          index, e == 0 ? "0 devices" : error_string ? error_string(e) : "cudaGetDeviceCount missing");
    } else if (index >= n) {
        rc = gq_error_set(err, GQ_ERR_DEVICE, "--device cuda:%d: this machine has %d CUDA device%s (0..%d)", index, n,
                          n == 1 ? "" : "s", n - 1);
    } else {
        rc = GQ_OK; /* the model opens on it (device.c) */
    }
    dlclose(rt);
    return rc;
#else
    return gq_error_set(err, GQ_ERR_DEVICE,
                        "--device cuda:%d: this gqla-eval was built without CUDA (nvcc was not found at build "
                        "time); run with --device cpu",
                        index);
#endif
}
