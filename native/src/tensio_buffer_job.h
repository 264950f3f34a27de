/* One asynchronous "input bytes -> output bytes" job on a libuv worker (tensio_buffer_job.c). */
#ifndef TENSIO_BUFFER_JOB_H
#define TENSIO_BUFFER_JOB_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The work a job does on the worker thread: reads `input`, writes into `output`, sets
 * `*written` to the bytes it wrote, and returns NULL, or the reason the input is damaged
 * (the promise then rejects with code "ECORRUPT" and that reason). It must not touch
 * JavaScript and must not write outside output[0 .. output_length).
 */
typedef const char *(*tensio_buffer_work)(const uint8_t *input, size_t input_length, uint8_t *output, size_t output_length, size_t *written);

/* What the promise resolves to when the work succeeds. */
typedef enum { TENSIO_RESOLVE_UNDEFINED, TENSIO_RESOLVE_WRITTEN } tensio_resolve_kind;

/*
 * The bytes of a Uint8Array argument, or 0 with a TypeError (`what`) thrown.
 */
int tensio_uint8_bytes(napi_env env, napi_value value, const char *what, uint8_t **data, size_t *length);

/*
 * Queues `work` over two Uint8Arrays on libuv's thread pool and returns its promise (NULL
 * with an error thrown when it cannot be queued). Both arrays are held by references
 * until the job completes, so their memory stays alive and in place. `name` labels the
 * job in error messages ("snappyUncompressInto").
 */
napi_value tensio_queue_buffer_job(napi_env env, napi_value input_value, napi_value output_value, tensio_buffer_work work, tensio_resolve_kind resolve, const char *name);

/*
 * The work of a job over several buffers (tensio_queue_held_job): reads and writes
 * only through `context`, which the queueing call filled and checked, and returns NULL
 * or the reason the input is damaged (rejected with code "ECORRUPT"). It must not touch
 * JavaScript. The returned text may live in `context` (it is read before `context` is freed).
 */
typedef const char *(*tensio_held_work)(void *context);

/*
 * Queues `work(context)` on libuv's thread pool and returns its promise (resolving to
 * undefined), holding a reference to each of the `count` values in `held` until the job
 * completes, so the buffers `context` points into stay alive and in place. `context` is
 * malloc'd by the caller and freed with the job (also when this fails: NULL returned,
 * an error thrown).
 */
napi_value tensio_queue_held_job(napi_env env, napi_value *held, size_t count, tensio_held_work work, void *context, const char *name);

#endif
