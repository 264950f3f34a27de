{
  "targets": [
    {
      "target_name": "tensio_mmap",
      "sources": ["src/tensio_mmap.c", "src/tensio_snappy.c", "src/tensio_buffer_job.c", "src/tensio_zstd.c", "src/tensio_gather.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS=='linux'", {"libraries": ["-ldl", "-lpthread"]}]]
    }
  ]
}
