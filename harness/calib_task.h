/* calib_task.h — `convert --calib TASK`: calibration rows made from a
 * benchmark task's own prompts (harness glue between tasks/, datasets/ and
 * engine/convert/calib.h, which takes plain rows).
 *
 * Row of a document = the context and continuation of its gold request,
 * concatenated: the text a model sees when it reads the right answer
 * ("Question: ...\nAnswer: ...", a WinoGrande sentence with the right
 * option, an MMLU block with its letter), zero-shot.  Documents whose gold
 * index is out of range are skipped.
 *
 * Split: the task's few-shot split (ARC/OBQA/PIQA/HellaSwag/WinoGrande
 * train, MMLU dev), or the one given; the split a task scores is refused,
 * so a conversion is never calibrated on the items it is then evaluated on.
 * A list ("arc_easy,openbookqa", "mmlu") concatenates rows in task order.
 */
#ifndef GQ_CALIB_TASK_H
#define GQ_CALIB_TASK_H

#include <stddef.h>
#include "dataset.h"
#include "gq_error.h"

typedef struct gq_calib_rows {
    char **rows;            /* [n] owned strings */
    size_t *len;            /* [n] strlen of each */
    size_t n;
    char desc[512];         /* e.g. "arc_easy (allenai/ai2_arc/ARC-Easy train): 2251 rows" */
} gq_calib_rows;

/* Build the rows of a task list.  split NULL: each task's few-shot split.
 * Errors: an unknown task (GQ_ERR_USAGE), the scored split (GQ_ERR_USAGE),
 * a split the data source does not have, or a bad row (the dataset's
 * message, naming the file and line); *out is then empty. */
int gq_calib_task_rows(const char *tasks, const char *split, const gq_dataset_opts *data, gq_calib_rows *out,
                       gq_error *err);
void gq_calib_rows_free(gq_calib_rows *r);

#endif
