// `ironlb crds [--out DIR]`: write the CustomResourceDefinitions generated from the schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { generateCrds } from '../api/crds.ts';

export function registerCrds(program: Command): void {
  program
    .command('crds')
    .description('write the metallb.io CustomResourceDefinitions (generated from ironlb\'s schemas)')
    .option('--out <dir>', 'output folder', 'deploy/crds')
    .action((opts) => {
      mkdirSync(opts.out, { recursive: true });
      for (const c of generateCrds()) {
        const path = join(opts.out, c.fileName);
        writeFileSync(path, c.yaml);
        process.stdout.write(`${path}\n`);
      }
    });
}
