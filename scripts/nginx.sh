#!/usr/bin/env bash
# Make sure the Debian packages the deployment tests need are installed: nginx (TLS in front
# of the service, deploy/stack.sh) and openssl (its self-signed certificate).
set -euo pipefail
have_nginx() { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }
have_nginx && command -v openssl >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "nginx.sh: nginx or openssl is missing; install as root: apt-get install nginx-light openssl" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
for _ in 1 2 3 4 5 6; do
    if apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            nginx-light openssl >&2; then
        # Debian starts a default nginx on port 80; the tests run their own on loopback.
        if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
            systemctl stop nginx || true
        fi
        exit 0
    fi
    sleep 10 # another apt run may hold the lock
done
echo "nginx.sh: could not install nginx-light and openssl with apt-get" >&2
exit 1
