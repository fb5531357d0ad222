#!/usr/bin/env bash
# The Kubernetes manifests (k8s/) and the container image recipe (Dockerfile),
# checked offline: a build machine has neither an API server nor a Docker
# engine, so nothing is applied and no image is built here.
#  1. Both overlays render with `kubectl kustomize` (on CI Debian's kubectl
#     1.20, whose kustomize is v2.0.3; UTM_KUBECTLS="kubectl /other/kubectl"
#     renders with each), and every object passes the schema check
#     (k8s/validate/validate.mjs: types, required fields, unknown fields).
#  2. The overlays' invariants hold (k8s/validate/invariants.mjs), and
#     breaking one on purpose in a rendered copy is caught.
#  3. Each bad manifest in k8s/validate/testdata is refused, naming the field.
#  4. Every flag the manifests pass utmd is one `utmd --help` lists; the dev
#     overlay's utmd args start utmd and its readiness probe finds it SERVING;
#     the prod probe (TLS) passes against a certificate naming localhost and
#     fails against one that does not.
#  5. Redis 7 runs the prod overlay's init script and redis.conf: the example
#     password is refused; with a real one Redis asks for it, runs with
#     appendonly yes, appendfsync always and noeviction, and writes its AOF.
#  6. Every runtime package the Dockerfile names exists in Debian, and those
#     packages (with their dependencies) provide every library `ldd` finds
#     for utmd and utmctl.
#  7. The production block of k8s/README.md, run as printed in a copy of k8s/,
#     renders a valid site overlay whose Secrets are the files it made.
# Parts 1-5 and 7 need node with k8s/validate's packages (scripts/install-deps.sh
# runs `npm ci` there); without npm they are skipped and the test exits 77
# (ctest: skipped) after part 6. Without utmd built, the ldd check skips.
# Usage: k8s_manifests_test.sh REPO_ROOT UTMD UTMCTL
set -u
ROOT=$1
UTMD=$2
UTMCTL=$3
# shellcheck source-path=SCRIPTDIR source=lib/utmd_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/utmd_test_lib.sh"
VALIDATE=$ROOT/k8s/validate
skipped=()

# --- 6 first: it needs neither node nor a built binary. --------------------
dockerfile=$ROOT/Dockerfile
[[ -f $dockerfile ]] || fail "no Dockerfile at the repository root"
# The runtime stage: from the last FROM on. Its packages: the words after
# `apt-get install` up to the `&&` that ends the install, options dropped.
mapfile -t runtime_packages < <(
  awk '/^FROM /{stage=""} {stage = stage $0 "\n"} END{printf "%s", stage}' "$dockerfile" |
    sed -e 's/#.*//' | tr '\\\n' '  ' |
    grep -oE 'apt-get install[^&]*' | sed 's/^apt-get install//' |
    tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u)
((${#runtime_packages[@]} >= 5)) ||
  fail "found only ${#runtime_packages[@]} runtime packages in the Dockerfile: ${runtime_packages[*]}"
for p in "${runtime_packages[@]}"; do
  apt-cache show "$p" >/dev/null 2>&1 || fail "Dockerfile: runtime package $p is not in Debian (apt-cache show $p)"
done
echo "ok: the Dockerfile's ${#runtime_packages[@]} runtime packages exist in Debian"
grep -q 'UTM_SANITIZE_STAGE=0' "$dockerfile" || fail "Dockerfile: install-deps.sh without UTM_SANITIZE_STAGE=0"
for opt in $(grep -oE -- '-DUTM_[A-Z_]+' "$dockerfile" | sed 's/^-D//' | sort -u); do
  grep -qE "option\($opt " "$ROOT/CMakeLists.txt" || fail "Dockerfile: -D$opt is not an option of CMakeLists.txt"
done
grep -qE '^USER [1-9]' "$dockerfile" || fail "Dockerfile: the runtime stage does not run as a non-root user"
grep -q '^EXPOSE 7400' "$dockerfile" || fail "Dockerfile: no EXPOSE 7400"
echo "ok: the Dockerfile's CMake options exist; it runs as non-root and exposes 7400"

if [[ -x $UTMD && -x $UTMCTL ]]; then
  ldd_out=$(ldd "$UTMD" "$UTMCTL") || fail "ldd: $ldd_out"
  grep -q 'not found' <<<"$ldd_out" && fail "ldd: a library is missing: $ldd_out"
  # Each library's package, from one dpkg -S over every path (it is slow per
  # call). dpkg knows a path as the package ships it: /lib or /usr/lib on a
  # merged /usr, so each library is looked up in all its spellings.
  libs=$(awk '$2 == "=>" && $3 ~ /^\// {print $3}' <<<"$ldd_out" | sort -u)
  spellings() { echo "$1"; realpath "$1"; echo "${1/#\/lib\//\/usr\/lib\/}"; }
  owners=$(for lib in $libs; do spellings "$lib"; done | sort -u |
           xargs dpkg -S 2>/dev/null | sed 's/:[a-z0-9]*: /: /')
  needed=()
  for lib in $libs; do
    pkg=""
    for path in $(spellings "$lib"); do
      pkg=$(awk -v p="$path" '{f = $NF} f == p {sub(/:$/, "", $1); print $1; exit}' <<<"$owners")
      [[ -n $pkg ]] && break
    done
    [[ -n $pkg ]] || fail "no Debian package ships $lib (dpkg -S)"
    needed+=("$pkg")
  done
  mapfile -t needed < <(printf '%s\n' "${needed[@]}" | sort -u)
  ((${#needed[@]} >= 5)) || fail "ldd found the libraries of only ${#needed[@]} packages: $ldd_out"
  # What apt installs for the named packages: them and their dependencies.
  mapfile -t installed < <(apt-cache depends --recurse --no-recommends --no-suggests \
      --no-conflicts --no-breaks --no-replaces --no-enhances "${runtime_packages[@]}" |
    grep -vE '^ |^<' | sort -u)
  uncovered=$(comm -23 <(printf '%s\n' "${needed[@]}") <(printf '%s\n' "${installed[@]}"))
  [[ -z $uncovered ]] ||
    fail "the Dockerfile's runtime stage lacks the packages of libraries utmd or utmctl need: $uncovered"
  echo "ok: the runtime packages provide all ${#needed[@]} packages of the libraries ldd finds for utmd and utmctl"
else
  echo "SKIP: ldd check of the runtime stage: $UTMD or $UTMCTL is not built"
  skipped+=("ldd")
fi

# --- Parts 1-5 need node and k8s/validate's npm packages. -------------------
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "SKIP: schema checks, invariants and bad-manifest cases: npm (and node) not installed"
  exit 77
fi
[[ -d $VALIDATE/node_modules ]] ||
  fail "k8s/validate/node_modules is missing: run scripts/install-deps.sh (npm ci there)"
validate() { node "$VALIDATE/validate.mjs" "$@"; }
invariants() { node "$VALIDATE/invariants.mjs" "$@"; }
command_of() { node "$VALIDATE/container-command.mjs" "$@"; }

# --- 1 and 2: render, validate, invariants. --------------------------------
read -ra kubectls <<<"${UTM_KUBECTLS:-kubectl}"
for kubectl in "${kubectls[@]}"; do
  "$kubectl" kustomize --help >/dev/null 2>&1 ||
    fail "$kubectl has no kustomize subcommand (scripts/install-deps.sh installs Debian's kubernetes-client)"
  version="kubectl $("$kubectl" version --client 2>/dev/null | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
  for overlay in dev prod; do
    out=$work/$overlay.yaml
    "$kubectl" kustomize "$ROOT/k8s/overlays/$overlay" >"$out" 2>"$work/kustomize.err" ||
      fail "$kubectl kustomize k8s/overlays/$overlay: $(cat "$work/kustomize.err")"
    result=$(validate "$out") || fail "k8s/overlays/$overlay ($version):"$'\n'"$result"
    echo "ok: k8s/overlays/$overlay renders with $version; $result"
    result=$(invariants "$overlay" <"$out") || fail "k8s/overlays/$overlay ($version):"$'\n'"$result"
    echo "$result"
  done
done

# Broken on purpose, the invariants must say so.
expect_broken() {  # OVERLAY WANTED_MESSAGE (stdin: a rendered copy, broken)
  local result
  if result=$(invariants "$1"); then
    fail "invariants missed a broken $1 overlay (wanted: $2)"
  fi
  [[ $result == *"$2"* ]] || fail "invariants said, for a broken $1 overlay: $result (wanted: $2)"
  echo "ok: caught: ${2}"
}
sed '0,/replicas: 3/s//replicas: 2/' "$work/prod.yaml" |
  expect_broken prod "replicas 2, want at least 3"
awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} !/kind: PodDisruptionBudget/' "$work/prod.yaml" |
  expect_broken prod "0 PodDisruptionBudgets select its pods"
awk 'BEGIN{RS="\n---\n"; ORS="\n---\n"} !/kind: HorizontalPodAutoscaler/' "$work/prod.yaml" |
  expect_broken prod "0 HorizontalPodAutoscalers target it"
sed '0,/^\( *\)limits:$/s//\1limitz:/' "$work/prod.yaml" |
  expect_broken prod "no resources.limits.cpu"
sed 's/readinessProbe:/startupProbeToo:/' "$work/prod.yaml" |
  expect_broken prod "no readinessProbe"
sed 's/^  name: utmd-tls$/  name: utmd-tls-0123456789/' "$work/prod.yaml" |
  expect_broken prod "Secret utmd-tls is not rendered"
sed 's/^appendfsync always/appendfsync everysec/; s/^\(    \)appendfsync always/\1appendfsync everysec/' "$work/prod.yaml" |
  expect_broken prod "lacks \`appendfsync always\`"
sed 's/type: Recreate/type: RollingUpdate/' "$work/dev.yaml" |
  expect_broken dev "strategy is not Recreate"

# --- 3: bad manifests are refused, naming the object and the field. --------
while IFS='|' read -r file wanted; do
  if result=$(validate "$VALIDATE/testdata/$file"); then
    fail "validate.mjs accepted testdata/$file"
  fi
  [[ $result == *"$wanted"* ]] || fail "testdata/$file: validate.mjs said: $result (wanted: $wanted)"
  echo "ok: testdata/$file refused: $wanted"
done <<'CASES'
misspelt-field.yaml|Deployment/misspelt: spec.replica: unknown field
nested-misspelt.yaml|Deployment/nested: spec.template.spec.containers[0].resources.limit: unknown field
missing-required.yaml|Deployment/no-selector: spec.selector: must have required property selector
missing-required.yaml|Deployment/no-selector: spec.template.spec.containers[0].name: must have required property name
wrong-type.yaml|Deployment/wrong-type: spec.replicas: must be integer
wrong-type.yaml|Deployment/wrong-type: spec.template.spec.containers[0].readinessProbe.tcpSocket.port: must be integer
unknown-kind.yaml|Deploymint/unknown: apiVersion/kind: apps/v1 Deploymint is not a known Kubernetes type
CASES
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n' >"$work/broken.yaml"
result=$(validate "$work/broken.yaml") && fail "validate.mjs accepted broken YAML"
[[ $result == *"document 1: YAML:"* ]] || fail "broken YAML: $result"
echo "ok: broken YAML refused"

# --- 4: the flags exist; dev's args run; the probes answer. ----------------
if [[ -x $UTMD && -x $UTMCTL ]]; then
  help=$("$UTMD" --help) || fail "utmd --help exited $?"
  mapfile -t have < <(grep -oE '^ +(-[a-zA-Z],)?--[a-z0-9-]+' <<<"$help" |
                      grep -oE -- '--[a-z0-9-]+' | sort -u)
  store_values=$(grep -E '^ +--store ' <<<"$help")
  # The flags of the Redis store and of the service split arrive together
  # with the Redis store. A utmd built before it has none of them: then they
  # are reported, not failed, and the dev args run without them. A utmd that
  # has any of them must have them all, exactly as the manifests spell them.
  redis_flags=(--services --redis --redis-password-file --redis-sentinels --redis-master
               --redis-wait-replicas)
  knows() { printf '%s\n' "${have[@]}" | grep -qxF -- "$1"; }
  before_redis=1
  for f in "${redis_flags[@]}"; do knows "$f" && before_redis=0; done
  pending=()
  for d in dev:Deployment/utmd prod:Deployment/strategic-utmd prod:Deployment/telemetry-utmd; do
    mapfile -d '' words < <(command_of "${d#*:}" utmd args <"$work/${d%%:*}.yaml") ||
      fail "no args for ${d#*:}"
    for w in "${words[@]}"; do
      name=${w%%=*}
      if ((before_redis)) && { [[ " ${redis_flags[*]} " == *" $name "* ]] || [[ $w == --store=redis ]]; }; then
        pending+=("$w")
        continue
      fi
      knows "$name" || fail "${d#*:} (${d%%:*}) passes $name, which utmd --help does not list"
      if [[ $name == --store ]]; then
        [[ $store_values == *"${w#*=}"* ]] || fail "${d#*:} passes $w; utmd --help says: $store_values"
      fi
    done
  done
  echo "ok: every flag the dev and prod overlays pass utmd is in utmd --help"
  if ((${#pending[@]} > 0)); then
    mapfile -t pending < <(printf '%s\n' "${pending[@]}" | sort -u)
    echo "NOTE: this utmd predates the Redis store; not checked: ${pending[*]}"
  fi

  # The dev Deployment's args, but on free loopback ports and a scratch
  # directory (utmd_start gives --listen and --data-dir).
  mapfile -d '' words < <(command_of Deployment/utmd utmd args <"$work/dev.yaml")
  dev_args=()
  for w in "${words[@]}"; do
    [[ $w == --listen=* || $w == --data-dir=* ]] && continue
    # Metrics on a free loopback port too (the pod's 9464 may be taken here).
    [[ $w == --metrics=* ]] && w=--metrics=127.0.0.1:0
    [[ " ${pending[*]} " == *" $w "* ]] && continue
    # --flag=value as --flag value (how utmd_start looks for --shutdown-grace).
    if [[ $w == --*=* ]]; then dev_args+=("${w%%=*}" "${w#*=}"); else dev_args+=("$w"); fi
  done
  utmd_start "$work/dev.out" "$work/dev-data" "${dev_args[@]}"
  mapfile -d '' probe < <(command_of Deployment/utmd utmd probe <"$work/dev.yaml")
  [[ ${probe[0]} == utmctl ]] || fail "dev readiness probe is not utmctl: ${probe[*]}"
  probe=("${probe[@]/#127.0.0.1:7400/127.0.0.1:$utmd_port}")
  out=$("$UTMCTL" "${probe[@]:1}" 2>&1) || fail "dev readiness probe ${probe[*]}: $out"
  [[ $out == *SERVING* ]] || fail "dev readiness probe said: $out"
  echo "ok: utmd runs with the dev overlay's args (${dev_args[*]}); its probe says: $out"
  utmd_stop

  # The prod probe speaks TLS to localhost, trusting ca.crt: it needs a
  # certificate naming localhost, and fails on one that does not.
  mapfile -d '' probe < <(command_of Deployment/strategic-utmd utmd probe <"$work/prod.yaml")
  for case in "localhost:pass" "utmd.example:fail"; do
    cn=${case%%:*}
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/$cn.key" -out "$work/$cn.crt" \
      -days 1 -subj "/CN=$cn" -addext "subjectAltName=DNS:$cn" >/dev/null 2>&1 ||
      fail "openssl could not make a test certificate"
    utmd_start "$work/tls.out" "$work/tls-data-$cn" --tls-cert "$work/$cn.crt" --tls-key "$work/$cn.key"
    run=("${probe[@]/#localhost:7400/localhost:$utmd_port}")
    run=("${run[@]/#\/etc\/utmd\/tls\/ca.crt/$work/$cn.crt}")
    out=$("$UTMCTL" "${run[@]:1}" 2>&1); code=$?
    if [[ ${case#*:} == pass ]]; then
      [[ $code == 0 && $out == *SERVING* ]] || fail "prod probe, certificate for localhost: $code $out"
      echo "ok: the prod probe (${probe[*]}) finds a TLS utmd SERVING"
    else
      [[ $code != 0 ]] || fail "prod probe passed with a certificate that does not name localhost: $out"
      echo "ok: the prod probe fails on a certificate that does not name localhost (exit $code)"
    fi
    utmd_stop
  done
else
  echo "SKIP: flags and probes against utmd: $UTMD or $UTMCTL is not built"
  skipped+=("utmd")
fi

# --- 5: Redis runs the init script and redis.conf of the prod overlay. -----
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  mkdir -p "$work/redis-secret" "$work/redis-run" "$work/redis-data" "$work/redis-etc"
  # (From k8s/validate, where node finds the yaml package.)
  (cd "$VALIDATE" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parseAllDocuments } from "yaml";
    const cm = parseAllDocuments(readFileSync(0, "utf8")).map((d) => d.toJS())
      .find((o) => o?.kind === "ConfigMap" && o.metadata.name.startsWith("redis-config"));
    process.stdout.write(cm.data["redis.conf"]);') \
    <"$work/prod.yaml" >"$work/redis-etc/redis.conf" 2>"$work/node.err" ||
    fail "no redis-config ConfigMap in the prod overlay: $(cat "$work/node.err")"
  # Redis changes to `dir` as it reads the file: the StatefulSet's /data
  # volume is a scratch directory here.
  grep -qx 'dir /data' "$work/redis-etc/redis.conf" || fail "redis.conf: no 'dir /data' (the volume)"
  sed -i "s#^dir /data\$#dir $work/redis-data#" "$work/redis-etc/redis.conf"
  mapfile -d '' init < <(command_of StatefulSet/redis config command <"$work/prod.yaml")
  [[ ${init[0]} == sh && ${init[1]} == -c ]] || fail "Redis init container: ${init[*]}"
  script=${init[2]//\/etc\/redis-password/$work/redis-secret}
  script=${script//\/run\/redis/$work/redis-run}
  script=${script//\/etc\/redis\/redis.conf/$work/redis-etc/redis.conf}
  cp "$ROOT/k8s/overlays/prod/secrets/redis-password.example" "$work/redis-secret/password"
  if out=$(sh -c "$script" 2>&1); then fail "the Redis init script accepted the example password"; fi
  [[ $out == *"example password"* ]] || fail "the Redis init script said: $out"
  echo "ok: the Redis init script refuses the example password: $out"
  printf 'k8s-test-%s' "$RANDOM$RANDOM" >"$work/redis-secret/password"
  out=$(sh -c "$script" 2>&1) || fail "the Redis init script: $out"
  # As the StatefulSet runs it, but on a Unix socket instead of port 6379
  # and in a scratch directory.
  redis-server "$work/redis-run/redis.conf" --port 0 --unixsocket "$work/redis.sock" \
    --daemonize no </dev/null >"$work/redis.out" 2>&1 &
  redis_pid=$!
  background+=("$redis_pid")
  for _ in $(seq 1 100); do  # up to 5 s
    [[ -S $work/redis.sock ]] && break
    kill -0 "$redis_pid" 2>/dev/null || fail "redis-server exited: $(cat "$work/redis.out")"
    sleep 0.05
  done
  rcli() { redis-cli -s "$work/redis.sock" "$@"; }
  out=$(rcli ping 2>&1)
  [[ $out == *NOAUTH* ]] || fail "Redis answered without the password: $out"
  export REDISCLI_AUTH
  REDISCLI_AUTH=$(cat "$work/redis-secret/password")
  for setting in "appendonly yes" "appendfsync always" "maxmemory-policy noeviction" "save "; do
    got=$(rcli config get "${setting%% *}" | tail -n +2)
    [[ $got == "${setting#* }" ]] || fail "Redis has ${setting%% *} '$got', want '${setting#* }'"
  done
  [[ $(rcli set k8s-test 1) == OK ]] || fail "Redis refused a write"
  ls "$work/redis-data"/appendonlydir/*.aof >/dev/null 2>&1 ||
    fail "no AOF in the data directory: $(ls -R "$work/redis-data")"
  unset REDISCLI_AUTH
  kill -TERM "$redis_pid"
  wait "$redis_pid"
  echo "ok: Redis $(redis-server --version | grep -oE 'v=[0-9.]+') runs the prod init script and" \
       "redis.conf: password required, appendonly yes, appendfsync always, noeviction, AOF written"
else
  echo "SKIP: Redis on the prod redis.conf: redis-server or redis-cli not installed"
  skipped+=("redis")
fi

# --- 7: the README's production recipe, run as printed. ---------------------
block=$(awk '/^<!-- tests\/k8s_manifests_test.sh runs the next block/ {m = 1; next}
             m && /^```sh$/ {b = 1; next}
             b && /^```$/ {exit}
             b' "$ROOT/k8s/README.md")
[[ $block == *"kubectl kustomize k8s/overlays/mysite"* ]] ||
  fail "k8s/README.md: no production block ending in kubectl kustomize: $block"
printf '{"keys": []}\n' >"$work/jwks.json"
n=0
for kubectl in "${kubectls[@]}"; do
  n=$((n + 1))
  site=$work/site-$n
  mkdir -p "$site/bin"
  ln -s "$(command -v "$kubectl")" "$site/bin/kubectl"
  tar -C "$ROOT" --exclude=node_modules --exclude='k8s/overlays/mysite' -cf - k8s | tar -C "$site" -xf -
  (cd "$site" && PATH=$site/bin:$PATH JWKS_FILE=$work/jwks.json bash -euo pipefail -c "$block") \
    >"$site/rendered.yaml" 2>"$site/err" ||
    fail "k8s/README.md's production block: $(cat "$site/err")"
  result=$(validate "$site/rendered.yaml") || fail "the README's site overlay:"$'\n'"$result"
  result=$(invariants prod <"$site/rendered.yaml") || fail "the README's site overlay:"$'\n'"$result"
  # Its Secrets hold the new files, not the placeholders.
  secrets=$(cd "$VALIDATE" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parseAllDocuments } from "yaml";
    for (const o of parseAllDocuments(readFileSync(0, "utf8")).map((d) => d.toJS())) {
      if (o?.kind !== "Secret") continue;
      for (const [k, v] of Object.entries(o.data ?? {})) {
        const text = Buffer.from(v.replace(/\s/g, ""), "base64").toString();
        console.log(`${o.metadata.name}/${k}: ${text.split("\n")[0]}`);
      }
    }' <"$site/rendered.yaml")
  [[ $secrets != *NOT-FOR-PRODUCTION* && $secrets != *_comment* ]] ||
    fail "the README's site overlay still has placeholder Secrets: $secrets"
  password=$(cat "$site/k8s/overlays/mysite/secrets/redis-password")
  [[ $secrets == *"redis-password/password: $password"* && $secrets == *"utmd-tls/tls.crt: -----BEGIN CERTIFICATE-----"* ]] ||
    fail "the README's site overlay: Secrets are not the generated files: $secrets"
  echo "ok: the README's production block renders a valid site overlay with its own Secrets ($(cd "$site" && PATH=$site/bin:$PATH kubectl version --client 2>/dev/null | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | head -1))"
done

if ((${#skipped[@]} > 0)); then
  echo "k8s manifests: passed, parts skipped: ${skipped[*]}"
fi
echo "ok: k8s manifests and Dockerfile"
