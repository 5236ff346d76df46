#!/usr/bin/env bash
# Reruns the numerical test targets on OpenBLAS kernel families other than the one this CPU gets by
# default, and the chat-template tests in a far time zone, after `make test` has built the suite.
#
# Debian's OpenBLAS (DYNAMIC_ARCH) picks a kernel family per CPU, and each sums in its own order:
# a test that holds only on the family CI happens to have (bit-equality across GEMM shapes, factors
# of a QR compared element by element) fails here. The families:
#   Haswell   AVX2, what Haswell..Ice Lake clients and Zen 1-3 run (Zen shares its kernels);
#   SkylakeX  AVX-512, what Skylake-SP and later Xeons and Zen 4/5 run; it needs avx512f, and where
#             the CPU lacks it (OpenBLAS would die of an illegal instruction) Sandybridge (AVX, a
#             third summation order) stands in, and the script says so.
# ECKART_PORTABLE_KERNELS=1 does the same for Eckart's own C kernels (CKernels).
# ECKART_EXPECT_CORETYPE makes a test check that OpenBLAS really runs the family asked for, since it
# falls back silently (Cooperlake without bf16 runs Haswell).
set -euo pipefail
cd "$(dirname "$0")/.."

numerical='^(LinearAlgebraTests|ModelsTests|AdaptersTests|DiagnosticsTests|CLITests|ServerTests)\.'
families=(Haswell)
if grep -qw avx512f /proc/cpuinfo; then
    families+=(SkylakeX)
else
    echo "test-kernels: this CPU has no AVX-512, so SkylakeX cannot run here; Sandybridge stands in" >&2
    families+=(Sandybridge)
fi

for family in "${families[@]}"; do
    echo "== numerical tests with OPENBLAS_CORETYPE=$family" >&2
    # SmolLM2ServeTests serve the GGUF through processes: its products are Eckart's own kernels
    # (rerun below on their portable path); OpenBLAS only adds time there.
    OPENBLAS_CORETYPE=$family ECKART_EXPECT_CORETYPE=$family swift test --skip-build --filter "$numerical" --skip SmolLM2ServeTests
done

# Eckart's own small-row kernel on its portable path, what a CPU without AVX2 runs.
echo "== numerical tests with ECKART_PORTABLE_KERNELS=1" >&2
ECKART_PORTABLE_KERNELS=1 swift test --skip-build --filter "$numerical"

# strftime_now formats in a zone the tests fix; UTC+14 is where a date taken as local time differs most.
echo "== chat templates with TZ=Pacific/Kiritimati" >&2
TZ=Pacific/Kiritimati swift test --skip-build --filter ChatTemplatesTests
