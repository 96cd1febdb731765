// The command line loads the Kubernetes client (~1,700 generated modules, ~12–40 MiB of heap and a
// second of start-up CPU) only in a cluster: no static import chain from main.ts may reach it.
// A static walk of the value imports (type-only imports are erased, dynamic ones are not followed).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function chainTo(entry: string, target: string): string[] | undefined {
  const via = new Map<string, string>();
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1]!;
      if (spec === target) {
        const chain = [file];
        for (let x = via.get(file); x !== undefined; x = via.get(x)) chain.push(x);
        return chain.reverse().map((f) => path.relative(here, f));
      }
      if (!spec.startsWith('.')) continue;
      const next = path.resolve(path.dirname(file), spec);
      if (!existsSync(next) || seen.has(next)) continue;
      seen.add(next);
      via.set(next, file);
      queue.push(next);
    }
  }
  return undefined;
}

test('no static import chain from the command line reaches the Kubernetes client', () => {
  // main.ts loads program.ts with a dynamic import (after the heap settings): walk both.
  for (const entry of ['main.ts', 'program.ts']) assert.equal(chainTo(path.join(here, entry), '@kubernetes/client-node')?.join(' → '), undefined, entry);
});

test('the walk follows relative imports to a package (so the test above could fail)', () => {
  // No file imports client-node statically any more (kube-config.ts loads it on demand), so the
  // walk is checked on a package the daemon does import through a chain of relative imports.
  const chain = chainTo(path.join(here, '../daemon/run.ts'), 'yaml');
  assert.ok(chain && chain.length > 1, `no chain: ${chain?.join(' → ')}`);
  assert.equal(chainTo(path.join(here, '../daemon/cluster.ts'), '@kubernetes/client-node'), undefined);
});
