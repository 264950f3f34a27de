/*
 * Parquet's dictionary gather on a libuv worker, for stacked reads:
 * parquetGatherBand(sections, dictionaries, params, out) -> Promise<undefined>.
 *
 * Each piece i is `count` values of one RLE_DICTIONARY page's values section
 * (sections[i]: one bit-width byte, then an RLE / bit-packed hybrid stream of indices),
 * continued from the place JavaScript's DictionaryIndexStream (hybrid-streams.ts) left
 * it, whose dictionary entries (dictionaries[i]: `entries` values of 4 or 8 bytes) are
 * copied into `out` as 32-bit words: the first value at word `first`, each next one
 * `stride` words on (a stacked tensor's row). params holds PARAMS doubles per piece (see
 * the P_ names). One call takes a band of rows of every dictionary column, so a worker
 * writes the band's rows alone (they stay in its cache, and two workers never write the
 * same cache lines) while the JavaScript thread prepares the next band. A piece may also
 * be PLAIN values copied in order (PLAIN_PIECE: the pages after pyarrow's dictionary
 * falls back to PLAIN), so the band's rows are all written here, not row by row on the
 * JavaScript thread.
 *
 * Within a band the rows are written a tile at a time (TILE_BYTES of rows): every
 * piece whose rows reach the tile writes its values there before the next tile starts.
 * Why: a stacked row holds one value of every column, so writing a whole column of a band
 * before the next touches every cache line of the band once per column; a tile's lines
 * stay in the core's cache while all its columns are written (a 128 MB stacked read of
 * 32 float32 columns: this job's CPU 320 -> 120 ms, bench/README.md, session 31).
 *
 * The rules are hybrid-streams.ts's, checked the same way: a width over 32, a run header
 * cut or longer than five bytes, a bit-packed run past the section (or of 2^31 bits and
 * more), an RLE run of 0 values or whose value is cut, and an index at or past `entries`
 * each reject with code "ECORRUPT" and the message "piece P, value V: reason" (V counted
 * from the piece's first value; the reader turns it into its refusal naming the column,
 * page and row: gather-native.ts). What would write outside `out` or read outside a
 * dictionary is refused before the job is queued (RangeError "ERANGE"): every value's
 * words lie in out[first .. first + (count - 1) * stride + words) words. Reads of the
 * section stay inside it (the last values of a section are read byte by byte).
 */
#include <node_api.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensio_buffer_job.h"
#include "tensio_gather.h"

/* The params of one piece, in this order. */
enum {
  P_ENTRIES, /* dictionary entries */
  P_WORDS,   /* 32-bit words per value: 1 or 2 */
  P_COUNT,   /* values to write */
  P_FIRST,   /* word of `out` the first value goes to */
  P_STRIDE,  /* words from one value to the next (>= words) */
  P_AT,      /* byte of the section where the next run header is */
  P_LEFT,    /* indices left in the current run */
  P_PACKED,  /* 1: the current run is bit-packed, 0: RLE; 2: a PLAIN piece (see PLAIN_PIECE) */
  P_RUN_AT,  /* bit-packed run: its first byte */
  P_BIT,     /* bit-packed run: the bit (from run_at) of its next index */
  P_INDEX,   /* RLE run: its dictionary index */
  PARAMS
};

/*
 * P_PACKED of a piece of PLAIN values (a page without dictionary): its `dictionary` is the
 * page's values (`entries` of them), copied in order from value P_INDEX on; the other
 * stream params are unused. Such a piece cannot be damaged: its range was checked when
 * the job was made.
 */
#define PLAIN_PIECE 2

/*
 * One piece and how far it was written: `count`, `first` and the stream's place (`at`,
 * `left`, `packed`, `run_at`, `bit`, `index`) move on as values are written, a tile at a
 * time; `done` counts the values written (for a failure's "value V").
 */
typedef struct {
  const uint8_t *section;
  size_t section_length;
  const uint8_t *dictionary;
  uint64_t entries, words, count, first, stride, at, left, run_at, bit, index, done;
  int packed;
} gather_piece_t;

/* Bytes of rows written as one tile (see the file comment): well inside a core's second-level cache (64 KiB measured best of 8-64 KiB). */
#define TILE_BYTES (64 * 1024)

typedef struct {
  uint8_t *out;
  size_t pieces;
  char failure[256];
  gather_piece_t piece[];
} gather_job_t;

/* Copies dictionary entry `index` (`words` 32-bit words) to word `to` of `out`. */
static inline void put(uint8_t *out, uint64_t to, const uint8_t *dictionary, uint64_t index, uint64_t words) {
  if (words == 1) memcpy(out + 4 * to, dictionary + 4 * index, 4);
  else memcpy(out + 4 * to, dictionary + 8 * index, 8);
}

/* Little-endian u64 of the 8 bytes at `at` (the caller checked they are inside). */
static inline uint64_t load64le(const uint8_t *at) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t value;
  memcpy(&value, at, 8);
  return value;
#else
  uint64_t value = 0;
  for (int k = 0; k < 8; k++) value |= (uint64_t)at[k] << (8 * k);
  return value;
#endif
}

/*
 * The bulk of a bit-packed run: up to `groups` whole groups of 8 indices from `g` (at a
 * group's first byte; the caller checked that every group's bytes and the 8 after them lie
 * inside the section), each looked up in `dictionary` and written `stride` words apart from
 * word `to`. Returns how many groups were written: fewer when a group holds an index at or
 * past `entries`; that group is not written, and the caller's value-by-value loop names it.
 * Why groups: with `width` a constant (one copy per width: gather_groups_of_width) each
 * index of a group is at a fixed byte and shift, so a group is straight-line code of 8
 * loads, shifts and lookups with one check; value by value, each index's place is worked
 * out from a running bit count. pyarrow's bench table (32 float32 columns of 11-bit indices)
 * read stacked in a fresh process: 236-258 -> 200-208 ms a read (medians, session 32).
 */
static inline __attribute__((always_inline)) uint64_t gather_groups(const uint8_t *g, uint64_t groups, const unsigned width, const uint64_t words,
                                                                     const uint8_t *dictionary, uint64_t entries, uint8_t *out, uint64_t to, uint64_t stride) {
  const uint64_t mask = ((uint64_t)1 << width) - 1;
  const size_t step = 4 * (size_t)stride, size = 4 * (size_t)words;
  uint8_t *row = out + 4 * to;
  for (uint64_t n = 0; n < groups; n++, g += width) {
    uint64_t index[8];
    uint64_t over = 0;
#pragma GCC unroll 8
    for (unsigned k = 0; k < 8; k++) {
      index[k] = (load64le(g + ((k * width) >> 3)) >> ((k * width) & 7)) & mask;
      over |= (uint64_t)(index[k] >= entries);
    }
    if (over) return n;
#pragma GCC unroll 8
    for (unsigned k = 0; k < 8; k++, row += step) memcpy(row, dictionary + size * index[k], size);
  }
  return groups;
}

/* gather_groups with its width and value size constants: one copy per width from 1 to 32. */
static uint64_t gather_groups_of_width(const uint8_t *g, uint64_t groups, unsigned width, uint64_t words, const uint8_t *dictionary, uint64_t entries,
                                       uint8_t *out, uint64_t to, uint64_t stride) {
#define WIDTH_CASE(W) \
  case W:             \
    return words == 1 ? gather_groups(g, groups, W, 1, dictionary, entries, out, to, stride) : gather_groups(g, groups, W, 2, dictionary, entries, out, to, stride);
  switch (width) {
    WIDTH_CASE(1) WIDTH_CASE(2) WIDTH_CASE(3) WIDTH_CASE(4) WIDTH_CASE(5) WIDTH_CASE(6) WIDTH_CASE(7) WIDTH_CASE(8)
    WIDTH_CASE(9) WIDTH_CASE(10) WIDTH_CASE(11) WIDTH_CASE(12) WIDTH_CASE(13) WIDTH_CASE(14) WIDTH_CASE(15) WIDTH_CASE(16)
    WIDTH_CASE(17) WIDTH_CASE(18) WIDTH_CASE(19) WIDTH_CASE(20) WIDTH_CASE(21) WIDTH_CASE(22) WIDTH_CASE(23) WIDTH_CASE(24)
    WIDTH_CASE(25) WIDTH_CASE(26) WIDTH_CASE(27) WIDTH_CASE(28) WIDTH_CASE(29) WIDTH_CASE(30) WIDTH_CASE(31) WIDTH_CASE(32)
    default:
      return 0;
  }
#undef WIDTH_CASE
}

/*
 * The next `limit` values of a piece (at most its `count`; see the file comment), its place
 * moved on past them; NULL when they were written, else why not (possibly in `failure`),
 * with `*value` the piece's value (from its first) that could not be read.
 */
static const char *gather_piece(gather_piece_t *p, uint64_t limit, uint8_t *out, char *failure, size_t failure_size, uint64_t *value_at) {
  *value_at = p->done;
  if (limit == 0) return NULL;
  if (p->packed == PLAIN_PIECE) {
    /* Locals, not p's fields: a store through `out` may alias anything, so the compiler would reload p->stride for every value. */
    const size_t step = 4 * (size_t)p->stride;
    uint8_t *row = out + 4 * p->first;
    if (p->words == 1) {
      const uint8_t *value = p->dictionary + 4 * p->index;
      for (uint64_t i = 0; i < limit; i++, row += step, value += 4) memcpy(row, value, 4);
    } else {
      const uint8_t *value = p->dictionary + 8 * p->index;
      for (uint64_t i = 0; i < limit; i++, row += step, value += 8) memcpy(row, value, 8);
    }
    p->first += limit * p->stride;
    p->index += limit;
    p->count -= limit;
    p->done += limit;
    return NULL;
  }
  if (p->section_length < 1) return "the dictionary indices' section is empty";
  const uint8_t *s = p->section;
  const size_t len = p->section_length;
  const unsigned width = s[0];
  if (width > 32) {
    snprintf(failure, failure_size, "the dictionary indices' bit width is %u, over 32", width);
    return failure;
  }
  const uint64_t entries = p->entries, words = p->words, stride = p->stride;
  uint64_t at = p->at, left = p->left, run_at = p->run_at, bit = p->bit, index = p->index;
  int packed = p->packed;
  /* The place JavaScript left the stream in, held to the rules a run read here is held to. */
  if (at > len) return "the next run header is past the section";
  if (left > 0 && packed && (run_at > len || (bit + left * width + 7) / 8 > len - run_at)) return "the current bit-packed run is past the section";
  if (left > 0 && !packed && index >= entries) return "the current RLE run's index is past the dictionary";
  const uint64_t mask = ((uint64_t)1 << width) - 1;
  uint64_t to = p->first;
  uint64_t count = limit;
/* Stops at the run header needed for the piece's next value. */
#define STOP_AT_HEADER(reason) do { *value_at = p->done + (limit - count); return (reason); } while (0)
  while (count > 0) {
    if (left == 0) {
      uint64_t header = 0;
      for (int shift = 0;; shift += 7) {
        if (at >= len || shift > 28) STOP_AT_HEADER("a run header of the dictionary indices is cut or longer than 5 bytes");
        uint8_t byte = s[at++];
        header |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) break;
      }
      if (header & 1) {
        /* Bit-packed: groups of 8 values, least significant bit first (padding past the page's count is never asked for). */
        uint64_t groups = header >> 1;
        uint64_t bytes = groups * width;
        if (bytes > len - at || bytes * 8 >= ((uint64_t)1 << 31)) STOP_AT_HEADER("a bit-packed run of dictionary indices runs past the section");
        packed = 1;
        run_at = at;
        bit = 0;
        left = groups * 8;
        at += bytes;
      } else {
        uint64_t run = header >> 1;
        size_t byte_width = (width + 7) >> 3;
        if (run == 0) STOP_AT_HEADER("an RLE run of dictionary indices holds 0 values");
        if (byte_width > len - at) STOP_AT_HEADER("the value of an RLE run of dictionary indices is cut");
        index = 0;
        for (size_t k = 0; k < byte_width; k++) index |= (uint64_t)s[at + k] << (8 * k);
        at += byte_width;
        if (index >= entries) {
          snprintf(failure, failure_size, "dictionary index %llu is past the dictionary's %llu entries", (unsigned long long)index, (unsigned long long)entries);
          STOP_AT_HEADER(failure);
        }
        packed = 0;
        left = run;
      }
      continue;
    }
    uint64_t take = left < count ? left : count;
    if (packed) {
      for (uint64_t i = 0; i < take; i++, bit += width, to += stride) {
        /* At a group's start with whole groups to take: as many as lie inside the section, at once. */
        if (width > 0 && take - i >= 8 && (bit / width) % 8 == 0) {
          const uint64_t room = len - run_at - (bit >> 3);
          const uint64_t fit = room >= 8 + (uint64_t)width ? (room - 8) / width : 0;
          const uint64_t groups = (take - i) / 8 < fit ? (take - i) / 8 : fit;
          const uint64_t written = groups > 0 ? gather_groups_of_width(s + run_at + (bit >> 3), groups, width, words, p->dictionary, entries, out, to, stride) : 0;
          i += 8 * written;
          bit += 8 * written * width;
          to += 8 * written * stride;
          if (i == take) break;
        }
        size_t byte = run_at + (size_t)(bit >> 3);
        uint64_t window;
        if (len - byte >= 8) {
          window = load64le(s + byte);
        } else {
          /* The section's last bytes: only those inside it (the value's own bits are). */
          window = 0;
          for (size_t k = 0; k < len - byte; k++) window |= (uint64_t)s[byte + k] << (8 * k);
        }
        uint64_t value = (window >> (bit & 7)) & mask;
        if (value >= entries) {
          *value_at = p->done + (limit - count) + i;
          snprintf(failure, failure_size, "dictionary index %llu is past the dictionary's %llu entries", (unsigned long long)value, (unsigned long long)entries);
          return failure;
        }
        put(out, to, p->dictionary, value, words);
      }
    } else {
      for (uint64_t i = 0; i < take; i++, to += stride) put(out, to, p->dictionary, index, words);
    }
    left -= take;
    count -= take;
  }
#undef STOP_AT_HEADER
  p->first = to;
  p->count -= limit;
  p->done += limit;
  p->at = at;
  p->left = left;
  p->packed = packed;
  p->run_at = run_at;
  p->bit = bit;
  p->index = index;
  return NULL;
}

/*
 * Writes every piece a tile of rows at a time: each round takes the lowest row any piece
 * has left to write and writes, piece by piece, the values of the rows from there to the
 * tile's end (a piece's row is its next word over its stride). Every round writes at least
 * the lowest piece's next value, so the rounds end.
 */
static const char *gather_work(void *context) {
  gather_job_t *job = (gather_job_t *)context;
  char reason[160];
  uint64_t widest = 1;
  for (size_t i = 0; i < job->pieces; i++) if (job->piece[i].stride > widest) widest = job->piece[i].stride;
  const uint64_t tile_rows = TILE_BYTES / (4 * widest) > 8 ? TILE_BYTES / (4 * widest) : 8;
  for (;;) {
    uint64_t low = UINT64_MAX;
    for (size_t i = 0; i < job->pieces; i++) {
      const gather_piece_t *p = &job->piece[i];
      if (p->count > 0 && p->first / p->stride < low) low = p->first / p->stride;
    }
    if (low == UINT64_MAX) return NULL;
    const uint64_t end = low + tile_rows;
    for (size_t i = 0; i < job->pieces; i++) {
      gather_piece_t *p = &job->piece[i];
      const uint64_t row = p->first / p->stride;
      if (p->count == 0 || row >= end) continue;
      uint64_t value = 0;
      const char *failure = gather_piece(p, end - row < p->count ? end - row : p->count, job->out, reason, sizeof reason, &value);
      if (failure) {
        /* "piece P, value V: reason", which gather-native.ts reads back (the reason may be `reason` itself: a copy apart). */
        snprintf(job->failure, sizeof job->failure, "piece %zu, value %llu: %s", i, (unsigned long long)value, failure);
        return job->failure;
      }
    }
  }
}

/* Whether `value` is a whole number from 0 to `max`. */
static int whole(double value, double max) { return value >= 0 && value <= max && value == floor(value); }

/* Throws RangeError ERANGE naming piece `i` and what is wrong with it; returns NULL. */
static napi_value refuse(napi_env env, size_t i, const char *what) {
  char text[192];
  snprintf(text, sizeof text, "parquetGatherBand: piece %zu: %s", i, what);
  napi_throw_range_error(env, "ERANGE", text);
  return NULL;
}

napi_value tensio_parquet_gather_band(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  bool is_array = false;
  uint32_t pieces = 0, dictionaries = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &pieces) != napi_ok ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &dictionaries) != napi_ok || dictionaries != pieces) {
    napi_throw_type_error(env, NULL, "parquetGatherBand(sections, dictionaries, params, out) takes two arrays of Uint8Arrays of one length, a Float64Array and a Uint8Array");
    return NULL;
  }
  bool is_typed = false;
  napi_typedarray_type type;
  size_t param_count = 0;
  double *params = NULL;
  if (napi_is_typedarray(env, argv[2], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[2], &type, &param_count, (void **)&params, NULL, NULL) != napi_ok || type != napi_float64_array || param_count != (size_t)pieces * PARAMS) {
    napi_throw_type_error(env, NULL, "parquetGatherBand: params must be a Float64Array of 11 numbers per piece");
    return NULL;
  }
  uint8_t *out;
  size_t out_length;
  if (!tensio_uint8_bytes(env, argv[3], "parquetGatherBand: out must be a Uint8Array", &out, &out_length)) return NULL;
  const uint64_t out_words = out_length / 4;
  gather_job_t *job = (gather_job_t *)calloc(1, sizeof *job + (size_t)pieces * sizeof(gather_piece_t));
  napi_value *held = (napi_value *)calloc(2 * (size_t)pieces + 1, sizeof *held);
  if (!job || !held) {
    free(job);
    free(held);
    napi_throw_error(env, "ENOMEM", "parquetGatherBand: out of memory");
    return NULL;
  }
  job->out = out;
  job->pieces = pieces;
  const double most = 9007199254740991.0; /* 2^53 - 1 */
  for (uint32_t i = 0; i < pieces; i++) {
    gather_piece_t *p = &job->piece[i];
    uint8_t *section, *dictionary;
    size_t dictionary_length;
    if (napi_get_element(env, argv[0], i, &held[2 * i]) != napi_ok || napi_get_element(env, argv[1], i, &held[2 * i + 1]) != napi_ok ||
        !tensio_uint8_bytes(env, held[2 * i], "parquetGatherBand: every section must be a Uint8Array", &section, &p->section_length) ||
        !tensio_uint8_bytes(env, held[2 * i + 1], "parquetGatherBand: every dictionary must be a Uint8Array", &dictionary, &dictionary_length)) {
      free(job);
      free(held);
      return NULL;
    }
    p->section = section;
    p->dictionary = dictionary;
    const double *q = params + (size_t)i * PARAMS;
    int numbers = 1;
    for (int k = 0; k < PARAMS; k++) numbers = numbers && whole(q[k], most);
    if (!numbers) {
      free(job);
      free(held);
      return refuse(env, i, "a parameter is not a whole number from 0 to 2^53 - 1");
    }
    p->entries = (uint64_t)q[P_ENTRIES];
    p->words = (uint64_t)q[P_WORDS];
    p->count = (uint64_t)q[P_COUNT];
    p->first = (uint64_t)q[P_FIRST];
    p->stride = (uint64_t)q[P_STRIDE];
    p->at = (uint64_t)q[P_AT];
    p->left = (uint64_t)q[P_LEFT];
    p->packed = q[P_PACKED] == PLAIN_PIECE ? PLAIN_PIECE : q[P_PACKED] != 0;
    p->run_at = (uint64_t)q[P_RUN_AT];
    p->bit = (uint64_t)q[P_BIT];
    p->index = (uint64_t)q[P_INDEX];
    const char *wrong = NULL;
    if (p->words != 1 && p->words != 2) wrong = "values must be 1 or 2 words";
    else if (p->stride < p->words) wrong = "the stride is shorter than a value";
    else if (p->entries > dictionary_length / (4 * p->words)) wrong = "the dictionary holds fewer bytes than its entries";
    else if (p->packed == PLAIN_PIECE && (p->index > p->entries || p->count > p->entries - p->index)) wrong = "its PLAIN values run past their page";
    /* Every value's words inside `out`: first + (count - 1) * stride + words <= out_words, without overflow. */
    else if (p->count > 0 && (p->first > out_words || p->words > out_words - p->first || (p->count - 1) > (out_words - p->first - p->words) / p->stride)) wrong = "its values would be written past the end of out";
    if (wrong) {
      free(job);
      free(held);
      return refuse(env, i, wrong);
    }
  }
  held[2 * (size_t)pieces] = argv[3];
  napi_value promise = tensio_queue_held_job(env, held, 2 * (size_t)pieces + 1, gather_work, job, "parquetGatherBand");
  free(held);
  return promise;
}
