#!/usr/bin/env bash
# deploy.sh ENVIRONMENT ARTIFACT — installs the artifact into a local directory per environment
# ($DEPLOY_ROOT/ENVIRONMENT), keeping the digest of what is live next to it.
set -euo pipefail
env="$1"; artifact="$2"
root="${DEPLOY_ROOT:?DEPLOY_ROOT must name the directory that holds one folder per environment}"
[[ -f "$artifact" ]] || { echo "no artifact at $artifact" >&2; exit 2; }
target="$root/$env"
mkdir -p "$target"
cp "$artifact" "$target/app.tgz"
rm -rf "$target/app" && tar -xzf "$target/app.tgz" -C "$target"
sha256sum "$target/app.tgz" | cut -d' ' -f1 > "$target/DIGEST"
echo "deployed $(cat "$target/DIGEST") to $env"
