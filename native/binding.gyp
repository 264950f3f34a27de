{
  "targets": [
    {
      "target_name": "tensio_mmap",
      "sources": ["src/tensio_mmap.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
