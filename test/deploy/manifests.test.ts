/**
 * deploy/kubernetes/: every object validates against the Kubernetes API schema (1.27, through the
 * kubernetes-models package: types, required fields, enums, formats — offline, from npm), and the
 * objects agree with each other and with the node's settings. The schema package does not reject
 * unknown fields (`kubectl apply --validate=strict` would); the cross-checks below pin the fields
 * that matter.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { SETTINGS, readConfigFile } from '../../src/cli/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIR = path.join(ROOT, 'deploy', 'kubernetes');

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
type Validatable = { validate(): void };
const MODELS: Record<string, new (o: never) => Validatable> = {
  'v1/ConfigMap': ConfigMap, 'v1/Service': Service, 'v1/ServiceAccount': ServiceAccount,
  'apps/v1/StatefulSet': StatefulSet, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'rbac.authorization.k8s.io/v1/Role': Role, 'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

function validate(o: Obj): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o as never).validate();
}

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Obj;
  }).filter((o) => o !== null);
}

const manifestFiles = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const objects = manifestFiles.flatMap((f) => load(path.join(DIR, f)).map((o) => ({ file: f, o })));
const find = <T = Record<string, any>>(kind: string, name?: string): T => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const hit = objects.find((x) => x.o.kind === kind && (name === undefined || x.o.metadata.name === name));
  assert.ok(hit, `no ${kind} ${name ?? ''}`);
  return hit.o as T;
};

describe('Kubernetes manifests', () => {
  it('every object validates against the API schema', () => {
    assert.ok(objects.length >= 9, `found ${objects.length} objects`);
    for (const { file, o } of objects) {
      try {
        validate(o);
      } catch (e) {
        assert.fail(`${file}: ${o.kind} ${o.metadata?.name}: ${(e as Error).message}`);
      }
    }
    const kinds = new Set(objects.map((x) => x.o.kind));
    for (const k of ['StatefulSet', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ConfigMap']) assert.ok(kinds.has(k), k);
  });

  it('the validation refuses a broken object (so a pass means something)', () => {
    const sts = structuredClone(find('StatefulSet'));
    sts.spec.replicas = 'three';
    assert.throws(() => validate(sts as Obj), /replicas/);
    const noSelector = structuredClone(find('StatefulSet'));
    delete noSelector.spec.selector;
    assert.throws(() => validate(noSelector as Obj), /selector/);
    const hpa = structuredClone(find('HorizontalPodAutoscaler'));
    delete hpa.spec.scaleTargetRef.name;
    assert.throws(() => validate(hpa as Obj), /name/);
    const svc = structuredClone(find('Service', 'gossamer'));
    svc.spec.ports[0].port = '8000x';
    assert.throws(() => validate(svc as Obj), /port/);
  });

  it('kustomization lists every manifest', () => {
    const k = load(path.join(DIR, 'kustomization.yaml'))[0] as unknown as { resources: string[] };
    assert.deepEqual([...k.resources].sort(), [...manifestFiles].sort());
  });

  it('StatefulSet: stable ids, volumes, seeds and advertise through the headless service, probes on /health', () => {
    const sts = find('StatefulSet', 'gossamer');
    const headless = find('Service', sts.spec.serviceName);
    assert.equal(headless.spec.clusterIP, 'None');
    assert.equal(headless.spec.publishNotReadyAddresses, true, 'seeds must resolve before the pods are ready');
    assert.deepEqual(sts.spec.selector.matchLabels, sts.spec.template.metadata.labels);
    assert.deepEqual(headless.spec.selector, sts.spec.selector.matchLabels);
    assert.equal(sts.spec.podManagementPolicy, 'Parallel', 'the first ring forms only when every seed is up');
    assert.ok(sts.spec.volumeClaimTemplates.length >= 1);
    const c = sts.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    assert.equal(env.GOSSAMER_NODE_ID, '$(POD_NAME)');
    assert.match(env.GOSSAMER_ADVERTISE, new RegExp(`^\\$\\(POD_NAME\\)\\.${sts.spec.serviceName}\\.`));
    const seeds = (env.GOSSAMER_SEEDS as string).split(',');
    assert.deepEqual(seeds.map((s) => s.split('.')[0]), ['gossamer-0', 'gossamer-1', 'gossamer-2']);
    assert.ok(seeds.every((s) => s.includes(`.${sts.spec.serviceName}.`) && s.endsWith(':7000')));
    assert.equal(env.GOSSAMER_AUTO_JOIN, 'true');
    // Every GOSSAMER_* variable is a setting the node knows (a typo would be ignored by the node).
    const known = new Set([...SETTINGS.map((s) => s.env), 'GOSSAMER_CONFIG', 'GOSSAMER_CLUSTER_SECRET', 'GOSSAMER_LOG_FORMAT']);
    for (const name of Object.keys(env).filter((n) => n.startsWith('GOSSAMER_'))) assert.ok(known.has(name), `unknown setting ${name}`);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) assert.equal(c[probe].httpGet.path, '/health', probe);
    assert.deepEqual(c.ports.map((p: { containerPort: number }) => p.containerPort).sort(), [6380, 7000, 8000]);
    assert.ok(c.lifecycle.preStop.exec.command.join(' ').includes('prestop.mjs'));
    assert.ok(sts.spec.template.spec.terminationGracePeriodSeconds >= 600, 'time to hand partitions over');
    assert.ok(sts.spec.template.spec.securityContext.runAsNonRoot);
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === sts.spec.volumeClaimTemplates[0].metadata.name);
    assert.ok(env.GOSSAMER_DATA.startsWith(mount.mountPath), 'the data directory is on the volume');
  });

  it('the ConfigMap holds valid node settings and a preStop script that parses', () => {
    const cm = find('ConfigMap', 'gossamer-config');
    const dir = mkdtempSync(path.join(tmpdir(), 'gossamer-k8s-'));
    try {
      const file = path.join(dir, 'gossamer.yaml');
      writeFileSync(file, cm.data['gossamer.yaml']);
      const settings = readConfigFile(file); // unknown keys are refused
      const hpa = find('HorizontalPodAutoscaler');
      assert.ok(hpa.spec.minReplicas >= (settings.n as number), 'the HPA never goes below N');
      const script = path.join(dir, 'prestop.mjs');
      writeFileSync(script, cm.data['prestop.mjs']);
      execFileSync(process.execPath, ['--check', script]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PDB, HPA, client Service and RBAC point at the StatefulSet', () => {
    const sts = find('StatefulSet', 'gossamer');
    const pdb = find('PodDisruptionBudget');
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, sts.spec.selector.matchLabels);
    const hpa = find('HorizontalPodAutoscaler');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'gossamer' });
    assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas);
    assert.ok(hpa.spec.metrics.every((m: { type: string; pods: { metric: { name: string } } }) => m.type === 'Pods' && m.pods.metric.name.startsWith('gossamer_')));
    for (const dir of ['scaleUp', 'scaleDown']) assert.deepEqual(hpa.spec.behavior[dir].policies.map((p: { type: string; value: number }) => [p.type, p.value]), [['Pods', 1]], `${dir}: one pod at a time`);
    const client = find('Service', 'gossamer');
    assert.deepEqual(client.spec.ports.map((p: { port: number }) => p.port).sort(), [6380, 8000]);
    const binding = find('RoleBinding');
    assert.equal(binding.subjects[0].name, sts.spec.template.spec.serviceAccountName);
    assert.deepEqual(find('Role').rules[0].resourceNames, ['gossamer']);
  });

  it('the Prometheus adapter rules name the metrics the HPA reads', () => {
    const values = readFileSync(path.join(DIR, 'prometheus-adapter', 'values.yaml'), 'utf8');
    for (const m of find('HorizontalPodAutoscaler').spec.metrics) assert.match(values, new RegExp(`as: "${m.pods.metric.name}"`));
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const stages = lines.map((l, i) => [l, i] as const).filter(([l]) => /^FROM\s/i.test(l));

  it('is multi-stage: a node:20-slim build stage, a runtime stage that copies from it', () => {
    assert.ok(stages.length >= 2, 'at least two stages');
    assert.match(stages[0]![0], /^FROM node:20-slim AS build$/);
    assert.match(stages.at(-1)![0], /^FROM node:20-slim AS runtime$/);
    const build = lines.slice(stages[0]![1], stages.at(-1)![1]).join('\n');
    assert.match(build, /RUN npm ci/);
    assert.match(build, /npm run build/);
    const runtime = lines.slice(stages.at(-1)![1]).join('\n');
    assert.match(runtime, /COPY --from=build .*dist/);
    assert.doesNotMatch(runtime, /COPY (src|\.) /, 'no sources in the runtime image');
  });

  it('runs as a non-root user, exposes the three ports, has a HEALTHCHECK and runs the compiled CLI', () => {
    const runtime = lines.slice(stages.at(-1)![1]);
    const users = runtime.filter((l) => /^USER\s/i.test(l));
    assert.ok(users.length >= 1, 'USER in the final stage');
    assert.doesNotMatch(users.at(-1)!, /^USER\s+(root|0)(:|\s|$)/, 'the last USER is not root');
    const expose = runtime.find((l) => /^EXPOSE\s/.test(l))!;
    assert.deepEqual(expose.split(/\s+/).slice(1).sort(), ['6380', '7000', '8000']);
    assert.ok(runtime.some((l) => /^HEALTHCHECK\s/.test(l)));
    assert.ok(text.includes('/health'));
    assert.match(runtime.find((l) => /^ENTRYPOINT/.test(l))!, /dist\/src\/cli\/main\.js/);
  });

  it('.dockerignore keeps local state out of the build context', () => {
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'dist', 'data', '.git']) assert.ok(ignore.includes(p), p);
  });
});
