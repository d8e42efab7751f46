#!/usr/bin/env bash
# The CUDA two-process check, on a GPU machine (run tests/gpu/prepare.sh first, here, and carry .gpu/).
#  1. PyTorch (the GPU machine's CUDA build): two processes of one worker, seeded from seedseq-v1,
#     draw identical CUDA numbers; another worker draws others.
#  2. TorchSharp (the TorchWorker sample against a real seedd): the same, if TorchSharp can use a
#     CUDA libtorch there (only PyTorch's own libtorch is available, a different version than the
#     libtorch 2.10 TorchSharp 0.107 was built for; the check says what happened either way).
# Writes its evidence to $OUT (or ./gpu-out) and ends with one PASS/FAIL/SKIP line per check.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-out}
mkdir -p "$out"
results=()
root=31337

nvidia-smi -L | tee "$out/gpu.txt"

# 1. PyTorch on CUDA.
for run in a b; do python3 tests/gpu/pytorch_cuda_draws.py "$root" 11 > "$out/pytorch-w11-$run.txt" 2>&1; done
python3 tests/gpu/pytorch_cuda_draws.py "$root" 12 > "$out/pytorch-w12.txt" 2>&1
cat "$out/pytorch-w11-a.txt"
if grep -q "cuda torch.rand(8)" "$out/pytorch-w11-a.txt" \
  && diff -q "$out/pytorch-w11-a.txt" "$out/pytorch-w11-b.txt" >/dev/null \
  && [[ "$(grep 'cuda torch.rand' "$out/pytorch-w11-a.txt")" != "$(grep 'cuda torch.rand' "$out/pytorch-w12.txt")" ]]; then
  results+=("PASS pytorch-cuda: two processes of worker 11 drew identical CUDA numbers and matmul; worker 12 differs")
else
  results+=("FAIL pytorch-cuda: see $out/pytorch-*.txt")
fi

# 2. TorchSharp on CUDA through seedd.
if [[ -f .gpu/dotnet-runtime.tar.xz ]]; then
  mkdir -p /tmp/dotnet && tar -C /tmp/dotnet -xJf .gpu/dotnet-runtime.tar.xz
  export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH
  torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  export LD_LIBRARY_PATH=$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  rm -f /tmp/gpu-seeds.db /tmp/gpu-seeds-log.db
  dotnet .gpu/seedd/seedd.dll --listen 127.0.0.1:50551 --db /tmp/gpu-seeds.db > "$out/seedd.log" 2>&1 &
  seedd=$!
  for _ in $(seq 50); do grep -q "listening on" "$out/seedd.log" && break; sleep 0.2; done
  for run in a b; do dotnet .gpu/torchworker/TorchWorker.dll --address http://127.0.0.1:50551 --experiment gpu/check --worker 11 --root "$root" > "$out/torchsharp-w11-$run.txt" 2>&1; done
  dotnet .gpu/torchworker/TorchWorker.dll --address http://127.0.0.1:50551 --experiment gpu/check --worker 12 --root "$root" > "$out/torchsharp-w12.txt" 2>&1
  kill -TERM "$seedd"; wait "$seedd"
  cat "$out/torchsharp-w11-a.txt"
  if grep -q "cuda torch.rand(8)" "$out/torchsharp-w11-a.txt"; then
    if diff -q "$out/torchsharp-w11-a.txt" "$out/torchsharp-w11-b.txt" >/dev/null \
      && [[ "$(grep 'cuda torch.rand' "$out/torchsharp-w11-a.txt")" != "$(grep 'cuda torch.rand' "$out/torchsharp-w12.txt")" ]]; then
      results+=("PASS torchsharp-cuda: two TorchWorker processes of worker 11 drew identical CUDA numbers; worker 12 differs")
    else
      results+=("FAIL torchsharp-cuda: see $out/torchsharp-*.txt")
    fi
    if [[ "$(grep '^cuda torch.rand' "$out/torchsharp-w11-a.txt")" == "$(grep '^cuda torch.rand' "$out/pytorch-w11-a.txt")" ]]; then
      results+=("PASS torchsharp-vs-pytorch-cuda: TorchSharp and PyTorch drew the same CUDA numbers from the same seed")
    else
      results+=("INFO torchsharp-vs-pytorch-cuda: CUDA draws differ between TorchSharp and PyTorch")
    fi
  else
    results+=("SKIP torchsharp-cuda: TorchSharp did not get CUDA here: $(grep -m1 -E 'CUDA generators|TorchWorker:' "$out/torchsharp-w11-a.txt")")
  fi
else
  results+=("SKIP torchsharp-cuda: .gpu/dotnet-runtime.tar.xz missing (run tests/gpu/prepare.sh and carry .gpu)")
fi

printf '%s\n' "${results[@]}" | tee "$out/summary.txt"
! grep -q '^FAIL' "$out/summary.txt"
