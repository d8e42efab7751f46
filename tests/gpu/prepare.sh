#!/usr/bin/env bash
# Builds what tests/gpu/cuda-check.sh needs on a GPU machine that has no .NET and no package
# registry: seedd and the TorchWorker sample (published), and this machine's .NET runtime. Everything
# goes to .gpu/ (ignored by git); libtorch is left out, the GPU machine's PyTorch brings a CUDA one.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.gpu
rm -rf "$out"
mkdir -p "$out"

dotnet publish src/Daemon -c Release -o "$out/seedd" --nologo -v quiet
dotnet publish src/Client/samples/TorchWorker -c Release -o "$out/torchworker" --nologo -v quiet
find "$out/torchworker/runtimes" -type f ! -name libLibTorchSharp.so -delete
find "$out/torchworker" -maxdepth 1 -type f \( -name 'lib*.so*' \) -delete

runtime=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }')
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
tar -C "$root" -cJf "$out/dotnet-runtime.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$runtime" "shared/Microsoft.AspNetCore.App/$runtime"
du -sh "$out"/*
