/**
 * The cloud's deploy files (deploy/container, deploy/k8s) checked against the program itself:
 * every environment variable is a real option of `tillgate cloud` (envName over cloudOptionSpecs),
 * secrets come from the Secret and never inline, ports and probes agree, and the probe paths
 * answer on the real app. No container engine or cluster runs here: this is what can be checked
 * without one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envName } from '../../lib/config.js';
import { cloudOptionSpecs } from '../../cloud-bridge/options.js';
import { levelStorage, makeTestCloud, type TestStorage } from '../cloud-bridge/helpers.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const K8S = join(process.cwd(), 'deploy', 'k8s');
const docs: Obj[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(K8S, f), 'utf8')).map((d) => d.toJS() as Obj));
const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
const OPTION_ENV = new Set(Object.keys(cloudOptionSpecs).map(envName));
const SECRET_ENV = ['TILLGATE_DATABASE_URL', 'TILLGATE_ADMIN_TOKEN', 'TILLGATE_GATEWAYS', 'TILLGATE_PROVISIONING_KEYS'];

const deployment = ofKind('Deployment')[0]!;
const pod = deployment.spec.template.spec as Obj;
const container = pod.containers[0] as Obj;
const env = container.env as Obj[];
const envValue = (name: string) => env.find((e) => e.name === name)?.value as string | undefined;

describe('cloud deploy files', () => {
  let storage: TestStorage | undefined;
  afterEach(async () => {
    await storage?.destroy();
    storage = undefined;
  });

  it('deploy - every environment variable of the Deployment is a real tillgate cloud option', () => {
    expect(env.length).toBeGreaterThan(0);
    for (const e of env) expect(OPTION_ENV, `${String(e.name)} is not an option of tillgate cloud`).toContain(e.name);
    expect(env.map((e) => e.name)).toEqual(expect.arrayContaining(SECRET_ENV));
  });

  it('deploy - the database URL, the tokens and the provisioning keys come from the Secret, never inline', () => {
    const secrets = ofKind('Secret');
    for (const name of SECRET_ENV) {
      const e = env.find((x) => x.name === name)!;
      expect(e.value, `${name} must not be inline`).toBeUndefined();
      const ref = e.valueFrom.secretKeyRef as { name: string; key: string };
      const secret = secrets.find((s) => s.metadata.name === ref.name);
      expect(secret, `Secret ${ref.name}`).toBeDefined();
      expect(Object.keys(secret!.stringData as object)).toContain(ref.key);
    }
  });

  it('deploy - ports, probes, replicas, resources, the PodDisruptionBudget and the Service agree', () => {
    const port = (container.ports as Obj[]).find((p) => p.name === 'http')!;
    expect(String(port.containerPort)).toBe(envValue('TILLGATE_HTTP_PORT'));
    expect(envValue('TILLGATE_HOST')).toBe('0.0.0.0');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    for (const kind of ['requests', 'limits']) {
      expect(container.resources[kind].cpu).toBeDefined();
      expect(container.resources[kind].memory).toBeDefined();
    }
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    const pdb = ofKind('PodDisruptionBudget')[0]!;
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    for (const selector of [pdb.spec.selector.matchLabels, ofKind('Service')[0]!.spec.selector, deployment.spec.selector.matchLabels]) {
      for (const [k, v] of Object.entries(selector as Record<string, string>)) expect(labels[k]).toBe(v);
    }
    expect(ofKind('Service')[0]!.spec.ports[0].targetPort).toBe('http');
    // Running requests finish before the kubelet's SIGKILL.
    expect(Number(envValue('TILLGATE_SHUTDOWN_GRACE_MS'))).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
  });

  it('deploy - the probe paths answer 200 on the real cloud app', async () => {
    storage = await levelStorage();
    const cloud = await makeTestCloud(storage);
    try {
      for (const path of [container.readinessProbe.httpGet.path as string, container.livenessProbe.httpGet.path as string]) {
        expect((await cloud.app.request(path)).status, path).toBe(200);
      }
    } finally {
      await cloud.ledger.close();
    }
  });

  it('deploy - the container file builds in stages, runs the compiled cloud as a non-root user on the same port', () => {
    const file = readFileSync(join(process.cwd(), 'deploy', 'container', 'Containerfile.cloud'), 'utf8');
    const lines = file.split('\n').filter((l) => !l.startsWith('#'));
    expect(lines.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    const user = lines.filter((l) => l.startsWith('USER ')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/\b(root|0)\b/);
    expect(lines.find((l) => l.startsWith('EXPOSE '))).toBe(`EXPOSE ${envValue('TILLGATE_HTTP_PORT')}`);
    expect(lines.find((l) => l.startsWith('ENTRYPOINT '))).toBe('ENTRYPOINT ["node", "dist/bin/tillgate.js", "cloud"]');
    for (const name of file.match(/\bTILLGATE_[A-Z_]+\b/g) ?? []) expect(OPTION_ENV, name).toContain(name);
    expect(file).toMatch(/TILLGATE_HTTP_PORT=8090/);
  });
});
