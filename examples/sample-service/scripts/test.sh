#!/usr/bin/env bash
# Runs the service's tests and writes a JUnit XML report to reports/junit.xml.
set -uo pipefail
mkdir -p reports
pass=0; fail=0; cases=""
check() {
  local name="$1" expected="$2"; shift 2
  local actual; actual="$("$@" 2>&1)"
  if [[ "$actual" == "$expected" ]]; then
    pass=$((pass + 1)); cases+="    <testcase classname=\"greet\" name=\"${name}\"/>"$'\n'
  else
    fail=$((fail + 1)); cases+="    <testcase classname=\"greet\" name=\"${name}\"><failure message=\"expected ${expected}, got ${actual}\"/></testcase>"$'\n'
  fi
}
check "greets the world by default" "hello, world" bash src/greet.sh
check "greets by name" "hello, auditor" bash src/greet.sh auditor
total=$((pass + fail))
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo "<testsuites tests=\"${total}\" failures=\"${fail}\">"
  echo "  <testsuite name=\"greet\" tests=\"${total}\" failures=\"${fail}\">"
  printf '%s' "$cases"
  echo "  </testsuite>"
  echo "</testsuites>"
} > reports/junit.xml
echo "${pass} passed, ${fail} failed"
[[ $fail -eq 0 ]]
