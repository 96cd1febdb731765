// The status ironlb owns, kept beside the user's YAML in `.ironlb-state/`: `status.yaml` (the
// controller's: assignments, pool usage, events) and `speaker-NODE.yaml` (one per speaker), so no
// two processes ever write the same file. Writes are atomic (temp file + rename): a reader sees
// the old file or the new one, never half of one.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'yaml';
import { type ControllerStatus, emptyControllerStatus, type SpeakerStatus } from '../store.ts';

export const stateDirName = '.ironlb-state';
export const controllerStatusFile = 'status.yaml';

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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A missing or unreadable status is an empty one: the controller then starts afresh. */
export async function readControllerStatus(folder: string): Promise<ControllerStatus> {
  let text: string;
  try {
    text = await readFile(path.join(stateDir(folder), controllerStatusFile), 'utf8');
  } catch {
    return emptyControllerStatus;
  }
  return parseControllerStatus(text);
}

/** The header comment, then JSON (which is YAML): fast to write and read with thousands of Services. */
function jsonAfterComments(text: string): unknown {
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

export function parseControllerStatus(text: string): ControllerStatus {
  let doc: unknown;
  try {
    doc = jsonAfterComments(text);
  } catch {
    return emptyControllerStatus;
  }
  if (!isRecord(doc)) return emptyControllerStatus;
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
  return { services, pools, events, ...(typeof doc.updated === 'string' ? { updated: doc.updated } : {}) };
}

/** Returns the text written. */
export async function writeControllerStatus(folder: string, s: ControllerStatus): Promise<string> {
  const text = '# Written by ironlb (the controller). Do not edit: assigned IPs per Service, pool usage, events.\n' + JSON.stringify(s, null, 1) + '\n';
  await writeAtomic(path.join(stateDir(folder), controllerStatusFile), text);
  return text;
}

export function speakerStatusFile(node: string): string {
  return `speaker-${node.replace(/[^A-Za-z0-9._-]/g, '_')}.yaml`;
}

export async function writeSpeakerStatus(folder: string, s: SpeakerStatus): Promise<void> {
  const header = `# Written by ironlb (the speaker on ${s.node}). Do not edit.\n`;
  await writeAtomic(path.join(stateDir(folder), speakerStatusFile(s.node)), header + JSON.stringify(s, null, 1) + '\n');
}

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
      const doc: unknown = jsonAfterComments(await readFile(path.join(stateDir(folder), n), 'utf8'));
      if (isRecord(doc) && typeof doc.node === 'string') out.push(doc as unknown as SpeakerStatus);
    } catch {
      // a file being replaced right now; the next read sees it
    }
  }
  return out;
}
