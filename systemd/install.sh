#!/usr/bin/env bash
# Installs seedd and seedctl as a systemd service, or removes them. Idempotent: run it again to
# upgrade. Needs the .NET 10 SDK to build, and the ASP.NET Core 10 runtime on the host.
#
#   sudo systemd/install.sh              install or upgrade
#   sudo systemd/install.sh --uninstall  remove the programs and the unit (keeps /etc/seedd and /var/lib/seedd)
#   sudo systemd/install.sh --postgres FILE
#                                        replicated mode: FILE holds the PostgreSQL connection string;
#                                        it is copied to /etc/seedd/postgres.conn (mode 0600) and the
#                                        drop-in seedd.service.d/postgres.conf hands it to seedd
#   systemd/install.sh --root DIR        install under DIR instead of / (packaging, tests)
set -euo pipefail

root=""
action=install
postgres=""
while (($#)); do
  case "$1" in
    --uninstall) action=uninstall ;;
    --root) root=${2:?--root needs a directory}; shift ;;
    --postgres) postgres=${2:?--postgres needs a file holding the connection string}; shift
                [[ -r $postgres ]] || { echo "install.sh: cannot read $postgres" >&2; exit 2; } ;;
    -h|--help) sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
lib=$root/usr/lib/seedd
bin=$root/usr/bin
unit=$root/etc/systemd/system/seedd.service
etc=$root/etc/seedd
live_systemd() { [[ -z $root ]] && command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; }

if [[ $action == uninstall ]]; then
  if live_systemd; then systemctl disable --now seedd.service 2>/dev/null || true; fi
  rm -rf "$lib" "$unit" "$unit.d/postgres.conf" "$bin/seedd" "$bin/seedctl"
  if live_systemd; then systemctl daemon-reload; fi
  echo "seedd removed. Kept: $etc (configuration) and $root/var/lib/seedd (the database)."
  exit 0
fi

if [[ -z $root && $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (or with --root DIR)" >&2
  exit 2
fi

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
echo "install.sh: building seedd and seedctl (optimized)"
# A configuration of its own, so that the repository's Debug and Release outputs are left alone.
dotnet publish "$repo/src/Daemon" -c Install -p:Optimize=true -o "$build/seedd" --nologo -v quiet
dotnet publish "$repo/src/Ctl" -c Install -p:Optimize=true -p:SeedctlWithLibtorch=false -o "$build/seedd/seedctl" --nologo -v quiet

# Replace the programs in one step, so a running daemon never sees half an upgrade.
mkdir -p "$(dirname "$lib")" "$bin" "$(dirname "$unit")" "$etc"
rm -rf "$lib.new"
cp -a "$build/seedd" "$lib.new"
rm -rf "$lib.old"
if [[ -d $lib ]]; then mv "$lib" "$lib.old"; fi
mv "$lib.new" "$lib"
rm -rf "$lib.old"
ln -sfn /usr/lib/seedd/seedd "$bin/seedd"
ln -sfn /usr/lib/seedd/seedctl/seedctl "$bin/seedctl"
install -m 0644 "$repo/systemd/seedd.service" "$unit"
if [[ -n $postgres ]]; then
  install -D -m 0644 "$repo/systemd/postgres.conf" "$unit.d/postgres.conf"
  install -m 0600 "$postgres" "$etc/postgres.conn"
fi

# Configuration is the administrator's: written once, never overwritten.
if [[ ! -f $etc/appsettings.json ]]; then
  cat > "$etc/appsettings.json" <<'JSON'
{
  "Seedd": {
    "Listen": "127.0.0.1:50051",
    "HttpListen": "127.0.0.1:9464",
    "LogFormat": "plain",
    "Auth": { "Tokens": [], "AllowAnonymous": false }
  },
  "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning", "Grpc": "Warning" } }
}
JSON
fi
if [[ ! -f $etc/seedd.env ]]; then
  cat > "$etc/seedd.env" <<'ENV'
# Environment for seedd.service; any setting as Seedd__Key=value, e.g.
# Seedd__Auth__Tokens__0__Name=trainer-fleet
# Seedd__Auth__Tokens__0__Role=issuer
# Seedd__Auth__Tokens__0__Sha256=<the output of: printf %s "$TOKEN" | sha256sum | cut -d' ' -f1>
ENV
  chmod 0640 "$etc/seedd.env"
fi

if live_systemd; then systemctl daemon-reload; fi
cat <<NEXT
seedd installed in $lib (seedctl in $lib/seedctl), unit $unit, configuration in $etc.
Next:
  sudo systemctl enable --now seedd        start it, and at boot
  systemctl status seedd                   is it running?
  journalctl -u seedd -f                   its log
  seedctl doctor                           is it healthy?
  curl -s http://127.0.0.1:9464/metrics    Prometheus metrics
$(if [[ -n $postgres ]]; then echo "Records go to PostgreSQL (connection string in $etc/postgres.conn, drop-in $unit.d/postgres.conf)."; else echo "The database lives in /var/lib/seedd/seeds.db."; fi) Edit $etc/appsettings.json or $etc/seedd.env, then
'sudo systemctl restart seedd'.
NEXT
