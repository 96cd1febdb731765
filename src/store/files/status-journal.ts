// The controller status as a base file plus a journal of changes, so that an edit costs what it
// changed: one Service's new IPs append one line, never a rewrite of every Service's (with 50,000
// Services the whole file is 3 MB and 100–300 ms of JSON per write, on the thread that runs BGP).
//
// `status.yaml` (the base) names its journal with a token; `status.journal` starts with the same
// token, then holds one JSON line per write: the assignments that changed (null: released), the
// pool usage when it changed, the new events. A reader applies the journal only when the tokens
// match, so a base rewritten after the journal (a compaction cut short between its two renames)
// never has stale lines replayed over it; a torn last line (a writer killed mid-append) is
// ignored. The base is rewritten whole (compacted) when the journal outgrows the base and on the
// first write of a process (so a change costs its line plus, amortized, as many bytes again, and a
// reader in another process reads the lines appended, not the base again); built in slices that
// yield to the event loop, and written atomically like every status file. Compacting once the
// writer is quiet is an option (compactAfterMs), off by default: an edit every few seconds would
// otherwise rewrite the whole base (3 MB at 50,000 Services) after each, and make every reader
// read it whole again.
import { appendFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { ControllerStatus, ServiceAssignment, StatusEvent } from '../store.ts';
import { controllerJournalFile, controllerStatusFile, type JournalEntry, stateDir, statusHeader, writeAtomic } from './status-file.ts';

const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * The base text, built a slice of Services at a time (yielding in between), so that writing
 * 50,000 Services never holds the event loop for long. The Services may change while it is being
 * built: every change made meanwhile is journaled after it, and journal lines are idempotent.
 */
export async function baseText(s: ControllerStatus, token: string, slice = 2000): Promise<string> {
  const parts: string[] = [`${statusHeader}{\n"journal": ${JSON.stringify(token)},\n"services": {`];
  const keys = Object.keys(s.services);
  let first = true;
  for (let i = 0; i < keys.length; i += slice) {
    if (i > 0) await yieldNow();
    const chunk: string[] = [];
    for (const k of keys.slice(i, i + slice)) {
      const a = s.services[k];
      if (a === undefined) continue;
      chunk.push(`${first ? '' : ','}\n ${JSON.stringify(k)}: ${JSON.stringify(a)}`);
      first = false;
    }
    parts.push(chunk.join(''));
  }
  parts.push(`\n},\n"pools": ${JSON.stringify(s.pools, null, 1)},\n"events": ${JSON.stringify(s.events, null, 1)}${s.updated !== undefined ? `,\n"updated": ${JSON.stringify(s.updated)}` : ''}\n}\n`);
  return parts.join('');
}

let tokens = 0;

export interface JournalWriterOptions {
  /** Quiet time after which the base is rewritten with the journal folded in (default 0: never). */
  readonly compactAfterMs?: number;
  /** Journal size that forces a compaction, at least (default 256 KiB; else the base's size). */
  readonly minJournalBytes?: number;
  /** Runs a compaction the writer starts by itself (the store wraps it to know the files are its own). */
  readonly onCompact?: (write: () => Promise<ControllerStatus>) => Promise<void>;
}

/** Writes the controller status of one folder: whole at first, then a line per change. */
export class ControllerStatusWriter {
  private token: string | undefined;
  private journalBytes = 0;
  private baseBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private latest: ControllerStatus | undefined;
  private written: { pools: string; events: ReadonlySet<StatusEvent> } | undefined;
  private quiet: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly folder: string, private readonly options: JournalWriterOptions = {}) {}

  private get dir(): string {
    return stateDir(this.folder);
  }

  /**
   * Records `s`. `changed`: the Services whose assignment changed since the last write (unknown:
   * the whole status is written). Writes run one after another in call order.
   */
  write(full: ControllerStatus, changed?: ReadonlySet<string>): Promise<ControllerStatus> {
    // newEvents are for a cluster's Events, never written here; kept with the status they would hold
    // every event of the last burst (50,000 at a start: ~8 MiB) until the next write.
    const { newEvents: _notWritten, ...s } = full;
    this.latest = s;
    const run = this.chain.then(async () => {
      if (changed !== undefined && this.token !== undefined && this.journalBytes < Math.max(this.options.minJournalBytes ?? 256 * 1024, this.baseBytes)) await this.append(s, changed);
      else await this.compact(s);
      return s;
    });
    this.chain = run.then(() => undefined, () => { this.token = undefined; }); // after a failure the next write is whole
    this.armQuiet();
    return run;
  }

  /** Resolves when every write so far is done. */
  async flush(): Promise<void> {
    await this.chain;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.quiet);
  }

  private armQuiet(): void {
    const ms = this.options.compactAfterMs ?? 0;
    if (ms <= 0 || this.closed) return;
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      if (this.journalBytes === 0 || !this.latest || this.closed) return;
      const s = this.latest;
      const compact = (): Promise<ControllerStatus> => {
        const run = this.chain.then(async () => { if (this.journalBytes > 0 && this.latest === s) await this.compact(s); return s; });
        this.chain = run.then(() => undefined, () => { this.token = undefined; });
        return run;
      };
      void (this.options.onCompact ? this.options.onCompact(compact) : compact()).catch(() => undefined);
    }, ms);
    this.quiet.unref();
  }

  private remember(s: ControllerStatus): void {
    this.written = { pools: JSON.stringify(s.pools), events: new Set(s.events) };
  }

  /** The base written whole under a new token, then a fresh journal naming it. */
  private async compact(s: ControllerStatus): Promise<void> {
    const token = `${process.pid}-${Date.now().toString(36)}-${++tokens}`;
    this.token = undefined;
    this.remember(s);
    const text = await baseText(s, token);
    await writeAtomic(path.join(this.dir, controllerStatusFile), text);
    const head = `${JSON.stringify({ journal: token })}\n`;
    await writeAtomic(path.join(this.dir, controllerJournalFile), head);
    this.baseBytes = text.length;
    this.journalBytes = 0;
    this.token = token;
  }

  private async append(s: ControllerStatus, changed: ReadonlySet<string>): Promise<void> {
    const set: Record<string, ServiceAssignment | null> = {};
    for (const k of changed) set[k] = s.services[k] ?? null;
    const pools = JSON.stringify(s.pools);
    const fresh = this.written ? s.events.filter((e) => !this.written!.events.has(e)) : [...s.events];
    const entry: JournalEntry = {
      s: set, ...(pools !== this.written?.pools ? { p: s.pools } : {}), ...(fresh.length > 0 ? { e: fresh } : {}), ...(s.updated !== undefined ? { u: s.updated } : {}),
    };
    this.remember(s);
    const line = `${JSON.stringify(entry)}\n`;
    await appendFile(path.join(this.dir, controllerJournalFile), line);
    this.journalBytes += line.length;
  }
}

/** The journal's identity (inode, size, mtime), for a reader that wants to know it changed. */
export async function journalSignature(folder: string): Promise<string> {
  try {
    const st = await stat(path.join(stateDir(folder), controllerJournalFile));
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'none';
  }
}
