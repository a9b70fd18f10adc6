#!/usr/bin/env bash
# Packages the service into dist/app.tgz (the artifact whose digest identifies the release).
set -euo pipefail
rm -rf dist build && mkdir -p dist build/app
cp src/greet.sh build/app/
git rev-parse HEAD > build/app/COMMIT 2>/dev/null || echo unknown > build/app/COMMIT
# Reproducible archive: fixed order, owner and mtime.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2026-01-01 00:00Z' -C build -cf dist/app.tar app
gzip -n -9 < dist/app.tar > dist/app.tgz && rm dist/app.tar
echo "built dist/app.tgz ($(wc -c < dist/app.tgz) bytes)"
