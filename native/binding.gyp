{
  "variables": {
    "tensio_v8%": "<!(node -p \"process.env.TENSIO_NATIVE_V8 === '0' ? 0 : 1\")"
  },
  "targets": [
    {
      "target_name": "tensio_mmap",
      "sources": ["src/tensio_mmap.c", "src/tensio_snappy.c", "src/tensio_buffer_job.c", "src/tensio_zstd.c", "src/tensio_gather.c", "src/tensio_kept.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=gnu++17"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["OS=='linux'", {"libraries": ["-ldl", "-lpthread"]}],
        ["tensio_v8==1", {"sources": ["src/tensio_mmap_v8.cc"]}, {"defines": ["TENSIO_NO_V8_BUFFERS"]}]
      ]
    }
  ]
}
