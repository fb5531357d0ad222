#!/usr/bin/env bash
# Installs every Debian 12 package that utmd's build, tests and demo need.
# Idempotent: packages already present are left alone, and `apt-get update` runs
# at most once, only when something is missing. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  # Toolchain.
  cmake ninja-build g++ pkgconf git
  # gRPC, Protobuf, Abseil.
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  # Geometry: Boost.Geometry (header-only), GeographicLib, S2.
  libboost-dev libgeographiclib-dev libs2-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev
  # Command-line tools (flags; GeoJSON input).
  libcli11-dev nlohmann-json3-dev
  # XML parser for FAA TFRs in XNOTAM (services/constraint/import).
  libpugixml-dev
  # Authentication: JSON Web Tokens (OpenSSL-backed).
  libjwt-dev libssl-dev
  # Test certificates (tests/utmd_lifecycle_test.sh).
  openssl
  # IANA time zones for constraint schedules.
  tzdata
  # Checksums of the embedded store's log (CRC-32).
  zlib1g-dev
  # Vertical datums for zone and volume files: the EGM96 geoid grid
  # (proj-data: /usr/share/proj/egm96_15.gtx), PROJ as the tests' reference
  # for it, DEMs through GDAL, and gdal_translate for the end-to-end test's
  # generated DEM.
  proj-data libproj-dev libgdal-dev gdal-bin
  # Redis for many replicas: the client library (hiredis 0.14), and the
  # server and Sentinel that the Redis tests start on loopback ports.
  libhiredis-dev redis-server redis-sentinel
  # Broadcast Remote ID capture files (services/remoteid/broadcast): libpcap,
  # and tshark, which the capture tests cross-check against when present.
  libpcap-dev tshark
  # utmctl operator export writes its archive (tar.gz) with libarchive.
  libarchive-dev
  # Logs (spdlog) and the Prometheus metrics endpoint (prometheus-cpp's
  # serialiser and pull exposer).
  libspdlog-dev prometheus-cpp-dev
)
# The sanitizer builds of scripts/test.sh (the Bazel stage, and CMake's
# sanitizer tree with UTM_SANITIZE_STAGE=1): clang, its sanitizer and
# libFuzzer runtimes, lld, llvm-symbolizer for stacks.
if [[ "${UTM_BAZEL_STAGE:-1}" != 0 || "${UTM_SANITIZE_STAGE:-0}" != 0 ]]; then
  PACKAGES+=(clang-14 libclang-rt-14-dev llvm-14 lld-14)
fi

# The Bazel stage of scripts/test.sh (skipped with UTM_BAZEL_STAGE=0):
# Bazel 4.2.3 and the rules_java it needs offline (bazel/README.md).
if [[ "${UTM_BAZEL_STAGE:-1}" != 0 ]]; then
  PACKAGES+=(bazel-bootstrap bazel-rules-java)
fi

# Rendering the Kubernetes manifests (tests/k8s_manifests_test.sh): Debian's
# kubectl (1.20, with `kubectl kustomize`), unless a kubectl that has the
# kustomize subcommand is on PATH already (a machine image's kubectl package
# would conflict with Debian's). Skipped with UTM_K8S_STAGE=0 (the Dockerfile's
# build stage).
if [[ "${UTM_K8S_STAGE:-1}" != 0 ]] &&
   ! kubectl kustomize --help >/dev/null 2>&1; then
  PACKAGES+=(kubernetes-client)
fi

# The manifests' offline schema check (k8s/validate): its npm packages, exactly
# as package-lock.json pins them, when node_modules is missing or older than
# the lockfile. Needs node and npm; without npm the test skips.
install_k8s_validate() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/k8s/validate"
  [[ "${UTM_K8S_STAGE:-1}" != 0 && -f "$dir/package-lock.json" ]] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found; the Kubernetes manifest check will skip"
    return 0
  fi
  if [[ ! -d "$dir/node_modules" || "$dir/package-lock.json" -nt "$dir/node_modules" ]]; then
    echo "install-deps: npm ci in k8s/validate"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The live map (docs/map.md): cpp-httplib for utmd's HTTP server; chromium
# for its browser test (tests/map_browser_test.sh, which skips without it;
# UTM_MAP_BROWSER_STAGE=0 leaves it out).
PACKAGES+=(libcpp-httplib-dev)
if [[ "${UTM_MAP_BROWSER_STAGE:-1}" != 0 ]]; then
  PACKAGES+=(chromium)
fi

# The map page's npm packages (web/), exactly as package-lock.json pins them,
# when node_modules is missing or older than the lockfile; the build bundles
# them offline. Without npm, utmd is built without the page.
install_web() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
  [[ -f "$dir/package-lock.json" ]] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm not found; utmd will be built without the map page"
    return 0
  fi
  if [[ ! -d "$dir/node_modules" || "$dir/package-lock.json" -nt "$dir/node_modules" ]]; then
    echo "install-deps: npm ci in web"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  # dpkg-query prints "install ok installed" only for fully installed packages.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_k8s_validate
  install_web
  exit 0
fi

SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_k8s_validate
install_web
