/*
 * The lifecycle every "decode/encode input into a buffer JavaScript owns" call shares,
 * written once: check two Uint8Arrays, hold them with references, run the work on a libuv
 * worker, settle the promise on the JavaScript thread, release everything. The codecs
 * (tensio_snappy.c, tensio_zstd.c) only supply the work function; a job over more
 * buffers (tensio_gather.c) gives them all to hold and a context its work reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensio_buffer_job.h"

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref;
  napi_ref output_ref;
  const uint8_t *input;
  size_t input_length;
  uint8_t *output;
  size_t output_length;
  tensio_buffer_work run;
  tensio_resolve_kind resolve;
  const char *name;
  const char *failure;
  size_t written;
  /* A job over several buffers (tensio_queue_held_job): their references, and its work on `context`. */
  napi_ref *held;
  size_t held_count;
  tensio_held_work held_run;
  void *context;
} buffer_job_t;

int tensio_uint8_bytes(napi_env env, napi_value value, const char *what, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  return 1;
}

static void execute(napi_env env, void *data) {
  (void)env;
  buffer_job_t *job = (buffer_job_t *)data;
  if (job->held_run) {
    job->failure = job->held_run(job->context);
    return;
  }
  job->failure = job->run(job->input, job->input_length, job->output, job->output_length, &job->written);
}

/*
 * Rejects the job's promise with an Error carrying `code` and the message: the bare
 * reason for damaged input (callers put it in their own sentence), "name: reason" else.
 */
static void reject(napi_env env, buffer_job_t *job, const char *code_text, const char *reason) {
  char text[256];
  if (strcmp(code_text, "ECORRUPT") == 0) snprintf(text, sizeof text, "%s", reason);
  else snprintf(text, sizeof text, "%s: %s", job->name, reason);
  napi_value error, code, message;
  napi_create_string_utf8(env, code_text, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_reject_deferred(env, job->deferred, error);
}

static void release(napi_env env, buffer_job_t *job) {
  if (job->input_ref) napi_delete_reference(env, job->input_ref);
  if (job->output_ref) napi_delete_reference(env, job->output_ref);
  for (size_t k = 0; k < job->held_count; k++) {
    if (job->held[k]) napi_delete_reference(env, job->held[k]);
  }
  free(job->held);
  free(job->context);
  if (job->work) napi_delete_async_work(env, job->work);
  free(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  buffer_job_t *job = (buffer_job_t *)data;
  napi_value result;
  if (status != napi_ok) {
    reject(env, job, "ECANCELED", "the work was cancelled");
  } else if (job->failure != NULL) {
    reject(env, job, "ECORRUPT", job->failure);
  } else if (job->resolve == TENSIO_RESOLVE_WRITTEN && napi_create_double(env, (double)job->written, &result) == napi_ok) {
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  }
  release(env, job);
}

/*
 * The common tail of both queueing functions: with the job's references taken
 * (`referenced`), create its promise and async work and queue it. On failure before
 * queueing, the job is released and an ENOMEM error thrown (NULL returned): a deferred
 * created here would stay pending, but nothing returns it, so dropping it is safe. When
 * queueing itself fails, the promise is returned, so it is settled (rejected) rather
 * than left pending forever.
 */
static napi_value queue_job(napi_env env, buffer_job_t *job, int referenced, const char *name) {
  napi_value promise, resource_name;
  if (!referenced ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, job, &job->work) != napi_ok) {
    char what[128];
    release(env, job);
    snprintf(what, sizeof what, "%s: cannot queue the work", name);
    napi_throw_error(env, "ENOMEM", what);
    return NULL;
  }
  if (napi_queue_async_work(env, job->work) != napi_ok) {
    reject(env, job, "ENOMEM", "cannot queue the work");
    release(env, job);
  }
  return promise;
}

napi_value tensio_queue_buffer_job(napi_env env, napi_value input_value, napi_value output_value, tensio_buffer_work run, tensio_resolve_kind resolve, const char *name) {
  char what[128];
  uint8_t *input, *output;
  size_t input_length, output_length;
  snprintf(what, sizeof what, "%s: input must be a Uint8Array", name);
  if (!tensio_uint8_bytes(env, input_value, what, &input, &input_length)) return NULL;
  snprintf(what, sizeof what, "%s: output must be a Uint8Array", name);
  if (!tensio_uint8_bytes(env, output_value, what, &output, &output_length)) return NULL;
  buffer_job_t *job = (buffer_job_t *)calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, "ENOMEM", "out of memory queueing a codec job");
    return NULL;
  }
  *job = (buffer_job_t){.input = input, .input_length = input_length, .output = output, .output_length = output_length, .run = run, .resolve = resolve, .name = name};
  int referenced = napi_create_reference(env, input_value, 1, &job->input_ref) == napi_ok &&
                   napi_create_reference(env, output_value, 1, &job->output_ref) == napi_ok;
  return queue_job(env, job, referenced, name);
}

napi_value tensio_queue_held_job(napi_env env, napi_value *held, size_t count, tensio_held_work run, void *context, const char *name) {
  buffer_job_t *job = (buffer_job_t *)calloc(1, sizeof *job);
  napi_ref *refs = count > 0 ? (napi_ref *)calloc(count, sizeof *refs) : NULL;
  if (!job || (count > 0 && !refs)) {
    free(job);
    free(refs);
    free(context);
    napi_throw_error(env, "ENOMEM", "out of memory queueing a native job");
    return NULL;
  }
  *job = (buffer_job_t){.held = refs, .held_count = count, .held_run = run, .context = context, .resolve = TENSIO_RESOLVE_UNDEFINED, .name = name};
  int referenced = 1;
  for (size_t k = 0; k < count && referenced; k++) referenced = napi_create_reference(env, held[k], 1, &refs[k]) == napi_ok;
  return queue_job(env, job, referenced, name);
}
