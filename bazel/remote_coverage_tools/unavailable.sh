#!/bin/sh
echo "bazel coverage is not available in the offline build (bazel/README.md)" >&2
exit 1
