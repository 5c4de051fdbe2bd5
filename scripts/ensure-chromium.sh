#!/usr/bin/env sh
# The page tests drive a real browser: Debian's chromium (playwright-core cannot download
# one on these machines). Installs it when it is missing and this machine can (root with
# apt-get: CI and the project's machines); otherwise says how, and fails: a page test is
# never skipped for want of a browser.
set -eu
chromium="${PTS_TEST_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium for the page tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }
  [ -x "$chromium" ] && exit 0
fi
echo "ensure-chromium: no browser at $chromium; install Debian's chromium (apt-get install -y chromium) or set PTS_TEST_CHROMIUM to one" >&2
exit 1
