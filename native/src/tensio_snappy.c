/*
 * Raw snappy on libuv worker threads, for Parquet pages:
 * - snappyUncompressInto(input, output) -> Promise<undefined>: decodes into a buffer the
 *   caller owns;
 * - snappyCompressInto(input, output) -> Promise<number>: one raw snappy block (see
 *   snappy_encode) written into `output`, at least snappyCompressBound(input length)
 *   bytes; resolves to the block's length.
 *
 * Why tensio has its own: the `snappy` npm package (napi-rs) allocates every result on
 * its worker threads with its own allocator and frees it on the JavaScript thread when
 * the Buffer is collected; a 2 GiB Parquet read kept 170-230 MiB more resident than
 * the same read through WebAssembly. Here nothing is allocated: the page decodes
 * straight into the output JavaScript gave, on a thread of the pool, so the pages of a
 * row group still decode side by side.
 *
 * The format (Google's "Snappy compressed format description"): a little-endian
 * base-128 varint of the uncompressed length, then elements. Each element starts with
 * a tag byte whose two low bits give its kind:
 *   00 literal: length - 1 in the upper six bits, or 60..63 there meaning 1..4 bytes of
 *      (length - 1) follow, little-endian; then the literal bytes;
 *   01 copy, 1-byte offset: length - 4 in bits 2..4 (4..11), offset's high 3 bits in
 *      bits 5..7, its low 8 bits in the next byte;
 *   10 copy, 2-byte offset: length - 1 in the upper six bits, offset in 2 bytes;
 *   11 copy, 4-byte offset: length - 1 in the upper six bits, offset in 4 bytes.
 * A copy repeats `length` bytes starting `offset` bytes back in the output (the ranges
 * may overlap: offset < length repeats a pattern).
 *
 * Every rule is checked before a byte moves: the declared length must equal the
 * output's length, no element may read past the input or write past the output, a copy
 * may not reach before the output's start or have offset 0, and the elements must fill
 * the output exactly. A violation rejects with code "ECORRUPT" and what went wrong.
 */
#include <node_api.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensio_buffer_job.h"
#include "tensio_snappy.h"

/* The encoder's hash table: 2^14 positions within one 64 KiB fragment (16-bit). */
#define HASH_BITS 14
#define FRAGMENT_BYTES 65536

/*
 * Fixed-size moves: the compiler makes each one or two unaligned loads and stores instead
 * of a call to memcpy with a length it must inspect. Most elements of float pages are
 * a few bytes long, and the call was most of their cost.
 */
static inline void move8(uint8_t *to, const uint8_t *from) { memcpy(to, from, 8); }
static inline void move16(uint8_t *to, const uint8_t *from) { memcpy(to, from, 16); }

/* Room the fast loop of snappy_decode needs: a tag and the 16 bytes a short literal moves
 * (a copy's offset is at most 2 bytes), and the longest copy it takes (64 bytes) with the
 * up to 7 bytes its last 8-byte move writes past it, or a literal's 16-byte move. */
#define FAST_INPUT_ROOM 17
#define FAST_OUTPUT_ROOM 72

/* Why decoding stopped, for the rejection (NULL: it succeeded). */
static const char *snappy_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len) {
  size_t ip = 0;
  uint64_t declared = 0;
  for (int shift = 0;; shift += 7) {
    if (ip >= in_len || shift > 28) return "the length preamble is cut or longer than 5 bytes";
    uint8_t byte = in[ip++];
    declared |= (uint64_t)(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (declared != out_len) return "the length preamble differs from the page's uncompressed size";
  size_t op = 0;
  while (ip < in_len) {
    /*
     * The common elements first, while the input and output have room for any of them:
     * a literal of at most 16 bytes, and a copy with a 1- or 2-byte offset of at least 8
     * that reaches no further back than the output's start. None of them needs a bounds
     * check of its own here, because the room is checked once for every one of them.
     */
    while (in_len - ip >= FAST_INPUT_ROOM && out_len - op >= FAST_OUTPUT_ROOM) {
      const uint8_t tag = in[ip];
      if ((tag & 3) == 0) {
        if (tag >= (16 << 2)) break;
        const size_t length = (size_t)(tag >> 2) + 1;
        move16(out + op, in + ip + 1);
        ip += 1 + length;
        op += length;
        continue;
      }
      size_t length, offset, size;
      if ((tag & 3) == 1) {
        length = (size_t)((tag >> 2) & 7) + 4;
        offset = ((size_t)(tag >> 5) << 8) | in[ip + 1];
        size = 2;
      } else if ((tag & 3) == 2) {
        length = (size_t)(tag >> 2) + 1;
        offset = (size_t)in[ip + 1] | ((size_t)in[ip + 2] << 8);
        size = 3;
      } else {
        break;
      }
      if (offset < 8 || offset > op) break;
      uint8_t *to = out + op;
      const uint8_t *from = to - offset;
      move8(to, from);
      move8(to + 8, from + 8);
      for (size_t k = 16; k < length; k += 8) move8(to + k, from + k);
      ip += size;
      op += length;
    }
    if (ip >= in_len) break;
    uint8_t tag = in[ip++];
    uint64_t length;
    if ((tag & 3) == 0) {
      length = (uint64_t)(tag >> 2);
      if (length >= 60) {
        size_t extra = (size_t)(length - 59);
        if (extra > in_len - ip) return "a literal's length is cut";
        length = 0;
        for (size_t k = 0; k < extra; k++) length |= (uint64_t)in[ip + k] << (8 * k);
        ip += extra;
      }
      length += 1;
      if (length > in_len - ip) return "a literal runs past the end of the input";
      if (length > out_len - op) return "a literal runs past the declared length";
      /*
       * A short literal with 16 bytes of room on both sides moves as 16 bytes: the bytes
       * past it are inside the output and are overwritten by the elements after it (which
       * must fill the output; a copy only reads bytes before `op`).
       */
      if (length <= 16 && in_len - ip >= 16 && out_len - op >= 16) move16(out + op, in + ip);
      else memcpy(out + op, in + ip, (size_t)length);
      ip += (size_t)length;
      op += (size_t)length;
      continue;
    }
    uint64_t offset;
    if ((tag & 3) == 1) {
      if (ip >= in_len) return "a copy's offset is cut";
      length = ((tag >> 2) & 7) + 4;
      offset = ((uint64_t)(tag >> 5) << 8) | in[ip++];
    } else if ((tag & 3) == 2) {
      if (2 > in_len - ip) return "a copy's offset is cut";
      length = (uint64_t)(tag >> 2) + 1;
      offset = (uint64_t)in[ip] | ((uint64_t)in[ip + 1] << 8);
      ip += 2;
    } else {
      if (4 > in_len - ip) return "a copy's offset is cut";
      length = (uint64_t)(tag >> 2) + 1;
      offset = (uint64_t)in[ip] | ((uint64_t)in[ip + 1] << 8) | ((uint64_t)in[ip + 2] << 16) | ((uint64_t)in[ip + 3] << 24);
      ip += 4;
    }
    if (offset == 0 || offset > op) return "a copy reaches before the start of the output";
    if (length > out_len - op) return "a copy runs past the declared length";
    uint8_t *to = out + op;
    const uint8_t *from = to - offset;
    if (offset >= 8 && out_len - op >= length + 8) {
      /*
       * 8 bytes at a time, the last move reaching up to 7 bytes past the copy (inside the
       * output, overwritten later as above). With the offset at least 8, every byte a move
       * reads was written before it, so an overlapping copy repeats its pattern correctly.
       */
      for (size_t k = 0; k < (size_t)length; k += 8) move8(to + k, from + k);
    } else if (offset >= length) {
      memcpy(to, from, (size_t)length);
    } else {
      /* Overlapping: each byte may be one this copy just wrote (a repeated pattern). */
      for (size_t k = 0; k < (size_t)length; k++) to[k] = from[k];
    }
    op += (size_t)length;
  }
  if (op != out_len) return "the elements end before the declared length";
  return NULL;
}

/* The decoder as a buffer job: the output is exactly the declared length, so all of it is written. */
static const char *uncompress_work(const uint8_t *input, size_t input_length, uint8_t *output, size_t output_length, size_t *written) {
  *written = output_length;
  return snappy_decode(input, input_length, output, output_length);
}

napi_value tensio_snappy_uncompress_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "snappyUncompressInto(input, output) takes two Uint8Arrays");
    return NULL;
  }
  return tensio_queue_buffer_job(env, argv[0], argv[1], uncompress_work, TENSIO_RESOLVE_UNDEFINED, "snappyUncompressInto");
}

/* ---- compression ---- */

/* The most bytes snappy_encode writes for `length` input bytes (snappy's own bound). */
static size_t snappy_bound(size_t length) { return 32 + length + length / 6; }

static uint32_t load32(const uint8_t *at) {
  uint32_t value;
  memcpy(&value, at, 4);
  return value;
}

static uint8_t *emit_literal(uint8_t *op, const uint8_t *from, size_t length) {
  size_t n = length - 1;
  if (n < 60) {
    *op++ = (uint8_t)(n << 2);
  } else if (n < 256) {
    *op++ = 60 << 2;
    *op++ = (uint8_t)n;
  } else if (n < 65536) {
    *op++ = 61 << 2;
    *op++ = (uint8_t)n;
    *op++ = (uint8_t)(n >> 8);
  } else if (n < (1u << 24)) {
    *op++ = 62 << 2;
    *op++ = (uint8_t)n;
    *op++ = (uint8_t)(n >> 8);
    *op++ = (uint8_t)(n >> 16);
  } else {
    *op++ = 63 << 2;
    *op++ = (uint8_t)n;
    *op++ = (uint8_t)(n >> 8);
    *op++ = (uint8_t)(n >> 16);
    *op++ = (uint8_t)(n >> 24);
  }
  memcpy(op, from, length);
  return op + length;
}

/* A copy of `length` (>= 4) bytes from `offset` (1..65535) back: 2-byte-offset elements
 * of at most 64 bytes, the last one a 1-byte-offset element when it fits (4-11 bytes,
 * offset below 2048). Splitting at 64 keeps every remainder at least 1; a remainder below
 * 4 is made 4 or more by taking 60 instead of 64 from the element before it. */
static uint8_t *emit_copy(uint8_t *op, size_t offset, size_t length) {
  while (length >= 68) {
    *op++ = (uint8_t)(((64 - 1) << 2) | 2);
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
    length -= 64;
  }
  if (length > 64) {
    *op++ = (uint8_t)(((60 - 1) << 2) | 2);
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
    length -= 60;
  }
  if (length <= 11 && offset < 2048) {
    *op++ = (uint8_t)(1 | ((length - 4) << 2) | ((offset >> 8) << 5));
    *op++ = (uint8_t)offset;
  } else {
    *op++ = (uint8_t)(((length - 1) << 2) | 2);
    *op++ = (uint8_t)offset;
    *op++ = (uint8_t)(offset >> 8);
  }
  return op;
}

/*
 * One raw snappy block of `in` (the preamble, then elements), written to `out` (at least
 * snappy_bound(in_len) bytes); returns the bytes written. The input is cut into 64 KiB
 * fragments so that every copy's offset fits 16 bits; in each, a hash of the next four
 * bytes finds the last position with the same hash, and when its four bytes are equal
 * the match is extended as far as it goes and emitted as a copy, the bytes before it as
 * a literal. Positions that keep missing are skipped faster and faster (incompressible
 * data costs little), back to every position after the next match.
 */
static size_t snappy_encode(const uint8_t *in, size_t in_len, uint8_t *out) {
  uint8_t *op = out;
  uint64_t preamble = in_len;
  do {
    uint8_t byte = (uint8_t)(preamble & 0x7f);
    preamble >>= 7;
    *op++ = preamble ? (uint8_t)(byte | 0x80) : byte;
  } while (preamble);
  uint16_t table[1 << HASH_BITS];
  for (size_t start = 0; start < in_len; start += FRAGMENT_BYTES) {
    const uint8_t *base = in + start;
    size_t length = in_len - start < FRAGMENT_BYTES ? in_len - start : FRAGMENT_BYTES;
    size_t emitted = 0;
    if (length >= 16) {
      memset(table, 0, sizeof table);
      size_t limit = length - 4; /* the last position whose four bytes can be hashed */
      size_t ip = 1;
      uint32_t misses = 32;
      while (ip <= limit) {
        uint32_t bytes = load32(base + ip);
        uint32_t hash = (bytes * 0x1e35a7bdu) >> (32 - HASH_BITS);
        size_t candidate = table[hash];
        table[hash] = (uint16_t)ip;
        if (candidate < ip && load32(base + candidate) == bytes) {
          if (ip > emitted) op = emit_literal(op, base + emitted, ip - emitted);
          size_t matched = 4;
          while (ip + matched < length && base[candidate + matched] == base[ip + matched]) matched++;
          op = emit_copy(op, ip - candidate, matched);
          ip += matched;
          emitted = ip;
          misses = 32;
          if (ip - 1 <= limit) table[(load32(base + ip - 1) * 0x1e35a7bdu) >> (32 - HASH_BITS)] = (uint16_t)(ip - 1);
        } else {
          /* Each miss adds 1/32 of the step to the step: long runs of misses speed up geometrically. */
          uint32_t step = misses >> 5;
          misses += step;
          ip += step;
        }
      }
    }
    if (emitted < length) op = emit_literal(op, base + emitted, length - emitted);
  }
  return (size_t)(op - out);
}

/* The encoder as a buffer job (the caller checked the output against snappy_bound). */
static const char *compress_work(const uint8_t *input, size_t input_length, uint8_t *output, size_t output_length, size_t *written) {
  (void)output_length;
  *written = snappy_encode(input, input_length, output);
  return NULL;
}

napi_value tensio_snappy_compress_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  double length = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_double(env, argv[0], &length) != napi_ok || !(length >= 0 && length <= 4294967295.0)) {
    napi_throw_range_error(env, "ERANGE", "snappyCompressBound(length) takes a length from 0 to 4 GiB - 1");
    return NULL;
  }
  napi_create_double(env, (double)snappy_bound((size_t)length), &result);
  return result;
}

napi_value tensio_snappy_compress_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "snappyCompressInto(input, output) takes two Uint8Arrays");
    return NULL;
  }
  uint8_t *input, *output;
  size_t input_length, output_length;
  if (!tensio_uint8_bytes(env, argv[0], "snappyCompressInto: input must be a Uint8Array", &input, &input_length)) return NULL;
  if (!tensio_uint8_bytes(env, argv[1], "snappyCompressInto: output must be a Uint8Array", &output, &output_length)) return NULL;
  if (input_length > 0xffffffffu) {
    napi_throw_range_error(env, "ERANGE", "snappyCompressInto: a snappy block holds at most 4 GiB - 1 bytes");
    return NULL;
  }
  if (output_length < snappy_bound(input_length)) {
    napi_throw_range_error(env, "ERANGE", "snappyCompressInto: output is shorter than snappyCompressBound(input length)");
    return NULL;
  }
  return tensio_queue_buffer_job(env, argv[0], argv[1], compress_work, TENSIO_RESOLVE_WRITTEN, "snappyCompressInto");
}
