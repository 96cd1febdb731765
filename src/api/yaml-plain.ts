// A fast reader for the plain subset of YAML that hand-written and generated Kubernetes objects use:
// block mappings and sequences indented with spaces, one-line flow collections (`{ a: b }`,
// `[1, 2]`), plain, single- and double-quoted scalars, comments, `---` between documents. It
// returns each document's value, or undefined as soon as the text uses anything else (anchors,
// tags, block scalars, multi-line scalars or flow collections, tabs, odd keys, numbers other than
// plain decimal integers...) or anything that might be an error: the caller then parses with the
// `yaml` library, which reports problems with their positions. The full parser is the reference;
// yaml-plain.property.test.ts checks both give identical values on generated and mangled texts.
// Why: at 50,000 Service files the full parser (a syntax tree per file, then toJS) was 80% of the
// parsing thread's time at start.

/** The values of the text's documents (null for an empty one), or undefined: use the full parser. */
export function parsePlainYaml(text: string): unknown[] | undefined {
  if (text.includes('\r') || text.includes('\t') || text.charCodeAt(0) === 0xfeff) return undefined;
  const raw = text.split('\n');
  const docs: unknown[] = [];
  let lines: Line[] = [];
  let sawMarker = false;
  const flush = (): boolean => {
    // Before the first `---`, a document exists only if it has content; after one, always.
    if (!sawMarker && lines.length === 0) return true;
    const v = parseDocument(lines);
    if (v === fail) return false;
    docs.push(v);
    lines = [];
    return true;
  };
  for (const l of raw) {
    if (l.startsWith('---')) {
      if (l.slice(3).trim() !== '') return undefined;
      if (!flush()) return undefined;
      sawMarker = true;
      continue;
    }
    if (l.startsWith('...') || l.startsWith('%')) return undefined;
    const content = stripComment(l);
    if (content === undefined) return undefined;
    const body = content.trimEnd();
    const indent = body.length - body.trimStart().length;
    if (body.length === indent) continue; // blank or comment only
    lines.push({ indent, text: body.slice(indent) });
  }
  if (!flush()) return undefined;
  return docs;
}

interface Line { indent: number; text: string }

const fail: unique symbol = Symbol('fail');
type Fail = typeof fail;

/** The line without its comment; undefined when a quote is left open (a multi-line scalar). */
function stripComment(l: string): string | undefined {
  let quote = '';
  for (let i = 0; i < l.length; i++) {
    const c = l[i];
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = '';
    } else if (quote === "'") {
      if (c === "'") {
        if (l[i + 1] === "'") i++;
        else quote = '';
      }
    } else if (c === '#' && (i === 0 || l[i - 1] === ' ')) return l.slice(0, i);
    else if ((c === '"' || c === "'") && (i === 0 || ' [{,:-'.includes(l[i - 1]!))) quote = c;
  }
  return quote === '' ? l : undefined;
}

function parseDocument(lines: Line[]): unknown {
  if (lines.length === 0) return null;
  const p = new BlockParser(lines);
  const first = lines[0]!;
  if (first.indent !== 0 || isSeqItem(first.text)) return fail;
  const v = p.mapping(0);
  return v === fail || p.i !== lines.length ? fail : v;
}

const isSeqItem = (t: string): boolean => t === '-' || t.startsWith('- ');

/** Plain keys: letters, digits and `_ . / -`, not starting with `-`; never a number, bool or null. */
const plainKey = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;

class BlockParser {
  i = 0;
  constructor(private readonly lines: Line[]) {}

  /** A block mapping whose keys sit at `indent`; `first` replaces the text of the current line (after `- `). */
  mapping(indent: number, first?: string): Record<string, unknown> | Fail {
    const out: Record<string, unknown> = {};
    let text = first;
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (text === undefined) {
        if (line.indent < indent) break;
        if (line.indent > indent) return fail;
        text = line.text;
      }
      const colon = text.indexOf(':');
      if (colon <= 0 || (colon + 1 < text.length && text[colon + 1] !== ' ')) return fail;
      const key = text.slice(0, colon);
      if (!plainKey.test(key) || resolvesToNonString(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(out, key)) return fail;
      const rest = text.slice(colon + 1).trim();
      text = undefined;
      this.i++;
      let value: unknown;
      if (rest === '') value = this.nested(indent);
      else {
        value = inlineValue(rest);
        // A value continued on more-indented lines is a multi-line scalar (or an error).
        if (this.i < this.lines.length && this.lines[this.i]!.indent > indent) return fail;
      }
      if (value === fail) return fail;
      out[key] = value;
    }
    return out;
  }

  /** What follows `key:` with nothing after it: a deeper block, a sequence at the key's indent, or null. */
  private nested(indent: number): unknown {
    const next = this.lines[this.i];
    if (!next || next.indent < indent) return null;
    if (next.indent === indent) return isSeqItem(next.text) ? this.sequence(indent) : null;
    return isSeqItem(next.text) ? this.sequence(next.indent) : this.mapping(next.indent);
  }

  sequence(indent: number): unknown[] | Fail {
    const out: unknown[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      if (line.indent < indent || !isSeqItem(line.text)) break;
      if (line.indent > indent) return fail;
      const after = line.text.slice(1);
      const rest = after.trimStart();
      let value: unknown;
      if (rest === '') {
        this.i++;
        const next = this.lines[this.i];
        value = next && next.indent > indent ? (isSeqItem(next.text) ? this.sequence(next.indent) : this.mapping(next.indent)) : null;
      } else if (isSeqItem(rest)) return fail;
      else if (looksLikeEntry(rest)) {
        // `- key: value`: a mapping whose keys sit where this first key starts.
        value = this.mapping(indent + 1 + (after.length - rest.length), rest);
      } else {
        this.i++;
        value = inlineValue(rest);
        if (this.i < this.lines.length && this.lines[this.i]!.indent > indent) return fail;
      }
      if (value === fail) return fail;
      out.push(value);
    }
    return out;
  }
}

/** `key:` or `key: ...` with a plain key (a quoted or flow key is left to the full parser, by failing later). */
function looksLikeEntry(t: string): boolean {
  if (t[0] === '{' || t[0] === '[' || t[0] === '"' || t[0] === "'") return false;
  const colon = t.indexOf(': ');
  return colon > 0 || t.endsWith(':');
}

/** A value on the rest of a line: a flow collection or a scalar, all of it. */
function inlineValue(t: string): unknown {
  if (t[0] === '{' || t[0] === '[') {
    const r = flow(t, 0);
    if (r === fail) return fail;
    return skipSpaces(t, r.end) === t.length ? r.value : fail;
  }
  if (t[0] === '"' || t[0] === "'") {
    const r = quoted(t, 0);
    return r === fail || r.end !== t.length ? fail : r.value;
  }
  return plainScalar(t, false);
}

const skipSpaces = (t: string, i: number): number => {
  while (t[i] === ' ') i++;
  return i;
};

/** A one-line flow mapping or sequence starting at `i`. */
function flow(t: string, i: number): { value: unknown; end: number } | Fail {
  const close = t[i] === '{' ? '}' : ']';
  const isMap = close === '}';
  const map: Record<string, unknown> = {};
  const seq: unknown[] = [];
  i = skipSpaces(t, i + 1);
  if (t[i] === close) return { value: isMap ? map : seq, end: i + 1 };
  for (;;) {
    let key: string | undefined;
    if (isMap) {
      const colon = t.indexOf(':', i);
      if (colon < 0 || t[colon + 1] !== ' ') return fail;
      key = t.slice(i, colon);
      if (!plainKey.test(key) || resolvesToNonString(key) || key === '__proto__' || Object.prototype.hasOwnProperty.call(map, key)) return fail;
      i = skipSpaces(t, colon + 1);
    }
    const v = flowValue(t, i);
    if (v === fail) return fail;
    if (isMap) map[key!] = v.value; else seq.push(v.value);
    i = skipSpaces(t, v.end);
    if (t[i] === close) return { value: isMap ? map : seq, end: i + 1 };
    if (t[i] !== ',') return fail;
    i = skipSpaces(t, i + 1);
    if (t[i] === close || t[i] === ',') return fail; // trailing or empty entries: left to the full parser
  }
}

function flowValue(t: string, i: number): { value: unknown; end: number } | Fail {
  const c = t[i];
  if (c === '{' || c === '[') return flow(t, i);
  if (c === '"' || c === "'") return quoted(t, i);
  let end = i;
  while (end < t.length && !',[]{}'.includes(t[end]!)) end++;
  const text = t.slice(i, end).trimEnd();
  if (text === '') return fail;
  const v = plainScalar(text, true);
  return v === fail ? fail : { value: v, end };
}

/** A quoted scalar starting at `i` (escapes beyond \" \\ \n \t are left to the full parser). */
function quoted(t: string, i: number): { value: string; end: number } | Fail {
  const q = t[i];
  let out = '';
  for (let j = i + 1; j < t.length; j++) {
    const c = t[j]!;
    if (q === "'") {
      if (c === "'") {
        if (t[j + 1] === "'") { out += "'"; j++; continue; }
        return { value: out, end: j + 1 };
      }
      out += c;
    } else {
      if (c === '"') return { value: out, end: j + 1 };
      if (c === '\\') {
        const e = t[++j];
        if (e === '"' || e === '\\') out += e;
        else if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else return fail;
      } else out += c;
    }
  }
  return fail;
}

/** Characters a plain scalar may not start with (YAML indicators), and a lone `-`, `?` or `:`. */
const indicators = '&*!|>%@`#,[]{}\'"';

/** A plain scalar as the core schema reads it: a string, an integer, a boolean or null (anything else: fail). */
function plainScalar(t: string, inFlow: boolean): unknown {
  if (indicators.includes(t[0]!)) return fail;
  if ((t[0] === '-' || t[0] === '?' || t[0] === ':') && (t.length === 1 || t[1] === ' ')) return fail;
  if (t.includes(': ') || t.endsWith(':') || t.includes(' #')) return fail;
  if (inFlow && t.includes(':')) return fail;
  if (/^(?:~|[Nn]ull|NULL)$/.test(t)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(t)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(t)) return false;
  if (/^-?(?:0|[1-9][0-9]{0,14})$/.test(t)) return Number(t);
  if (resolvesToNonString(t)) return fail;
  return t;
}

/** Whether the core schema would read this plain text as something other than a string. */
function resolvesToNonString(t: string): boolean {
  return /^(?:~|[Nn]ull|NULL)?$/.test(t) || /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(t) || /^0o[0-7]+$/.test(t) || /^[-+]?[0-9]+$/.test(t) || /^0x[0-9a-fA-F]+$/.test(t)
    || /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(t) || /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(t) || /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(t);
}
