#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`) when it is up to date with the sources, else
// the TypeScript sources through tsx: an edit after the last build always runs, never the old code.
// Up to date: every src/**/*.ts (tests aside) has its dist/**/*.js, written no earlier than it. An
// image has dist/ and no src/: dist/ runs. A checkout without tsx (npm ci --omit=dev) and a stale
// dist/ stops with what to do instead of running old code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');

/** The first source newer than its compiled file (or without one), relative to src/; undefined when dist/ is current. */
function staleSource(dir = join(root, 'src'), rel = '') {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const name = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const s = staleSource(join(dir, e.name), name);
      if (s !== undefined) return s;
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
      let out;
      try { out = statSync(join(root, 'dist', name.replace(/\.ts$/, '.js'))).mtimeMs; } catch { return name; }
      if (statSync(join(dir, e.name)).mtimeMs > out) return name;
    }
  }
  return undefined;
}

const hasSources = existsSync(join(root, 'src', 'cli', 'main.ts'));
const stale = existsSync(built) && hasSources ? staleSource() : undefined;
if (existsSync(built) && stale === undefined) {
  await import(pathToFileURL(built).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(existsSync(built)
      ? `ironlb: dist/ is older than src/${stale}, and tsx (a dev dependency) is not installed to run the sources: run \`npm run build\`\n`
      : 'ironlb: neither dist/ (npm run build) nor tsx (npm ci) is there to run the CLI\n');
    process.exit(1);
  }
  if (stale !== undefined) process.stderr.write(`ironlb: dist/ is older than src/${stale}: running the sources (\`npm run build\` to run compiled code)\n`);
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
