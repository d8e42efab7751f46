#!/usr/bin/python3
"""Replays the transcripts of the README and the manual (docs/) against a fresh seedd and compares,
or writes them back.

    tests/readme/transcripts.py            check: exit 1 with a diff when a page and the product differ
    tests/readme/transcripts.py --update   rewrite the outputs in the pages from this run

A transcript is a ```console block: lines starting with "$ " are commands (a trailing backslash
continues one), the lines after a command are its output. Blocks run in page order (PAGES, then
each page top to bottom), in one scratch
folder (src/ and protos/ in commands mean the repository's), against an empty database: "$ seedd ... &" starts the
daemon in the background and shows its start-up lines. A ```python file=NAME block is written to
NAME in that folder first, so a later "$ python NAME" runs exactly the code the README shows.

`seedd` and `seedctl` are the Release builds (`dotnet build -c Release` first; the test suite does);
"dotnet run" runs them with --no-build.
The daemon listens on free ports, shown as the defaults 50051 (gRPC) and 9464 (HTTP/1.1); the
scratch folder shows as /home/you/demo, the host name as node (padded, so tables stay aligned). Compared with times, durations,
hashes, peer ports and client pids masked, and runs of spaces collapsed (table widths follow them).
"""
import difflib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The order a reader meets them in; later pages build on what earlier ones created.
PAGES = ["README.md", "docs/dotnet.md", "docs/python.md", "docs/runs.md", "docs/audit.md", "docs/operations.md",
         "docs/performance.md", "docs/development.md"]
SEEDD = os.path.join(REPO, "src/Daemon/bin/Release/net10.0/seedd.dll")
SEEDCTL = os.path.join(REPO, "src/Ctl/bin/Release/net10.0/seedctl.dll")
SHOWN_HOME = "/home/you"
SHOWN_FOLDER = "/home/you/demo"
SHOWN_HOST = "node"
GRPC_PORT, HTTP_PORT = "50051", "9464"


def free_port(taken=()):
    """A free loopback port below the kernel's ephemeral range (32768-60999 here), as the suite's
    Ports.UnusedOutsideTheEphemeralRange picks: other tests listen on port 0 and open connections
    from that range, so a port picked there could be taken before seedd binds it."""
    while True:
        port = str(random.randrange(20_000, 32_000))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", int(port)))
            except OSError:
                continue
        if port not in taken:
            return port


# A block of shell commands that is not a ```console transcript says why it is not replayed:
# ```sh {not replayed: needs root and systemd}
UNMARKED = re.compile(r"^```(sh|bash|shell|zsh)(?!.*\{not replayed: [^}]+\})")


def parse(text):
    """[(kind, start, end, payload)] for console and python file= blocks, start/end as line indexes of the body;
    and the line indexes of command blocks that are neither replayed nor marked as not replayed."""
    lines = text.split("\n")
    blocks, unmarked, i = [], [], 0
    while i < len(lines):
        if UNMARKED.match(lines[i]):
            unmarked.append(i)
        fence = re.match(r"^```(console|python file=(\S+))\s*$", lines[i])
        if not fence:
            if lines[i].startswith("```"):
                i = lines.index("```", i + 1)  # past the block: a fence inside its body is text
            i += 1
            continue
        end = lines.index("```", i + 1)
        blocks.append(("console" if fence.group(1) == "console" else "file", i + 1, end, fence.group(2)))
        i = end + 1
    return lines, blocks, unmarked


def commands(body):
    """[(command, expected output lines)] of one console block."""
    result, i = [], 0
    while i < len(body):
        if not body[i].startswith("$ "):
            raise SystemExit(f"transcripts: a console block line is neither a command nor after one: {body[i]!r}")
        command = body[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command + "\n" + body[i]
        i += 1
        output = []
        while i < len(body) and not body[i].startswith("$ "):
            output.append(body[i])
            i += 1
        while output and output[-1] == "":
            output.pop()
        result.append((command, output))
    return result


class Session:
    def __init__(self, folder):
        self.folder = folder
        self.grpc = free_port()
        self.http = free_port(taken=(self.grpc,))
        self.daemon = None
        bin_dir = os.path.join(folder, ".bin")
        home = os.path.join(folder, ".home")
        os.makedirs(bin_dir)
        os.makedirs(home)
        for name, dll in (("seedd", SEEDD), ("seedctl", SEEDCTL)):
            if not os.path.exists(dll):
                raise SystemExit(f"transcripts: {dll} is missing; run dotnet build -c Release first")
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write(f'#!/bin/sh\nexec dotnet "{dll}" "$@"\n')
            os.chmod(path, 0o755)
        self.home = home
        self.env = {
            "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "DOTNET_CLI_HOME": home,
            "DOTNET_NOLOGO": "1",
            "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
            "SEEDD_ADDRESS": f"http://127.0.0.1:{self.grpc}",
            "Seedd__Listen": f"127.0.0.1:{self.grpc}",
            "PYTHONDONTWRITEBYTECODE": "1",
            # The NuGet cache the build restored (the README takes google/api's protos from it).
            "NUGET_PACKAGES": os.environ.get("NUGET_PACKAGES") or os.path.expanduser("~/.nuget/packages"),
        }

    def to_real(self, command):
        """The command as run: the session's ports, and the repository's folders by their real path
        (dotnet and protoc resolve paths through a symbolic link into a different tree)."""
        command = command.replace(f":{GRPC_PORT}", f":{self.grpc}").replace(f":{HTTP_PORT}", f":{self.http}")
        # "dotnet run" uses the Release build the suite made: building again here would rewrite a
        # sample's output folder while other tests run processes from it.
        command = re.sub(r"\bdotnet run\b", "dotnet run --no-build", command)
        return re.sub(r"(?<![\w/.$-])(-I)?(src|protos)(?=/|\s|$)", lambda m: (m.group(1) or "") + os.path.join(REPO, m.group(2)), command)

    def shown(self, text):
        text = text.replace(f":{self.grpc}", f":{GRPC_PORT}").replace(f":{self.http}", f":{HTTP_PORT}")
        text = text.replace(self.home, SHOWN_HOME).replace(self.folder, SHOWN_FOLDER).replace(REPO + "/", "")
        host = socket.gethostname()
        # Keep the columns after a host name where they were: pad or trim the spaces that follow it.
        return re.sub(r"\b" + re.escape(host) + r"\b( {2,})?", lambda m: SHOWN_HOST + (" " * max(2, len(host) + len(m.group(1)) - len(SHOWN_HOST)) if m.group(1) else ""), text)

    def run(self, command):
        real = self.to_real(command)
        if real.rstrip().endswith("&"):
            return self.start_daemon(real.rstrip()[:-1])
        done = subprocess.run(["bash", "-o", "pipefail", "-c", real], cwd=self.folder, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        return self.shown(done.stdout.decode()).rstrip("\n").split("\n") if done.stdout else []

    def start_daemon(self, command):
        self.stop_daemon()
        log = open(os.path.join(self.folder, ".seedd.log"), "w+")
        self.daemon = subprocess.Popen(["bash", "-c", "exec " + command], cwd=self.folder, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.daemon_log = log
        deadline = time.time() + 60
        while time.time() < deadline:
            log.seek(0)
            text = log.read()
            if re.search(r"auth (on|off)", text):
                return self.shown(text).rstrip("\n").split("\n")
            if self.daemon.poll() is not None:
                raise SystemExit(f"transcripts: '{command}' exited {self.daemon.returncode}:\n{text}")
            time.sleep(0.1)
        raise SystemExit(f"transcripts: '{command}' did not start in 60 s")

    def stop_daemon(self):
        if self.daemon is not None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(30)
            self.daemon_log.close()
            self.daemon = None


MASKS = [
    # First: the ledger's key, signatures and base64 hashes are new each run, and may hold what the
    # masks below look for (a signature after the host name that starts with digits is not a pid).
    (re.compile(r"\+[0-9a-f]{8}\+[A-Za-z0-9+/]{43}[A-Za-z0-9+/=]"), "+<keyhash>+<key>"),
    (re.compile(r"\u2014 (\S+) [A-Za-z0-9+/]{20,}=*"), "\u2014 \\1 <signature>"),
    (re.compile(r"[A-Za-z0-9+/]{43}="), "<base64 hash>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?"), "<time>"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b"), "<duration>"),
    # Hashes, never seeds: a full SHA-256 (seeds have at most 20 digits), and the short forms of the
    # events table (last column) and of doctor ("head ...").
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"\b[0-9a-f]{12}$"), "<hash>"),
    (re.compile(r"head [0-9a-f]{16}\b"), "head <hash>"),
    (re.compile(r"127\.0\.0\.1:(?!" + GRPC_PORT + r"\b|" + HTTP_PORT + r"\b)\d+"), "127.0.0.1:<port>"),
    (re.compile(SHOWN_HOST + r"(\s+)\d+"), SHOWN_HOST + r"\1<pid>"),
    (re.compile(r'"client_pid": ?"?\d+"?'), '"client_pid": <pid>'),
    (re.compile(r"[ \t]+"), " "),
]


def masked(lines):
    out = []
    for line in lines:
        for pattern, replacement in MASKS:
            line = pattern.sub(replacement, line)
        out.append(line.rstrip())
    return out


def main():
    update = "--update" in sys.argv[1:]
    pages = []
    unmarked = []
    for page in PAGES:
        with open(os.path.join(REPO, page), encoding="utf-8") as f:
            lines, blocks, not_replayed = parse(f.read())
        pages.append((page, lines, blocks, []))
        unmarked += [f"{page} line {i + 1}: {lines[i]}" for i in not_replayed]
    if unmarked:
        print("transcripts: these blocks of commands are neither replayed (```console) nor marked "
              "(```sh {not replayed: why}):\n" + "\n".join(unmarked))
        return 1
    folder = tempfile.mkdtemp(prefix="seedd-readme-")
    session = Session(folder)
    problems, replayed = [], 0
    try:
        for page, lines, blocks, replacements in pages:
            for kind, start, end, name in blocks:
                body = lines[start:end]
                if kind == "file":
                    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                        f.write(session.to_real("\n".join(body)) + "\n")
                    continue
                new_body = []
                for command, expected in commands(body):
                    actual = session.run(command)
                    replayed += 1
                    new_body.append("$ " + command)
                    new_body.extend(actual)
                    if masked(expected) != masked(actual):
                        diff = "\n".join(difflib.unified_diff(expected, actual, page, "seedd now", lineterm=""))
                        problems.append(f"{page} line {start}: $ {command}\n{diff}")
                replacements.append((start, end, new_body))
    finally:
        session.stop_daemon()
        shutil.rmtree(folder, ignore_errors=True)

    if update:
        for page, lines, _, replacements in pages:
            for start, end, new_body in reversed(replacements):
                lines[start:end] = new_body
            with open(os.path.join(REPO, page), "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
        print(f"transcripts: {replayed} commands written back into {len(pages)} pages")
        return 0
    if problems:
        print("\n\n".join(problems))
        print(f"\ntranscripts: {len(problems)} commands differ from the pages; run tests/readme/transcripts.py --update and review the diff")
        return 1
    print(f"transcripts: {replayed} commands replayed from {len(pages)} pages, every page matches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
