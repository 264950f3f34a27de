{
  "targets": [
    {
      "target_name": "tensio_mmap",
      "sources": ["src/tensio_mmap.c", "src/tensio_snappy.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
