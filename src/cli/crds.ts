// `ironlb crds [--out DIR]`: the CustomResourceDefinitions generated from the schemas. Without
// --out they go to stdout as one multi-document stream (`ironlb crds | kubectl apply -f -`);
// with --out each is written to DIR/<group>_<plural>.yaml and the paths are listed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { generateCrds } from '../api/crds.ts';

/** Every CRD as one YAML stream; each file's text already begins with its own `---`. */
export function crdStream(): string {
  return generateCrds().map((c) => c.yaml).join('');
}

export function registerCrds(program: Command): void {
  program
    .command('crds')
    .description('print the metallb.io CustomResourceDefinitions (generated from ironlb\'s schemas) to stdout, or write them to --out DIR')
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
