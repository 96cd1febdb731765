// Limits on what one configuration file may be, checked before it is parsed: a file too large or
// nested too deeply is refused with a message naming the file and the limit, instead of stalling
// (or overflowing the stack of) whoever parses it.
import type { Diagnostic } from '../../api/diagnostics.ts';

/** Default largest file read (bytes): thousands of Services or pools fit many times over. */
export const defaultMaxFileBytes = 16 * 1024 * 1024;
/** Default deepest nesting of YAML collections (MetalLB's objects need fewer than 12). */
export const defaultMaxDepth = 64;

export function sizeProblem(file: string, bytes: number, max: number): Diagnostic | undefined {
  if (bytes <= max) return undefined;
  return { severity: 'error', position: { file, line: 1, column: 1 }, path: '', message: `the file is ${bytes} bytes; the limit is ${max} bytes (--max-file-bytes): it is not read` };
}

/**
 * The deepest nesting of the text, as flow brackets ([ {) plus block indentation levels, without
 * parsing: linear, no recursion. A diagnostic when it passes `max`.
 */
export function nestingProblem(text: string, file: string, max: number): Diagnostic | undefined {
  let flow = 0;
  let line = 1;
  let indents: number[] = [];
  let atLineStart = true;
  let col = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) { line++; atLineStart = true; col = 0; continue; }
    if (atLineStart) {
      if (c === 32 || c === 45 /* '-' list items nest too */) { col++; continue; }
      atLineStart = false;
      if (c !== 35 /* comment */) {
        while (indents.length > 0 && indents[indents.length - 1]! >= col) indents.pop();
        indents.push(col);
        if (indents.length > 10_000) indents = indents.slice(-max - 1);
      }
    }
    if (quote !== '') { if (String.fromCharCode(c) === quote) quote = ''; continue; }
    if (c === 34 || c === 39) { quote = String.fromCharCode(c); continue; }
    if (c === 35 && (i === 0 || text.charCodeAt(i - 1) === 32)) { while (i + 1 < text.length && text.charCodeAt(i + 1) !== 10) i++; continue; }
    if (c === 91 || c === 123) flow++;
    else if (c === 93 || c === 125) flow = Math.max(0, flow - 1);
    const depth = flow + indents.length;
    if (depth > max) {
      return { severity: 'error', position: { file, line, column: 1 }, path: '', message: `YAML nested more than ${max} levels deep here; the limit is ${max}: the file is not read` };
    }
  }
  return undefined;
}
