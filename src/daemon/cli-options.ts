// Options the long-running commands (controller, speaker, standalone) share.
import { hostname } from 'node:os';
import type { RunOptions } from './run.ts';

export function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(text);
  if (!m) throw new Error(`${what}: expected [HOST:]PORT, got "${text}"`);
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}

export interface CommonFlags {
  config: string;
  namespace?: string;
  node?: string;
  metrics?: string;
  bgpListen?: string;
  bfdPort?: string;
  acceptLostState?: boolean;
}

export function runOptions(f: CommonFlags, needsNode: boolean): RunOptions {
  const nodeName = f.node ?? process.env.IRONLB_NODE_NAME ?? (needsNode ? hostname() : undefined);
  const bfd = f.bfdPort !== undefined ? f.bfdPort.split(':').map(Number) : undefined;
  return {
    folder: f.config,
    handleSignals: true,
    ...(f.namespace !== undefined ? { namespace: f.namespace } : {}),
    ...(nodeName !== undefined ? { nodeName } : {}),
    ...(f.metrics !== undefined ? { observe: hostPort(f.metrics, '--metrics') } : {}),
    ...(f.bgpListen !== undefined ? { bgpListen: hostPort(f.bgpListen, '--bgp-listen') } : {}),
    ...(f.acceptLostState ? { acceptLostState: true } : {}),
    ...(bfd ? { bfdPorts: { listen: bfd[0]!, peer: bfd[1] ?? bfd[0]! } } : {}),
  };
}

export async function startOrExit(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (e) {
    process.stderr.write(`ironlb: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
