// The last accepted configuration, kept beside the status (`.ironlb-state/last-good-config.yaml`):
// the texts of the configuration files that were in force, so that a restart whose files on disk
// are rejected starts from it rather than from nothing. Written (atomically, in order) whenever the
// accepted configuration changes; read only at start.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { CachedFile, FileLoader, LoadResult, StoreLogger } from './file-cache.ts';
import { stateDir, writeAtomic } from './status-file.ts';

/** Where the last accepted configuration is kept, beside the status. */
export const lastGoodFile = 'last-good-config.yaml';

const header = '# Written by ironlb: the last accepted configuration (the files below, as they were), used at start when the files on disk are rejected. Do not edit.';

export class LastGoodConfig {
  /** The configuration last kept (its files' signatures), so that one is written once. */
  private keptKey: string | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly folder: string, private readonly o: { readonly loader: FileLoader; readonly logger?: StoreLogger }) {}

  /** Keeps the configuration files among `files` (the cache's entries) when `key` is not the one kept. */
  keep(key: string, files: ReadonlyMap<string, CachedFile>): void {
    if (key === this.keptKey) return;
    this.keptKey = key;
    const parts: string[] = [header];
    for (const f of [...files.keys()].sort()) {
      const e = files.get(f)!;
      if (e.configRelevant && e.text !== undefined) parts.push(`# from ${path.relative(this.folder, f)}\n${e.text}`);
    }
    const text = parts.join('\n---\n') + '\n';
    this.writing = this.writing.then(() => writeAtomic(path.join(stateDir(this.folder), lastGoodFile), text))
      .catch((e: unknown) => this.o.logger?.warn({ err: e }, 'cannot keep the last good configuration'));
  }

  /** The configuration kept, loaded; undefined when there is none or it does not load cleanly. */
  async read(): Promise<LoadResult | undefined> {
    const file = path.join(stateDir(this.folder), lastGoodFile);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const r = await this.o.loader(file, text);
    return r.diagnostics.some((d) => d.severity === 'error') ? undefined : r;
  }

  /** Resolves once every write asked for so far has ended. */
  flush(): Promise<void> {
    return this.writing;
  }
}
