#!/usr/bin/env bash
# publish.sh [DIR] — makes the sample service a git repository (a bare one at DIR, by default
# /tmp/custody-sample-service.git, where ../pipelines/sample-service.yaml looks for it).
# Run it again after editing the service to publish a new commit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-/tmp/custody-sample-service.git}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[[ -d "$target" ]] || git init -q --bare -b main "$target"
git clone -q "$target" "$work/repo" 2>/dev/null || git init -q -b main "$work/repo"
cp -R "$here/src" "$here/scripts" "$here/README.md" "$work/repo/"
cd "$work/repo"
git add -A
if git diff --cached --quiet; then
  echo "nothing new to publish in $target"
  exit 0
fi
git -c user.name="${GIT_AUTHOR_NAME:-Sample Developer}" -c user.email="${GIT_AUTHOR_EMAIL:-dev@sample.example}" \
  commit -q -m "sample service $(date -u +%Y-%m-%dT%H:%M:%SZ)"
git push -q origin HEAD:main
echo "published $(git rev-parse HEAD) to $target"
