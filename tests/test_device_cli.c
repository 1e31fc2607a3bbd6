/* test_device_cli.c — `--device` on every command that runs a model
 * (eval, score, ppl, convert): cpu runs as before; without a GPU, cuda and
 * cuda:N exit 2 naming the device and the CUDA runtime's reason; with one,
 * `score --device cuda` prints the CPU's scores (to the printed digits) and
 * cuda:1 on a one-GPU machine names the devices there; convert's
 * calibration stays on the CPU and says so; any other value is a usage
 * error (exit 2).
 * Usage: test_device_cli (GQ_CLI, GQ_FIXTURES). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int main(void)
{
    char model[4200], args[9000], *out = NULL;
    snprintf(model, sizeof model, "%s", test_fixture("forward/llama-gqa-f32"));
    snprintf(args, sizeof args, "score '%s' --ids 1,2,3,4 --device cpu", model);
    int rc = test_run_cli(args, &out);
    test_cond("score --device cpu: exit 0 with scores", rc == 0 && test_has(out, "-8.17"));
    free(out);
    /* A GPU is there when nvidia-smi lists one (the CUDA checks change). */
    int gpu = test_run_shell("nvidia-smi -L 2>/dev/null | grep -q GPU", &out) == 0;
    free(out);
    printf("%s\n", gpu ? "a GPU is present: --device cuda must run" : "no GPU: --device cuda must exit 2 saying why");
    static const char *cmds[] = {"score '%s' --ids 1,2,3 --device %s", "ppl '%s' --file /dev/null --device %s",
                                 "--model '%s' --tasks arc_easy --device %s",
                                 "convert --model '%s' --output /nonexistent --device %s"};
    static const char *devs[] = {"cuda", "cuda:1"};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
        for (size_t d = 0; d < 2; d++) {
            snprintf(args, sizeof args, cmds[c], model, devs[d]);
            rc = test_run_cli(args, &out);
            char what[9800], dev[32];
            snprintf(dev, sizeof dev, "--device cuda:%d", d ? 1 : 0);
            snprintf(what, sizeof what, "%s: exit 2 naming %s and why", args, dev);
            int ok = rc == 2 && test_has(out, dev) &&
                     (test_has(out, "no CUDA device") || test_has(out, "without CUDA") ||
                      test_has(out, "CUDA device"));
            if (gpu && d == 0) { /* it runs: score prints the CPU's numbers; convert refuses */
                ok = c == 0 ? rc == 0 && test_has(out, "-8.17")
                     : c == 3 ? rc == 2 && test_has(out, "calibration forward runs on the CPU")
                              : rc == 0 || (rc == 2 && !test_has(out, "--device"));
                snprintf(what, sizeof what, "%s: runs on the GPU", args);
            }
            test_cond(what, ok);
            if (!ok) printf("%s\n", out ? out : "");
            free(out);
        }
    snprintf(args, sizeof args, "score '%s' --ids 1,2,3 --device tpu", model);
    rc = test_run_cli(args, &out);
    test_cond("--device tpu: a usage error naming the choices", rc == 2 && test_has(out, "cpu, cuda or cuda:N"));
    free(out);
    return test_report("device_cli");
}
