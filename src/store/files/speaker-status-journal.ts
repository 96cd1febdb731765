// A speaker's status file as a base plus a journal, as the controller's (status-journal.ts): an edit
// appends one line with what changed (the sessions, the prefixes announced and withdrawn, the
// Services touched), never a rewrite of every prefix of every session (at 50,000 Services × 4
// peers the whole file is ~8 MB). `speaker-NODE.yaml` (the base) names its journal with a token;
// `speaker-NODE.journal` starts with the same token. The base is rewritten whole on a writer's
// first write, after a failed write, for a write that carries no changes, and when the journal
// outgrows the base (so a reader reads at most about twice the base, and a change costs its own
// bytes plus, amortized, as many again). A torn last line (a writer killed mid-append) is ignored.
import { appendFile, readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { PeerAnnouncement, ServiceBgpEntries, SpeakerStatus, SpeakerStatusChanges, SpeakerStatusWrite } from '../store.ts';
import { isRecord, jsonAfterComments, speakerStatusFile, stateDir, writeAtomic } from './status-file.ts';

export const speakerJournalFile = (node: string): string => speakerStatusFile(node).replace(/\.yaml$/, '.journal');

/** One journal line: what one write changed. */
interface SpeakerJournalEntry {
  /** Every session, without its prefixes (a session not named is gone). */
  readonly p: Readonly<Record<string, Omit<PeerAnnouncement, 'prefixes'>>>;
  /** Per session: prefixes announced. */
  readonly a?: Readonly<Record<string, readonly string[]>>;
  /** Per session: prefixes withdrawn. */
  readonly w?: Readonly<Record<string, readonly string[]>>;
  /** Per Service: its entries now. */
  readonly s?: Readonly<Record<string, ServiceBgpEntries>>;
  /** The layer-2 part, when it changed (null: none). */
  readonly l?: SpeakerStatus['layer2'] | null;
  /** The FRRConfigurations refused, whole. */
  readonly f?: SpeakerStatus['frrConfigurationProblems'];
  readonly u?: string;
}

const headerOf = (p: PeerAnnouncement): Omit<PeerAnnouncement, 'prefixes'> => {
  const { prefixes: _p, prefixesSent: _n, ...rest } = p;
  return rest;
};

/** The journal line of `c`. */
export function journalEntry(c: SpeakerStatusChanges): SpeakerJournalEntry {
  const p: Record<string, Omit<PeerAnnouncement, 'prefixes'>> = {};
  for (const [id, peer] of Object.entries(c.peers)) p[id] = headerOf(peer);
  const a: Record<string, string[]> = {};
  const w: Record<string, string[]> = {};
  for (const [id, prefixes] of c.prefixes) {
    for (const [prefix, on] of prefixes) (on ? (a[id] ??= []) : (w[id] ??= [])).push(prefix);
  }
  const s: Record<string, ServiceBgpEntries> = {};
  for (const [key, e] of c.services) s[key] = e;
  return {
    p, ...(Object.keys(a).length > 0 ? { a } : {}), ...(Object.keys(w).length > 0 ? { w } : {}), ...(c.services.size > 0 ? { s } : {}),
    ...('layer2' in c ? { l: c.layer2 ?? null } : {}), ...(c.frrConfigurationProblems !== undefined ? { f: c.frrConfigurationProblems } : {}),
    ...(c.updated !== undefined ? { u: c.updated } : {}),
  };
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The status of a base with its journal applied (`token`: the base's `journal` field; a journal of
 * another base is ignored, and so is a torn last line).
 */
export function applySpeakerJournal(base: SpeakerStatus, token: string | undefined, text: string): SpeakerStatus {
  if (token === undefined || text === '') return base;
  const lines = text.split('\n');
  let head: unknown;
  try {
    head = JSON.parse(lines[0] ?? '');
  } catch {
    return base;
  }
  if (!isRecord(head) || head.journal !== token) return base;
  let headers: Record<string, Omit<PeerAnnouncement, 'prefixes'>> = {};
  const prefixes = new Map<string, Set<string>>();
  for (const [id, p] of Object.entries(base.peers)) {
    headers[id] = headerOf(p);
    prefixes.set(id, new Set(p.prefixes));
  }
  type Entries = { peers: readonly string[]; notAnnounced: string[]; toNoPeer?: boolean };
  const services = new Map<string, Entries>();
  const entry = (k: string): Entries => {
    let e = services.get(k);
    if (!e) services.set(k, (e = { peers: [], notAnnounced: [] }));
    return e;
  };
  for (const x of base.announced ?? []) entry(x.service).peers = x.peers;
  for (const x of base.notAnnounced) entry(x.service).notAnnounced.push(x.reason);
  for (const k of base.announcedToNoPeer ?? []) entry(k).toNoPeer = true;
  let layer2 = base.layer2;
  let problems = base.frrConfigurationProblems;
  let updated = base.updated;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    let e: unknown;
    try {
      e = JSON.parse(lines[i]!);
    } catch {
      continue; // a writer killed mid-line: that change never completed
    }
    if (!isRecord(e) || !isRecord(e.p)) continue;
    headers = e.p as typeof headers;
    for (const id of [...prefixes.keys()]) if (!(id in headers)) prefixes.delete(id);
    for (const id of Object.keys(headers)) if (!prefixes.has(id)) prefixes.set(id, new Set());
    if (isRecord(e.a)) for (const [id, list] of Object.entries(e.a)) for (const x of strings(list)) prefixes.get(id)?.add(x);
    if (isRecord(e.w)) for (const [id, list] of Object.entries(e.w)) for (const x of strings(list)) prefixes.get(id)?.delete(x);
    if (isRecord(e.s)) {
      for (const [k, v] of Object.entries(e.s)) {
        const peers = isRecord(v) ? strings(v.peers) : [];
        const notAnnounced = isRecord(v) ? strings(v.notAnnounced) : [];
        if (peers.length === 0 && notAnnounced.length === 0) services.delete(k);
        else services.set(k, { peers, notAnnounced, ...(isRecord(v) && v.toNoPeer === true ? { toNoPeer: true } : {}) });
      }
    }
    if ('l' in e) layer2 = isRecord(e.l) ? (e.l as SpeakerStatus['layer2']) : undefined;
    if (Array.isArray(e.f)) problems = e.f as SpeakerStatus['frrConfigurationProblems'];
    if (typeof e.u === 'string') updated = e.u;
  }
  const peers: Record<string, PeerAnnouncement> = {};
  for (const [id, h] of Object.entries(headers)) peers[id] = { ...h, prefixes: [...(prefixes.get(id) ?? [])] };
  const notAnnounced: { service: string; reason: string }[] = [];
  const announced: { service: string; peers: readonly string[] }[] = [];
  const announcedToNoPeer: string[] = [];
  for (const [service, x] of services) {
    for (const reason of x.notAnnounced) notAnnounced.push({ service, reason });
    if (x.peers.length > 0) announced.push({ service, peers: x.peers });
    else if (x.toNoPeer === true) announcedToNoPeer.push(service);
  }
  return {
    node: base.node, peers, notAnnounced, announced, ...(announcedToNoPeer.length > 0 ? { announcedToNoPeer } : {}), ...(layer2 !== undefined ? { layer2 } : {}),
    ...(problems !== undefined ? { frrConfigurationProblems: problems } : {}), ...(updated !== undefined ? { updated } : {}),
  };
}

let tokens = 0;

export interface SpeakerJournalOptions {
  /** Journal size that forces a rewrite of the base, at least (default 256 KiB; else the base's size). */
  readonly minJournalBytes?: number;
}

/** Writes one speaker's status file: whole at first, then a line per write that carries its changes. */
export class SpeakerStatusJournal {
  private token: string | undefined;
  private journalBytes = 0;
  private baseBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes written, base and journal (tests: an edit costs what it changed). */
  bytesWritten = 0;
  /** Whole rewrites of the base. */
  wholeWrites = 0;

  constructor(private readonly folder: string, private readonly node: string, private readonly options: SpeakerJournalOptions = {}) {}

  /** Writes run one after another in call order; a failed one makes the next one whole. */
  write(w: SpeakerStatusWrite): Promise<void> {
    const run = this.chain.then(async () => {
      const budget = Math.max(this.options.minJournalBytes ?? 256 * 1024, this.baseBytes);
      if ('changes' in w && this.token !== undefined && this.journalBytes < budget) await this.append(w.changes);
      else await this.rewrite('whole' in w ? w.whole() : w);
    });
    this.chain = run.catch(() => { this.token = undefined; });
    return run;
  }

  private async rewrite(s: SpeakerStatus): Promise<void> {
    const token = `${process.pid}-${Date.now().toString(36)}-${++tokens}`;
    this.token = undefined;
    const text = `# Written by ironlb (the speaker on ${this.node}). Do not edit.\n${JSON.stringify({ journal: token, ...s }, null, 1)}\n`;
    await writeAtomic(path.join(stateDir(this.folder), speakerStatusFile(this.node)), text);
    const head = `${JSON.stringify({ journal: token })}\n`;
    await writeAtomic(path.join(stateDir(this.folder), speakerJournalFile(this.node)), head);
    this.bytesWritten += text.length + head.length;
    this.wholeWrites++;
    this.baseBytes = text.length;
    this.journalBytes = 0;
    this.token = token;
  }

  private async append(c: SpeakerStatusChanges): Promise<void> {
    const line = `${JSON.stringify(journalEntry(c))}\n`;
    await appendFile(path.join(stateDir(this.folder), speakerJournalFile(this.node)), line);
    this.bytesWritten += line.length;
    this.journalBytes += line.length;
  }

  /** Resolves when every write so far is done. */
  async flush(): Promise<void> {
    await this.chain;
  }
}

/** A speaker's status from the text of its base and of its journal ('' when none); undefined when it is no status. */
export function parseSpeakerStatus(text: string, journal: string): SpeakerStatus | undefined {
  const doc: unknown = jsonAfterComments(text);
  if (!isRecord(doc) || typeof doc.node !== 'string') return undefined;
  const { journal: token, ...base } = doc;
  return applySpeakerJournal(base as unknown as SpeakerStatus, typeof token === 'string' ? token : undefined, journal);
}

/** Every speaker's status in the folder, each with its journal applied. */
export async function readSpeakerStatuses(folder: string): Promise<SpeakerStatus[]> {
  let names: string[];
  try {
    names = await readdir(stateDir(folder));
  } catch {
    return [];
  }
  const out: SpeakerStatus[] = [];
  for (const n of names.sort()) {
    if (!n.startsWith('speaker-') || !n.endsWith('.yaml')) continue;
    try {
      // The journal before the base, as for the controller's status (status-file.ts, readControllerStatus).
      const journal = await readFile(path.join(stateDir(folder), n.replace(/\.yaml$/, '.journal')), 'utf8').catch(() => '');
      const text = await readFile(path.join(stateDir(folder), n), 'utf8');
      const s = parseSpeakerStatus(text, journal);
      if (s) out.push(s);
    } catch {
      // a file being replaced right now; the next read sees it
    }
  }
  return out;
}
