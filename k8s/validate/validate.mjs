// Offline schema check of rendered Kubernetes manifests, without an API server.
//
//   kubectl kustomize k8s/overlays/prod | node k8s/validate/validate.mjs
//   node k8s/validate/validate.mjs rendered.yaml [more.yaml ...]
//
// Every object of the multi-document YAML is checked twice:
//   1. kubernetes-models (the OpenAPI schema as JSON Schema): types, enums and
//      required fields ("Deployment/utmd: spec.replicas: must be integer");
//   2. @kubernetes/client-node's field maps, walked recursively: every field
//      must be one the API knows ("Deployment/utmd: spec.replica: unknown
//      field"), which the JSON Schema alone lets through.
// Prints one line per problem, naming the object and the field path, and
// exits 1 when there is any; exit 0 prints how many objects were checked.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";
// The package index of @kubernetes/client-node needs Node 22; its generated
// models alone load on Node 20.
import * as fieldMaps from "@kubernetes/client-node/dist/gen/models/all.js";

const require = createRequire(import.meta.url);

// "apps/v1" -> { dir: "apps/v1", version: "v1" }; "v1" -> core.
function splitApiVersion(apiVersion) {
  const slash = apiVersion.lastIndexOf("/");
  return { dir: apiVersion, version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1) };
}

// "/spec/template/spec/containers/0/name" -> "spec.template.spec.containers[0].name"
function jsonPointerToPath(pointer) {
  let path = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^[0-9]+$/.test(part)) path += `[${part}]`;
    else path += path === "" ? part : `.${part}`;
  }
  return path;
}

function joinPath(base, key) {
  return base === "" ? key : `${base}.${key}`;
}

// Newer kustomize folds long base64 values of Secrets over several lines; the
// API server's decoder (Go's encoding/base64) skips the line breaks, the JSON
// Schema "byte" format does not.
function unfoldBase64(obj) {
  const field = obj.kind === "Secret" ? "data" : obj.kind === "ConfigMap" ? "binaryData" : null;
  if (field === null || typeof obj[field] !== "object" || obj[field] === null) return obj;
  const unfolded = {};
  for (const [k, v] of Object.entries(obj[field])) unfolded[k] = typeof v === "string" ? v.replace(/[\r\n]/g, "") : v;
  return { ...obj, [field]: unfolded };
}

// Types and required fields, from the OpenAPI schema kubernetes-models carries.
function schemaProblems(obj) {
  const { dir } = splitApiVersion(obj.apiVersion);
  let Model;
  try {
    Model = require(`kubernetes-models/${dir}/${obj.kind}`)[obj.kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    return [`apiVersion/kind: ${obj.apiVersion} ${obj.kind} is not a known Kubernetes type`];
  }
  try {
    new Model(unfoldBase64(obj)).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) return [`schema: ${e.message}`];
    return e.errors.map((err) => {
      let path = jsonPointerToPath(err.instancePath || "");
      if (err.keyword === "required") path = joinPath(path, err.params.missingProperty);
      const detail =
        err.keyword === "enum" ? `${err.message} (${err.params.allowedValues.join(", ")})` : err.message;
      return `${path || "(object)"}: ${detail}`;
    });
  }
}

// Unknown (misspelt) fields, walking client-node's attributeTypeMap of each
// type down through arrays and maps.
function unknownFieldProblems(value, type, path, out) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFieldProblems(v, array[1], `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) unknownFieldProblems(v, map[1], joinPath(path, k), out);
    }
    return;
  }
  const cls = fieldMaps[type];
  if (typeof cls?.getAttributeTypeMap !== "function") return; // a scalar, IntOrString, any
  if (typeof value !== "object" || Array.isArray(value)) return; // a type error: the schema reports it
  const known = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(value)) {
    const fieldPath = joinPath(path, key);
    if (!known.has(key)) {
      out.push(`${fieldPath}: unknown field (known here: ${[...known.keys()].join(", ")})`);
    } else {
      unknownFieldProblems(v, known.get(key), fieldPath, out);
    }
  }
}

function fieldMapProblems(obj) {
  const { version } = splitApiVersion(obj.apiVersion);
  const className = version.charAt(0).toUpperCase() + version.slice(1) + obj.kind;
  if (typeof fieldMaps[className]?.getAttributeTypeMap !== "function") {
    return [`apiVersion/kind: no field map for ${obj.apiVersion} ${obj.kind}`];
  }
  const out = [];
  unknownFieldProblems(obj, className, "", out);
  return out;
}

function checkObject(obj, where) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return [`${where}: not a Kubernetes object (a YAML mapping)`];
  }
  const name = `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    return [`${where} ${name}: apiVersion and kind must both be strings`];
  }
  const problems = schemaProblems(obj);
  // An unknown kind has no field map either: one message is enough.
  if (!problems.some((p) => p.startsWith("apiVersion/kind"))) problems.push(...fieldMapProblems(obj));
  return problems.map((p) => `${name}: ${p}`);
}

function main() {
  const files = process.argv.slice(2);
  const inputs = files.length === 0 ? [["<stdin>", readFileSync(0, "utf8")]] : files.map((f) => [f, readFileSync(f, "utf8")]);
  const problems = [];
  let objects = 0;
  for (const [file, text] of inputs) {
    parseAllDocuments(text).forEach((doc, i) => {
      const where = `${file} document ${i + 1}`;
      if (doc.errors.length > 0) {
        for (const e of doc.errors) problems.push(`${where}: YAML: ${e.message.split("\n")[0]}`);
        return;
      }
      const obj = doc.toJS();
      if (obj === null) return; // an empty document
      objects++;
      problems.push(...checkObject(obj, where));
    });
  }
  for (const p of problems) console.log(p);
  if (problems.length > 0) {
    console.log(`${problems.length} problem(s) in ${objects} object(s)`);
    process.exit(1);
  }
  if (objects === 0) {
    console.log("no Kubernetes objects in the input");
    process.exit(1);
  }
  console.log(`ok: ${objects} object(s) valid`);
}

main();
