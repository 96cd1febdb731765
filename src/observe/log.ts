// Structured logs (pino) on stderr, so stdout stays for command output. One JSON line per event
// when stderr is not a terminal (a pod's log, a pipe, a file: what collectors parse); a short
// human-readable line when it is (someone is watching). IRONLB_LOG_FORMAT=json|pretty overrides
// the guess, IRONLB_LOG_LEVEL picks the level (default info).
import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  readonly level?: string;
  /** Default: IRONLB_LOG_FORMAT, else pretty when stderr is a terminal, else JSON. */
  readonly format?: LogFormat;
  /** Where lines go (tests); default: stderr, written synchronously so nothing is lost on exit. */
  readonly write?: (line: string) => void;
}

/** The format for this process: the override, else what the stream the logs go to can show. */
export function chooseLogFormat(env: NodeJS.ProcessEnv = process.env, stderrIsTty = process.stderr.isTTY === true): LogFormat {
  const forced = env.IRONLB_LOG_FORMAT;
  if (forced === 'json' || forced === 'pretty') return forced;
  return stderrIsTty ? 'pretty' : 'json';
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line carries or that the line's head already shows. */
const headFields = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'role', 'node', 'component']);

function valueText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && 'stack' in v) return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as `HH:MM:SS.mmm LEVEL role/node/component: message key=value …` (UTC time;
 * the role, node and component bindings become the source). A line that is not JSON passes through.
 */
export function prettyLogLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const level = (levelNames[o.level as number] ?? String(o.level)).padEnd(5);
  const source = [o.role, o.node, o.component].filter((x) => typeof x === 'string' && x !== '').join('/');
  const rest = Object.entries(o).filter(([k]) => !headFields.has(k)).map(([k, v]) => `${k}=${valueText(v)}`);
  const msg = typeof o.msg === 'string' ? o.msg : '';
  return `${time} ${level} ${source ? `${source}: ` : ''}${msg}${rest.length > 0 ? `  ${rest.join(' ')}` : ''}\n`;
}

export function createLogger(bindings: Record<string, unknown> = {}, options: LoggerOptions | string = {}): Logger {
  const o: LoggerOptions = typeof options === 'string' ? { level: options } : options;
  const level = o.level ?? process.env.IRONLB_LOG_LEVEL ?? 'info';
  const format = o.format ?? chooseLogFormat();
  const write = o.write ?? ((line: string) => { writeSync(2, line); });
  const destination = format === 'pretty'
    ? { write: (line: string) => { write(prettyLogLine(line.endsWith('\n') ? line.slice(0, -1) : line)); } }
    : o.write ? { write } : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Per-object lines of one pass (IPs assigned, routes announced), one by one up to `limit`, then
 * counted: a start with 50,000 Services wrote 300,000 lines (a second and a half of CPU and the
 * garbage with it) that nobody reads. `done()` logs one summary line per message left out.
 */
export class CappedLog {
  private n = 0;
  private readonly skipped = new Map<string, number>();
  constructor(private readonly logger: Pick<Logger, 'info' | 'warn'>, private readonly limit = 100) {}

  /** `kind` names the line in the count (default the message; an event's reason when its message names the object). */
  info(fields: () => object, msg: string, kind = msg): void {
    if (this.n++ < this.limit) this.logger.info(fields(), msg);
    else this.skipped.set(kind, (this.skipped.get(kind) ?? 0) + 1);
  }

  warn(fields: () => object, msg: string, kind = msg): void {
    if (this.n++ < this.limit) this.logger.warn(fields(), msg);
    else this.skipped.set(kind, (this.skipped.get(kind) ?? 0) + 1);
  }

  done(context: object = {}): void {
    for (const [msg, count] of this.skipped) this.logger.info({ ...context, more: count }, `${msg}: ${count} more in this pass, not logged one by one`);
    this.skipped.clear();
    this.n = 0;
  }
}
