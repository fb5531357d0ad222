// Prints what a container of a rendered workload runs: its args, its command,
// or its readiness probe's command, each word ended by a NUL byte (read them
// with `mapfile -d '' words`), so that a test can run the same thing outside
// a cluster.
//
//   kubectl kustomize k8s/overlays/dev | node container-command.mjs Deployment/utmd utmd args
//   kubectl kustomize k8s/overlays/prod | node container-command.mjs StatefulSet/redis config command
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const [workload, containerName, what] = process.argv.slice(2);
const [kind, name] = (workload ?? "").split("/");
if (!name || !containerName || !["args", "command", "probe"].includes(what)) {
  console.error("usage: container-command.mjs KIND/NAME CONTAINER args|command|probe < rendered.yaml");
  process.exit(2);
}
const object = parseAllDocuments(readFileSync(0, "utf8"))
  .map((d) => d.toJS())
  .find((o) => o?.kind === kind && o.metadata?.name === name);
const pod = object?.spec?.template?.spec;
const container = [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].find((c) => c.name === containerName);
if (container === undefined) {
  console.error(`no ${kind}/${name} with a container ${containerName} in the input`);
  process.exit(1);
}
const words = { args: container.args, command: container.command, probe: container.readinessProbe?.exec?.command }[what] ?? [];
for (const w of words) process.stdout.write(`${w}\0`);
