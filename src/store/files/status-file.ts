// The status ironlb owns, kept beside the user's YAML in `.ironlb-state/`: `status.yaml` (the
// controller's: assignments, pool usage, events) and `speaker-NODE.yaml` (one per speaker), so no
// two processes ever write the same file. Writes are atomic (temp file + rename): a reader sees
// the old file or the new one, never half of one.
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'yaml';
import { type ControllerStatus, emptyControllerStatus, type PoolUsage, type ServiceAssignment, type SpeakerStatus, type StatusEvent } from '../store.ts';

export const stateDirName = '.ironlb-state';
export const controllerStatusFile = 'status.yaml';
/** Changes since status.yaml was written whole (status-journal.ts). */
export const controllerJournalFile = 'status.journal';
export const statusHeader = '# Written by ironlb (the controller). Do not edit: assigned IPs per Service, pool usage, events.\n';

export function stateDir(folder: string): string {
  return path.join(folder, stateDirName);
}

let tempCounter = 0;

export async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}-${++tempCounter}`;
  await writeFile(temp, text);
  await rename(temp, file);
}

const tempName = /\.tmp-(\d+)-\d+$/;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes the temp files of writers that died between write and rename (kill -9). Returns their names. */
export async function removeStaleTemps(folder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(stateDir(folder));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = tempName.exec(n);
    const pid = Number(m?.[1]);
    if (!m || pid === process.pid || alive(pid)) continue; // a live writer's file, being written now
    await unlink(path.join(stateDir(folder), n)).then(() => removed.push(n), () => undefined);
  }
  return removed;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A missing status is an empty one (the controller starts afresh). A status file that exists but
 * cannot be understood is `damaged`: never an empty one, since allocating from nothing would
 * renumber every Service.
 */
export async function readControllerStatus(folder: string): Promise<ControllerStatus> {
  // The journal before the base (see readJournal).
  const journal = await readJournal(folder);
  let text: string;
  try {
    text = await readFile(path.join(stateDir(folder), controllerStatusFile), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? emptyControllerStatus : damaged(`cannot read ${controllerStatusFile}: ${code ?? String(e)}`);
  }
  return parseControllerStatus(text, journal);
}

/**
 * Readers read a journal before its base. A writer replaces the base first, then the journal
 * (with the new base's token): read in that order, a reader gets a base and its own journal, or a
 * newer base alone, which holds everything. Read base first, a compaction between the two reads
 * gave the old base and the new journal, whose token does not match: the old base alone, without
 * every change journaled since it was written (seen as 1,001 Services "moved" by a restart at 50,000).
 */
/** The journal's text ('' when there is none). */
export async function readJournal(folder: string): Promise<string> {
  try {
    return await readFile(path.join(stateDir(folder), controllerJournalFile), 'utf8');
  } catch {
    return '';
  }
}

/** The header comment, then JSON (which is YAML): fast to write and read with thousands of Services. */
export function jsonAfterComments(text: string): unknown {
  const body = text.replace(/^(#[^\n]*\n)+/, '');
  if (body.startsWith('{')) {
    try {
      return JSON.parse(body);
    } catch {
      // hand-edited: fall back to YAML
    }
  }
  return parse(text);
}

const damaged = (why: string): ControllerStatus => ({ ...emptyControllerStatus, damaged: why });

/**
 * An empty text (no status yet) is an empty status; anything unparsable is a damaged one. `journal`:
 * the journal's text, applied when it belongs to this base.
 */
export function parseControllerStatus(text: string, journal = ''): ControllerStatus {
  if (text.trim() === '') return emptyControllerStatus;
  let doc: unknown;
  try {
    doc = jsonAfterComments(text);
  } catch (e) {
    return damaged(`${controllerStatusFile} does not parse: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc) || !isRecord(doc.services)) return damaged(`${controllerStatusFile} holds no services map`);
  const services: Record<string, { ips: string[]; pool?: string }> = {};
  if (isRecord(doc.services)) {
    for (const [key, v] of Object.entries(doc.services)) {
      if (!isRecord(v) || !Array.isArray(v.ips)) continue;
      const ips = v.ips.filter((x): x is string => typeof x === 'string');
      services[key] = typeof v.pool === 'string' ? { ips, pool: v.pool } : { ips };
    }
  }
  const pools = isRecord(doc.pools) ? (doc.pools as ControllerStatus['pools']) : {};
  const events = Array.isArray(doc.events) ? (doc.events as ControllerStatus['events']) : [];
  const base = { services, pools, events, ...(typeof doc.updated === 'string' ? { updated: doc.updated } : {}) };
  return applyJournal(base, typeof doc.journal === 'string' ? doc.journal : undefined, journal);
}

/** One journal line: what one write changed. */
export interface JournalEntry {
  /** Assignments set (null: released). */
  readonly s: Readonly<Record<string, ServiceAssignment | null>>;
  readonly p?: Readonly<Record<string, PoolUsage>>;
  readonly e?: readonly StatusEvent[];
  readonly u?: string;
}

const keptEvents = 200;

/** A status being built from a base and its journal lines (services updated in place). */
export interface JournalTarget {
  readonly services: Record<string, ServiceAssignment>;
  pools: ControllerStatus['pools'];
  events: readonly StatusEvent[];
  updated?: string;
}

/** The token of the journal a journal's text starts with (undefined: none, or not a journal). */
export function journalHead(text: string): string | undefined {
  const nl = text.indexOf('\n');
  try {
    const head: unknown = JSON.parse(nl < 0 ? text : text.slice(0, nl));
    return isRecord(head) && typeof head.journal === 'string' ? head.journal : undefined;
  } catch {
    return undefined;
  }
}

/** Applies one journal line to `t`; the keys it sets or releases go to `changed`. A torn or foreign line changes nothing. */
export function applyJournalLine(t: JournalTarget, line: string, changed?: Set<string>): void {
  if (line === '') return;
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    return; // a writer killed mid-line: that change never completed
  }
  if (!isRecord(e) || !isRecord(e.s)) return;
  for (const [k, v] of Object.entries(e.s)) {
    if (v === null) delete t.services[k];
    else if (isRecord(v) && Array.isArray(v.ips)) {
      const ips = v.ips.filter((x): x is string => typeof x === 'string');
      t.services[k] = typeof v.pool === 'string' ? { ips, pool: v.pool } : { ips };
    } else continue;
    changed?.add(k);
  }
  if (isRecord(e.p)) t.pools = e.p as ControllerStatus['pools'];
  if (Array.isArray(e.e)) t.events = [...t.events, ...(e.e as StatusEvent[])].slice(-keptEvents);
  if (typeof e.u === 'string') t.updated = e.u;
}

/**
 * Applies a journal's text to the base it belongs to (`token`: the base's `journal` field). A
 * journal of another base is ignored; so is a torn last line.
 */
export function applyJournal(base: ControllerStatus, token: string | undefined, text: string): ControllerStatus {
  if (token === undefined || text === '' || journalHead(text) !== token) return base;
  const t: JournalTarget = { services: { ...base.services }, pools: base.pools, events: base.events, ...(base.updated !== undefined ? { updated: base.updated } : {}) };
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) applyJournalLine(t, lines[i]!);
  return { services: t.services, pools: t.pools, events: t.events, ...(t.updated !== undefined ? { updated: t.updated } : {}) };
}

/** The journal token a base's text names (undefined: none). */
export function baseToken(text: string): string | undefined {
  return /^\{\s*"journal":\s*"([^"\\]*)"/m.exec(text)?.[1];
}

/** Returns the text written. */
export async function writeControllerStatus(folder: string, s: ControllerStatus): Promise<string> {
  const text = statusHeader + JSON.stringify({ ...s, newEvents: undefined }, null, 1) + '\n';
  await writeAtomic(path.join(stateDir(folder), controllerStatusFile), text);
  return text;
}

export function speakerStatusFile(node: string): string {
  return `speaker-${node.replace(/[^A-Za-z0-9._-]/g, '_')}.yaml`;
}

/** Writes a speaker's status whole (no journal: see speaker-status-journal.ts for a daemon's writes). */
export async function writeSpeakerStatus(folder: string, s: SpeakerStatus): Promise<void> {
  const header = `# Written by ironlb (the speaker on ${s.node}). Do not edit.\n`;
  await writeAtomic(path.join(stateDir(folder), speakerStatusFile(s.node)), header + JSON.stringify(s, null, 1) + '\n');
}
