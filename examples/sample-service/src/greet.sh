#!/usr/bin/env bash
# The sample service: prints a greeting. Small on purpose; the pipeline around it is the point.
set -euo pipefail
name="${1:-world}"
echo "hello, ${name}"
