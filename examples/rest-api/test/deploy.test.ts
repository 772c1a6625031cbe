/**
 * Static checks of the deployment files (no Docker engine or cluster runs here): the Helm chart
 * is linted and rendered by Helm itself and every rendered manifest is validated strictly against
 * the Kubernetes API's JSON schemas (kubernetes-validate); the nginx config passes `nginx -t`;
 * the Dockerfile is parsed and held to the image rules. Tools come from scripts/provision.sh.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../../..');
const DEPLOY = resolve(import.meta.dirname, '../deploy');
const CHART = join(DEPLOY, 'helm', 'carafe-rest-api');
const KUBE_VERSION = '1.31.0';

function tool(path: string): string {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`bash scripts/provision.sh\` (it builds Helm and installs kubernetes-validate)`);
  }
  return path;
}
const helm = () => tool(join(ROOT, '.tools', 'bin', 'helm'));
const kubernetesValidate = () => tool(join(ROOT, '.tools', 'k8s-venv', 'bin', 'kubernetes-validate'));
const nginx = () => tool(['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? '/usr/sbin/nginx');

const scratch = mkdtempSync(join(tmpdir(), 'carafe-deploy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Manifest = { kind: string; metadata: { name: string }; [key: string]: any };

async function render(...sets: string[]): Promise<{ text: string; manifests: Manifest[] }> {
  const args = ['template', 'demo', CHART, '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s])];
  const { stdout } = await run(helm(), args);
  const manifests = parseAllDocuments(stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
  return { text: stdout, manifests };
}

const byKind = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind);

describe('Helm chart', () => {
  it('passes helm lint --strict', async () => {
    const { stdout } = await run(helm(), ['lint', '--strict', '--kube-version', KUBE_VERSION, CHART]);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('renders manifests that validate strictly against the Kubernetes schemas', async () => {
    const { text, manifests } = await render();
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    const file = join(scratch, 'rendered.yaml');
    writeFileSync(file, text);
    const { stdout } = await run(kubernetesValidate(), ['--strict', '-k', KUBE_VERSION, file]);
    expect(stdout.match(/passed for resource/g)).toHaveLength(6);
  });

  it('has validation that catches a misspelt field (the check can fail)', async () => {
    const { text } = await render();
    const file = join(scratch, 'broken.yaml');
    writeFileSync(file, text.replace('readinessProbe:', 'readinessProbes:'));
    const failure = await run(kubernetesValidate(), ['--strict', '-k', KUBE_VERSION, file]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String((failure as { stdout?: string } | null)?.stdout)).toContain("'readinessProbes' was unexpected");
  });

  it('probes readiness on /readyz and liveness on /healthz, and drains before stopping', async () => {
    const { manifests } = await render();
    const deployment = byKind(manifests, 'Deployment')!;
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
    const [command, seconds] = container.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThan(0);
    // The grace period covers the preStop delay plus the server's 30 s graceful timeout.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + 30);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // With an HPA the Deployment leaves the replica count to it.
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('passes MONGODB_URI from a Secret and plain settings from a ConfigMap', async () => {
    const { manifests } = await render('mongodb.uri=mongodb://db.example:27017/app', 'workers=4');
    const secret = byKind(manifests, 'Secret')!;
    const config = byKind(manifests, 'ConfigMap')!;
    expect(secret.stringData).toEqual({ MONGODB_URI: 'mongodb://db.example:27017/app' });
    expect(config.data).toMatchObject({ MONGODB_DB: 'carafe', CARAFE_WORKERS: '4' });
    const container = byKind(manifests, 'Deployment')!.spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
  });

  it('uses an existing Secret instead of creating one', async () => {
    const { manifests } = await render('mongodb.existingSecret=prod-mongodb');
    expect(byKind(manifests, 'Secret')).toBeUndefined();
    const container = byKind(manifests, 'Deployment')!.spec.template.spec.containers[0];
    expect(container.envFrom).toContainEqual({ secretRef: { name: 'prod-mongodb' } });
  });

  it('scales on CPU with the HorizontalPodAutoscaler, or runs fixed replicas without it', async () => {
    const { manifests } = await render('autoscaling.maxReplicas=7');
    const hpa = byKind(manifests, 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: byKind(manifests, 'Deployment')!.metadata.name,
    });
    expect(hpa.spec.maxReplicas).toBe(7);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const fixed = await render('autoscaling.enabled=false', 'replicaCount=3');
    expect(byKind(fixed.manifests, 'HorizontalPodAutoscaler')).toBeUndefined();
    expect(byKind(fixed.manifests, 'Deployment')!.spec.replicas).toBe(3);
  });

  it('runs several replicas spread over nodes, with a PodDisruptionBudget and readiness-gated rollouts', async () => {
    const { manifests } = await render();
    const deployment = byKind(manifests, 'Deployment')!;
    const selector = deployment.spec.selector.matchLabels;
    expect(byKind(manifests, 'HorizontalPodAutoscaler')!.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = byKind(manifests, 'PodDisruptionBudget')!;
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    const [spread] = deployment.spec.template.spec.topologySpreadConstraints;
    expect(spread).toMatchObject({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } });
    expect(deployment.spec.minReadySeconds).toBeGreaterThan(0);
    expect(deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');

    const other = await render('podDisruptionBudget.minAvailable=2', 'topologySpread.enabled=false');
    expect(byKind(other.manifests, 'PodDisruptionBudget')!.spec).toMatchObject({ minAvailable: 2 });
    expect(byKind(other.manifests, 'Deployment')!.spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(byKind((await render('podDisruptionBudget.enabled=false')).manifests, 'PodDisruptionBudget')).toBeUndefined();
  });

  it('rejects bad values through values.schema.json', async () => {
    for (const bad of ['image.tag=latest', 'workers=0', 'mongodb.database=', 'unknownKey=1', 'podDisruptionBudget.maxUnavailable=0']) {
      await expect(render(bad), bad).rejects.toThrow(/values don't meet the specifications of the schema/);
    }
  });
});

describe('nginx config', () => {
  const conf = readFileSync(join(DEPLOY, 'nginx', 'carafe.conf'), 'utf8');

  it('passes nginx -t', async () => {
    const prefix = mkdtempSync(join(scratch, 'nginx-'));
    writeFileSync(
      join(prefix, 'nginx.conf'),
      [
        `pid ${prefix}/nginx.pid;`,
        `error_log ${prefix}/error.log;`,
        'events {}',
        `http { access_log off; client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;`,
        `  include ${join(DEPLOY, 'nginx', 'carafe.conf')};`,
        '}',
      ].join('\n'),
    );
    const { stderr } = await run(nginx(), ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf')]);
    expect(stderr).toContain('test is successful');
  });

  it('proxies to the unix socket with forwarded headers, upstream keep-alive and a body limit', () => {
    const directives = conf.replace(/#.*$/gm, '');
    expect(directives).toMatch(/server unix:\/run\/carafe\/carafe\.sock/);
    expect(directives).toMatch(/keepalive \d+;/);
    expect(directives).toMatch(/proxy_http_version 1\.1;/);
    expect(directives).toMatch(/proxy_set_header Connection "";/);
    expect(directives).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(directives).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    expect(directives).toMatch(/client_max_body_size \d+[km]?;/);
  });

  it("answers nginx's own 413/502/503/504 as problem documents and retries only what is safe to repeat", () => {
    const directives = conf.replace(/#.*$/gm, '');
    for (const status of [413, 502, 503, 504]) {
      expect(directives).toContain(`error_page ${status} @problem_${status};`);
      const location = new RegExp(`location @problem_${status} \\{([^}]*)\\}`).exec(directives)?.[1] ?? '';
      expect(location, `location @problem_${status}`).toMatch(/default_type application\/problem\+json;/);
      expect(location).toMatch(new RegExp(`return ${status} '\\{"type":"about:blank","title":"[^"]+","status":${status},`));
    }
    expect(directives).toMatch(/proxy_next_upstream error timeout http_502 http_503;/);
    expect(directives).not.toMatch(/non_idempotent/);
    expect(directives).not.toMatch(/proxy_intercept_errors on/);
  });
});

/** Dockerfile instructions, with line continuations joined and comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  const dockerfile = instructions(readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8'));
  const stages: Array<Array<{ op: string; args: string }>> = [];
  for (const instruction of dockerfile) {
    if (instruction.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  const runtime = stages.at(-1) ?? [];

  it('builds in stages from pinned base images', () => {
    const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      expect(from).toMatch(/^node:\d+\.\d+[\w.-]*\s+AS\s+\w+$/i);
      expect(from).not.toMatch(/:latest\b/);
    }
    expect(runtime.filter((i) => i.op === 'COPY').every((i) => i.args.startsWith('--from='))).toBe(true);
    expect(
      stages[0]?.some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args) && /tsc -b/.test(i.args) && /npm prune --omit=dev/.test(i.args)),
    ).toBe(true);
  });

  it('runs as a non-root user with a healthcheck on /healthz and the server as its command', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1);
    expect(user?.args).toBeDefined();
    expect(user?.args).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = runtime.find((i) => i.op === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD \["node",.*\/healthz/);
    const cmd = JSON.parse(runtime.find((i) => i.op === 'CMD')?.args ?? 'null') as string[];
    expect(cmd.slice(0, 4)).toEqual(['node', 'packages/server/dist/cli.js', 'serve', 'examples/rest-api/dist/app.js']);
    expect(cmd).toContain('examples/rest-api/deploy/carafe.config.js');
    // Every path the image runs from is copied into it.
    const copied = runtime.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/).at(-1));
    expect(copied).toEqual(
      expect.arrayContaining([
        './packages/server/dist',
        './packages/middleware/dist',
        './examples/rest-api/dist',
        './examples/rest-api/deploy/',
      ]),
    );
  });

  it('keeps local builds, dependencies and tools out of the build context', () => {
    const ignored = readFileSync(join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.tools', '.data']));
  });
});
