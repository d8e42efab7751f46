#!/usr/bin/env bash
# Runs the whole test suite. On a fresh Debian 12 machine with the .NET 10 SDK, as root, it first
# installs the Debian packages the tests use as oracles; otherwise it names what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(python3 python3-numpy python3-torch python3-sklearn python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc time systemd)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "run-all: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "run-all: the tests need these Debian packages: ${missing[*]}" >&2
    echo "run-all: install them (sudo apt-get install ${missing[*]}) or run this script as root." >&2
    exit 2
  fi
fi

# buf, for the protos' lint and breaking-change tests (npm registry; the binary ships in the package).
if [[ ! -x tests/.tools/node_modules/.bin/buf ]]; then
  if ! command -v npm >/dev/null; then
    echo "run-all: npm is needed to install buf (@bufbuild/buf) for the protos tests: apt-get install npm" >&2
    exit 2
  fi
  npm install --no-save --no-audit --no-fund --silent --prefix tests/.tools @bufbuild/buf@1.75.0
fi

dotnet build SeedDaemon.sln -c Release --nologo -v quiet
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Normal console verbosity prints each skipped test with its reason.
# A test host that hangs is killed after 10 minutes and counted as a failure.
dotnet test SeedDaemon.sln -c Release --no-build --nologo --logger "console;verbosity=normal" --blame-hang-timeout 10m "$@" 2>&1 | tee "$log" || status=$?

# One plain summary line over all test assemblies (each ends with "Passed: N", "Failed: N", ...).
sum() { grep -E "^ +$1: +[0-9]+$" "$log" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
failed=$(( $(sum Failed) + $(grep -c "Test Run Aborted" "$log" || true) ))
echo "$(sum Passed) passed, $failed failed, $(sum Skipped) skipped"
exit "$status"
