"""The optional native readers (govweibo/ingest/_scan/, scan.h says what each file does):
built where a C compiler is present; without them, ingest maps every record in DuckDB SQL
or with json.loads, with the same results, slower."""

from setuptools import Extension, setup

SCAN = "src/govweibo/ingest/_scan"

setup(
    ext_modules=[
        Extension(
            "govweibo.ingest._sina_scan",
            [
                f"{SCAN}/{name}.c"
                for name in ("json", "values", "columns", "statuses", "reposts", "module")
            ],
            include_dirs=[SCAN],
            depends=[f"{SCAN}/scan.h"],
            extra_compile_args=[
                "-O3",
                "-std=c99",
                "-Wall",
                "-Wextra",
                "-pthread",
                "-fvisibility=hidden",
            ],
            extra_link_args=["-pthread"],
            optional=True,
        )
    ]
)
