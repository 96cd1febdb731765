// Positions for diagnostics made on the parser's thread, where the files' texts are not kept: the
// worker hands out a token per position asked for (as a diagnostic's position, or inside a message
// through config/'s locate: " (at file:line)"), and the main thread, which holds each object's
// positionOf, puts the real position in its place, or drops it when there is none.
import type { Diagnostic, SourcePosition } from '../../api/diagnostics.ts';
import type { FieldPath, LoadedObject } from '../../api/loaded.ts';

const mark = '\u0000ilb-pos-';

export const positionToken = (n: number): SourcePosition => ({ file: `${mark}${n}\u0000`, line: 0, column: 0 });

const inMessage = new RegExp(` \\(at ${mark}(\\d+)\\u0000:0\\)`, 'g');

export function restorePositions(diagnostics: readonly Diagnostic[], asks: readonly (readonly [number, FieldPath])[], objects: readonly LoadedObject[]): Diagnostic[] {
  const real = (n: number): SourcePosition | undefined => {
    const ask = asks[n];
    return ask ? objects[ask[0]]?.positionOf(ask[1]) : undefined;
  };
  return diagnostics.map((d) => {
    const message = d.message.includes(mark)
      ? d.message.replace(inMessage, (_, n: string) => { const p = real(Number(n)); return p ? ` (at ${p.file}:${p.line})` : ''; })
      : d.message;
    const at = d.position?.file.startsWith(mark) ? real(Number(d.position.file.slice(mark.length, -1))) : d.position;
    return { severity: d.severity, ...(at ? { position: at } : {}), ...(d.object ? { object: d.object } : {}), path: d.path, message };
  });
}
