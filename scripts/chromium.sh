#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it through
# executable_path; Playwright's own browser download is not used). Prints the binary's path.
set -euo pipefail
# The public pages are in Nepali too: without a Devanagari font Chromium draws empty boxes.
if [ "$(id -u)" -eq 0 ] && command -v fc-list >/dev/null && [ -z "$(fc-list :lang=ne)" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        fonts-lohit-deva >&2 || echo "chromium.sh: no Devanagari font installed" >&2
fi
if [ -x /usr/bin/chromium ]; then
    echo /usr/bin/chromium
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium.sh: Debian's chromium is missing; install it as root: apt-get install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
for _ in 1 2 3 4 5 6; do
    if apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends chromium fonts-lohit-deva >&2; then
        echo /usr/bin/chromium
        exit 0
    fi
    sleep 10 # another apt run may hold the lock
done
echo "chromium.sh: could not install chromium with apt-get" >&2
exit 1
