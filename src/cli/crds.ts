// `ironlb crds [--out DIR]`: the CustomResourceDefinitions generated from the schemas. Without
// --out every CRD a cluster needs — the metallb.io configuration kinds and the status kinds the
// speakers and controller write — goes to stdout as one multi-document stream
// (`ironlb crds | kubectl apply -f -`); with --out the configuration CRDs are written to
// DIR/<group>_<plural>.yaml (what deploy/crds holds) and the paths are listed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { generateCrds } from '../api/crds.ts';
import { generateStatusCrds } from '../api/status-kinds.ts';

/** Every CRD as one YAML stream; each file's text already begins with its own `---`. */
export function crdStream(): string {
  return [...generateCrds(), ...generateStatusCrds()].map((c) => c.yaml).join('');
}

export function registerCrds(program: Command): void {
  program
    .command('crds')
    .description('print every CustomResourceDefinition ironlb needs (configuration and status kinds) to stdout, or write the configuration CRDs to --out DIR')
    .option('--out <dir>', 'write one file per CRD into this folder instead of printing them')
    .action((opts) => {
      if (opts.out === undefined) {
        process.stdout.write(crdStream());
        return;
      }
      mkdirSync(opts.out, { recursive: true });
      for (const c of generateCrds()) {
        const path = join(opts.out, c.fileName);
        writeFileSync(path, c.yaml);
        process.stdout.write(`${path}\n`);
      }
    });
}
