// YAML (and JSON, a subset) read with positions: every document keeps its syntax tree so that any
// field path can be traced back to file:line:column. Syntax errors and duplicate keys become
// diagnostics; they never throw.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { Diagnostic, SourcePosition } from './diagnostics.ts';
import type { FieldPath } from './loaded.ts';

export interface YamlDocument {
  /** 0-based index of the document in its file. */
  readonly index: number;
  readonly value: unknown;
  /** The position of the field at `path` (its key, or its list item), or of its nearest existing parent. */
  positionOf(path: FieldPath): SourcePosition;
  /** The syntax node at `path`, when it exists. */
  nodeAt(path: FieldPath): YamlNode | undefined;
}

/** Maps a position inside parsed text to the position in the file the user wrote (embedded YAML). */
export type PositionMap = (line: number, column: number) => SourcePosition;

export interface ParsedYaml {
  readonly documents: YamlDocument[];
  readonly diagnostics: Diagnostic[];
}

export function parseYaml(text: string, file: string, mapPosition?: PositionMap): ParsedYaml {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return mapPosition ? mapPosition(line, col) : { file, line, column: col };
  };
  const diagnostics: Diagnostic[] = [];
  const documents: YamlDocument[] = [];
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  docs.forEach((doc, index) => {
    for (const e of doc.errors) {
      const message = e.code === 'DUPLICATE_KEY'
        ? `duplicate key${duplicateKeyName(text, e.pos[0])} (each key may appear once in a mapping)`
        : `YAML syntax error: ${e.message}`;
      diagnostics.push({ severity: 'error', position: at(e.pos[0]), path: '', message });
    }
    if (doc.errors.length > 0) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      diagnostics.push({ severity: 'error', position: at(doc.range[0]), path: '', message: `YAML error: ${(err as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return; // empty document (e.g. a trailing `---`)
    const root = doc.contents as YamlNode | null;
    const startOf = (n: { range?: [number, number, number] | null } | null | undefined): number | undefined => n?.range?.[0];
    const nodeAt = (path: FieldPath): YamlNode | undefined => walk(root, path).node;
    const positionOf = (path: FieldPath): SourcePosition => {
      const w = walk(root, path);
      return at(startOf(w.marker) ?? startOf(root) ?? 0);
    };
    documents.push({ index, value, positionOf, nodeAt });
  });
  return { documents, diagnostics };
}

function duplicateKeyName(text: string, offset: number): string {
  const m = /^\s*"?([^"\n:]+)"?\s*:/.exec(text.slice(offset, offset + 200));
  return m?.[1] ? ` "${m[1]}"` : '';
}

/**
 * Follows `path` through the tree. `node` is the value at the end (if it exists); `marker` is what
 * a position should point at: the key of the last map entry found, or the last list item found.
 */
function walk(root: YamlNode | null, path: FieldPath): { node?: YamlNode; marker?: { range?: [number, number, number] | null } } {
  let node: unknown = root;
  let marker: { range?: [number, number, number] | null } | undefined = root ?? undefined;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(p));
      if (!pair) return { marker };
      marker = pair.key as { range?: [number, number, number] | null };
      node = pair.value;
      if (!node) return { marker };
    } else if (isSeq(node) && typeof p === 'number') {
      const item = node.items[p];
      if (!item) return { marker };
      marker = item;
      node = item;
    } else {
      return { marker };
    }
  }
  return { node: node as YamlNode, marker };
}
