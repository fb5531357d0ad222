// What utmd's rendered overlays must hold beyond the schema.
//
//   kubectl kustomize k8s/overlays/dev  | node k8s/validate/invariants.mjs dev
//   kubectl kustomize k8s/overlays/prod | node k8s/validate/invariants.mjs prod
//
// Both overlays: every utmd serves --metrics on a containerPort its pod's
// prometheus.io annotations name, and logs JSON. Every container (init
// containers too) has CPU and memory requests and limits, a non-root pod and
// a read-only root filesystem; every
// long-running container has readiness and liveness probes; every Secret,
// ConfigMap, PersistentVolumeClaim and autoscaling target named by a workload
// is in the render (a reference kustomize failed to rewrite shows up here).
// dev: one all-in-one utmd on the embedded store whose data directory is a
// PersistentVolumeClaim, never two pods at once (strategy Recreate).
// prod: the strategic tier (--services=intent,constraint,registry) and the telemetry
// tier (--services=telemetry,remoteid,operator) as separate Deployments of 3 or more replicas
// on the Redis store, each with a Service, a PodDisruptionBudget and a
// HorizontalPodAutoscaler of at least 3; Redis with `appendonly yes` and
// `appendfsync always`, reachable only from utmd pods.
// Prints one line per broken rule naming the object; exit 1 when any.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const overlay = process.argv[2];
if (overlay !== "dev" && overlay !== "prod") {
  console.error("usage: invariants.mjs dev|prod < rendered.yaml");
  process.exit(2);
}
const objects = parseAllDocuments(readFileSync(0, "utf8"))
  .map((d) => d.toJS())
  .filter((o) => o !== null);
const problems = [];
const fail = (obj, msg) => problems.push(`${obj.kind}/${obj.metadata?.name}: ${msg}`);
const ofKind = (kind) => objects.filter((o) => o.kind === kind);
const named = (kind, name) => objects.some((o) => o.kind === kind && o.metadata?.name === name);
const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));

// A label selector's matchLabels against a set of labels.
const selects = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  Object.keys(selector?.matchLabels ?? {}).length > 0;

// The value of `--name=value` (or `--name value`) in a container's args.
function flag(container, name) {
  const args = [...(container.command ?? []), ...(container.args ?? [])];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
    if (args[i] === `--${name}`) return args[i + 1];
  }
  return undefined;
}

for (const w of workloads) {
  const pod = w.spec.template.spec;
  if (pod.securityContext?.runAsNonRoot !== true) fail(w, "pod securityContext.runAsNonRoot is not true");
  const all = [...(pod.initContainers ?? []), ...pod.containers];
  for (const c of all) {
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (c.resources?.[kind]?.[r] === undefined) fail(w, `container ${c.name}: no resources.${kind}.${r}`);
      }
    }
    if (c.securityContext?.readOnlyRootFilesystem !== true) fail(w, `container ${c.name}: root filesystem not read-only`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) fail(w, `container ${c.name}: privilege escalation allowed`);
  }
  for (const c of pod.containers) {
    for (const p of ["readinessProbe", "livenessProbe"]) {
      if (c[p] === undefined) fail(w, `container ${c.name}: no ${p}`);
    }
  }
  // Every object the pod names must be rendered too.
  for (const v of pod.volumes ?? []) {
    if (v.secret && !named("Secret", v.secret.secretName)) fail(w, `volume ${v.name}: Secret ${v.secret.secretName} is not rendered`);
    if (v.configMap && !named("ConfigMap", v.configMap.name)) fail(w, `volume ${v.name}: ConfigMap ${v.configMap.name} is not rendered`);
    const claim = v.persistentVolumeClaim?.claimName;
    if (claim && !named("PersistentVolumeClaim", claim)) fail(w, `volume ${v.name}: PersistentVolumeClaim ${claim} is not rendered`);
  }
  for (const c of all) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef?.name;
      if (ref && !named("Secret", ref)) fail(w, `container ${c.name}: env ${e.name}: Secret ${ref} is not rendered`);
    }
  }
  if (!ofKind("Service").some((s) => selects({ matchLabels: s.spec.selector }, w.spec.template.metadata.labels))) {
    fail(w, "no Service selects its pods");
  }
}
for (const h of ofKind("HorizontalPodAutoscaler")) {
  const t = h.spec.scaleTargetRef;
  if (!named(t.kind, t.name)) fail(h, `scaleTargetRef ${t.kind}/${t.name} is not rendered`);
}

const utmdContainer = (w) => w.spec.template.spec.containers.find((c) => c.name === "utmd");
const utmds = ofKind("Deployment").filter((d) => utmdContainer(d) !== undefined);

// Both overlays: every utmd serves metrics where its pod says Prometheus
// should scrape, and logs JSON for the cluster's log pipeline.
for (const d of utmds) {
  const c = utmdContainer(d);
  const annotations = d.spec.template.metadata.annotations ?? {};
  const metrics = flag(c, "metrics");
  const port = metrics?.split(":").pop();
  if (metrics === undefined) fail(d, "no --metrics: Prometheus cannot scrape it");
  else if (annotations["prometheus.io/scrape"] !== "true" || annotations["prometheus.io/port"] !== port) {
    fail(d, `--metrics=${metrics} but the pod's prometheus.io/scrape and prometheus.io/port annotations do not say so`);
  } else if (!c.ports?.some((p) => String(p.containerPort) === port)) {
    fail(d, `--metrics=${metrics}: port ${port} is not a containerPort`);
  }
  if (flag(c, "log-format") !== "json") fail(d, `--log-format=${flag(c, "log-format")}, want json`);
}

if (overlay === "dev") {
  if (utmds.length !== 1) problems.push(`dev: ${utmds.length} utmd Deployments, want 1`);
  for (const d of utmds) {
    const c = utmdContainer(d);
    if (d.spec.replicas !== 1) fail(d, `replicas ${d.spec.replicas}, want 1 (one process owns the store)`);
    if (d.spec.strategy?.type !== "Recreate") fail(d, "strategy is not Recreate: a rollout would start a second utmd on the locked store");
    if ((flag(c, "store") ?? "embedded") !== "embedded") fail(d, `--store=${flag(c, "store")}, want embedded`);
    const services = flag(c, "services");
    if (services !== undefined && services !== "intent,constraint,telemetry,remoteid,registry,operator") fail(d, `--services=${services}, want all six`);
    const dataDir = flag(c, "data-dir");
    const mount = c.volumeMounts?.find((m) => m.mountPath === dataDir);
    const volume = d.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
    if (!volume?.persistentVolumeClaim) fail(d, `--data-dir ${dataDir} is not on a PersistentVolumeClaim`);
  }
}

if (overlay === "prod") {
  for (const [tier, services] of [["strategic", "intent,constraint,registry"], ["telemetry", "telemetry,remoteid,operator"]]) {
    const ds = utmds.filter((d) => flag(utmdContainer(d), "services") === services);
    if (ds.length !== 1) {
      problems.push(`prod: ${ds.length} Deployments with --services=${services} (the ${tier} tier), want 1`);
      continue;
    }
    const d = ds[0];
    const c = utmdContainer(d);
    const labels = d.spec.template.metadata.labels;
    if (!(d.spec.replicas >= 3)) fail(d, `replicas ${d.spec.replicas}, want at least 3`);
    if (flag(c, "store") !== "redis") fail(d, `--store=${flag(c, "store")}, want redis`);
    const redis = flag(c, "redis");
    if (redis === undefined) fail(d, "no --redis address");
    else if (!named("Service", redis.split(":")[0]) && !redis.includes(".")) fail(d, `--redis=${redis}: no Service of that name`);
    if (!flag(c, "tls-cert") || !flag(c, "tls-key")) fail(d, "not serving TLS (--tls-cert, --tls-key)");
    if (flag(c, "auth") !== "keys") fail(d, `--auth=${flag(c, "auth")}, want keys`);
    const pdbs = ofKind("PodDisruptionBudget").filter((p) => selects(p.spec.selector, labels));
    if (pdbs.length !== 1) fail(d, `${pdbs.length} PodDisruptionBudgets select its pods, want 1`);
    // A budget that selects another tier's pods too would let this tier drain.
    for (const p of pdbs) {
      for (const other of utmds.filter((o) => o !== d)) {
        if (selects(p.spec.selector, other.spec.template.metadata.labels)) fail(p, `also selects ${other.metadata.name}'s pods`);
      }
    }
    const hpas = ofKind("HorizontalPodAutoscaler").filter(
      (h) => h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === d.metadata.name,
    );
    if (hpas.length !== 1) fail(d, `${hpas.length} HorizontalPodAutoscalers target it, want 1`);
    for (const h of hpas) if (!(h.spec.minReplicas >= 3)) fail(h, `minReplicas ${h.spec.minReplicas}, want at least 3`);
  }

  const redisSets = ofKind("StatefulSet").filter((s) => s.spec.template.metadata.labels?.["app.kubernetes.io/name"] === "redis");
  if (redisSets.length !== 1) problems.push(`prod: ${redisSets.length} Redis StatefulSets, want 1`);
  for (const s of redisSets) {
    if (!s.spec.volumeClaimTemplates?.some((t) => t.metadata.name === "data")) fail(s, "no PersistentVolumeClaim for /data");
    const conf = s.spec.template.spec.volumes.find((v) => v.configMap)?.configMap?.name;
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === conf);
    const text = cm?.data?.["redis.conf"] ?? "";
    for (const line of ["appendonly yes", "appendfsync always"]) {
      if (!text.split("\n").some((l) => l.trim() === line)) fail(s, `redis.conf (ConfigMap ${conf}) lacks \`${line}\``);
    }
  }
  // Only utmd pods reach Redis, and only on 6379.
  const redisLabels = redisSets[0]?.spec.template.metadata.labels ?? {};
  const redisPolicies = ofKind("NetworkPolicy").filter((p) => selects(p.spec.podSelector, redisLabels));
  if (redisPolicies.length === 0) problems.push("prod: no NetworkPolicy selects the Redis pods");
  for (const p of redisPolicies) {
    for (const rule of p.spec.ingress ?? []) {
      const from = rule.from ?? [];
      const onlyUtmd =
        from.length > 0 && from.every((f) => f.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "utmd" && !f.ipBlock && !f.namespaceSelector);
      if (!onlyUtmd) fail(p, "an ingress rule admits more than utmd pods");
      if (!(rule.ports ?? []).every((port) => port.port === 6379) || (rule.ports ?? []).length === 0) fail(p, "an ingress rule opens more than port 6379");
    }
  }
}

for (const p of problems) console.log(p);
if (problems.length > 0) {
  console.log(`${overlay}: ${problems.length} invariant(s) broken`);
  process.exit(1);
}
console.log(`ok: ${overlay} overlay invariants hold (${objects.length} objects)`);
