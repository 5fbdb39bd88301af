"""The optional native reader (govweibo/ingest/_sina_scan.c): built where a C compiler
is present; without it, ingest maps every chunk in DuckDB SQL, the same results slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "govweibo.ingest._sina_scan",
            ["src/govweibo/ingest/_sina_scan.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
    ]
)
