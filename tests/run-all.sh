#!/usr/bin/env bash
# Runs the whole test suite. On a fresh Debian 12 machine with the .NET 10 SDK, as root, it first
# installs the Debian packages the tests use; otherwise it names what is missing. Every package is
# named here: apt-get runs with --no-install-recommends, so nothing may come in as a Recommends
# (tests/SeedDaemon.Tests/Operations/TestDependenciesTests checks each file the tests read outside
# the repository against this list with dpkg -S).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  python3 python3-numpy python3-torch python3-sklearn  # the oracles: NumPy for the derivation, PyTorch for the draws
  python3-grpcio python3-protobuf                      # a real non-.NET gRPC client, and what seedd_client needs
  python3-cryptography                                 # Ed25519 for seedd_client's checks of signed checkpoints
  protobuf-compiler protobuf-compiler-grpc             # protoc and grpc_python_plugin: stubs for Python from protos/
  libprotobuf-dev                                      # google/protobuf/*.proto, which protoc needs (only a Recommends of protobuf-compiler)
  python3-venv python3-setuptools python3-wheel        # pip install of seedd_client into a venv (setuptools builds it)
  postgresql-15                                        # the replicated backend's tests make their own clusters
  strace                                               # counts the daemon's fsyncs
  time systemd git                                     # peak memory, systemd-analyze verify, buf breaking's base and seedd 1.0's source
  curl                                                 # the README's REST transcripts, replayed by tests/readme/transcripts.py
  chromium                                             # renders runs diff's HTML report headless, as a person would open it
  golang-go golang-golang-x-mod-dev                    # Go's sumdb/tlog and sumdb/note: independent Merkle tree and signed notes
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v npm >/dev/null || missing+=(npm)                 # buf comes from the npm registry

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "run-all: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "run-all: the tests need these Debian packages: ${missing[*]}" >&2
    echo "run-all: install them (sudo apt-get install --no-install-recommends ${missing[*]}) or run this script as root." >&2
    exit 2
  fi
fi

# buf, for the protos' lint and breaking-change tests (npm registry; the binary ships in the package).
if [[ ! -x tests/.tools/node_modules/.bin/buf ]]; then
  npm install --no-save --no-audit --no-fund --silent --prefix tests/.tools @bufbuild/buf@1.75.0
fi

dotnet build SeedDaemon.sln -c Release --nologo -v quiet
log=$(mktemp)
started=$(mktemp)
trap 'rm -f "$log" "$started"' EXIT
status=0
# Normal console verbosity prints each skipped test with its reason.
# A test host that hangs is killed after 10 minutes and counted as a failure.
dotnet test SeedDaemon.sln -c Release --no-build --nologo --logger "console;verbosity=normal" --blame-hang-timeout 10m "$@" 2>&1 | tee "$log" || status=$?

# A test host is ended soon after its last test, at times before it stopped its PostgreSQL server or
# removed its folder: stop and remove those this run started.
# As PostgresCluster.DisposeAsync does: pg_ctl refuses root, so as root it runs as postgres.
as_postgres=(); [[ $(id -u) -eq 0 ]] && as_postgres=(runuser -u postgres --)
for folder in "${TMPDIR:-/tmp}"/seedd-pg-*; do
  [[ -d "$folder/data" && "$folder" -nt "$started" ]] || continue
  if [[ -f "$folder/data/postmaster.pid" ]] \
    && "${as_postgres[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$folder/data" -m immediate stop > /dev/null 2>&1; then
    echo "run-all: stopped a PostgreSQL server a test host left running ($folder)"
  fi
  rm -rf "$folder" 2> /dev/null || true
done

# One plain summary line over all test assemblies (each ends with "Passed: N", "Failed: N", ...).
sum() { grep -E "^ +$1: +[0-9]+$" "$log" | grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'; }
failed=$(( $(sum Failed) + $(grep -c "Test Run Aborted" "$log" || true) ))
# The failed tests come last too, each with the first lines of its message, so a log's tail says which and why.
awk '/^ +Failed [A-Za-z_]/ { sub(/^ +Failed /, "failed: "); print; left = 0; next }
     /^ +Error Message:/ { left = 4; next }
     left > 0 { print "    " $0; left--; if (left == 0) print "" }' "$log"
echo "$(sum Passed) passed, $failed failed, $(sum Skipped) skipped"
exit "$status"
