#!/usr/bin/env bash
# Installs the Debian 12 packages cairn needs to build, test and run.
# Run as root. Safe to run again.
set -euo pipefail
if [[ $(id -u) != 0 ]]; then echo "run as root (or with sudo)" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config ccache mold git ca-certificates curl openssl \
  libssl-dev libboost-dev libcereal-dev librocksdb-dev libcpp-httplib-dev libspdlog-dev \
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev libjemalloc-dev \
  clang-14 libclang-rt-14-dev >/dev/null
echo "dependencies installed"
