// The file-system edge of loading: files or whole folders (recursively: *.yaml, *.yml, *.json, in
// sorted order) read and handed to the pure loader in src/api/load.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Diagnostic } from '../api/diagnostics.ts';
import { loadSources } from '../api/load.ts';
import type { LoadResult } from '../api/load.ts';

const configFile = /\.(ya?ml|json)$/i;

/** The configuration files under `paths`, folders expanded recursively, each folder's files sorted. */
export function collectFiles(paths: readonly string[]): { files: string[]; diagnostics: Diagnostic[] } {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (configFile.test(name)) files.push(p);
    }
  };
  for (const path of paths) {
    try {
      if (statSync(path).isDirectory()) {
        const before = files.length;
        walk(path);
        if (files.length === before) {
          diagnostics.push({ severity: 'warning', position: { file: path, line: 1, column: 1 }, path: '', message: 'folder holds no *.yaml, *.yml or *.json file' });
        }
      } else {
        files.push(path);
      }
    } catch (err) {
      diagnostics.push({ severity: 'error', path: '', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  return { files, diagnostics };
}

/** Loads files and folders: every object, and every problem with file:line:column. */
export function loadPaths(paths: readonly string[]): LoadResult {
  const { files, diagnostics } = collectFiles(paths);
  const sources: { file: string; text: string }[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      diagnostics.push({ severity: 'error', path: '', message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  const r = loadSources(sources);
  return { objects: r.objects, diagnostics: [...diagnostics, ...r.diagnostics], resources: r.resources ?? [] };
}
