#!/usr/bin/env bash
# Make sure the Debian tools that make the recordings tests' audio are installed: espeak-ng
# speaks, sox and ffmpeg encode (MP3, FLAC, Ogg Vorbis/Opus, M4A) and ffprobe measures.
set -euo pipefail
missing=()
for tool in espeak-ng sox ffmpeg ffprobe; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "audio-tools.sh: missing ${missing[*]}; install as root: apt-get install espeak-ng sox libsox-fmt-mp3 ffmpeg" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
for _ in 1 2 3 4 5 6; do
    if apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 &&
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
            espeak-ng sox libsox-fmt-mp3 ffmpeg >&2; then
        exit 0
    fi
    sleep 10 # another apt run may hold the lock
done
echo "audio-tools.sh: could not install espeak-ng, sox and ffmpeg with apt-get" >&2
exit 1
