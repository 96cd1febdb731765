// The JSON-lines protocol of the interop agents (bfd-harness/agent.ts, harness6/agent.ts): Node
// cannot enter a network namespace itself, so a test runs a piece of ironlb in a process started
// with `ip netns exec` and drives it over stdin/stdout.
//   in:  {"op":...,"req":N,...}              one command a line
//   out: {"req":N,"ok":true,"data":...} | {"req":N,"ok":false,"error":"..."}   its answer
//        {"ev":...}                          anything else the agent reports ("ready" first)
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type AgentMessage = { ev?: string; req?: number; ok?: boolean; data?: unknown; error?: string; [k: string]: unknown };

/** The agent's side: one line of JSON out. */
export const emit = (o: object): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };

/**
 * The agent's side: answers each command line with what `handle` returns or throws. The `close`
 * op, or stdin closing (the test went away), calls `close` and exits.
 */
export function serveCommands<C extends { op: string; req?: number }>(handle: (c: C) => unknown, close: () => Promise<void>): void {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    void (async () => {
      const c = JSON.parse(line) as C;
      try {
        if (c.op === 'close') {
          await close();
          emit({ req: c.req, ok: true, data: null });
          process.exit(0);
        }
        emit({ req: c.req, ok: true, data: (await handle(c)) ?? null });
      } catch (e) {
        emit({ req: c.req, ok: false, error: (e as Error).message });
      }
    })();
  });
  rl.on('close', () => { void close().finally(() => process.exit(0)); });
}

/** The test's side: answers matched to their commands, every other line handed to `onMessage`. */
export class AgentChannel {
  /** What the agent wrote to stderr when it is piped (for error messages). */
  stderr = '';
  private req = 0;
  private readonly waiting = new Map<number, (m: AgentMessage) => void>();

  constructor(readonly child: ChildProcess, onMessage: (m: AgentMessage) => void) {
    child.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: AgentMessage;
      try { m = JSON.parse(line) as AgentMessage; } catch { return; } // not ours (a stray log line)
      if (typeof m.req === 'number') {
        this.waiting.get(m.req)?.(m);
        this.waiting.delete(m.req);
        return;
      }
      onMessage(m);
    });
  }

  call(o: object): Promise<unknown> {
    if (this.child.exitCode !== null) return Promise.reject(new Error(`agent exited: ${this.stderr.trim()}`));
    const req = ++this.req;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, (m) => (m.ok ? resolve(m.data) : reject(new Error(m.error))));
      this.child.stdin!.write(`${JSON.stringify({ ...o, req })}\n`);
    });
  }

  /** Closes stdin (the agent shuts down and exits); kills it if it lingers. */
  async close(graceMs = 3000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs))]);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
