// `npm run bench -- NAME [args]` runs bench/NAME.ts; with no NAME, lists what there is.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.endsWith('.test.ts')).map((f) => f.slice(0, -3)).sort();
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.log(`usage: npm run bench -- NAME\nbenchmarks: ${names.join(', ') || '(none yet)'}`);
  process.exit(name ? 1 : 0);
}
process.argv.splice(2, 1);
await import(pathToFileURL(join(here, `${name}.ts`)).href);
