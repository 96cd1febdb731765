// Regenerates what deploy/ derives from the sources: the status CRDs (deploy/status-crds), the
// CRDs the Helm chart installs (metallb.io from api/'s schemas, plus the status kinds) and the
// chart's copy of the Grafana dashboard. `npm run gen:deploy`; test/deploy checks they are current.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCrds } from '../src/api/crds.ts';
import { generateStatusCrds } from '../src/api/status-kinds.ts';

export function deployFiles(): { path: string; text: string }[] {
  const status = generateStatusCrds().map((c) => ({ path: join('deploy/status-crds', c.fileName), text: c.yaml }));
  const chart = [...generateCrds(), ...generateStatusCrds()].map((c) => ({ path: join('deploy/helm/ironlb/files/crds', c.fileName), text: c.yaml }));
  return [...status, ...chart];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const dir of ['deploy/status-crds', 'deploy/helm/ironlb/files/crds']) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) rmSync(join(dir, f));
  }
  for (const f of deployFiles()) {
    writeFileSync(f.path, f.text);
    process.stdout.write(`${f.path}\n`);
  }
  mkdirSync('deploy/helm/ironlb/files/grafana', { recursive: true });
  copyFileSync('deploy/grafana/ironlb.json', 'deploy/helm/ironlb/files/grafana/ironlb.json');
}
